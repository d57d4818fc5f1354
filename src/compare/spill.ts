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
const ZEROS = Buffer.alloc(ZERO_BLOCK);
/** Chunks are gathered to this size before they are written: a write per pipe read (64 KiB) is a thread-pool round trip each. */
const WRITE_BATCH = 1 << 20;

function isZero(buf: Buffer): boolean {
  // memcmp against zeros, a block at a time (a decompressed bomb is mostly zeros, so this is the hot loop).
  for (let off = 0; off < buf.length; off += ZERO_BLOCK) {
    const n = Math.min(ZERO_BLOCK, buf.length - off);
    if (ZEROS.compare(buf, off, off + n, 0, n) !== 0) return false;
  }
  return true;
}

/** Collects `chunks` into a ByteSource, enforcing the decompression limits. */
export async function spill(ctx: Context, chunks: AsyncIterable<Buffer>, hint: string, compressedSize: number): Promise<ByteSource> {
  const { maxDecompressedSize, maxRatio, ratioFloor, spillThreshold } = ctx.limits;
  const mem: Buffer[] = [];
  let total = 0;
  let file: string | undefined;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  // Chunks not yet written (once spilling), and where they start in the file.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (!batchBytes) return;
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
    const at = total - batchBytes;
    batch = [];
    batchBytes = 0;
    await writeSparse(fh!, data, at);
  };
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
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    if (!fh) return { kind: 'buffer', data: Buffer.concat(mem, total) };
    await flush();
    await fh.truncate(total);
    return { kind: 'file', file: file!, offset: 0, length: total, files: ctx.files };
  } finally {
    await fh?.close();
  }
}

/** Writes `chunk` at `pos`, leaving holes for its all-zero blocks; each run of other blocks is one write. */
async function writeSparse(fh: Awaited<ReturnType<typeof open>>, chunk: Buffer, pos: number): Promise<number> {
  let run = -1;
  for (let off = 0; off < chunk.length; off += ZERO_BLOCK) {
    const zero = isZero(chunk.subarray(off, off + ZERO_BLOCK));
    if (!zero && run < 0) run = off;
    else if (zero && run >= 0) {
      await fh.write(chunk, run, off - run, pos + run);
      run = -1;
    }
  }
  if (run >= 0) await fh.write(chunk, run, chunk.length - run, pos + run);
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
