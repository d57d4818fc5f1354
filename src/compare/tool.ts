// The one runner of external programs (decompressors, diff, objdump, readelf,
// javap, python): every run takes a slot of the comparison's -j limit, has a time
// limit and an output cap, and is killed when the comparison is aborted. A run's
// failures become typed errors.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from './artifact.js';
import { AbortError, LimitError, ReproveError } from './errors.js';
import { Semaphore } from './semaphore.js';

export interface ToolRun {
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

export interface ToolOptions {
  /** Fed to standard input. */
  input?: Artifact;
  maxOutput: number;
  /** Exit codes that count as success (default: 0). */
  okCodes?: number[];
  /** Variables added to the tool's environment. */
  env?: Record<string, string>;
}

/** What the runner needs of a comparison: its slots, time limit and abort signal. */
export interface ToolHost {
  readonly tools: ToolRunner;
}

/** The external programs of one comparison. */
export class ToolRunner {
  private readonly slots: Semaphore;
  private readonly live = new Set<ChildProcess>();

  constructor(
    jobs: number,
    /** Seconds one program may run. */
    private readonly timeout: number,
    private readonly signal?: AbortSignal,
  ) {
    this.slots = new Semaphore(Math.max(1, jobs));
    signal?.addEventListener('abort', () => this.killAll(), { once: true });
  }

  /** Runs `fn` in one of the -j slots (for work that runs a program or decompresses in process). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.slots.run(() => {
      this.throwIfAborted();
      return fn();
    });
  }

  throwIfAborted(): void {
    if (this.signal?.aborted) throw new AbortError(this.signal.reason);
  }

  /** Starts a program, tracked so that an abort kills it; its time limit kills it with SIGKILL. */
  start(cmd: string, args: string[], stdio: ['pipe' | 'ignore', 'pipe', 'pipe'], env?: Record<string, string>): ChildProcess {
    this.throwIfAborted();
    const child = spawn(cmd, args, {
      stdio,
      timeout: this.timeout * 1000,
      killSignal: 'SIGKILL',
      env: { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC', ...env },
    });
    this.live.add(child);
    child.once('close', () => this.live.delete(child));
    child.once('error', () => this.live.delete(child));
    return child;
  }

  /** Kills every program still running (an abort, or the end of the comparison). */
  killAll(): void {
    for (const c of this.live) c.kill('SIGKILL');
  }

  /** Resolves when no program of this comparison is running any more. */
  async settled(): Promise<void> {
    await Promise.all([...this.live].map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('close', r)))));
  }

  get abortSignal(): AbortSignal | undefined {
    return this.signal;
  }
}

/** Runs `cmd` in a slot, collecting at most `maxOutput` bytes of stdout (more is a LimitError). */
export function runTool(ctx: ToolHost, cmd: string, args: string[], opts: ToolOptions): Promise<ToolRun> {
  const runner = ctx.tools;
  return runner.run(
    () =>
      new Promise<ToolRun>((resolve, reject) => {
        const child = runner.start(cmd, args, [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'], opts.env);
        const out: Buffer[] = [];
        let outLen = 0;
        let err = '';
        let overflow = false;
        child.stdout!.on('data', (c: Buffer) => {
          outLen += c.length;
          if (outLen > opts.maxOutput) {
            overflow = true;
            child.kill('SIGKILL');
          } else out.push(c);
        });
        child.stderr!.on('data', (c: Buffer) => {
          if (err.length < 4096) err += c.toString();
        });
        if (opts.input && child.stdin) {
          child.stdin.on('error', () => undefined);
          pipeline(opts.input.stream(), child.stdin).catch(() => undefined);
        }
        child.on('error', (e) => reject(new ReproveError('tool', `Cannot run ${cmd}: ${e.message}`)));
        child.on('close', (code, signal) => {
          if (runner.abortSignal?.aborted) return reject(new AbortError(runner.abortSignal.reason));
          if (overflow) return reject(new LimitError('tool-output', `${cmd} printed more than ${opts.maxOutput} bytes`));
          if (signal) return reject(new ReproveError('tool', `${cmd} ${args.join(' ')} was killed (${signal}${signal === 'SIGKILL' ? ', time limit' : ''})`));
          if (!(opts.okCodes ?? [0]).includes(code ?? -1)) return reject(new ReproveError('tool', `${cmd} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`));
          resolve({ stdout: Buffer.concat(out), stderr: err, code });
        });
      }),
  );
}

/**
 * The output of `cmd args` with the artifact on its standard input, as chunks. The
 * caller holds a slot (ctx.tools.run) and bounds the output (spill's limits); the
 * time limit and abort apply here.
 */
export async function* toolOutput(ctx: ToolHost, artifact: Artifact, cmd: string, args: string[]): AsyncGenerator<Buffer> {
  const runner = ctx.tools;
  const child = runner.start(cmd, args, ['pipe', 'pipe', 'pipe']);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (err.length < 2048) err += c.toString();
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new ReproveError('tool', `Cannot run ${cmd}: ${e.message}`)));
  });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (code, signal) => resolve([code, signal])));
  await spawned;
  child.stdin!.on('error', () => undefined);
  const feeding = pipeline(artifact.stream(), child.stdin!).catch(() => undefined);
  let finished = false;
  try {
    for await (const c of child.stdout!) yield c as Buffer;
    finished = true;
  } finally {
    if (!finished) child.kill('SIGKILL');
  }
  await feeding;
  const [code, signal] = await exited;
  runner.throwIfAborted();
  if (signal) throw new ReproveError('tool', `${cmd} ${args.join(' ')} was killed (${signal}${signal === 'SIGKILL' ? ', time limit' : ''})`);
  if (code !== 0) throw new ReproveError('malformed', `${cmd} ${args.join(' ')} failed (exit ${code}): ${err.trim().split('\n').slice(-2).join(' ') || 'no message'}`);
}

/** Whether a program is on PATH (cached: the answer is the machine's, not a run's). Looked up in process: a shell to ask costs a process start. */
const found = new Map<string, Promise<boolean>>();
export function haveTool(cmd: string): Promise<boolean> {
  let p = found.get(cmd);
  if (!p) {
    p = onPath(cmd);
    found.set(cmd, p);
  }
  return p;
}

async function onPath(cmd: string): Promise<boolean> {
  if (cmd.includes('/')) return executable(cmd);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (await executable(join(dir || '.', cmd))) return true;
  return false;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
