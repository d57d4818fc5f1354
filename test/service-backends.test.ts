// The distribution backends end to end through the service: `reprove serve` and
// `reprove worker --backends archlinux,fedora` as real processes on loopback, an
// Arch package (built with makepkg, its PKGBUILD as a tarball) and a koji-like
// RPM (SRPM, buildroot listing, the RPM signed with a throwaway key) synced
// through the API with their files uploaded as blobs; the worker fetches, rebuilds
// with each backend, verifies, and the daemon records the verdicts, the rebuilt
// environment, the logs, and rebuilderd's GOOD. Debian is not here: its rebuild
// needs a chroot of the recorded packages, minutes of mmdebstrap, so its service
// case is in test/debian.test.ts, reusing the chroot that file makes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { uploadLocalFiles } from '../src/rebuild/sources/local-files.js';
import { STRICT_RPM_VERDICT } from '../src/verdict/rpm-strict.js';
import { haveCommand, makepkgSkip, sh, skipOutsideCi, workdir } from './helpers.js';
import { buildrootListing, HOST, publishArch, publishRpm, REPRODUCIBLE_PKGBUILD, SDE, signRpm } from './rebuild-fixtures.js';
import { startDaemon, startWorker } from './service-support.js';

const ADMIN = 'admin-token-for-the-backends-test';
const skip = skipOutsideCi(makepkgSkip('bsdtar') || (!haveCommand('rpmbuild') || !haveCommand('rpmsign') || !haveCommand('gpg') ? 'rpmbuild, rpmsign or gpg missing' : false));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('serve and a worker rebuild an Arch package (archlinux backend) and a Fedora RPM (fedora backend) end to end: verdicts, environment, logs, rebuilderd GOOD', { skip, timeout: 300_000 }, async (t) => {
  const dir = workdir(t);
  const { url, admin } = await startDaemon(t, dir, ADMIN);

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

  const { waitFor } = await startWorker(t, dir, url, admin, ['archlinux', 'fedora']);

  const verdicts = await waitFor('two verdicts', 240, async () => {
    const list = await admin.packages({});
    return list.items.length === 2 && list.items.every((p) => p.verdict) ? Object.fromEntries(list.items.map((p) => [`${p.distribution}/${p.name}`, p])) : undefined;
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
