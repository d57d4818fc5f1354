// The Fedora backend on real tools: RPMs built with rpmbuild at test time stand for
// a koji build (its SRPM, its published RPM signed with a throwaway key) and for
// the buildroot koji recorded (a listing shaped like getBuildrootListing's answer).
// The buildroot repository is made with createrepo_c and the mock configuration is
// checked line by line (mock itself needs a Fedora repository, which a Debian host
// does not have); the rebuild runs through rpmbuild on the host and is judged by
// the engine, and by the strict verdict with the signature header transplanted.
// Hostile listings are refused with a BuildInfoError before anything runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { verifySet } from '../src/index.js';
import { BuildInfoError } from '../src/rebuild/buildinfo/build-env.js';
import { DEFAULT_KOJI_PACKAGE_URL, kojiBuildEnv, parseKojiBuildroot, type KojiRpm } from '../src/rebuild/buildinfo/koji.js';
import { buildrootFetcher, checkBuildrootRpm, createFedoraBackend, macroBody, mockConfig, parseFedoraRecipe, prepareMockBuildroot, pyString, rebuildFedora } from '../src/rebuild/backends/fedora.js';
import { LogSink } from '../src/rebuild/log-sink.js';
import { STRICT_RPM_VERDICT, strictRpmVerdict } from '../src/verdict/rpm-strict.js';
import { haveCommand, sh, skipOutsideCi, workdir } from './helpers.js';
import { HOST, payloadHash, rpmBuild, SDE } from './rebuild-fixtures.js';

const skip = skipOutsideCi(!haveCommand('rpmbuild') || !haveCommand('rpm') ? 'rpmbuild or rpm missing' : false);
const noCreaterepo = !haveCommand('createrepo_c') ? 'createrepo_c missing (apt-get install createrepo-c)' : false;

const PACKAGER = 'Fedora Project %(touch PWNED) <eve@example.org>';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Two buildroot RPMs (one with an epoch, one a subpackage-like name of another build) and a koji-shaped listing of them. */
function buildroot(d: string): { listing: object[]; rpms: string[] } {
  const a = rpmBuild(join(d, 'br-a'), 'fake-gcc', '14.2.1', '3.fc41', {}, { SOURCE_DATE_EPOCH: String(SDE) });
  const b = rpmBuild(join(d, 'br-b'), 'fake-make', '4.4.1', '8.fc41', {}, { SOURCE_DATE_EPOCH: String(SDE) }, { epoch: 1 });
  const listing = [
    { rpm_id: 40001, name: 'fake-gcc', version: '14.2.1', release: '3.fc41', epoch: null, arch: 'noarch', build_id: 2500001, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: false, payloadhash: payloadHash(a.rpm) },
    { rpm_id: 40002, name: 'fake-make', version: '4.4.1', release: '8.fc41', epoch: 1, arch: 'noarch', build_id: 2500002, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: true, payloadhash: payloadHash(b.rpm) },
  ];
  return { listing, rpms: [a.rpm, b.rpm] };
}

/** A mock configuration as mock reads it (executed as Python; include() notes the path and sets what a release's configuration sets) and its dnf.conf as dnf reads it (INI sections). */
function readMockConfig(d: string, path: string): { included: string[]; config_opts: Record<string, unknown>; dnf: Record<string, Record<string, string>> } {
  const reader = join(d, 'read-mock-config.py');
  writeFileSync(
    reader,
    [
      'import configparser, json, sys',
      "config_opts = {'macros': {}, 'environment': {}}",
      'included = []',
      // The release's own settings, which the ones written after its include() must replace.
      'def include(path):',
      '    included.append(path)',
      "    config_opts.update({'root': 'fedora-41-x86_64', 'use_bootstrap': True, 'use_bootstrap_image': True, 'package_manager': 'dnf5', 'dnf.conf': '[fedora]\\nbaseurl=https://dl.fedoraproject.org/\\n'})",
      "exec(open(sys.argv[1]).read(), {'config_opts': config_opts, 'include': include})",
      'dnf = configparser.ConfigParser(interpolation=None)',
      "dnf.read_string(config_opts.pop('dnf.conf'))",
      "print(json.dumps({'included': included, 'config_opts': config_opts, 'dnf': {s: dict(dnf[s]) for s in dnf.sections()}}))",
    ].join('\n'),
  );
  return JSON.parse(sh(d, `python3 '${reader}' '${path}'`));
}

const newLog = (d: string) => new LogSink(join(d, `build-${Math.random().toString(36).slice(2)}.log`), 1 << 20);

test('a listing shaped like koji getBuildrootListing parses into a BuildEnv: every RPM with its epoch:version-release, arch and kojipkgs URL', () => {
  const root = parseKojiBuildroot(
    JSON.stringify({
      build: { name: 'hello', version: '2.12', release: '1.fc41', epoch: null, arch: 'x86_64', buildtime: SDE, defines: { _buildhost: HOST, distribution: 'Fedora Project', vendor: 'Fedora Project', bugurl: 'https://bugz.fedoraproject.org/hello' } },
      buildroot: [
        { rpm_id: 1, name: 'gcc', version: '14.2.1', release: '3.fc41', epoch: null, arch: 'x86_64', build_id: 7, external_repo_id: 0, external_repo_name: 'INTERNAL', is_update: false },
        { rpm_id: 2, name: 'glibc-devel', version: '2.40', release: '9.fc41', epoch: null, arch: 'x86_64', build_id: 8, external_repo_name: 'INTERNAL', build_name: 'glibc', build_version: '2.40', build_release: '9.fc41' },
        { rpm_id: 3, name: 'make', version: '4.4.1', release: '8.fc41', epoch: 1, arch: 'x86_64', build_id: 9 },
        { rpm_id: 4, name: 'libstdc++', version: '14.2.1', release: '3.fc41', epoch: '0', arch: 'i686', build_id: 7, build_name: 'gcc', build_version: '14.2.1', build_release: '3.fc41' },
      ],
    }),
    'hello.buildroot.json',
  );
  const env = kojiBuildEnv(root);
  assert.equal(env.distribution, 'fedora');
  assert.deepEqual(env.source, { name: 'hello', version: '2.12-1.fc41' });
  assert.equal(env.architecture, 'x86_64');
  assert.equal(env.buildDate, SDE);
  assert.deepEqual(env.settings, { _buildhost: HOST, distribution: 'Fedora Project', vendor: 'Fedora Project', bugurl: 'https://bugz.fedoraproject.org/hello' });
  assert.deepEqual(env.packages, [
    { name: 'gcc', version: '14.2.1-3.fc41', architecture: 'x86_64', url: 'https://kojipkgs.fedoraproject.org/packages/gcc/14.2.1/3.fc41/x86_64/gcc-14.2.1-3.fc41.x86_64.rpm' },
    { name: 'glibc-devel', version: '2.40-9.fc41', architecture: 'x86_64', url: 'https://kojipkgs.fedoraproject.org/packages/glibc/2.40/9.fc41/x86_64/glibc-devel-2.40-9.fc41.x86_64.rpm' },
    { name: 'make', version: '1:4.4.1-8.fc41', architecture: 'x86_64', url: 'https://kojipkgs.fedoraproject.org/packages/make/4.4.1/8.fc41/x86_64/make-4.4.1-8.fc41.x86_64.rpm' },
    { name: 'libstdc++', version: '0:14.2.1-3.fc41', architecture: 'i686', url: 'https://kojipkgs.fedoraproject.org/packages/gcc/14.2.1/3.fc41/i686/libstdc%2B%2B-14.2.1-3.fc41.i686.rpm' },
  ]);
  assert.equal(root.rpms[2]!.build.recorded, false, 'make: the directory is guessed from its own name');
  assert.match(DEFAULT_KOJI_PACKAGE_URL, /^https:\/\/kojipkgs\.fedoraproject\.org\/packages\//);
});

test("the buildroot recreated for mock: each RPM checked against koji, createrepo_c with a buildsys-build group listing them all, and the mock configuration as mock and dnf read it, the release's settings replaced", { skip: skip || noCreaterepo }, async (t) => {
  const d = workdir(t);
  const br = buildroot(d);
  // fake-gcc through a package URL pattern, fake-make through a URL of its own.
  const pattern = `${pathToFileURL(d).href}/br-a/top/RPMS/{arch}/{name}-{version}-{release}.{arch}.rpm`;
  const listing = [br.listing[0], { ...br.listing[1], url: pathToFileURL(br.rpms[1]!).href }];
  const root = parseKojiBuildroot(JSON.stringify({ build: { name: 'hello', version: '1.0', release: '1.fc41', buildtime: SDE, defines: { _buildhost: HOST } }, buildroot: listing }), 'l.json', { packageUrl: pattern });
  const work = join(d, 'work');
  mkdirSync(work);
  const log = newLog(d);
  const signal = new AbortController().signal;
  const prepared = await prepareMockBuildroot({
    root,
    build: root.build!,
    config: 'fedora-41-x86_64',
    macros: { _buildhost: HOST, packager: PACKAGER, clamp_mtime_to_source_date_epoch: '1', use_source_date_epoch_as_buildtime: '1' },
    environment: { SOURCE_DATE_EPOCH: String(SDE) },
    workDir: work,
    fetchRpm: buildrootFetcher(undefined, { allowFileUrls: true, signal }),
    log,
    signal,
    limits: { timeoutMs: 120_000 },
  });
  await log.close();
  const repo = join(work, 'repo');
  assert.deepEqual(readdirSync(repo).sort(), ['comps.xml', 'fake-gcc-14.2.1-3.fc41.noarch.rpm', 'fake-make-4.4.1-8.fc41.noarch.rpm', 'repodata']);
  const comps = readFileSync(join(repo, 'comps.xml'), 'utf8');
  assert.match(comps, /<id>buildsys-build<\/id>/);
  assert.deepEqual([...comps.matchAll(/<packagereq type="mandatory">([^<]+)<\/packagereq>/g)].map((m) => m[1]), ['fake-gcc', 'fake-make']);
  const repomd = readFileSync(join(repo, 'repodata', 'repomd.xml'), 'utf8');
  assert.match(repomd, /<data type="group">/, 'createrepo_c took the comps file as the group file');
  assert.match(repomd, /<data type="primary">/);
  // The repository lists exactly the two RPMs, at their exact versions.
  const primaryHref = /<data type="primary">[\s\S]*?<location href="([^"]+)"/.exec(repomd)![1]!;
  const primary = sh(repo, `zcat -f '${primaryHref}'`);
  assert.match(primary, /packages="2"/);
  assert.match(primary, /<version epoch="1" ver="4.4.1" rel="8.fc41"\/>/);

  // Read as mock reads it (executed as Python) and as dnf reads its dnf.conf (an INI file).
  const read = readMockConfig(d, prepared.configPath);
  assert.deepEqual(read.included, ['/etc/mock/fedora-41-x86_64.cfg']);
  assert.match(String(read.config_opts['root']), /^reprove-hello-[0-9a-f]{12}$/);
  assert.deepEqual(read.config_opts, {
    root: read.config_opts['root'],
    use_bootstrap: false,
    use_bootstrap_image: false,
    chroot_setup_cmd: 'install @buildsys-build',
    package_manager: 'dnf',
    // % doubled: rpm expands it to the literal text, and runs nothing.
    macros: { '%_buildhost': HOST, '%packager': 'Fedora Project %%(touch PWNED) <eve@example.org>', '%clamp_mtime_to_source_date_epoch': '1', '%use_source_date_epoch_as_buildtime': '1' },
    environment: { SOURCE_DATE_EPOCH: String(SDE) },
  });
  // No repository of the host (reposdir), only the one made here, and exactly the listed packages (best, no weak deps).
  assert.deepEqual(Object.keys(read.dnf), ['main', 'reprove-buildroot']);
  assert.deepEqual(read.dnf['main'], { keepcache: '1', reposdir: '/dev/null', gpgcheck: '0', assumeyes: '1', install_weak_deps: '0', best: '1', metadata_expire: '0', protected_packages: '' });
  assert.deepEqual(read.dnf['reprove-buildroot'], { name: 'the buildroot of the original koji build', baseurl: `file://${repo}`, enabled: '1', gpgcheck: '0', skip_if_unavailable: 'False' });
  assert.equal(readFileSync(prepared.configPath, 'utf8'), prepared.config);
  assert.equal(prepared.unhashed, 0);
});

test('values that would break out of the mock configuration or run in rpm are escaped: quotes, newlines and % stay data', () => {
  assert.equal(pyString("a'b\\c\nd"), "'a\\x27b\\x5cc\\x0ad'");
  assert.equal(pyString('é☃'), "'\\xe9\\u2603'");
  assert.equal(macroBody('%(id) %{name}'), '%%(id) %%{name}');
  const cfg = mockConfig({ include: '/etc/mock/fedora-41-x86_64.cfg', root: 'r', repoDir: '/w/repo', macros: { vendor: "x'); import os; os.system('id') #" }, environment: {} });
  assert.ok(cfg.includes("config_opts['macros']['%vendor'] = 'x\\x27); import os; os.system(\\x27id\\x27) \\x23'"), cfg);
  assert.throws(() => mockConfig({ include: '/x.cfg', root: 'r', repoDir: '/w/"""/repo', macros: {}, environment: {} }), /Cannot write a mock configuration/);
});

test('a buildroot RPM that is not what koji recorded is refused: another payloadhash, another version', { skip }, async (t) => {
  const d = workdir(t);
  const br = buildroot(d);
  const [gcc] = parseKojiBuildroot(JSON.stringify(br.listing), 'l.json').rpms as [KojiRpm];
  await checkBuildrootRpm(br.rpms[0]!, gcc);
  await assert.rejects(checkBuildrootRpm(br.rpms[0]!, { ...gcc, payloadhash: '0'.repeat(32) }), /payloadhash mismatch: koji recorded 0{32}/);
  await assert.rejects(checkBuildrootRpm(br.rpms[0]!, { ...gcc, release: '4.fc41' }), /is not the listed package: its header says fake-gcc 14.2.1-3.fc41 noarch/);
  await assert.rejects(checkBuildrootRpm(br.rpms[1]!, gcc), /is not the listed package/);
});

/** The published build: SRPM, and its binary RPM built as koji would (host, packager; BUILDTIME as `env` makes it). */
function published(d: string, defines: Record<string, string>, env: Record<string, string>) {
  return rpmBuild(join(d, 'koji'), 'hello', '1.0', '1.fc41', { packager: macroBody(PACKAGER), clamp_mtime_to_source_date_epoch: '1', ...defines }, env);
}

test('rebuilt with rpmbuild on the host from a listing without BUILDTIME or _buildhost: REPRODUCIBLE under the RPM policy, BUILDTIME and BUILDHOST ignored, and the buildroot said not recreated', { skip }, async (t) => {
  const d = workdir(t);
  const pub = published(d, { _buildhost: HOST, source_date_epoch_from_changelog: '1' }, {});
  const listing = join(d, 'hello.buildroot.json');
  writeFileSync(listing, JSON.stringify({ build: { name: 'hello', version: '1.0', release: '1.fc41', defines: { packager: PACKAGER } }, buildroot: buildroot(d).listing }));
  const out = join(d, 'out');
  const work = join(d, 'work');
  mkdirSync(out);
  mkdirSync(work);
  await new Promise((r) => setTimeout(r, 1100)); // a second later: another BUILDTIME
  const log = newLog(d);
  const outcome = await rebuildFedora(listing, pub.srpm, { outDir: out, workDir: work, log, options: { mock: false }, limits: { timeoutMs: 120_000 } });
  await log.close();
  assert.equal(outcome.status, 'built', JSON.stringify(outcome));
  assert.ok(outcome.status === 'built');
  assert.deepEqual(outcome.artifacts.map((a) => a.slice(out.length + 1)), ['hello-1.0-1.fc41.noarch.rpm']);
  assert.match(outcome.environment.notReproduced[0]!, /^buildroot: not recreated \(mock is turned off\); rebuilt with rpmbuild --rebuild on the host/);
  assert.ok(outcome.environment.notReproduced.some((l) => l.startsWith('%_buildhost: ')));
  assert.ok(outcome.environment.notReproduced.includes('BUILDTIME of the original build: not recorded; it is the time of the rebuild'), outcome.environment.notReproduced.join('\n'));
  assert.ok(outcome.environment.notReproduced.some((l) => l.startsWith('SOURCE_DATE_EPOCH of the original build: not recorded; taken from the changelog')), outcome.environment.notReproduced.join('\n'));
  assert.ok(!existsSync(join(work, 'PWNED')) && !existsSync(join(work, 'rpmbuild', 'BUILD', 'PWNED')), 'the packager value ran nothing');
  assert.equal(sh('/', `rpm -qp --qf '%{PACKAGER}' '${outcome.artifacts[0]}'`), PACKAGER);

  const verdict = await verifySet([pub.rpm], outcome.artifacts, { tmpDir: d });
  assert.equal(verdict.verdict, 'REPRODUCIBLE', JSON.stringify(verdict.artifacts[0]?.differences));
  const ignored = new Set(verdict.artifacts[0]!.ignored.map((e) => (e as { field?: string }).field).filter(Boolean));
  assert.ok(ignored.has('BUILDTIME') && ignored.has('BUILDHOST'), [...ignored].join(', '));

  // Not strict: BUILDTIME and BUILDHOST kept the headers apart.
  const strict = await strictRpmVerdict(pub.rpm, outcome.artifacts[0]!, d);
  assert.equal(strict.identical, false);
  assert.deepEqual(strict.differingFields?.filter((f) => f === 'BUILDTIME' || f === 'BUILDHOST'), ['BUILDTIME', 'BUILDHOST']);
  assert.ok(!strict.differingFields?.includes('payload'), strict.differingFields?.join(', '));
});

test(`rebuilt with the original BUILDTIME and _buildhost, the signed published RPM is ${STRICT_RPM_VERDICT}: its signature header transplanted onto the rebuild gives its bytes`, { skip: skip || (!haveCommand('gpg') || !haveCommand('rpmsign') ? 'gpg or rpmsign missing' : false) }, async (t) => {
  const d = workdir(t);
  const pub = published(d, { _buildhost: HOST, use_source_date_epoch_as_buildtime: '1' }, { SOURCE_DATE_EPOCH: String(SDE) });
  // Sign it with a throwaway key, as Fedora signs what it publishes.
  const gnupg = join(d, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  sh(d, `gpg --batch --passphrase '' --quick-gen-key 'Reprove Test <test@example.org>' rsa2048 sign never >/dev/null 2>&1 && rpmsign --addsign --define '_gpg_name Reprove Test' --define '__gpg /usr/bin/gpg' '${pub.rpm}' </dev/null >/dev/null 2>&1`, { GNUPGHOME: gnupg });
  assert.match(sh('/', `rpm -qp --qf '%{RSAHEADER:pgpsig}' '${pub.rpm}' 2>/dev/null`), /^RSA\/SHA\d+, /);

  // The listing records neither: they are read from the published RPM, as the Fedora rebuilder does.
  const listing = join(d, 'hello.buildroot.json');
  writeFileSync(listing, JSON.stringify(buildroot(d).listing));
  const out = join(d, 'out');
  const work = join(d, 'work');
  mkdirSync(out);
  mkdirSync(work);
  const log = newLog(d);
  const outcome = await rebuildFedora(listing, pub.srpm, { outDir: out, workDir: work, log, published: [pub.rpm], options: { mock: false }, limits: { timeoutMs: 120_000 } });
  await log.close();
  assert.ok(outcome.status === 'built', JSON.stringify(outcome));
  assert.ok(outcome.environment.reproduced.includes(`%_buildhost ${JSON.stringify(HOST)}`), outcome.environment.reproduced.join('\n'));
  assert.ok(outcome.environment.reproduced.includes(`BUILDTIME and SOURCE_DATE_EPOCH ${SDE} (from the published RPM, whose newest file mtime is its BUILDTIME) (%use_source_date_epoch_as_buildtime, file mtimes clamped to it)`), outcome.environment.reproduced.join('\n'));
  const rebuilt = outcome.artifacts[0]!;
  assert.notEqual(sha256(rebuilt), sha256(pub.rpm), 'the published one is signed, the rebuild not');

  const strict = await strictRpmVerdict(pub.rpm, rebuilt, d);
  assert.deepEqual({ identical: strict.identical, differingFields: strict.differingFields }, { identical: true, differingFields: undefined });
  assert.equal(sha256(strict.transplanted), sha256(pub.rpm));
  // The verdict says so: identical but for the signature header, above REPRODUCIBLE.
  assert.equal((await verifySet([pub.rpm], [rebuilt], { tmpDir: d })).verdict, STRICT_RPM_VERDICT);
});

test('hostile listings are refused with a BuildInfoError naming the field, and nothing runs', async (t) => {
  const d = workdir(t);
  const entry = { rpm_id: 1, name: 'gcc', version: '14.2.1', release: '3.fc41', epoch: null, arch: 'x86_64', build_id: 7 };
  const build = { name: 'hello', version: '1.0', release: '1.fc41' };
  const cases: [what: string, listing: string | Buffer, field: string | undefined][] = [
    ['a huge name', JSON.stringify([{ ...entry, name: 'a'.repeat(5000) }]), 'buildroot[0].name'],
    ['../ in a name', JSON.stringify([{ ...entry, name: '../../etc/passwd' }]), 'buildroot[0].name'],
    ['.. as the source package of an entry', JSON.stringify([{ ...entry, build_name: '..', build_version: '1', build_release: '1' }]), 'buildroot[0].build_name'],
    ['a slash in an arch', JSON.stringify([{ ...entry, arch: 'x86_64/../..' }]), 'buildroot[0].arch'],
    ['shell metacharacters in a version', JSON.stringify([{ ...entry, version: '1.0;rm -rf ~' }]), 'buildroot[0].version'],
    ['command substitution in a release', JSON.stringify([{ ...entry, release: '$(id)' }]), 'buildroot[0].release'],
    ['a backtick in the build version', JSON.stringify({ build: { ...build, version: '1`id`' }, buildroot: [entry] }), 'build.version'],
    ['a negative epoch', JSON.stringify([{ ...entry, epoch: -1 }]), 'buildroot[0].epoch'],
    ['an epoch that is not a number', JSON.stringify([{ ...entry, epoch: '1; id' }]), 'buildroot[0].epoch'],
    ['a newline in a define', JSON.stringify({ build: { ...build, defines: { packager: 'x\n%define evil 1' } }, buildroot: [entry] }), 'build.defines.packager'],
    ['Jinja in a define', JSON.stringify({ build: { ...build, defines: { vendor: "{{ __import__('os').system('id') }}" } }, buildroot: [entry] }), 'build.defines.vendor'],
    ['a define name that is not a macro name', JSON.stringify({ build: { ...build, defines: { 'a b': 'x' } }, buildroot: [entry] }), 'build.defines'],
    ['a huge define', JSON.stringify({ build: { ...build, defines: { vendor: 'v'.repeat(100_000) } }, buildroot: [entry] }), 'build.defines.vendor'],
    ['a URL with ..', JSON.stringify([{ ...entry, url: 'https://kojipkgs.example/packages/%2e%2e/x.rpm' }]), 'buildroot[0].url'],
    ['a URL of another scheme', JSON.stringify([{ ...entry, url: 'ftp://example.org/x.rpm' }]), 'buildroot[0].url'],
    ['a source package in the buildroot', JSON.stringify([{ ...entry, arch: 'src' }]), 'buildroot[0].arch'],
    ['the same package twice', JSON.stringify([entry, entry]), 'buildroot[1]'],
    ['bad UTF-8', Buffer.concat([Buffer.from('[{"name":"gcc'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]')]), undefined],
    ['not JSON', 'buildroot: gcc', undefined],
    ['an empty buildroot', '[]', 'buildroot'],
    ['an unknown top-level key', JSON.stringify({ buildroot: [entry], exec: 'id' }), 'exec'],
  ];
  for (const [what, listing, field] of cases) {
    let err: unknown;
    try {
      parseKojiBuildroot(typeof listing === 'string' ? listing : listing, 'hostile.json');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof BuildInfoError, `${what}: ${String(err)}`);
    assert.equal(err.field, field, `${what}: ${err.message}`);
    assert.match(err.message, /hostile\.json/);
  }

  // Through rebuildFedora: the error comes before anything is fetched, written or run.
  const listing = join(d, 'hostile.json');
  writeFileSync(listing, JSON.stringify([{ ...entry, version: '$(touch PWNED)' }]));
  const out = join(d, 'out');
  const work = join(d, 'work');
  mkdirSync(out);
  mkdirSync(work);
  const log = newLog(d);
  await assert.rejects(rebuildFedora(listing, join(d, 'no-such.src.rpm'), { outDir: out, workDir: work, log, options: { mock: false } }), BuildInfoError);
  await log.close();
  assert.deepEqual([readdirSync(out), readdirSync(work), existsSync(join(d, 'PWNED'))], [[], [], false]);

  // The recipe is checked too.
  assert.match(String(parseFedoraRecipe({ srpm: { url: 'x', sha256: 'a'.repeat(64) }, config: '../../etc/passwd' })), /recipe\.config/);
  assert.match(String(parseFedoraRecipe({ srpm: { url: 'x', sha256: 'a'.repeat(64) }, config: 'fedora-41-x86_64', defines: { packager: 'a\nb' } })), /recipe\.defines\.packager holds a control character/);
});

test('the fedora backend answers a worker job: listing, SRPM and published RPM fetched by digest, rebuilt on the host, the RPM collected', { skip }, async (t) => {
  const d = workdir(t);
  const pub = published(d, { _buildhost: HOST, use_source_date_epoch_as_buildtime: '1' }, { SOURCE_DATE_EPOCH: String(SDE) });
  const listing = join(d, 'listing.json');
  writeFileSync(listing, JSON.stringify({ build: { name: 'hello', version: '1.0', release: '1.fc41', buildtime: SDE, defines: { _buildhost: HOST, packager: PACKAGER } }, buildroot: buildroot(d).listing }));
  const url = (p: string) => pathToFileURL(p).href;
  const job = {
    jobId: 1, leaseToken: 't', leaseExpiresAt: Date.now(), heartbeatSeconds: 30, distribution: 'fedora', suite: 'f41', architecture: 'noarch', name: 'hello', version: '1.0-1.fc41', backend: 'fedora',
    recipe: { srpm: { url: url(pub.srpm), sha256: sha256(pub.srpm) }, config: 'fedora-41-x86_64' },
    buildinfo: { url: url(listing), sha256: sha256(listing) },
    artifacts: [{ name: 'hello-1.0-1.fc41.noarch.rpm', url: url(pub.rpm), sha256: sha256(pub.rpm) }],
    previousUnreproducible: 0,
  };
  const fetched: string[] = [];
  const fetch = async (u: string, sha: string, dest: string, what: string) => {
    fetched.push(what);
    const src = new URL(u).pathname;
    assert.equal(sha256(src), sha, what);
    writeFileSync(dest, readFileSync(src));
  };
  const out = join(d, 'out');
  const work = join(d, 'work');
  mkdirSync(out);
  mkdirSync(work);
  const log = newLog(d);
  const backend = createFedoraBackend({ mock: false });
  assert.equal(await backend.available(), true);
  const outcome = await backend.build({ job, workDir: work, outDir: out, log, signal: new AbortController().signal, limits: { timeoutMs: 120_000 }, fetch });
  await log.close();
  assert.deepEqual(fetched, ['the buildroot listing of hello 1.0-1.fc41 (job 1)', 'the SRPM of hello 1.0-1.fc41 (job 1)', 'published RPM hello-1.0-1.fc41.noarch.rpm of hello 1.0-1.fc41 (job 1)']);
  assert.ok(outcome.status === 'built', JSON.stringify(outcome));
  assert.equal((await verifySet([pub.rpm], outcome.artifacts, { tmpDir: d })).verdict, 'BIT_IDENTICAL');
});

test('where mock and the release configuration are installed, mock rebuilds the SRPM with the written configuration and only its binary RPMs are collected', { skip: skip || noCreaterepo }, async (t) => {
  const d = workdir(t);
  const pub = published(d, { _buildhost: HOST, use_source_date_epoch_as_buildtime: '1' }, { SOURCE_DATE_EPOCH: String(SDE) });
  const br = buildroot(d);
  const listing = join(d, 'listing.json');
  writeFileSync(listing, JSON.stringify(br.listing.map((e, i) => ({ ...e, url: pathToFileURL(br.rpms[i]!).href }))));
  // A stand-in for mock: records its arguments, puts an RPM and an SRPM in --resultdir.
  const bin = join(d, 'bin');
  const etc = join(d, 'etc-mock');
  mkdirSync(bin);
  mkdirSync(etc);
  writeFileSync(join(etc, 'fedora-41-x86_64.cfg'), "config_opts['root'] = 'fedora-41-x86_64'\n");
  writeFileSync(
    join(bin, 'mock'),
    `#!/bin/bash\nprintf '%s\\n' "$@" > '${d}/mock.args'\nwhile [ $# -gt 0 ]; do [ "$1" = --resultdir ] && res="$2"; shift; done\ncp '${pub.rpm}' '${pub.srpm}' "$res"/\n`,
    { mode: 0o755 },
  );
  const path = process.env['PATH'];
  process.env['PATH'] = `${bin}:${path}`;
  t.after(() => {
    process.env['PATH'] = path;
  });
  const out = join(d, 'out');
  const work = join(d, 'work');
  mkdirSync(out);
  mkdirSync(work);
  const log = newLog(d);
  const outcome = await rebuildFedora(listing, pub.srpm, { outDir: out, workDir: work, log, published: [pub.rpm], options: { mockConfigDir: etc }, limits: { timeoutMs: 120_000 } });
  await log.close();
  assert.ok(outcome.status === 'built', JSON.stringify(outcome));
  assert.deepEqual(readFileSync(join(d, 'mock.args'), 'utf8').split('\n'), ['-r', join(work, 'mock.cfg'), '--rebuild', pub.srpm, '--resultdir', join(work, 'result'), '']);
  assert.deepEqual(outcome.artifacts, [join(out, 'hello-1.0-1.fc41.noarch.rpm')]);
  assert.match(outcome.environment.reproduced[0]!, /^buildroot: exactly the 2 RPMs of the koji buildroot listing/);
  const cfg = readFileSync(join(work, 'mock.cfg'), 'utf8');
  assert.ok(cfg.includes(`include('${etc}/fedora-41-x86_64.cfg')\n`), cfg);
  assert.ok(cfg.includes(`config_opts['macros']['%_buildhost'] = '${HOST}'\n`) && cfg.includes(`config_opts['environment']['SOURCE_DATE_EPOCH'] = '${SDE}'\n`), cfg);
});
