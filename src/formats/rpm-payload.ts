// The payload of an RPM: the bytes after the main header, decompressed as
// PAYLOADCOMPRESSOR says and compared as the member "content" (diffoscope's name for
// what rpm2cpio gives), which the cpio reader then lists. A payload that cannot be
// decompressed is still compared, as the binary difference of its compressed bytes.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { node, type Difference } from '../compare/difference.js';
import { asReproveError, malformed } from '../compare/errors.js';
import { settleAll } from '../compare/settle.js';
import { compareBinary } from '../compare/hexdump.js';
import { bzip2Format } from './bzip2.js';
import type { Format } from './format.js';
import { gzipFormat } from './gzip.js';
import { tagValues, type RpmPackage } from './rpm-parser.js';
import { xzFormat } from './xz.js';
import { zstdFormat } from './zstd.js';

/** The compressed payload: every byte after the main header. */
export function payloadOf(a: Artifact, p: RpmPackage): Artifact {
  return a.slice('payload', { type: 'file', size: a.size - p.payloadOffset }, p.payloadOffset, a.size - p.payloadOffset);
}

function decompressor(compressor: string | undefined): Format | undefined {
  switch (compressor ?? 'gzip') {
    case 'gzip':
      return gzipFormat;
    case 'xz':
    case 'lzma':
      return xzFormat;
    case 'zstd':
      return zstdFormat;
    case 'bzip2':
      return bzip2Format;
    default:
      return undefined;
  }
}

/** The decompressed payload as the member "content", as diffoscope names what rpm2cpio gives. */
async function payloadContent(a: Artifact, p: RpmPackage, payload: Artifact, ctx: Context): Promise<Artifact> {
  const compressor = tagValues(p.header, 'PAYLOADCOMPRESSOR')[0];
  if (compressor === 'identity' || compressor === 'none') return a.member('content', { type: 'file', size: payload.size }, payload.source);
  const f = decompressor(compressor);
  if (!f?.content) throw malformed(`Cannot decompress the payload of ${a.name}: PAYLOADCOMPRESSOR ${JSON.stringify(compressor)} is not one reprove reads`);
  const c = await f.content(payload, ctx).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
  return a.member('content', { type: 'file', size: c.size }, c.source);
}

export async function comparePayloads(a: Artifact, b: Artifact, pa: RpmPackage, pb: RpmPackage, ya: Artifact, yb: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  if (ya.size === yb.size && (await ya.sha256()) === (await yb.sha256())) return null;
  let ca: Artifact;
  let cb: Artifact;
  try {
    [ca, cb] = await settleAll([payloadContent(a, pa, ya, ctx), payloadContent(b, pb, yb, ctx)]);
  } catch (err) {
    const e = asReproveError(err, a.path);
    const d = await compareBinary(ya.member('content', ya.meta, ya.source), yb.member('content', yb.meta, yb.source), ctx);
    d.comments.unshift(`Cannot decompress the payload: ${e.describe()}; showing the binary difference of the compressed payloads`);
    if (e.kind === 'limit') d.kind = 'limit';
    return d;
  }
  const inner = await ctx.compare(ca, cb, depth);
  if (inner) return inner;
  const ka = tagValues(pa.header, 'PAYLOADCOMPRESSOR')[0] ?? 'gzip';
  const kb = tagValues(pb.header, 'PAYLOADCOMPRESSOR')[0] ?? 'gzip';
  const flags = `${tagValues(pa.header, 'PAYLOADFLAGS')[0] ?? ''} vs ${tagValues(pb.header, 'PAYLOADFLAGS')[0] ?? ''}`;
  return node('content', 'content', {
    kind: 'artifact',
    comments: [`The decompressed payloads are identical; the compressed payloads differ (${ka} vs ${kb}, PAYLOADFLAGS ${flags})`],
  });
}