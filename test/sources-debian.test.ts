// The Debian source against an archive made by apt-ftparchive from .debs built at
// test time, served over HTTP: binary packages grouped by source and source
// version, each with its .buildinfo (URL and digest) from the buildinfo layout; a
// version without a .buildinfo skipped and logged, then synced once it appears;
// with a keyring, an InRelease signed by gpg is verified by gpgv, and a tampered
// one (or a Packages.xz that is not the one the Release lists) fails the sync.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReproveClient } from '../src/api/client.js';
import { haveCommand, sh, skipOutsideCi, workdir } from './helpers.js';
import { until } from './service-support.js';
import { daemonWith, serveDirectory } from './sources-support.js';

const skip = skipOutsideCi(['apt-ftparchive', 'dpkg-deb', 'xz', 'gpg', 'gpgv'].filter((c) => !haveCommand(c)).map((c) => `${c} missing`).join(', ') || false);
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function deb(dir: string, pkg: string, version: string, arch: string, source: string): string {
  const root = join(dir, 'build', `${pkg}_${version}`);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr/share', pkg), { recursive: true });
  writeFileSync(join(root, 'usr/share', pkg, 'data'), `${pkg} ${version}\n`);
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${pkg}\nVersion: ${version}\nArchitecture: ${arch}\nMaintainer: Test <t@example.org>\nSource: ${source}\nDescription: test package\n test\n`);
  const prefix = source.split(' ')[0]!;
  const pool = join(dir, 'archive/pool/main', prefix[0]!, prefix);
  mkdirSync(pool, { recursive: true });
  const out = join(pool, `${pkg}_${version.replace(/^\d+:/, '')}_${arch}.deb`);
  sh(dir, `dpkg-deb --root-owner-group -Zxz -b ${root} ${out} >/dev/null`);
  return out;
}

function publish(dir: string): void {
  sh(join(dir, 'archive'), `mkdir -p dists/test/main/binary-amd64 && apt-ftparchive packages pool > dists/test/main/binary-amd64/Packages && xz -kf dists/test/main/binary-amd64/Packages && apt-ftparchive -o APT::FTPArchive::Release::Suite=test release dists/test > dists/test/Release.new && mv dists/test/Release.new dists/test/Release`);
}

test('the debian-archive source syncs an apt-ftparchive archive with .buildinfo files, checks InRelease with gpgv and refuses tampering', { skip, timeout: 100_000 }, async (t) => {
  const dir = workdir(t);
  const helloBin = deb(dir, 'hello', '1.0-1', 'amd64', 'hello');
  const helloDoc = deb(dir, 'hello-doc', '1.0-1', 'all', 'hello');
  deb(dir, 'libother1', '3.0-1+b1', 'amd64', 'other (2:3.0-1)');
  deb(dir, 'armonly', '1-1', 'arm64', 'armonly');
  publish(dir);
  const bi = join(dir, 'buildinfos/h/hello');
  mkdirSync(bi, { recursive: true });
  writeFileSync(join(bi, 'hello_1.0-1_amd64.buildinfo'), 'Format: 1.0\nSource: hello\nVersion: 1.0-1\n');

  // A signing key and its keyring, for InRelease.
  const gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  sh(dir, `gpg --batch --passphrase '' --quick-gen-key 'Archive <archive@example.org>' ed25519 sign never 2>/dev/null && gpg --export > keyring.gpg && gpg --clearsign -o archive/dists/test/InRelease archive/dists/test/Release 2>/dev/null`, { GNUPGHOME: gnupg });

  const mirror = await serveDirectory(t, dir);
  const base = { kind: 'debian-archive', distribution: 'debian', suite: 'test', architecture: 'amd64', archive: `${mirror.url}/archive`, buildinfoUrl: `${mirror.url}/buildinfos/{prefix}/{source}/{source}_{version}_{arch}.buildinfo`, intervalSeconds: 0 };
  const { daemon, logs } = await daemonWith(t, join(dir, 'd'), { sources: [{ ...base, name: 'deb', keyring: join(dir, 'keyring.gpg') }] });
  const client = new ReproveClient(daemon.url, { token: daemon.adminToken });
  await until('the first sync', 30, async () => ((await client.sources())[0]!.lastSyncAt !== null ? true : undefined));
  const first = (await client.sources())[0]!;
  assert.equal(first.lastError, null);
  assert.deepEqual((await client.packages({ distribution: 'debian' })).items.map((p) => `${p.name} ${p.version}`), ['hello 1.0-1']);
  assert.equal(first.lastOutcome?.skipped, 1);
  assert.ok(logs.some((l) => /other 2:3\.0-1 skipped: Cannot fetch the \.buildinfo.*HTTP 404/.test(l)), logs.join('\n'));
  const hello = await daemon.store.getPackage((await client.packages({ distribution: 'debian' })).items[0]!.id);
  assert.equal(hello.input?.backend, 'debian');
  assert.equal(hello.maintainer, 'Test <t@example.org>', 'the Maintainer field is the maintainer (mail, feeds)');
  assert.deepEqual({ url: hello.input?.buildinfoUrl, sha256: hello.input?.buildinfoSha256 }, { url: `${mirror.url}/buildinfos/h/hello/hello_1.0-1_amd64.buildinfo`, sha256: sha(join(bi, 'hello_1.0-1_amd64.buildinfo')) });
  assert.deepEqual(
    hello.input?.artifacts.map((a) => [a.name, a.url, a.sha256]).sort(),
    [
      ['hello-doc_1.0-1_all.deb', `${mirror.url}/archive/pool/main/h/hello/hello-doc_1.0-1_all.deb`, sha(helloDoc)],
      ['hello_1.0-1_amd64.deb', `${mirror.url}/archive/pool/main/h/hello/hello_1.0-1_amd64.deb`, sha(helloBin)],
    ],
  );

  // Its .buildinfo appears: the source version (with its epoch) is synced; hello's is not fetched again.
  mkdirSync(join(dir, 'buildinfos/o/other'), { recursive: true });
  writeFileSync(join(dir, 'buildinfos/o/other/other_3.0-1_amd64.buildinfo'), 'Format: 1.0\nSource: other\n');
  const before = mirror.hits.get('/buildinfos/h/hello/hello_1.0-1_amd64.buildinfo');
  const again = await client.syncSource('deb');
  assert.deepEqual({ packages: again.packages, added: again.added, skipped: again.skipped }, { packages: 2, added: 1, skipped: 0 });
  assert.equal(mirror.hits.get('/buildinfos/h/hello/hello_1.0-1_amd64.buildinfo'), before, 'a known .buildinfo is not fetched again');
  assert.deepEqual((await client.packages({ distribution: 'debian' })).items.map((p) => `${p.name} ${p.version}`), ['hello 1.0-1', 'other 2:3.0-1']);

  // A tampered InRelease: gpgv refuses it and nothing changes.
  const inRelease = join(dir, 'archive/dists/test/InRelease');
  writeFileSync(inRelease, readFileSync(inRelease, 'utf8').replace(/^Suite: test$/m, 'Suite: evil'));
  await assert.rejects(client.syncSource('deb'), /gpgv refused/);
  // A Packages.xz that is not the one the (validly signed) Release lists.
  sh(dir, `gpg --clearsign --yes -o archive/dists/test/InRelease archive/dists/test/Release 2>/dev/null`, { GNUPGHOME: gnupg });
  deb(dir, 'sneaky', '1-1', 'amd64', 'sneaky');
  sh(join(dir, 'archive'), 'apt-ftparchive packages pool > dists/test/main/binary-amd64/Packages && xz -kf dists/test/main/binary-amd64/Packages');
  await assert.rejects(client.syncSource('deb'), /Packages\.xz has SHA-256 [0-9a-f]{64}, the Release says/);
  assert.equal((await client.packages({ distribution: 'debian' })).total, 2);
});
