// Arch Linux packages built at test time with makepkg (as an unprivileged user:
// makepkg refuses root), compared down to .PKGINFO and .BUILDINFO fields and
// .MTREE entries; plus hand-written metadata files for what makepkg cannot vary.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { diffoscopeJson, find, haveCommand, type JsonNode, makepkg, makepkgSkip, memberPaths, reprove, reproveJson, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(makepkgSkip('bsdtar'));
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;

type Change = { member?: string; field: string; value1?: string; value2?: string };


const changes = (n: JsonNode | undefined) => (n?.['reprove_changes'] ?? []) as Change[];
const sorted = (s: Set<string>) => [...s].sort();

interface Build {
  readme?: string;
  install?: string;
  /** SOURCE_DATE_EPOCH; makepkg uses the current time when unset. */
  epoch?: string;
  ext?: '.pkg.tar.zst' | '.pkg.tar.xz';
}

/** A scratch directory that the unprivileged build user can write to. */
function buildRoot(t: TestContext): string {
  const d = workdir(t);
  chmodSync(d, 0o755);
  for (const sub of ['pkg', 'build', 'home']) {
    mkdirSync(join(d, sub));
    chmodSync(join(d, sub), 0o777);
  }
  return d;
}

/** Builds hello-repro with makepkg into d/out-NAME and returns the package path. */
function buildHello(d: string, name: string, { readme = 'readme one', install = 'echo installed', epoch, ext = '.pkg.tar.zst' }: Build = {}): string {
  const start = join(d, 'pkg');
  writeFileSync(
    join(start, 'PKGBUILD'),
    `pkgname=hello-repro
pkgver=1.0
pkgrel=1
pkgdesc='reprove test package'
arch=('any')
license=('MIT')
install=hello-repro.install
package() {
  install -Dm755 /dev/stdin "$pkgdir/usr/bin/hello-repro" <<'EOF'
#!/bin/sh
echo hello
EOF
  install -Dm644 /dev/stdin "$pkgdir/usr/share/doc/hello-repro/README" <<'EOF'
${readme}
EOF
}
`,
    { mode: 0o644 },
  );
  writeFileSync(join(start, 'hello-repro.install'), `post_install() {\n  ${install}\n}\n`, { mode: 0o644 });
  const out = join(d, `out-${name}`);
  mkdirSync(out);
  chmodSync(out, 0o777);
  const env = [`HOME=${d}/home`, `PKGEXT=${ext}`, `BUILDDIR=${d}/build`, `SRCDEST=${d}/build`];
  if (epoch) env.push(`SOURCE_DATE_EPOCH=${epoch}`);
  return makepkg(start, out, env);
}

test('two builds a second apart: builddate in .PKGINFO and .BUILDINFO, time of every .MTREE entry', { skip }, async (t) => {
  const d = buildRoot(t);
  const a = buildHello(d, 'a');
  await new Promise((r) => setTimeout(r, 1100));
  const b = buildHello(d, 'b');
  const { code, json, stderr } = reproveJson(a, b);
  assert.equal(code, 1, stderr);
  assert.deepEqual(sorted(memberPaths(json)), [
    'hello-repro-1.0-1-any.pkg.tar',
    'hello-repro-1.0-1-any.pkg.tar / .BUILDINFO',
    'hello-repro-1.0-1-any.pkg.tar / .MTREE',
    'hello-repro-1.0-1-any.pkg.tar / .MTREE / .MTREE-content',
    'hello-repro-1.0-1-any.pkg.tar / .PKGINFO',
  ]);

  const pkginfo = find(json, '.PKGINFO')!;
  assert.equal(pkginfo['reprove_format'], 'pkginfo');
  assert.equal(pkginfo['reprove_kind'], 'header');
  assert.deepEqual(changes(pkginfo).map((c) => c.field), ['builddate']);
  assert.match(pkginfo.unified_diff!, /\n-builddate = \d+\n\+builddate = \d+\n/);
  const buildinfo = find(json, '.BUILDINFO')!;
  assert.equal(buildinfo['reprove_format'], 'pkginfo');
  assert.deepEqual(changes(buildinfo).map((c) => c.field), ['builddate']);
  const [date] = changes(buildinfo);
  assert.ok(Number(date!.value2) > Number(date!.value1));

  const mtree = find(json, '.MTREE-content')!;
  assert.equal(mtree['reprove_format'], 'mtree');
  const times = changes(mtree).filter((c) => c.field === 'time');
  for (const member of ['./usr', './usr/bin', './usr/bin/hello-repro', './usr/share/doc/hello-repro/README', './.PKGINFO', './.BUILDINFO', './.INSTALL'])
    assert.ok(times.some((c) => c.member === member && c.value1 === `${date!.value1}.0` && c.value2 === `${date!.value2}.0`), `time of ${member}`);
  // Only the metadata files' digests change: the installed files are the same.
  const digests = changes(mtree).filter((c) => c.field.endsWith('digest'));
  assert.deepEqual([...new Set(digests.map((c) => c.member))].sort(), ['./.BUILDINFO', './.PKGINFO']);
  assert.match(mtree.unified_diff!, /\n-\.\/usr\/bin\/hello-repro type=file mode=755 uid=0 gid=0 size=21 time=\d+\.0 md5digest=/);

  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(a, b))));
});

test('SOURCE_DATE_EPOCH fixed: two builds are bit-identical', { skip }, async (t) => {
  const d = buildRoot(t);
  const a = buildHello(d, 'a', { epoch: '1700000000' });
  await new Promise((r) => setTimeout(r, 1100));
  const b = buildHello(d, 'b', { epoch: '1700000000' });
  const r = reprove(['diff', a, b]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('a changed installed file and .INSTALL: digests in .MTREE, the member diffs, the PKGBUILD hash', { skip }, (t) => {
  const d = buildRoot(t);
  const a = buildHello(d, 'a', { epoch: '1700000000' });
  const b = buildHello(d, 'b', { epoch: '1700000000', readme: 'readme two', install: 'echo installed again' });
  const { code, json, stderr } = reproveJson(a, b);
  assert.equal(code, 1, stderr);
  const mtree = find(json, '.MTREE-content')!;
  const readme = changes(mtree).filter((c) => c.member === './usr/share/doc/hello-repro/README');
  assert.deepEqual(readme.map((c) => c.field).sort(), ['md5digest', 'sha256digest']);
  assert.ok(!changes(mtree).some((c) => c.field === 'time'));
  assert.match(find(json, 'usr/share/doc/hello-repro/README')!.unified_diff!, /^@@ -1 \+1 @@\n-readme one\n\+readme two\n$/);
  const install = find(json, '.INSTALL')!;
  assert.equal(install['reprove_format'], 'text');
  assert.match(install.unified_diff!, /\n- {2}echo installed\n\+ {2}echo installed again\n/);
  assert.deepEqual(changes(find(json, '.BUILDINFO')).map((c) => c.field), ['pkgbuild_sha256sum']);
  assert.equal(find(json, '.PKGINFO'), undefined);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(a, b))));
});

test('.pkg.tar.xz packages with different SOURCE_DATE_EPOCH', { skip }, (t) => {
  const d = buildRoot(t);
  const a = buildHello(d, 'a', { epoch: '1700000000', ext: '.pkg.tar.xz' });
  const b = buildHello(d, 'b', { epoch: '1700000100', ext: '.pkg.tar.xz' });
  const { code, json, stderr } = reproveJson(a, b);
  assert.equal(code, 1, stderr);
  assert.equal(json!['reprove_format'], 'xz');
  assert.deepEqual(changes(find(json, '.PKGINFO')), [{ field: 'builddate', value1: '1700000000', value2: '1700000100' }]);
  assert.ok(changes(find(json, '.MTREE-content')).some((c) => c.member === './usr/bin/hello-repro' && c.field === 'time' && c.value1 === '1700000000.0' && c.value2 === '1700000100.0'));
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(a, b))));
});

// Hand-written metadata, for what one makepkg cannot vary.

function pair(t: TestContext, name: string, text1: string, text2: string): { a: string; b: string } {
  const d = workdir(t);
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, 'b'));
  writeFileSync(join(d, 'a', name), text1);
  writeFileSync(join(d, 'b', name), text2);
  return { a: join(d, 'a', name), b: join(d, 'b', name) };
}

test('.BUILDINFO repeated keys: one change per added or removed value', (t) => {
  const common = 'format = 2\npkgname = foo\npkgver = 1-1\n';
  const { a, b } = pair(
    t,
    '.BUILDINFO',
    `${common}buildenv = !distcc\nbuildenv = color\ninstalled = glibc-2.38-7-x86_64\ninstalled = gcc-13.2.1-3-x86_64\n`,
    `${common}buildenv = !distcc\nbuildenv = !color\ninstalled = glibc-2.38-7-x86_64\ninstalled = gcc-13.2.1-5-x86_64\ninstalled = zlib-1:1.3-2-x86_64\n`,
  );
  const { code, json } = reproveJson(a, b);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'pkginfo');
  assert.deepEqual(changes(json!), [
    { field: 'buildenv', value1: 'color' },
    { field: 'buildenv', value2: '!color' },
    { field: 'installed', value1: 'gcc-13.2.1-3-x86_64' },
    { field: 'installed', value2: 'gcc-13.2.1-5-x86_64' },
    { field: 'installed', value2: 'zlib-1:1.3-2-x86_64' },
  ]);
});

test('.PKGINFO: order-only differences are said; an unreadable line falls back to the text diff', (t) => {
  const head = '# Generated by makepkg 6.0.2\npkgname = foo\n';
  const reordered = pair(t, '.PKGINFO', `${head}depend = a\ndepend = b\n`, `${head}depend = b\ndepend = a\n`);
  const r1 = reproveJson(reordered.a, reordered.b).json!;
  assert.equal(r1['reprove_changes'], undefined);
  assert.deepEqual(r1.comments, ['The fields are the same; their order or formatting differs']);
  assert.match(r1.unified_diff!, /\n-depend = a\n/);

  const broken = pair(t, '.PKGINFO', `${head}size = 1\n`, `${head}size 2\n`);
  const r2 = reproveJson(broken.a, broken.b).json!;
  assert.match(r2.comments![0]!, /^Cannot read as Arch package metadata: Cannot read \S+\.PKGINFO line 3: "size 2" is not "key = value"; showing the text difference$/);
  assert.match(r2.unified_diff!, /\n-size = 1\n\+size 2\n/);
});

test('a file named .PKGINFO that is not makepkg output is plain text', (t) => {
  const { a, b } = pair(t, '.PKGINFO', 'hello\n', 'world\n');
  assert.equal(reproveJson(a, b).json!['reprove_format'], 'text');
});

test('mtree: /set and /unset defaults, hierarchical paths, entries only on one side, order', (t) => {
  const { a, b } = pair(
    t,
    'x.mtree',
    '#mtree\n/set type=file uid=0 gid=0 mode=644\n./a size=1\n/set mode=755\n./b size=2\nsub type=dir\n  c size=3\n..\n',
    '#mtree\n/set type=file uid=0 gid=0 mode=644\n./b size=2 mode=755\n./a size=1\n/unset gid\nsub type=dir gid=0 mode=755\n  c size=3 \\\n link=x\n..\n./d size=4\n',
  );
  const { code, json } = reproveJson(a, b);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'mtree');
  assert.deepEqual(changes(json!), [
    { member: 'sub/c', field: 'mode', value1: '755', value2: '644' },
    { member: 'sub/c', field: 'gid', value1: '0' },
    { member: 'sub/c', field: 'link', value2: 'x' },
    { member: './d', field: 'type', value2: 'file' },
    { member: './d', field: 'mode', value2: '644' },
    { member: './d', field: 'uid', value2: '0' },
    { member: './d', field: 'size', value2: '4' },
    { field: 'order', value1: './a', value2: './b' },
  ]);
  assert.equal(
    json!.unified_diff,
    '@@ -1 +1,2 @@\n-sub/c type=file mode=755 uid=0 gid=0 size=3\n+sub/c type=file mode=644 uid=0 size=3 link=x\n+./d type=file mode=644 uid=0 size=4\n',
  );
  assert.ok(json!.comments!.includes('Entries are in a different order'));
});
