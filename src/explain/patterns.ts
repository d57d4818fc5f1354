// Small helpers shared by detectors: which container format a change belongs
// to, and the differing part of two lines.
import type { EvidenceItem } from './evidence.js';

/** Items whose change is one of `fields`. */
export function changesOf(items: EvidenceItem[], fields: readonly string[], where?: (item: EvidenceItem) => boolean): EvidenceItem[] {
  return items.filter((i) => i.change && fields.includes(i.change.field) && (!where || where(i)));
}

/** Items whose changed line matches `re` on both sides (or the side present). */
export function linesMatching(items: EvidenceItem[], re: RegExp): EvidenceItem[] {
  return items.filter((i) => i.line && [i.line.removed, i.line.added].every((l) => l === undefined || re.test(l)));
}

/** The container format whose file list holds a change: the node's own format or the one above it. */
export function containerFormat(item: EvidenceItem): string {
  return item.node.format ?? item.format ?? 'unknown';
}

/** The part of `a` and `b` between their common prefix and suffix. */
export function differingSpan(a: string, b: string): [string, string] {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return [a.slice(p, a.length - s), b.slice(p, b.length - s)];
}

/** Dates and times in the forms build tools print them. */
export const DATE_PATTERNS: RegExp[] = [
  /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| ?UTC)?/g, // ISO 8601
  /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun),? +\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}( \d{2}:\d{2}:\d{2})?( [+-]\d{4}| [A-Z]{3})?/g, // RFC 2822
  /\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}( [A-Z]{3,4})? \d{4}/g, // date(1), ctime
  /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2},? +\d{4}( \d{2}:\d{2}(:\d{2})?)?/g, // __DATE__ and prose
  /\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4}/g,
  /\b\d{2}:\d{2}:\d{2}\b/g, // __TIME__
  /\bD:\d{14}([+-]\d{2}'\d{2}'?|Z)?/g, // PDF dates
  /\b1[5-9]\d{8}\b/g, // Unix seconds 2017..2033
];

/** The artifact an item belongs to, as one comparable key. */
export function artifactKey(item: EvidenceItem): string {
  return item.artifact.join('\u0000');
}

const goArtifactsOf = new WeakMap<EvidenceItem[], Set<string>>();

/** Artifacts that are Go binaries: a Go build ID or build info changed, or a Go section is shown. Once per report. */
export function goArtifacts(items: EvidenceItem[]): Set<string> {
  let found = goArtifactsOf.get(items);
  if (!found) {
    const go = (i: EvidenceItem) => /^(NT_GO_BUILDID|go build id|go buildinfo:)/.test(i.change?.field ?? '') || /\.(gopclntab|go\.buildinfo|note\.go\.buildid)\b/.test(i.node.source1);
    found = new Set(items.filter(go).map(artifactKey));
    goArtifactsOf.set(items, found);
  }
  return found;
}
