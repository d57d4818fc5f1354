// `reprove worker`: a rebuild worker that holds only the daemon's URL and a token,
// claims jobs, rebuilds, verifies and explains them, and reports the results.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ReproveClient } from '../api/client.js';
import type { Backend } from '../rebuild/backend.js';
import { backends as allBackends } from '../rebuild/backends/registry.js';
import { runWorker, WorkerFatalError } from '../worker/worker.js';
import { parseCount, parseSize, stop, UsageError } from './options.js';

export const workerUsage = `Usage: reprove worker --server URL --token TOKEN [options]

Claims rebuild jobs from a reprove daemon, rebuilds each with its backend,
compares the rebuild with the published artifacts, explains the differences,
uploads the log, the reports and the rebuilt artifacts, and reports the result.
Runs until SIGTERM or SIGINT; a daemon that is down or goes away is waited for
(with backoff), never given up on.

  --server URL          the daemon's URL (or $REPROVE_SERVER)
  --token TOKEN         this worker's token from 'reprove ctl workers add'
                        (or $REPROVE_TOKEN, which other users cannot read in ps)
  --tags TAG[;TAG]      what this worker offers: arch=x86_64,aarch64 (default:
                        this host's architecture, as x86_64 and as Debian's
                        amd64, and all/any for architecture-independent
                        packages), memory=SIZE (default: this host's memory);
                        repeatable
  --backends A,B        backends to offer (default: every installed one: ${allBackends.map((b) => b.name).join(', ')})
  --jobs N              run N jobs at once, each in its own loop (default 1)
  --work-dir DIR        where builds run (default: $TMPDIR/reprove-worker)
  --build-timeout S     seconds a build may take before its process group is
                        killed (default 21600: 6 hours)
  --build-memory SIZE   address-space limit of each build process, e.g. 8G
                        (default: none; prlimit --as, or ulimit -v without it)
  --max-log SIZE        cap of a build's log; the head and tail are kept
                        (default 64M)
  --max-fetch SIZE      largest input fetched (default 16G)
  --allow-file-urls     fetch file:// inputs (a worker on the daemon's host)
  --poll S              seconds between claims when the queue is empty (default 5)

Exit status: 0 when stopped by a signal after the running job was reported or
abandoned (130/143 as the shell reports signals), 1 when the daemon refuses
the token, 2 on a usage or configuration error.
`;

/** Node's names of processor architectures as distributions spell them. */
export const ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7h', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64le', loong64: 'loong64' };
/** The same as Debian spells them (its jobs name amd64, not x86_64). */
export const DEBIAN_ARCH: Partial<Record<NodeJS.Architecture, string>> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', arm: 'armhf', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64el', loong64: 'loong64' };

/**
 * What a worker offers by default: this host's architecture in both spellings, and the
 * architecture-independent packages (Debian's "all", Arch's "any"), which any host builds.
 */
export function hostArchitectures(arch: NodeJS.Architecture = process.arch): string[] {
  return [...new Set([ARCH[arch] ?? arch, DEBIAN_ARCH[arch] ?? arch, 'all', 'any'])];
}

/** --tags values: "arch=x86_64,aarch64;memory=8G" (and repeated flags). */
export function parseTags(values: string[]): { architectures?: string[]; memoryMb?: number } {
  const out: { architectures?: string[]; memoryMb?: number } = {};
  for (const tag of values.flatMap((v) => v.split(';')).map((t) => t.trim()).filter(Boolean)) {
    const eq = tag.indexOf('=');
    const key = eq < 0 ? tag : tag.slice(0, eq);
    const value = eq < 0 ? '' : tag.slice(eq + 1);
    if (key === 'arch' || key === 'architectures') {
      const list = value.split(',').map((a) => a.trim()).filter(Boolean);
      for (const a of list) if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(a)) throw new UsageError(`--tags arch=: ${JSON.stringify(a)} is not an architecture name`);
      if (!list.length) throw new UsageError('--tags arch= names at least one architecture');
      out.architectures = [...(out.architectures ?? []), ...list];
    } else if (key === 'memory') {
      out.memoryMb = Math.floor(parseSize(value, '--tags memory=') / 1024 / 1024);
    } else throw new UsageError(`--tags: unknown tag ${JSON.stringify(key)} (arch=..., memory=...)`);
  }
  return out;
}

/** The backends to offer: the named ones (each must be installed) or every installed one. */
async function chooseBackends(names: string | undefined): Promise<Backend[]> {
  if (names === undefined) {
    const chosen: Backend[] = [];
    for (const b of allBackends) {
      const a = await b.available();
      if (a === true) chosen.push(b);
      else process.stderr.write(`reprove worker: backend ${b.name} not offered: ${a}\n`);
    }
    return chosen;
  }
  const chosen: Backend[] = [];
  for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
    const b = allBackends.find((x) => x.name === name);
    if (!b) throw new UsageError(`--backends: unknown backend ${JSON.stringify(name)}; known: ${allBackends.map((x) => x.name).join(', ')}`);
    const a = await b.available();
    if (a !== true) throw new UsageError(`--backends: backend ${name} is not installed on this host: ${a}`);
    chosen.push(b);
  }
  return chosen;
}

export async function runWorkerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      tags: { type: 'string', multiple: true },
      backends: { type: 'string' },
      jobs: { type: 'string', short: 'j' },
      'work-dir': { type: 'string' },
      'build-timeout': { type: 'string' },
      'build-memory': { type: 'string' },
      'max-log': { type: 'string' },
      'max-fetch': { type: 'string' },
      'allow-file-urls': { type: 'boolean' },
      poll: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(workerUsage);
    return 0;
  }
  if (positionals.length) throw new UsageError(`reprove worker takes no arguments, got ${positionals.map((p) => JSON.stringify(p)).join(' ')}\n\n${workerUsage}`);
  const server = values.server ?? process.env['REPROVE_SERVER'];
  const token = values.token ?? process.env['REPROVE_TOKEN'];
  if (!server) throw new UsageError('reprove worker needs --server URL (or $REPROVE_SERVER)');
  if (!/^https?:\/\//.test(server)) throw new UsageError(`--server takes an http:// or https:// URL, not ${JSON.stringify(server)}`);
  if (!token) throw new UsageError('reprove worker needs --token TOKEN (or $REPROVE_TOKEN)');
  const tags = parseTags(values.tags ?? []);
  const jobs = values.jobs !== undefined ? parseCount(values.jobs, '--jobs') : 1;
  if (jobs < 1) throw new UsageError('--jobs must be at least 1');
  const timeoutS = values['build-timeout'] !== undefined ? parseCount(values['build-timeout'], '--build-timeout') : 21_600;
  if (timeoutS < 1) throw new UsageError('--build-timeout must be at least 1 second');
  const memoryBytes = values['build-memory'] !== undefined ? parseSize(values['build-memory'], '--build-memory') : undefined;
  const maxLogBytes = values['max-log'] !== undefined ? parseSize(values['max-log'], '--max-log') : 64 * 1024 ** 2;
  if (maxLogBytes < 1024) throw new UsageError('--max-log must be at least 1K');
  const maxFetchBytes = values['max-fetch'] !== undefined ? parseSize(values['max-fetch'], '--max-fetch') : undefined;
  const pollS = values.poll !== undefined ? parseCount(values.poll, '--poll') : 5;
  const backends = await chooseBackends(values.backends);
  if (backends.length === 0) throw new UsageError('reprove worker: no backend is installed on this host');
  const architectures = tags.architectures ?? hostArchitectures();

  try {
    await runWorker({
      client: new ReproveClient(server, { token }),
      workDir: resolve(values['work-dir'] ?? join(tmpdir(), 'reprove-worker')),
      architectures,
      backends,
      ...(tags.memoryMb !== undefined ? { memoryMb: tags.memoryMb } : {}),
      limits: { timeoutMs: timeoutS * 1000, ...(memoryBytes !== undefined ? { memoryBytes } : {}) },
      maxLogBytes,
      ...(maxFetchBytes !== undefined ? { maxFetchBytes } : {}),
      allowFileUrls: values['allow-file-urls'] ?? false,
      jobs,
      idlePollMs: Math.max(1, pollS) * 1000,
      signal: stop.signal,
    });
  } catch (e) {
    if (e instanceof WorkerFatalError) {
      process.stderr.write(`reprove worker: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  return 0;
}
