// zstd streams for the blob store. Node's own zlib has zstd from 22.15 (and 23.8);
// older Nodes (20 is CI) use the zstd-napi binding, loaded only when needed. Both
// write standard zstd frames, so blobs written under one Node read under another.
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';

interface NodeZstd {
  zstdCompressSync?: (data: Uint8Array, options?: { params?: Record<number, number> }) => Buffer;
  createZstdCompress?: (options?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
}
interface ZstdNapi {
  CompressStream: new (parameters?: { compressionLevel?: number }) => Transform;
  DecompressStream: new () => Transform;
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
}

const nodeZstd = zlib as unknown as NodeZstd & { constants: Record<string, number> };

/** Which implementation this process uses. */
export const zstdImplementation: 'node:zlib' | 'zstd-napi' =
  typeof nodeZstd.createZstdCompress === 'function' && typeof nodeZstd.createZstdDecompress === 'function' ? 'node:zlib' : 'zstd-napi';

let napi: ZstdNapi | undefined;
function binding(): ZstdNapi {
  napi ??= createRequire(import.meta.url)('zstd-napi') as ZstdNapi;
  return napi;
}

/** The compression level: zstd's default; logs and reports compress well at it. */
const LEVEL = 3;

/** A transform that compresses its input into one zstd stream. */
export function zstdCompressor(): Transform {
  if (zstdImplementation === 'node:zlib') {
    const levelParam = nodeZstd.constants['ZSTD_c_compressionLevel'];
    return nodeZstd.createZstdCompress!(levelParam === undefined ? {} : { params: { [levelParam]: LEVEL } });
  }
  return new (binding().CompressStream)({ compressionLevel: LEVEL });
}

/** A transform that decompresses a zstd stream. */
export function zstdDecompressor(): Transform {
  if (zstdImplementation === 'node:zlib') return nodeZstd.createZstdDecompress!();
  return new (binding().DecompressStream)();
}

/** A small buffer compressed in one call: no stream, and zstd-napi reuses one compression context. */
export function zstdCompressBuffer(data: Uint8Array): Buffer {
  const sync = nodeZstd.zstdCompressSync;
  if (zstdImplementation === 'node:zlib' && sync) {
    const levelParam = nodeZstd.constants['ZSTD_c_compressionLevel'];
    return sync(data, levelParam === undefined ? {} : { params: { [levelParam]: LEVEL } });
  }
  return binding().compress(data, { compressionLevel: LEVEL });
}
