// The strict RPM verdict, stronger than the RPM policy (the Fedora reproducibility
// post's footnote 5): a rebuild made with BUILDTIME taken from SOURCE_DATE_EPOCH
// and the original `_buildhost` can differ from the published package only in its
// signature header (the published one is signed, and its digests cover the same
// header and payload). So the published lead and signature header are
// transplanted onto the rebuilt main header and payload, and the bytes written
// out; when they equal the published file byte for byte, the package is
// IDENTICAL_EXCEPT_SIGNATURE: nothing but the signature was left to the policy.
// When they do not, the main headers are compared tag by tag and the fields that
// kept it from being strict are named (BUILDTIME, BUILDHOST, COOKIE, FILEMTIMES,
// ..., or `payload`). The header offsets come from the engine's RPM parser.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { artifactFromPath, OpenFiles } from '../compare/artifact.js';
import { readRpm, type RpmHeader, type RpmPackage } from '../formats/rpm-parser.js';

/** The proposed verdict name, above REPRODUCIBLE and below BIT_IDENTICAL: "identical once the published signature header is transplanted". */
export const STRICT_RPM_VERDICT = 'IDENTICAL_EXCEPT_SIGNATURE' as const;

export interface StrictRpmResult {
  identical: boolean;
  /** When not identical: the main-header tags whose values differ (in tag order), `payload` when the payloads differ, or `header layout` when only the bytes' arrangement does. */
  differingFields?: string[];
  /** The transplanted package: published lead and signature header, rebuilt main header and payload. */
  transplanted: string;
}

async function readBoth(published: string, rebuilt: string): Promise<[RpmPackage, RpmPackage]> {
  const files = new OpenFiles();
  try {
    return [await readRpm(await artifactFromPath(files, published, basename(published))), await readRpm(await artifactFromPath(files, rebuilt, basename(rebuilt)))];
  } finally {
    await files.closeAll();
  }
}

/** SHA-256 of a byte range of a file (to its end when `end` is undefined). */
async function digestRange(path: string, start: number, end?: number): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { start, ...(end !== undefined ? { end: end - 1 } : {}) }), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) hash.update(chunk);
  });
  return hash.digest('hex');
}

/** A tag's identity for comparison: type, count and values. */
const tagKey = (h: RpmHeader, name: string) => {
  const t = h.byName.get(name);
  return t ? `${t.type}/${t.count}/${JSON.stringify(t.values)}` : undefined;
};

/** The main-header tags whose values differ, in tag-number order (region tags only when nothing else explains the difference). */
export function differingHeaderTags(a: RpmHeader, b: RpmHeader): string[] {
  const order = new Map<string, number>();
  for (const t of [...a.tags, ...b.tags]) if (!order.has(t.name)) order.set(t.name, t.tag);
  const names = [...order.keys()].sort((x, y) => order.get(x)! - order.get(y)!);
  const differ = names.filter((n) => tagKey(a, n) !== tagKey(b, n));
  const region = new Set(['HEADERIMMUTABLE', 'HEADERSIGNATURES', 'HEADERI18NTABLE']);
  const real = differ.filter((n) => !region.has(n));
  return real.length ? real : differ;
}

/**
 * Transplants the published signature header onto the rebuilt package, writes the
 * result into `tmpDir` and says whether it is the published file byte for byte; if
 * not, which fields kept it from being so.
 */
export async function strictRpmVerdict(published: string, rebuilt: string, tmpDir: string): Promise<StrictRpmResult> {
  const [pub, reb] = await readBoth(published, rebuilt);
  const dir = await mkdtemp(join(tmpDir, 'strict-'));
  const transplanted = join(dir, basename(published));
  // Lead, signature header and its padding from the published file; main header and payload from the rebuild.
  const out = createWriteStream(transplanted, { flags: 'wx' });
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    async function* () {
      for (const [path, start, end] of [
        [published, 0, pub.header.offset],
        [rebuilt, reb.header.offset, undefined],
      ] as const) {
        if (end !== undefined && end <= start) continue;
        for await (const chunk of createReadStream(path, { start, ...(end !== undefined ? { end: end - 1 } : {}) }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }
    },
    out,
  );
  const [pubDigest, pubSize] = await Promise.all([digestRange(published, 0), stat(published).then((s) => s.size)]);
  if (size === pubSize && hash.digest('hex') === pubDigest) return { identical: true, transplanted };

  const differing = differingHeaderTags(pub.header, reb.header);
  const [pubPayload, rebPayload] = await Promise.all([digestRange(published, pub.payloadOffset), digestRange(rebuilt, reb.payloadOffset)]);
  if (pubPayload !== rebPayload) differing.push('payload');
  if (differing.length === 0) differing.push(pub.header.bytes.equals(reb.header.bytes) ? 'payload' : 'header layout');
  return { identical: false, differingFields: differing, transplanted };
}
