// captures_build_path, and its specific forms: the build directory is written
// into the output, so two builds in different directories differ where it is.
// The build directories are learnt from the report itself: the paths that
// differ in changed line pairs and field changes.
import type { Detector, LineContext } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { normaliseKernel } from './captures-kernel-version.js';

const PATH_IN = /(\/[A-Za-z0-9._+~@-]+){2,}/;
const PATH_CHAR = /[A-Za-z0-9._+~@/-]/;

const learnt = new WeakMap<EvidenceItem[], [string, string][]>();

/** Build-directory pairs: the differing parts of absolute paths found in line pairs and field values (computed once per report). */
export function learnBuildPaths(items: EvidenceItem[]): [string, string][] {
  let paths = learnt.get(items);
  if (!paths) learnt.set(items, (paths = findBuildPaths(items)));
  return paths;
}

function findBuildPaths(items: EvidenceItem[]): [string, string][] {
  const counts = new Map<string, { pair: [string, string]; n: number; directory: boolean }>();
  // Hex dump text columns cut strings every 16 bytes: there a path may have lost its leading '/'.
  const consider = (a: string | undefined, b: string | undefined, cut = false) => {
    if (a === undefined || b === undefined || a === b || !a.includes('/')) return;
    let p = 0;
    while (p < a.length && p < b.length && a[p] === b[p]) p++;
    // The run of path characters around the first difference, on each side.
    const around = (s: string): string => {
      let start = p;
      while (start > 0 && PATH_CHAR.test(s[start - 1]!)) start--;
      let end = p;
      while (end < s.length && PATH_CHAR.test(s[end]!)) end++;
      return s.slice(start, end);
    };
    const [ca, cb] = [around(a).split('/'), around(b).split('/')];
    let k = 0;
    while (k < ca.length && k < cb.length && ca[k] === cb[k]) k++;
    if (k >= ca.length || k >= cb.length) return;
    const pa = ca.slice(0, k + 1).join('/');
    const pb = cb.slice(0, k + 1).join('/');
    if (!PATH_IN.test(pa) || !PATH_IN.test(pb) || (!cut && (!pa.startsWith('/') || !pb.startsWith('/')))) return;
    // /lib/modules/6.1.0-28-amd64 vs /lib/modules/6.12.12-amd64: the builder's kernel, not its build directory.
    if (normaliseKernel(ca[k]!) === normaliseKernel(cb[k]!)) return;
    // Likely a build directory when something follows the differing component (a file below
    // it), or when the two names are variants of one another (build-a / build-bb, tmp.x1 / tmp.y2).
    let shared = 0;
    while (shared < ca[k]!.length && ca[k]![shared] === cb[k]![shared]) shared++;
    const directory = k < ca.length - 1 || k < cb.length - 1 || shared >= 3;
    const key = `${pa}\u0000${pb}`;
    const entry = counts.get(key) ?? { pair: [pa, pb], n: 0, directory: false };
    entry.n++;
    entry.directory ||= directory;
    counts.set(key, entry);
  };
  for (const i of items.slice(0, 50_000)) {
    if (i.line) consider(i.line.removed, i.line.added);
    if (i.change) consider(i.change.value1, i.change.value2);
    for (const l of i.ascii ?? []) consider(l.removed, l.added, true);
  }
  // /bin/sed vs /bin/awk is not a build directory: neither has files below it nor is a variant of the other.
  return [...counts.values()]
    .filter((e) => e.directory)
    .sort((x, y) => y.n - x.n || y.pair[0].length - x.pair[0].length)
    .slice(0, 8)
    .map((e) => e.pair);
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
