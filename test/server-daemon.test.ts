// The daemon as a process (`reprove serve`, the built CLI) killed with SIGKILL
// while a worker holds a lease and an upload is half sent, then restarted on the
// same SQLite data directory: the job is still leased to that worker, the half
// upload left nothing, the report after the restart is accepted once, and the
// same report sent again is stored once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { ApiError, ReproveClient } from '../src/api/client.js';
import { pkg } from './server-suite.js';

const CLI = resolve(import.meta.dirname, '../bin/main.js');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}

function startDaemon(dataDir: string, config: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  // The config file's database: DATABASE_URL in the environment would override it.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['DATABASE_URL'];
  const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return until('the daemon to print its URL', () => {
    if (child.exitCode !== null) throw new Error(`reprove serve exited with ${child.exitCode}: ${out}`);
    const m = /serving the API at (http:\/\/\S+)\/api\/v1/.exec(out);
    return m ? { child, url: m[1]!, output: () => out } : undefined;
  });
}

test('the daemon killed -9 with a job leased and an upload half sent, then restarted: the lease holds, the half upload left nothing, the report is accepted once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reprove-daemon-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'reprove.json');
  writeFileSync(config, JSON.stringify({ leaseSeconds: 600, heartbeatSeconds: 30, expireIntervalSeconds: 1, uploadStaleSeconds: 1 }));
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  let d = await startDaemon(dataDir, config);
  children.push(d.child);
  const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600, 'the generated admin token is readable by its owner only');
  assert.equal((JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { url: string }).url, d.url);
  let admin = new ReproveClient(d.url, { token: adminToken });
  await admin.sync({ distribution: 'archlinux', suite: 'core', architecture: 'x86_64', packages: [pkg('hello', '1.0-1')] });
  const { token } = await admin.addWorker('w1');
  let worker = new ReproveClient(d.url, { token });
  await worker.register({ version: '1', tags: { architectures: ['x86_64'], backends: ['command'] } });
  const job = (await worker.claim())!;
  assert.ok(job);

  // Half an upload, then SIGKILL.
  const log = Buffer.alloc(4 << 20, 'build output line\n');
  const blobDir = join(dataDir, 'blobs');
  const u = new URL(`${d.url}/api/v1/blobs/${sha(log)}`);
  const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': log.length } });
  req.on('error', () => {});
  req.write(log.subarray(0, log.length / 2));
  await until('the upload to be under way', () => existsSync(blobDir) && readdirSync(blobDir).some((n) => n.startsWith('.upload-')));
  d.child.kill('SIGKILL');
  await until('the daemon to die', () => d.child.signalCode === 'SIGKILL');
  req.destroy();

  d = await startDaemon(dataDir, config);
  children.push(d.child);
  admin = new ReproveClient(d.url, { token: adminToken });
  worker = new ReproveClient(d.url, { token });
  const queue = await admin.queue();
  assert.deepEqual(queue.items.map((q) => [q.jobId, q.status, q.worker, q.leaseExpiresAt]), [[job.jobId, 'running', 'w1', job.leaseExpiresAt]]);
  await assert.rejects(worker.blob(sha(log)), (e: unknown) => e instanceof ApiError && e.status === 404);
  await until('the half upload to be swept', () => !readdirSync(blobDir).some((n) => n.startsWith('.upload-')));
  assert.equal((await worker.heartbeat(job.jobId, { leaseToken: job.leaseToken })).continue, true, 'the lease survived the restart');

  writeFileSync(join(dir, 'log'), log);
  await worker.uploadFile(join(dir, 'log'), sha(log));
  const report = { leaseToken: job.leaseToken, verdict: 'BIT_IDENTICAL' as const, ignored: [], causes: [], timings: { build: 5 }, log: sha(log), artifacts: [] };
  const first = await worker.report(job.jobId, report);
  assert.equal(first.final, true);
  const second = await worker.report(job.jobId, report);
  assert.equal(second.resultId, first.resultId);
  const pkgId = (await admin.packages()).items[0]!.id;
  assert.deepEqual((await admin.package(pkgId)).history.map((h) => h.id), [first.resultId]);
  assert.equal((await admin.queue()).total, 0);

  d.child.kill('SIGTERM');
  await until('the daemon to stop', () => d.child.exitCode !== null || d.child.signalCode !== null);
  assert.ok(!existsSync(join(dataDir, 'daemon.json')), 'daemon.json removed on a clean stop');
  assert.match(d.output(), /stopped/);
});
