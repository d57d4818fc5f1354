// The shape shared by single-stream compressions (gzip, bzip2, xz, zstd): an
// optional header compared field by field, and one member, the decompressed
// content, spilled within the limits and compared recursively.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, node } from '../compare/difference.js';
import { compareBinary } from '../compare/hexdump.js';
import { settleAll } from '../compare/settle.js';
import { spill } from '../compare/spill.js';
import type { Format } from './format.js';
import { NODE } from './names.js';

export interface StreamSpec {
  name: string;
  /** The extension diffoscope strips to name the content ("a.tar.gz" -> "a.tar"). */
  extension: string;
  magic(head: Buffer): boolean;
  fileName: RegExp;
  decompress(a: Artifact, ctx: Context): AsyncIterable<Buffer>;
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
  const source = await ctx.tools.run(() => spill(ctx, spec.decompress(a, ctx), spec.name, a.size));
  const name = contentName(a.name, spec.extension);
  const size = source.kind === 'buffer' ? source.data.length : source.kind === 'file' ? source.length : 0;
  return a.member(name, { type: 'file', size }, source);
}

export function streamFormat(spec: StreamSpec): Format {
  return {
    name: spec.name,
    magic: spec.magic,
    fileName: spec.fileName,
    content: (a, ctx) => decompressed(spec, a, ctx),
    async compare(a, b, ctx, depth) {
      const [ha, hb] = spec.header ? await settleAll([spec.header(a), spec.header(b)]) : [{}, {}];
      const headerDiff = await headerDifference(ctx, NODE.streamHeader(spec.name), ha, hb);
      const [ca, cb] = await settleAll([decompressed(spec, a, ctx), decompressed(spec, b, ctx)]);
      const inner = await ctx.compare(ca, cb, depth);
      if (!inner && !headerDiff) {
        const d = await compareBinary(a, b, ctx);
        d.comments.unshift(`The decompressed content is identical; the ${spec.name} streams differ (compression level, options or compressor version)`);
        return d;
      }
      return group(a.name, b.name, [headerDiff, inner]) ?? node(a.name, b.name);
    },
  };
}
