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

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*';

/**
 * Dates and times in the forms build tools print them. Bare numbers are taken for
 * Unix times only next to a word that says so (SOURCE_DATE_EPOCH=, BUILD_TIMESTAMP,
 * mtime, @): a size or a count of the same magnitude is not a date.
 */
export const DATE_PATTERNS: RegExp[] = [
  /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| ?UTC)?/g, // ISO 8601
  /\b(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])T\d{4}(\d{2})?(Z|[+-]\d{4})?\b/g, // ISO 8601 basic
  /\b(19|20)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b/g, // ISO 8601 date
  new RegExp(`\\b${DAY},? +\\d{1,2} ${MONTH} \\d{4}( \\d{2}:\\d{2}:\\d{2})?( [AP]M)?( [+-]\\d{4}| [A-Z]{3,4})?`, 'g'), // RFC 2822, date(1) in some locales
  new RegExp(`\\b${DAY} ${MONTH} +\\d{1,2} \\d{2}:\\d{2}:\\d{2}( [AP]M)?( [A-Z]{3,4})? \\d{4}`, 'g'), // date(1), ctime
  new RegExp(`\\b(${DAY},? )?${MONTH} +\\d{1,2},? +\\d{4}( \\d{2}:\\d{2}(:\\d{2})?)?`, 'g'), // __DATE__, prose, Doxygen
  new RegExp(`\\b\\d{1,2} ${MONTH} \\d{4}`, 'g'),
  new RegExp(`\\b${MONTH} (19|20)\\d{2}\\b`, 'g'), // man pages' "November 2026"
  /\b(0?[1-9]|[12]\d|3[01])\/(0?[1-9]|1[0-2])\/(19|20)\d{2}\b|\b(19|20)\d{2}\/(0?[1-9]|1[0-2])\/(0?[1-9]|[12]\d|3[01])\b/g, // 30/11/2026, 2026/11/30
  /\b\d{2}:\d{2}:\d{2}\b/g, // __TIME__
  /\bD:\d{14}([+-]\d{2}'\d{2}'?|Z)?/g, // PDF dates
  /((?:EPOCH|TIMESTAMP|TIME|DATE|STAMP|epoch|timestamp|time|date|stamp|mtime|Epoch|Timestamp|Time|Date)\w*["']?\s*[:=]?\s*["']?@?|@)\d{9,13}\b/g, // Unix seconds (or ms) named as such
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
