// The `archlinux` backend: what makerepropkg does. From a published package
// (its .BUILDINFO is inside) and the PKGBUILD it was built from, rebuild it the
// way it was built: the exact packages of the recorded build root (`installed`,
// resolved against an archive URL pattern, archive.archlinux.org's layout by
// default), makepkg at the recorded builddir and startdir, with the recorded
// BUILDENV and OPTIONS, PACKAGER, BUILDTOOL/BUILDTOOLVER, and SOURCE_DATE_EPOCH =
// the published package's builddate.
//
// Two ways to build, and the result says which:
// - an Arch root, where one can be made (pacman, systemd-nspawn and root on the
//   worker, and the archive answering): every recorded package fetched at its
//   exact version, `pacman -U` into a new, empty root (pacstrap-like), and makepkg
//   run inside it as nobody with the recorded directories bound at their paths;
// - otherwise (a Debian host: no pacman) the host's makepkg, as nobody when the
//   worker is root (makepkg refuses root), at the recorded builddir and startdir
//   when they are under a prefix where reprove may create directories (/build,
//   /startdir, /tmp, /var/tmp) and do not exist yet, else in fresh directories;
//   the recorded package set is then not recreated, and the environment says so.
//
// Recipe: { pkgbuild: { url, sha256 } | { git, ref }, archive?: url-pattern }.
// `url` is a tar archive of the PKGBUILD's directory or the PKGBUILD itself. The
// PKGBUILD's SHA-256 must match the .BUILDINFO's pkgbuild_sha256sum when it has
// one. Nothing from the .BUILDINFO reaches a shell: values are validated by the
// parser, passed as argv or environment, and the two arrays written into
// makepkg.conf are words of letters, digits, "_", "-" and "!".
//
// `rebuildArch` does the same without a daemon (reprove check pkg --pkgbuild DIR).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, chown, copyFile, cp, lstat, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FetchError } from '../../worker/fetch.js';
import { failedBeforeBuild, type Backend, type BuildEnvironment, type BuildLimits, type BuildOutcome, type BuildRequest, type InputFetcher } from '../backend.js';
import { ARCH_ARCHIVE_PATTERN, archBuildEnv, badArchivePattern, readArchBuildInfo, type ArchBuildInfo } from '../buildinfo/arch.js';
import { BuildInfoError, type BuildEnv } from '../buildinfo/build-env.js';
import { capture } from '../capture.js';
import type { LogSink } from '../log-sink.js';
import { abortReason, runSandboxed, SandboxError, type SandboxResult } from '../sandbox.js';
import { which } from '../which.js';
import { unsafeMemberName } from './command.js';

/** Where reprove may create the recorded builddir/startdir on the host: Arch's chroot paths and the temporary directories. */
export const ALLOWED_BUILD_PREFIXES: readonly string[] = ['/build', '/startdir', '/tmp', '/var/tmp'];

/** A git repository and the commit, tag or branch to build. */
export interface GitPkgbuild {
  git: string;
  ref: string;
}

export interface ArchRecipe {
  pkgbuild: { url: string; sha256: string } | GitPkgbuild;
  archive?: string;
}

const GIT_REF = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/+@-]{1,255}$/;

/** Why a git URL cannot be cloned, or undefined. `file:` only where allowed (local use, tests). */
function badGitUrl(url: string, allowFile: boolean): string | undefined {
  if (url.length > 2048 || /[\s\u0000-\u001f\u007f]/.test(url)) return 'is too long or has white space or control characters';
  if (url.startsWith('-')) return 'starts with "-"';
  if (/^https?:\/\/|^git:\/\/|^ssh:\/\//.test(url)) return undefined;
  if (allowFile && (url.startsWith('file://') || url.startsWith('/'))) return undefined;
  return `is not an http(s)://, git:// or ssh:// URL${allowFile ? ' or a local path' : ''}`;
}

/** The recipe, or what is wrong with it. */
export function parseArchRecipe(value: unknown): ArchRecipe | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the recipe is not an object';
  const r = value as Record<string, unknown>;
  const p = r['pkgbuild'] as Record<string, unknown> | null | undefined;
  if (typeof p !== 'object' || p === null) return 'recipe.pkgbuild is not an object ({url, sha256} or {git, ref})';
  let pkgbuild: ArchRecipe['pkgbuild'];
  if (p['git'] !== undefined) {
    if (typeof p['git'] !== 'string') return 'recipe.pkgbuild.git is not a string';
    const bad = badGitUrl(p['git'], false);
    if (bad) return `recipe.pkgbuild.git ${bad}`;
    if (typeof p['ref'] !== 'string' || !GIT_REF.test(p['ref'])) return 'recipe.pkgbuild.ref is not a commit, tag or branch name';
    pkgbuild = { git: p['git'], ref: p['ref'] };
  } else {
    if (typeof p['url'] !== 'string' || !p['url']) return 'recipe.pkgbuild.url is not a string';
    if (typeof p['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(p['sha256'])) return 'recipe.pkgbuild.sha256 is not a lower-case hex SHA-256';
    pkgbuild = { url: p['url'], sha256: p['sha256'] };
  }
  const out: ArchRecipe = { pkgbuild };
  if (r['archive'] !== undefined) {
    if (typeof r['archive'] !== 'string') return 'recipe.archive is not a string';
    const bad = badArchivePattern(r['archive']);
    if (bad) return `recipe.archive ${bad}`;
    out.archive = r['archive'];
  }
  return out;
}

/** Where the PKGBUILD comes from, once the backend or the CLI has said. */
type PkgbuildInput = { dir: string } | { git: GitPkgbuild; allowFile: boolean } | { fetch: InputFetcher; url: string; sha256: string };

export interface RebuildArchOptions {
  /** The PKGBUILD's directory, or a git repository and ref. */
  pkgbuild: string | GitPkgbuild;
  /** An empty directory: the rebuilt packages go here. */
  outDir: string;
  /** A directory the rebuild owns (clones, the published package's copy). */
  workDir: string;
  log: LogSink;
  signal: AbortSignal;
  /** URL pattern for the recorded packages (default archive.archlinux.org's layout). */
  archive?: string;
  limits?: BuildLimits;
  /** Where the recorded builddir/startdir may be created (default ALLOWED_BUILD_PREFIXES). */
  allowedBuildPrefixes?: readonly string[];
  /** Force the host's makepkg even where an Arch root could be made (for tests). */
  hostOnly?: boolean;
}

export interface ArchRebuild {
  outcome: BuildOutcome;
  /** The parsed .BUILDINFO, when it could be used. */
  buildEnv?: BuildEnv;
  buildInfo?: ArchBuildInfo;
}

/** Rebuilds a published Arch package from its PKGBUILD without a daemon: `reprove check pkg.pkg.tar.zst --pkgbuild DIR`. */
export async function rebuildArch(publishedPackagePath: string, options: RebuildArchOptions): Promise<ArchRebuild> {
  const input: PkgbuildInput = typeof options.pkgbuild === 'string' ? { dir: options.pkgbuild } : { git: options.pkgbuild, allowFile: true };
  return rebuild(publishedPackagePath, input, {
    workDir: options.workDir,
    outDir: options.outDir,
    log: options.log,
    signal: options.signal,
    limits: options.limits ?? {},
    archive: options.archive ?? ARCH_ARCHIVE_PATTERN,
    prefixes: options.allowedBuildPrefixes ?? ALLOWED_BUILD_PREFIXES,
    hostOnly: options.hostOnly ?? false,
  });
}

interface Ctx {
  workDir: string;
  outDir: string;
  log: LogSink;
  signal: AbortSignal;
  limits: BuildLimits;
  archive: string;
  prefixes: readonly string[];
  hostOnly: boolean;
}

const PKG_FILE = /\.pkg\.tar(\.(zst|xz|gz|bz2|lz4|lzo|lrz|Z))?$/;
const hostPath = () => process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
const isRoot = () => process.getuid?.() === 0;
const sha256File = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const timeouts = (limits: BuildLimits) => ({ ...(limits.timeoutMs !== undefined ? { timeoutMs: limits.timeoutMs } : {}), ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}) });

/** A failure of a step before the build, with its class. */
class StepError extends Error {
  constructor(
    readonly failureClass: 'ftbfs' | 'infrastructure',
    message: string,
  ) {
    super(message);
  }
}

/** The run's outcome when it did not succeed, else undefined. */
function outcomeOfRun(run: SandboxResult, what: string, env: BuildEnvironment, signal: AbortSignal): BuildOutcome | undefined {
  const base = { exitCode: run.exitCode, signal: run.signal, environment: env };
  if (run.stopped === 'aborted') return { ...base, status: 'aborted', message: `${what} stopped: ${abortReason(signal)}` };
  if (run.stopped === 'timeout') return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} reached its time limit and was killed` };
  if (run.exitCode !== 0) return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`}` };
  return undefined;
}

async function rebuild(published: string, input: PkgbuildInput, ctx: Ctx): Promise<ArchRebuild> {
  const file = published.slice(published.lastIndexOf('/') + 1);
  const env: BuildEnvironment = { reproduced: [], notReproduced: [] };
  const aborted = (): ArchRebuild => ({ outcome: { status: 'aborted', message: `the rebuild of ${file} stopped: ${abortReason(ctx.signal)}`, exitCode: null, signal: null, environment: env } });

  // 1. The recorded environment; nothing runs with a .BUILDINFO that fails.
  let info: ArchBuildInfo;
  try {
    info = await readArchBuildInfo(published, { archive: ctx.archive, signal: ctx.signal });
  } catch (e) {
    if (ctx.signal.aborted) return aborted();
    const message = e instanceof BuildInfoError ? e.message : (e as Error).message;
    ctx.log.note(`refused the .BUILDINFO: ${message}`);
    env.notReproduced.push(`everything: the .BUILDINFO cannot be used (${message})`);
    return { outcome: failedBeforeBuild('infrastructure', `Cannot rebuild ${file}: ${message}`, env) };
  }
  const buildEnv = archBuildEnv(info, published);
  const done = (outcome: BuildOutcome): ArchRebuild => ({ outcome, buildEnv, buildInfo: info });
  const pkg = `${info.pkgname} ${info.pkgver} (${file})`;
  ctx.log.note(`.BUILDINFO of ${file}: ${info.pkgbase} ${info.pkgver} ${info.pkgarch}, builddate ${info.builddate}, builddir ${info.builddir}${info.startdir ? `, startdir ${info.startdir}` : ''}, ${info.installed.length} installed packages`);
  for (const p of info.installed) ctx.log.note(`installed ${p.name} ${p.version} ${p.arch}: ${p.url}`);

  const hostArch = ({ x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', riscv64: 'riscv64' } as Record<string, string>)[process.arch];
  if (info.pkgarch !== 'any' && hostArch && hostArch !== info.pkgarch)
    return done(failedBeforeBuild('infrastructure', `Cannot rebuild ${pkg}: it was built for ${info.pkgarch} and this worker is ${hostArch}`, env));

  const scratch = await mkdtemp(join(tmpdir(), 'reprove-arch-'));
  const owned: string[] = [];
  try {
    // 2. The PKGBUILD, checked against the recorded digest.
    const pkgbuildDir = join(ctx.workDir, 'pkgbuild');
    await mkdir(pkgbuildDir, { recursive: true });
    let source: string;
    try {
      source = await preparePkgbuild(input, pkgbuildDir, ctx);
    } catch (e) {
      if (ctx.signal.aborted) return aborted();
      const fc = e instanceof StepError ? e.failureClass : 'infrastructure';
      return done(failedBeforeBuild(fc, `Cannot get the PKGBUILD of ${pkg}: ${(e as Error).message}`, env));
    }
    const sum = await sha256File(join(source, 'PKGBUILD'));
    if (info.pkgbuild_sha256sum) {
      if (sum !== info.pkgbuild_sha256sum)
        return done(failedBeforeBuild('infrastructure', `Cannot rebuild ${pkg}: its PKGBUILD has SHA-256 ${sum}, the .BUILDINFO records ${info.pkgbuild_sha256sum} (not the PKGBUILD the package was built from)`, env));
      env.reproduced.push(`PKGBUILD: SHA-256 ${sum}, as recorded (pkgbuild_sha256sum)`);
    } else env.notReproduced.push(`PKGBUILD: the .BUILDINFO records no pkgbuild_sha256sum, so the PKGBUILD (SHA-256 ${sum}) could not be checked`);

    // 3. An Arch root, or the host's makepkg.
    const whyNoRoot = ctx.hostOnly ? ['the caller asked for the host build'] : await archRootUnavailable(info, ctx);
    if (whyNoRoot.length === 0) return done(await buildInArchRoot(info, pkg, published, source, scratch, env, ctx));
    ctx.log.note(`no Arch root: ${whyNoRoot.join('; ')}; building with the host's makepkg`);
    return done(await buildOnHost(info, pkg, published, source, scratch, owned, whyNoRoot, env, ctx));
  } catch (e) {
    if (ctx.signal.aborted) return aborted();
    if (e instanceof SandboxError || e instanceof StepError) return done(failedBeforeBuild(e instanceof StepError ? e.failureClass : 'infrastructure', `Cannot rebuild ${pkg}: ${e.message}`, env));
    throw e;
  } finally {
    for (const d of [...owned, scratch]) await rm(d, { recursive: true, force: true }).catch(() => {});
  }
}

// ---- the PKGBUILD ----

const ARCHIVE_MAGIC: [number, Buffer][] = [
  [0, Buffer.from([0x1f, 0x8b])],
  [0, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  [0, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  [0, Buffer.from('BZh')],
  [257, Buffer.from('ustar')],
];

/** Puts the PKGBUILD's directory under `dest`; returns the directory holding PKGBUILD. */
async function preparePkgbuild(input: PkgbuildInput, dest: string, ctx: Ctx): Promise<string> {
  const quick = { timeoutMs: 120_000, ...(ctx.limits.timeoutMs !== undefined ? { timeoutMs: Math.min(ctx.limits.timeoutMs, 600_000) } : {}) };
  if ('dir' in input) {
    const s = await stat(input.dir).catch(() => undefined);
    if (!s?.isDirectory()) throw new StepError('infrastructure', `${input.dir} is not a directory`);
    await cp(input.dir, dest, { recursive: true, verbatimSymlinks: true, filter: (src) => !/(^|\/)\.git$/.test(src) });
  } else if ('git' in input) {
    const bad = badGitUrl(input.git.git, input.allowFile);
    if (bad) throw new StepError('infrastructure', `the git URL ${JSON.stringify(input.git.git)} ${bad}`);
    if (!GIT_REF.test(input.git.ref)) throw new StepError('infrastructure', `the git ref ${JSON.stringify(input.git.ref)} is not a commit, tag or branch name`);
    const git = which('git');
    if (!git) throw new StepError('infrastructure', 'git is not installed');
    const home = join(ctx.workDir, 'git-home');
    await mkdir(home, { recursive: true });
    const gitEnv = {
      PATH: hostPath(),
      HOME: home,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_LFS_SKIP_SMUDGE: '1',
      GIT_ALLOW_PROTOCOL: input.allowFile ? 'https:http:git:ssh:file' : 'https:http:git:ssh',
      LC_ALL: 'C',
    };
    ctx.log.note(`cloning ${input.git.git} (ref ${input.git.ref})`);
    const clone = await runSandboxed({ argv: [git, 'clone', '--quiet', '--no-checkout', '--no-recurse-submodules', '--', input.git.git, dest], cwd: ctx.workDir, env: gitEnv, log: ctx.log, signal: ctx.signal, ...quick });
    if (clone.stopped === 'aborted') throw new StepError('infrastructure', 'aborted');
    if (clone.exitCode !== 0) throw new StepError('infrastructure', `git clone ${input.git.git} failed (${clone.stopped ?? `exit code ${clone.exitCode}`})`);
    let commit: string | undefined;
    for (const candidate of [input.git.ref, `refs/remotes/origin/${input.git.ref}`, `refs/tags/${input.git.ref}`]) {
      const r = await capture({ argv: [git, '-C', dest, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${candidate}^{commit}`], env: gitEnv, timeoutMs: 30_000, maxBytes: 4096, signal: ctx.signal });
      if (r.exitCode === 0) {
        commit = r.stdout.toString().trim();
        break;
      }
    }
    if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) throw new StepError('infrastructure', `${input.git.git} has no commit, tag or branch ${JSON.stringify(input.git.ref)}`);
    const checkout = await runSandboxed({ argv: [git, '-C', dest, 'checkout', '--quiet', '--detach', commit], cwd: ctx.workDir, env: gitEnv, log: ctx.log, signal: ctx.signal, ...quick });
    if (checkout.exitCode !== 0) throw new StepError('infrastructure', `git checkout ${commit} failed`);
    ctx.log.note(`PKGBUILD from ${input.git.git} at ${commit}`);
    await rm(join(dest, '.git'), { recursive: true, force: true });
  } else {
    const file = join(ctx.workDir, 'pkgbuild.input');
    try {
      await input.fetch(input.url, input.sha256, file, 'the PKGBUILD');
    } catch (e) {
      throw new StepError('infrastructure', e instanceof FetchError ? e.message : (e as Error).message);
    }
    const head = Buffer.alloc(512);
    const fh = await open(file, 'r');
    const { bytesRead } = await fh.read(head, 0, 512, 0).finally(() => fh.close());
    const isArchive = ARCHIVE_MAGIC.some(([at, m]) => bytesRead >= at + m.length && head.subarray(at, at + m.length).equals(m));
    if (!isArchive) await copyFile(file, join(dest, 'PKGBUILD'));
    else {
      // The digest matched: the same archive comes back next time, so a refusal is no infrastructure failure.
      const list = await capture({ argv: ['tar', '--list', '--quoting-style=escape', '-f', file], env: { PATH: hostPath(), LC_ALL: 'C' }, timeoutMs: 120_000, maxBytes: 64 << 20, signal: ctx.signal });
      if (list.exitCode !== 0) throw new StepError('ftbfs', `the PKGBUILD archive cannot be listed${list.stopped ? ` (${list.stopped})` : ''}: ${list.stderr.trim().split('\n')[0] ?? ''}`);
      for (const name of list.stdout.toString().split('\n').filter(Boolean)) {
        const why = unsafeMemberName(name);
        if (why) throw new StepError('ftbfs', `the PKGBUILD archive's member ${JSON.stringify(name.slice(0, 200))} is ${why}`);
      }
      const unpack = await runSandboxed({
        argv: ['tar', '--extract', '--no-same-owner', '--no-same-permissions', '-f', file, '-C', dest],
        cwd: ctx.workDir,
        env: { PATH: hostPath(), LC_ALL: 'C' },
        log: ctx.log,
        signal: ctx.signal,
        ...quick,
      });
      if (unpack.exitCode !== 0) throw new StepError('ftbfs', 'the PKGBUILD archive cannot be unpacked');
    }
  }
  // The PKGBUILD at the top, or in the one directory the archive holds.
  if (await isFile(join(dest, 'PKGBUILD'))) return dest;
  const entries = await readdir(dest, { withFileTypes: true });
  if (entries.length === 1 && entries[0]!.isDirectory() && (await isFile(join(dest, entries[0]!.name, 'PKGBUILD')))) return join(dest, entries[0]!.name);
  throw new StepError('infrastructure', 'there is no PKGBUILD in it');
}

async function isFile(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined))?.isFile() ?? false;
}

// ---- the recorded directories ----

type Claim = { path: string } | { why: string };

/**
 * Creates the recorded directory `path` for this build, when it is under an
 * allowed prefix, does not exist, and every existing ancestor is a real directory
 * (no symbolic link) the build user can pass through. The first missing ancestor
 * is created with a plain mkdir (fails if something else made it meanwhile), so
 * everything reprove later removes is its own; it is recorded in `owned`.
 */
async function claimDir(path: string, prefixes: readonly string[], owned: string[], buildUid: number | undefined): Promise<Claim> {
  if (owned.some((o) => path === o || path.startsWith(`${o}/`))) {
    if (await lstat(path).catch(() => undefined)) return { why: `${path} already exists in a directory reprove made for this build` };
    await mkdir(path, { recursive: true });
    return { path };
  }
  if (!prefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`))) return { why: `${path} is not under ${prefixes.join(', ') || '(no prefix allowed)'}, where reprove may create directories` };
  const parts = path.split('/').slice(1);
  let at = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${at}/${parts[i]}`;
    const s = await lstat(next).catch(() => undefined);
    if (!s) {
      try {
        await mkdir(next); // not recursive: ours only if we made it
      } catch (e) {
        return { why: `cannot create ${next}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
      }
      owned.push(next);
      await mkdir(path, { recursive: true });
      return { path };
    }
    if (s.isSymbolicLink()) return { why: `${next} is a symbolic link` };
    if (!s.isDirectory()) return { why: `${next} is not a directory` };
    if (buildUid !== undefined && (s.mode & 0o001) === 0 && s.uid !== buildUid) return { why: `${next} is closed to the build user (mode ${(s.mode & 0o777).toString(8)})` };
    at = next;
  }
  return { why: `${path} already exists (another build's, or not reprove's to use)` };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  const s = await lstat(path);
  if (!s.isDirectory()) return;
  for (const e of await readdir(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isSymbolicLink()) continue;
    await chownTree(p, uid, gid);
  }
}

/** nobody's uid and gid, from /etc/passwd. */
async function nobody(): Promise<{ uid: number; gid: number } | undefined> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((l) => l.startsWith('nobody:'));
  const f = line?.split(':');
  return f && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? '') ? { uid: Number(f[2]), gid: Number(f[3]) } : undefined;
}

// ---- the makepkg configuration ----

/** makepkg.conf: the base configuration, then the recorded BUILDENV and OPTIONS (validated words: no quoting can break). */
function makepkgConf(info: ArchBuildInfo, base: string | undefined): string {
  const words = (list: string[]) => list.map((w) => `'${w}'`).join(' ');
  return [
    '# Written by reprove for one rebuild: the base configuration, then the BUILDENV and OPTIONS the .BUILDINFO records.',
    ...(base ? [`source '${base}'`] : []),
    `BUILDENV=(${words(info.buildenv)})`,
    `OPTIONS=(${words(info.options)})`,
    '',
  ].join('\n');
}

/** The variables makepkg gets from the .BUILDINFO, and the lines saying so. */
function recordedVariables(info: ArchBuildInfo, published: string): { vars: Record<string, string>; lines: string[] } {
  const ext = PKG_FILE.exec(published)?.[0] ?? '.pkg.tar.zst';
  const vars: Record<string, string> = { SOURCE_DATE_EPOCH: String(info.builddate), PKGEXT: ext };
  const lines = [`SOURCE_DATE_EPOCH=${info.builddate} (the published package's builddate)`, `PKGEXT=${ext} (the published package's)`];
  if (info.packager !== undefined) {
    vars['PACKAGER'] = info.packager;
    lines.push(`PACKAGER=${info.packager}`);
  }
  if (info.buildtool) vars['BUILDTOOL'] = info.buildtool;
  if (info.buildtoolver) vars['BUILDTOOLVER'] = info.buildtoolver;
  if (info.buildtool || info.buildtoolver) lines.push(`BUILDTOOL=${info.buildtool ?? '(unset)'} BUILDTOOLVER=${info.buildtoolver ?? '(unset)'} (as recorded)`);
  lines.push(`buildenv (${info.buildenv.join(' ')}) and options (${info.options.join(' ')}) in makepkg.conf`);
  return { vars, lines };
}

async function collect(pkgdest: string, outDir: string, pkg: string, run: SandboxResult, env: BuildEnvironment): Promise<BuildOutcome> {
  const artifacts: string[] = [];
  for (const e of await readdir(pkgdest, { withFileTypes: true })) {
    if (!e.isFile() || !PKG_FILE.test(e.name)) continue;
    const dest = join(outDir, e.name);
    await copyFile(join(pkgdest, e.name), dest);
    artifacts.push(dest);
  }
  if (artifacts.length === 0) return { status: 'failed', failureClass: 'ftbfs', message: `Cannot collect the rebuilt packages of ${pkg}: makepkg wrote no .pkg.tar.* file`, exitCode: run.exitCode, signal: run.signal, environment: env };
  artifacts.sort();
  return { status: 'built', artifacts, exitCode: run.exitCode, signal: run.signal, environment: env };
}

// ---- the host's makepkg ----

async function buildOnHost(info: ArchBuildInfo, pkg: string, published: string, source: string, scratch: string, owned: string[], whyNoRoot: string[], env: BuildEnvironment, ctx: Ctx): Promise<BuildOutcome> {
  const makepkg = which('makepkg');
  const missing = ['makepkg', 'fakeroot', 'bsdtar', ...(isRoot() ? ['runuser'] : [])].filter((p) => !which(p) && !which(p, `${hostPath()}:/usr/sbin:/sbin`));
  if (!makepkg || missing.length) throw new StepError('infrastructure', `${missing.join(', ')} not installed`);
  const user = isRoot() ? await nobody() : undefined;
  if (isRoot() && !user) throw new StepError('infrastructure', 'the worker runs as root and there is no "nobody" user to run makepkg as (makepkg refuses root)');

  const n = info.installed.length;
  env.notReproduced.push(
    n === 0
      ? `packages: the .BUILDINFO lists no installed packages, so there was no package set to recreate (${whyNoRoot.join('; ')}); the host's makepkg and tools ran as the host has them`
      : `packages: the ${n} package${n === 1 ? '' : 's'} of the recorded build root (installed) ${n === 1 ? 'was' : 'were'} not installed (${whyNoRoot.join('; ')}); the host's makepkg and tools ran as the host has them, and the rebuilt .BUILDINFO lists no installed packages`,
  );

  // The recorded directories, where they may be made; fresh ones otherwise.
  await chmod(scratch, 0o755);
  const dirs: { builddir: string; startdir: string } = { builddir: join(scratch, 'build'), startdir: join(scratch, 'startdir') };
  const recorded: [keyof typeof dirs, string | undefined][] = [
    ['builddir', info.builddir],
    ['startdir', info.startdir],
  ];
  // The shorter first, so that a startdir inside the builddir (or the reverse) is made in the claimed one.
  recorded.sort((a, b) => (a[1]?.length ?? 0) - (b[1]?.length ?? 0));
  for (const [key, path] of recorded) {
    if (!path) {
      env.notReproduced.push(`${key}: not recorded (format ${info.format}); built in a fresh directory`);
      await mkdir(dirs[key], { recursive: true });
      continue;
    }
    if (key === 'startdir' && path === info.builddir) {
      // One directory for both, as recorded (makepkg then builds in $BUILDDIR/src).
      dirs.startdir = dirs.builddir;
      (dirs.builddir === path ? env.reproduced : env.notReproduced).push(`startdir ${path} (the builddir)${dirs.builddir === path ? '' : `: ${dirs.builddir} instead`}`);
      continue;
    }
    const claim = await claimDir(path, ctx.prefixes, owned, user?.uid);
    if ('path' in claim) {
      dirs[key] = claim.path;
      env.reproduced.push(`${key} ${path}`);
    } else {
      await mkdir(dirs[key], { recursive: true });
      env.notReproduced.push(`${key} ${path}: built in ${dirs[key]} instead, because ${claim.why}`);
      ctx.log.note(`${key} ${path} not used: ${claim.why}`);
    }
  }
  await cp(source, dirs.startdir, { recursive: true, verbatimSymlinks: true });
  const home = join(scratch, 'home');
  const srcdest = join(scratch, 'sources');
  const pkgdest = join(scratch, 'packages');
  for (const d of [home, srcdest, pkgdest]) await mkdir(d, { recursive: true });
  const base = (await isFile('/etc/makepkg.conf')) ? '/etc/makepkg.conf' : undefined;
  const conf = join(scratch, 'makepkg.conf');
  await writeFile(conf, makepkgConf(info, base), { mode: 0o644 });
  if (user) for (const d of [scratch, ...owned]) await chownTree(d, user.uid, user.gid);

  const { vars, lines } = recordedVariables(info, published);
  env.reproduced.push(...lines);
  const hostVersion = await makepkgVersion(makepkg);
  if (info.buildtoolver && hostVersion && !info.buildtoolver.startsWith(hostVersion))
    env.notReproduced.push(`buildtool: the .BUILDINFO says ${info.buildtool ?? 'makepkg'} ${info.buildtoolver}; the host's makepkg ${hostVersion} ran (BUILDTOOLVER set to the recorded value)`);
  env.notReproduced.push('locale and time zone: not recorded; built with LANG=C.UTF-8, TZ=UTC');

  const all: Record<string, string> = {
    PATH: hostPath(),
    HOME: home,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    BUILDDIR: dirs.builddir,
    SRCDEST: srcdest,
    PKGDEST: pkgdest,
    SRCPKGDEST: pkgdest,
    // No pacman: makepkg neither installs dependencies nor lists the installed packages.
    PACMAN: 'true',
    ...vars,
  };
  const runuser = which('runuser') ?? which('runuser', '/usr/sbin:/sbin');
  const argv = [
    ...(user ? [runuser!, '-u', 'nobody', '--'] : []),
    'env',
    '-i',
    ...Object.entries(all).map(([k, v]) => `${k}=${v}`),
    makepkg,
    '--config',
    conf,
    '--nodeps',
    '--force',
    '--cleanbuild',
    '--noconfirm',
    '--holdver',
    '--nocolor',
    '--noprogressbar',
  ];
  ctx.log.note(`makepkg in ${dirs.startdir} with BUILDDIR=${dirs.builddir}${user ? ', as nobody' : ''}`);
  const run = await runSandboxed({ argv, cwd: dirs.startdir, env: { PATH: hostPath() }, log: ctx.log, signal: ctx.signal, ...timeouts(ctx.limits) });
  const failed = outcomeOfRun(run, `makepkg for ${pkg}`, env, ctx.signal);
  if (failed) return failed;
  return collect(pkgdest, ctx.outDir, pkg, run, env);
}

async function makepkgVersion(makepkg: string): Promise<string | undefined> {
  const r = await capture({ argv: [makepkg, '--version'], env: { PATH: hostPath(), LC_ALL: 'C' }, timeoutMs: 30_000, maxBytes: 64 << 10 }).catch(() => undefined);
  return /makepkg \(pacman\) ([0-9][A-Za-z0-9.]*)/.exec(r?.stdout.toString() ?? '')?.[1];
}

// ---- an Arch root ----

/** Why an Arch root cannot be made here (empty when it can). */
async function archRootUnavailable(info: ArchBuildInfo, ctx: Ctx): Promise<string[]> {
  const why: string[] = [];
  if (!which('pacman')) why.push('pacman is not installed on this worker');
  if (!which('systemd-nspawn')) why.push('systemd-nspawn is not installed on this worker');
  if (!isRoot()) why.push('the worker is not root (an Arch root needs pacman -U --root and a container)');
  if (info.installed.length === 0) why.push('the .BUILDINFO lists no installed packages');
  if (why.length) return why;
  const probe = info.installed[0]!.url;
  const reachable = await answers(probe, ctx.signal);
  if (reachable !== true) why.push(`the archive does not answer (${probe}: ${reachable})`);
  return why;
}

/** true when `url` answers (HEAD 2xx, or the file exists), else why not. */
async function answers(url: string, signal: AbortSignal): Promise<true | string> {
  if (url.startsWith('file://')) return (await isFile(fileURLToPath(url))) ? true : 'no such file';
  try {
    const res = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.any([signal, AbortSignal.timeout(15_000)]) });
    return res.ok ? true : `HTTP ${res.status}`;
  } catch (e) {
    return (e as Error).message;
  }
}

const MAX_PACKAGE_BYTES = 4 * 1024 ** 3;

/** Downloads `url` to `dest` (file:// copied), bounded in size. */
async function download(url: string, dest: string, signal: AbortSignal): Promise<void> {
  if (url.startsWith('file://')) return copyFile(fileURLToPath(url), dest);
  const res = await fetch(url, { redirect: 'follow', signal });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  let bytes = 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (b: Buffer) => {
    bytes += b.length;
    if (bytes > MAX_PACKAGE_BYTES) body.destroy(new Error(`${url}: larger than ${MAX_PACKAGE_BYTES} bytes`));
  });
  await pipeline(body, createWriteStream(dest));
}

/**
 * makerepropkg's way: every recorded package at its exact version from the
 * archive (with its signature, checked by pacman against the host's keyring),
 * `pacman -U` into an empty root, then makepkg in that root under
 * systemd-nspawn as nobody, the recorded builddir and startdir bound at their
 * own paths (inside the container, so any path can be reproduced).
 */
async function buildInArchRoot(info: ArchBuildInfo, pkg: string, published: string, source: string, scratch: string, env: BuildEnvironment, ctx: Ctx): Promise<BuildOutcome> {
  const root = join(scratch, 'root');
  const cache = join(scratch, 'cache');
  const host = { build: join(scratch, 'build'), start: join(scratch, 'startdir'), pkgdest: join(scratch, 'packages'), srcdest: join(scratch, 'sources') };
  for (const d of [root, cache, ...Object.values(host), join(root, 'var/lib/pacman')]) await mkdir(d, { recursive: true });
  const files: string[] = [];
  for (const p of info.installed) {
    const name = `${p.name}-${p.version}-${p.arch}${PKG_FILE.exec(p.url)?.[0] ?? '.pkg.tar.zst'}`;
    const dest = join(cache, name);
    try {
      await download(p.url, dest, ctx.signal);
      await download(`${p.url}.sig`, `${dest}.sig`, ctx.signal);
    } catch (e) {
      throw new StepError('infrastructure', `the recorded package ${p.name} ${p.version} ${p.arch} is not available: ${(e as Error).message}`);
    }
    files.push(dest);
  }
  ctx.log.note(`fetched the ${files.length} recorded packages; installing them into a new root`);
  const pacman = await runSandboxed({
    argv: ['pacman', '-U', '--noconfirm', '--root', root, '--dbpath', join(root, 'var/lib/pacman'), '--cachedir', cache, '--noprogressbar', '--', ...files],
    cwd: scratch,
    env: { PATH: hostPath(), LC_ALL: 'C' },
    log: ctx.log,
    signal: ctx.signal,
    ...timeouts(ctx.limits),
  });
  const failed = outcomeOfRun(pacman, `installing the recorded packages of ${pkg}`, env, ctx.signal);
  if (failed) return failed.status === 'failed' ? { ...failed, failureClass: 'infrastructure' } : failed;
  env.reproduced.push(`packages: the ${files.length} recorded packages at their exact versions, and nothing else, in a new root`);
  env.reproduced.push(`builddir ${info.builddir}`);
  if (info.startdir) env.reproduced.push(`startdir ${info.startdir}`);
  const startdir = info.startdir ?? '/startdir';
  await cp(source, host.start, { recursive: true, verbatimSymlinks: true });
  for (const d of Object.values(host)) await chmod(d, 0o777);
  const conf = join(scratch, 'makepkg.conf');
  await writeFile(conf, makepkgConf(info, '/etc/makepkg.conf'), { mode: 0o644 });
  const { vars, lines } = recordedVariables(info, published);
  env.reproduced.push(...lines);
  const inside: Record<string, string> = { HOME: '/tmp', BUILDDIR: info.builddir, SRCDEST: '/srcdest', PKGDEST: '/pkgdest', SRCPKGDEST: '/pkgdest', LANG: 'C.UTF-8', ...vars };
  const binds = [
    [host.build, info.builddir],
    [host.start, startdir],
    [host.pkgdest, '/pkgdest'],
    [host.srcdest, '/srcdest'],
  ].filter(([, target], i, all) => all.findIndex(([, t]) => t === target) === i);
  const argv = [
    'systemd-nspawn',
    '--quiet',
    '--register=no',
    '--as-pid2',
    `--directory=${root}`,
    '--user=nobody',
    `--chdir=${startdir}`,
    `--bind-ro=${conf}:/etc/reprove-makepkg.conf`,
    ...binds.map(([h, t]) => `--bind=${h}:${t}`),
    ...Object.entries(inside).map(([k, v]) => `--setenv=${k}=${v}`),
    '--',
    'makepkg',
    '--config',
    '/etc/reprove-makepkg.conf',
    '--noconfirm',
    '--force',
    '--cleanbuild',
    '--holdver',
    '--nocolor',
    '--noprogressbar',
  ];
  ctx.log.note(`makepkg in the new root at ${startdir}, BUILDDIR=${info.builddir}, as nobody`);
  const run = await runSandboxed({ argv, cwd: scratch, env: { PATH: hostPath() }, log: ctx.log, signal: ctx.signal, ...timeouts(ctx.limits) });
  const buildFailed = outcomeOfRun(run, `makepkg for ${pkg}`, env, ctx.signal);
  if (buildFailed) return buildFailed;
  return collect(host.pkgdest, ctx.outDir, pkg, run, env);
}

// ---- the backend ----

function pickPublished(req: BuildRequest): { name: string; url: string; sha256: string } | undefined {
  const pkgs = req.job.artifacts.filter((a) => PKG_FILE.test(a.name) && /^[^/\0]{1,255}$/.test(a.name) && !a.name.startsWith('.'));
  return pkgs.find((a) => a.name.startsWith(`${req.job.name}-`)) ?? pkgs[0];
}

/** The `archlinux` backend; `allowFileGit` lets a recipe clone file:// or local repositories (tests, a worker on the repository's host). */
export function archBackend(options: { allowFileGit?: boolean; allowedBuildPrefixes?: readonly string[] } = {}): Backend {
  return {
    name: 'archlinux',

    async available() {
      const missing = ['makepkg', 'fakeroot', 'bsdtar', 'tar'].filter((p) => !which(p));
      if (isRoot() && !which('runuser') && !which('runuser', '/usr/sbin:/sbin')) missing.push('runuser');
      if (missing.length === 0) return true;
      return `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed`;
    },

    async build(req: BuildRequest): Promise<BuildOutcome> {
      const { job } = req;
      const pkg = `${job.name} ${job.version} (job ${job.jobId})`;
      const none: BuildEnvironment = { reproduced: [], notReproduced: [] };
      const recipe = parseArchRecipe(job.recipe);
      if (typeof recipe === 'string') return failedBeforeBuild('infrastructure', `Cannot build ${pkg} with the archlinux backend: ${recipe}`, none);
      const artifact = pickPublished(req);
      if (!artifact) return failedBeforeBuild('infrastructure', `Cannot build ${pkg} with the archlinux backend: the job lists no .pkg.tar.* artifact (the .BUILDINFO is read from the published package)`, none);
      const publishedDir = join(req.workDir, 'published');
      await mkdir(publishedDir, { recursive: true });
      const published = join(publishedDir, artifact.name);
      try {
        await req.fetch(artifact.url, artifact.sha256, published, `published package ${artifact.name} of ${pkg}`);
      } catch (e) {
        if (req.signal.aborted) return { status: 'aborted', message: `fetching ${artifact.name} stopped: ${abortReason(req.signal)}`, exitCode: null, signal: null, environment: none };
        return failedBeforeBuild('infrastructure', e instanceof FetchError ? e.message : `Cannot fetch ${artifact.name}: ${(e as Error).message}`, none);
      }
      const input: PkgbuildInput = 'git' in recipe.pkgbuild ? { git: recipe.pkgbuild, allowFile: options.allowFileGit ?? false } : { fetch: req.fetch, url: recipe.pkgbuild.url, sha256: recipe.pkgbuild.sha256 };
      const work = join(req.workDir, 'rebuild');
      await mkdir(dirname(work), { recursive: true });
      await mkdir(work, { recursive: true });
      const { outcome } = await rebuild(published, input, {
        workDir: work,
        outDir: req.outDir,
        log: req.log,
        signal: req.signal,
        limits: req.limits,
        archive: recipe.archive ?? ARCH_ARCHIVE_PATTERN,
        prefixes: options.allowedBuildPrefixes ?? ALLOWED_BUILD_PREFIXES,
        hostOnly: false,
      });
      return outcome;
    },
  };
}

export const archlinuxBackend: Backend = archBackend();
