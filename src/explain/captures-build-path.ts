// captures_build_path, and its specific forms: the build directory is written
// into the output, so two builds in different directories differ where it is.
// The build directories are learnt from the report itself: the paths that
// differ in changed line pairs and field changes.
import type { Detector, LineContext } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { differingSpan } from './patterns.js';

const PATH_IN = /(\/[A-Za-z0-9._+~@-]+){2,}/;

const learnt = new WeakMap<EvidenceItem[], [string, string][]>();

/** Build-directory pairs: the differing parts of absolute paths found in line pairs and field values (computed once per report). */
export function learnBuildPaths(items: EvidenceItem[]): [string, string][] {
  let paths = learnt.get(items);
  if (!paths) learnt.set(items, (paths = findBuildPaths(items)));
  return paths;
}

function findBuildPaths(items: EvidenceItem[]): [string, string][] {
  const counts = new Map<string, { pair: [string, string]; n: number }>();
  const consider = (a: string | undefined, b: string | undefined) => {
    if (a === undefined || b === undefined || a === b) return;
    const [da, db] = differingSpan(a, b);
    if (!a.includes('/')) return;
    // Widen the span to the whole path component run it sits in.
    const ia = a.indexOf(da);
    const ib = b.indexOf(db);
    const widen = (s: string, i: number, len: number) => {
      let start = i;
      while (start > 0 && /[A-Za-z0-9._+~@/-]/.test(s[start - 1]!)) start--;
      let end = i + len;
      while (end < s.length && /[A-Za-z0-9._+~@-]/.test(s[end]!)) end++;
      return s.slice(start, end);
    };
    const pa = widen(a, ia, da.length);
    const pb = widen(b, ib, db.length);
    if (!PATH_IN.test(pa) || !PATH_IN.test(pb) || !pa.startsWith('/') || !pb.startsWith('/')) return;
    const key = `${pa}\u0000${pb}`;
    const entry = counts.get(key) ?? { pair: [pa, pb], n: 0 };
    entry.n++;
    counts.set(key, entry);
  };
  for (const i of items.slice(0, 50_000)) {
    if (i.line) consider(i.line.removed, i.line.added);
    if (i.change) consider(i.change.value1, i.change.value2);
  }
  return [...counts.values()].sort((x, y) => y.n - x.n || y.pair[0].length - x.pair[0].length).slice(0, 8).map((e) => e.pair);
}

export function normaliseBuildPath(line: string, context: LineContext): string {
  let out = line;
  for (const [a, b] of context.buildPaths) out = out.split(a).join('<BUILD_PATH>').split(b).join('<BUILD_PATH>');
  return out;
}

export const capturesBuildPath: Detector = {
  id: 'captures_build_path',
  title: 'The build path is recorded in the output',
  fix: 'Build in a fixed directory or map it away: -ffile-prefix-map=$PWD=. for C/C++ (gcc_captures_build_path), go build -trimpath for Go, and check the tool that writes the path.',
  normalise: normaliseBuildPath,
  detect(items) {
    // Field values that differ only by the build path (Go build info, RPM fields, ...).
    const context = { buildPaths: learnBuildPaths(items) };
    if (context.buildPaths.length === 0) return [];
    const found = items.filter((i) => i.change && i.change.value1 !== undefined && i.change.value2 !== undefined && normaliseBuildPath(i.change.value1, context) === normaliseBuildPath(i.change.value2, context));
    return found.length ? [{ items: found, confidence: 'high' }] : [];
  },
};
