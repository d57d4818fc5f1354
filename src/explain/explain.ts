// explain(): names the known causes in a difference tree, with evidence and the
// fix, and lists what no detector explains, so a report never looks fully
// explained when it is not.
import type { Difference, IssueTag } from '../compare/difference.js';
import { learnBuildPaths } from './captures-build-path.js';
import type { Confidence, Detector, LineContext } from './detector.js';
import { collectEvidence, describeItem, type EvidenceItem } from './evidence.js';
import { detectors as allDetectors } from './registry.js';

export interface Finding extends IssueTag {
  title: string;
  /** How many evidence items it explains (evidence lists the first few). */
  count: number;
  /**
   * Set when a policy allowed every item the cause explains: the verdict does not count
   * them, and the fix is what would make the rebuild bit-identical.
   */
  ignored?: true;
}

export interface Explanation {
  findings: Finding[];
  /** Evidence no detector explains, described (the first MAX_LISTED). */
  unexplained: string[];
  unexplainedCount: number;
}

const MAX_LISTED = 20;
const RANK: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

const CONTEXT = 80;
const MAY_NORMALISE = /[0-9/]/;

/** The two lines cut to their differing span plus CONTEXT characters each side (widened to whitespace). */
function window(a: string, b: string): [string, string] {
  if (a.length + b.length < 4 * CONTEXT) return [a, b];
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  let start = Math.max(0, p - CONTEXT);
  while (start > 0 && !/\s/.test(a[start - 1]!)) start--;
  let tail = Math.max(0, s - CONTEXT);
  while (tail > 0 && !/\s/.test(a[a.length - tail]!)) tail--;
  return [a.slice(start, a.length - tail), b.slice(start, b.length - tail)];
}

export function explain(root: Difference, detectors: readonly Detector[] = allDetectors): Explanation {
  const items = collectEvidence(root);
  const findings = new Map<string, { detector: Detector; confidence: Confidence; items: EvidenceItem[] }>();
  const claimed = new Set<EvidenceItem>();
  const claim = (detector: Detector, id: string, confidence: Confidence, list: EvidenceItem[]) => {
    if (list.length === 0) return;
    const f = findings.get(id) ?? { detector, confidence, items: [] };
    if (RANK[confidence] > RANK[f.confidence]) f.confidence = confidence;
    f.items.push(...list);
    findings.set(id, f);
    for (const i of list) claimed.add(i);
  };
  for (const d of detectors) for (const c of d.detect?.(items) ?? []) claim(d, c.id ?? d.id, c.confidence, c.items);

  // Changed line pairs: explained by one normaliser, or by several together.
  const context: LineContext = { buildPaths: learnBuildPaths(items) };
  const normalisers = detectors.filter((d) => d.normalise);
  for (const item of items) {
    if (claimed.has(item) || !item.line || item.line.removed === undefined || item.line.added === undefined) continue;
    // Normalisers see the differing part of the two lines with some context around it:
    // the same answer as on whole lines for the tokens they rewrite, at a fraction of the cost.
    const [removed, added] = window(item.line.removed, item.line.added);
    // Every normaliser rewrites digits (dates, versions) or paths: a change with neither is none of theirs.
    if (!MAY_NORMALISE.test(removed) && !MAY_NORMALISE.test(added)) continue;
    const single = normalisers.filter((d) => d.normalise!(removed, context) === d.normalise!(added, context));
    if (single.length) {
      for (const d of single) claim(d, d.id, 'high', [item]);
      continue;
    }
    let a = removed;
    let b = added;
    const used: Detector[] = [];
    for (const d of normalisers) {
      const na = d.normalise!(a, context);
      const nb = d.normalise!(b, context);
      if (na !== a || nb !== b) used.push(d);
      a = na;
      b = nb;
    }
    if (a === b) for (const d of used) claim(d, d.id, 'medium', [item]);
  }

  // What a policy allowed is not unexplained: it is allowed. Its causes are named all the same.
  const unexplainedItems = items.filter((i) => !claimed.has(i) && !i.ignored);
  return {
    findings: [...findings.entries()].map(([id, f]) => ({
      id,
      title: f.detector.title,
      confidence: f.confidence,
      fix: f.detector.fix,
      count: f.items.length,
      evidence: f.items.slice(0, MAX_LISTED).map(describeItem),
      ...(f.items.every((i) => i.ignored) ? { ignored: true as const } : {}),
    })),
    unexplained: unexplainedItems.slice(0, MAX_LISTED).map(describeItem),
    unexplainedCount: unexplainedItems.length,
  };
}

/** Explains the tree and records the result on its root, for every presenter to show. */
export function annotate(root: Difference): Explanation {
  const e = explain(root);
  root.issues = e.findings;
  root.unexplained = e.unexplainedCount ? [...e.unexplained, ...(e.unexplainedCount > e.unexplained.length ? [`... and ${e.unexplainedCount - e.unexplained.length} more`] : [])] : [];
  return e;
}
