// The Arch source against databases made by repo-add from packages built by
// makepkg at test time, served over HTTP: every pkgbase at its version becomes one
// record whose artifacts are its binary packages (the mirror's URLs and the
// database's SHA-256s), rebuilderd's profile filters pick packages, a package
// removed from the database leaves the archive on the next `sources sync`, and a
// database with hostile entries syncs its good ones while each bad one is logged.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ReproveClient } from '../src/api/client.js';
import { archRepoSource, parseDesc, readArchDb } from '../src/rebuild/sources/arch-repo.js';
import { openStore } from '../src/store/index.js';
import { haveCommand, makepkgSkip, sh, skipOutsideCi, workdir } from './helpers.js';
import { daemonWith, descOf, reproveAsync, serveDirectory, tarOf } from './sources-support.js';
import { until } from './service-support.js';

const isRoot = process.getuid?.() === 0;
const skip = skipOutsideCi(makepkgSkip('repo-add', 'bsdtar') || (!haveCommand('repo-add') ? 'repo-add missing (Debian: pacman-package-manager)' : false));
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Builds the PKGBUILD's packages into `out` (as nobody when root). */
function build(dir: string, name: string, pkgbuild: string, out: string, packager: string): string[] {
  const start = join(dir, 'build', name);
  mkdirSync(start, { recursive: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(start, 'PKGBUILD'), pkgbuild);
  const before = new Set(readdirSync(out));
  sh(dir, `chmod -R a+rwX .`);
  sh(start, `${isRoot ? 'runuser -u nobody -- ' : ''}env PACMAN=true PKGDEST=${out} PACKAGER='${packager}' SOURCE_DATE_EPOCH=1700000000 makepkg --nodeps --force >/dev/null 2>&1`);
  return readdirSync(out).filter((f) => !before.has(f)).map((f) => join(out, f));
}

const simple = (name: string, ver: string) => `pkgname=${name}\npkgver=${ver}\npkgrel=1\narch=(x86_64)\nlicense=(MIT)\npackage() { mkdir -p "$pkgdir/usr/share/${name}"; echo ${name} > "$pkgdir/usr/share/${name}/data"; }\n`;
const split = `pkgbase=beta\npkgname=(beta-bin beta-doc)\npkgver=2.0\npkgrel=3\nepoch=1\narch=(x86_64)\nlicense=(MIT)\npackage_beta-bin() { mkdir -p "$pkgdir/usr/bin"; echo b > "$pkgdir/usr/bin/beta"; }\npackage_beta-doc() { arch=(any); mkdir -p "$pkgdir/usr/share/doc/beta"; echo d > "$pkgdir/usr/share/doc/beta/README"; }\n`;

test('the arch-repo source syncs core.db (gzip) and extra.db (zstd) made by repo-add, with profiles, re-syncs and a hostile database', { skip, timeout: 110_000 }, async (t) => {
  const dir = workdir(t);
  const core = join(dir, 'mirror/core/os/x86_64');
  const extra = join(dir, 'mirror/extra/os/x86_64');
  const alpha = build(dir, 'alpha', simple('alpha', '1.0'), core, 'Alice Arch <alice@archlinux.org>');
  const beta = build(dir, 'beta', split, core, 'Bob Arch <bob@archlinux.org>');
  const gamma = build(dir, 'gamma', simple('gamma', '3.1'), extra, 'Alice Arch <alice@archlinux.org>');
  build(dir, 'delta', simple('delta', '0.5'), extra, 'Bob Arch <bob@archlinux.org>');
  assert.equal(beta.length, 2);
  sh(core, `repo-add -q core.db.tar.gz *.pkg.tar.* >/dev/null 2>&1`);
  sh(extra, `repo-add -q extra.db.tar.zst *.pkg.tar.* >/dev/null 2>&1`);

  // A hostile database: one good entry among entries no tool should write.
  const good = descOf({ filename: 'ok-1.0-1-x86_64.pkg.tar.zst', name: 'ok', version: '1.0-1', sha256: 'a'.repeat(64), packager: `Mallory <m@example.org>${'\u0007'.repeat(3)}` });
  const hostile = tarOf([
    { name: 'ok-1.0-1/', data: '', type: '5' },
    { name: 'ok-1.0-1/desc', data: good },
    { name: '../../etc/desc', data: descOf({ filename: 'evil-1-1-x86_64.pkg.tar.zst', name: 'evil', version: '1-1', sha256: 'b'.repeat(64) }) },
    { name: 'trav-1-1/desc', data: descOf({ filename: '../../../etc/passwd.pkg.tar.zst', name: 'trav', version: '1-1', sha256: 'c'.repeat(64) }) },
    { name: 'huge-1-1/desc', data: descOf({ filename: 'huge-1-1-x86_64.pkg.tar.zst', name: 'huge', version: '1-1', sha256: 'd'.repeat(64) }) + `%DESC%\n${'x'.repeat(300_000)}\n` },
    { name: 'long-1-1/desc', data: descOf({ filename: `${'l'.repeat(5000)}-1-1-x86_64.pkg.tar.zst`, name: 'long', version: '1-1', sha256: 'e'.repeat(64) }) },
    { name: Buffer.concat([Buffer.from([0x62, 0x61, 0x64, 0xff]), Buffer.from('-1-1/desc')]), data: descOf({ filename: 'bad-1-1-x86_64.pkg.tar.zst', name: 'bad', version: '1-1', sha256: 'f'.repeat(64) }) },
    { name: 'badtext-1-1/desc', data: Buffer.concat([Buffer.from(descOf({ filename: 'badtext-1-1-x86_64.pkg.tar.zst', name: 'badtext', version: '1-1', sha256: '1'.repeat(64) })), Buffer.from([0xc3, 0x28])]) },
    { name: 'link-1-1/desc', data: '', type: '2' },
    { name: 'notsha-1-1/desc', data: descOf({ filename: 'notsha-1-1-x86_64.pkg.tar.zst', name: 'notsha', version: '1-1', sha256: 'zz' }) },
  ]);
  mkdirSync(join(dir, 'mirror/hostile/os/x86_64'), { recursive: true });
  writeFileSync(join(dir, 'mirror/hostile/os/x86_64/hostile.db'), gzipSync(hostile));

  const mirror = await serveDirectory(t, join(dir, 'mirror'));
  const base = { kind: 'arch-repo', distribution: 'archlinux', architecture: 'x86_64', mirror: `${mirror.url}/{repo}/os/{arch}`, intervalSeconds: 0 };
  const { daemon, logs } = await daemonWith(t, join(dir, 'd'), {
    sources: [
      { ...base, name: 'arch-all', suite: 'all', repositories: ['core', 'extra'], pkgbuildGit: 'https://git.example.org/{pkgbase}.git' },
      { ...base, name: 'arch-alice', suite: 'alice', repositories: ['core', 'extra'], maintainers: ['alice@archlinux.org'], exclude: ['gam*'] },
      { ...base, name: 'arch-hostile', suite: 'hostile', repositories: ['hostile'] },
    ],
  });
  const client = new ReproveClient(daemon.url, { token: daemon.adminToken });
  const names = async (suite: string) => (await client.packages({ distribution: 'archlinux', suite })).items.map((p) => `${p.name} ${p.version}`).sort();

  // Synced on start.
  await until('the first syncs', 30, async () => ((await client.sources()).every((s) => s.lastSyncAt !== null) ? true : undefined));
  assert.deepEqual(await names('all'), ['alpha 1.0-1', 'beta 1:2.0-3', 'delta 0.5-1', 'gamma 3.1-1']);
  assert.deepEqual(await names('alice'), ['alpha 1.0-1']);

  const betaRow = (await client.packages({ distribution: 'archlinux', suite: 'all', name: 'beta' })).items[0]!;
  const detail = await daemon.store.getPackage(betaRow.id);
  assert.equal(detail.input?.backend, 'archlinux');
  assert.equal(detail.maintainer, 'Bob Arch <bob@archlinux.org>', 'the PACKAGER is the maintainer (mail, feeds)');
  assert.deepEqual(detail.input?.recipe, { pkgbuild: { git: 'https://git.example.org/beta.git', ref: '1-2.0-3' } });
  const byName = new Map(beta.map((p) => [p.split('/').pop()!, p]));
  assert.deepEqual(detail.input?.artifacts.map((a) => a.name).sort(), [...byName.keys()].sort());
  for (const a of detail.input!.artifacts) {
    assert.equal(a.sha256, sha(byName.get(a.name)!), `${a.name}: the database's digest is the file's`);
    assert.equal(a.url, `${mirror.url}/core/os/x86_64/${encodeURIComponent(a.name)}`);
    const res = await fetch(a.url);
    assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), a.sha256, 'the URL serves the package');
  }
  const queue = await client.queue({ limit: 100 });
  assert.equal(queue.items.filter((j) => j.suite === 'all').length, 4, 'each new version queued once');

  // The hostile database: the good entry synced, every bad one named in the log.
  assert.deepEqual(await names('hostile'), ['ok 1.0-1']);
  assert.equal((await client.packages({ distribution: 'archlinux', suite: 'hostile' })).items[0]!.maintainer ?? null, null, 'a PACKAGER with control characters is dropped, not the package');
  const hs = (await client.sources()).find((s) => s.name === 'arch-hostile')!;
  assert.equal(hs.lastOutcome?.skipped, 8, logs.join('\n'));
  for (const entry of ['../../etc/desc', 'trav-1-1/desc', 'huge-1-1/desc', 'long-1-1/desc', 'bad\ufffd-1-1/desc', 'badtext-1-1/desc', 'link-1-1/desc', 'notsha-1-1/desc']) {
    assert.ok(logs.some((l) => l.includes(JSON.stringify(entry)) && l.includes('skipped')), `the log names ${entry}:\n${logs.join('\n')}`);
  }

  // A package removed from the database leaves on the next sync, through reprove ctl.
  sh(extra, 'repo-remove -q extra.db.tar.zst delta >/dev/null 2>&1');
  const ctlArgs = ['ctl', '--server', daemon.url, '--token', daemon.adminToken];
  const sync = await reproveAsync([...ctlArgs, 'sources', 'sync', 'arch-all', '--json']);
  assert.equal(sync.code, 0, sync.stderr);
  const figures = JSON.parse(sync.stdout) as { packages: number; leftArchive: number; added: number; queued: number };
  assert.deepEqual({ packages: figures.packages, left: figures.leftArchive, added: figures.added, queued: figures.queued }, { packages: 3, left: 1, added: 0, queued: 0 });
  assert.deepEqual(await names('all'), ['alpha 1.0-1', 'beta 1:2.0-3', 'gamma 3.1-1']);
  const ls = await reproveAsync([...ctlArgs, 'sources', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /arch-all\s+arch-repo\s+archlinux\s+all\s+x86_64/);
  assert.match(ls.stdout, /arch-hostile.*\s8\s/);
  const unknown = await reproveAsync([...ctlArgs, 'sources', 'sync', 'nope']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /404|no such source/);
  void gamma;
  void alpha;
});

test('a database that is not a tar archive, or one that is unreachable, is a failed sync with a reason, not a crash', async (t) => {
  const dir = workdir(t);
  mkdirSync(join(dir, 'm/broken/os/x86_64'), { recursive: true });
  writeFileSync(join(dir, 'm/broken/os/x86_64/broken.db'), gzipSync(Buffer.from('this is not a tar archive'.repeat(40))));
  const mirror = await serveDirectory(t, join(dir, 'm'));
  const base = { kind: 'arch-repo', distribution: 'archlinux', architecture: 'x86_64', mirror: `${mirror.url}/{repo}/os/{arch}`, intervalSeconds: 0 };
  const { daemon } = await daemonWith(t, join(dir, 'd'), { sources: [{ ...base, name: 'broken', suite: 'b', repositories: ['broken'] }, { ...base, name: 'missing', suite: 'm', repositories: ['missing'] }] });
  const client = new ReproveClient(daemon.url, { token: daemon.adminToken });
  await until('the syncs', 20, async () => ((await client.sources()).every((s) => s.lastSyncAt !== null) ? true : undefined));
  const s = await client.sources();
  assert.match(s.find((x) => x.name === 'broken')!.lastError!, /Cannot sync source broken: .*broken\.db: Cannot read the tar archive/);
  assert.match(s.find((x) => x.name === 'missing')!.lastError!, /HTTP 404/);
  assert.equal((await client.status()).packages, 0);
});

test('binaries of one pkgbase spread over a database and over two repositories make one source package; a re-sync of the same databases writes and queues nothing; a pkgbase dropped from the database leaves', async (t) => {
  const dir = workdir(t);
  const entry = (file: string, name: string, base: string, version: string, sha: string) => ({ name: `${name}-${version}/desc`, data: descOf({ filename: file, name, base, version, sha256: sha.repeat(64) }) });
  const gcc = entry('gcc-14.2-1-x86_64.pkg.tar.zst', 'gcc', 'gcc', '14.2-1', 'a');
  const lib32 = entry('lib32-gcc-libs-14.2-1-x86_64.pkg.tar.zst', 'lib32-gcc-libs', 'gcc', '14.2-1', 'b');
  const zlib = entry('zlib-1.3-1-x86_64.pkg.tar.zst', 'zlib', 'zlib', '1.3-1', 'c');
  const fortran = entry('gcc-fortran-14.2-1-x86_64.pkg.tar.zst', 'gcc-fortran', 'gcc', '14.2-1', 'd');
  const writeDb = (repo: string, entries: { name: string; data: string }[]) => {
    mkdirSync(join(dir, repo), { recursive: true });
    writeFileSync(join(dir, repo, `${repo}.db`), gzipSync(tarOf(entries)));
  };
  writeDb('core', [gcc, zlib, lib32]);
  writeDb('extra', [fortran]);
  const store = await openStore({ dataDir: join(dir, 'data') });
  t.after(() => store.close());
  const source = archRepoSource({ name: 'arch', kind: 'arch-repo', distribution: 'archlinux', suite: 'core', architecture: 'x86_64', mirror: `file://${dir}/{repo}`, repositories: ['core', 'extra'] });
  const ctx = { store, log: (line: string) => assert.fail(line), signal: new AbortController().signal };

  const first = await source.sync(ctx);
  assert.deepEqual([first.packages, first.summary?.added, first.summary?.enqueued], [2, 2, 2]);
  const listed = (await store.listPackages({ distribution: 'archlinux' })).items;
  assert.deepEqual(listed.map((p) => `${p.name} ${p.version}`), ['gcc 14.2-1', 'zlib 1.3-1']);
  const input = (await store.getPackage(listed[0]!.id)).input!;
  assert.deepEqual(input.artifacts.map((a) => a.url), [`file://${dir}/core/gcc-14.2-1-x86_64.pkg.tar.zst`, `file://${dir}/core/lib32-gcc-libs-14.2-1-x86_64.pkg.tar.zst`, `file://${dir}/extra/gcc-fortran-14.2-1-x86_64.pkg.tar.zst`]);

  const again = await source.sync(ctx);
  assert.deepEqual(again.summary, { listed: 2, added: 0, changed: 0, returned: 0, left: 0, enqueued: 0, superseded: 0 });
  assert.equal((await store.listQueue()).total, 2);

  writeDb('core', [gcc, lib32]);
  const dropped = await source.sync(ctx);
  assert.deepEqual([dropped.summary?.left, dropped.summary?.superseded, dropped.summary?.added], [1, 1, 0]);
  assert.deepEqual((await store.listPackages({ distribution: 'archlinux', archive: 'left' })).items.map((p) => p.name), ['zlib']);
});

test('a tar header is taken only with its checksum right, in any of the spellings tar writers use', async () => {
  const desc = descOf({ filename: 'ok-1.0-1-x86_64.pkg.tar.zst', name: 'ok', version: '1.0-1', sha256: 'a'.repeat(64) });
  const read = async (db: Buffer) => {
    const found: string[] = [];
    const logs: string[] = [];
    await readArchDb(Readable.from([gzipSync(db)]), 'test', (l) => logs.push(l), 1 << 20, (d) => found.push(`${d.name} ${d.version} ${d.packager}`));
    return found;
  };
  const good = tarOf([{ name: 'ok-1.0-1/desc', data: desc }]);
  assert.deepEqual(await read(good), ['ok 1.0-1 Arch Dev <dev@archlinux.org>']);
  // The checksum field: GNU tar's "0012345\0", old tar's " 12345\0 ", with a space after the NUL or none.
  const sum = (h: Buffer) => h.reduce((s, b, i) => s + (i >= 148 && i < 156 ? 32 : b), 0);
  for (const spell of [(n: number) => `${n.toString(8).padStart(6, '0')}\0 `, (n: number) => ` ${n.toString(8).padStart(5, ' ')}\0 `, (n: number) => `${n.toString(8).padStart(7, '0')}\0`]) {
    const tar = Buffer.from(good);
    tar.write(spell(sum(tar.subarray(0, 512))).padEnd(8, '\0'), 148, 8, 'latin1');
    assert.deepEqual(await read(tar), ['ok 1.0-1 Arch Dev <dev@archlinux.org>'], JSON.stringify(spell(1)));
  }
  for (const [what, mangle] of [
    ['a byte of the name changed', (b: Buffer) => void (b[0] = 0x4f)],
    ['a checksum that is not octal', (b: Buffer) => void b.write('00012x9\0', 148, 'latin1')],
    ['an empty checksum', (b: Buffer) => void b.fill(0x20, 148, 156)],
  ] as const) {
    const tar = Buffer.from(good);
    mangle(tar);
    await assert.rejects(read(tar), /bad checksum/, what);
  }
  // The entries before a bad header are handed on before the error.
  const second = tarOf([
    { name: 'ok-1.0-1/desc', data: desc },
    { name: 'two-1.0-1/desc', data: descOf({ filename: 'two-1.0-1-x86_64.pkg.tar.zst', name: 'two', version: '1.0-1', sha256: 'b'.repeat(64) }) },
  ]);
  second[1024] = 0x4f;
  const before: string[] = [];
  await assert.rejects(readArchDb(Readable.from([gzipSync(second)]), 'test', () => undefined, 1 << 20, (d) => before.push(d.name)), /header of entry 1 has a bad checksum/);
  assert.deepEqual(before, ['ok']);
});

test('a desc entry: the fields read are found among any others, a field with two values or a missing one refuses the entry, a line that only looks like a key is passed over', () => {
  const base = descOf({ filename: 'ok-1.0-1-x86_64.pkg.tar.zst', name: 'ok', version: '1.0-1', sha256: 'a'.repeat(64), packager: 'Ünïcode Packager <p@example.org>' });
  const ok = parseDesc(Buffer.from(`%DESC%\nsome text\n%NAME%\nnot a key: its value\n\n%PGPSIG%\n${'Q'.repeat(400)}\n\n${base}%DEPENDS%\nglibc\nzlib\n\n`));
  assert.deepEqual(ok, { filename: 'ok-1.0-1-x86_64.pkg.tar.zst', name: 'ok', base: 'ok', version: '1.0-1', arch: 'x86_64', sha256: 'a'.repeat(64), csize: 1000, packager: 'Ünïcode Packager <p@example.org>' });
  assert.equal(parseDesc(Buffer.from(base.replace('%NAME%\nok\n', '%NAME%\nok\nother\n'))), '%NAME% has 2 values');
  assert.equal(parseDesc(Buffer.from(base.replace('%SHA256SUM%\n', '%sha256sum%\n'))), 'missing %SHA256SUM%');
  assert.equal(parseDesc(Buffer.from(base.replace('%VERSION%\n1.0-1\n', '%VERSION%\n1.0 1\n'))), '%VERSION% "1.0 1" is not a pacman version');
});
