// Small positional reads through a window (64 KiB unless the reader asks for
// more), so that archives of many small headers (tar, ar, cpio, zip's central
// directory, ELF tables) cost few reads, and every read is checked against the
// bytes the artifact has before anything is returned.
import type { Artifact } from './artifact.js';
import { truncated } from './errors.js';

const WINDOW = 64 * 1024;

export class WindowReader {
  private start = 0;
  private buf: Buffer = Buffer.alloc(0);
  /** `window`: bytes read at once; larger for long runs of records (zip's central directory takes 1 MiB). */
  constructor(
    private readonly a: Artifact,
    private readonly window = WINDOW,
  ) {}

  /** Exactly `length` bytes at `offset`, or a truncated error naming `what` ("header at offset 8") and the artifact. */
  async exact(offset: number, length: number, what: string): Promise<Buffer> {
    if (length > this.window) return this.a.readExact(offset, length, what);
    if (offset < 0 || offset + length > this.a.size)
      throw truncated(`Cannot read ${what} of ${this.a.name}: needs bytes ${offset}..${offset + length}, the data ends at ${this.a.size}`);
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      this.start = offset;
      this.buf = await this.a.read(offset, this.window);
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}
