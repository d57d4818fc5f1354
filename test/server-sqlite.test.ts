// The HTTP API on SQLite: the shared suite (server-suite.ts), then SQLite's own
// trouble under load: 50 clients at once on list, claim and report through a
// listening server, with no 500 and no "database is locked" (rebuilderd #2).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiError } from '../src/api/client.js';
import { openStore } from '../src/store/index.js';
import { ADMIN, pkg, serve, serverSuite, type ServerEnv } from './server-suite.js';

const sqliteEnv = async (): Promise<ServerEnv> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-server-'));
  return { open: (options = {}) => openStore({ ...options, dataDir }), cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
};

serverSuite('SQLite', sqliteEnv);

test('SQLite: 50 concurrent clients listing, claiming and reporting through the listening server: no 500, no "database is locked", each job done once (rebuilderd #2)', async () => {
  const env = await sqliteEnv();
  const s = await serve(env, 'listen');
  try {
    const admin = s.client(ADMIN);
    const JOBS = 300;
    await admin.sync({ distribution: 'archlinux', suite: 'core', architecture: 'x86_64', packages: Array.from({ length: JOBS }, (_, i) => pkg(`p${String(i).padStart(4, '0')}`, '1.0-1')) });
    const tags = { architectures: ['x86_64'], backends: ['command'] };
    const workers = await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        const c = s.client((await admin.addWorker(`w${i}`)).token);
        await c.register({ version: '1', tags });
        return c;
      }),
    );
    const failures: string[] = [];
    const guard = async <T>(p: Promise<T>): Promise<T | undefined> => {
      try {
        return await p;
      } catch (e) {
        failures.push(e instanceof ApiError ? `${e.status} ${e.message}` : String(e));
        return undefined;
      }
    };
    const claimed: number[] = [];
    const workerLoop = async (c: (typeof workers)[number]): Promise<void> => {
      for (;;) {
        const job = await guard(c.claim());
        if (!job) return;
        claimed.push(job.jobId);
        await guard(c.heartbeat(job.jobId, { leaseToken: job.leaseToken }));
        await guard(c.report(job.jobId, { leaseToken: job.leaseToken, verdict: 'BIT_IDENTICAL', ignored: [], causes: [], timings: { build: 1 }, artifacts: [] }));
      }
    };
    let readerRounds = 0;
    let done = false;
    const readerLoop = async (i: number): Promise<void> => {
      const anon = s.client();
      while (!done) {
        await guard(anon.packages({ name: `p0${i % 10}`, limit: 20, offset: (readerRounds % 5) * 10 }));
        await guard(anon.queue({ limit: 10 }));
        readerRounds++;
      }
    };
    const readers = Array.from({ length: 25 }, (_, i) => readerLoop(i));
    await Promise.all(workers.map(workerLoop));
    done = true;
    await Promise.all(readers);
    assert.deepEqual(failures.filter((f) => /^5|locked|SQLITE_BUSY/i.test(f)), []);
    assert.deepEqual(failures, []);
    assert.equal(claimed.length, JOBS);
    assert.equal(new Set(claimed).size, JOBS, 'each job claimed once');
    assert.ok(readerRounds > 25);
    const status = await admin.status();
    assert.deepEqual([status.queue, status.verdicts], [{ queued: 0, running: 0 }, { BIT_IDENTICAL: JOBS }]);
  } finally {
    await s.close();
    await env.cleanup();
  }
});
