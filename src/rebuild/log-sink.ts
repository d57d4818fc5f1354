// A build's log, capped while it streams: the first half of the cap goes to the
// file as it arrives, the last half is kept in a bounded ring in memory, and what
// falls between is counted and said, so a 50 GB log (rebuilderd #181) never sits
// in memory or on disk, and the start (configuration) and the end (the error)
// both survive.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export interface LogSummary {
  /** Bytes the build wrote, in total. */
  bytes: number;
  /** Bytes left out of the file. */
  cut: number;
}

export class LogSink {
  private readonly out: WriteStream;
  private readonly headCap: number;
  private readonly tailCap: number;
  private head = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private dropped = 0;
  private closed: Promise<LogSummary> | undefined;
  private error: Error | undefined;

  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    if (!(maxBytes >= 2)) throw new RangeError(`Cannot cap a log at ${maxBytes} bytes: the cap must be at least 2`);
    this.headCap = Math.floor(maxBytes / 2);
    this.tailCap = maxBytes - this.headCap;
    this.out = createWriteStream(path);
    this.out.on('error', (e) => (this.error ??= e));
  }

  write(chunk: Buffer | string): void {
    if (this.closed) return;
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.total += buf.length;
    if (this.head < this.headCap) {
      const n = Math.min(buf.length, this.headCap - this.head);
      this.out.write(buf.subarray(0, n));
      this.head += n;
      buf = buf.subarray(n);
      if (buf.length === 0) return;
    }
    // Copied: the caller may reuse its buffer.
    this.tail.push(Buffer.from(buf));
    this.tailBytes += buf.length;
    while (this.tailBytes > this.tailCap) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - this.tailCap;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  /** A line of reprove's own (what limit applied, why the build was killed), kept with the build's output. */
  note(text: string): void {
    this.write(`[reprove] ${text}\n`);
  }

  /** Writes the kept tail (after a line saying how much was cut) and closes the file. */
  close(): Promise<LogSummary> {
    this.closed ??= (async () => {
      if (this.dropped > 0)
        this.out.write(`\n[reprove] ${this.dropped} bytes cut from the middle of this log: it exceeded its cap of ${this.maxBytes} bytes; the first ${this.head} and the last ${this.tailBytes} are kept\n`);
      for (const b of this.tail) this.out.write(b);
      this.tail = [];
      this.out.end();
      if (!this.out.closed) await once(this.out, 'close').catch(() => {});
      if (this.error) throw new Error(`Cannot write the build log ${this.path}: ${this.error.message}`);
      return { bytes: this.total, cut: this.dropped };
    })();
    return this.closed;
  }
}
