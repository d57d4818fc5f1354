// A streaming cap for build logs: the first `headBytes` pass through, the last
// `tailBytes` are held in a bounded window, and everything between is counted and
// replaced by one line saying how many bytes were cut. Memory stays bounded by the
// tail, so a 50 GB log (rebuilderd #181) never sits in memory or on disk.
import { Transform, type TransformCallback } from 'node:stream';

export interface LogCapOptions {
  headBytes: number;
  tailBytes: number;
}

export class LogCap extends Transform {
  private seen = 0;
  private tail: Buffer[] = [];
  private tailLength = 0;

  constructor(private readonly options: LogCapOptions) {
    super();
  }

  /** Bytes dropped between head and tail (known once the stream has ended). */
  get cutBytes(): number {
    return Math.max(0, this.seen - this.options.headBytes - this.options.tailBytes);
  }

  /** Bytes read from the input. */
  get inputBytes(): number {
    return this.seen;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const { headBytes } = this.options;
    let data = chunk;
    if (this.seen < headBytes) {
      const take = Math.min(headBytes - this.seen, data.length);
      this.push(data.subarray(0, take));
      data = data.subarray(take);
      this.seen += take;
    }
    if (data.length > 0) {
      this.seen += data.length;
      this.keepInTail(data);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const cut = this.cutBytes;
    if (cut > 0) this.push(Buffer.from(`\n[reprove: ${cut} bytes of this log were cut here; it was ${this.seen} bytes long]\n`));
    for (const b of this.tail) this.push(b);
    this.tail = [];
    done();
  }

  private keepInTail(data: Buffer): void {
    const { tailBytes } = this.options;
    if (tailBytes === 0) return;
    if (data.length >= tailBytes) {
      // Copy: the window must not pin the caller's (possibly large) chunk.
      this.tail = [Buffer.from(data.subarray(data.length - tailBytes))];
      this.tailLength = tailBytes;
      return;
    }
    this.tail.push(Buffer.from(data));
    this.tailLength += data.length;
    while (this.tailLength - this.tail[0]!.length >= tailBytes) this.tailLength -= this.tail.shift()!.length;
    const excess = this.tailLength - tailBytes;
    if (excess > 0) {
      this.tail[0] = this.tail[0]!.subarray(excess);
      this.tailLength -= excess;
    }
  }
}
