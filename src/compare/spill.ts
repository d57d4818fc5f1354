// Decompressed streams land here: in memory while small, then in a sparse
// temporary file (runs of zeros are skipped, not written), always within the
// size and ratio limits, so a decompression bomb stops with a LimitError.
import { open } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import type { Artifact, ByteSource } from './artifact.js';
import type { Context } from './context.js';
import { LimitError, ReproveError } from './errors.js';
import { limitNote } from './limits.js';

const ZERO_BLOCK = 64 * 1024;

function isZero(buf: Buffer): boolean {
  // Compare 8 bytes at a time; a decompressed bomb is mostly zeros, so this is the hot loop.
  const words = buf.length >>> 3;
  const view = new BigUint64Array(buf.buffer, buf.byteOffset, buf.byteOffset % 8 === 0 ? words : 0);
  if (view.length === words) {
    for (let i = 0; i < words; i++) if (view[i] !== 0n) return false;
    for (let i = words * 8; i < buf.length; i++) if (buf[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Collects `chunks` into a ByteSource, enforcing the decompression limits. */
export async function spill(ctx: Context, chunks: AsyncIterable<Buffer>, hint: string, compressedSize: number): Promise<ByteSource> {
  const { maxDecompressedSize, maxRatio, ratioFloor, spillThreshold } = ctx.limits;
  const mem: Buffer[] = [];
  let total = 0;
  let file: string | undefined;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    for await (const chunk of chunks) {
      ctx.tools.throwIfAborted();
      total += chunk.length;
      ctx.chargeDecompressed(chunk.length);
      if (total > maxDecompressedSize)
        throw new LimitError('max-decompressed-size', `Decompressed size passed ${maxDecompressedSize} bytes (${limitNote('maxDecompressedSize')}); stopped as a possible decompression bomb`);
      if (total > ratioFloor && total > maxRatio * Math.max(1, compressedSize))
        throw new LimitError('max-ratio', `Decompression ratio passed ${maxRatio}:1 (${compressedSize} bytes grew past ${total}) (${limitNote('maxRatio')}); stopped as a possible decompression bomb`);
      if (!fh) {
        mem.push(chunk);
        if (total <= spillThreshold) continue;
        file = ctx.tmp.file(hint);
        fh = await open(file, 'w');
        let pos = 0;
        for (const m of mem) pos += await writeSparse(fh, m, pos);
        mem.length = 0;
        continue;
      }
      await writeSparse(fh, chunk, total - chunk.length);
    }
    if (!fh) return { kind: 'buffer', data: Buffer.concat(mem, total) };
    await fh.truncate(total);
    return { kind: 'file', file: file!, offset: 0, length: total, files: ctx.files };
  } finally {
    await fh?.close();
  }
}

async function writeSparse(fh: Awaited<ReturnType<typeof open>>, chunk: Buffer, pos: number): Promise<number> {
  for (let off = 0; off < chunk.length; off += ZERO_BLOCK) {
    const block = chunk.subarray(off, off + ZERO_BLOCK);
    if (!isZero(block)) await fh.write(block, 0, block.length, pos + off);
  }
  return chunk.length;
}

/** The output of a zlib Transform fed with the artifact, as chunks. */
export async function* transformOutput(artifact: Artifact, transform: Transform): AsyncGenerator<Buffer> {
  const src = artifact.stream();
  src.on('error', (e) => transform.destroy(e));
  src.pipe(transform);
  try {
    for await (const c of transform) yield c as Buffer;
  } catch (e) {
    throw new ReproveError('malformed', `Cannot decompress ${artifact.name}: ${(e as Error).message}`);
  } finally {
    src.destroy();
    transform.destroy();
  }
}
