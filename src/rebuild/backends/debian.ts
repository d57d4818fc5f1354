// The `debian` backend: what debrebuild does. From the job's .buildinfo, a chroot
// made by mmdebstrap from a configured archive (Debian's by default, or a
// snapshot-style URL template filled in with the build's date) holding exactly the
// Installed-Build-Depends versions, checked against the archive before anything is
// built: a missing version is an infrastructure failure listing every missing
// name=version, never a build with something else. The chroot tarball is cached
// by the SHA-256 of its package set. The source package comes from the same
// archive through apt (its files checked against the signed Sources index); it is
// built with dpkg-buildpackage at the recorded Build-Path, with the recorded
// environment, umask 022, the recorded architecture (a foreign one is refused),
// and no network; the .debs the .buildinfo lists are collected.
// The recipe: { archive?: url or template with {timestamp}, snapshot?: boolean,
// suites?: string[], components?: string[] }.
// rebuildDebian() is the same without a daemon, for `reprove check`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { FetchError } from '../../worker/fetch.js';
import { failedBeforeBuild, type Backend, type BuildEnvironment, type BuildOutcome, type BuildRequest } from '../backend.js';
import { BuildInfoError, type BuildEnv } from '../buildinfo/build-env.js';
import { DEBIAN_BUILDINFO_LIMITS, parseDebianBuildinfo } from '../buildinfo/debian.js';
import type { LogSink } from '../log-sink.js';
import { SandboxError } from '../sandbox.js';
import { which } from '../which.js';
import {
  buildInChroot,
  buildTypeArgument,
  DebianAbortedError,
  DebianBuildError,
  DebianInfraError,
  ensureChroot,
  HOST_PATH,
  mmdebstrapMode,
  PrivateApt,
  resolveArchive,
  type RunContext,
} from './debian-chroot.js';

export interface DebianRecipe {
  /** The archive's URL, or a template with {timestamp} (snapshot.debian.org's layout) filled in from Build-Date. */
  archive?: string;
  /** Use a snapshot archive (by default https://snapshot.debian.org/archive/debian/{timestamp}/). */
  snapshot?: boolean;
  /** The suites to look in (default: unstable, testing and stable; unstable for a snapshot). */
  suites?: string[];
  components?: string[];
}

/** The recipe, or what is wrong with it. */
export function parseDebianRecipe(value: unknown): DebianRecipe | string {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return 'the recipe is not an object';
  const r = value as Record<string, unknown>;
  const out: DebianRecipe = {};
  for (const k of Object.keys(r)) if (!['archive', 'snapshot', 'suites', 'components'].includes(k)) return `recipe.${k} is not a setting of the debian backend (archive, snapshot, suites, components)`;
  if (r['archive'] !== undefined) {
    if (typeof r['archive'] !== 'string' || r['archive'].length > 512) return 'recipe.archive is not a URL';
    out.archive = r['archive'];
  }
  if (r['snapshot'] !== undefined) {
    if (typeof r['snapshot'] !== 'boolean') return 'recipe.snapshot is not true or false';
    out.snapshot = r['snapshot'];
  }
  for (const k of ['suites', 'components'] as const) {
    const v = r[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length === 0 || v.length > 16 || !v.every((s) => typeof s === 'string')) return `recipe.${k} is not a list of 1 to 16 names`;
    out[k] = v as string[];
  }
  return out;
}

export interface DebianRebuildOptions extends DebianRecipe {
  /** The rebuilt .debs go here. */
  outDir: string;
  /** A directory this rebuild owns (apt state, the unpacked chroot, the source). */
  workDir: string;
  log: LogSink;
  signal: AbortSignal;
  /** Where chroot tarballs are cached (default: $REPROVE_DEBIAN_CACHE, else debian-chroots beside workDir). */
  cacheDir?: string;
  /** The keyring the archive's Release files are checked with. */
  keyring?: string;
  /** Time limit of each step (mmdebstrap, apt, the build), in milliseconds. */
  timeoutMs?: number;
  /** Address-space limit of the build's processes. */
  memoryBytes?: number;
  /** Keep the unpacked chroot after the build (for `--keep`). */
  keep?: boolean;
}

export type DebianOutcome = BuildOutcome & { buildEnv?: BuildEnv };

const TOOLS = ['mmdebstrap', 'apt-get', 'unshare', 'tar', 'dpkg'];

export function debianAvailable(): true | string {
  const missing = TOOLS.filter((p) => !which(p, `${process.env['PATH'] ?? ''}:${HOST_PATH}`));
  if (missing.length) return `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed (apt-get install mmdebstrap apt util-linux tar dpkg)`;
  if (mmdebstrapMode() !== 'root') return 'the debian backend builds in a chroot unpacked from a tarball, which needs root (an unprivileged build through mmdebstrap --mode=unshare is not implemented yet)';
  return true;
}

function hostArchitecture(): string {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8', timeout: 10_000, env: { PATH: HOST_PATH } }).trim();
}

/** The source tree's default name when no Build-Path is recorded: source-upstreamversion, as dpkg-source names it. */
function defaultBuildPath(env: BuildEnv): string {
  const upstream = env.source.version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
  return `/build/reproducible-path/${env.source.name}-${upstream}`;
}

function describe(env: BuildEnv): string {
  return `${env.source.name} ${env.source.version}`;
}

/** The parts of the environment recreated and not, for a parsed .buildinfo and what was done with it. */
function environmentReport(env: BuildEnv, done: { packages?: boolean; extra?: string[]; buildPath?: string; archive?: string; hostKernel?: string }): BuildEnvironment {
  const reproduced: string[] = [];
  const notReproduced: string[] = [];
  if (done.packages) reproduced.push(`packages: all ${env.packages.length} Installed-Build-Depends at their recorded versions, from ${done.archive}`);
  else notReproduced.push(`packages: the ${env.packages.length} Installed-Build-Depends were not installed (the rebuild stopped before)`);
  if (done.extra?.length) notReproduced.push(`packages: also installed, not recorded: ${done.extra.slice(0, 50).join(', ')}${done.extra.length > 50 ? ` and ${done.extra.length - 50} more` : ''}`);
  if (env.buildPath && done.buildPath) reproduced.push(`Build-Path ${env.buildPath}`);
  else if (done.buildPath) notReproduced.push(`Build-Path: not recorded; built at ${done.buildPath}`);
  reproduced.push(`architecture ${env.architecture}`);
  const vars = Object.keys(env.environment).sort();
  if (vars.length) reproduced.push(`environment: ${vars.map((k) => `${k}=${JSON.stringify(env.environment[k])}`).join(' ')}`);
  if (env.environment['SOURCE_DATE_EPOCH'] === undefined) notReproduced.push('SOURCE_DATE_EPOCH: not recorded (dpkg takes it from debian/changelog)');
  reproduced.push('umask 022', 'network: none (a network namespace of its own, as on Debian\'s buildds)');
  notReproduced.push(`kernel: the worker's${done.hostKernel ? ` (${done.hostKernel})` : ''}${typeof env.settings['Build-Kernel-Version'] === 'string' ? `, not the recorded ${env.settings['Build-Kernel-Version']}` : ''}`);
  notReproduced.push('hostname, time of day, CPU: the worker\'s');
  notReproduced.push('build user: root inside the chroot (Debian\'s buildds build as an unprivileged user)');
  const tainted = env.settings['Build-Tainted-By'];
  if (Array.isArray(tainted) && tainted.length) notReproduced.push(`Build-Tainted-By: ${tainted.join(', ')} (recorded; the chroot is not checked for it)`);
  return { reproduced, notReproduced };
}

/** Rebuilds what a .buildinfo describes. Throws BuildInfoError (before running anything) when the file cannot be used. */
export async function rebuildDebian(buildinfoPath: string, opts: DebianRebuildOptions): Promise<DebianOutcome> {
  const size = (await stat(buildinfoPath)).size;
  if (size > DEBIAN_BUILDINFO_LIMITS.fileBytes) throw new BuildInfoError(`Cannot read the .buildinfo: ${size} bytes (at most ${DEBIAN_BUILDINFO_LIMITS.fileBytes})`, basename(buildinfoPath));
  const env = parseDebianBuildinfo(await readFile(buildinfoPath), basename(buildinfoPath));
  const pkg = describe(env);
  const fail = (cls: 'ftbfs' | 'infrastructure', message: string, e: BuildEnvironment): DebianOutcome => ({ ...failedBeforeBuild(cls, message, e), buildEnv: env });
  const ctx: RunContext = { log: opts.log, signal: opts.signal, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.memoryBytes !== undefined ? { memoryBytes: opts.memoryBytes } : {}) };
  let report = environmentReport(env, {});

  const available = debianAvailable();
  if (available !== true) return fail('infrastructure', `Cannot rebuild ${pkg}: ${available}`, report);
  const hostArch = hostArchitecture();
  if (env.architecture !== hostArch) return fail('infrastructure', `Cannot rebuild ${pkg}: it was built on ${env.architecture} and this worker is ${hostArch} (foreign architectures are not rebuilt)`, report);
  if (env.packages.length === 0) return fail('infrastructure', `Cannot rebuild ${pkg}: the .buildinfo records no Installed-Build-Depends, so the build environment cannot be recreated`, report);
  const archive = resolveArchive(opts, env.buildDate);
  if (typeof archive === 'string') return fail('infrastructure', `Cannot rebuild ${pkg}: ${archive}`, report);
  const hostKernel = (() => {
    try {
      return execFileSync('uname', ['-r'], { encoding: 'utf8', timeout: 10_000, env: { PATH: HOST_PATH } }).trim();
    } catch {
      return undefined;
    }
  })();
  const buildPath = env.buildPath ?? defaultBuildPath(env);
  const cacheDir = opts.cacheDir ?? process.env['REPROVE_DEBIAN_CACHE'] ?? resolve(opts.workDir, '..', 'debian-chroots');
  const root = join(opts.workDir, 'chroot');
  opts.log.note(`rebuilding ${pkg} (${env.architecture}) from ${archive.url} (${archive.suites.join(', ')}): ${env.packages.length} recorded build dependencies, build path ${buildPath}`);

  try {
    const apt = new PrivateApt(join(opts.workDir, 'apt'), archive, env.architecture);
    await apt.setup();
    await apt.update(ctx);
    const missing = await apt.missing(env.packages);
    if (missing.length) {
      return fail('infrastructure', `Cannot rebuild ${pkg}: ${missing.length} recorded build ${missing.length === 1 ? 'dependency is' : 'dependencies are'} not available in ${archive.url} (${archive.suites.join(', ')}): ${missing.join(', ')}`, report);
    }
    opts.log.note(`all ${env.packages.length} recorded versions are in the archive`);

    const chroot = await ensureChroot(ctx, { cacheDir, archive, arch: env.architecture, packages: env.packages, workDir: opts.workDir });
    const recorded = new Set(env.packages.map((p) => p.name));
    const extra = chroot.manifest.installed.map((s) => s.slice(0, s.indexOf(':'))).filter((n) => !recorded.has(n));
    report = environmentReport(env, { packages: true, extra, buildPath, archive: archive.url, ...(hostKernel ? { hostKernel } : {}) });

    const sourceDir = join(opts.workDir, 'source');
    const dsc = await apt.downloadSource(ctx, env.source.name, env.source.version, sourceDir);
    const sourceFiles = (await readdir(sourceDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(sourceDir, e.name));

    const buildEnv: Record<string, string> = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/sbuild-nonexistent',
      ...env.environment,
    };
    const collect = env.expected.map((a) => a.name).filter((n) => /\.(u|d)?deb$/.test(n));
    if (collect.length === 0) return fail('infrastructure', `Cannot rebuild ${pkg}: the .buildinfo lists no .deb in Checksums-Sha256`, report);
    const args = [buildTypeArgument(Array.isArray(env.settings['Architecture']) ? env.settings['Architecture'] : [env.architecture]), '--no-sign'];
    const artifacts = await buildInChroot(ctx, { tarball: chroot.tarball, root, sourceFiles, dscName: basename(dsc), buildPath, env: buildEnv, args, collect, outDir: opts.outDir });
    for (const a of artifacts) {
      const want = env.expected.find((x) => x.name === basename(a));
      const got = createHash('sha256').update(await readFile(a)).digest('hex');
      opts.log.note(`${basename(a)}: SHA-256 ${got}, ${got === want?.sha256 ? 'the one' : `not the one (${want?.sha256})`} the .buildinfo records`);
    }
    const notBuilt = collect.filter((n) => !artifacts.some((a) => basename(a) === n));
    if (notBuilt.length) opts.log.note(`listed in the .buildinfo but not built: ${notBuilt.join(', ')}`);
    if (artifacts.length === 0) return { status: 'failed', failureClass: 'ftbfs', message: `The rebuild of ${pkg} built none of the .debs its .buildinfo lists`, exitCode: 0, signal: null, environment: report, buildEnv: env };
    return { status: 'built', artifacts: artifacts.sort(), exitCode: 0, signal: null, environment: report, buildEnv: env };
  } catch (e) {
    if (e instanceof DebianAbortedError || opts.signal.aborted) return { status: 'aborted', message: `the rebuild of ${pkg} stopped: aborted`, exitCode: null, signal: null, environment: report, buildEnv: env };
    if (e instanceof DebianBuildError) return { status: 'failed', failureClass: 'ftbfs', message: `Cannot rebuild ${pkg}: ${e.message}`, exitCode: e.run?.exitCode ?? null, signal: e.run?.signal ?? null, environment: report, buildEnv: env };
    if (e instanceof DebianInfraError || e instanceof SandboxError) return fail('infrastructure', `Cannot rebuild ${pkg}: ${e.message}`, report);
    throw e;
  } finally {
    if (!opts.keep) await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

export interface DebianBackendOptions {
  cacheDir?: string;
  keyring?: string;
}

export function makeDebianBackend(options: DebianBackendOptions = {}): Backend {
  return {
    name: 'debian',
    async available() {
      return debianAvailable();
    },
    async build(req: BuildRequest): Promise<BuildOutcome> {
      const { job } = req;
      const pkg = `${job.name} ${job.version} (job ${job.jobId})`;
      const none: BuildEnvironment = { reproduced: [], notReproduced: ['build environment: not recreated (the rebuild stopped before)'] };
      const recipe = parseDebianRecipe(job.recipe);
      if (typeof recipe === 'string') return failedBeforeBuild('infrastructure', `Cannot rebuild ${pkg} with the debian backend: ${recipe}`, none);
      if (!job.buildinfo) return failedBeforeBuild('infrastructure', `Cannot rebuild ${pkg} with the debian backend: the job has no .buildinfo`, none);
      const file = join(req.workDir, 'job.buildinfo');
      try {
        await req.fetch(job.buildinfo.url, job.buildinfo.sha256, file, `the .buildinfo of ${pkg}`);
      } catch (e) {
        if (req.signal.aborted) return { status: 'aborted', message: `fetching the .buildinfo of ${pkg} stopped`, exitCode: null, signal: null, environment: none };
        return failedBeforeBuild('infrastructure', e instanceof FetchError ? e.message : `Cannot fetch the .buildinfo of ${pkg}: ${(e as Error).message}`, none);
      }
      try {
        const { buildEnv, ...outcome } = await rebuildDebian(file, {
          ...recipe,
          outDir: req.outDir,
          workDir: req.workDir,
          log: req.log,
          signal: req.signal,
          cacheDir: options.cacheDir ?? process.env['REPROVE_DEBIAN_CACHE'] ?? resolve(req.workDir, '..', '..', 'debian-chroots'),
          ...(options.keyring ? { keyring: options.keyring } : {}),
          ...(req.limits.timeoutMs !== undefined ? { timeoutMs: req.limits.timeoutMs } : {}),
          ...(req.limits.memoryBytes !== undefined ? { memoryBytes: req.limits.memoryBytes } : {}),
        });
        void buildEnv;
        return outcome as BuildOutcome;
      } catch (e) {
        // The digest matched: the same file comes next time, so retrying cannot help.
        if (e instanceof BuildInfoError) return failedBeforeBuild('ftbfs', `Cannot rebuild ${pkg}: ${e.message}`, none);
        throw e;
      }
    },
  };
}

export const debianBackend: Backend = makeDebianBackend();
