// The daemon: opens the store, serves the API, and returns expired leases to the
// queue on a timer (every few seconds, not on the next claim: rebuilderd #168, no
// build shown running forever). It writes <data>/daemon.json with its URL so
// `reprove ctl` on the same host finds it, and, when no admin token is
// configured, keeps a generated one in <data>/admin-token (mode 0600). Closing
// (or an abort of `signal`) stops the timer, the server and the store in order.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SourceRunner } from '../rebuild/sources/runner.js';
import { openStore, type Store } from '../store/index.js';
import { buildServer } from './build-server.js';
import { Notifier } from './web/mail.js';
import type { DaemonConfig } from './config.js';

export interface Daemon {
  /** The API's base URL, e.g. http://127.0.0.1:8484. */
  readonly url: string;
  readonly adminToken: string;
  readonly store: Store;
  readonly app: FastifyInstance;
  readonly sources: SourceRunner;
  /** Resolves once the daemon has stopped (by close() or the signal). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The admin token in force: configured, or kept in <data>/admin-token (made on first start). */
export function adminTokenOf(config: Pick<DaemonConfig, 'adminToken' | 'dataDir'>): { token: string; generated: boolean } {
  if (config.adminToken !== undefined) return { token: config.adminToken, generated: false };
  const file = join(config.dataDir, 'admin-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return { token, generated: false };
  } catch {
    // none yet: make one
  }
  const token = `rpa_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

/** The key of the website's unsubscribe links, kept in <data>/web-secret (mode 0600) so links outlive a restart. */
export function webSecretOf(dataDir: string): string {
  const file = join(dataDir, 'web-secret');
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  } catch {
    // none yet
  }
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Removes temporary upload files no one has written for `staleMs` (a daemon killed mid-upload leaves them). */
export async function sweepStaleUploads(blobDir: string, staleMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(blobDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith('.upload-')) continue;
    const path = join(blobDir, name);
    try {
      if (now - (await stat(path)).mtimeMs >= staleMs) {
        await rm(path, { force: true });
        removed++;
      }
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}

function urlOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export async function startDaemon(config: DaemonConfig, options: { signal?: AbortSignal; log?: (line: string) => void } = {}): Promise<Daemon> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(config.dataDir, { recursive: true });
  const { token: adminToken, generated } = adminTokenOf(config);
  const store = await openStore({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    blobDir: config.blobDir,
    blobMaxBytes: config.uploadLimitBytes,
    queue: { leaseMs: config.leaseMs, heartbeatIntervalMs: config.heartbeatIntervalMs, retry: config.retry },
  });
  const blobDir = config.blobDir ?? join(config.dataDir, 'blobs');
  let app: FastifyInstance;
  let sources: SourceRunner;
  try {
    sources = new SourceRunner(store, config.sources ?? [], log);
    app = buildServer({ store, adminToken, uploadLimitBytes: config.uploadLimitBytes, syncLimitBytes: config.syncLimitBytes, logger: config.log, sources, web: { publicUrl: config.publicUrl, unsubscribeSecret: webSecretOf(config.dataDir) } });
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await store.close();
    throw new Error(`Cannot start the daemon on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = urlOf(config.host, port);
  const daemonFile = join(config.dataDir, 'daemon.json');
  writeFileSync(daemonFile, `${JSON.stringify({ url, pid: process.pid, startedAt: new Date().toISOString() })}\n`);
  if (generated) log(`reprove: admin token generated in ${join(config.dataDir, 'admin-token')}`);

  // Expired leases back to the queue on a timer; one run at a time.
  let expiring = false;
  const expire = async (): Promise<void> => {
    if (expiring) return;
    expiring = true;
    try {
      const expired = await store.expireLeases();
      for (const e of expired) log(`reprove: lease of job ${e.jobId} expired; ${e.requeued ? 'queued again' : 'out of retries, recorded as ERROR'}`);
    } catch (e) {
      log(`reprove: cannot expire leases: ${(e as Error).message}`);
    } finally {
      expiring = false;
    }
  };
  const sweep = () => sweepStaleUploads(blobDir, config.uploadStaleMs).catch(() => 0);
  await Promise.all([expire(), sweep()]);
  sources.start();
  const expireTimer = setInterval(() => void expire(), config.expireIntervalMs);
  const sweepTimer = setInterval(() => void sweep(), Math.min(60_000, Math.max(1000, config.uploadStaleMs)));

  // Mail to maintainers on regressions and fixes, when configured.
  let notifier: Notifier | undefined;
  let mailTimer: NodeJS.Timeout | undefined;
  if (config.mail) {
    notifier = new Notifier(store, { transport: config.mail.smtp, from: config.mail.from, publicUrl: config.publicUrl ?? url, unsubscribeSecret: webSecretOf(config.dataDir), digestMs: config.mail.digestMs, perHour: config.mail.perHour });
    await notifier.start();
    let mailing = false;
    mailTimer = setInterval(() => {
      if (mailing) return;
      mailing = true;
      notifier!
        .tick()
        .catch((e: Error) => log(`reprove: cannot mail maintainers: ${e.message}`))
        .finally(() => (mailing = false));
    }, 30_000);
  }

  let closing: Promise<void> | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => (markClosed = r));
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(expireTimer);
      clearInterval(sweepTimer);
      if (mailTimer) clearInterval(mailTimer);
      notifier?.close();
      try {
        await sources.close();
        await app.close();
        while (expiring) await new Promise((r) => setTimeout(r, 10));
      } finally {
        await store.close();
        // Only our own: a daemon started since on the same data directory keeps its file.
        try {
          if ((JSON.parse(readFileSync(daemonFile, 'utf8')) as { pid?: number }).pid === process.pid) rmSync(daemonFile, { force: true });
        } catch {
          // already gone
        }
        markClosed();
      }
    })();
    return closing;
  };
  if (options.signal) {
    if (options.signal.aborted) void close();
    else options.signal.addEventListener('abort', () => void close(), { once: true });
  }
  return { url, adminToken, store, app, sources, closed, close };
}
