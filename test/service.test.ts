// The rebuilder as operators run it: `reprove serve` and `reprove worker` as real
// processes on loopback, packages synced through the API, workers killed with -9
// mid-build, and several daemons and workers sharing one PostgreSQL database.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { ReproveClient } from '../src/api/client.js';
import type { SyncRequest } from '../src/api/schemas.js';
import { uploadLocalFiles } from '../src/rebuild/sources/local-files.js';
import { workdir } from './helpers.js';
import { makePackages, runCli as run, until } from './service-support.js';

const ADMIN = 'admin-token-for-the-service-test';

/** Starts `reprove serve` with a config file; resolves with its URL once daemon.json says it listens. */
async function serve(t: TestContext, dir: string, config: Record<string, unknown>, name = 'daemon'): Promise<{ url: string; proc: ChildProcess }> {
  const dataDir = join(dir, name);
  mkdirSync(dataDir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:0', dataDir, adminToken: ADMIN, leaseSeconds: 4, heartbeatSeconds: 1, expireIntervalSeconds: 1, ...config }));
  const proc = run(t, ['serve', '--config', file], join(dir, `${name}.log`));
  const url = await until(`${name} to listen`, 60, async () => {
    if (proc.exitCode !== null) throw new Error(`reprove serve exited with ${proc.exitCode}: ${existsSync(join(dir, `${name}.log`)) ? readFileSync(join(dir, `${name}.log`), 'utf8') : ''}`);
    const info = join(dataDir, 'daemon.json');
    return existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { url: string }).url : undefined;
  });
  return { url, proc };
}

function worker(t: TestContext, dir: string, url: string, token: string, name: string): ChildProcess {
  const work = join(dir, `work-${name}`);
  return run(t, ['worker', '--server', url, '--token', token, '--backends', 'command', '--poll', '1', '--work-dir', work], join(dir, `${name}.log`));
}

async function syncAll(url: string, request: SyncRequest): Promise<void> {
  const admin = new ReproveClient(url, { token: ADMIN });
  await admin.sync(await uploadLocalFiles(admin, request));
}

test('serve and worker processes rebuild a small distribution: each package gets one final verdict with its cause', { timeout: 180_000 }, async (t) => {
  const dir = workdir(t);
  const { url } = await serve(t, dir, { retry: { unreproducible: { delaySeconds: 1 }, ftbfs: { maxRetries: 0 } } });
  const admin = new ReproveClient(url, { token: ADMIN });
  const { token } = await admin.addWorker('w1');
  worker(t, dir, url, token, 'w1');
  const packages = makePackages(dir, ['same', 'stamped', 'broken'], (n) => (n === 'same' ? 'same' : n === 'stamped' ? 'date' : 'fails'));
  await syncAll(url, { distribution: 'testdist', suite: 'main', architecture: 'x86_64', packages });
  const verdicts = await until('three verdicts', 120, async () => {
    const list = await admin.packages({ distribution: 'testdist' });
    return list.items.every((p) => p.verdict) ? Object.fromEntries(list.items.map((p) => [p.name, p.verdict])) : undefined;
  });
  assert.deepEqual(verdicts, { same: 'BIT_IDENTICAL', stamped: 'UNREPRODUCIBLE', broken: 'FTBFS' });
  const stamped = (await admin.packages({ name: 'stamped' })).items[0]!;
  const result = await admin.result(stamped.resultId!);
  assert.equal(result.previousResultId !== null, true, 'an UNREPRODUCIBLE verdict is confirmed by a second rebuild');
  assert.ok(result.reportJson && result.reportHtml && result.log, 'the log and both reports are stored');
  const report = await (await admin.blob(result.reportJson)).text();
  assert.match(report, /stamped\.txt/);
  const rebuilderd = await admin.rebuilderdList({ distro: 'testdist' });
  // rebuilderd lists the binary artifacts, each with its source's status.
  assert.deepEqual(Object.fromEntries(rebuilderd.map((p) => [p.name, p.status])), { 'same.txt': 'GOOD', 'stamped.txt': 'BAD', 'broken.txt': 'BAD' });
});

test('a worker killed with -9 mid-build: its lease expires, another worker finishes the job, and there is one result', { timeout: 180_000 }, async (t) => {
  const dir = workdir(t);
  const { url } = await serve(t, dir, {});
  const admin = new ReproveClient(url, { token: ADMIN });
  const first = await admin.addWorker('first');
  const second = await admin.addWorker('second');
  await syncAll(url, { distribution: 'testdist', suite: 'main', architecture: 'x86_64', packages: makePackages(dir, ['slowpoke'], () => 'slow') });
  const a = worker(t, dir, url, first.token, 'first');
  await until('the first worker to hold the job', 60, async () => ((await admin.queue()).items.find((j) => j.status === 'running' && j.worker === 'first') ? true : undefined));
  a.kill('SIGKILL');
  worker(t, dir, url, second.token, 'second');
  const pkg = await until('a verdict', 120, async () => (await admin.packages({ name: 'slowpoke' })).items.find((p) => p.verdict));
  assert.equal(pkg.verdict, 'BIT_IDENTICAL');
  const detail = await admin.package(pkg.id);
  assert.equal(detail.history.length, 1, 'one result, not one per worker');
  assert.equal(detail.history[0]!.worker, 'second');
  const job = (await admin.queue({ all: true })).items.find((j) => j.name === 'slowpoke')!;
  assert.equal(job.attempts.infrastructure, 1, 'the lost worker counts as one infrastructure attempt');
});

const pgUrl = process.env['DATABASE_URL'];
const pgSkip = pgUrl ? false : process.env['CI'] ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); CI sets it and never skips';

test('two daemons on one PostgreSQL database and a shared blob directory, four workers: every job built once, every result recorded once', { skip: pgSkip, timeout: 240_000 }, async (t) => {
  if (!pgUrl) throw new Error('DATABASE_URL is not set: CI must run the many-hosts test');
  const dir = workdir(t);
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`create schema ${schema}`);
  t.after(async () => {
    await db.query(`drop schema if exists ${schema} cascade`);
    await db.end();
  });
  const database = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const blobDir = join(dir, 'blobs');
  const shared = { database, blobDir };
  const one = await serve(t, dir, shared, 'one');
  const two = await serve(t, dir, shared, 'two');
  const admin = new ReproveClient(one.url, { token: ADMIN });
  const names = Array.from({ length: 12 }, (_, i) => `pkg${i}`);
  await syncAll(two.url, { distribution: 'testdist', suite: 'main', architecture: 'x86_64', packages: makePackages(dir, names, () => 'same') });
  for (let i = 0; i < 4; i++) {
    const { token } = await admin.addWorker(`w${i}`);
    worker(t, dir, i % 2 ? two.url : one.url, token, `w${i}`);
  }
  const list = await until('twelve verdicts', 180, async () => {
    const l = await new ReproveClient(two.url).packages({ distribution: 'testdist' });
    return l.items.length === 12 && l.items.every((p) => p.verdict) ? l : undefined;
  });
  assert.deepEqual([...new Set(list.items.map((p) => p.verdict))], ['BIT_IDENTICAL']);
  const results = await db.query<{ job_id: string; n: string }>(`select job_id, count(*) as n from ${schema}.results group by job_id`);
  assert.equal(results.rows.length, 12, 'a result for each job');
  assert.deepEqual([...new Set(results.rows.map((r) => Number(r.n)))], [1], 'one result per job');
  const workers = new Set((await db.query<{ worker_name: string }>(`select worker_name from ${schema}.build_attempts`)).rows.map((r) => r.worker_name));
  assert.ok(workers.size >= 2, `the jobs were spread over the workers: ${[...workers].join(', ')}`);
  // The reports uploaded through one daemon are read through the other.
  const r = await new ReproveClient(one.url).result(list.items[0]!.resultId!);
  assert.ok(r.log);
  assert.match(await (await new ReproveClient(two.url).blob(r.log)).text(), /reprove/);
});
