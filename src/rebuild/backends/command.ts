// The `command` backend: a shell recipe per package, for the examples and for any
// build system without a backend of its own. The recipe is
//   { script: string, source?: { url, sha256, strip? }, sourceDateEpoch?: number }
// The source is fetched (digest checked), its member names checked (no absolute
// paths, no `..`) and unpacked with tar --no-same-owner into
// <work>/build/<name>-<version>; the script runs there as `bash -euo pipefail -c
// SCRIPT` (the script is the operator's configuration; package data reaches it
// only through the environment: OUT, PACKAGE, VERSION, ARCH, HOME, TMPDIR, PATH,
// and SOURCE_DATE_EPOCH when the recipe sets it). The artifacts are the regular
// files it leaves in $OUT. It recreates nothing of the original build
// environment: it runs on the worker host as the host is, and says so.
import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FetchError } from '../../worker/fetch.js';
import { failedBeforeBuild, type Backend, type BuildEnvironment, type BuildOutcome, type BuildRequest } from '../backend.js';
import { runSandboxed, SandboxError, type SandboxResult } from '../sandbox.js';
import { which } from '../which.js';

export interface CommandRecipe {
  script: string;
  source?: { url: string; sha256: string; strip?: number };
  sourceDateEpoch?: number;
}

/** The recipe, or what is wrong with it. */
export function parseCommandRecipe(value: unknown): CommandRecipe | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the recipe is not an object';
  const r = value as Record<string, unknown>;
  if (typeof r['script'] !== 'string' || r['script'].trim() === '') return 'recipe.script is not a non-empty string';
  const out: CommandRecipe = { script: r['script'] };
  if (r['source'] !== undefined) {
    const s = r['source'] as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) return 'recipe.source is not an object';
    if (typeof s['url'] !== 'string' || !s['url']) return 'recipe.source.url is not a string';
    if (typeof s['sha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(s['sha256'])) return 'recipe.source.sha256 is not a lower-case hex SHA-256';
    if (s['strip'] !== undefined && !(Number.isInteger(s['strip']) && (s['strip'] as number) >= 0 && (s['strip'] as number) <= 16)) return 'recipe.source.strip is not a whole number from 0 to 16';
    out.source = { url: s['url'], sha256: s['sha256'], ...(s['strip'] !== undefined ? { strip: s['strip'] as number } : {}) };
  }
  if (r['sourceDateEpoch'] !== undefined) {
    if (!Number.isInteger(r['sourceDateEpoch']) || (r['sourceDateEpoch'] as number) < 0) return 'recipe.sourceDateEpoch is not a whole number of seconds';
    out.sourceDateEpoch = r['sourceDateEpoch'] as number;
  }
  return out;
}

/** A name or version safe as one path component (the API's patterns, checked again here). */
const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9+._~:@-]{0,254}$/;

/** Why a member name may not be unpacked, or undefined when it may. */
export function unsafeMemberName(name: string): string | undefined {
  if (name.startsWith('/')) return 'an absolute path';
  if (name.split('/').includes('..')) return 'a path with ".."';
  return undefined;
}

/** Lists the archive's members with tar and refuses the first unsafe name; resolves with the member count. */
async function checkMembers(archive: string, signal: AbortSignal): Promise<number> {
  const tar = spawn('tar', ['--list', '--quoting-style=escape', '-f', archive], { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let stderr = '';
  tar.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => resolve(code));
  });
  let count = 0;
  let refused: string | undefined;
  for await (const line of createInterface({ input: tar.stdout })) {
    count++;
    const why = unsafeMemberName(line);
    if (why) {
      refused = `member ${JSON.stringify(line)} is ${why}`;
      tar.kill('SIGKILL');
      break;
    }
  }
  const code = await exited.catch((e: Error) => {
    throw new Error(e.name === 'AbortError' ? 'aborted' : e.message);
  });
  if (refused) throw new Error(refused);
  if (code !== 0) throw new Error(`tar --list failed: ${stderr.trim() || `exit code ${code}`}`);
  return count;
}

function environment(req: BuildRequest, recipe: CommandRecipe | undefined): BuildEnvironment {
  const notReproduced = [
    'build environment: the command backend recreates none of it; the recipe runs on the worker host as the host is (its tools and their versions, paths, user, locale, time zone, kernel)',
  ];
  if (req.job.buildinfo) notReproduced.push(`build info ${req.job.buildinfo.url}: not read by the command backend`);
  const reproduced = recipe?.sourceDateEpoch !== undefined ? [`SOURCE_DATE_EPOCH=${recipe.sourceDateEpoch} (from the recipe)`] : [];
  return { reproduced, notReproduced };
}

function outcomeOfRun(run: SandboxResult, what: string, env: BuildEnvironment, abortMessage: string): BuildOutcome | undefined {
  const base = { exitCode: run.exitCode, signal: run.signal, environment: env };
  if (run.stopped === 'aborted') return { ...base, status: 'aborted', message: `${what} stopped: ${abortMessage}` };
  if (run.stopped === 'timeout') return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} reached its time limit and was killed` };
  if (run.exitCode !== 0) return { ...base, status: 'failed', failureClass: 'ftbfs', message: `${what} ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`}` };
  return undefined;
}

export const commandBackend: Backend = {
  name: 'command',

  async available() {
    const missing = ['bash', 'tar'].filter((p) => !which(p));
    return missing.length ? `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed` : true;
  },

  async build(req: BuildRequest): Promise<BuildOutcome> {
    const { job } = req;
    const pkg = `${job.name} ${job.version} (job ${job.jobId})`;
    const parsed = parseCommandRecipe(job.recipe);
    if (typeof parsed === 'string') return failedBeforeBuild('ftbfs', `Cannot build ${pkg} with the command backend: ${parsed}`, environment(req, undefined));
    const recipe = parsed;
    const env = environment(req, recipe);
    if (!COMPONENT.test(job.name) || !COMPONENT.test(job.version)) return failedBeforeBuild('ftbfs', `Cannot build ${pkg}: the name or version is not usable as a directory name`, env);
    const unavailable = await this.available();
    if (unavailable !== true) return failedBeforeBuild('infrastructure', `Cannot build ${pkg}: the command backend is not usable on this worker: ${unavailable}`, env);

    const srcDir = join(req.workDir, 'build', `${job.name}-${job.version}`);
    const home = join(req.workDir, 'home');
    const tmp = join(req.workDir, 'tmp');
    for (const d of [srcDir, home, tmp]) await mkdir(d, { recursive: true });
    const abortMessage = () => (req.signal.reason instanceof Error ? req.signal.reason.message : String(req.signal.reason ?? 'aborted'));

    try {
      if (recipe.source) {
        const archive = join(req.workDir, 'source.archive');
        try {
          await req.fetch(recipe.source.url, recipe.source.sha256, archive, `the source of ${pkg}`);
        } catch (e) {
          if (req.signal.aborted) return { status: 'aborted', message: `fetching the source of ${pkg} stopped: ${abortMessage()}`, exitCode: null, signal: null, environment: env };
          return failedBeforeBuild('infrastructure', e instanceof FetchError ? e.message : `Cannot fetch the source of ${pkg}: ${(e as Error).message}`, env);
        }
        try {
          const n = await checkMembers(archive, req.signal);
          req.log.note(`source: ${n} members, none absolute or with ".."`);
        } catch (e) {
          if (req.signal.aborted) return { status: 'aborted', message: `checking the source of ${pkg} stopped: ${abortMessage()}`, exitCode: null, signal: null, environment: env };
          req.log.note(`refused the source: ${(e as Error).message}`);
          // The archive's digest matched: it will be the same archive next time, so this is no infrastructure failure.
          return failedBeforeBuild('ftbfs', `Cannot unpack the source of ${pkg}: ${(e as Error).message}`, env);
        }
        const argv = ['tar', '--extract', '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir', '-f', archive, '-C', srcDir];
        if (recipe.source.strip) argv.push(`--strip-components=${recipe.source.strip}`);
        req.log.note(`unpacking the source into build/${job.name}-${job.version}`);
        const unpack = await runSandboxed({
          argv,
          cwd: req.workDir,
          env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, TMPDIR: tmp },
          log: req.log,
          signal: req.signal,
          ...(req.limits.timeoutMs !== undefined ? { timeoutMs: req.limits.timeoutMs } : {}),
        });
        const failed = outcomeOfRun(unpack, `unpacking the source of ${pkg}`, env, abortMessage());
        if (failed) return failed.status === 'failed' ? { ...failed, message: `Cannot unpack the source of ${pkg}: ${failed.message}` } : failed;
      }

      const buildEnv: Record<string, string> = {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: home,
        TMPDIR: tmp,
        OUT: req.outDir,
        PACKAGE: job.name,
        VERSION: job.version,
        ARCH: job.architecture,
        ...(recipe.sourceDateEpoch !== undefined ? { SOURCE_DATE_EPOCH: String(recipe.sourceDateEpoch) } : {}),
      };
      req.log.note(`running the recipe in build/${job.name}-${job.version} with OUT, PACKAGE, VERSION, ARCH, HOME, TMPDIR, PATH${recipe.sourceDateEpoch !== undefined ? ', SOURCE_DATE_EPOCH' : ''}`);
      const run = await runSandboxed({
        argv: ['bash', '-euo', 'pipefail', '-c', recipe.script],
        cwd: srcDir,
        env: buildEnv,
        log: req.log,
        signal: req.signal,
        ...(req.limits.timeoutMs !== undefined ? { timeoutMs: req.limits.timeoutMs } : {}),
        ...(req.limits.memoryBytes !== undefined ? { memoryBytes: req.limits.memoryBytes } : {}),
      });
      const failed = outcomeOfRun(run, `the build of ${pkg}`, env, abortMessage());
      if (failed) return failed;

      const artifacts: string[] = [];
      for (const e of await readdir(req.outDir, { withFileTypes: true })) {
        const what = e.isSymbolicLink() ? 'a symbolic link' : e.isDirectory() ? 'a directory' : e.isFile() ? undefined : 'not a regular file';
        if (what) return { status: 'failed', failureClass: 'ftbfs', message: `Cannot collect the artifacts of ${pkg}: $OUT/${e.name} is ${what} (artifacts are regular files directly in $OUT)`, exitCode: run.exitCode, signal: run.signal, environment: env };
        artifacts.push(join(req.outDir, e.name));
      }
      if (artifacts.length === 0) return { status: 'failed', failureClass: 'ftbfs', message: `Cannot collect the artifacts of ${pkg}: the recipe left no file in $OUT`, exitCode: run.exitCode, signal: run.signal, environment: env };
      artifacts.sort();
      return { status: 'built', artifacts, exitCode: run.exitCode, signal: run.signal, environment: env };
    } catch (e) {
      if (e instanceof SandboxError) return failedBeforeBuild('infrastructure', `Cannot build ${pkg}: ${e.message}`, env);
      throw e;
    }
  },
};
