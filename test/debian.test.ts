// The debian backend on a real package from Debian's archive: hello's source is
// fetched with apt, built once in a chroot made by the backend's own code to make
// the "published" .debs and their .buildinfo (written by dpkg-buildpackage), then
// rebuilt from that .buildinfo alone, from a clean state, through the backend:
// every .deb is bit-identical. Then the same with another Build-Path, and with a
// .buildinfo naming a version the archive does not have (the infrastructure failure
// lists it). Last, the same rebuild through the service: `reprove serve` and a
// `reprove worker` reusing the chroot through $REPROVE_DEBIAN_CACHE, the .buildinfo
// and the .debs synced and uploaded as blobs. These tests need root, mmdebstrap
// and deb.debian.org; they skip, with the reason, where one is missing, except in
// CI, where only an unreachable archive skips them. The chroot is made once per run
// and shared through the cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { ClaimedJob } from '../src/api/schemas.js';
import { verifySet } from '../src/index.js';
import type { RecordedPackage } from '../src/rebuild/buildinfo/build-env.js';
import { parseDebianBuildinfo } from '../src/rebuild/buildinfo/debian.js';
import { debianAvailable, makeDebianBackend, rebuildDebian } from '../src/rebuild/backends/debian.js';
import { buildInChroot, ensureChroot, PrivateApt, resolveArchive, type ArchiveConfig, type RunContext } from '../src/rebuild/backends/debian-chroot.js';
import { LogSink } from '../src/rebuild/log-sink.js';
import { uploadLocalFiles } from '../src/rebuild/sources/local-files.js';
import { fetchVerified } from '../src/worker/fetch.js';
import { workdir } from './helpers.js';
import { claimedJob } from './rebuild-fixtures.js';
import { startDaemon, startWorker } from './service-support.js';

const SUITE = 'bookworm';
const ARCHIVE = 'http://deb.debian.org/debian/';
const RECIPE = { archive: ARCHIVE, suites: [SUITE] };
const BUILD_PATH = '/build/reproducible-path';

function archiveReachable(): boolean {
  try {
    execFileSync('apt-helper', ['download-file', `${ARCHIVE}dists/${SUITE}/Release`, '/dev/null'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    try {
      // apt-helper refuses some targets; fall back to node's fetch below in a child (synchronous here).
      execFileSync(process.execPath, ['-e', `fetch(${JSON.stringify(`${ARCHIVE}dists/${SUITE}/Release`)},{method:'HEAD',signal:AbortSignal.timeout(15000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], { stdio: 'ignore', timeout: 20_000 });
      return true;
    } catch {
      return false;
    }
  }
}

const UNREACHABLE = `${ARCHIVE} is not reachable`;
function skipReason(): string | false {
  const available = debianAvailable();
  const reason = available !== true ? available : !archiveReachable() ? UNREACHABLE : false;
  if (reason && process.env['CI'] && reason !== UNREACHABLE) return false; // in CI, run and fail loudly
  return reason;
}
const skip = skipReason();

const root = mkdtempSync(join(tmpdir(), 'reprove-debian-'));
const cacheDir = join(root, 'cache');
after(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function logSink(dir: string, name: string): LogSink {
  mkdirSync(dir, { recursive: true });
  return new LogSink(join(dir, name), 8 << 20);
}

function ctxFor(log: LogSink): RunContext {
  return { log, signal: new AbortController().signal, timeoutMs: 15 * 60_000 };
}

/** The stanza of `name` in the private apt's Sources indexes. */
function sourceStanza(apt: PrivateApt, name: string): Map<string, string> {
  const lists = join(apt.dir, 'lists');
  for (const f of readdirSync(lists).filter((x) => x.endsWith('_Sources'))) {
    for (const para of readFileSync(join(lists, f), 'utf8').split(/\n\n+/)) {
      if (!para.startsWith(`Package: ${name}\n`)) continue;
      const m = new Map<string, string>();
      for (const l of para.split('\n')) {
        const i = l.indexOf(': ');
        if (i > 0 && !l.startsWith(' ')) m.set(l.slice(0, i), l.slice(i + 2));
      }
      return m;
    }
  }
  throw new Error(`${name} is not in the Sources index`);
}

/** Essential packages plus build-essential plus the build dependencies, resolved by apt to exact versions (what a fresh build chroot holds). */
function resolveBuildChroot(apt: PrivateApt, roots: string[]): RecordedPackage[] {
  const essential: string[] = [];
  const lists = join(apt.dir, 'lists');
  for (const f of readdirSync(lists).filter((x) => x.endsWith('_Packages'))) {
    for (const para of readFileSync(join(lists, f), 'utf8').split(/\n\n+/)) {
      if (/^Essential: yes$/m.test(para)) essential.push(/^Package: (.*)$/m.exec(para)![1]!);
    }
  }
  const out = execFileSync('apt-get', ['-s', '-q', 'install', '--no-install-recommends', 'build-essential', ...roots, ...essential], { env: apt.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const pkgs: RecordedPackage[] = [];
  for (const m of out.matchAll(/^Inst (\S+) \((\S+) /gm)) pkgs.push({ name: m[1]!, version: m[2]! });
  assert.ok(pkgs.length > 50, `apt resolved only ${pkgs.length} packages`);
  return pkgs;
}

interface Published {
  dir: string;
  buildinfo: string;
  debs: string[];
  archive: ArchiveConfig;
  version: string;
  packages: RecordedPackage[];
}

let publishedOnce: Promise<Published> | undefined;
/** hello from bookworm, built once in a chroot of the backend's making: the .debs and the .buildinfo a buildd would publish. */
function published(): Promise<Published> {
  publishedOnce ??= (async () => {
    const dir = join(root, 'published');
    const work = join(root, 'published-work');
    mkdirSync(work, { recursive: true });
    const log = logSink(root, 'published.log');
    const ctx = ctxFor(log);
    const archive = resolveArchive(RECIPE, undefined);
    assert.ok(typeof archive !== 'string', String(archive));
    const apt = new PrivateApt(join(work, 'apt'), archive, 'amd64');
    try {
      await apt.setup();
      await apt.update(ctx);
      const src = sourceStanza(apt, 'hello');
      const version = src.get('Version')!;
      const buildDeps = (src.get('Build-Depends') ?? '').split(',').map((d) => d.trim().replace(/\s*\(.*$/, '').replace(/-compat$/, ''));
      const packages = resolveBuildChroot(apt, buildDeps.filter(Boolean));
      const chroot = await ensureChroot(ctx, { cacheDir, archive, arch: 'amd64', packages, workDir: work });
      const dsc = await apt.downloadSource(ctx, 'hello', version, join(work, 'source'));
      const sourceFiles = readdirSync(join(work, 'source'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(work, 'source', e.name));
      const upstream = version.replace(/-[^-]*$/, '');
      const names = [`hello_${version}_amd64.deb`, `hello-dbgsym_${version}_amd64.deb`, `hello_${version}_amd64.buildinfo`];
      const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/sbuild-nonexistent', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', DEB_BUILD_OPTIONS: 'parallel=2' };
      const got = await buildInChroot(ctx, { tarball: chroot.tarball, root: join(work, 'chroot'), sourceFiles, dscName: dsc.slice(dsc.lastIndexOf('/') + 1), buildPath: `${BUILD_PATH}/hello-${upstream}`, env, args: ['-b', '--no-sign'], collect: names, outDir: dir });
      rmSync(join(work, 'chroot'), { recursive: true, force: true });
      const buildinfo = got.find((g) => g.endsWith('.buildinfo'));
      assert.ok(buildinfo, `no .buildinfo among ${got.join(', ')}`);
      return { dir, buildinfo, debs: got.filter((g) => g.endsWith('.deb')).sort(), archive, version, packages };
    } finally {
      await log.close();
    }
  })();
  return publishedOnce;
}

function job(buildinfo: string, recipe: unknown = RECIPE): ClaimedJob {
  const buildinfoRef = { url: pathToFileURL(buildinfo).href, sha256: sha256(buildinfo) };
  return claimedJob(recipe, { jobId: 18, leaseToken: 'lease-18', leaseExpiresAt: Date.now() + 3_600_000, distribution: 'debian', suite: SUITE, architecture: 'amd64', version: '0', backend: 'debian', buildinfo: buildinfoRef });
}

/** A copy of the .buildinfo with `edit` applied to its text. */
function edited(src: string, name: string, edit: (text: string) => string): string {
  const dir = join(root, 'edited');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  writeFileSync(out, edit(readFileSync(src, 'utf8')));
  return out;
}

test('debian: a .buildinfo written by dpkg-buildpackage parses into the BuildEnv of the build', { skip, timeout: 15 * 60_000 }, async () => {
  const p = await published();
  const env = parseDebianBuildinfo(readFileSync(p.buildinfo), 'hello.buildinfo');
  assert.equal(env.distribution, 'debian');
  assert.deepEqual(env.source, { name: 'hello', version: p.version });
  assert.equal(env.architecture, 'amd64');
  assert.equal(env.buildPath, `${BUILD_PATH}/hello-${p.version.replace(/-[^-]*$/, '')}`);
  assert.equal(env.environment['DEB_BUILD_OPTIONS'], 'parallel=2');
  assert.equal(env.environment['LANG'], 'C.UTF-8');
  assert.match(env.environment['SOURCE_DATE_EPOCH'] ?? '', /^\d+$/);
  assert.ok(env.buildDate && Math.abs(env.buildDate - Date.now() / 1000) < 3600, `Build-Date ${env.buildDate}`);
  assert.deepEqual(env.expected.map((e) => e.name).sort(), p.debs.map((d) => d.slice(d.lastIndexOf('/') + 1)).sort());
  for (const e of env.expected) assert.equal(e.sha256, sha256(join(p.dir, e.name)));
  // Every recorded package is one the chroot was made of, at the same version.
  const made = new Map(p.packages.map((x) => [x.name, x.version]));
  for (const r of env.packages) assert.equal(made.get(r.name), r.version, `${r.name} ${r.version}`);
  assert.ok(env.packages.some((x) => x.name === 'debhelper') && env.packages.some((x) => x.name === 'dpkg-dev'));
});

test('debian: hello rebuilt through the backend from its .buildinfo alone is bit-identical, every .deb', { skip, timeout: 15 * 60_000 }, async (t) => {
  const p = await published();
  const dir = join(root, 'rebuild');
  for (const d of ['jobs/job-18/work', 'jobs/job-18/out']) mkdirSync(join(dir, d), { recursive: true });
  const log = logSink(dir, 'build.log');
  const backend = makeDebianBackend({ cacheDir });
  const outcome = await backend.build({
    job: job(p.buildinfo),
    workDir: join(dir, 'jobs/job-18/work'),
    outDir: join(dir, 'jobs/job-18/out'),
    log,
    signal: new AbortController().signal,
    limits: { timeoutMs: 15 * 60_000 },
    fetch: (url, sha, dest, what) => fetchVerified(url, sha, dest, what, { allowFileUrls: true }).then(() => undefined),
  });
  await log.close();
  const text = readFileSync(join(dir, 'build.log'), 'utf8');
  assert.equal(outcome.status, 'built', `${outcome.status === 'built' ? '' : outcome.message}\n${text.slice(-3000)}`);
  assert.ok(outcome.status === 'built');
  const verdict = await verifySet(p.debs, outcome.artifacts);
  assert.equal(verdict.verdict, 'BIT_IDENTICAL', JSON.stringify(verdict.artifacts.map((a) => [a.name, a.verdict])));
  assert.equal(verdict.artifacts.length, p.debs.length);
  assert.ok(outcome.environment.reproduced.some((r) => r.startsWith('packages: all ')));
  assert.ok(outcome.environment.reproduced.some((r) => r.startsWith('Build-Path /build/reproducible-path/hello-')));
  assert.ok(outcome.environment.reproduced.some((r) => r.includes('DEB_BUILD_OPTIONS="parallel=2"')));
  assert.ok(outcome.environment.notReproduced.some((r) => r.startsWith('kernel:')));
  assert.ok(!outcome.environment.notReproduced.some((r) => r.startsWith('packages: also installed')), 'the chroot holds exactly the recorded packages');
  assert.match(text, /from the cache/); // the chroot the published build was made in: the same package set
  for (const d of p.debs) assert.match(text, new RegExp(`${d.slice(d.lastIndexOf('/') + 1).replace(/[.+]/g, '\\$&')}: SHA-256 [0-9a-f]{64}, the one the \\.buildinfo records`));
  t.diagnostic(`reproduced: ${outcome.environment.reproduced.join('; ')}`);
  t.diagnostic(`not reproduced: ${outcome.environment.notReproduced.join('; ')}`);
});

test('debian: rebuilt at another Build-Path, hello is still bit-identical (dpkg maps the build path away) or the cause names the build path', { skip, timeout: 15 * 60_000 }, async (t) => {
  const p = await published();
  const bi = edited(p.buildinfo, 'other-path.buildinfo', (s) => s.replace(/^Build-Path: .*$/m, 'Build-Path: /tmp/somewhere-else/hello-src'));
  const dir = join(root, 'other-path');
  const log = logSink(dir, 'build.log');
  const outcome = await rebuildDebian(bi, { ...RECIPE, outDir: join(dir, 'out'), workDir: join(dir, 'work'), log, signal: new AbortController().signal, cacheDir, timeoutMs: 15 * 60_000 });
  await log.close();
  assert.equal(outcome.status, 'built', outcome.status === 'built' ? '' : outcome.message);
  assert.ok(outcome.status === 'built');
  assert.match(readFileSync(join(dir, 'build.log'), 'utf8'), /from the cache/);
  assert.ok(outcome.environment.reproduced.includes('Build-Path /tmp/somewhere-else/hello-src'));
  const verdict = await verifySet(p.debs, outcome.artifacts);
  if (verdict.verdict === 'BIT_IDENTICAL') {
    t.diagnostic('hello does not capture its build path: BIT_IDENTICAL at another Build-Path');
  } else {
    assert.equal(verdict.verdict, 'UNREPRODUCIBLE');
    const causes = verdict.artifacts.flatMap((a) => a.issues.map((i) => i.id));
    t.diagnostic(`causes: ${causes.join(', ')}`);
    assert.ok(causes.some((c) => /build[-_]path/.test(c)), `causes: ${causes.join(', ')}`);
  }
});

test('debian: a .buildinfo naming versions the archive does not have stops before building, listing each name=version', { skip, timeout: 10 * 60_000 }, async () => {
  const p = await published();
  const bi = edited(p.buildinfo, 'missing.buildinfo', (s) =>
    s.replace(/^ (debhelper) \(= [^)]+\)/m, ' $1 (= 999.1-1)').replace(/^ (make) \(= [^)]+\)/m, ' $1 (= 0.1-0reprove1)'),
  );
  const dir = join(root, 'missing');
  const log = logSink(dir, 'build.log');
  const outcome = await rebuildDebian(bi, { ...RECIPE, outDir: join(dir, 'out'), workDir: join(dir, 'work'), log, signal: new AbortController().signal, cacheDir, timeoutMs: 10 * 60_000 });
  await log.close();
  assert.equal(outcome.status, 'failed');
  assert.ok(outcome.status === 'failed');
  assert.equal(outcome.failureClass, 'infrastructure');
  assert.match(outcome.message, /2 recorded build dependencies are not available in http:\/\/deb\.debian\.org\/debian\/ \(bookworm\): debhelper=999\.1-1, make=0\.1-0reprove1$/);
  const text = readFileSync(join(dir, 'build.log'), 'utf8');
  assert.doesNotMatch(text, /mmdebstrap|dpkg-buildpackage/);
});

test('debian: serve and a worker (debian backend) rebuild hello end to end from its .buildinfo and published .debs, uploaded as blobs: BIT_IDENTICAL, with the recreated environment', { skip, timeout: 10 * 60_000 }, async (t) => {
  const p = await published();
  const dir = workdir(t);
  const { url, admin } = await startDaemon(t, dir, 'admin-token-for-the-debian-service-test');
  await admin.sync(
    await uploadLocalFiles(admin, {
      distribution: 'debian',
      suite: SUITE,
      architecture: 'amd64',
      packages: [
        {
          name: 'hello',
          version: p.version,
          backend: 'debian',
          recipe: RECIPE,
          buildinfo: { url: pathToFileURL(p.buildinfo).href, sha256: sha256(p.buildinfo) },
          artifacts: p.debs.map((d) => ({ name: basename(d), url: pathToFileURL(d).href, sha256: sha256(d) })),
        },
      ],
    }),
  );
  // The worker finds the chroot the published build was made in through $REPROVE_DEBIAN_CACHE: no mmdebstrap here.
  const { waitFor } = await startWorker(t, dir, url, admin, ['debian'], { REPROVE_DEBIAN_CACHE: cacheDir });
  const pkg = await waitFor('the verdict', 8 * 60, async () => {
    const list = await admin.packages({});
    return list.items.length === 1 && list.items[0]!.verdict ? list.items[0]! : undefined;
  });
  assert.equal(pkg.verdict, 'BIT_IDENTICAL');
  const result = await admin.result(pkg.resultId!);
  assert.ok(result.log, 'the build log is stored');
  const text = await (await admin.blob(result.log)).text();
  assert.match(text, /from the cache/);
  const env = result.environment as { reproduced: string[]; notReproduced: string[] } | null | undefined;
  assert.ok(env?.reproduced.some((r) => r.startsWith('packages: all ')), JSON.stringify(env));
  assert.ok(env?.reproduced.some((r) => r.startsWith('Build-Path /build/reproducible-path/hello-')), JSON.stringify(env));
  assert.ok(env?.reproduced.some((r) => r.includes('DEB_BUILD_OPTIONS="parallel=2"')), JSON.stringify(env));
  assert.ok(env?.notReproduced.some((r) => r.startsWith('kernel:')), JSON.stringify(env));
  t.diagnostic(`reproduced: ${env?.reproduced.join('; ')}`);
});
