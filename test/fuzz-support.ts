// Property-based robustness checks shared by the quick run in `npm test` and
// the long runs of bench/fuzz-long.sh: seeds built with the real tools,
// mutations that hostile artifacts use, and the engine's invariants.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compare, type Diagnostic } from '../src/index.js';
import type { Difference } from '../src/compare/difference.js';
import { ReproveError } from '../src/compare/errors.js';
import { haveCommand, sh } from './helpers.js';

/** Limits small enough that a bad input is found fast, big enough to parse the seeds. */
export const FUZZ_LIMITS = { maxDecompressedSize: 64 << 20, maxTotalDecompressed: 256 << 20, maxReportSize: 2 << 20, toolTimeout: 30, maxMembers: 20_000 };

/** Seconds one comparison may take before it counts as unbounded. */
const MAX_SECONDS = 30;
/** Growth of the heap over the whole run that counts as unbounded allocation. */
const MAX_HEAP_GROWTH = 512 << 20;

export interface Seed {
  format: string;
  name: string;
  bytes: Buffer;
}

/** Valid artifacts of every format, built with the real tools in `dir`. */
export function buildSeeds(dir: string): Seed[] {
  const seeds: Seed[] = [];
  const add = (format: string, file: string) => {
    if (existsSync(join(dir, file))) seeds.push({ format, name: file, bytes: readFileSync(join(dir, file)) });
  };
  sh(dir, `mkdir -p t/sub && seq 1 40 > t/sub/numbers.txt && printf '{"k": [1, 2], "s": "x"}\\n' > t/data.json && printf 'hello\\n' > t/hello.txt && ln -sf hello.txt t/link && touch -d 2020-01-01 t/* t/sub/*`);
  sh(dir, `tar --format=gnu -cf gnu.tar -C t . && tar --format=pax -cf pax.tar -C t . && tar --format=ustar -cf ustar.tar -C t .`);
  for (const f of ['gnu.tar', 'pax.tar', 'ustar.tar']) add('tar', f);
  sh(dir, `gzip -nc gnu.tar > x.tar.gz && xz -c gnu.tar > x.tar.xz && zstd -qc gnu.tar > x.tar.zst && bzip2 -c gnu.tar > x.tar.bz2`);
  add('gzip', 'x.tar.gz');
  add('xz', 'x.tar.xz');
  add('zstd', 'x.tar.zst');
  add('bzip2', 'x.tar.bz2');
  if (haveCommand('zip')) {
    sh(dir, `cd t && zip -qr ../x.zip . && zip -q0 ../stored.zip hello.txt data.json`);
    add('zip', 'x.zip');
    add('zip', 'stored.zip');
  }
  sh(dir, `cd t && find . | LC_ALL=C sort | cpio --quiet -o -H newc > ../x.cpio && find . | LC_ALL=C sort | cpio --quiet -o -H odc > ../odc.cpio`);
  add('cpio', 'x.cpio');
  add('cpio', 'odc.cpio');
  if (haveCommand('gcc')) {
    sh(dir, `printf 'int f(void){return 1;}\\n' > f.c && printf 'int main(void){return 0;}\\n' > m.c && gcc -g -c f.c -o f.o && gcc -c m.c -o m.o && ar rcs x.a f.o m.o && gcc -O1 -o prog m.c f.c`);
    add('ar', 'x.a');
    add('elf', 'f.o');
    add('elf', 'prog');
    // A shared library with symbol versions of its own (.gnu.version_d beside _r and .gnu.version).
    sh(dir, `printf 'V1 { global: f; local: *; };\\nV2 { global: main; } V1;\\n' > v.map && gcc -shared -fPIC -O1 -Wl,--version-script=v.map -o libv.so f.c m.c`);
    add('elf', 'libv.so');
  }
  if (haveCommand('dpkg-deb')) {
    sh(dir, `mkdir -p pkg/DEBIAN pkg/usr/share/doc/x && printf 'Package: x\\nVersion: 1\\nArchitecture: all\\nMaintainer: M <m@example.org>\\nDescription: d\\n' > pkg/DEBIAN/control && cp t/hello.txt pkg/usr/share/doc/x/ && dpkg-deb --root-owner-group -Zgzip --build pkg x.deb >/dev/null`);
    add('deb', 'x.deb');
  }
  if (haveCommand('python3')) {
    sh(dir, `printf 'x = 1\\nprint("hi")\\n' > m.py && python3 -c 'import py_compile; py_compile.compile("m.py", cfile="m.pyc")'`);
    add('pyc', 'm.pyc');
  }
  if (haveCommand('msgfmt')) {
    sh(dir, `printf 'msgid ""\\nmsgstr ""\\n"Content-Type: text/plain; charset=UTF-8\\\\n"\\n\\nmsgid "hello"\\nmsgstr "bonjour"\\n' > x.po && msgfmt -o x.mo x.po`);
    add('gettext', 'x.mo');
  }
  if (haveCommand('rpmbuild')) {
    writeFileSync(
      join(dir, 'x.spec'),
      'Name: x\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nBuildArch: noarch\nRequires: sh\n%description\nd\n%install\nmkdir -p %{buildroot}/usr/share/x && seq 1 50 > %{buildroot}/usr/share/x/f && ln -s f %{buildroot}/usr/share/x/l\n%post\necho hi\n%files\n/usr/share/x\n',
    );
    sh(dir, `rpmbuild -bb --define "_topdir $PWD/rpmtop" --define '_binary_payload w9.gzdio' x.spec >/dev/null 2>&1 && cp rpmtop/RPMS/noarch/*.rpm x.rpm`);
    add('rpm', 'x.rpm');
  }
  if (haveCommand('javac')) {
    sh(dir, `mkdir -p j && printf 'public class C { int f(int x) { return x + 1; } }\\n' > j/C.java && javac -d j j/C.java && cp j/C.class C.class`);
    add('java-class', 'C.class');
  }
  sh(dir, `cp t/data.json x.json && cp t/sub/numbers.txt x.txt && printf '#mtree\\n/set type=file uid=0 gid=0 mode=644\\n./hello.txt time=1.0 size=6 sha256digest=abc\\n' > mtree.txt && gzip -nc mtree.txt > .MTREE`);
  add('json', 'x.json');
  add('text', 'x.txt');
  add('mtree', '.MTREE');
  // Name-recognised metadata, kept under their own names: Arch's .PKGINFO and .BUILDINFO, Debian's control and md5sums.
  writeFileSync(join(dir, '.PKGINFO'), '# Generated by makepkg 6.0.2\npkgname = x\npkgbase = x\npkgver = 1-1\npkgdesc = d\nbuilddate = 1700000000\npackager = Unknown Packager\nsize = 6\narch = any\nlicense = MIT\ndepend = glibc\ndepend = bash>=5\n');
  writeFileSync(join(dir, '.BUILDINFO'), 'format = 2\npkgname = x\npkgbase = x\npkgver = 1-1\npkgarch = any\npkgbuild_sha256sum = 00\npackager = Unknown Packager\nbuilddate = 1700000000\nbuilddir = /build\nstartdir = /startdir\nbuildtool = makepkg\nbuildtoolver = 6.0.2\nbuildenv = !distcc\nbuildenv = color\noptions = strip\ninstalled = bash-5.2-1-x86_64\ninstalled = glibc-2.38-1-x86_64\n');
  writeFileSync(join(dir, 'control'), 'Package: x\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: M <m@example.org>\nInstalled-Size: 12\nDepends: libc6 (>= 2.34), zlib1g\nSection: misc\nPriority: optional\nDescription: d\n long description\n .\n more\n');
  writeFileSync(join(dir, 'md5sums'), 'b1946ac92492d2347c6235b4d2611184  usr/share/doc/x/hello\nd41d8cd98f00b204e9800998ecf8427e  usr/share/doc/x/empty\n');
  add('pkginfo', '.PKGINFO');
  add('pkginfo', '.BUILDINFO');
  add('debian-control', 'control');
  add('md5sums', 'md5sums');
  return seeds;
}

/** One way a hostile artifact is made from a valid one. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; from: number; length: number; to: number }
  | { kind: 'duplicate'; from: number; length: number }
  | { kind: 'grow'; at: number; value: number; width: 4 | 8 | 12 }
  | { kind: 'pastEnd'; at: number; extra: number }
  | { kind: 'nest' };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 512 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 2048 }) }),
  fc.record({ kind: fc.constant('grow' as const), at: fc.nat(), value: fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 2 ** 31 + 7, 65535, 0), width: fc.constantFrom(4 as const, 8 as const, 12 as const) }),
  fc.record({ kind: fc.constant('pastEnd' as const), at: fc.nat(), extra: fc.integer({ min: 1, max: 1 << 20 }) }),
  fc.record({ kind: fc.constant('nest' as const) }),
);

/** Applies a mutation; offsets wrap around the artifact's length. */
export function mutate(bytes: Buffer, m: Mutation): Buffer {
  const n = bytes.length;
  if (n === 0) return Buffer.from([0]);
  const out = Buffer.from(bytes);
  switch (m.kind) {
    case 'flip':
      out[m.at % n] ^= 1 << m.bit;
      return out;
    case 'truncate':
      return out.subarray(0, m.at % n);
    case 'splice': {
      const from = m.from % n;
      const piece = bytes.subarray(from, from + m.length);
      const to = m.to % n;
      piece.copy(out, to, 0, Math.min(piece.length, n - to));
      return out;
    }
    case 'duplicate': {
      const from = m.from % n;
      const piece = bytes.subarray(from, from + m.length);
      return Buffer.concat([bytes.subarray(0, from), piece, bytes.subarray(from)]);
    }
    case 'grow': {
      const at = m.at % Math.max(1, n - m.width);
      // A length field made huge: binary (both byte orders) or octal text, as tar and cpio store them.
      if (m.width === 12) out.write(m.value.toString(8).padStart(11, '7').slice(-11) + '\0', at, 'latin1');
      else if (m.width === 4 && at + 4 <= n) out.writeUInt32BE(m.value >>> 0, at);
      else if (at + 8 <= n) out.writeBigUInt64LE(BigInt(m.value) << 8n, at);
      return out;
    }
    case 'pastEnd': {
      const at = m.at % Math.max(1, n - 4);
      if (at + 4 <= n) out.writeUInt32LE(Math.min(0xffffffff, n + m.extra), at);
      return out;
    }
    case 'nest':
      // The artifact inside a gzip of itself: one more level for the recursion.
      return gzipSync(bytes, { level: 1 });
  }
}

/** A member path with the run's directory left out, for messages. */
const anonymous = (p: string) => p.replace(/[^|]*\/run-[^/|]+\/[ab]\//g, '*/');

/** Member paths of a tree, each step the unordered pair of names (so A-B and B-A agree). */
export function pathSet(d: Difference | null): Set<string> {
  const out = new Set<string>();
  const visit = (n: Difference, prefix: string) => {
    for (const c of n.details) {
      const step = [c.source1, c.source2].sort().join('|');
      const p = `${prefix}/${step}`;
      out.add(p);
      visit(c, p);
    }
  };
  if (d) visit(d, '');
  return out;
}

export interface RunStats {
  runs: number;
  slowestMs: number;
  slowestInput: string;
  peakHeapGrowth: number;
}

export function newStats(): RunStats {
  return { runs: 0, slowestMs: 0, slowestInput: '', peakHeapGrowth: 0 };
}

const baseHeap = process.memoryUsage().heapUsed;

/** Writes the pair to disk, compares both ways and checks every invariant. */
export async function checkInvariants(dir: string, a: Buffer, b: Buffer, name: string, stats: RunStats): Promise<void> {
  const run = mkdtempSync(join(dir, 'run-'));
  const tmp = join(run, 'tmp');
  mkdirSync(tmp);
  // Each side under its own directory, so a name-recognised format (.PKGINFO, control) keeps its name.
  mkdirSync(join(run, 'a'));
  mkdirSync(join(run, 'b'));
  const pa = join(run, 'a', name);
  const pb = join(run, 'b', name);
  writeFileSync(pa, a);
  writeFileSync(pb, b);
  const diagnostics: Diagnostic[] = [];
  const options = { limits: FUZZ_LIMITS, tmpDir: tmp, onDiagnostic: (d: Diagnostic) => diagnostics.push(d) };
  try {
    const t0 = Date.now();
    const ab = await compare(pa, pb, options);
    const ms = Date.now() - t0;
    stats.runs++;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestInput = `${name} (${a.length}/${b.length} bytes)`;
    }
    assert.ok(ms < MAX_SECONDS * 1000, `comparison took ${ms} ms`);
    // 2. different bytes are never identical; the same bytes always are.
    assert.equal(ab.difference === null, a.equals(b), 'identical exactly when the bytes are equal');
    const aa = await compare(pa, pa, options);
    assert.equal(aa.difference, null, 'compare(a, a) is identical');
    // 3. symmetry of the member paths.
    const ba = await compare(pb, pa, options);
    const [x, y] = [pathSet(ab.difference), pathSet(ba.difference)];
    assert.deepEqual([...x].filter((p) => !y.has(p)).map(anonymous), [...y].filter((p) => !x.has(p)).map(anonymous), 'the same member paths both ways');
    // 4. every error was a typed one.
    assert.deepEqual(diagnostics.map((d) => `${d.memberPath.join(' -> ')}: ${d.message}\n${d.stack ?? ''}`), [], 'no untyped error reached the engine');
    // 5. nothing left behind.
    assert.deepEqual(readdirSync(tmp), [], 'the temporary directory is gone');
    const growth = process.memoryUsage().heapUsed - baseHeap;
    stats.peakHeapGrowth = Math.max(stats.peakHeapGrowth, growth);
    assert.ok(growth < MAX_HEAP_GROWTH, `heap grew by ${growth} bytes`);
  } catch (e) {
    // Long runs keep every failing pair (REPROVE_FUZZ_SAVE=DIR), the bytes a corpus entry is made from.
    const save = process.env['REPROVE_FUZZ_SAVE'];
    if (save) {
      mkdirSync(save, { recursive: true });
      const stem = join(save, `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`);
      writeFileSync(`${stem}.json`, JSON.stringify({ reason: String((e as Error).message).slice(0, 2000), name, a: a.toString('hex'), b: b.toString('hex') }));
    }
    // 1. only a typed error may escape, and only for unreadable inputs (never for hostile bytes).
    if (e instanceof ReproveError) assert.fail(`compare threw ${e.kind}: ${e.describe()}`);
    throw e;
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
}

/** How many generated inputs each property tries: few in `npm test`, many in long runs. */
export function numRuns(defaultRuns: number): number {
  const env = Number(process.env['REPROVE_FUZZ_RUNS']);
  return Number.isFinite(env) && env > 0 ? env : defaultRuns;
}

export function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'reprove-fuzz-'));
}
