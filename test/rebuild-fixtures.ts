// Jobs and packages made at test time for the backends' tests,
// `reprove check` and the service test of the backends: an Arch package built
// with makepkg (as nobody when root) in a /tmp/reprove-arch-pub-* area the
// rebuild can recreate, and koji-like RPMs (an SRPM and its binary RPM built with
// rpmbuild, a buildroot listing shaped like koji's getBuildrootListing answer,
// optionally signed with a throwaway key).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ClaimedJob } from '../src/api/schemas.js';
import { sh, workdir } from './helpers.js';

const isRoot = process.getuid?.() === 0;

/** A job as the daemon hands it to a worker: hello 1.0 of the examples for the command backend, unless `extra` says otherwise. */
export function claimedJob(recipe: unknown, extra: Partial<ClaimedJob> = {}): ClaimedJob {
  return {
    jobId: 7,
    leaseToken: 'lease-7',
    leaseExpiresAt: Date.now() + 60_000,
    heartbeatSeconds: 30,
    distribution: 'examples',
    suite: 'main',
    architecture: 'x86_64',
    name: 'hello',
    version: '1.0',
    backend: 'command',
    recipe,
    buildinfo: null,
    artifacts: [],
    previousUnreproducible: 0,
    ...extra,
  };
}

/** A PKGBUILD whose package does not depend on where or when it was built. */
export const REPRODUCIBLE_PKGBUILD = `pkgname=hello-check
pkgver=1.0
pkgrel=1
pkgdesc='reprove check test package'
arch=('any')
license=('MIT')
source=('hello.sh')
sha256sums=('SKIP')
package() {
  install -Dm755 "$srcdir/hello.sh" "$pkgdir/usr/bin/hello-check"
  install -Dm644 /dev/stdin "$pkgdir/usr/share/doc/hello-check/README" <<'EOF'
a reproducible package
EOF
}
`;

/** A PKGBUILD that writes its build directory into the package, as many build systems do. */
export const EMBEDS_PATH_PKGBUILD = REPRODUCIBLE_PKGBUILD.replace('a reproducible package', 'built in @SRCDIR@').replace(
  '\n}\n',
  '\n  sed -i "s|@SRCDIR@|$srcdir|" "$pkgdir/usr/share/doc/hello-check/README"\n}\n',
);

/** A fake pacman for the published build: answers -Qi with a build root's packages, as pacman does. */
const FAKE_PACMAN = `#!/bin/sh
case "$*" in
  *-Qi*) printf 'Name            : %s\\nVersion         : %s\\nArchitecture    : %s\\n\\n' \\
           acl 2.3.2-1 x86_64 \\
           gcc-libs 14.1.1+r58+gfc9fb3ad838-1 x86_64 \\
           python 3.12.4-1 x86_64 \\
           zlib 1:1.3.1-1 x86_64 \\
           ca-certificates-utils 20240618-1 any ;;
esac
exit 0
`;

export interface PublishedArch {
  /** The published package (copied out of the build area). */
  pkg: string;
  /** The directory holding the PKGBUILD (a copy the test keeps). */
  pkgbuildDir: string;
  /** The build area: builddir and startdir are inside; removed unless `keep`. */
  area: string;
}

/**
 * Builds `pkgbuild` with makepkg as an Arch build server would (startdir `start` and
 * builddir `build` in a fresh /tmp/reprove-arch-pub-* area) and copies the package
 * out. The area is removed unless `keep`: a rebuild can then recreate the same
 * directories. With `pacman`, a fake pacman lists five installed packages, which
 * the .BUILDINFO then records.
 */
export function publishArch(t: TestContext, pkgbuild: string, { pacman = false, keep = false } = {}): PublishedArch {
  const d = workdir(t);
  chmodSync(d, 0o755);
  const area = mkdtempSync(join(tmpdir(), 'reprove-arch-pub-'));
  t.after(() => rmSync(area, { recursive: true, force: true }));
  chmodSync(area, 0o755);
  for (const sub of ['start', 'build', 'out', 'home', 'bin']) mkdirSync(join(area, sub));
  writeFileSync(join(area, 'start', 'PKGBUILD'), pkgbuild);
  writeFileSync(join(area, 'start', 'hello.sh'), '#!/bin/sh\necho hello\n');
  writeFileSync(join(area, 'bin', 'pacman'), FAKE_PACMAN, { mode: 0o755 });
  const env = [`HOME=${area}/home`, `BUILDDIR=${area}/build`, `SRCDEST=${area}/build`, `PKGDEST=${area}/out`, 'PKGEXT=.pkg.tar.zst', `PACMAN=${pacman ? `${area}/bin/pacman` : 'true'}`, "PACKAGER='Published Builder <builder@example.org>'"];
  sh(area, `chmod -R a+rwX . && ${isRoot ? 'chown -R nobody . && ' : ''}cd start && ${isRoot ? 'runuser -u nobody -- ' : ''}env ${env.join(' ')} makepkg --nodeps --force >/dev/null 2>&1`);
  const files = readdirSync(join(area, 'out'));
  assert.equal(files.length, 1, `makepkg wrote ${files.join(', ')}`);
  const pkg = join(d, files[0]!);
  writeFileSync(pkg, readFileSync(join(area, 'out', files[0]!)));
  const pkgbuildDir = join(d, 'pkgbuild');
  mkdirSync(pkgbuildDir);
  for (const f of ['PKGBUILD', 'hello.sh']) writeFileSync(join(pkgbuildDir, f), readFileSync(join(area, 'start', f)));
  if (!keep) rmSync(area, { recursive: true, force: true });
  return { pkg, pkgbuildDir, area };
}

// ---- RPMs as koji makes them

export const SDE = 1700000000;
export const HOST = 'buildvm-x86-07.iad2.fedoraproject.org';

const spec = (name: string, version: string, release: string, epoch?: number) => `Name: ${name}
${epoch !== undefined ? `Epoch: ${epoch}\n` : ''}Version: ${version}
Release: ${release}
Summary: ${name} for the reprove tests
License: MIT
BuildArch: noarch
%description
${name}.
%install
mkdir -p %{buildroot}/usr/share/${name}
printf 'hello from ${name}\\n' > %{buildroot}/usr/share/${name}/greeting
%files
/usr/share/${name}/greeting
%changelog
* Tue Nov 14 2023 Packager <p@example.org> - ${version}-${release}
- first
`;

const q = (args: string[]) => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

/**
 * Builds spec `name` (with `epoch` when given) into `dir`: -bs then --rebuild with
 * `defines`, as koji does; with `fromSrpm`, only the --rebuild of that SRPM, as a
 * rebuilder does (rpm carries the SRPM's COOKIE, made from the host and time of
 * -bs, into the binary RPM).
 */
export function rpmBuild(
  dir: string,
  name: string,
  version: string,
  release: string,
  defines: Record<string, string>,
  env: Record<string, string> = {},
  { fromSrpm, epoch }: { fromSrpm?: string; epoch?: number } = {},
): { srpm: string; rpm: string } {
  mkdirSync(dir, { recursive: true });
  let srpm = fromSrpm;
  if (!srpm) {
    writeFileSync(join(dir, `${name}.spec`), spec(name, version, release, epoch));
    sh(dir, `rpmbuild -bs ${q(['--define', `_topdir ${dir}/top`])} ${name}.spec >bs.log 2>&1 || { cat bs.log >&2; exit 1; }`, { SOURCE_DATE_EPOCH: String(SDE) });
    srpm = `${dir}/top/SRPMS/${name}-${version}-${release}.src.rpm`;
  }
  const defs = Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`]);
  sh(dir, `rpmbuild --rebuild ${q(['--define', `_topdir ${dir}/top`, ...defs])} ${srpm} >bb.log 2>&1 || { cat bb.log >&2; exit 1; }`, env);
  return { srpm, rpm: `${dir}/top/RPMS/noarch/${name}-${version}-${release}.noarch.rpm` };
}

/** What koji records as an RPM's payloadhash: its SIGMD5. */
export const payloadHash = (rpm: string): string => sh('/', `rpm -qp --qf '%{SIGMD5}' '${rpm}'`).trim();

/** A buildroot of one RPM and its koji-shaped listing entry. */
export function buildrootListing(d: string): object[] {
  const a = rpmBuild(join(d, 'br-a'), 'fake-gcc', '14.2.1', '3.fc41', {}, { SOURCE_DATE_EPOCH: String(SDE) });
  return [{ rpm_id: 40001, name: 'fake-gcc', version: '14.2.1', release: '3.fc41', epoch: null, arch: 'noarch', build_id: 2500001, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: false, payloadhash: payloadHash(a.rpm) }];
}

/** The published build of hello 1.0-1.fc41: BUILDTIME from SOURCE_DATE_EPOCH (`strict`) or the time of the build. */
export function publishRpm(d: string, strict: boolean): { srpm: string; rpm: string } {
  return rpmBuild(
    join(d, 'koji'),
    'hello',
    '1.0',
    '1.fc41',
    { _buildhost: HOST, clamp_mtime_to_source_date_epoch: '1', ...(strict ? { use_source_date_epoch_as_buildtime: '1' } : { source_date_epoch_from_changelog: '1' }) },
    strict ? { SOURCE_DATE_EPOCH: String(SDE) } : {},
  );
}

/** Signs `rpm` in place with a throwaway key named `who` (made once per GNUPGHOME). */
export function signRpm(d: string, rpm: string, who: string): void {
  const gnupg = join(d, `gnupg-${who}`);
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  sh(
    d,
    `(gpg --batch --list-secret-keys '${who}' >/dev/null 2>&1 || gpg --batch --passphrase '' --quick-gen-key '${who} <${who}@example.org>' rsa2048 sign never >/dev/null 2>&1) && rpmsign --addsign --define '_gpg_name ${who}' --define '__gpg /usr/bin/gpg' '${rpm}' </dev/null >/dev/null 2>&1`,
    { GNUPGHOME: gnupg },
  );
}
