// `reprove check` as a user runs it, on packages made at test time with the real
// tools: an Arch package built with makepkg and its PKGBUILD directory; an SRPM and
// RPM built with rpmbuild with a koji-shaped buildroot listing; a Debian
// .buildinfo naming a version the archive does not have (the full Debian rebuild
// is test/debian.test.ts's: a chroot costs minutes). Verdicts, environment, report
// files and exit codes; hostile inputs end with exit 2 and a clear message, and
// nothing runs. Then the strict RPM verdict through verifySet and `reprove verify`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifySet } from '../src/index.js';
import { STRICT_RPM_VERDICT } from '../src/verdict/rpm-strict.js';
import { haveCommand, makepkgSkip, reprove, sh, skipOutsideCi, workdir } from './helpers.js';
import { buildrootListing, EMBEDS_PATH_PKGBUILD, HOST, publishArch, publishRpm, REPRODUCIBLE_PKGBUILD, rpmBuild, SDE, signRpm } from './rebuild-fixtures.js';

const archSkip = skipOutsideCi(makepkgSkip('bsdtar'));
const rpmSkip = skipOutsideCi(!haveCommand('rpmbuild') || !haveCommand('rpm') ? 'rpmbuild or rpm missing' : false);
const signSkip = skipOutsideCi(rpmSkip || (!haveCommand('gpg') || !haveCommand('rpmsign') ? 'gpg or rpmsign missing' : false));

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown> & { verdict: string; environment?: { reproduced: string[]; notReproduced: string[] }; artifacts?: { name: string; verdict: string; strict?: { differingFields: string[] } }[] };

test('reprove check --help, and arguments that name no check: exit 2 with what to give', (t) => {
  const help = reprove(['check', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /reprove check hello_2\.12-1_amd64\.buildinfo/);
  assert.match(help.stdout, /--pkgbuild DIR/);
  assert.match(help.stdout, /--buildroot LISTING\.json/);
  const d = workdir(t);
  writeFileSync(join(d, 'x-1-1-any.pkg.tar.zst'), 'not a package');
  writeFileSync(join(d, 'a.src.rpm'), 'x');
  for (const [args, re] of [
    [[], /takes a \.buildinfo, a \.pkg\.tar\.\* with --pkgbuild/],
    [[join(d, 'x-1-1-any.pkg.tar.zst')], /give the PKGBUILD with --pkgbuild DIR or with --pkgbuild-git URL --ref REF/],
    [[join(d, 'x-1-1-any.pkg.tar.zst'), '--pkgbuild-git', 'https://example.org/x.git'], /--pkgbuild-git needs --ref/],
    [['--buildroot', join(d, 'l.json'), join(d, 'a.rpm'), join(d, 'b.rpm')], /the first argument must be the SRPM/],
    [['--buildroot', join(d, 'l.json'), join(d, 'a.src.rpm'), join(d, 'b.rpm')], /Cannot read the input .*b\.rpm: no such file/],
    [[join(d, 'x-1-1-any.pkg.tar.zst'), '--pkgbuild', d, '--suite', 'bookworm'], /--suite is for a debian package/],
    [[join(d, 'x-1-1-any.pkg.tar.zst'), '--pkgbuild', d], /the PKGBUILD .*: no such file/],
  ] as const) {
    const r = reprove(['check', ...args], d);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.deepEqual(readdirSync(d).filter((f) => f.startsWith('reprove-check-')), [], 'nothing was written');
});

test('reprove check PKG --pkgbuild DIR: an Arch package rebuilt at its recorded builddir is BIT_IDENTICAL (exit 0); the report says the package set was not recreated', { skip: archSkip }, (t) => {
  const { pkg, pkgbuildDir, area } = publishArch(t, REPRODUCIBLE_PKGBUILD);
  const cwd = workdir(t);
  const r = reprove(['check', pkg, '--pkgbuild', pkgbuildDir], cwd);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = join(cwd, 'reprove-check-hello-check-1.0-1-any');
  assert.match(r.stdout, /^BIT_IDENTICAL +hello-check-1\.0-1-any\.pkg\.tar\.zst/m);
  assert.match(r.stdout, /^environment recreated:\n(  \+ .*\n)*  \+ builddir /m);
  assert.match(r.stdout, /^environment not recreated:\n(  - .*\n)*  - packages: /m);
  assert.match(r.stdout, /^verdict: BIT_IDENTICAL$/m);
  assert.equal(r.stderr, '', 'no progress lines when stderr is not a terminal');
  const v = readJson(join(out, 'verdict.json'));
  assert.equal(v.verdict, 'BIT_IDENTICAL');
  assert.equal(v['backend'], 'archlinux');
  assert.ok(v.environment!.reproduced.includes(`builddir ${area}/build`), v.environment!.reproduced.join('\n'));
  assert.deepEqual(readdirSync(join(out, 'rebuilt')), ['hello-check-1.0-1-any.pkg.tar.zst']);
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /makepkg/);
  assert.ok(!existsSync(join(out, 'report.html')), 'nothing differs: no difference report');
  assert.equal(existsSync(area), false, 'the recorded directories were removed after the build');
});

test('reprove check of an Arch package that embeds its build path, the recorded builddir taken: UNREPRODUCIBLE (exit 1) with the cause and its fix, HTML/JSON reports written, --keep keeps the tree', { skip: archSkip }, (t) => {
  const { pkg, pkgbuildDir } = publishArch(t, EMBEDS_PATH_PKGBUILD, { keep: true });
  const d = workdir(t);
  const out = join(d, 'out');
  const r = reprove(['check', pkg, '--pkgbuild', pkgbuildDir, '--out', out, '--keep']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^UNREPRODUCIBLE +hello-check-1\.0-1-any\.pkg\.tar\.zst/m);
  assert.match(r.stdout, /cause: captures_build_path \([a-z]+\) — fix: /);
  assert.match(r.stdout, /  - builddir .*already exists/);
  const kept = /^build tree kept in (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(kept && existsSync(kept), r.stdout);
  rmSync(kept, { recursive: true, force: true });
  for (const f of ['verdict.json', 'report.json', 'report.html', 'build.log']) assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<html/i);
  const v = readJson(join(out, 'verdict.json'));
  assert.equal(v.verdict, 'UNREPRODUCIBLE');
  assert.ok((v['causes'] as { id: string }[]).some((c) => c.id === 'captures_build_path'));
});

test('reprove check of an Arch package with a hostile .BUILDINFO: exit 2 naming the field, no directory made, nothing built', { skip: archSkip }, (t) => {
  const d = workdir(t);
  const marker = join(d, 'ran');
  const target = mkdtempSync(join(tmpdir(), 'reprove-check-hostile-'));
  rmSync(target, { recursive: true });
  const pkgbuild = join(d, 'pkgbuild');
  mkdirSync(pkgbuild);
  writeFileSync(join(pkgbuild, 'PKGBUILD'), `pkgname=foo\npkgver=1\npkgrel=1\narch=(any)\npackage() { touch ${marker}; }\n`);
  const dir = join(d, 'pkg');
  mkdirSync(dir);
  writeFileSync(
    join(dir, '.BUILDINFO'),
    `format = 2\npkgname = foo\npkgbase = foo\npkgver = 1-1\npkgarch = any\npkgbuild_sha256sum = ${'a'.repeat(64)}\npackager = X <x@example.org>\nbuilddate = 1700000000\nbuilddir = ${target}/../${target.slice(target.lastIndexOf('/') + 1)}\nstartdir = /startdir\nbuildtool = makepkg\nbuildtoolver = 7.0.0\n`,
  );
  writeFileSync(join(dir, '.PKGINFO'), 'pkgname = foo\npkgver = 1-1\n');
  sh(dir, 'bsdtar --zstd -cf ../foo-1-1-any.pkg.tar.zst .BUILDINFO .PKGINFO');
  const r = reprove(['check', join(d, 'foo-1-1-any.pkg.tar.zst'), '--pkgbuild', pkgbuild, '--out', join(d, 'out')]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /^ERROR \(infrastructure\): .*field builddir/m);
  assert.equal(existsSync(marker), false);
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(join(d, 'out', 'rebuilt')), []);
  assert.doesNotMatch(readFileSync(join(d, 'out', 'build.log'), 'utf8'), /makepkg in /);
});

test(`reprove check --buildroot: an SRPM and its signed RPM, BUILDTIME and _buildhost reproduced, are ${STRICT_RPM_VERDICT} (exit 0)`, { skip: signSkip }, (t) => {
  const d = workdir(t);
  const pub = publishRpm(d, true);
  signRpm(d, pub.rpm, 'Published');
  const listing = join(d, 'hello.buildroot.json');
  writeFileSync(listing, JSON.stringify(buildrootListing(d)));
  const out = join(d, 'out');
  const r = reprove(['check', '--buildroot', listing, pub.srpm, pub.rpm, '--no-mock', '--out', out]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`^${STRICT_RPM_VERDICT} +hello-1\\.0-1\\.fc41\\.noarch\\.rpm`, 'm'));
  assert.match(r.stdout, /  - buildroot: not recreated \(mock is turned off\)/);
  assert.match(r.stdout, new RegExp(`  \\+ %_buildhost "${HOST.replace(/\./g, '\\.')}"`));
  const v = readJson(join(out, 'verdict.json'));
  assert.equal(v.verdict, STRICT_RPM_VERDICT);
  assert.equal(v['backend'], 'fedora');
  // The signature header is what differs: the reports show it.
  assert.ok(existsSync(join(out, 'report.html')));
});

test('reprove check --buildroot: an RPM whose BUILDTIME cannot be reproduced is REPRODUCIBLE under the policy (exit 0) and says BUILDTIME kept it from being strict', { skip: rpmSkip }, async (t) => {
  const d = workdir(t);
  const pub = publishRpm(d, false);
  const listing = join(d, 'hello.buildroot.json');
  writeFileSync(listing, JSON.stringify({ build: { name: 'hello', version: '1.0', release: '1.fc41', defines: { _buildhost: HOST } }, buildroot: buildrootListing(d) }));
  await new Promise((r) => setTimeout(r, 1100)); // a second later: another BUILDTIME
  const out = join(d, 'out');
  const r = reprove(['check', '--buildroot', listing, pub.srpm, pub.rpm, '--no-mock', '--out', out]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^REPRODUCIBLE +hello-1\.0-1\.fc41\.noarch\.rpm/m);
  assert.match(r.stdout, new RegExp(`not ${STRICT_RPM_VERDICT}: differs in [A-Z, ]*BUILDTIME`));
  const v = readJson(join(out, 'verdict.json'));
  assert.equal(v.verdict, 'REPRODUCIBLE');
  assert.ok(v.artifacts![0]!.strict!.differingFields.includes('BUILDTIME'), JSON.stringify(v.artifacts));
});

test('reprove check --buildroot with a hostile listing: exit 2 naming the field, nothing run', { skip: rpmSkip }, (t) => {
  const d = workdir(t);
  const pub = publishRpm(d, true);
  const listing = join(d, 'hostile.json');
  writeFileSync(listing, JSON.stringify([{ rpm_id: 1, name: 'gcc', version: `$(touch ${d}/PWNED)`, release: '1', epoch: null, arch: 'noarch', build_id: 7 }]));
  const out = join(d, 'out');
  const r = reprove(['check', '--buildroot', listing, pub.srpm, pub.rpm, '--no-mock', '--out', out]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /^ERROR \(infrastructure\): .*field buildroot\[0\]\.version/m);
  assert.equal(existsSync(join(d, 'PWNED')), false);
  assert.deepEqual(readdirSync(join(out, 'rebuilt')), []);
  assert.doesNotMatch(readFileSync(join(out, 'build.log'), 'utf8'), /rpmbuild/);
});

// ---- Debian: the cheap cases (the full rebuild needs a chroot: test/debian.test.ts)

const BUILDINFO = (extra: { path?: string; version?: string } = {}) => `Format: 1.0
Source: hello
Binary: hello
Architecture: amd64
Version: ${extra.version ?? '99.0-1'}
Checksums-Sha256:
 ${'0'.repeat(64)} 1234 hello_${extra.version ?? '99.0-1'}_amd64.deb
Build-Origin: Debian
Build-Architecture: amd64
Build-Date: Tue, 14 Nov 2023 22:13:20 +0000
Build-Path: ${extra.path ?? '/build/reproducible-path/hello-99.0'}
Installed-Build-Depends:
 make (= 4.3-4.1),
 dpkg-dev (= 1.21.22)
Environment:
 DEB_BUILD_OPTIONS="parallel=2"
 LANG="C.UTF-8"
 SOURCE_DATE_EPOCH="1700000000"
`;

function debianArchiveReachable(): boolean {
  try {
    execFileSync(process.execPath, ['-e', "fetch('http://deb.debian.org/debian/dists/bookworm/Release',{method:'HEAD',signal:AbortSignal.timeout(15000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

test('reprove check of a hostile .buildinfo (a Build-Path with "..", shell metacharacters in a version): exit 2 naming the field, nothing fetched', (t) => {
  const d = workdir(t);
  for (const [name, text, field] of [
    ['path.buildinfo', BUILDINFO({ path: '/build/../etc' }), 'Build-Path'],
    ['version.buildinfo', BUILDINFO().replace('Version: 99.0-1', 'Version: 1.0$(id)-1'), 'Version'],
  ] as const) {
    writeFileSync(join(d, name), text);
    const out = join(d, `out-${name}`);
    const r = reprove(['check', join(d, name), '--out', out, '--archive', 'http://127.0.0.1:9/debian/']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ERROR \\(infrastructure\\): .*field ${field}`, 'm'));
    assert.doesNotMatch(readFileSync(join(out, 'build.log'), 'utf8'), /apt-get/);
  }
});

test('reprove check of a .buildinfo whose .debs are neither beside it nor in the archive: ERROR (exit 2) naming name=version, in seconds', { skip: !haveCommand('apt-get') ? 'apt-get missing' : !debianArchiveReachable() ? 'deb.debian.org is not reachable' : false, timeout: 5 * 60_000 }, (t) => {
  const d = workdir(t);
  const bi = join(d, 'hello_99.0-1_amd64.buildinfo');
  writeFileSync(bi, BUILDINFO());
  const r = reprove(['check', bi, '--archive', 'http://deb.debian.org/debian/', '--suite', 'bookworm'], d);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /^ERROR \(infrastructure\): Cannot fetch the published \.debs of hello 99\.0-1: it is not beside the \.buildinfo and not in http:\/\/deb\.debian\.org\/debian\/ \(bookworm\): hello=99\.0-1$/m);
  const out = join(d, 'reprove-check-hello_99.0-1_amd64');
  assert.equal(readJson(join(out, 'verdict.json')).verdict, 'ERROR');
  assert.match(readFileSync(join(out, 'build.log'), 'utf8'), /apt-get update/);
  // A .deb beside it whose digest is not the recorded one is refused before anything is fetched.
  writeFileSync(join(d, 'hello_99.0-1_amd64.deb'), 'not the published file');
  const wrong = reprove(['check', bi, '--archive', 'http://deb.debian.org/debian/', '--suite', 'bookworm'], d);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stdout, /hello_99\.0-1_amd64\.deb: its SHA-256 is [0-9a-f]{64}, the \.buildinfo records 0{64} \(not the published file\)/);
});

// ---- the strict RPM verdict through verifySet and `reprove verify`

test(`the strict RPM verdict: rebuilt with the same BUILDTIME and buildhost but signed with another key, ${STRICT_RPM_VERDICT} (verifySet and reprove verify, exit 0); with another BUILDTIME, REPRODUCIBLE with strict.differingFields naming BUILDTIME`, { skip: signSkip }, async (t) => {
  const d = workdir(t);
  const defines = { _buildhost: HOST, clamp_mtime_to_source_date_epoch: '1', use_source_date_epoch_as_buildtime: '1' };
  const pub = rpmBuild(join(d, 'pub'), 'hello', '1.0', '1.fc41', defines, { SOURCE_DATE_EPOCH: String(SDE) });
  // Rebuilt from the published SRPM, a few seconds later (so only what the defines and SOURCE_DATE_EPOCH fix can agree).
  await new Promise((r) => setTimeout(r, 1100));
  const same = rpmBuild(join(d, 'same'), 'hello', '1.0', '1.fc41', defines, { SOURCE_DATE_EPOCH: String(SDE) }, { fromSrpm: pub.srpm });
  // BUILDTIME left to the clock (the file mtimes still clamped to SOURCE_DATE_EPOCH).
  const later = rpmBuild(join(d, 'later'), 'hello', '1.0', '1.fc41', { _buildhost: HOST, clamp_mtime_to_source_date_epoch: '1' }, { SOURCE_DATE_EPOCH: String(SDE) }, { fromSrpm: pub.srpm });
  signRpm(d, pub.rpm, 'Published');
  signRpm(d, same.rpm, 'Rebuilder');
  assert.notEqual(sh('/', `rpm -qp --qf '%{RSAHEADER:pgpsig}' '${pub.rpm}'`), sh('/', `rpm -qp --qf '%{RSAHEADER:pgpsig}' '${same.rpm}'`));

  const strict = await verifySet([pub.rpm], [same.rpm], { tmpDir: d });
  assert.equal(strict.verdict, STRICT_RPM_VERDICT, JSON.stringify(strict.artifacts[0]!.strict));
  assert.equal(strict.artifacts[0]!.verdict, STRICT_RPM_VERDICT);
  assert.equal(strict.artifacts[0]!.strict, undefined);
  assert.deepEqual(readdirSync(d).filter((f) => f.startsWith('strict-')), [], 'the transplanted copy is removed');

  const loose = await verifySet([pub.rpm], [later.rpm], { tmpDir: d });
  assert.equal(loose.verdict, 'REPRODUCIBLE');
  assert.ok(loose.artifacts[0]!.strict?.differingFields.includes('BUILDTIME'), JSON.stringify(loose.artifacts[0]!.strict));
  assert.equal(loose.artifacts[0]!.strict?.identical, false);

  const v = reprove(['verify', '--json', '-', pub.rpm, same.rpm]);
  assert.equal(v.code, 0, v.stderr);
  assert.equal((JSON.parse(v.stdout) as { verdict: string }).verdict, STRICT_RPM_VERDICT);
  const text = reprove(['verify', pub.rpm, later.rpm]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^REPRODUCIBLE +hello/m);
  assert.match(text.stdout, new RegExp(`not ${STRICT_RPM_VERDICT}: differs in [A-Z, ]*BUILDTIME`));
  const json = JSON.parse(reprove(['verify', '--json', '-', pub.rpm, later.rpm]).stdout) as { artifacts: { strict?: { identical: boolean; differingFields: string[] } }[] };
  assert.equal(json.artifacts[0]!.strict?.identical, false);
  assert.ok(json.artifacts[0]!.strict?.differingFields.includes('BUILDTIME'));
});
