// captures_build_path, and its specific forms: the build directory is written
// into the output, so two builds in different directories differ where it is.
// The build directories are learnt from the report itself: the paths that
// differ in changed line pairs and field changes.
import type { Detector, LineContext } from './detector.js';
import type { EvidenceItem } from './evidence.js';
import { normaliseKernel } from './captures-kernel-version.js';

const PATH_IN = /(\/[A-Za-z0-9._+~@-]+){2,}/;
const PATH_CHAR = /[A-Za-z0-9._+~@/-]/;
const NAMED = /[A-Za-z0-9]/;

/** Where builders build: Debian (/build/..., sbuild's /<<PKGBUILDDIR>>), Fedora (/builddir), Arch (/build, /startdir), CI and home directories. */
const BUILD_ROOT = /^\/(build|builddir|startdir|@@(PKG)?BUILDDIR@@|tmp|var\/tmp|home|root|usr\/src|srv|workspace|github\/workspace)(\/|$)/;

// sbuild's /<<PKGBUILDDIR>> and /<<BUILDDIR>> (what dpkg maps the build directory to) are paths here:
// their angle brackets become characters of a path, of the same length, and back.
const toToken = (s: string) => (s.includes('<<') ? s.replace(/<<((PKG)?BUILDDIR)>>/g, '@@$1@@') : s);
const fromToken = (s: string) => (s.includes('@@') ? s.replace(/@@((PKG)?BUILDDIR)@@/g, '<<$1>>') : s);

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
    [a, b] = [toToken(a), toToken(b)];
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
    // A directory is named by letters or digits: "./......." is a hex dump's text column, whose dots stand for
    // bytes that do not print; there, dots side by side ("..h....") are such bytes around a letter, not a name.
    const named = (c: string) => NAMED.test(c) && !(cut && c.includes('..'));
    if (!named(ca[k]!) || !named(cb[k]!)) return;
    // The two heads before the components the paths end with alike: /builddir/build/BUILD vs
    // /build/hello/src for .../hello-2.10/src/main.c (one head may be the shared prefix itself).
    let ea = ca.length;
    let eb = cb.length;
    while (ea - 1 >= k && eb - 1 >= k && (ea - 1 > k || eb - 1 > k) && ca[ea - 1] === cb[eb - 1]) ea--, eb--;
    const common = ea < ca.length;
    // A differing name-version component last (hello-2.10 vs hello-2.11) is a change of its own, not the build directory.
    while (ea > k + 1 && eb > k + 1 && ca[ea - 1]!.replace(/\d+/g, '#') === cb[eb - 1]!.replace(/\d+/g, '#')) ea--, eb--;
    let pa: string;
    let pb: string;
    let directory: boolean;
    if (!common && (k >= 2 || (cut && k >= 1))) {
      // Under a shared root, nothing alike after (/build/x-1a2b vs /build/x-9z8y): the first differing component.
      pa = ca.slice(0, k + 1).join('/');
      pb = cb.slice(0, k + 1).join('/');
      // Likely a build directory when something follows the differing component (a file below
      // it), or when the two names are variants of one another (build-a / build-bb, tmp.x1 / tmp.y2).
      let shared = 0;
      while (shared < ca[k]!.length && ca[k]![shared] === cb[k]![shared]) shared++;
      directory = k < ca.length - 1 || k < cb.length - 1 || shared >= 3;
    } else {
      pa = ca.slice(0, ea).join('/');
      pb = cb.slice(0, eb).join('/');
      // One component is enough only for a builder's root (/startdir): /bin vs /usr/bin is usrmerge.
      const deepEnough = (x: string) => PATH_IN.test(x) || (cut && k >= 1) || (BUILD_ROOT.test(x) && x !== '/build' && x !== '/tmp' && x !== '/home');
      if (!deepEnough(pa) || !deepEnough(pb)) return;
      directory = common || BUILD_ROOT.test(pa) || BUILD_ROOT.test(pb);
    }
    // /lib/modules/6.1.0-28-amd64 vs /lib/modules/6.12.12-amd64: the builder's kernel, not its build directory.
    if (normaliseKernel(pa) === normaliseKernel(pb)) return;
    if (!cut && (!pa.startsWith('/') || !pb.startsWith('/'))) return;
    [pa, pb] = [fromToken(pa), fromToken(pb)];
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
  // The longer of a pair first: one may be the start of the other (/builddir/build/BUILD vs /builddir/build/BUILD/x-build).
  for (const [a, b] of context.buildPaths) for (const p of a.length >= b.length ? [a, b] : [b, a]) out = out.split(p).join('<BUILD_PATH>');
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
