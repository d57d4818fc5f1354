// Debian package metadata inside .debs built at test time with dpkg-deb: control
// fields compared field by field, md5sums per path and by line order,
// maintainer scripts as text; plus deb822 texts (.dsc, source control) directly.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { diffoscopeJson, find, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('dpkg-deb') || !haveCommand('md5sum') ? 'dpkg-deb or md5sum missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;

type Change = { member?: string; field: string; value1?: string; value2?: string };


const changes = (n: JsonNode | undefined) => (n?.['reprove_changes'] ?? []) as Change[];
const sorted = (s: Set<string>) => [...s].sort();

/** diffoscope nests a "Files differ" node named like its md5sums parent ("./md5sums / ./md5sums"); that is not a member. */
function diffoscopePaths(a: string, b: string): string[] {
  return sorted(memberPaths(diffoscopeJson(a, b))).filter((p) => {
    const parts = p.split(' / ');
    return parts.length < 2 || parts[parts.length - 1] !== parts[parts.length - 2];
  });
}

interface Tree {
  version?: string;
  depends?: string;
  readme?: string;
  postinst?: string;
  /** Order of the md5sums lines. */
  md5order?: string[];
}

function tree(d: string, name: string, { version = '1.0', depends = 'libc6 (>= 2.3), bar', readme = 'hello', postinst = 'echo configured', md5order = ['usr/bin/foo', 'usr/share/doc/foo/README'] }: Tree = {}): void {
  const root = join(d, name);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/share/doc/foo'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/foo'), '#!/bin/sh\necho foo\n', { mode: 0o755 });
  writeFileSync(join(root, 'usr/share/doc/foo/README'), `${readme}\n`);
  writeFileSync(
    join(root, 'DEBIAN/control'),
    `Package: foo\nVersion: ${version}\nArchitecture: all\nMaintainer: X <x@example.org>\nDepends: ${depends}\nDescription: a test package\n longer text\n .\n more\n`,
  );
  writeFileSync(join(root, 'DEBIAN/postinst'), `#!/bin/sh\nset -e\n${postinst}\n`, { mode: 0o755 });
  sh(root, `md5sum ${md5order.join(' ')} > DEBIAN/md5sums && find . -exec touch -d 2023-11-14 {} +`);
  sh(d, `dpkg-deb --root-owner-group -Zxz --build ${name} ${name}.deb >/dev/null`, { SOURCE_DATE_EPOCH: '1700000000' });
}

test('control fields, md5sums digests and order, postinst text: each shown where it is', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 'a');
  tree(d, 'b', { version: '1.1', depends: 'libc6 (>= 2.4), bar, baz', readme: 'two', postinst: 'echo configured again', md5order: ['usr/share/doc/foo/README', 'usr/bin/foo'] });
  const a = join(d, 'a.deb');
  const b = join(d, 'b.deb');
  const { code, json, stderr } = reproveJson(a, b);
  assert.equal(code, 1, stderr);
  assert.deepEqual(sorted(memberPaths(json)), [
    'control.tar.xz',
    'control.tar.xz / control.tar',
    'control.tar.xz / control.tar / ./control',
    'control.tar.xz / control.tar / ./md5sums',
    'control.tar.xz / control.tar / ./postinst',
    'data.tar.xz',
    'data.tar.xz / data.tar',
    'data.tar.xz / data.tar / ./usr/share/doc/foo/README',
  ]);

  const control = find(json, './control')!;
  assert.equal(control['reprove_format'], 'debian-control');
  assert.equal(control['reprove_kind'], 'header');
  assert.deepEqual(changes(control), [
    { field: 'Version', value1: '1.0', value2: '1.1' },
    { field: 'Depends', value1: 'libc6 (>= 2.3), bar', value2: 'libc6 (>= 2.4), bar, baz' },
  ]);
  assert.match(control.unified_diff!, /\n-Version: 1\.0\n\+Version: 1\.1\n/);

  const md5 = find(json, './md5sums')!;
  assert.equal(md5['reprove_format'], 'md5sums');
  const readmeMd5 = sh(d, 'md5sum < a/usr/share/doc/foo/README; md5sum < b/usr/share/doc/foo/README').split('\n').map((l) => l.slice(0, 32));
  assert.deepEqual(changes(md5), [
    { member: 'usr/share/doc/foo/README', field: 'md5', value1: readmeMd5[0], value2: readmeMd5[1] },
    { field: 'order', value1: 'usr/bin/foo', value2: 'usr/share/doc/foo/README' },
  ]);
  assert.deepEqual(md5.comments, ['Lines are in a different order']);
  // Sorted by path, so the changed digest is one -/+ pair despite the reordering.
  assert.match(md5.unified_diff!, /^@@ -1,2 \+1,2 @@\n [0-9a-f]{32} {2}usr\/bin\/foo\n-[0-9a-f]{32} {2}usr\/share\/doc\/foo\/README\n\+[0-9a-f]{32} {2}usr\/share\/doc\/foo\/README\n$/);
  assert.equal(find(md5, 'line order')!.unified_diff, '@@ -1,2 +1,2 @@\n-usr/bin/foo\n usr/share/doc/foo/README\n+usr/bin/foo\n');

  const postinst = find(json, './postinst')!;
  assert.equal(postinst['reprove_format'], 'text');
  assert.match(postinst.unified_diff!, /\n-echo configured\n\+echo configured again\n$/);

  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), diffoscopePaths(a, b));
});

test('md5sums in another order only: said, with the raw diff and the line order', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 'a');
  tree(d, 'b', { md5order: ['usr/share/doc/foo/README', 'usr/bin/foo'] });
  const a = join(d, 'a.deb');
  const b = join(d, 'b.deb');
  const { code, json } = reproveJson(a, b);
  assert.equal(code, 1);
  const md5 = find(json, './md5sums')!;
  assert.deepEqual(changes(md5), [{ field: 'order', value1: 'usr/bin/foo', value2: 'usr/share/doc/foo/README' }]);
  assert.deepEqual(md5.comments, ['Lines are in a different order']);
  assert.match(md5.unified_diff!, /^@@ -1,2 \+1,2 @@\n-[0-9a-f]{32} {2}usr\/bin\/foo\n [0-9a-f]{32} {2}usr\/share\/doc\/foo\/README\n\+[0-9a-f]{32} {2}usr\/bin\/foo\n$/);
  assert.ok(find(md5, 'line order'));
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), diffoscopePaths(a, b));
});

function pair(t: TestContext, name: string, text1: string, text2: string): { a: string; b: string } {
  const d = workdir(t);
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, 'b'));
  writeFileSync(join(d, 'a', name), text1);
  writeFileSync(join(d, 'b', name), text2);
  return { a: join(d, 'a', name), b: join(d, 'b', name) };
}

test('a clearsigned .dsc: fields with continuation lines, the signature', (t) => {
  const dsc = (version: string, sum: string, sig: string) =>
    `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nFormat: 3.0 (quilt)\nSource: foo\nVersion: ${version}\nChecksums-Sha256:\n ${sum} 100 foo_${version}.orig.tar.xz\n\n-----BEGIN PGP SIGNATURE-----\n\n${sig}\n-----END PGP SIGNATURE-----\n`;
  const { a, b } = pair(t, 'foo.dsc', dsc('1.0-1', 'a'.repeat(64), 'AAAA'), dsc('1.0-2', 'b'.repeat(64), 'BBBB'));
  const { code, json } = reproveJson(a, b);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'debian-control');
  assert.deepEqual(
    changes(json!).map((c) => c.field),
    ['Version', 'Checksums-Sha256', 'PGP signature'],
  );
  assert.equal(changes(json!)[1]!.value2, `\n ${'b'.repeat(64)} 100 foo_1.0-2.orig.tar.xz`);
});

test('a source control file: paragraphs named by their first field; reordered Depends said', (t) => {
  const src = (dep: string, extra: string) =>
    `Source: foo\nMaintainer: X <x@example.org>\n\nPackage: foo-bin\nArchitecture: any\nDepends: ${dep}\n\nPackage: foo-doc\nArchitecture: all\n${extra}`;
  const { a, b } = pair(t, 'control', src('a, b', ''), src('b, a', '\nPackage: foo-extra\nArchitecture: all\n'));
  const { json } = reproveJson(a, b);
  assert.deepEqual(changes(json!), [
    { member: 'Package: foo-bin', field: 'Depends', value1: 'a, b', value2: 'b, a' },
    { member: 'Package: foo-extra', field: 'Package', value2: 'foo-extra' },
    { member: 'Package: foo-extra', field: 'Architecture', value2: 'all' },
  ]);
  assert.ok(json!.comments!.includes('Depends: ordering differences only'));
});

test('md5sums that do not parse fall back to the text diff; a file named control that is not deb822 is text', (t) => {
  const bad = pair(t, 'md5sums', `${'0'.repeat(32)}  a\n`, `${'0'.repeat(32)}  a\nnot a line\n`);
  const r = reproveJson(bad.a, bad.b).json!;
  assert.match(r.comments![0]!, /^Cannot read as md5sums: Cannot read \S+md5sums line 2: "not a line" is not "md5-digest {2}path"; showing the text difference$/);
  assert.match(r.unified_diff!, /\+not a line\n/);
  const text = pair(t, 'control', 'hello\n', 'world\n');
  assert.equal(reproveJson(text.a, text.b).json!['reprove_format'], 'text');
});
