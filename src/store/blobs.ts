// The content-addressed blob store: logs, reports and rebuilt artifacts, each kept
// once under the SHA-256 of its uncompressed content (<dir>/ab/cdef…), zstd-
// compressed on disk. An upload streams through the hash and the compressor into
// a temporary file in the same directory tree, is checked against the expected
// hash and the size cap, and only then renamed into place: a refused or broken
// upload leaves nothing behind, and readers never see half a blob.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestMeter, OverCapError } from '../compare/digest-meter.js';
import { InvalidInputError, NotFoundError, TooLargeError } from './errors.js';
import { LogCap, type LogCapOptions } from './log-cap.js';
import { sha256Hex } from './validate.js';
import { zstdCompressBuffer, zstdCompressor, zstdDecompressor } from './zstd.js';

/**
 * Uploads already in memory up to this size are hashed and compressed in one call
 * each and written in one write: a stream pipeline (and a compression context) per
 * blob cost a burst of build notifications milliseconds per build-info listing.
 */
const SMALL_BLOB_BYTES = 1 << 20;

const overCap = (cap: number) => new TooLargeError(`Cannot store blob: upload is over its cap of ${cap} bytes`);
const notExpected = (actual: string, expected: string) => new InvalidInputError(`Cannot store blob: its SHA-256 is ${actual}, not the expected ${expected}`);

export interface PutOptions {
  /** The SHA-256 the uploader claims; a mismatch refuses the upload. */
  expectedSha256?: string | undefined;
  /** Refuse uploads longer than this (uncompressed bytes). */
  maxBytes?: number | undefined;
}

export interface StoredBlob {
  sha256: string;
  /** Uncompressed size. */
  size: number;
  /** False when the same content was already stored. */
  created: boolean;
}

export interface StoredLog extends StoredBlob {
  /** Bytes of the log as uploaded. */
  originalSize: number;
  /** Bytes cut between head and tail (0 when the log was under its cap). */
  cutBytes: number;
}

export class BlobStore {
  constructor(
    readonly dir: string,
    /** Default cap for one upload (uncompressed bytes). */
    readonly maxBytes = 4 * 2 ** 30,
  ) {}

  /** Where the blob with this hash lives; the hash is validated first, so no path can escape the directory. */
  private pathOf(sha256: string): string {
    const h = sha256Hex('blob hash', sha256);
    return join(this.dir, h.slice(0, 2), h.slice(2));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await access(this.pathOf(sha256));
      return true;
    } catch (err) {
      if (err instanceof InvalidInputError) throw err;
      return false;
    }
  }

  /** Size of the stored (compressed) file, or null. */
  async storedSize(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch (err) {
      if (err instanceof InvalidInputError) throw err;
      return null;
    }
  }

  /** The blob's decompressed content as a stream; NotFoundError when absent. */
  async get(sha256: string): Promise<Readable> {
    const path = this.pathOf(sha256);
    const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFoundError(`Cannot read blob ${sha256}: not stored`);
      throw err;
    });
    const file = createReadStream('', { fd: handle, autoClose: true });
    const out = zstdDecompressor();
    file.on('error', (err) => out.destroy(err));
    return file.pipe(out);
  }

  /** The whole decompressed blob (for small blobs: reports, tests). */
  async getBuffer(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(sha256)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async putBuffer(data: Uint8Array | string, options: PutOptions = {}): Promise<StoredBlob> {
    return this.putStream([typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)], options);
  }

  /** Subdirectories (ab/) known to exist: one mkdir each per process, not one per blob. */
  private readonly made = new Set<string>();

  /** A small upload held in memory: hashed, checked and compressed in one call each, written, synced, renamed into place. */
  private async putSmall(data: Buffer, options: PutOptions): Promise<StoredBlob> {
    const cap = options.maxBytes ?? this.maxBytes;
    if (data.length > cap) throw overCap(cap);
    const expected = options.expectedSha256 === undefined ? undefined : sha256Hex('expected blob hash', options.expectedSha256);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (expected !== undefined && sha256 !== expected) throw notExpected(sha256, expected);
    if (await this.has(sha256)) return { sha256, size: data.length, created: false };
    const compressed = zstdCompressBuffer(data);
    const sub = join(this.dir, sha256.slice(0, 2));
    if (!this.made.has(sub)) {
      await mkdir(sub, { recursive: true });
      this.made.add(sub);
    }
    const temp = join(this.dir, `.upload-${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(compressed);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.pathOf(sha256));
    } catch (err) {
      await rm(temp, { force: true });
      this.made.delete(sub);
      throw err;
    }
    return { sha256, size: data.length, created: true };
  }

  /**
   * Stores a stream. Refuses (typed error, nothing kept) when it is longer than the
   * cap or when its SHA-256 is not `expectedSha256`.
   */
  async putStream(source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions = {}): Promise<StoredBlob> {
    if (Array.isArray(source)) {
      const parts = source as Uint8Array[];
      let bytes = 0;
      for (const p of parts) bytes += p.length;
      if (bytes <= SMALL_BLOB_BYTES) return this.putSmall(Buffer.concat(parts), options);
    }
    const expected = options.expectedSha256 === undefined ? undefined : sha256Hex('expected blob hash', options.expectedSha256);
    const meter = new DigestMeter('blob upload', options.maxBytes ?? this.maxBytes);
    const stored = await this.storeThrough(source, [meter], () => meter.sha256(), expected);
    return { ...stored, size: meter.bytes };
  }

  /**
   * Stores a build log under its cap: over `headBytes + tailBytes` it keeps the head
   * and the tail and one line saying how much was cut. `expectedSha256` is checked
   * against the log as uploaded; the blob's own hash is that of what was kept.
   */
  async putLog(source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, cap: LogCapOptions, options: PutOptions = {}): Promise<StoredLog> {
    const expected = options.expectedSha256 === undefined ? undefined : sha256Hex('expected log hash', options.expectedSha256);
    const uploaded = new DigestMeter('log upload', options.maxBytes);
    const logCap = new LogCap(cap);
    const kept = new DigestMeter('kept log');
    const stored = await this.storeThrough(source, [uploaded, logCap, kept], () => uploaded.sha256(), expected, () => kept.sha256());
    return { ...stored, size: kept.bytes, originalSize: uploaded.bytes, cutBytes: logCap.cutBytes };
  }

  private async storeThrough(
    source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    stages: Transform[],
    checkedHash: () => string,
    expected: string | undefined,
    storedHash?: () => string,
  ): Promise<Omit<StoredBlob, 'size'>> {
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `.upload-${process.pid}-${randomBytes(8).toString('hex')}`);
    try {
      const input = source instanceof Readable ? source : Readable.from(source);
      await pipeline([input, ...stages, zstdCompressor(), createWriteStream(temp, { flags: 'wx' })]);
      const actual = checkedHash();
      if (expected !== undefined && actual !== expected) {
        throw notExpected(actual, expected);
      }
      const sha256 = storedHash === undefined ? actual : storedHash();
      const target = this.pathOf(sha256);
      if (await this.has(sha256)) {
        await rm(temp, { force: true });
        return { sha256, created: false };
      }
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true });
      await rename(temp, target);
      return { sha256, created: true };
    } catch (err) {
      await rm(temp, { force: true });
      if (err instanceof OverCapError) throw new TooLargeError(`Cannot store blob: the ${err.what} is over its cap of ${err.maxBytes} bytes`);
      throw err;
    }
  }
}
