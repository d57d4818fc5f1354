// `reprove start` (what `npm start` runs): the whole rebuilder on one host. The
// daemon on embedded SQLite in ./data, a worker in the same process, and the
// example distribution (examples/out/distribution.json, made by
// examples/publish.sh) loaded as packages. Running it again reuses ./data: a sync
// of the same list changes nothing and no job is queued twice.
import { readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, ReproveClient } from '../api/client.js';
import type { PackageSummary } from '../api/schemas.js';
import { backends as allBackends } from '../rebuild/backends/registry.js';
import { syncLocalFile } from '../rebuild/sources/local-files.js';
import { loadConfig } from '../server/config.js';
import { startDaemon } from '../server/daemon.js';
import { runWorker } from '../worker/worker.js';
import { table } from './ctl.js';
import { parseCount, stop, UsageError } from './options.js';
import { hostArchitectures } from './worker.js';

export const startUsage = `Usage: reprove start [options]

Runs the rebuilder on this host: the daemon on SQLite in the data directory, a
local worker, and the example distribution loaded as packages. Prints the API's
URL, then each verdict as it comes. Stop it with Ctrl-C; run it again to go on
where it stopped (the data directory keeps everything).

  --data-dir DIR     the daemon's data (default: ./data)
  --listen HOST:PORT where the API listens (default: 127.0.0.1:8484)
  --examples FILE    a package list to load (default: examples/out/distribution.json
                     when it exists)
  --workers N        local worker loops (default: 1; 0 for none)
`;

/** The local worker's token, kept in the data directory (made on first start). */
async function localWorkerToken(admin: ReproveClient, dataDir: string): Promise<string> {
  const file = join(dataDir, 'local-worker.json');
  const saved = await readFile(file, 'utf8').then(
    (t) => JSON.parse(t) as { name: string; token: string },
    () => undefined,
  );
  if (saved) return saved.token;
  const name = `local-${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48) || 'host'}`;
  let added;
  try {
    added = await admin.addWorker(name);
  } catch (e) {
    // The token file was lost but the worker is still registered: make it anew.
    if (!(e instanceof ApiError && e.status === 409)) throw e;
    await admin.removeWorker(name);
    added = await admin.addWorker(name);
  }
  await writeFile(file, JSON.stringify(added) + '\n', { mode: 0o600 });
  return added.token;
}

/** Prints verdicts as they arrive, and the whole table once every package has one. */
async function reportProgress(client: ReproveClient, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  const seen = new Map<number, string>();
  let summarised = false;
  while (!signal.aborted) {
    try {
      const list = await client.packages({ limit: 1000, inArchive: true });
      for (const p of list.items) {
        if (!p.verdict || seen.get(p.id) === `${p.verdict}:${p.resultId}`) continue;
        seen.set(p.id, `${p.verdict}:${p.resultId}`);
        const causes = p.resultId ? ((await client.result(p.resultId)).causes as { id?: string; ignored?: boolean }[]).map((c) => `${c.id}${c.ignored ? ' (ignored)' : ''}`) : [];
        log(`${p.verdict.padEnd(15)} ${p.name} ${p.version}${causes.length ? `  cause: ${[...new Set(causes)].join(', ')}` : ''}`);
      }
      const waiting = list.items.filter((p: PackageSummary) => !p.verdict);
      if (!summarised && list.items.length && waiting.length === 0) {
        const status = await client.status();
        if (status.queue.queued === 0 && status.queue.running === 0) {
          summarised = true;
          log(`every package has a verdict:\n${table(['NAME', 'VERSION', 'VERDICT'], list.items.map((p) => [p.name, p.version, p.verdict]))}`);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      log(`cannot read progress: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 1000).unref());
  }
}

export async function runStart(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      examples: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(startUsage);
    return 0;
  }
  if (positionals.length) throw new UsageError(`reprove start takes no arguments\n\n${startUsage}`);
  const workers = values.workers !== undefined ? parseCount(values.workers, '--workers') : 1;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  // Embedded SQLite always: a DATABASE_URL in the environment is for `reprove serve`.
  const env = { ...process.env };
  delete env['DATABASE_URL'];
  const loaded = loadConfig({ dataDir: values['data-dir'] ?? 'data', ...(values.listen ? { listen: values.listen } : {}) }, env);
  // On one host with a handful of packages, a failed or unreproducible build is tried again
  // within seconds (a daemon for a distribution waits hours: see reprove serve's retry policy).
  const soon = { delayMs: 3000, maxDelayMs: 30_000 };
  const config = { ...loaded, retry: loaded.retry ?? { ftbfs: soon, unreproducible: soon, infrastructure: soon } };
  const daemon = await startDaemon(config, { signal: stop.signal, log: (line) => process.stderr.write(`${line}\n`) });
  log(`reprove: the daemon is up at ${daemon.url} (API: ${daemon.url}/api/v1/status, OpenAPI: ${daemon.url}/api/v1/openapi.json), data in ${config.dataDir}`);
  log(`reprove: the website is at ${daemon.url}/ (packages: ${daemon.url}/packages, known causes: ${daemon.url}/causes)`);
  const admin = new ReproveClient(daemon.url, { token: daemon.adminToken });

  const examples = values.examples ?? 'examples/out/distribution.json';
  const haveExamples = await readFile(examples).then(
    () => true,
    () => false,
  );
  if (haveExamples) {
    const r = await syncLocalFile(admin, examples);
    log(`reprove: loaded ${examples}: ${r.added} new, ${r.unchanged} unchanged, ${r.queued} queued`);
  } else if (values.examples) throw new UsageError(`Cannot read ${examples}`);

  const running: Promise<unknown>[] = [daemon.closed];
  if (workers > 0) {
    const offered = [];
    for (const b of allBackends) if ((await b.available()) === true) offered.push(b);
    const token = await localWorkerToken(admin, config.dataDir);
    running.push(
      runWorker({
        client: new ReproveClient(daemon.url, { token }),
        workDir: join(tmpdir(), `reprove-start-${process.pid}`),
        architectures: hostArchitectures(),
        backends: offered,
        limits: { timeoutMs: 3_600_000 },
        maxLogBytes: 16 << 20,
        jobs: workers,
        idlePollMs: 1000,
        signal: stop.signal,
        log: (line) => process.stderr.write(`worker: ${line}\n`),
      }),
    );
    running.push(reportProgress(admin, stop.signal, log));
  }
  log('reprove: Ctrl-C stops it; `reprove ctl status` (or `npx reprove ctl ...`) shows what it does');
  await Promise.all(running);
  return 0;
}
