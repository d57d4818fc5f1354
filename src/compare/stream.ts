// The shape shared by single-stream compressions (gzip, bzip2, xz, zstd): an
// optional header compared field by field, and one member, the decompressed
// content, spilled within the limits and compared recursively.
import { Artifact } from './artifact.js';
import type { Context } from './context.js';
import { compareArtifacts } from './compare.js';
import { group, node, textDifference, type Difference, type FieldChange } from './difference.js';
import { spill } from './spill.js';
import { compareBinary } from '../formats/binary.js';
import type { Format } from '../formats/format.js';
import { settleAll } from './settle.js';

export interface StreamSpec {
  name: string;
  /** The extension diffoscope strips to name the content ("a.tar.gz" -> "a.tar"). */
  extension: string;
  magic(head: Buffer): boolean;
  fileName: RegExp;
  decompress(a: Artifact): AsyncIterable<Buffer>;
  /** Header fields worth comparing, in display order. */
  header?(a: Artifact): Promise<Record<string, string>>;
}

/** diffoscope's name for the decompressed member. */
export function contentName(name: string, extension: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.endsWith(extension) && base.length > extension.length ? base.slice(0, -extension.length) : `${base}-content`;
}

/** The decompressed content of a stream as a member artifact. */
export async function decompressed(spec: StreamSpec, a: Artifact, ctx: Context): Promise<Artifact> {
  const source = await ctx.tools.run(() => spill(ctx, spec.decompress(a), spec.name, a.size));
  const name = contentName(a.name, spec.extension);
  const size = source.kind === 'buffer' ? source.data.length : source.kind === 'file' ? source.length : 0;
  return a.member(name, { type: 'file', size }, source);
}

export async function headerDifference(ctx: Context, title: string, ha: Record<string, string>, hb: Record<string, string>): Promise<Difference | null> {
  const keys = [...new Set([...Object.keys(ha), ...Object.keys(hb)])];
  const changes: FieldChange[] = keys.filter((k) => ha[k] !== hb[k]).map((k) => ({ field: k, value1: ha[k], value2: hb[k] }));
  if (changes.length === 0) return null;
  const show = (h: Record<string, string>) => keys.filter((k) => k in h).map((k) => `${k}: ${h[k]}\n`).join('');
  return textDifference(ctx, title, title, show(ha), show(hb), { kind: 'header', changes });
}

export function streamFormat(spec: StreamSpec): Format {
  return {
    name: spec.name,
    magic: spec.magic,
    fileName: spec.fileName,
    content: (a, ctx) => decompressed(spec, a, ctx),
    async compare(a, b, ctx, depth) {
      const [ha, hb] = spec.header ? await settleAll([spec.header(a), spec.header(b)]) : [{}, {}];
      const headerDiff = await headerDifference(ctx, `${spec.name} header`, ha, hb);
      const [ca, cb] = await settleAll([decompressed(spec, a, ctx), decompressed(spec, b, ctx)]);
      const inner = await compareArtifacts(ca, cb, ctx, depth);
      if (!inner && !headerDiff) {
        const d = await compareBinary(a, b, ctx);
        d.comments.unshift(`The decompressed content is identical; the ${spec.name} streams differ (compression level, options or compressor version)`);
        return d;
      }
      return group(a.name, b.name, [headerDiff, inner]) ?? node(a.name, b.name);
    },
  };
}
