// compare(): the recursive heart of the engine. Equal bytes stop at once; other
// pairs are recognised and handed to their format, and anything a format cannot
// read falls back to a hex dump with a comment saying why.
import { artifactFromPath, sameBytes, type Artifact } from './artifact.js';
import { Context, REPORT_WORKING_FACTOR, type CompareOptions } from './context.js';
import { node, state, type Difference } from './difference.js';
import { AbortError, asReproveError, ReproveError } from './errors.js';
import { compareBinary } from './hexdump.js';
import type { Format, FormatRegistry } from '../formats/format.js';
import { settleAll } from './settle.js';
import { limitNote } from './limits.js';

/** Compares two artifacts whose names are already set; null when identical. */
async function compareArtifacts(a: Artifact, b: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  if (!a.hasBytes || !b.hasBytes) {
    // Only the directories given as inputs are walked: the walk lists everything below them.
    if (a.meta.type === 'dir' && b.meta.type === 'dir' && a.path.length <= 1) return compareRecognised(a, b, ctx, depth);
    // Links, devices and type changes are differences of metadata, shown in the parent's listing.
    return null;
  }
  if (await sameBytes(a, b)) return null;
  if (depth >= ctx.limits.maxDepth) {
    const d = await compareBinary(a, b, ctx);
    d.comments.unshift(`Nesting deeper than ${ctx.limits.maxDepth} levels (${limitNote('maxDepth')}); compared as binary`);
    d.kind = 'limit';
    return d;
  }
  return compareRecognised(a, b, ctx, depth);
}

async function compareRecognised(a: Artifact, b: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  const [fa, fb] = await settleAll([ctx.recognise(a), ctx.recognise(b)]);
  const format = fa === fb ? fa : ctx.formats.fallback;
  try {
    if (fa !== fb && fa.content && fb.content) {
      const d = await compareContents(a, b, fa, fb, ctx, depth);
      if (d) return d;
    }
    const d = await format.compare(a, b, ctx, depth + 1);
    if (fa !== fb && d) state(d, 'format-differs', `Format differs: ${fa.name} vs ${fb.name}`);
    if (d) {
      d.format ??= format.name;
      return d;
    }
    if (a.meta.type === 'dir') return null;
    // The format found nothing, yet the bytes differ: show them.
    const fallback = await compareBinary(a, b, ctx);
    state(fallback, 'bytes-differ', `No difference found by the ${format.name} comparison although the bytes differ; showing the binary difference`);
    return fallback;
  } catch (err) {
    // An abort is not this pair's failure: it stops the whole run.
    if (err instanceof AbortError || ctx.signal?.aborted) throw err instanceof AbortError ? err : new AbortError(ctx.signal!.reason, a.path);
    const e = asReproveError(err, a.path);
    ctx.diagnose(e);
    if (a.meta.type === 'dir') {
      return node(a.name, b.name, { kind: 'artifact', comments: [`Cannot compare as ${format.name}: ${e.describe()}`] });
    }
    const fallback = await compareBinary(a, b, ctx);
    fallback.comments.unshift(`Cannot compare as ${format.name}: ${e.describe()}; showing the binary difference`);
    if (e.kind === 'limit') fallback.kind = 'limit';
    return fallback;
  }
}

/**
 * Two different compressions (or a compression and a one-file archive): compare what
 * they hold; null when a side has no single content ('unsupported'), to be compared as
 * bytes. Contents with the same bytes as the pair itself (a gzip or zip that contains
 * itself, a quine) are shown once and not descended again: that would repeat this pair.
 */
async function compareContents(a: Artifact, b: Artifact, fa: Format, fb: Format, ctx: Context, depth: number): Promise<Difference | null> {
  let ca: Artifact;
  let cb: Artifact;
  try {
    [ca, cb] = await settleAll([fa.content!(a, ctx), fb.content!(b, ctx)]);
  } catch (err) {
    if (err instanceof ReproveError && err.kind === 'unsupported') return null;
    throw err;
  }
  const inner = (await repeatsPair(a, b, ca, cb)) ?? (await ctx.compare(ca, cb, depth + 1));
  const d = state(node(a.name, b.name, { kind: 'artifact' }), 'format-differs', `Format differs: ${fa.name} vs ${fb.name}; comparing the decompressed content`);
  if (inner) d.details.push(inner);
  else d.comments.push('The decompressed content is identical');
  return d;
}

/** The node of a content pair with the same bytes as its container pair, which is not compared again; null otherwise. */
async function repeatsPair(a: Artifact, b: Artifact, ca: Artifact, cb: Artifact): Promise<Difference | null> {
  if (ca.size !== a.size || cb.size !== b.size || !(await sameBytes(ca, a)) || !(await sameBytes(cb, b))) return null;
  return node(ca.name, cb.name, {
    kind: 'artifact',
    comments: [`Same bytes as ${a.name} and ${b.name}, which contain themselves (quines): not compared again`],
  });
}

export interface CompareResult {
  /** The difference tree, null when the inputs are identical. */
  difference: Difference | null;
  /** Limits that were reached, as stated in the report. */
  limitsReached: string[];
}

/** The engine's options: a comparison's, and the formats it knows (src/index.ts hands it the default ones). */
export interface EngineOptions extends CompareOptions {
  formats: FormatRegistry;
}

/** A run's context for using one format's functions directly (release it with dispose()). */
export function createContext(options: EngineOptions): Promise<Context> {
  return Context.create(options, options.formats, compareArtifacts);
}

/**
 * Compares two files or directories on disk. Everything the run opens (files, its
 * temporary directory, programs) is released before it returns or rejects; an abort
 * rejects with an AbortError.
 */
export async function compare(path1: string, path2: string, options: EngineOptions): Promise<CompareResult> {
  const ctx = await Context.create(options, options.formats, compareArtifacts);
  try {
    const [a, b] = await settleAll([artifactFromPath(ctx.files, path1, path1, [], true), artifactFromPath(ctx.files, path2, path2, [], true)]).catch((e: unknown) => {
      if (e instanceof AbortError) throw e;
      throw new ReproveError('io', `Cannot read input: ${(e as Error).message}`);
    });
    if (a.meta.type !== b.meta.type && (a.meta.type === 'dir' || b.meta.type === 'dir'))
      throw new ReproveError('io', `Cannot compare a ${a.meta.type} with a ${b.meta.type}: ${path1}, ${path2}`);
    let difference = await compareArtifacts(a, b, ctx, 0);
    // A format may have turned an aborted step into a comment: an aborted run has no report.
    ctx.tools.throwIfAborted();
    const max = ctx.limits.maxReportSize;
    if ((difference && trimReport(difference, max)) || ctx.reportLimitHit) {
      difference ??= node(path1, path2);
      difference.comments.push(
        `Report size limit of ${max} bytes reached (${limitNote('maxReportSize')}); later diffs are left out` +
          (ctx.reportLimitHit ? `. Diffs stopped being made at ${max * REPORT_WORKING_FACTOR} bytes, so which ones are left out can depend on the order parallel comparisons finished in (-j 1 makes it repeatable)` : ''),
      );
    }
    if (difference) {
      difference.source1 = path1;
      difference.source2 = path2;
    }
    return { difference, limitsReached: difference ? collectLimits(difference) : [] };
  } finally {
    await ctx.dispose();
  }
}

/**
 * Keeps the diffs of the first `max` bytes in report order (each node's diff, then its
 * children's) and leaves out the rest, saying so in each: the same cut whatever order
 * the comparisons finished in. True when something was left out.
 */
function trimReport(root: Difference, max: number): boolean {
  let used = 0;
  let full = false;
  const visit = (d: Difference) => {
    if (d.unifiedDiff !== undefined) {
      const size = d.unifiedDiff.length;
      if (full || used + size > max) {
        full = true;
        delete d.unifiedDiff;
        d.comments.push(`Diff of ${size} bytes left out: report size limit reached (${limitNote('maxReportSize')})`);
      } else used += size;
    }
    for (const c of d.details) visit(c);
  };
  visit(root);
  return full;
}

function collectLimits(d: Difference, out: string[] = []): string[] {
  if (d.kind === 'limit') out.push(...d.comments);
  for (const c of d.details) collectLimits(c, out);
  return out;
}
