// The archlinux backend on real packages: built with makepkg at test time (as
// nobody when root: makepkg refuses root), their .BUILDINFO parsed with every
// installed package resolved to its archive URL, rebuilt with the host's makepkg
// (this host has no pacman: the package set is not recreated, and the result
// says so) and judged by the engine. Hostile .BUILDINFO files are refused
// before anything runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { verifySet } from '../src/index.js';
import { archBackend, rebuildArch } from '../src/rebuild/backends/arch.js';
import { archBuildEnv, parseArchBuildInfo, readArchBuildInfo } from '../src/rebuild/buildinfo/arch.js';
import { BuildInfoError } from '../src/rebuild/buildinfo/build-env.js';
import { LogSink } from '../src/rebuild/log-sink.js';
import { fetchVerified } from '../src/worker/fetch.js';
import type { ClaimedJob } from '../src/api/schemas.js';
import { makepkgSkip, sh, skipOutsideCi, workdir } from './helpers.js';
import { claimedJob, EMBEDS_PATH_PKGBUILD, publishArch, REPRODUCIBLE_PKGBUILD } from './rebuild-fixtures.js';

const skip = skipOutsideCi(makepkgSkip('bsdtar'));

function job(recipe: unknown, extra: Partial<ClaimedJob>): ClaimedJob {
  return claimedJob(recipe, { jobId: 9, leaseToken: 'lease-9', distribution: 'archlinux', suite: 'core', name: 'x', version: '1', backend: 'archlinux', ...extra });
}
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function rebuild(t: TestContext, published: string, pkgbuild: Parameters<typeof rebuildArch>[1]['pkgbuild']) {
  const d = workdir(t);
  for (const sub of ['out', 'work']) mkdirSync(join(d, sub));
  const log = new LogSink(join(d, 'build.log'), 1 << 20);
  const r = await rebuildArch(published, { pkgbuild, outDir: join(d, 'out'), workDir: join(d, 'work'), log, signal: new AbortController().signal, limits: { timeoutMs: 120_000 } });
  await log.close();
  return { ...r, out: join(d, 'out'), log: readFileSync(join(d, 'build.log'), 'utf8') };
}

test("a package's .BUILDINFO lists every installed package with the archive URL it would be fetched from", { skip }, async (t) => {
  const { pkg, pkgbuildDir, area } = publishArch(t, REPRODUCIBLE_PKGBUILD, { pacman: true });
  const info = await readArchBuildInfo(pkg);
  assert.equal(info.pkgname, 'hello-check');
  assert.equal(info.pkgbase, 'hello-check');
  assert.equal(info.pkgver, '1.0-1');
  assert.equal(info.pkgarch, 'any');
  assert.equal(info.packager, 'Published Builder <builder@example.org>');
  assert.equal(info.builddir, `${area}/build`);
  assert.equal(info.startdir, `${area}/start`);
  assert.equal(info.buildtool, 'makepkg');
  assert.match(info.buildtoolver!, /^\d+\.\d+/);
  assert.equal(info.pkgbuild_sha256sum, createHash('sha256').update(REPRODUCIBLE_PKGBUILD).digest('hex'));
  assert.ok(info.buildenv.includes('!distcc') || info.buildenv.length > 0, info.buildenv.join(' '));
  assert.ok(info.options.includes('strip') || info.options.length > 0, info.options.join(' '));
  assert.deepEqual(info.installed, [
    { name: 'acl', version: '2.3.2-1', arch: 'x86_64', url: 'https://archive.archlinux.org/packages/a/acl/acl-2.3.2-1-x86_64.pkg.tar.zst' },
    { name: 'gcc-libs', version: '14.1.1+r58+gfc9fb3ad838-1', arch: 'x86_64', url: 'https://archive.archlinux.org/packages/g/gcc-libs/gcc-libs-14.1.1+r58+gfc9fb3ad838-1-x86_64.pkg.tar.zst' },
    { name: 'python', version: '3.12.4-1', arch: 'x86_64', url: 'https://archive.archlinux.org/packages/p/python/python-3.12.4-1-x86_64.pkg.tar.zst' },
    { name: 'zlib', version: '1:1.3.1-1', arch: 'x86_64', url: 'https://archive.archlinux.org/packages/z/zlib/zlib-1:1.3.1-1-x86_64.pkg.tar.zst' },
    { name: 'ca-certificates-utils', version: '20240618-1', arch: 'any', url: 'https://archive.archlinux.org/packages/c/ca-certificates-utils/ca-certificates-utils-20240618-1-any.pkg.tar.zst' },
  ]);
  // Another archive layout, and the shape every distribution shares.
  const mirror = await readArchBuildInfo(pkg, { archive: 'https://mirror.example.org/arch/{name}/{version}/{arch}/{name}.pkg.tar.zst' });
  assert.equal(mirror.installed[3]!.url, 'https://mirror.example.org/arch/zlib/1:1.3.1-1/x86_64/zlib.pkg.tar.zst');
  const env = archBuildEnv(info, pkg);
  assert.equal(env.distribution, 'archlinux');
  assert.deepEqual(env.source, { name: 'hello-check', version: '1.0-1' });
  assert.equal(env.buildPath, `${area}/build`);
  assert.equal(env.environment['SOURCE_DATE_EPOCH'], String(info.builddate));
  assert.equal(env.packages.length, 5);
  assert.ok(env.packages.every((p) => p.url?.startsWith('https://archive.archlinux.org/packages/')));
  assert.deepEqual(env.expected, [{ name: 'hello-check-1.0-1-any.pkg.tar.zst' }]);

  // Rebuilt on this host (no pacman), the five packages are not recreated, the result says so, and the
  // rebuilt .BUILDINFO (no installed lines) is the difference.
  const r = await rebuild(t, pkg, pkgbuildDir);
  assert.equal(r.outcome.status, 'built', r.log);
  assert.ok(r.outcome.environment.notReproduced.some((l) => /^packages: the 5 packages of the recorded build root \(installed\) were not installed \(\S+ is not installed/.test(l)), r.outcome.environment.notReproduced.join('\n'));
  for (const p of info.installed) assert.ok(r.log.includes(`installed ${p.name} ${p.version} ${p.arch}: ${p.url}`));
  const verdict = await verifySet([pkg], r.outcome.status === 'built' ? r.outcome.artifacts : [], { selected: ['arch-buildinfo'] });
  assert.equal(verdict.verdict, 'UNREPRODUCIBLE');
  assert.ok(verdict.artifacts[0]!.unexplained.every((u) => u.includes('.BUILDINFO')), verdict.artifacts[0]!.unexplained.join('\n'));
});

test('the archlinux backend rebuilds a reproducible PKGBUILD with the host makepkg at the recorded builddir: BIT_IDENTICAL, the package set not recreated', { skip }, async (t) => {
  const { pkg, pkgbuildDir, area } = publishArch(t, REPRODUCIBLE_PKGBUILD);
  // The PKGBUILD as the worker gets it: a tarball fetched by URL with its digest.
  const src = workdir(t);
  sh(src, `tar -C ${JSON.stringify(pkgbuildDir)} -czf pkgbuild.tar.gz .`);
  const tarball = join(src, 'pkgbuild.tar.gz');
  const d = workdir(t);
  for (const sub of ['out', 'work']) mkdirSync(join(d, sub));
  const log = new LogSink(join(d, 'build.log'), 1 << 20);
  const name = pkg.slice(pkg.lastIndexOf('/') + 1);
  const outcome = await archBackend().build({
    job: job({ pkgbuild: { url: pathToFileURL(tarball).href, sha256: sha256(tarball) } }, { backend: 'archlinux', name: 'hello-check', version: '1.0-1', architecture: 'any', artifacts: [{ name, url: pathToFileURL(pkg).href, sha256: sha256(pkg) }] }),
    workDir: join(d, 'work'),
    outDir: join(d, 'out'),
    log,
    signal: new AbortController().signal,
    limits: { timeoutMs: 120_000 },
    fetch: (url, sha, dest, what) => fetchVerified(url, sha, dest, what, { allowFileUrls: true }).then(() => undefined),
  });
  await log.close();
  const text = readFileSync(join(d, 'build.log'), 'utf8');
  assert.equal(outcome.status, 'built', `${JSON.stringify(outcome)}\n${text}`);
  if (outcome.status !== 'built') return;
  assert.deepEqual(outcome.artifacts, [join(d, 'out', name)]);
  const verdict = await verifySet([pkg], outcome.artifacts, { selected: ['arch-buildinfo'] });
  // Everything the .BUILDINFO records that shapes the bytes was reproduced, builddate included: bit for bit.
  assert.equal(verdict.verdict, 'BIT_IDENTICAL', JSON.stringify(verdict.artifacts.map((a) => [a.verdict, a.unexplained])));
  const { reproduced, notReproduced } = outcome.environment;
  assert.ok(reproduced.includes(`builddir ${area}/build`), reproduced.join('\n'));
  assert.ok(reproduced.includes(`startdir ${area}/start`), reproduced.join('\n'));
  assert.ok(reproduced.some((l) => /^SOURCE_DATE_EPOCH=\d+ \(the published package's builddate\)$/.test(l)));
  assert.ok(reproduced.some((l) => l.startsWith('PKGBUILD: SHA-256')));
  assert.ok(reproduced.includes('PACKAGER=Published Builder <builder@example.org>'));
  assert.ok(notReproduced.some((l) => /^packages: the \.BUILDINFO lists no installed packages, so there was no package set to recreate \(\S+ is not installed/.test(l)), notReproduced.join('\n'));
  // The recorded directories were made for the build and removed after it.
  assert.equal(existsSync(area), false);
});

test('a PKGBUILD that embeds its build path, rebuilt where the recorded builddir cannot be made: UNREPRODUCIBLE, captures_build_path', { skip }, async (t) => {
  // The published build area stays: the recorded directories exist, so the rebuild goes elsewhere.
  const { pkg, pkgbuildDir, area } = publishArch(t, EMBEDS_PATH_PKGBUILD, { keep: true });
  const r = await rebuild(t, pkg, pkgbuildDir);
  assert.equal(r.outcome.status, 'built', `${JSON.stringify(r.outcome)}\n${r.log}`);
  if (r.outcome.status !== 'built') return;
  assert.ok(r.outcome.environment.notReproduced.some((l) => l.startsWith(`builddir ${area}/build: built in `) && l.includes('already exists')), r.outcome.environment.notReproduced.join('\n'));
  const verdict = await verifySet([pkg], r.outcome.artifacts, { selected: ['arch-buildinfo'] });
  assert.equal(verdict.verdict, 'UNREPRODUCIBLE');
  const issues = verdict.artifacts.flatMap((a) => a.issues.map((i) => i.id));
  assert.ok(issues.includes('captures_build_path'), issues.join(', '));
  assert.equal(r.buildEnv?.buildPath, `${area}/build`);
});

test('a PKGBUILD from a git repository at a tag, checked against pkgbuild_sha256sum; a different PKGBUILD is refused before building', { skip: skip || (!existsSync('/usr/bin/git') && 'git missing') }, async (t) => {
  const { pkg, pkgbuildDir } = publishArch(t, REPRODUCIBLE_PKGBUILD);
  const repo = workdir(t);
  sh(repo, `cp ${JSON.stringify(pkgbuildDir)}/* . && git init -q && git add . && git -c user.name=t -c user.email=t@e commit -qm one && git tag v1 && echo '# changed' >> PKGBUILD && git -c user.name=t -c user.email=t@e commit -qam two`);
  const good = await rebuild(t, pkg, { git: repo, ref: 'v1' });
  assert.equal(good.outcome.status, 'built', `${JSON.stringify(good.outcome)}\n${good.log}`);
  const verdict = await verifySet([pkg], good.outcome.status === 'built' ? good.outcome.artifacts : [], { selected: ['arch-buildinfo'] });
  assert.ok(['BIT_IDENTICAL', 'REPRODUCIBLE'].includes(verdict.verdict), verdict.verdict);
  const head = await rebuild(t, pkg, { git: repo, ref: 'HEAD' });
  assert.equal(head.outcome.status, 'failed');
  assert.match(head.outcome.status === 'failed' ? head.outcome.message : '', /its PKGBUILD has SHA-256 [0-9a-f]{64}, the \.BUILDINFO records [0-9a-f]{64} \(not the PKGBUILD the package was built from\)/);
  assert.doesNotMatch(head.log, /makepkg in /);
  const dash = await rebuild(t, pkg, { git: repo, ref: '--upload-pack=touch /tmp/pwned' });
  assert.ok(dash.outcome.status === 'failed' && /is not a commit, tag or branch name/.test(dash.outcome.message));
});

// ---- hostile .BUILDINFO ----

const GOOD = `format = 2
pkgname = foo
pkgbase = foo
pkgver = 1:2.0-3
pkgarch = x86_64
pkgbuild_sha256sum = ${'a'.repeat(64)}
packager = Someone <someone@example.org>
builddate = 1700000000
builddir = /build
startdir = /startdir
buildtool = devtools
buildtoolver = 1:1.2.1-1-any
buildenv = !distcc
buildenv = color
options = strip
options = !lto
installed = glibc-2.39-1-x86_64
installed = lib32-foo-bar-1:0.1_beta+git2-2.1-x86_64
`;

test('a well-formed .BUILDINFO parses field by field; names with "-" split from the version at the last three dashes', () => {
  const info = parseArchBuildInfo(GOOD, 'foo/.BUILDINFO');
  assert.equal(info.pkgver, '1:2.0-3');
  assert.equal(info.buildtoolver, '1:1.2.1-1-any');
  assert.deepEqual(info.buildenv, ['!distcc', 'color']);
  assert.deepEqual(info.options, ['strip', '!lto']);
  assert.deepEqual(info.installed[1], { name: 'lib32-foo-bar', version: '1:0.1_beta+git2-2.1', arch: 'x86_64', url: 'https://archive.archlinux.org/packages/l/lib32-foo-bar/lib32-foo-bar-1:0.1_beta+git2-2.1-x86_64.pkg.tar.zst' });
});

const set = (key: string, value: string) => GOOD.replace(new RegExp(`^${key} = .*$`, 'm'), () => `${key} = ${value}`);
const [beforePackager, afterPackager] = GOOD.split(/^packager = .*$/m) as [string, string];
const hostile: [string, string | Buffer, string | undefined][] = [
  ['"../" in builddir', set('builddir', '/build/../etc'), 'builddir'],
  ['a relative builddir', set('builddir', 'build'), 'builddir'],
  ['shell syntax in builddir', set('builddir', '/build/$(touch x)'), 'builddir'],
  ['a huge builddir', set('builddir', `/build/${'a'.repeat(5000)}`), 'builddir'],
  ['"../" in startdir', set('startdir', '/startdir/../../root'), 'startdir'],
  ['"../" in pkgname', set('pkgname', '../../etc'), 'pkgname'],
  ['a pkgname starting with "-"', set('pkgname', '-rf'), 'pkgname'],
  ['a huge pkgname', set('pkgname', 'a'.repeat(1000)), 'pkgname'],
  ['shell metacharacters in pkgver', set('pkgver', '1.0$(id)-1'), 'pkgver'],
  ['a semicolon in pkgver', set('pkgver', '1.0;rm-1'), 'pkgver'],
  ['backticks in pkgrel', set('pkgver', '1.0-`id`'), 'pkgver'],
  ['shell metacharacters in an installed version', GOOD.replace('glibc-2.39-1', 'glibc-2.39$IFS;id-1'), 'installed'],
  ['"../" in an installed name', GOOD.replace('glibc-2.39-1-x86_64', '../../etc/passwd-2.39-1-x86_64'), 'installed'],
  ['a quote in buildenv', GOOD.replace('buildenv = color', "buildenv = color')$(id)('"), 'buildenv'],
  ['a space in options', GOOD.replace('options = strip', 'options = strip $(id)'), 'options'],
  ['a control character in packager', set('packager', 'Some\u001b[31mone'), 'packager'],
  ['a huge packager', set('packager', 'x'.repeat(10_000)), 'packager'],
  ['a non-numeric builddate', set('builddate', '1700000000; id'), 'builddate'],
  ['a bad pkgbuild_sha256sum', set('pkgbuild_sha256sum', 'zz'), 'pkgbuild_sha256sum'],
  ['a repeated builddir', `${GOOD}builddir = /tmp/other\n`, 'builddir'],
  ['no builddir', GOOD.replace(/^builddir = .*\n/m, ''), 'builddir'],
  ['bad UTF-8 in packager', Buffer.concat([Buffer.from(`${beforePackager}packager = a`), Buffer.from([0xc3, 0x28]), Buffer.from(afterPackager)]), 'packager'],
  ['a file over 1 MiB', `${GOOD}${'installed = a-1-1-any\n'.repeat(60_000)}`, undefined],
];
for (const [what, text, field] of hostile) {
  test(`a .BUILDINFO with ${what} is a BuildInfoError${field ? ` naming ${field}` : ''}`, () => {
    assert.throws(
      () => parseArchBuildInfo(text, 'hostile.pkg.tar.zst/.BUILDINFO'),
      (e: unknown) => e instanceof BuildInfoError && e.field === field && e.message.includes('hostile.pkg.tar.zst/.BUILDINFO'),
    );
  });
}

test('a package with a hostile .BUILDINFO is refused before anything runs: no directory made, no makepkg, no output', { skip }, async (t) => {
  const d = workdir(t);
  const marker = join(d, 'ran');
  const target = mkdtempSync(join(tmpdir(), 'reprove-arch-hostile-'));
  rmSync(target, { recursive: true });
  const pkgbuild = join(d, 'pkgbuild');
  mkdirSync(pkgbuild);
  writeFileSync(join(pkgbuild, 'PKGBUILD'), `pkgname=foo\npkgver=1\npkgrel=1\narch=(any)\npackage() { touch ${marker}; }\n`);
  for (const [name, buildinfo] of [
    ['traversal', set('builddir', `${target}/../${target.slice(target.lastIndexOf('/') + 1)}`)],
    ['metachar', set('pkgver', '1$(touch${IFS}' + marker + ')-1').replace('builddir = /build', `builddir = ${target}`)],
  ] as const) {
    const dir = join(d, name);
    mkdirSync(dir);
    writeFileSync(join(dir, '.BUILDINFO'), buildinfo);
    writeFileSync(join(dir, '.PKGINFO'), 'pkgname = foo\npkgver = 1-1\n');
    sh(dir, 'bsdtar --zstd -cf ../foo-1-1-any.pkg.tar.zst .BUILDINFO .PKGINFO');
    const r = await rebuild(t, join(d, 'foo-1-1-any.pkg.tar.zst'), pkgbuild);
    assert.equal(r.outcome.status, 'failed');
    if (r.outcome.status === 'failed') {
      assert.equal(r.outcome.failureClass, 'infrastructure');
      assert.match(r.outcome.message, name === 'traversal' ? /field builddir/ : /field pkgver/);
    }
    assert.equal(r.buildEnv, undefined);
    assert.doesNotMatch(r.log, /makepkg in /);
    assert.deepEqual(readdirSync(r.out), []);
    assert.equal(existsSync(marker), false);
    assert.equal(existsSync(target), false);
  }
});
