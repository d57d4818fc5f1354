// A streaming reader of (compressed) tar archives for the repository sources:
// Arch's core.db/extra.db are tar(.gz/.zst/.xz) archives of small `<pkg>/desc`
// files, and a database of 100 000 packages must be read without holding it.
// Each entry's data is kept only when it is at most `maxEntryBytes`; a bigger
// one is read past and reported as skipped, so memory stays bounded by that cap
// and one chunk of the stream. Names come from ustar, GNU long names and pax
// `path` records; nothing here touches the file system.
import { spawn } from 'node:child_process';
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { zstdDecompressor } from '../../store/zstd.js';

export interface TarEntry {
  /** The entry's name as bytes decoded leniently (invalid UTF-8 is kept as U+FFFD; `nameValid` says so). */
  name: string;
  /** True when the name's bytes are valid UTF-8. */
  nameValid: boolean;
  /** '0' file, '5' directory, others as in the header. */
  type: string;
  size: number;
  /**
   * The content; null when it exceeded the cap (then `skipped` says why). A view
   * into the stream's chunk, not a copy: read it before asking for the next entry,
   * and copy what is kept (a copy of each entry was most of a large sync's garbage).
   */
  data: Buffer | null;
  skipped?: string;
}

export class TarStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarStreamError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const ZERO_BLOCK = Buffer.alloc(512);
const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

function decodeName(bytes: Buffer): { name: string; valid: boolean } {
  // Most names are ASCII: read as latin1, which is the same text, without the decoder.
  let ascii = true;
  for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i]! < 0x80;
  if (ascii) return { name: bytes.toString('latin1'), valid: true };
  try {
    return { name: utf8.decode(bytes), valid: true };
  } catch {
    return { name: bytes.toString('utf8'), valid: false };
  }
}

function cstring(b: Buffer, start: number, len: number): Buffer {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return nul < 0 ? slice : slice.subarray(0, nul);
}

function octal(b: Buffer, start: number, len: number, where: string): number {
  const field = b.subarray(start, start + len);
  if ((field[0]! & 0x80) !== 0) {
    // GNU base-256: only sizes below 2^53 make sense here.
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    if (!Number.isSafeInteger(n)) throw new TarStreamError(`Cannot read the tar archive: ${where} has a size past 2^53`);
    return n;
  }
  const text = cstring(field, 0, len).toString('latin1').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarStreamError(`Cannot read the tar archive: ${where} has the size field ${JSON.stringify(text)}, not octal`);
  return parseInt(text, 8);
}

/** An octal number of a header field (spaces around it, up to its NUL or its end), or -1 when it is not one. */
function octalDigits(b: Buffer, start: number, len: number): number {
  let i = start;
  const end = start + len;
  while (i < end && b[i] === 0x20) i++;
  let n = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
    digits++;
  }
  while (i < end && b[i] === 0x20) i++;
  // The field ends at its NUL, as a C string: what follows it is not read.
  if (i < end && b[i] !== 0) return -1;
  return digits === 0 ? -1 : n;
}

function checksumOk(h: Buffer): boolean {
  // The sum of the header's bytes with the checksum field counted as eight spaces.
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += h[i]!;
  for (let i = 156; i < 512; i++) sum += h[i]!;
  return octalDigits(h, 148, 8) === sum;
}

/** pax extended header records "LEN key=value\n"; only `path` matters here. */
function paxPath(data: Buffer): Buffer | undefined {
  let off = 0;
  let path: Buffer | undefined;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number(data.subarray(off, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > data.length) break;
    const rec = data.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0 && rec.subarray(0, eq).toString('latin1') === 'path') path = Buffer.from(rec.subarray(eq + 1));
    off += len;
  }
  return path;
}

/** Reads exactly n bytes from a chunk iterator, keeping leftovers. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
        this.chunks.push(c);
        this.have += c.length;
      }
    }
    return this.have >= n;
  }

  /** n bytes, or null at a clean end (nothing left); throws when the stream ends inside them. */
  async read(n: number, what: string): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.have === 0) return null;
      throw new TarStreamError(`Cannot read the tar archive: it ends inside ${what}`);
    }
    return this.take(n)!;
  }

  /** n bytes when they are here already, else undefined: no await for what a chunk holds (most entries). */
  take(n: number): Buffer | undefined {
    if (this.have < n) return undefined;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }

  /** Discards n bytes without keeping them. */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.have === 0 && !(await this.fill(1))) throw new TarStreamError(`Cannot read the tar archive: it ends inside ${what}`);
      const c = this.chunks[0]!;
      if (c.length <= left) {
        this.chunks.shift();
        this.have -= c.length;
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        this.have -= left;
        left = 0;
      }
    }
  }
}

/**
 * The entries of an uncompressed tar stream, as many at a time as the stream's
 * chunks already hold (a chunk of a repository database holds hundreds): the
 * per-entry promises of one entry at a time were a large part of reading one.
 * The entries' data stay valid until the next batch is asked for.
 */
export async function* tarEntryBatches(stream: AsyncIterable<Buffer | Uint8Array>, maxEntryBytes: number): AsyncGenerator<TarEntry[]> {
  const reader = new ByteReader((stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  let longName: Buffer | undefined;
  let paxName: Buffer | undefined;
  let index = 0;
  let batch: TarEntry[] = [];
  // What is read is handed out before anything is awaited or thrown: the same entries, in the same order, as one at a time.
  try {
    for (;;) {
      let h: Buffer | null | undefined = reader.take(512);
      if (h === undefined) {
        if (batch.length) yield batch.splice(0);
        h = await reader.read(512, `header ${index}`);
      }
      if (h === null || h.equals(ZERO_BLOCK)) break; // the end, or end-of-archive blocks
      const where = `entry ${index}`;
      if (!checksumOk(h)) throw new TarStreamError(`Cannot read the tar archive: the header of ${where} has a bad checksum`);
      const size = octal(h, 124, 12, where);
      const type = String.fromCharCode(h[156] || 0x30);
      const padded = Math.ceil(size / 512) * 512;
      index++;
      if (type === 'L' || type === 'x' || type === 'g') {
        if (batch.length) yield batch.splice(0);
        if (size > 1 << 20) {
          await reader.skip(padded, `the extended header of ${where}`);
          throw new TarStreamError(`Cannot read the tar archive: ${where} has an extended header of ${size} bytes`);
        }
        const data = (await reader.read(padded, `the extended header of ${where}`))!.subarray(0, size);
        if (type === 'L') longName = Buffer.from(cstring(data, 0, data.length));
        else if (type === 'x') paxName = paxPath(data);
        continue;
      }
      let nameBytes: Buffer;
      if (paxName) nameBytes = paxName;
      else if (longName) nameBytes = longName;
      else {
        const name = cstring(h, 0, 100);
        // "ustar" at 257: a prefix field at 345 may hold the name's leading directories.
        const ustar = h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72;
        const prefix = ustar && h[345] !== 0 ? cstring(h, 345, 155) : undefined;
        nameBytes = prefix ? Buffer.concat([prefix, SLASH, name]) : name;
      }
      longName = undefined;
      paxName = undefined;
      const { name, valid } = decodeName(nameBytes);
      if (size > maxEntryBytes) {
        if (batch.length) yield batch.splice(0);
        await reader.skip(padded, `${name}`);
        batch.push({ name, nameValid: valid, type, size, data: null, skipped: `${size} bytes, over the cap of ${maxEntryBytes}` });
        continue;
      }
      let block = size === 0 ? EMPTY : reader.take(padded);
      if (block === undefined) {
        if (batch.length) yield batch.splice(0);
        block = (await reader.read(padded, name))!;
      }
      batch.push({ name, nameValid: valid, type, size, data: block.subarray(0, size) });
    }
  } catch (e) {
    if (batch.length) yield batch;
    throw e;
  }
  if (batch.length) yield batch;
}

/** Which compression a stream starts with. */
export function compressionOf(head: Buffer): 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/** Pipes `input` through an external decompressor (xz, bzip2), killed when the consumer stops. */
function external(cmd: string, input: Readable): Readable {
  const child = spawn(cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  input.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  input.on('error', (e) => child.stdout.destroy(e));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') child.stdout.destroy(new TarStreamError(`Cannot decompress: ${cmd} exited with ${code ?? signal}`));
  });
  child.stdout.on('close', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    input.destroy();
  });
  return child.stdout;
}

/** The stream decompressed by its magic bytes (gzip, zstd, xz, bzip2, or none). */
export async function decompressed(source: AsyncIterable<Uint8Array>): Promise<Readable> {
  const it = source[Symbol.asyncIterator]();
  const first: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    const c = Buffer.from(r.value);
    first.push(c);
    have += c.length;
  }
  const head = Buffer.concat(first);
  const rest = Readable.from(
    (async function* () {
      if (head.length) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield Buffer.from(r.value);
      }
    })(),
    { objectMode: false },
  );
  const kind = head.length >= 4 ? compressionOf(head.length >= 6 ? head : Buffer.concat([head, Buffer.alloc(6)])) : 'none';
  const through = (t: Transform): Readable => {
    rest.on('error', (e) => t.destroy(e));
    return rest.pipe(t);
  };
  switch (kind) {
    case 'gzip':
      // Output in 256 KiB chunks rather than 16 KiB: a database of 100 000 small entries
      // is 100 MB of tar, and each chunk is a round through the stream machinery.
      return through(createGunzip({ chunkSize: 256 << 10 }));
    case 'zstd':
      return through(zstdDecompressor());
    case 'xz':
      return external('xz', rest);
    case 'bzip2':
      return external('bzip2', rest);
    case 'none':
      return rest;
  }
}
