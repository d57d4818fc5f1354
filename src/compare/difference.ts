// The Difference tree: diffoscope's shape (source1, source2, unified_diff,
// comments, details) so its JSON is diffoscope's, plus reprove's structured
// additions that the verdict and explain stages read instead of parsing text.
import { cutDiff, unifiedDiff, type DiffOptions } from './text-diff.js';
import { limitNote } from './limits.js';

/** What a text diff needs from the run: options and the report budget. */
export interface DiffBudget {
  readonly diffOptions: DiffOptions;
  chargeReport(bytes: number): boolean;
}

/** One structured field that differs: a header field, a member's mtime, ... */
export interface FieldChange {
  /** Member path inside the container, when the change is about a member. */
  member?: string;
  field: string;
  value1?: string;
  value2?: string;
  /** Set by a policy that allows this change: why it is safe to ignore. */
  ignored?: string;
}

export interface Difference {
  source1: string;
  source2: string;
  comments: string[];
  unifiedDiff?: string;
  details: Difference[];
  hasInternalLinenos?: boolean;
  /** What this node is about; lets policies and detectors find things without parsing names. */
  kind?: DifferenceKind;
  /** Format of the artifacts this node compares (set on member nodes). */
  format?: string;
  changes?: FieldChange[];
  /** Set by a policy that allows this whole node: why it is safe to ignore. */
  ignored?: string;
  /** Differences the node states by itself, beyond its diff and changes (each also a comment): the verdict counts every one. */
  statements?: Statement[];
  /** Known causes found in this subtree (set by explain on the root). */
  issues?: IssueTag[];
  /** Differences no known cause explains (set by explain on the root). */
  unexplained?: string[];
}

/**
 * A difference a node states rather than shows: the two sides are different formats,
 * the member was renamed (paired by content or by name), or the bytes differ where
 * the format's view does not. Policies and detectors read these, never comment text.
 */
export interface Statement {
  kind: 'format-differs' | 'renamed' | 'bytes-differ';
  /** The comment that says it in the report. */
  comment: string;
}

/** Records a statement on `d` and puts its comment first. */
export function state(d: Difference, kind: Statement['kind'], comment: string): Difference {
  d.comments.unshift(comment);
  (d.statements ??= []).push({ kind, comment });
  return d;
}

/** A known cause attached to a report (see src/explain/). */
export interface IssueTag {
  id: string;
  confidence: 'high' | 'medium' | 'low';
  fix: string;
  evidence: string[];
  /** Every difference the cause explains was allowed by a policy (the fix makes the rebuild bit-identical). */
  ignored?: boolean;
}

export type DifferenceKind =
  | 'artifact' // a file or member, its children say how it differs
  | 'file-list' // listing of a container's members with their metadata
  | 'metadata' // file metadata (mode, owner, mtime, ...)
  | 'header' // format header fields
  | 'content' // textual content
  | 'binary' // hex dump fallback
  | 'order' // member order
  | 'limit'; // a limit was reached

export function node(source1: string, source2: string = source1, init: Partial<Difference> = {}): Difference {
  return { source1, source2, comments: [], details: [], ...init };
}

/** A leaf with the unified diff of two texts, or null when they are equal. */
export async function textDifference(
  ctx: DiffBudget,
  source1: string,
  source2: string,
  text1: string,
  text2: string,
  init: Partial<Difference> = {},
  /** Cut the diff to this many bytes (hex dumps: a diff of shifted bytes can be eight times its input). */
  maxBytes?: number,
): Promise<Difference | null> {
  if (text1 === text2) return null;
  const d = node(source1, source2, { kind: 'content', ...init });
  if (!ctx.chargeReport(0)) {
    d.comments.push(`Diff left out: report size limit reached (${limitNote('maxReportSize')})`);
    return d;
  }
  const diff = await unifiedDiff(text1, text2, ctx.diffOptions);
  if (maxBytes !== undefined) {
    const c = cutDiff(diff.text, maxBytes);
    if (c.cut) d.comments.push(cutComment(c.cut, diff.text.length));
    diff.text = c.text;
  }
  if (!ctx.chargeReport(diff.text.length)) {
    d.comments.push(`Diff of ${diff.text.length} bytes left out: report size limit reached (${limitNote('maxReportSize')})`);
    return d;
  }
  d.unifiedDiff = diff.text;
  if (diff.truncated) d.comments.push(diff.truncated);
  return d;
}

export function cutComment(cut: number, total: number): string {
  return `${cut} of the diff's ${total} bytes left out: one hex dump may fill at most an eighth of the report (${limitNote('maxReportSize')})`;
}

/** A group of children (and comments), or null when there is nothing in it. */
export function group(source1: string, source2: string, details: (Difference | null)[], init: Partial<Difference> = {}): Difference | null {
  const kept = details.filter((d): d is Difference => d !== null);
  const comments = init.comments ?? [];
  if (kept.length === 0 && comments.length === 0 && !init.unifiedDiff && !init.changes?.length) return null;
  return node(source1, source2, { kind: 'artifact', ...init, details: kept, comments });
}

/**
 * Whether a listing's change is a consequence of a member's content, which is
 * compared beside it (a sibling node of that name): its size or digest changed
 * because its bytes did, so the sibling, not this change, is the evidence.
 */
export function followsFromContent(c: FieldChange, siblings: ReadonlySet<string>): boolean {
  return c.member !== undefined && siblings.has(c.member) && /^(size|crc|compressed size|md5|sha256digest|md5digest|sha256|digest|FILEDIGESTS|FILESIZES)$/.test(c.field);
}

/** Every node of the tree, depth first, with the chain of source1 names that leads to it. */
export function* walk(d: Difference, path: string[] = []): Generator<[Difference, string[]]> {
  const here = [...path, d.source1];
  yield [d, here];
  for (const c of d.details) yield* walk(c, here);
}

/** A node listing the header fields that differ (each one a structured change), or null when none does. */
export async function headerDifference(ctx: DiffBudget, title: string, ha: Record<string, string>, hb: Record<string, string>): Promise<Difference | null> {
  const keys = [...new Set([...Object.keys(ha), ...Object.keys(hb)])];
  const changes: FieldChange[] = keys.filter((k) => ha[k] !== hb[k]).map((k) => ({ field: k, value1: ha[k], value2: hb[k] }));
  if (changes.length === 0) return null;
  const show = (h: Record<string, string>) => keys.filter((k) => k in h).map((k) => `${k}: ${h[k]}\n`).join('');
  return textDifference(ctx, title, title, show(ha), show(hb), { kind: 'header', changes });
}
