// External programs, bounded in time and output, fed from an Artifact without
// loading it into memory. Their failures become typed errors.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from './artifact.js';
import type { Context } from './context.js';
import { LimitError, ReproveError } from './errors.js';

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

/** Runs `cmd`, collecting at most `maxOutput` bytes of stdout (more is a LimitError). */
export function runTool(ctx: Context, cmd: string, args: string[], opts: ToolOptions): Promise<ToolRun> {
  return ctx.tools.run(
    () =>
      new Promise<ToolRun>((resolve, reject) => {
        const child = spawn(cmd, args, {
          stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
          timeout: ctx.limits.toolTimeout * 1000,
          killSignal: 'SIGKILL',
          env: { ...process.env, LC_ALL: 'C.UTF-8', TZ: 'UTC', ...opts.env },
        });
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
          if (overflow) return reject(new LimitError('tool-output', `${cmd} printed more than ${opts.maxOutput} bytes`));
          if (signal) return reject(new ReproveError('tool', `${cmd} ${args.join(' ')} was killed (${signal}${signal === 'SIGKILL' ? ', time limit' : ''})`));
          if (!(opts.okCodes ?? [0]).includes(code ?? -1)) return reject(new ReproveError('tool', `${cmd} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`));
          resolve({ stdout: Buffer.concat(out), stderr: err, code });
        });
      }),
  );
}

/** Whether a program is on PATH (cached). Looked up in process: a shell to ask costs a process start. */
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
