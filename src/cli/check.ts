// `reprove check`: one package rebuilt in its recorded environment and verified,
// with one command, like makerepropkg. The inputs come from files (a Debian
// .buildinfo, an Arch package and its PKGBUILD, a koji buildroot listing with the
// SRPM and RPMs); the build, the verdict, the explanation and the reports go
// through the worker's own job body (src/worker/run-job.ts), so a packager at a
// terminal sees what the service would record.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import type { BuildOutcome } from '../rebuild/backend.js';
import { rebuildArch, type GitPkgbuild } from '../rebuild/backends/arch.js';
import { rebuildDebian } from '../rebuild/backends/debian.js';
import { DebianAbortedError, DebianInfraError, PrivateApt, resolveArchive } from '../rebuild/backends/debian-chroot.js';
import { rebuildFedora } from '../rebuild/backends/fedora.js';
import { BuildInfoError } from '../rebuild/buildinfo/build-env.js';
import { DEBIAN_BUILDINFO_LIMITS, parseDebianBuildinfo } from '../rebuild/buildinfo/debian.js';
import { LogSink } from '../rebuild/log-sink.js';
import { SandboxError } from '../rebuild/sandbox.js';
import { builtinPolicies, resolvePolicies } from '../verdict/policy.js';
import { isReproduced, verdictData } from '../verdict/verify.js';
import { buildAndVerify, errorResult, writeJobReports, type JobResult, type Stage } from '../worker/run-job.js';
import { limitFlags, limitsFrom, stop, UsageError } from './options.js';
import { renderVerdicts } from './verify.js';

export const checkUsage = `Usage: reprove check [options] INPUT...

Rebuilds one package in the environment its build information records, and
verifies the rebuild against the published artifacts:

  reprove check hello_2.12-1_amd64.buildinfo
      Debian: the published .debs are taken from beside the .buildinfo, or
      downloaded from the archive (apt-get download NAME=VERSION, checked against
      its Checksums-Sha256); rebuilt in a chroot of the recorded versions.
  reprove check cosign-1.10.1-2-x86_64.pkg.tar.zst --pkgbuild DIR
  reprove check cosign-1.10.1-2-x86_64.pkg.tar.zst --pkgbuild-git URL --ref REF
      Arch: the .BUILDINFO inside the package, rebuilt from the PKGBUILD.
  reprove check --buildroot LISTING.json hello-2.12-1.fc40.src.rpm hello-2.12-1.fc40.x86_64.rpm [RPM...]
      Fedora: the koji buildroot listing, the SRPM rebuilt with mock (or
      rpmbuild on the host), compared with the RPMs given.

Prints the verdict (BIT_IDENTICAL, IDENTICAL_EXCEPT_SIGNATURE, REPRODUCIBLE
under the policy, UNREPRODUCIBLE with the known causes and their fixes, FTBFS,
ERROR with the reason) and what of the environment was and was not recreated;
writes verdict.json, build.log, the rebuilt artifacts (rebuilt/) and, when
anything differs, report.html and report.json into the output directory.
Exit status: 0 when reproducible, 1 when not (or the build failed), 2 on error.

  --out DIR              the output directory (default ./reprove-check-NAME)
  --keep                 keep the build tree (its path is printed)
  --archive URL          Debian: the archive (default deb.debian.org; a URL with
                         {timestamp} is filled in from Build-Date)
  --snapshot             Debian: use snapshot.debian.org at the Build-Date
  --suite NAME           Debian: a suite to look in (repeatable)
  --arch-archive PATTERN Arch: the URL pattern of the recorded packages
  --pkgbuild DIR         Arch: the directory holding the PKGBUILD
  --pkgbuild-git URL     Arch: a git repository holding the PKGBUILD ...
  --ref REF              ... at this commit, tag or branch
  --buildroot FILE       Fedora: the koji buildroot listing (JSON)
  --mock-config NAME     Fedora: the release's mock configuration (default from
                         the release, e.g. fedora-40-x86_64)
  --no-mock              Fedora: rebuild with rpmbuild on the host
  --timeout SECONDS      limit of the build
  --policy NAME|FILE     also apply a policy, as reprove verify --policy
  plus the limit flags of reprove diff
`;

type Kind = 'debian' | 'archlinux' | 'fedora';

interface Prepared {
  kind: Kind;
  /** The package as messages name it. */
  pkg: string;
  published: string[];
  build: () => Promise<BuildOutcome>;
}

const PKG_FILE = /\.pkg\.tar(\.(zst|xz|gz|bz2|lz4|lzo|lrz|Z))?$/;
const DEB_FILE = /^([a-z0-9][a-z0-9+.-]*)_([A-Za-z0-9.+~-]+)_([a-z0-9-]+)\.(u?deb)$/;

/** The input's name without its extension: what the default output directory is named after. */
function inputName(path: string): string {
  return basename(path)
    .replace(/\.buildinfo$/, '')
    .replace(PKG_FILE, '')
    .replace(/\.src\.rpm$/, '')
    .replace(/[^A-Za-z0-9._+~-]/g, '_')
    .slice(0, 200);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function regularFile(path: string, what: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UsageError(`Cannot read ${what} ${path}: no such file`);
  if (!st.isFile()) throw new UsageError(`Cannot use ${what} ${path}: not a regular file`);
}

/** A failure before the build: the check's ERROR, with its message. */
class CheckInputError extends Error {}

export async function runCheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      keep: { type: 'boolean' },
      archive: { type: 'string' },
      snapshot: { type: 'boolean' },
      suite: { type: 'string', multiple: true },
      'arch-archive': { type: 'string' },
      pkgbuild: { type: 'string' },
      'pkgbuild-git': { type: 'string' },
      ref: { type: 'string' },
      buildroot: { type: 'string' },
      'mock-config': { type: 'string' },
      'no-mock': { type: 'boolean' },
      timeout: { type: 'string' },
      policy: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      ...limitFlags,
    },
  });
  if (values.help) {
    process.stdout.write(checkUsage);
    return 0;
  }

  // ---- which kind of check, from the arguments alone
  let kind: Kind;
  if (values.buildroot !== undefined) {
    kind = 'fedora';
    if (positionals.length < 2) throw new UsageError(`reprove check --buildroot LISTING takes the SRPM and at least one RPM, got ${positionals.length} arguments\n\n${checkUsage}`);
    if (!positionals[0]!.endsWith('.src.rpm')) throw new UsageError(`reprove check --buildroot: the first argument must be the SRPM (*.src.rpm), not ${positionals[0]}`);
    for (const r of positionals.slice(1)) if (!r.endsWith('.rpm') || r.endsWith('.src.rpm')) throw new UsageError(`reprove check --buildroot: ${r} is not a binary RPM (*.rpm)`);
  } else if (positionals.length === 1 && positionals[0]!.endsWith('.buildinfo')) {
    kind = 'debian';
  } else if (positionals.length === 1 && PKG_FILE.test(positionals[0]!)) {
    kind = 'archlinux';
    if ((values.pkgbuild === undefined) === (values['pkgbuild-git'] === undefined)) throw new UsageError('reprove check PACKAGE.pkg.tar.*: give the PKGBUILD with --pkgbuild DIR or with --pkgbuild-git URL --ref REF');
    if (values['pkgbuild-git'] !== undefined && values.ref === undefined) throw new UsageError('reprove check: --pkgbuild-git needs --ref REF (a commit, tag or branch)');
  } else {
    throw new UsageError(`reprove check takes a .buildinfo, a .pkg.tar.* with --pkgbuild, or --buildroot LISTING with an SRPM and RPMs; got ${positionals.length ? positionals.join(' ') : 'nothing'}\n\n${checkUsage}`);
  }
  const debianOnly = ['archive', 'snapshot', 'suite'] as const;
  const archOnly = ['pkgbuild', 'pkgbuild-git', 'ref', 'arch-archive'] as const;
  const fedoraOnly = ['mock-config', 'no-mock'] as const;
  for (const [k, only] of [['debian', debianOnly], ['archlinux', archOnly], ['fedora', fedoraOnly]] as const)
    if (kind !== k) for (const o of only) if (values[o] !== undefined) throw new UsageError(`reprove check: --${o} is for a ${k} package`);
  for (const p of positionals) await regularFile(p, 'the input');
  if (values.buildroot !== undefined) await regularFile(values.buildroot, 'the buildroot listing');
  if (values.pkgbuild !== undefined) {
    const st = await stat(values.pkgbuild).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`--pkgbuild ${values.pkgbuild}: not a directory`);
    await regularFile(join(values.pkgbuild, 'PKGBUILD'), 'the PKGBUILD');
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    if (!/^\d{1,7}$/.test(values.timeout) || Number(values.timeout) === 0) throw new UsageError(`--timeout takes a whole number of seconds, not ${JSON.stringify(values.timeout)}`);
    timeoutMs = Number(values.timeout) * 1000;
  }
  for (const p of values.policy ?? [])
    if (!builtinPolicies.some((b) => b.name === p) && !(await stat(p).then((s) => s.isFile(), () => false)))
      throw new UsageError(`--policy ${p}: neither a built-in policy (${builtinPolicies.map((b) => b.name).join(', ')}) nor a readable file`);
  const { policies, selected } = await resolvePolicies(values.policy ?? []);
  const limits = limitsFrom(values);

  // ---- the output directory and the build tree
  const main = kind === 'fedora' ? positionals[0]! : positionals[0]!;
  const name = inputName(main);
  const out = resolve(values.out ?? `reprove-check-${name}`);
  await mkdir(out, { recursive: true });
  // Only what a check writes is replaced.
  for (const f of ['build.log', 'verdict.json', 'report.json', 'report.html', 'rebuilt']) await rm(join(out, f), { recursive: true, force: true });
  const rebuiltDir = join(out, 'rebuilt');
  await mkdir(rebuiltDir);
  const tree = await mkdtemp(join(process.env['REPROVE_TMPDIR'] ?? tmpdir(), `reprove-check-${name.slice(0, 60)}-`));
  const paths = { published: join(tree, 'published'), work: join(tree, 'work'), tmp: join(tree, 'tmp') };
  for (const p of Object.values(paths)) await mkdir(p, { recursive: true });
  const log = new LogSink(join(out, 'build.log'), 64 << 20);
  const signal = stop.signal;
  const tty = process.stderr.isTTY === true;
  const progress = (line: string) => {
    if (tty) process.stderr.write(`reprove check: ${line}\n`);
  };
  const stage: Stage = async (s, fn) => {
    progress(s === 'build' ? 'build: rebuilding (recreating the environment, then building; see build.log)' : s === 'verify' ? 'compare: comparing the rebuild with the published artifacts' : s);
    return fn();
  };
  log.note(`reprove check ${kind}: ${[...positionals, ...(values.buildroot ? [`--buildroot ${values.buildroot}`] : [])].join(' ')}`);

  let result: JobResult;
  try {
    progress(`environment: reading the build information of ${basename(main)}${kind === 'debian' ? ' and finding the published .debs' : ''}`);
    let prepared: Prepared | JobResult;
    try {
      prepared =
        kind === 'debian'
          ? await prepareDebian(positionals[0]!, { ...(values.archive !== undefined ? { archive: values.archive } : {}), ...(values.snapshot ? { snapshot: true } : {}), ...(values.suite ? { suites: values.suite } : {}) }, paths, rebuiltDir, log, signal, values.keep ?? false, timeoutMs)
          : kind === 'archlinux'
            ? prepareArch(positionals[0]!, values.pkgbuild ?? { git: values['pkgbuild-git']!, ref: values.ref! }, values['arch-archive'], paths, rebuiltDir, log, signal, timeoutMs)
            : prepareFedora(values.buildroot!, positionals[0]!, positionals.slice(1), values['mock-config'], values['no-mock'] ?? false, paths, rebuiltDir, log, signal, timeoutMs);
    } catch (e) {
      if (signal.aborted || e instanceof DebianAbortedError) throw e;
      if (e instanceof CheckInputError || e instanceof BuildInfoError || e instanceof DebianInfraError || e instanceof SandboxError) prepared = errorResult(log, 'infrastructure', e.message);
      else throw e;
    }
    if ('verdict' in prepared) result = prepared;
    else {
      const p = prepared;
      const r = await buildAndVerify({
        pkg: p.pkg,
        backendName: p.kind,
        published: p.published,
        build: p.build,
        log,
        signal,
        tmpDir: paths.tmp,
        verify: { policies, selected, limits, exclude: values.exclude ?? [] },
        stage,
      });
      if (r === 'aborted') throw new Error(`the check of ${p.pkg} was stopped`);
      result = r;
    }
    log.note(`verdict ${result.verdict}${result.failureClass ? ` (${result.failureClass})` : ''}: ${result.message.split('\n')[0]}`);
    const reports = await writeJobReports(result, out);
    const { difference, verdicts, ...rest } = result;
    void difference;
    await writeFile(
      join(out, 'verdict.json'),
      JSON.stringify({ input: positionals.map((p) => resolve(p)), backend: kind, ...rest, rebuilt: rest.rebuilt.map((r) => basename(r)), ...(verdicts ? { artifacts: verdictData(verdicts).artifacts, missing: verdicts.missing, extra: verdicts.extra } : {}) }, null, 2) + '\n',
    );
    await log.close();
    process.stdout.write(render(result, out, reports));
    if (values.keep) process.stdout.write(`build tree kept in ${tree}\n`);
  } finally {
    await log.close().catch(() => {});
    if (!values.keep) await rm(tree, { recursive: true, force: true }).catch(() => {});
  }
  if (result.verdict === 'ERROR') return 2;
  return isReproduced(result.verdict) ? 0 : 1;
}

function render(r: JobResult, out: string, reports: { json?: string; html?: string }): string {
  const lines: string[] = [];
  if (r.verdicts) lines.push(renderVerdicts(r.verdicts).trimEnd());
  else lines.push(`${r.verdict}${r.failureClass && r.verdict !== 'FTBFS' ? ` (${r.failureClass})` : ''}: ${r.message}`);
  if (r.environment) {
    lines.push('environment recreated:');
    for (const l of r.environment.reproduced) lines.push(`  + ${l}`);
    if (r.environment.reproduced.length === 0) lines.push('  (nothing)');
    lines.push('environment not recreated:');
    for (const l of r.environment.notReproduced) lines.push(`  - ${l}`);
    if (r.environment.notReproduced.length === 0) lines.push('  (nothing)');
  }
  lines.push(`verdict: ${r.verdict}`);
  lines.push(`written to ${out}: verdict.json, build.log${reports.html ? ', report.html, report.json' : ''}${r.rebuilt.length ? `, rebuilt/ (${r.rebuilt.length} artifact${r.rebuilt.length > 1 ? 's' : ''})` : ''}`);
  return lines.join('\n') + '\n';
}

type Paths = { published: string; work: string; tmp: string };

// ---- Debian: a .buildinfo; the .debs beside it or from the archive

async function prepareDebian(
  buildinfo: string,
  archiveOptions: { archive?: string; snapshot?: boolean; suites?: string[] },
  paths: Paths,
  outDir: string,
  log: LogSink,
  signal: AbortSignal,
  keep: boolean,
  timeoutMs: number | undefined,
): Promise<Prepared> {
  const size = (await stat(buildinfo)).size;
  if (size > DEBIAN_BUILDINFO_LIMITS.fileBytes) throw new BuildInfoError(`Cannot read the .buildinfo: ${size} bytes (at most ${DEBIAN_BUILDINFO_LIMITS.fileBytes})`, basename(buildinfo));
  const env = parseDebianBuildinfo(await readFile(buildinfo), basename(buildinfo));
  const pkg = `${env.source.name} ${env.source.version}`;
  const debs = env.expected.filter((e) => DEB_FILE.test(e.name));
  if (debs.length === 0) throw new CheckInputError(`Cannot check ${pkg}: the .buildinfo lists no .deb in Checksums-Sha256`);
  const binaryVersion = typeof env.settings['Version'] === 'string' ? env.settings['Version'] : env.source.version;

  const published: string[] = [];
  const toFetch: { name: string; sha256: string; spec: string; pkgName: string; arch: string }[] = [];
  const beside = dirname(resolve(buildinfo));
  for (const d of debs) {
    const path = join(beside, d.name);
    const st = await lstat(path).catch(() => undefined);
    const m = DEB_FILE.exec(d.name)!;
    if (st) {
      if (!st.isFile()) throw new CheckInputError(`Cannot use ${path}: not a regular file`);
      const got = await sha256File(path);
      if (d.sha256 && got !== d.sha256) throw new CheckInputError(`Cannot use ${path}: its SHA-256 is ${got}, the .buildinfo records ${d.sha256} (not the published file)`);
      published.push(path);
      log.note(`published ${d.name}: beside the .buildinfo, SHA-256 checked`);
    } else {
      const version = binaryVersion.replace(/^\d+:/, '') === m[2] ? binaryVersion : m[2]!;
      toFetch.push({ name: d.name, sha256: d.sha256 ?? '', spec: `${m[1]}=${version}`, pkgName: m[1]!, arch: m[3]! });
    }
  }
  if (toFetch.length) {
    const archive = resolveArchive(archiveOptions, env.buildDate);
    if (typeof archive === 'string') throw new CheckInputError(`Cannot fetch the published .debs of ${pkg}: ${archive}`);
    const ctx = { log, signal, timeoutMs: 10 * 60_000 };
    const apt = new PrivateApt(join(paths.work, 'apt-published'), archive, env.architecture);
    await apt.setup();
    await apt.update(ctx);
    const avail = await apt.available();
    const missing = toFetch.filter((f) => !avail.get(f.spec)?.has(f.arch)).map((f) => f.spec);
    if (missing.length)
      throw new CheckInputError(`Cannot fetch the published .debs of ${pkg}: ${missing.length === 1 ? 'it is' : 'they are'} not beside the .buildinfo and not in ${archive.url} (${archive.suites.join(', ')}): ${missing.join(', ')}`);
    const dl = join(paths.work, 'download');
    await apt.downloadBinaries(ctx, toFetch.map((f) => f.spec), dl);
    const files = await readdir(dl);
    for (const f of toFetch) {
      const found = files.find((x) => x.startsWith(`${f.pkgName}_`) && x.endsWith(`_${f.arch}.${f.name.endsWith('.udeb') ? 'udeb' : 'deb'}`));
      if (!found) throw new CheckInputError(`Cannot fetch ${f.name}: apt-get download ${f.spec} left no such file`);
      const dest = join(paths.published, f.name);
      await rename(join(dl, found), dest);
      const got = await sha256File(dest);
      if (f.sha256 && got !== f.sha256) throw new CheckInputError(`Cannot use ${f.name} from ${archive.url}: its SHA-256 is ${got}, the .buildinfo records ${f.sha256} (the archive's ${f.spec} is not the build the .buildinfo describes)`);
      published.push(dest);
      log.note(`published ${f.name}: apt-get download ${f.spec}, SHA-256 checked`);
    }
  }
  const cacheDir = process.env['REPROVE_DEBIAN_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'reprove', 'debian-chroots');
  return {
    kind: 'debian',
    pkg,
    published,
    build: async () => {
      const { buildEnv, ...outcome } = await rebuildDebian(buildinfo, { ...archiveOptions, outDir, workDir: paths.work, log, signal, cacheDir, keep, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      void buildEnv;
      return outcome as BuildOutcome;
    },
  };
}

// ---- Arch: the package (its .BUILDINFO inside) and its PKGBUILD

function prepareArch(pkgPath: string, pkgbuild: string | GitPkgbuild, archive: string | undefined, paths: Paths, outDir: string, log: LogSink, signal: AbortSignal, timeoutMs: number | undefined): Prepared {
  return {
    kind: 'archlinux',
    pkg: basename(pkgPath),
    published: [resolve(pkgPath)],
    build: async () =>
      (
        await rebuildArch(resolve(pkgPath), {
          pkgbuild: typeof pkgbuild === 'string' ? resolve(pkgbuild) : pkgbuild,
          outDir,
          workDir: paths.work,
          log,
          signal,
          ...(archive !== undefined ? { archive } : {}),
          limits: timeoutMs !== undefined ? { timeoutMs } : {},
        })
      ).outcome,
  };
}

// ---- Fedora: the koji buildroot listing, the SRPM, the published RPMs

function prepareFedora(listing: string, srpm: string, rpms: string[], config: string | undefined, noMock: boolean, paths: Paths, outDir: string, log: LogSink, signal: AbortSignal, timeoutMs: number | undefined): Prepared {
  return {
    kind: 'fedora',
    pkg: basename(srpm).replace(/\.src\.rpm$/, ''),
    published: rpms.map((r) => resolve(r)),
    build: () =>
      rebuildFedora(resolve(listing), resolve(srpm), {
        outDir,
        workDir: paths.work,
        log,
        signal,
        published: rpms.map((r) => resolve(r)),
        ...(config !== undefined ? { config } : {}),
        options: noMock ? { mock: false } : {},
        ...(timeoutMs !== undefined ? { limits: { timeoutMs } } : {}),
      }),
  };
}
