// What detectors look at: the difference tree flattened into evidence items,
// one per field change, per changed line pair of a diff, and per node that
// differs with neither. Each item is explained by at most the detectors that
// claim it; the ones nobody claims are listed as unexplained. What a policy
// allowed is evidence too, marked with the policy's reason: its causes are
// named (as ignored) so a packager aiming for bit-identical sees what to fix.
import { followsFromContent, type Difference, type FieldChange } from '../compare/difference.js';

export interface EvidenceItem {
  node: Difference;
  /** Node names from the root down to `node`. */
  path: string[];
  /** The format of the nearest enclosing node that has one (tar, gzip, elf, rpm, ...). */
  format: string | undefined;
  /** Path of that node: the artifact (file, member) the item belongs to. */
  artifact: string[];
  change?: FieldChange;
  /** A changed line pair of the node's diff; one side is undefined for an added or removed line. */
  line?: { removed?: string; added?: string };
  /** Set when the node differs with neither changes nor a diff (a comment, a rename, ...). */
  whole?: true;
  /** Changed lines past the examination limits: never explained, so never hidden. */
  unexamined?: number;
  /** For a hex dump: the ASCII columns of a few changed rows, where detectors may learn build paths. */
  ascii?: { removed?: string; added?: string }[];
  /** Set when a policy allowed the change or the node (or a node above it): the policy's reason. */
  ignored?: string;
}

/** Changed line pairs examined per node and in all: explaining must stay cheap next to comparing. */
const MAX_NODE_LINES = 200;
const MAX_LINE_ITEMS = 2_000;
const MAX_ASCII_ROWS = 2_000;

/** Pairs the -/+ lines of each block of a unified diff, in order, reading no further than `limit` pairs. */
export function changedLines(diff: string, limit = Infinity): { removed?: string; added?: string }[] {
  const out: { removed?: string; added?: string }[] = [];
  let minus: string[] = [];
  let plus: string[] = [];
  const flush = () => {
    const n = Math.max(minus.length, plus.length);
    for (let i = 0; i < n; i++) {
      const item: { removed?: string; added?: string } = {};
      if (i < minus.length) item.removed = minus[i]!;
      if (i < plus.length) item.added = plus[i]!;
      if (!/^\[ \d+ lines removed \]$/.test(item.removed ?? item.added ?? '')) out.push(item);
    }
    minus = [];
    plus = [];
  };
  let pos = 0;
  while (pos < diff.length && out.length < limit) {
    let end = diff.indexOf('\n', pos);
    if (end < 0) end = diff.length;
    const line = diff.slice(pos, end);
    pos = end + 1;
    if (line.startsWith('-')) {
      if (plus.length) flush();
      minus.push(line.slice(1));
    } else if (line.startsWith('+')) plus.push(line.slice(1));
    else flush();
  }
  flush();
  return out;
}

/** How many -/+ lines a unified diff has (a fast scan, for what is not examined). */
function countChanged(diff: string): number {
  let n = diff.startsWith('-') || diff.startsWith('+') ? 1 : 0;
  for (let i = diff.indexOf('\n'); i >= 0 && i + 1 < diff.length; i = diff.indexOf('\n', i + 1)) {
    const c = diff.charCodeAt(i + 1);
    if (c === 45 || c === 43) n++;
  }
  return n;
}


const LAYOUT_VIEWS = /^(ELF section table|ELF program headers|ELF header)$/;
const NUMBER = /\b(0x[0-9a-f]+|\d+)\b/gi;

/**
 * In the layout views of a binary (section table, program headers), a line that
 * differs only in numbers (sizes, offsets, addresses) follows from the content
 * of the sections that moved, which is evidence of its own.
 */
function isLayoutShift(d: Difference, line: { removed?: string; added?: string }): boolean {
  return LAYOUT_VIEWS.test(d.source1) && line.removed !== undefined && line.added !== undefined && line.removed.replace(NUMBER, '#') === line.added.replace(NUMBER, '#');
}

/**
 * Every evidence item of a tree. What a policy allowed is included with `ignored` set;
 * nodes allowed whole are read after the rest, so they never use up the line budget
 * that the differences which count need.
 */
export function collectEvidence(root: Difference): EvidenceItem[] {
  const items: EvidenceItem[] = [];
  let lineItems = 0;
  let asciiRows = 0;
  const deferred: (() => void)[] = [];
  const visit = (d: Difference, path: string[], format: string | undefined, artifact: string[], siblings: Set<string>, parentHasContent = false, ignoredAbove?: string) => {
    const ignored = ignoredAbove ?? d.ignored;
    if (d.ignored && !ignoredAbove) {
      deferred.push(() => visit(d, path, format, artifact, siblings, parentHasContent, d.ignored));
      return;
    }
    const here = [...path, d.source1];
    const fmt = d.format ?? format;
    const art = d.format ? here : artifact;
    const base = { node: d, path: here, format: fmt, artifact: art, ...(ignored ? { ignored } : {}) };
    // A node's changes are its evidence; where it also has a diff, the diff's lines are
    // too, and a change that only summarises the diff ("section:.text") gives way to them.
    for (const c of d.changes ?? []) {
      if (followsFromContent(c, siblings) || (d.unifiedDiff && c.field.startsWith('section:'))) continue;
      // A member's own metadata node (directories): its size follows from the content compared beside it.
      if (d.kind === 'metadata' && parentHasContent && /^(size)$/.test(c.field)) continue;
      const reason = ignored ?? c.ignored;
      items.push({ ...base, change: c, ...(reason ? { ignored: reason } : {}) });
    }
    if (d.unifiedDiff && d.kind === 'binary') {
      // A hex dump: its lines are offsets and byte pairs, which no line pattern explains; the node is one
      // item, with the text columns of its first changed rows kept for learning build paths.
      const ascii = (asciiRows < MAX_ASCII_ROWS ? changedLines(d.unifiedDiff, 32) : []).map((l) => ({
        ...(l.removed !== undefined ? { removed: l.removed.slice(51) } : {}),
        ...(l.added !== undefined ? { added: l.added.slice(51) } : {}),
      }));
      asciiRows += ascii.length;
      items.push({ ...base, whole: true, ascii });
    } else if (d.unifiedDiff && (!d.changes?.length || d.changes.some((c) => c.field.startsWith('section:')))) {
      const budget = Math.min(MAX_NODE_LINES, MAX_LINE_ITEMS - lineItems);
      const lines = budget > 0 ? changedLines(d.unifiedDiff, budget) : [];
      let readLines = 0;
      for (const line of lines) {
        readLines += (line.removed !== undefined ? 1 : 0) + (line.added !== undefined ? 1 : 0);
        if (isLayoutShift(d, line)) continue;
        lineItems++;
        items.push({ ...base, line });
      }
      // Lines past the budget: counted, not read.
      const skipped = lines.length < budget ? 0 : Math.max(0, countChanged(d.unifiedDiff) - readLines);
      if (skipped) items.push({ ...base, unexamined: skipped });
    }
    if (!d.changes?.length && !d.unifiedDiff && d.details.length === 0 && path.length > 0) items.push({ ...base, whole: true });
    const names = new Set(d.details.map((c) => c.source1));
    const hasContent = d.unifiedDiff !== undefined || d.details.some((c) => c.kind !== 'metadata');
    for (const c of d.details) visit(c, here, fmt, art, names, hasContent, ignored);
  };
  visit(root, [], root.format, [root.source1], new Set());
  for (const later of deferred) later();
  return items;
}

export function describeItem(item: EvidenceItem): string {
  const text = describe(item);
  return item.ignored ? `${text} (ignored by policy)` : text;
}

function describe(item: EvidenceItem): string {
  const where = item.path.slice(1).join(' / ') || item.path[0]!;
  if (item.change) {
    const c = item.change;
    return `${where}: ${c.member ? `${c.member} ` : ''}${c.field}${c.value1 !== undefined || c.value2 !== undefined ? ` (${c.value1 ?? '—'} -> ${c.value2 ?? '—'})` : ''}`;
  }
  if (item.unexamined) return `${where}: ${item.unexamined} more changed lines not examined`;
  if (item.line) return `${where}: ${item.line.removed !== undefined ? `-${item.line.removed}` : ''}${item.line.removed !== undefined && item.line.added !== undefined ? ' / ' : ''}${item.line.added !== undefined ? `+${item.line.added}` : ''}`.slice(0, 300);
  return `${where}: ${item.node.comments[0] ?? 'differs'}`;
}
