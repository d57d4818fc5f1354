// Runs one build command bounded in time, memory and log size, in a process group
// of its own: on a timeout, an abort (lease lost, worker stopping) or the end of
// the command, the whole group is killed with SIGKILL, so a daemon or a `sleep &`
// the build left behind dies too (rebuilderd #110). Arguments are passed as argv,
// never through a shell; the memory limit is set by prlimit(1) where util-linux
// has it, else by `ulimit -v` in a tiny sh wrapper that then execs the command.
// (A process that leaves the group with setsid() escapes: only a cgroup would hold
// it, and cgroups are not writable on every worker; the wait for its output is
// bounded all the same.)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { LogSink } from './log-sink.js';
import { which } from './which.js';

export type MemoryMethod = 'prlimit' | 'ulimit';

export interface SandboxRequest {
  /** The program and its arguments, passed as they are (no shell). */
  argv: string[];
  cwd: string;
  /** The whole environment of the command (nothing is inherited). */
  env: Record<string, string>;
  log: LogSink;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Address-space limit in bytes. */
  memoryBytes?: number;
  /** How to set the memory limit; by default prlimit when installed, else ulimit -v. */
  memoryMethod?: MemoryMethod;
  /** Called with the process group's id once the command started. */
  onStart?: (pgid: number) => void;
}

export interface SandboxResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when reprove stopped the command. */
  stopped?: 'timeout' | 'aborted';
  pgid: number;
  durationMs: number;
}

export class SandboxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxError';
  }
}

/** How long the output pipes may stay open after the group was killed (held by a process that left the group). */
const PIPE_GRACE_MS = 5000;

function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Living (not zombie) members of a process group, from /proc; undefined where there is no /proc. */
function livingMembers(pgid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  let n = 0;
  for (const p of entries) {
    if (p.charCodeAt(0) > 57) continue;
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'latin1').replace(/^.*\) /, '').split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') n++;
    } catch {
      // ended meanwhile
    }
  }
  return n;
}

/** SIGKILL is delivered asynchronously: waits (bounded) until the group's processes are dead, so the caller sees them gone. */
async function awaitGroupDead(pgid: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const n = livingMembers(pgid);
    if (!n) return;
    killGroup(pgid);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) ? 1 : 0)} MiB`;

/** The argv with the memory limit applied, and the line saying how. */
function withMemoryLimit(argv: string[], bytes: number | undefined, forced: MemoryMethod | undefined): { argv: string[]; how: string } {
  if (bytes === undefined) return { argv, how: 'no memory limit' };
  const method = forced ?? (which('prlimit') ? 'prlimit' : 'ulimit');
  if (method === 'prlimit') return { argv: ['prlimit', `--as=${bytes}`, '--', ...argv], how: `memory limit ${mib(bytes)} of address space (prlimit --as)` };
  const kib = Math.max(1, Math.floor(bytes / 1024));
  return {
    argv: ['/bin/sh', '-c', 'ulimit -v "$1" || exit 126; shift; exec "$@"', 'reprove-sandbox', String(kib), ...argv],
    how: `memory limit ${mib(bytes)} of address space (ulimit -v: prlimit is not installed)`,
  };
}

export async function runSandboxed(req: SandboxRequest): Promise<SandboxResult> {
  const started = Date.now();
  const { argv, how } = withMemoryLimit(req.argv, req.memoryBytes, req.memoryMethod);
  req.log.note(`${how}; ${req.timeoutMs !== undefined ? `time limit ${Math.round(req.timeoutMs / 1000)} s` : 'no time limit'}; own process group`);
  if (req.signal?.aborted) {
    req.log.note('not started: aborted');
    return { exitCode: null, signal: null, stopped: 'aborted', pgid: 0, durationMs: 0 };
  }
  const child = spawn(argv[0]!, argv.slice(1), { cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  try {
    await spawned;
  } catch (e) {
    throw new SandboxError(`Cannot start ${argv[0]}: ${(e as Error).message}`);
  }
  const pgid = child.pid!;
  req.onStart?.(pgid);
  child.stdout!.on('data', (b: Buffer) => req.log.write(b));
  child.stderr!.on('data', (b: Buffer) => req.log.write(b));
  const pipesClosed = Promise.all([child.stdout!, child.stderr!].map((s) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())))));

  let stopped: SandboxResult['stopped'];
  const stop = (why: 'timeout' | 'aborted', text: string) => {
    if (stopped) return;
    stopped = why;
    req.log.note(text);
    killGroup(pgid);
  };
  const timer = req.timeoutMs !== undefined ? setTimeout(() => stop('timeout', `killed the build's process group: time limit of ${Math.round(req.timeoutMs! / 1000)} s reached`), req.timeoutMs) : undefined;
  const onAbort = () => stop('aborted', `killed the build's process group: ${abortReason(req.signal!)}`);
  req.signal?.addEventListener('abort', onAbort, { once: true });

  const [exitCode, signal] = (await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])))) as [number | null, NodeJS.Signals | null];
  if (timer) clearTimeout(timer);
  req.signal?.removeEventListener('abort', onAbort);
  // What the command left running in its group dies with it.
  let killedLeftovers = false;
  if (!stopped && groupAlive(pgid)) {
    req.log.note('the build left processes running in its process group: killed them');
    killedLeftovers = killGroup(pgid);
  }
  if (stopped || killedLeftovers) await awaitGroupDead(pgid);
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    pipesClosed,
    new Promise<void>((r) => {
      grace = setTimeout(() => {
        req.log.note('output still open after the build ended (a process left its group): stopped reading it');
        child.stdout!.destroy();
        child.stderr!.destroy();
        r();
      }, PIPE_GRACE_MS);
    }),
  ]);
  clearTimeout(grace);
  req.log.note(stopped ? `build stopped (${stopped})` : signal ? `build ended by signal ${signal}` : `build exited with code ${exitCode}`);
  return { exitCode, signal, ...(stopped ? { stopped } : {}), pgid, durationMs: Date.now() - started };
}

export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error) return r.message;
  return 'aborted';
}
