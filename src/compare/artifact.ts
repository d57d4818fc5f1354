// An Artifact is a named, lazily readable byte source with file metadata: a file
// on disk, a slice of a parent (a tar member inside a spilled stream), or a small
// buffer. Nothing is read until a comparison needs it, and equal hashes stop it.
import { createHash } from 'node:crypto';
import { lstat, open, readlink, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { LimitError, truncated } from './errors.js';
import { settleAll } from './settle.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface Metadata {
  type: EntryType;
  size: number;
  /** Permission bits and set-id/sticky bits (07777), without the type bits. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; fractional where the format records more. */
  mtime?: number;
  /** Symlink target, or the path a hard link points to. */
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, string>;
  /** Format-specific fields that are compared too (zip extra fields, comments, ...). */
  extra?: Record<string, string>;
}

export type ByteSource =
  | { kind: 'buffer'; data: Buffer }
  | { kind: 'file'; file: string; offset: number; length: number; files: OpenFiles }
  | { kind: 'empty' };

const READ_CHUNK = 1 << 20;

/**
 * The files one comparison reads, each through one shared handle (positional reads),
 * all closed when that comparison ends: two comparisons in one process never share
 * or close each other's handles.
 */
export class OpenFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  handle(file: string): Promise<FileHandle> {
    let h = this.handles.get(file);
    if (!h) {
      h = open(file, 'r');
      this.handles.set(file, h);
      h.catch(() => this.handles.delete(file));
    }
    return h;
  }

  async close(file: string): Promise<void> {
    const h = this.handles.get(file);
    if (!h) return;
    this.handles.delete(file);
    await (await h).close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await settleAll([...this.handles.keys()].map((f) => this.close(f)));
  }
}

export class Artifact {
  private hash?: Promise<string>;

  constructor(
    /** The name shown in reports: the member path within its parent, or the file name given. */
    readonly name: string,
    /** Member path from the top artifact down to this one, for errors. */
    readonly path: readonly string[],
    readonly meta: Metadata,
    readonly source: ByteSource,
    /** Where a directory (or a top-level file) lives on disk. */
    readonly fsPath?: string,
  ) {}

  static fromBuffer(name: string, data: Buffer, parentPath: readonly string[] = []): Artifact {
    return new Artifact(name, [...parentPath, name], { type: 'file', size: data.length }, { kind: 'buffer', data });
  }

  get size(): number {
    switch (this.source.kind) {
      case 'buffer':
        return this.source.data.length;
      case 'file':
        return this.source.length;
      case 'empty':
        return 0;
    }
  }

  get hasBytes(): boolean {
    return this.meta.type === 'file' || this.meta.type === 'hardlink';
  }

  /** A member of this artifact (its path continues this one's). */
  member(name: string, meta: Metadata, source: ByteSource, fsPath?: string): Artifact {
    return new Artifact(name, [...this.path, name], meta, source, fsPath);
  }

  /** Up to `length` bytes from `offset` (fewer at the end). */
  async read(offset: number, length: number): Promise<Buffer> {
    const size = this.size;
    if (offset >= size || length <= 0) return Buffer.alloc(0);
    const n = Math.min(length, size - offset);
    const src = this.source;
    switch (src.kind) {
      case 'buffer':
        return src.data.subarray(offset, offset + n);
      case 'empty':
        return Buffer.alloc(0);
      case 'file':
        return this.readInto(Buffer.allocUnsafe(n), offset, n);
    }
  }

  /** Exactly `length` bytes at `offset`, or a typed error naming `what` was cut short. */
  async readExact(offset: number, length: number, what: string): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.size)
      throw truncated(`Cannot read ${what} of ${this.name}: needs bytes ${offset}..${offset + length}, the data ends at ${this.size}`);
    return this.read(offset, length);
  }

  /** A member whose bytes are `length` bytes of this artifact from `offset` (no copy). */
  slice(name: string, meta: Metadata, offset: number, length: number): Artifact {
    if (offset < 0 || length < 0 || offset + length > this.size)
      throw truncated(`Cannot read member ${name} of ${this.name}: its ${length} bytes at offset ${offset} run past the end (${this.size})`);
    const src = this.source;
    const source: ByteSource =
      src.kind === 'buffer'
        ? { kind: 'buffer', data: src.data.subarray(offset, offset + length) }
        : src.kind === 'file'
          ? { kind: 'file', file: src.file, offset: src.offset + offset, length, files: src.files }
          : { kind: 'empty' };
    return this.member(name, meta, source);
  }

  /** `length` bytes from `offset` into `buf` (file sources) or as a view (others); fewer at the end. */
  async readInto(buf: Buffer, offset: number, length: number): Promise<Buffer> {
    const src = this.source;
    if (src.kind !== 'file') return this.read(offset, length);
    const n = Math.max(0, Math.min(length, buf.length, this.size - offset));
    const fh = await src.files.handle(src.file);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await fh.read(buf, done, n - done, src.offset + offset + done);
      if (bytesRead === 0) throw truncated(`Cannot read ${this.name}: file ends at ${src.offset + offset + done}, expected ${n - done} more bytes`);
      done += bytesRead;
    }
    return buf.subarray(0, n);
  }

  head(length: number): Promise<Buffer> {
    return this.read(0, length);
  }

  /** All bytes, refusing more than `limit` (a member this large belongs on disk, read as a stream). */
  async readAll(limit: number): Promise<Buffer> {
    if (this.size > limit) throw new LimitError('memory', `Cannot load ${this.name} into memory: ${this.size} bytes is over the ${limit}-byte limit`);
    return this.read(0, this.size);
  }

  /** The bytes as chunks, never more than 1 MiB at once in memory. */
  async *chunks(chunkSize = READ_CHUNK): AsyncGenerator<Buffer> {
    const size = this.size;
    if (this.source.kind === 'buffer') {
      for (let off = 0; off < size; off += chunkSize) yield this.source.data.subarray(off, off + chunkSize);
      return;
    }
    for (let off = 0; off < size; off += chunkSize) yield await this.read(off, chunkSize);
  }

  stream(): Readable {
    return Readable.from(this.chunks());
  }

  sha256(): Promise<string> {
    this.hash ??= (async () => {
      const h = createHash('sha256');
      // One buffer for the whole artifact: hashing large inputs should not churn memory.
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, this.size)));
      for (let off = 0; off < this.size; off += buf.length) h.update(await this.readInto(buf, off, buf.length));
      return h.digest('hex');
    })();
    return this.hash;
  }
}

/**
 * Same size and same bytes: the only way two artifacts are called identical.
 * Compared chunk by chunk (stronger than equal hashes, and it stops at the first
 * difference); hashes already computed for pairing are used when both exist.
 */
export async function sameBytes(a: Artifact, b: Artifact): Promise<boolean> {
  if (a.size !== b.size) return false;
  if (a.source.kind === 'file' && b.source.kind === 'file' && a.source.file === b.source.file && a.source.offset === b.source.offset) return true;
  if (a.source.kind === 'buffer' && b.source.kind === 'buffer') return a.source.data.equals(b.source.data);
  // Two reused buffers: comparing large inputs should not churn memory.
  const n = Math.min(READ_CHUNK, Math.max(1, a.size));
  const [ba, bb] = [Buffer.allocUnsafe(n), Buffer.allocUnsafe(n)];
  for (let off = 0; off < a.size; off += n) {
    const len = Math.min(n, a.size - off);
    const [ca, cb] = await settleAll([a.readInto(ba, off, len), b.readInto(bb, off, len)]);
    if (!ca.equals(cb)) return false;
  }
  return true;
}

function entryType(st: Awaited<ReturnType<typeof lstat>>): EntryType {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return 'file';
}

/**
 * An Artifact for a path on disk, with its metadata, read through `files`. Links are
 * followed only when `follow`: for the inputs, never below them.
 */
export async function artifactFromPath(files: OpenFiles, path: string, name = path, parentPath: readonly string[] = [], follow = false): Promise<Artifact> {
  const st = await (follow ? stat : lstat)(path);
  const type = entryType(st);
  const meta: Metadata = {
    type,
    size: type === 'file' ? st.size : 0,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtimeMs / 1000,
  };
  if (type === 'symlink') meta.linkTarget = await readlink(path);
  if (type === 'char' || type === 'block') {
    meta.devMajor = Math.floor(st.rdev / 256);
    meta.devMinor = st.rdev % 256;
  }
  const source: ByteSource = type === 'file' ? { kind: 'file', file: path, offset: 0, length: st.size, files } : { kind: 'empty' };
  return new Artifact(name, [...parentPath, name === path ? basename(path) : name], meta, source, path);
}
