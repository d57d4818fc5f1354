// What the service tests share: waiting for a state, `reprove serve` and
// `reprove worker` as real processes on loopback, and small packages built at
// test time with a recipe for the command backend.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ReproveClient } from '../src/api/client.js';
import type { SyncPackage } from '../src/api/schemas.js';
import { CLI, sh } from './helpers.js';

/** An error `until` does not wait out. */
export class Fatal extends Error {}

export /** Waits until `check` returns a value, polling; fails after `seconds`, or at once when `check` throws a Fatal. */
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

/** `reprove ARGS` as a child process (TZ=UTC, no DATABASE_URL, plus `env`), its output written to `log` when it exits, killed when the test ends. */
export function runCli(t: TestContext, args: string[], log: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC', ...env };
  delete childEnv['DATABASE_URL'];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
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

/** `reprove serve` on loopback with its data in `dir`/daemon (log: `dir`/daemon.log), once it listens: its URL and an admin client. */
export async function startDaemon(t: TestContext, dir: string, adminToken: string): Promise<{ url: string; admin: ReproveClient; daemon: ChildProcess }> {
  const dataDir = join(dir, 'daemon');
  mkdirSync(dataDir);
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ listen: '127.0.0.1:0', dataDir, adminToken, leaseSeconds: 30, heartbeatSeconds: 2, expireIntervalSeconds: 1 }));
  const daemon = runCli(t, ['serve', '--config', join(dir, 'daemon.json')], join(dir, 'daemon.log'));
  const url = await until('the daemon to listen', 60, async () => {
    if (daemon.exitCode !== null) throw new Fatal(`reprove serve exited with ${daemon.exitCode}`);
    const info = join(dataDir, 'daemon.json');
    return existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { url: string }).url : undefined;
  });
  return { url, admin: new ReproveClient(url, { token: adminToken }), daemon };
}

/**
 * `reprove worker` offering `backends` (work in `dir`/work, log `dir`/worker.log, `env`
 * added to its environment), and `waitFor`, which waits as `until` does but fails at
 * once if the worker exits and, on failure, stops it and adds its log to the error.
 */
export async function startWorker(
  t: TestContext,
  dir: string,
  url: string,
  admin: ReproveClient,
  backends: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ worker: ChildProcess; waitFor: <T>(what: string, seconds: number, check: () => Promise<T | undefined>) => Promise<T> }> {
  const { token } = await admin.addWorker(backends.join('-'));
  const log = join(dir, 'worker.log');
  const worker = runCli(t, ['worker', '--server', url, '--token', token, '--backends', backends.join(','), '--poll', '1', '--work-dir', join(dir, 'work')], log, env);
  const waitFor = <T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> =>
    until(what, seconds, async () => {
      if (worker.exitCode !== null) throw new Fatal(`the worker exited with ${worker.exitCode}`);
      return check();
    }).catch(async (e: Error) => {
      worker.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1000));
      throw new Error(`${e.message}\nworker: ${existsSync(log) ? readFileSync(log, 'utf8') : '(still running)'}`);
    });
  return { worker, waitFor };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Packages built at test time: each a source tarball and a recipe, published as the
 * file the recipe makes. `kind` says how a rebuild differs: not at all, by the date
 * it writes, or not at all but slowly (a build a worker can be killed in).
 */
export function makePackages(dir: string, names: string[], kind: (name: string) => 'same' | 'date' | 'slow' | 'fails'): SyncPackage[] {
  return names.map((name) => {
    const src = join(dir, 'src', name);
    sh(dir, `mkdir -p src/${name}/${name}-1.0 pub/${name} && echo "hello from ${name}" > src/${name}/${name}-1.0/data.txt && tar --sort=name --mtime=@0 --owner=0 --group=0 -C src/${name} -czf src/${name}.tar.gz ${name}-1.0`);
    const script = {
      same: 'cp data.txt "$OUT/$PACKAGE.txt"',
      slow: 'sleep 6; cp data.txt "$OUT/$PACKAGE.txt"',
      date: '{ cat data.txt; date +%s%N; } > "$OUT/$PACKAGE.txt"',
      fails: 'cp does-not-exist "$OUT/"',
    }[kind(name)];
    // The published file: what the build server made (for 'date', at another moment).
    sh(dir, `cp ${src}/${name}-1.0/data.txt pub/${name}/${name}.txt` + (kind(name) === 'date' ? ` && echo 1000 >> pub/${name}/${name}.txt` : ''));
    const pub = join(dir, 'pub', name, `${name}.txt`);
    const tarball = join(dir, 'src', `${name}.tar.gz`);
    return {
      name,
      version: '1.0',
      backend: 'command',
      recipe: { script, source: { url: `file://${tarball}`, sha256: sha256(tarball), strip: 1 } },
      artifacts: [{ name: `${name}.txt`, url: `file://${pub}`, sha256: sha256(pub) }],
    };
  });
}
