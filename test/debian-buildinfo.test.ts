// Debian's .buildinfo parser on a clearsigned file shaped like a buildd's, and on
// hostile ones: huge fields, path traversal in names and Build-Path, bad UTF-8,
// versions with shell metacharacters. Each hostile file is a BuildInfoError naming
// the field, and rebuildDebian runs nothing with it (its work directory and log
// stay empty).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BuildInfoError } from '../src/rebuild/buildinfo/build-env.js';
import { isDebianVersion, parseDebianBuildinfo, parseRfc2822 } from '../src/rebuild/buildinfo/debian.js';
import { makeDebianBackend, rebuildDebian } from '../src/rebuild/backends/debian.js';
import { buildTypeArgument, chrootKey, resolveArchive, snapshotTimestamp } from '../src/rebuild/backends/debian-chroot.js';
import { LogSink } from '../src/rebuild/log-sink.js';
import { workdir } from './helpers.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

/** What dpkg-genbuildinfo writes for a binNMU of hello on a buildd, clearsigned. */
export function sampleBuildinfo(over: { fields?: Record<string, string>; body?: (s: string) => string } = {}): string {
  const fields: Record<string, string> = {
    Format: '1.0',
    Source: 'hello (2.10-3)',
    Binary: 'hello',
    Architecture: 'amd64',
    Version: '2.10-3+b1',
    'Binary-Only-Changes': '\n hello (2.10-3+b1) sid; urgency=low, binary-only=yes\n .\n   * Binary-only non-maintainer upload for amd64; no source changes.',
    'Checksums-Md5': `\n ${'c'.repeat(32)} 56132 hello_2.10-3+b1_amd64.deb`,
    'Checksums-Sha1': `\n ${'d'.repeat(40)} 56132 hello_2.10-3+b1_amd64.deb`,
    'Checksums-Sha256': `\n ${SHA_A} 34216 hello-dbgsym_2.10-3+b1_amd64.deb\n ${SHA_B} 56132 hello_2.10-3+b1_amd64.deb`,
    'Build-Origin': 'Debian',
    'Build-Architecture': 'amd64',
    'Build-Date': 'Sun, 02 Jan 2022 12:34:56 +0100',
    'Build-Path': '/build/reproducible-path/hello-2.10',
    'Build-Tainted-By': '\n merged-usr-via-aliased-dirs',
    'Installed-Build-Depends': '\n autoconf (= 2.71-2),\n base-files (= 12.2),\n dpkg (= 1.21.1),\n dpkg-dev (= 1.21.1),\n debhelper (= 13.6),\n libc6:amd64 (= 2.33-1),\n libgcc-s1 (= 12-20220106-1),\n perl-base (= 5.32.1-6),\n tzdata (= 2021e-1)',
    Environment: '\n DEB_BUILD_OPTIONS="parallel=4"\n LANG="C.UTF-8"\n LC_ALL="C.UTF-8"\n SOURCE_DATE_EPOCH="1609459200"\n DEB_TEST="a \\"quoted\\" \\ value"',
    ...over.fields,
  };
  let body = Object.entries(fields)
    .map(([k, v]) => `${k}:${v.startsWith('\n') ? v : ` ${v}`}`)
    .join('\n');
  body = over.body ? over.body(body) : body;
  return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${body}\n-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE${'x'.repeat(40)}\n=abcd\n-----END PGP SIGNATURE-----\n`;
}

const parse = (text: string | Buffer) => parseDebianBuildinfo(typeof text === 'string' ? Buffer.from(text) : text, 'hello.buildinfo');

test('a clearsigned binNMU .buildinfo: source with its own version, binary version, debs with digests, packages, environment, date, path', () => {
  const env = parse(sampleBuildinfo());
  assert.deepEqual(env.source, { name: 'hello', version: '2.10-3' });
  assert.equal(env.settings['Version'], '2.10-3+b1');
  assert.equal(env.architecture, 'amd64');
  assert.deepEqual(env.settings['Architecture'], ['amd64']);
  assert.equal(env.settings['Build-Origin'], 'Debian');
  assert.deepEqual(env.settings['Build-Tainted-By'], ['merged-usr-via-aliased-dirs']);
  assert.equal(env.buildPath, '/build/reproducible-path/hello-2.10');
  assert.equal(env.buildDate, Date.UTC(2022, 0, 2, 11, 34, 56) / 1000);
  assert.deepEqual(env.expected, [
    { name: 'hello-dbgsym_2.10-3+b1_amd64.deb', sha256: SHA_A, size: 34216 },
    { name: 'hello_2.10-3+b1_amd64.deb', sha256: SHA_B, size: 56132 },
  ]);
  assert.equal(env.packages.length, 9);
  assert.deepEqual(env.packages[5], { name: 'libc6', version: '2.33-1', architecture: 'amd64' });
  assert.deepEqual(env.packages[0], { name: 'autoconf', version: '2.71-2' });
  assert.deepEqual(env.environment, { DEB_BUILD_OPTIONS: 'parallel=4', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', SOURCE_DATE_EPOCH: '1609459200', DEB_TEST: 'a "quoted" \\ value' });
});

test('an unsigned .buildinfo parses the same; dash-escaped lines in signed text are unescaped', () => {
  const signed = sampleBuildinfo();
  const unsigned = signed.split('\n\n')[1]!.split('\n-----BEGIN PGP SIGNATURE')[0]! + '\n';
  assert.deepEqual(parse(unsigned), parse(signed));
  const escaped = sampleBuildinfo({ body: (s) => s.replace('Format: 1.0', '- Format: 1.0') });
  assert.equal(parse(escaped).source.name, 'hello');
  // deb822 field names are case-insensitive.
  assert.equal(parse(sampleBuildinfo({ body: (s) => s.replace('Build-Path:', 'build-path:') })).buildPath, '/build/reproducible-path/hello-2.10');
});

test('Debian versions and dates: the policy grammar and RFC 2822', () => {
  for (const v of ['1.0', '1:2.3-4', '2.10-3+b1', '1.0~rc1-1~bpo11+1', '0.0+git20220101.abc-1.1']) assert.ok(isDebianVersion(v), v);
  for (const v of ['', 'a1.0', '1.0;rm -rf /', '$(id)', '1.0 -1', '1:', ':1', '1.0-', '1.0`x`', '1_0', 'x'.repeat(300)]) assert.ok(!isDebianVersion(v), v);
  assert.equal(parseRfc2822('Thu, 01 Jan 1970 00:00:00 +0000'), 0);
  assert.equal(parseRfc2822('Mon, 1 Jan 2024 00:00:00 -0130'), Date.UTC(2024, 0, 1, 1, 30) / 1000);
  assert.equal(parseRfc2822('yesterday'), undefined);
  assert.equal(snapshotTimestamp(Date.UTC(2022, 0, 2, 11, 34, 56) / 1000), '20220102T113456Z');
});

test('the archive: live by default, a snapshot template filled in from Build-Date; chroot keys by package set; -b/-A/-B', () => {
  const live = resolveArchive({}, undefined);
  assert.ok(typeof live !== 'string');
  assert.equal(live.url, 'http://deb.debian.org/debian/');
  const snap = resolveArchive({ snapshot: true }, Date.UTC(2022, 0, 2, 11, 34, 56) / 1000);
  assert.ok(typeof snap !== 'string');
  assert.equal(snap.url, 'https://snapshot.debian.org/archive/debian/20220102T113456Z/');
  assert.deepEqual(snap.suites, ['unstable']);
  assert.equal(snap.snapshot, true);
  assert.match(String(resolveArchive({ snapshot: true }, undefined)), /no Build-Date/);
  assert.match(String(resolveArchive({ archive: 'http://x/ debian' }, undefined)), /not an http\(s\) URL/);
  assert.match(String(resolveArchive({ suites: ['sid; rm'] }, undefined)), /not a suite/);
  const a = [{ name: 'b', version: '1' }, { name: 'a', version: '2' }];
  assert.equal(chrootKey('amd64', a), chrootKey('amd64', [...a].reverse()));
  assert.notEqual(chrootKey('amd64', a), chrootKey('amd64', [{ name: 'b', version: '1' }, { name: 'a', version: '3' }]));
  assert.equal(buildTypeArgument(['amd64', 'all']), '-b');
  assert.equal(buildTypeArgument(['all']), '-A');
  assert.equal(buildTypeArgument(['amd64']), '-B');
});

/** Hostile .buildinfo files: what each one is, and the field its error names. */
const hostile: { what: string; text: string | Buffer; field?: string; message: RegExp }[] = [
  { what: 'a 3 MiB Installed-Build-Depends line', text: sampleBuildinfo({ fields: { 'Installed-Build-Depends': `\n ${'a'.repeat(3 << 20)} (= 1.0)` } }), message: /a line of \d+ characters/ },
  { what: 'more packages than the cap', text: sampleBuildinfo({ fields: { 'Installed-Build-Depends': '\n' + Array.from({ length: 20_001 }, (_, i) => ` p${i} (= 1.0),`).join('\n') } }), field: 'Installed-Build-Depends', message: /more than 20000 packages/ },
  { what: 'a 5 MiB file', text: Buffer.alloc(5 << 20, 0x41), message: /bytes \(at most/ },
  { what: 'a huge single-line field', text: sampleBuildinfo({ fields: { 'Build-Origin': 'D'.repeat(10_000) } }), field: 'Build-Origin', message: /at most 4096/ },
  { what: 'path traversal in an artifact name', text: sampleBuildinfo({ fields: { 'Checksums-Sha256': `\n ${SHA_A} 1 ../../../etc/passwd` } }), field: 'Checksums-Sha256', message: /not a plain file name/ },
  { what: 'an artifact name with a slash', text: sampleBuildinfo({ fields: { 'Checksums-Sha256': `\n ${SHA_A} 1 sub/hello.deb` } }), field: 'Checksums-Sha256', message: /not a plain file name/ },
  { what: 'path traversal in the source name', text: sampleBuildinfo({ fields: { Source: '../hello' } }), field: 'Source', message: /not a source package name/ },
  { what: 'path traversal in a package name', text: sampleBuildinfo({ fields: { 'Installed-Build-Depends': '\n ../../x (= 1.0)' } }), field: 'Installed-Build-Depends', message: /not a Debian package name/ },
  { what: 'Build-Path with ..', text: sampleBuildinfo({ fields: { 'Build-Path': '/build/../etc' } }), field: 'Build-Path', message: /"\." or "\.\." component/ },
  { what: 'a relative Build-Path', text: sampleBuildinfo({ fields: { 'Build-Path': 'build/hello' } }), field: 'Build-Path', message: /not absolute/ },
  { what: 'Build-Path with a shell metacharacter', text: sampleBuildinfo({ fields: { 'Build-Path': '/build/$(id)' } }), field: 'Build-Path', message: /characters outside/ },
  { what: 'Build-Path under /proc', text: sampleBuildinfo({ fields: { 'Build-Path': '/proc/self/x' } }), field: 'Build-Path', message: /under \/proc/ },
  { what: 'Build-Path with an option-like component', text: sampleBuildinfo({ fields: { 'Build-Path': '/build/--help' } }), field: 'Build-Path', message: /starting with "-"/ },
  { what: 'bad UTF-8', text: Buffer.concat([Buffer.from(sampleBuildinfo().slice(0, 200)), Buffer.from([0xc3, 0x28]), Buffer.from(sampleBuildinfo().slice(200))]), message: /not valid UTF-8/ },
  { what: 'a NUL byte in a field', text: sampleBuildinfo({ fields: { 'Build-Origin': 'Deb\u0000ian' } }), field: 'Build-Origin', message: /control character U\+0000/ },
  { what: 'an escape sequence in Environment', text: sampleBuildinfo({ fields: { Environment: '\n LANG="\u001b[2J"' } }), field: 'Environment', message: /control character U\+001b/ },
  { what: 'a version with shell metacharacters', text: sampleBuildinfo({ fields: { Version: '2.10;rm${IFS}-rf${IFS}/' } }), field: 'Version', message: /not a Debian version/ },
  { what: 'a dependency version with command substitution', text: sampleBuildinfo({ fields: { 'Installed-Build-Depends': '\n dpkg (= 1.0$(touch /tmp/pwned))' } }), field: 'Installed-Build-Depends', message: /not "name \(= version\)"|not a Debian version/ },
  { what: 'a dependency version with a backquote', text: sampleBuildinfo({ fields: { 'Installed-Build-Depends': '\n dpkg (= 1.0`id`)' } }), field: 'Installed-Build-Depends', message: /not a Debian version/ },
  { what: 'a source version with a space', text: sampleBuildinfo({ fields: { Source: 'hello (1.0 -x)' } }), field: 'Source', message: /not a source package name/ },
  { what: 'SOURCE_DATE_EPOCH that is not a number', text: sampleBuildinfo({ fields: { Environment: '\n SOURCE_DATE_EPOCH="$(date)"' } }), field: 'Environment', message: /not a whole number/ },
  { what: 'an environment name with a dash', text: sampleBuildinfo({ fields: { Environment: '\n LD-PRELOAD="x"' } }), field: 'Environment', message: /not a variable name/ },
  { what: 'a foreign Build-Architecture spelled with a slash', text: sampleBuildinfo({ fields: { 'Build-Architecture': 'amd64/../x' } }), field: 'Build-Architecture', message: /not a machine architecture/ },
  { what: 'a field given twice', text: sampleBuildinfo({ body: (s) => s + '\nBuild-Path: /build/other' }), field: 'Build-Path', message: /appears twice/ },
  { what: 'two paragraphs', text: sampleBuildinfo({ body: (s) => s + '\n\nSource: other' }), message: /more than one paragraph/ },
  { what: 'no Checksums-Sha256', text: sampleBuildinfo({ body: (s) => s.replace(/Checksums-Sha256:\n( .*\n)+/, '') }), field: 'Checksums-Sha256', message: /missing/ },
  { what: 'a signature without its end', text: sampleBuildinfo().replace('-----END PGP SIGNATURE-----', ''), message: /no end/ },
];

for (const h of hostile) {
  test(`hostile .buildinfo, ${h.what}: a BuildInfoError${h.field ? ` naming ${h.field}` : ''}, nothing run`, async (t) => {
    assert.throws(
      () => parse(h.text),
      (e: unknown) => e instanceof BuildInfoError && h.message.test(e.message) && (h.field === undefined || e.field === h.field),
    );
    const dir = workdir(t);
    const file = join(dir, 'hostile.buildinfo');
    writeFileSync(file, h.text);
    for (const d of ['work', 'out']) mkdirSync(join(dir, d));
    const log = new LogSink(join(dir, 'build.log'), 1 << 20);
    await assert.rejects(rebuildDebian(file, { outDir: join(dir, 'out'), workDir: join(dir, 'work'), log, signal: new AbortController().signal, cacheDir: join(dir, 'cache') }), BuildInfoError);
    await log.close();
    assert.equal(readFileSync(join(dir, 'build.log'), 'utf8'), '');
    assert.deepEqual(readdirSync(join(dir, 'work')), []);
    assert.deepEqual(readdirSync(dir).sort(), ['build.log', 'hostile.buildinfo', 'out', 'work']);
  });
}

test('the backend turns a hostile .buildinfo into a failed build naming the field, without running anything', async (t) => {
  const dir = workdir(t);
  const file = join(dir, 'hostile.buildinfo');
  writeFileSync(file, sampleBuildinfo({ fields: { 'Build-Path': '/build/../../etc' } }));
  for (const d of ['jobs/job-1/work', 'jobs/job-1/out']) mkdirSync(join(dir, d), { recursive: true });
  const log = new LogSink(join(dir, 'build.log'), 1 << 20);
  const outcome = await makeDebianBackend({ cacheDir: join(dir, 'cache') }).build({
    job: { jobId: 1, leaseToken: 't', leaseExpiresAt: 0, heartbeatSeconds: 30, distribution: 'debian', suite: 'sid', architecture: 'amd64', name: 'hello', version: '2.10-3', backend: 'debian', recipe: {}, buildinfo: { url: 'file:///x', sha256: SHA_A }, artifacts: [], previousUnreproducible: 0 },
    workDir: join(dir, 'jobs/job-1/work'),
    outDir: join(dir, 'jobs/job-1/out'),
    log,
    signal: new AbortController().signal,
    limits: {},
    fetch: async (_url, _sha, dest) => writeFileSync(dest, readFileSync(file)),
  });
  await log.close();
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed');
  assert.equal(outcome.failureClass, 'ftbfs');
  assert.match(outcome.message, /field Build-Path/);
  assert.deepEqual(readdirSync(join(dir, 'jobs/job-1/work')), ['job.buildinfo']);
  assert.equal(readFileSync(join(dir, 'build.log'), 'utf8'), '');
});

test('a recipe with an unknown key or a bad archive is refused before anything is fetched', async (t) => {
  const dir = workdir(t);
  mkdirSync(join(dir, 'work'));
  let fetched = false;
  const outcome = await makeDebianBackend().build({
    job: { jobId: 1, leaseToken: 't', leaseExpiresAt: 0, heartbeatSeconds: 30, distribution: 'debian', suite: 'sid', architecture: 'amd64', name: 'hello', version: '2.10-3', backend: 'debian', recipe: { script: 'rm -rf /' }, buildinfo: { url: 'file:///x', sha256: SHA_A }, artifacts: [], previousUnreproducible: 0 },
    workDir: join(dir, 'work'),
    outDir: join(dir, 'out'),
    log: new LogSink(join(dir, 'build.log'), 1 << 20),
    signal: new AbortController().signal,
    limits: {},
    fetch: async () => {
      fetched = true;
    },
  });
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed' && /recipe\.script is not a setting/.test(outcome.message));
  assert.equal(fetched, false);
});
