// The distribution backends end to end through the service: `reprove serve` and
// `reprove worker --backends archlinux,fedora` as real processes on loopback, an
// Arch package (built with makepkg, its PKGBUILD as a tarball) and a koji-like
// RPM (SRPM, buildroot listing, the RPM signed with a throwaway key) synced
// through the API with their files uploaded as blobs; the worker fetches, rebuilds
// with each backend, verifies, and the daemon records the verdicts, the rebuilt
// environment, the logs, and rebuilderd's GOOD. Debian is not here: its rebuild
// needs a chroot of the recorded packages, minutes of mmdebstrap (test/debian.test.ts
// makes one and rebuilds through the backend).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ReproveClient } from '../src/api/client.js';
import { uploadLocalFiles } from '../src/rebuild/sources/local-files.js';
import { STRICT_RPM_VERDICT } from '../src/verdict/rpm-strict.js';
import { CLI, haveCommand, makepkgSkip, sh, workdir } from './helpers.js';
import { buildrootListing, HOST, publishArch, publishRpm, REPRODUCIBLE_PKGBUILD, SDE, signRpm } from './rebuild-fixtures.js';

const ADMIN = 'admin-token-for-the-backends-test';
const skip = makepkgSkip('bsdtar') || (!haveCommand('rpmbuild') || !haveCommand('rpmsign') || !haveCommand('gpg') ? 'rpmbuild, rpmsign or gpg missing' : false);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** An error `until` does not wait out. */
class Fatal extends Error {}

async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

function run(t: TestContext, args: string[], log: string): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  delete env['DATABASE_URL'];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => out.push(c));
  child.on('exit', () => {
    try {
      writeFileSync(log, Buffer.concat(out));
    } catch {
      // the test's directory is already gone
    }
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

test('serve and a worker rebuild an Arch package (archlinux backend) and a Fedora RPM (fedora backend) end to end: verdicts, environment, logs, rebuilderd GOOD', { skip, timeout: 300_000 }, async (t) => {
  const dir = workdir(t);
  const dataDir = join(dir, 'daemon');
  mkdirSync(dataDir);
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ listen: '127.0.0.1:0', dataDir, adminToken: ADMIN, leaseSeconds: 30, heartbeatSeconds: 2, expireIntervalSeconds: 1 }));
  const daemon = run(t, ['serve', '--config', join(dir, 'daemon.json')], join(dir, 'daemon.log'));
  const url = await until('the daemon to listen', 60, async () => {
    if (daemon.exitCode !== null) throw new Fatal(`reprove serve exited with ${daemon.exitCode}`);
    const info = join(dataDir, 'daemon.json');
    return existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { url: string }).url : undefined;
  });
  const admin = new ReproveClient(url, { token: ADMIN });

  // The Arch package: published by makepkg; its PKGBUILD directory as a tarball.
  const arch = publishArch(t, REPRODUCIBLE_PKGBUILD);
  const tarball = join(dir, 'pkgbuild.tar.gz');
  sh(dir, `tar -C '${arch.pkgbuildDir}' -czf '${tarball}' .`);
  const archName = basename(arch.pkg);
  await admin.sync(
    await uploadLocalFiles(admin, {
      distribution: 'archlinux',
      suite: 'core',
      architecture: 'x86_64',
      packages: [{ name: 'hello-check', version: '1.0-1', backend: 'archlinux', recipe: { pkgbuild: { url: pathToFileURL(tarball).href, sha256: sha256(tarball) } }, artifacts: [{ name: archName, url: pathToFileURL(arch.pkg).href, sha256: sha256(arch.pkg) }] }],
    }),
  );

  // The Fedora build: SRPM, signed RPM, and the koji buildroot listing recording BUILDTIME and the build host.
  const rpmDir = join(dir, 'rpm');
  mkdirSync(rpmDir);
  const pub = publishRpm(rpmDir, true);
  signRpm(rpmDir, pub.rpm, 'Published');
  const listing = join(rpmDir, 'hello.buildroot.json');
  writeFileSync(listing, JSON.stringify({ build: { name: 'hello', version: '1.0', release: '1.fc41', buildtime: SDE, defines: { _buildhost: HOST } }, buildroot: buildrootListing(rpmDir) }));
  await admin.sync(
    await uploadLocalFiles(admin, {
      distribution: 'fedora',
      suite: 'f41',
      architecture: 'x86_64',
      packages: [
        {
          name: 'hello',
          version: '1.0-1.fc41',
          backend: 'fedora',
          recipe: { srpm: { url: pathToFileURL(pub.srpm).href, sha256: sha256(pub.srpm) }, config: 'fedora-41-x86_64' },
          buildinfo: { url: pathToFileURL(listing).href, sha256: sha256(listing) },
          artifacts: [{ name: basename(pub.rpm), url: pathToFileURL(pub.rpm).href, sha256: sha256(pub.rpm) }],
        },
      ],
    }),
  );

  const { token } = await admin.addWorker('distros');
  const worker = run(t, ['worker', '--server', url, '--token', token, '--backends', 'archlinux,fedora', '--poll', '1', '--work-dir', join(dir, 'work')], join(dir, 'worker.log'));

  const verdicts = await until('two verdicts', 240, async () => {
    if (worker.exitCode !== null) throw new Fatal(`the worker exited with ${worker.exitCode}`);
    const list = await admin.packages({});
    return list.items.length === 2 && list.items.every((p) => p.verdict) ? Object.fromEntries(list.items.map((p) => [`${p.distribution}/${p.name}`, p])) : undefined;
  }).catch(async (e: Error) => {
    worker.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    throw new Error(`${e.message}\nworker: ${existsSync(join(dir, 'worker.log')) ? readFileSync(join(dir, 'worker.log'), 'utf8') : '(still running)'}`);
  });
  const archPkg = verdicts['archlinux/hello-check']!;
  const rpmPkg = verdicts['fedora/hello']!;
  assert.equal(archPkg.verdict, 'BIT_IDENTICAL');
  assert.equal(rpmPkg.verdict, STRICT_RPM_VERDICT);

  const archResult = await admin.result(archPkg.resultId!);
  assert.ok(archResult.log, 'the build log is stored');
  assert.match(await (await admin.blob(archResult.log)).text(), /makepkg/);
  const archEnv = archResult.environment as { reproduced: string[]; notReproduced: string[] } | null | undefined;
  assert.ok(archEnv?.reproduced.some((l) => l.startsWith('builddir ')), JSON.stringify(archEnv));
  assert.ok(archEnv?.notReproduced.some((l) => l.startsWith('packages: ')), JSON.stringify(archEnv));

  const rpmResult = await admin.result(rpmPkg.resultId!);
  const rpmEnv = rpmResult.environment as { reproduced: string[]; notReproduced: string[] } | null | undefined;
  assert.ok(rpmEnv?.reproduced.includes(`%_buildhost ${JSON.stringify(HOST)}`), JSON.stringify(rpmEnv));
  assert.ok(rpmEnv?.notReproduced.some((l) => l.startsWith('buildroot: not recreated')), JSON.stringify(rpmEnv));
  assert.ok(rpmResult.reportHtml && rpmResult.reportJson, 'the signature header differs: both reports are stored');

  const rebuilderd = [...(await admin.rebuilderdList({ distro: 'archlinux' })), ...(await admin.rebuilderdList({ distro: 'fedora' }))];
  assert.deepEqual(Object.fromEntries(rebuilderd.map((p) => [p.name, p.status])), { [archName]: 'GOOD', [basename(pub.rpm)]: 'GOOD' });
});
