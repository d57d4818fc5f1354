// `reprove start` (what `npm start` runs) and `reprove ctl` against it: the daemon on
// SQLite, the local worker and a package list; killed with -9 and started again on
// the same data, nothing is lost or done twice.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { CLI, workdir } from './helpers.js';
import { makePackages, until } from './service-support.js';

function start(t: TestContext, dataDir: string, list: string): { proc: ChildProcess; output: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  delete env['DATABASE_URL'];
  const proc = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--examples', list], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { proc, output: () => out };
}

function ctl(dataDir: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['REPROVE_SERVER'];
  delete env['REPROVE_ADMIN_TOKEN'];
  const r = spawnSync(process.execPath, [CLI, 'ctl', '--data-dir', dataDir, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('reprove start rebuilds a package list with its local worker, reprove ctl reads and steers it, and a restart after kill -9 redoes nothing', { timeout: 240_000 }, async (t) => {
  const dir = workdir(t);
  const packages = makePackages(dir, ['plain', 'stamped'], (n) => (n === 'plain' ? 'same' : 'date'));
  const list = join(dir, 'list.json');
  writeFileSync(list, JSON.stringify({ distribution: 'local', suite: 'main', architecture: 'x86_64', packages }));
  const data = join(dir, 'data');

  const first = start(t, data, list);
  await until('the summary table', 120, async () => (first.output().includes('every package has a verdict') ? true : undefined));
  assert.match(first.output(), /the daemon is up at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(first.output(), /loaded .*list\.json: 2 new, 0 unchanged, 2 queued/);
  assert.match(first.output(), /BIT_IDENTICAL\s+plain 1\.0/);
  assert.match(first.output(), /UNREPRODUCIBLE\s+stamped 1\.0/);

  // reprove ctl finds the daemon and the admin token in the data directory.
  const status = ctl(data, 'status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /packages: 2 \(.*BIT_IDENTICAL 1.*UNREPRODUCIBLE 1/);
  const ls = JSON.parse(ctl(data, '--json', 'pkgs', 'ls').stdout) as { total: number; items: { name: string; verdict: string; resultId: number }[] };
  assert.equal(ls.total, 2);
  assert.match(ctl(data, 'pkgs', 'log', 'stamped').stdout, /\[reprove\] job \d+: stamped 1\.0/);
  assert.match(ctl(data, 'pkgs', 'diff', 'stamped').stdout, /stamped\.txt/);
  assert.match(ctl(data, 'pkgs', 'diff', 'stamped', '--html').stdout, /<html/i);
  assert.match(ctl(data, 'pkgs', 'history', 'stamped').stdout, /UNREPRODUCIBLE/);
  assert.match(ctl(data, 'workers', 'ls').stdout, /^local-\S+\s+yes/m);
  const queue = JSON.parse(ctl(data, '--json', 'queue', 'ls', '--all').stdout) as { items: { jobId: number; status: string; name: string }[] };
  assert.deepEqual(queue.items.map((j) => j.status), ['done', 'done']);
  const show = ctl(data, 'result', 'show', String(ls.items.find((p) => p.name === 'stamped')!.resultId));
  assert.match(show.stdout, /verdict: UNREPRODUCIBLE/);
  // Steering: an unknown job is a clear error (exit 2), a done job can be queued again.
  const missing = ctl(data, 'queue', 'retry', '9999');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /404/);
  const plainJob = queue.items.find((j) => j.name === 'plain')!.jobId;
  assert.equal(ctl(data, 'queue', 'retry', String(plainJob)).code, 0);
  const added = ctl(data, 'workers', 'add', 'elsewhere');
  assert.match(added.stdout, /rpw_\S+/);
  assert.equal(ctl(data, 'workers', 'remove', 'elsewhere').code, 0);
  await until('the retried job to be built again', 60, async () => {
    const q = JSON.parse(ctl(data, '--json', 'queue', 'ls').stdout) as { items: unknown[] };
    return q.items.length === 0 ? true : undefined;
  });

  // kill -9, then start again on the same data.
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  const historyBefore = ctl(data, '--json', 'pkgs', 'history', 'plain');
  assert.notEqual(historyBefore.code, 0, 'with the daemon gone, ctl says it cannot reach it');
  assert.match(historyBefore.stderr, /Cannot reach the reprove daemon/);
  const second = start(t, data, list);
  await until('the second start to load the list', 60, async () => (/loaded .*list\.json/.test(second.output()) ? true : undefined));
  assert.match(second.output(), /loaded .*list\.json: 0 new, 2 unchanged, 0 queued/);
  await until('the summary table again', 60, async () => (second.output().includes('every package has a verdict') ? true : undefined));
  const after = JSON.parse(ctl(data, '--json', 'queue', 'ls', '--all').stdout) as { items: { status: string }[] };
  assert.equal(after.items.length, 3, 'the two jobs and the one retried by hand: nothing queued again by the restart');
  assert.ok(existsSync(join(data, 'local-worker.json')));
  assert.equal(JSON.parse(ctl(data, '--json', 'workers', 'ls').stdout).length, 1, 'the same local worker, not a second one');
  assert.ok(readFileSync(join(data, 'admin-token'), 'utf8').length > 16);
});
