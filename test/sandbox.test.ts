// The build sandbox with real processes: a build's whole process group dies on a
// timeout, an abort and at its end, grandchildren included (rebuilderd #110); the
// memory limit makes an allocating build fail; the log cap keeps head and tail.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogSink } from '../src/rebuild/log-sink.js';
import { runSandboxed, type SandboxRequest } from '../src/rebuild/sandbox.js';
import { which } from '../src/rebuild/which.js';
import { workdir, skipOutsideCi } from './helpers.js';
import { processesInGroup } from './proc.js';

function request(dir: string, script: string, extra: Partial<SandboxRequest> = {}): SandboxRequest & { log: LogSink } {
  return { argv: ['bash', '-euo', 'pipefail', '-c', script], cwd: dir, env: { PATH: process.env['PATH']! }, log: new LogSink(join(dir, 'build.log'), 1 << 20), ...extra };
}

// Children, a grandchild in a subshell, all sleeping for ever.
const SPAWNS_SLEEPERS = `sleep 1000 & sleep 1000 & ( sleep 1000 & wait ) & echo started; wait`;

test('a build past its time limit is killed with its whole process group, grandchildren included (#110)', async (t) => {
  const dir = workdir(t);
  const req = request(dir, SPAWNS_SLEEPERS, { timeoutMs: 700 });
  let during: number[] = [];
  req.onStart = (pgid) => setTimeout(() => (during = processesInGroup(pgid)), 400);
  const r = await runSandboxed(req);
  await req.log.close();
  assert.equal(r.stopped, 'timeout');
  assert.ok(during.length >= 4, `the group had its sleepers while running: ${during.join(' ')}`);
  assert.deepEqual(processesInGroup(r.pgid), [], 'no process of the group remains');
  assert.match(readFileSync(join(dir, 'build.log'), 'utf8'), /time limit of 1 s reached/);
});

test('an abort (lease lost, worker stopping) kills the whole process group at once', async (t) => {
  const dir = workdir(t);
  const ac = new AbortController();
  const req = request(dir, SPAWNS_SLEEPERS, { signal: ac.signal, timeoutMs: 60_000 });
  req.onStart = () => setTimeout(() => ac.abort(new Error('the daemon said to stop')), 300);
  const t0 = Date.now();
  const r = await runSandboxed(req);
  await req.log.close();
  assert.equal(r.stopped, 'aborted');
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(processesInGroup(r.pgid), []);
  assert.match(readFileSync(join(dir, 'build.log'), 'utf8'), /killed the build's process group: the daemon said to stop/);
});

test('processes a build leaves behind when it exits are killed with its group', async (t) => {
  const dir = workdir(t);
  const req = request(dir, 'sleep 1000 >/dev/null 2>&1 & ( sleep 1000 & ) ; exit 0');
  const r = await runSandboxed(req);
  await req.log.close();
  assert.equal(r.exitCode, 0);
  assert.equal(r.stopped, undefined);
  assert.deepEqual(processesInGroup(r.pgid), []);
  assert.match(readFileSync(join(dir, 'build.log'), 'utf8'), /left processes running in its process group: killed them/);
});

// Grows a bash variable to about 400 MB: over a 200 MiB address-space limit, fine without one.
const ALLOCATES = `x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo "allocated \${#x}"`;

for (const method of ['prlimit', 'ulimit'] as const) {
  test(`a build allocating past its memory limit fails (${method})`, { skip: skipOutsideCi(method === 'prlimit' && !which('prlimit') ? 'prlimit is not installed' : false) }, async (t) => {
    const dir = workdir(t);
    const req = request(dir, ALLOCATES, { memoryBytes: 200 * 1024 * 1024, memoryMethod: method, timeoutMs: 60_000 });
    const r = await runSandboxed(req);
    await req.log.close();
    const log = readFileSync(join(dir, 'build.log'), 'utf8');
    assert.notEqual(r.exitCode, 0, log);
    assert.doesNotMatch(log, /allocated 400000000/);
    assert.match(log, method === 'prlimit' ? /memory limit 200 MiB of address space \(prlimit --as\)/ : /memory limit 200 MiB of address space \(ulimit -v/);
  });
}

test('the same allocating build succeeds without a memory limit', async (t) => {
  const dir = workdir(t);
  const req = request(dir, `x=$(head -c 40000000 /dev/zero | tr '\\0' a); echo "allocated \${#x}"`);
  const r = await runSandboxed(req);
  await req.log.close();
  assert.equal(r.exitCode, 0);
  assert.match(readFileSync(join(dir, 'build.log'), 'utf8'), /allocated 40000000/);
});

test('a log over its cap keeps its head and tail and says how many bytes were cut', async (t) => {
  const dir = workdir(t);
  const cap = 16 * 1024;
  const req = { ...request(dir, 'for i in $(seq 1 200000); do echo "line $i of the build output"; done; echo "the final error"'), log: new LogSink(join(dir, 'build.log'), cap) };
  const r = await runSandboxed(req);
  const summary = await req.log.close();
  assert.equal(r.exitCode, 0);
  const log = readFileSync(join(dir, 'build.log'), 'utf8');
  assert.ok(log.length < cap + 400, `the file stays near the cap: ${log.length}`);
  assert.ok(summary.bytes > 5_000_000, `${summary.bytes} bytes written`);
  assert.equal(summary.cut, summary.bytes - cap);
  assert.ok(log.includes('line 1 of the build output\nline 2 of'), 'head kept');
  assert.match(log, /line 200000 of the build output\nthe final error\n/, 'tail kept');
  assert.match(log, new RegExp(`\\[reprove\\] ${summary.cut} bytes cut from the middle of this log: it exceeded its cap of ${cap} bytes`));
  assert.doesNotMatch(log, /line 100000 of/);
});

test('a command that cannot be started is an error naming it, not a hang', async (t) => {
  const dir = workdir(t);
  const req = { ...request(dir, ''), argv: ['/nonexistent/builder', 'x'] };
  await assert.rejects(runSandboxed(req), /Cannot start \/nonexistent\/builder: spawn \/nonexistent\/builder ENOENT/);
  await req.log.close();
});
