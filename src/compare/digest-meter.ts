// A pass-through stream that counts and SHA-256-hashes the bytes on their way
// somewhere else, and stops the pipeline once they exceed a cap: the blob store's
// uploads and the worker's fetched inputs both check a digest and a size while
// they stream, and neither keeps anything when the check fails. It knows nothing
// of either caller; each turns an OverCapError into its own error.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ReproveError } from './errors.js';

/** A stream longer than its cap; `what` names the stream ("blob upload", "input hello.deb"). */
export class OverCapError extends ReproveError {
  constructor(
    readonly what: string,
    readonly maxBytes: number,
  ) {
    super('limit', `Cannot read ${what}: more than its cap of ${maxBytes} bytes`);
    this.name = 'OverCapError';
  }
}

/** Counts and hashes the bytes passing through; fails with OverCapError past `maxBytes`. */
export class DigestMeter extends Transform {
  private readonly hash = createHash('sha256');
  private hex: string | undefined;
  /** Bytes passed so far. */
  bytes = 0;

  constructor(
    /** Names the stream in the error. */
    readonly what: string,
    readonly maxBytes: number = Number.MAX_SAFE_INTEGER,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(new OverCapError(this.what, this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  /** Lower-case hex SHA-256 of the bytes passed; call once the stream has ended (later calls give the same value). */
  sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}
