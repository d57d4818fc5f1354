// Debian packages built at test time with dpkg-deb (xz, gzip, zstd), compared
// as ar containers whose tarballs recurse, plus the deb-level checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffoscopeJson, find, haveCommand, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('dpkg-deb') || !haveCommand('ar') ? 'dpkg-deb or ar missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;


const sorted = (s: Set<string>) => [...s].sort();

/** A package tree: control file and one documentation file, every mtime `date`. */
function pkgTree(d: string, name: string, { description = 'a test package', line = 'one', date = '2023-11-14' } = {}): void {
  sh(
    d,
    `mkdir -p ${name}/DEBIAN ${name}/usr/share/doc/foo && printf 'Package: foo\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: X <x@example.org>\\nDescription: ${description}\\n' > ${name}/DEBIAN/control && printf 'hello\\n${line}\\n' > ${name}/usr/share/doc/foo/README && find ${name} -exec touch -d ${date} {} +`,
  );
}

function build(d: string, tree: string, out: string, compression: string, epoch = '1700000000'): void {
  sh(d, `dpkg-deb --root-owner-group -Z${compression} --build ${tree} ${out} >/dev/null`, { SOURCE_DATE_EPOCH: epoch });
}

const EXT: Record<string, string> = { xz: 'xz', gzip: 'gz', zstd: 'zst' };

for (const compression of ['xz', 'gzip', 'zstd']) {
  test(`-Z${compression}: a changed file and a changed control field, each with its line diff`, { skip }, (t) => {
    const d = workdir(t);
    pkgTree(d, 'a', { description: 'first', line: 'one' });
    pkgTree(d, 'b', { description: 'second', line: 'two' });
    build(d, 'a', 'a.deb', compression);
    build(d, 'b', 'b.deb', compression);
    const { code, json, stderr } = reproveJson(`${d}/a.deb`, `${d}/b.deb`);
    assert.equal(code, 1, stderr);
    const ext = EXT[compression]!;
    assert.deepEqual(sorted(memberPaths(json)), [
      `control.tar.${ext}`,
      `control.tar.${ext} / control.tar`,
      `control.tar.${ext} / control.tar / ./control`,
      `data.tar.${ext}`,
      `data.tar.${ext} / data.tar`,
      `data.tar.${ext} / data.tar / ./usr/share/doc/foo/README`,
    ]);
    assert.match(find(json, './control')!.unified_diff!, /\n-Description: first\n\+Description: second\n/);
    assert.match(find(json, './usr/share/doc/foo/README')!.unified_diff!, /^@@ -1,2 \+1,2 @@\n hello\n-one\n\+two\n$/);
    assert.equal(json!['reprove_format'], 'deb');
    if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.deb`, `${d}/b.deb`))));
  });
}

test('packages differing only in mtimes: the ar and tar file lists, no member content', { skip }, (t) => {
  const d = workdir(t);
  pkgTree(d, 'a', { date: '2023-11-14' });
  pkgTree(d, 'b', { date: '2020-09-13' });
  build(d, 'a', 'a.deb', 'xz', '1700000000');
  build(d, 'b', 'b.deb', 'xz', '1600000000');
  const { code, json } = reproveJson(`${d}/a.deb`, `${d}/b.deb`);
  assert.equal(code, 1);
  assert.deepEqual(sorted(memberPaths(json)), ['control.tar.xz', 'control.tar.xz / control.tar', 'data.tar.xz', 'data.tar.xz / data.tar']);
  const top = json!.details!.find((c) => c.source1 === 'file list')!;
  assert.match(top.unified_diff!, /\n-.* 2023-11-14 22:13:20 debian-binary .*\n/);
  assert.match(top.unified_diff!, /\n\+.* 2020-09-13 12:26:40 data\.tar\.xz /);
  assert.match(find(find(json, 'data.tar.xz'), 'file list')!.unified_diff!, /\n\+.* 2020-09-13 00:00:00 \.\/usr\/share\/doc\/foo\/README\n/);
  assert.equal(json!.comments, undefined);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.deb`, `${d}/b.deb`))));
});

test('member order, an unknown member and the debian-binary version are reported', { skip }, (t) => {
  const d = workdir(t);
  pkgTree(d, 'a');
  build(d, 'a', 'a.deb', 'xz');
  sh(d, `mkdir x && cd x && ar x ../a.deb && ar rcD ../swapped.deb debian-binary data.tar.xz control.tar.xz && printf 'junk\\n' > extra && ar rcD ../extra.deb debian-binary control.tar.xz data.tar.xz extra && printf '2.1\\n' > debian-binary && ar rcD ../v21.deb debian-binary control.tar.xz data.tar.xz`);
  const swapped = reproveJson(`${d}/a.deb`, `${d}/swapped.deb`).json!;
  assert.match(swapped.comments!.join('\n'), /swapped\.deb: members are debian-binary, data\.tar\.xz, control\.tar\.xz; dpkg writes debian-binary, control\.tar\.\*, data\.tar\.\* in that order/);
  assert.ok(find(swapped, 'file list')!.comments!.includes('Members are in a different order'));
  const extra = reproveJson(`${d}/a.deb`, `${d}/extra.deb`).json!;
  assert.match(extra.comments!.join('\n'), /extra\.deb: members are debian-binary, control\.tar\.xz, data\.tar\.xz, extra;/);
  const v21 = reproveJson(`${d}/a.deb`, `${d}/v21.deb`);
  assert.equal(v21.code, 1);
  const header = find(v21.json, 'debian-binary header')!;
  assert.equal(header.unified_diff, '@@ -1 +1 @@\n-version: 2.0\n+version: 2.1\n');
  assert.deepEqual(header['reprove_changes'], [{ field: 'version', value1: '2.0', value2: '2.1' }]);
  assert.match(find(v21.json, 'debian-binary')!.unified_diff!, /-2\.0\n\+2\.1\n/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(v21.json)), sorted(memberPaths(diffoscopeJson(`${d}/a.deb`, `${d}/v21.deb`))));
});

test('a change of compression pairs control.tar.xz with control.tar.gz', { skip }, (t) => {
  const d = workdir(t);
  pkgTree(d, 'a');
  build(d, 'a', 'a.deb', 'xz');
  build(d, 'a', 'b.deb', 'gzip');
  const { code, json } = reproveJson(`${d}/a.deb`, `${d}/b.deb`);
  assert.equal(code, 1);
  const pair = json!.details!.find((c) => c.source1 === 'control.tar.xz')!;
  assert.equal(pair.source2, 'control.tar.gz');
  assert.ok(json!.details!.some((c) => c.source1 === 'data.tar.xz' && c.source2 === 'data.tar.gz'));
});

test('a truncated .deb gives a clear comment and no crash', { skip }, (t) => {
  const d = workdir(t);
  pkgTree(d, 'a');
  build(d, 'a', 'a.deb', 'xz');
  sh(d, 'head -c 300 a.deb > cut.deb');
  const { code, json, stderr } = reproveJson(`${d}/a.deb`, `${d}/cut.deb`);
  assert.equal(code, 1);
  assert.doesNotMatch(stderr, /\n\s+at /);
  assert.match(json!.comments!.join('\n'), /Cannot compare as deb: Cannot read ar member "control\.tar\.xz" at offset \d+ of \S*cut\.deb: its \d+ bytes run past the end/);
});
