// The HTTP API's behaviour, one suite run over both databases (server-sqlite.test.ts,
// server-postgres.test.ts). The protocol is driven by the real ReproveClient, once
// against a server listening on 127.0.0.1:0 and once through app.inject (the
// client's fetch answered by inject), so both transports see the same requests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { ApiError, ReproveClient } from '../src/api/client.js';
import * as S from '../src/api/schemas.js';
import { buildServer, type ServerConfig } from '../src/server/build-server.js';
import type { Store, StoreOptions } from '../src/store/index.js';

export interface ServerEnv {
  open(options?: Omit<StoreOptions, 'url' | 'dataDir' | 'pgSchema'>): Promise<Store>;
  cleanup(): Promise<void>;
}

export const ADMIN = 'admin-token-for-tests-0123456789';
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A fetch answered by `app.inject`, for the client to use in place of the network. */
function injectFetch(app: FastifyInstance): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = { ...(init.headers as Record<string, string>) };
    let payload: string | Readable | undefined;
    if (typeof init.body === 'string') payload = init.body;
    else if (init.body) payload = Readable.fromWeb(init.body as never);
    const res = await app.inject({ method: (init.method ?? 'GET') as 'GET', url: url.pathname + url.search, headers, ...(payload !== undefined ? { payload } : {}) });
    const h = new Headers();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
    return new Response(res.statusCode === 204 ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers: h });
  }) as typeof fetch;
}

export type Transport = 'listen' | 'inject';

/** A server on a fresh database, reachable by clients over the chosen transport. */
export async function serve(env: ServerEnv, transport: Transport, config: Partial<ServerConfig> = {}, storeOptions: Omit<StoreOptions, 'url' | 'dataDir' | 'pgSchema'> = {}) {
  const store = await env.open(storeOptions);
  const app = buildServer({ store, adminToken: ADMIN, ...config });
  let base = 'http://reprove.test';
  const realFetch = globalThis.fetch;
  if (transport === 'listen') base = await app.listen({ host: '127.0.0.1', port: 0 });
  else globalThis.fetch = injectFetch(app);
  return {
    app,
    store,
    base,
    client: (token?: string) => new ReproveClient(base, token === undefined ? {} : { token }),
    close: async () => {
      globalThis.fetch = realFetch;
      await app.close();
      await store.close();
    },
  };
}

const DIST = { distribution: 'archlinux', suite: 'core', architecture: 'x86_64' };
export function pkg(name: string, version: string): S.SyncPackage {
  return {
    name,
    version,
    backend: 'command',
    recipe: { script: `make ${name}` },
    buildinfo: { url: `https://example.invalid/${name}.buildinfo`, sha256: sha(`${name}-buildinfo`) },
    artifacts: [{ name, url: `https://example.invalid/${name}-${version}.pkg.tar.zst`, sha256: sha(`${name}-${version}`), size: 1234 }],
  };
}

export async function rejects(p: Promise<unknown>, status: number, message?: RegExp): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
    assert.equal(e.status, status, `${e.status} ${e.message}`);
    assert.ok(e.message.length > 0);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected HTTP ${status}`);
}

const check = <T extends import('@sinclair/typebox').TSchema>(schema: T, value: unknown): void => {
  const first = Value.Errors(schema, value).First();
  assert.equal(first, undefined, first ? `${first.path} ${first.message}` : '');
};

export function serverSuite(db: string, makeEnv: () => Promise<ServerEnv>): void {
  const withEnv = async (body: (env: ServerEnv) => Promise<void>): Promise<void> => {
    const env = await makeEnv();
    try {
      await body(env);
    } finally {
      await env.cleanup();
    }
  };

  for (const transport of ['listen', 'inject'] as const) {
    test(`${db}, ${transport}: sync, list with filters and pages, claim (204 when nothing), heartbeat, upload, report (twice: stored once), result, history, rebuilderd's list, OpenAPI, metrics`, () =>
      withEnv(async (env) => {
        const s = await serve(env, transport);
        const tmp = mkdtempSync(join(tmpdir(), 'reprove-server-'));
        try {
          const admin = s.client(ADMIN);
          const anon = s.client();
          const synced = await admin.sync({ ...DIST, packages: [pkg('hello', '1.0-1'), pkg('world', '2.0-1'), pkg('zlib', '1.3-2')] });
          assert.deepEqual(synced, { added: 3, unchanged: 0, leftArchive: 0, queued: 3, superseded: 0 });
          await admin.sync({ ...DIST, architecture: 'aarch64', packages: [pkg('hello', '1.0-1')] });

          const all = await anon.packages({ architecture: 'x86_64' });
          check(S.PackageList, all);
          assert.equal(all.total, 3);
          assert.deepEqual(all.items.map((p) => p.name), ['hello', 'world', 'zlib']);
          const page = await anon.packages({ architecture: 'x86_64', limit: 2, offset: 2 });
          assert.deepEqual([page.total, page.limit, page.offset, page.items.map((p) => p.name)], [3, 2, 2, ['zlib']]);
          assert.deepEqual((await anon.packages({ name: 'WOR' })).items.map((p) => p.name), ['world']);
          assert.equal((await anon.packages({ verdict: 'UNKNOWN' })).total, 4);
          assert.equal((await anon.packages({ inArchive: false })).total, 0);

          const added = await admin.addWorker('builder-1');
          const worker = s.client(added.token);
          assert.equal(await worker.claim(), null, 'no tags yet: nothing to claim (204)');
          const info = await worker.register({ version: '0.1.0', tags: { architectures: ['x86_64'], backends: ['command'] }, freeDiskBytes: 10_000 });
          check(S.WorkerInfo, info);
          assert.equal(info.online, true);

          const job = await worker.claim();
          assert.ok(job);
          check(S.ClaimedJob, job);
          assert.equal(job.name, 'hello');
          assert.deepEqual(job.recipe, { script: 'make hello' });
          assert.deepEqual(job.artifacts, pkg('hello', '1.0-1').artifacts);
          assert.deepEqual(job.buildinfo, pkg('hello', '1.0-1').buildinfo);
          assert.equal(job.backend, 'command');

          const beat = await worker.heartbeat(job.jobId, { leaseToken: job.leaseToken, freeDiskBytes: 9000 });
          assert.equal(beat.continue, true);
          assert.ok(beat.leaseExpiresAt! >= job.leaseExpiresAt);
          assert.equal((await worker.heartbeat(job.jobId, { leaseToken: 'not-the-token' })).continue, false);

          const log = Buffer.from('building hello\nall good\n'.repeat(100));
          writeFileSync(join(tmp, 'log'), log);
          const stored = await worker.uploadFile(join(tmp, 'log'), sha(log));
          assert.deepEqual(stored, { sha256: sha(log), size: log.length });
          assert.deepEqual(await admin.uploadFile(join(tmp, 'log'), sha(log)), stored, 'the admin may upload too; stored once');

          const report: S.ReportRequest = {
            leaseToken: job.leaseToken,
            verdict: 'REPRODUCIBLE',
            exitCode: 0,
            ignored: [{ path: 'hello/.BUILDINFO', reason: 'build date' }],
            causes: [{ id: 'build_date_in_package_metadata', confidence: 'high', fix: 'SOURCE_DATE_EPOCH', evidence: [] }],
            timings: { build: 1200.4, verify: 30 }, // seconds, kept to the millisecond
            log: sha(log),
            artifacts: [],
          };
          const first = await worker.report(job.jobId, report);
          assert.deepEqual({ final: first.final, requeued: first.requeued }, { final: true, requeued: false });
          const again = await worker.report(job.jobId, report);
          assert.equal(again.resultId, first.resultId, 'the same report twice is stored once');
          await rejects(worker.report(job.jobId, { ...report, verdict: 'UNREPRODUCIBLE' }), 409, /Cannot accept the report/);

          const result = await anon.result(first.resultId);
          check(S.ResultDetail, result);
          assert.equal(result.result.verdict, 'REPRODUCIBLE');
          assert.equal(result.result.worker, 'builder-1');
          assert.deepEqual(result.result.issues, ['build_date_in_package_metadata']);
          assert.equal(result.log, sha(log));
          assert.equal(result.exitCode, 0);
          assert.deepEqual(result.timings, { build: 1200.4, verify: 30 });
          const blob = await anon.blob(sha(log));
          assert.match(blob.headers.get('content-type') ?? '', /^text\/plain/);
          assert.equal(Buffer.from(await blob.arrayBuffer()).toString(), log.toString());

          const detail = await anon.package(result.result.packageId);
          check(S.PackageDetail, detail);
          assert.equal(detail.package.verdict, 'REPRODUCIBLE');
          assert.deepEqual(detail.history.map((h) => h.id), [first.resultId]);
          assert.equal((await anon.packages({ verdict: 'REPRODUCIBLE' })).items[0]?.name, 'hello');

          const list = await anon.rebuilderdList({ distro: 'archlinux' });
          for (const e of list) check(S.RebuilderdPackage, e);
          assert.equal(list.length, 4);
          const hello = list.find((e) => e.name === 'hello' && e.architecture === 'x86_64')!;
          assert.equal(hello.status, 'GOOD');
          assert.equal(hello.artifact_url, pkg('hello', '1.0-1').artifacts[0]!.url);
          assert.equal(hello.build_id, first.resultId);
          assert.match(hello.built_at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
          assert.deepEqual((await anon.rebuilderdList({ status: 'GOOD' })).map((e) => e.name), ['hello']);
          assert.equal((await anon.rebuilderdList({ status: 'UNKWN', architecture: 'x86_64' })).length, 2);

          const queue = await anon.queue();
          check(S.QueueList, queue);
          assert.deepEqual(queue.items.map((q) => q.name).sort(), ['hello', 'world', 'zlib']);
          assert.equal((await anon.queue({ all: true })).total, 4);
          const workers = await anon.workers();
          assert.deepEqual(workers.map((w) => [w.name, w.freeDiskBytes, w.currentJobId]), [['builder-1', 9000, null]]);
          const status = await anon.status();
          check(S.StatusResponse, status);
          assert.deepEqual([status.packages, status.verdicts['REPRODUCIBLE'], status.queue.queued, status.workers.total], [4, 1, 3, 1]);

          const openapi = await s.app.inject({ url: '/api/v1/openapi.json' });
          assert.equal(openapi.statusCode, 200);
          const doc = JSON.parse(openapi.body) as { openapi: string; paths: Record<string, unknown> };
          assert.match(doc.openapi, /^3\./);
          for (const p of ['/api/v1/packages', '/api/v1/packages/{id}', '/api/v1/packages/sync', '/api/v1/results/{id}', '/api/v1/queue', '/api/v1/queue/push', '/api/v1/queue/retry', '/api/v1/queue/drop', '/api/v1/workers', '/api/v1/workers/{name}', '/api/v1/worker/register', '/api/v1/worker/claim', '/api/v1/worker/jobs/{jobId}/heartbeat', '/api/v1/worker/jobs/{jobId}/report', '/api/v1/blobs/{sha256}', '/api/v0/pkgs/list', '/api/v1/status', '/metrics']) {
            assert.ok(doc.paths[p], `OpenAPI lists ${p}`);
          }

          const metrics = await s.app.inject({ url: '/metrics' });
          assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
          assert.match(metrics.body, /^reprove_queue_jobs\{distribution="archlinux",architecture="x86_64",status="queued"\} 2$/m);
          assert.match(metrics.body, /^reprove_queue_jobs\{distribution="archlinux",architecture="aarch64",status="queued"\} 1$/m);
          assert.match(metrics.body, /^reprove_results_total\{verdict="REPRODUCIBLE",final="true"\} 1$/m);
          assert.match(metrics.body, /^reprove_builds_last_hour 1$/m);
          assert.match(metrics.body, /^reprove_worker_last_heartbeat_seconds\{worker="builder-1"\} \d+(\.\d+)?$/m);
          assert.match(metrics.body, /^reprove_worker_current_job\{worker="builder-1"\} 0$/m);

          await admin.removeWorker('builder-1');
          assert.deepEqual(await anon.workers(), []);
        } finally {
          rmSync(tmp, { recursive: true, force: true });
          await s.close();
        }
      }));
  }

  test(`${db}: bad input answers 4xx with a JSON message and stores nothing`, () =>
    withEnv(async (env) => {
      const s = await serve(env, 'inject', { uploadLimitBytes: 4096 });
      try {
        const { app, store } = s;
        const json = (r: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number) => {
          assert.equal(r.statusCode, status, r.body);
          assert.match(String(r.headers['content-type']), /^application\/json/);
          const b = JSON.parse(r.body) as { error: string; message: string };
          assert.equal(typeof b.error, 'string');
          assert.ok(b.message.length > 0);
          return b;
        };
        const admin = { authorization: `Bearer ${ADMIN}` };
        const post = (url: string, payload: unknown, headers: Record<string, string> = admin) =>
          app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

        json(await post('/api/v1/packages/sync', '{"distribution": "d", "suite": '), 400);
        json(await post('/api/v1/packages/sync', '[1, 2'), 400);
        json(await post('/api/v1/packages/sync', { distribution: 'd', suite: 's' }), 400);
        json(await post('/api/v1/packages/sync', { ...DIST, packages: [{ ...pkg('a', '1'), artifacts: 'none' }] }), 400);
        for (const hostile of ['a; rm -rf /', '$(reboot)', '`id`', '../../etc/passwd', 'a/../b', '..', 'a\u0000b', 'a\nb', 'x'.repeat(10_240), '-rf', 'a|b', 'a>b']) {
          json(await post('/api/v1/packages/sync', { ...DIST, packages: [pkg(hostile, '1.0')] }), 400);
          json(await post('/api/v1/packages/sync', { ...DIST, packages: [pkg('ok', hostile)] }), 400);
          json(await post('/api/v1/packages/sync', { ...DIST, suite: hostile, packages: [] }), 400);
          json(await post('/api/v1/packages/sync', { ...DIST, packages: [{ ...pkg('ok', '1'), artifacts: [{ ...pkg('ok', '1').artifacts[0]!, name: hostile }] }] }), 400);
        }
        assert.equal((await store.listPackages({ archive: 'all' })).total, 0, 'nothing stored');
        assert.deepEqual(await store.listDistributions(), []);

        // Tokens: none or wrong 401; a worker's on an admin endpoint 403; the admin's on a worker endpoint 403.
        json(await post('/api/v1/packages/sync', { ...DIST, packages: [] }, {}), 401);
        json(await post('/api/v1/packages/sync', { ...DIST, packages: [] }, { authorization: 'Bearer wrong-token-0123456789' }), 401);
        json(await post('/api/v1/packages/sync', { ...DIST, packages: [] }, { authorization: `Basic ${ADMIN}` }), 401);
        const { token } = await store.addWorker('w', { architectures: ['x86_64'], backends: ['command'] });
        const worker = { authorization: `Bearer ${token}` };
        json(await post('/api/v1/packages/sync', { ...DIST, packages: [] }, worker), 403);
        json(await post('/api/v1/workers', { name: 'intruder' }, worker), 403);
        json(await post('/api/v1/queue/drop', { jobId: 1 }, worker), 403);
        json(await app.inject({ method: 'DELETE', url: '/api/v1/workers/w', headers: worker }), 403);
        json(await post('/api/v1/worker/claim', {}, admin), 403);
        json(await post('/api/v1/worker/claim', {}, {}), 401);
        assert.deepEqual((await store.listWorkers()).map((w) => w.name), ['w']);

        // Uploads: over the limit 413, wrong hash 400; nothing kept either way.
        const big = Buffer.alloc(8192, 7);
        json(await app.inject({ method: 'PUT', url: `/api/v1/blobs/${sha(big)}`, headers: { ...worker, 'content-type': 'application/octet-stream' }, payload: big }), 413);
        json(await app.inject({ method: 'PUT', url: `/api/v1/blobs/${sha(big)}`, headers: { ...worker, 'content-type': 'application/octet-stream' }, payload: Readable.from([big]) }), 413);
        assert.equal(await store.blobs.has(sha(big)), false);
        const small = Buffer.from('a small log');
        const claimed = sha('something else');
        json(await app.inject({ method: 'PUT', url: `/api/v1/blobs/${claimed}`, headers: { ...worker, 'content-type': 'application/octet-stream' }, payload: small }), 400);
        assert.equal(await store.blobs.has(claimed), false);
        assert.equal(await store.blobs.has(sha(small)), false);
        json(await app.inject({ method: 'PUT', url: `/api/v1/blobs/${sha(small)}`, headers: { 'content-type': 'application/octet-stream' }, payload: small }), 401);
        json(await app.inject({ method: 'PUT', url: `/api/v1/blobs/${sha(small)}`, headers: { ...worker, 'content-type': 'application/json' }, payload: '{}' }), 415);
        json(await app.inject({ url: `/api/v1/blobs/${sha(small)}` }), 404);
        const leftovers = readdirSync(store.blobs.dir).filter((n) => !/^[0-9a-f]{2}$/.test(n));
        assert.deepEqual(leftovers, [], 'no temporary file left');

        for (const name of ['..%2F..%2Fetc%2Fpasswd', '..%2f..%2f..%2fetc%2fshadow', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..', '.', '%2E%2E', `${'a'.repeat(62)}%2F..`, 'AB'.repeat(32), `${sha('x')}%00`, `${sha('x')}.zst`, '....%5C..%5Cwindows']) {
          for (const method of ['GET', 'PUT'] as const) {
            const r = await app.inject({ method, url: `/api/v1/blobs/${name}`, headers: { ...worker, 'content-type': 'application/octet-stream' }, ...(method === 'PUT' ? { payload: 'root:x:0:0' } : {}) });
            assert.ok(r.statusCode === 400 || r.statusCode === 404, `${method} ${name}: ${r.statusCode}`);
            JSON.parse(r.body);
          }
        }
        for (const path of ['/api/v1/blobs/../../etc/passwd', '/api/v1/blobs/%2e%2e/%2e%2e/etc/passwd']) {
          const r = await app.inject({ url: path });
          assert.ok(r.statusCode === 400 || r.statusCode === 404, `${path}: ${r.statusCode}`);
        }

        // Unknown and finished jobs: 404 and 409, never 500 (rebuilderd #164).
        json(await post('/api/v1/queue/retry', { jobId: 987654 }), 404);
        json(await post('/api/v1/queue/drop', { jobId: 987654 }), 404);
        json(await post('/api/v1/queue/drop', { jobId: 'x' }), 400);
        json(await post('/api/v1/queue/drop', { jobId: -1 }), 400);
        json(await app.inject({ url: '/api/v1/results/987654' }), 404);
        json(await app.inject({ url: '/api/v1/packages/987654' }), 404);
        json(await app.inject({ url: '/api/v1/packages/abc' }), 400);
        json(await app.inject({ url: '/api/v1/packages?limit=100000' }), 400);
        json(await app.inject({ url: '/api/v1/packages?verdict=GREAT' }), 400);
        json(await app.inject({ url: '/api/v1/no/such/endpoint' }), 404);
        json(await post('/api/v1/worker/jobs/987654/heartbeat', { leaseToken: 'x' }, worker), 404);
        json(await post('/api/v1/worker/jobs/987654/report', { leaseToken: 'x', verdict: 'FTBFS', ignored: [], causes: [], timings: {}, artifacts: [] }, worker), 404);

        assert.equal((await post('/api/v1/packages/sync', { ...DIST, packages: [pkg('hello', '1')] })).statusCode, 200);
        await store.updateWorkerStatus((await store.listWorkers())[0]!.id, { tags: { architectures: ['x86_64'], backends: ['command'] } });
        const job = JSON.parse((await post('/api/v1/worker/claim', {}, worker)).body) as S.ClaimedJob;
        json(await post('/api/v1/queue/retry', { jobId: job.jobId }), 409);
        json(await post('/api/v1/worker/jobs/' + job.jobId + '/report', { leaseToken: job.leaseToken, verdict: 'REPRODUCIBLE', ignored: [], causes: [], timings: {}, artifacts: [], log: sha('never uploaded') }, worker), 400);
        assert.equal((await post('/api/v1/worker/jobs/' + job.jobId + '/report', { leaseToken: job.leaseToken, verdict: 'BIT_IDENTICAL', ignored: [], causes: [], timings: {}, artifacts: [] }, worker)).statusCode, 200);
        const drop = json(await post('/api/v1/queue/drop', { jobId: job.jobId }), 409);
        assert.match(drop.message, /Cannot drop job \d+: it is done/);
        const retried = await post('/api/v1/queue/retry', { jobId: job.jobId });
        assert.equal(retried.statusCode, 200, retried.body);
        json(await post('/api/v1/queue/retry', { jobId: job.jobId }), 409);
      } finally {
        await s.close();
      }
    }));

  test(`${db}: a report after the lease expired and another result was recorded is 409, and nothing is stored`, () =>
    withEnv(async (env) => {
      let t = 1_800_000_000_000;
      const s = await serve(env, 'listen', { now: () => t }, { now: () => t, queue: { leaseMs: 60_000 } });
      try {
        const admin = s.client(ADMIN);
        await admin.sync({ ...DIST, packages: [pkg('hello', '1')] });
        const tags = { architectures: ['x86_64'], backends: ['command'] };
        const a = s.client((await admin.addWorker('a')).token);
        const b = s.client((await admin.addWorker('b')).token);
        await a.register({ version: '1', tags });
        await b.register({ version: '1', tags });
        const first = (await a.claim())!;
        t += 61_000;
        assert.equal((await s.store.expireLeases()).length, 1);
        t += 3_600_000; // past the infrastructure retry's delay
        const second = (await b.claim())!;
        assert.equal(second.jobId, first.jobId);
        const report = { verdict: 'BIT_IDENTICAL' as const, ignored: [], causes: [], timings: {}, artifacts: [] };
        await b.report(second.jobId, { ...report, leaseToken: second.leaseToken });
        await rejects(a.report(first.jobId, { ...report, verdict: 'UNREPRODUCIBLE', leaseToken: first.leaseToken }), 409);
        assert.equal((await s.store.listResults((await admin.packages()).items[0]!.id)).length, 1);
      } finally {
        await s.close();
      }
    }));
}
