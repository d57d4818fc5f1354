// Runs a short helper program (bsdtar reading one member, git rev-parse, a
// version query) and returns its standard output, bounded like a build: its own
// process group killed on a timeout, an abort or output past a cap. For builds,
// whose output goes to the log, use sandbox.ts; this is for the small answers a
// backend reads.
import { spawn } from 'node:child_process';

export interface CaptureRequest {
  argv: string[];
  cwd?: string;
  /** The whole environment of the program (nothing is inherited). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Largest standard output kept; more kills the program and sets `overflow`. */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface CaptureResult {
  stdout: Buffer;
  /** The first 4 KiB of standard error. */
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when reprove stopped the program. */
  stopped?: 'timeout' | 'aborted' | 'overflow';
}

export async function capture(req: CaptureRequest): Promise<CaptureResult> {
  if (req.signal?.aborted) return { stdout: Buffer.alloc(0), stderr: '', exitCode: null, signal: null, stopped: 'aborted' };
  const child = spawn(req.argv[0]!, req.argv.slice(1), { cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  }).catch((e: Error) => {
    throw new Error(`Cannot start ${req.argv[0]}: ${e.message}`);
  });
  const pgid = child.pid!;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let stderr = '';
  let stopped: CaptureResult['stopped'];
  const stop = (why: NonNullable<CaptureResult['stopped']>) => {
    stopped ??= why;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  child.stdout!.on('data', (b: Buffer) => {
    if (stopped) return;
    if (bytes + b.length > req.maxBytes) return stop('overflow');
    chunks.push(b);
    bytes += b.length;
  });
  child.stderr!.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString('utf8').slice(0, 4096 - stderr.length);
  });
  const timer = setTimeout(() => stop('timeout'), req.timeoutMs);
  const onAbort = () => stop('aborted');
  req.signal?.addEventListener('abort', onAbort, { once: true });
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  req.signal?.removeEventListener('abort', onAbort);
  try {
    process.kill(-pgid, 'SIGKILL'); // anything it left behind
  } catch {
    // nothing left
  }
  return { stdout: Buffer.concat(chunks), stderr, exitCode, signal, ...(stopped ? { stopped } : {}) };
}
