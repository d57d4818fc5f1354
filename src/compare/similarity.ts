// A small content sketch for pairing renamed members: the bottom-k hashes of
// the file's 8-byte shingles (a MinHash estimate of Jaccard similarity). Cheap,
// bounded (reads at most SKETCH_BYTES of each member) and symmetric.
import type { Artifact } from './artifact.js';

const SKETCH_BYTES = 1 << 20;
const MIN_SIZE = 64;
const K = 128;

export type Sketch = Uint32Array;

function fnv(buf: Buffer, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) {
    h ^= buf[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The sketch of an artifact, or null when it is too small to judge. */
export async function sketch(a: Artifact): Promise<Sketch | null> {
  if (a.size < MIN_SIZE) return null;
  const buf = await a.read(0, SKETCH_BYTES);
  const hashes = new Set<number>();
  for (let i = 0; i + 8 <= buf.length; i++) hashes.add(fnv(buf, i, 8));
  const sorted = Uint32Array.from(hashes).sort();
  return sorted.subarray(0, Math.min(K, sorted.length));
}

/** Estimated similarity in percent (0-100) of two sketches. */
export function similarity(x: Sketch, y: Sketch): number {
  // Bottom-k of the union, and how many of those are in both.
  let i = 0;
  let j = 0;
  let union = 0;
  let both = 0;
  const k = Math.min(K, Math.max(x.length, y.length));
  while (union < k && (i < x.length || j < y.length)) {
    const a = i < x.length ? x[i]! : Infinity;
    const b = j < y.length ? y[j]! : Infinity;
    if (a === b) {
      both++;
      i++;
      j++;
    } else if (a < b) i++;
    else j++;
    union++;
  }
  return union === 0 ? 0 : (100 * both) / union;
}
