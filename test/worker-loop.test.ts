// The worker loop against a daemon that comes and goes. Until the real server
// lands, the daemon here is a small node:http server answering just the endpoints
// the typed client calls (register, claim, heartbeat, report, blobs), keeping
// reports once per lease token as the store does. Builds are real processes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ReproveClient } from '../src/api/client.js';
import type { ClaimedJob, ReportRequest } from '../src/api/schemas.js';
import { commandBackend } from '../src/rebuild/backends/command.js';
import { Worker, type WorkerOptions } from '../src/worker/worker.js';
import { sh, workdir } from './helpers.js';
import { claimedJob } from './rebuild-fixtures.js';
import { processesInGroup } from './proc.js';

const TOKEN = 'worker-token';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface DaemonState {
  queue: ClaimedJob[];
  blobs: Map<string, Buffer>;
  /** Stored reports by lease token: stored once. */
  reports: Map<string, { jobId: number; body: ReportRequest; resultId: number }>;
  reportAttempts: { jobId: number; leaseToken: string }[];
  events: string[];
  registrations: number;
  claims: number;
  heartbeats: number;
  /** Answer to a heartbeat: continue or not. */
  heartbeat: (jobId: number) => boolean;
  /** Called on a report after storing it; may cut the connection instead of answering. */
  afterReport?: (res: ServerResponse) => boolean;
}

class FakeDaemon {
  server: Server | undefined;
  readonly state: DaemonState = { queue: [], blobs: new Map(), reports: new Map(), reportAttempts: [], events: [], registrations: 0, claims: 0, heartbeats: 0, heartbeat: () => true };

  constructor(public port = 0) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res).catch((e: Error) => res.writeHead(500).end(JSON.stringify({ error: 'internal', message: e.message }))));
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes away: stops listening and cuts every open connection. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  blob(data: Buffer): string {
    const h = sha(data);
    this.state.blobs.set(h, data);
    return h;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const json = (status: number, value: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const url = req.url ?? '';
    const s = this.state;
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/blobs\/([0-9a-f]{64})$/.exec(url))) {
      if (req.method === 'GET') return s.blobs.has(m[1]!) ? void res.writeHead(200).end(s.blobs.get(m[1]!)) : json(404, { error: 'not-found', message: 'no such blob' });
      if (sha(body) !== m[1]) return json(400, { error: 'invalid-input', message: 'hash mismatch' });
      s.blobs.set(m[1]!, body);
      return json(200, { sha256: m[1], size: body.length });
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { error: 'unauthorized', message: 'wrong token' });
    if (url === '/api/v1/worker/register') {
      s.registrations++;
      return json(200, { name: 'w1', tags: JSON.parse(body.toString()).tags, version: '0.1.0', lastHeartbeatAt: null, online: true, currentJobId: null, freeDiskBytes: null });
    }
    if (url === '/api/v1/worker/claim') {
      s.claims++;
      const job = s.queue.shift();
      if (!job) return void res.writeHead(204).end();
      s.events.push(`claim ${job.jobId}`);
      return json(200, job);
    }
    if ((m = /^\/api\/v1\/worker\/jobs\/(\d+)\/heartbeat$/.exec(url))) {
      s.heartbeats++;
      const go = s.heartbeat(Number(m[1]));
      return json(200, { continue: go, leaseExpiresAt: go ? Date.now() + 60_000 : null });
    }
    if ((m = /^\/api\/v1\/worker\/jobs\/(\d+)\/report$/.exec(url))) {
      const jobId = Number(m[1]);
      const report = JSON.parse(body.toString()) as ReportRequest;
      s.reportAttempts.push({ jobId, leaseToken: report.leaseToken });
      const stored = s.reports.get(report.leaseToken);
      if (stored) {
        // The same report again is the same result; another one is a conflict.
        if (JSON.stringify(stored.body) !== JSON.stringify(report)) return json(409, { error: 'conflict', message: 'another result was reported for this lease' });
        return json(200, { resultId: stored.resultId, final: true, requeued: false });
      }
      const resultId = s.reports.size + 1;
      s.reports.set(report.leaseToken, { jobId, body: report, resultId });
      s.events.push(`report ${jobId}`);
      if (s.afterReport?.(res)) return;
      return json(200, { resultId, final: true, requeued: false });
    }
    json(404, { error: 'not-found', message: `no route ${req.method} ${url}` });
  }
}

function claimed(jobId: number, recipe: unknown, artifacts: ClaimedJob['artifacts'], extra: Partial<ClaimedJob> = {}): ClaimedJob {
  return claimedJob(recipe, { jobId, leaseToken: `lease-${jobId}-${Math.random().toString(36).slice(2)}`, heartbeatSeconds: 0.2, artifacts, ...extra });
}

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function startWorker(t: TestContext, url: string, extra: Partial<WorkerOptions> = {}): { lines: string[]; stop: AbortController; done: Promise<void>; workDir: string } {
  const lines: string[] = [];
  const stop = new AbortController();
  const workDir = join(workdir(t), 'work');
  const worker = new Worker({
    client: new ReproveClient(url, { token: TOKEN, timeoutMs: 10_000 }),
    workDir,
    architectures: ['x86_64'],
    backends: [commandBackend],
    limits: { timeoutMs: 60_000 },
    maxLogBytes: 1 << 20,
    signal: stop.signal,
    log: (l) => lines.push(l),
    backoff: { initialMs: 50, maxMs: 400 },
    idlePollMs: 100,
    ...extra,
  });
  const done = worker.run();
  t.after(async () => {
    stop.abort();
    await done.catch(() => {});
  });
  return { lines, stop, done, workDir };
}

const TEXT_RECIPE = { script: 'printf "hello %s\\n" "$VERSION" > "$OUT/hello-$VERSION.txt"' };

test('a worker started while the daemon is down waits with backoff, then runs its jobs one at a time: identical, unreproducible with causes and reports, FTBFS, backend missing (#247, #234)', async (t) => {
  const port = await freePort();
  const daemon = new FakeDaemon(port);
  t.after(() => daemon.stop());
  const dir = workdir(t);
  // Published: a text file as the recipe makes it, and a gzip stamped at another time than the rebuild's.
  const text = daemon.blob(Buffer.from('hello 1.0\n'));
  sh(dir, `printf 'hello\\n' > hello.txt && touch -d @1000000000 hello.txt && gzip -c hello.txt > hello.txt.gz`);
  const gz = daemon.blob(readFileSync(join(dir, 'hello.txt.gz')));
  const jobs = [
    claimed(1, TEXT_RECIPE, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }]),
    claimed(2, { script: `printf 'hello\\n' > hello.txt && touch -d @1100000000 hello.txt && gzip -c hello.txt > "$OUT/hello.txt.gz"` }, [{ name: 'hello.txt.gz', url: `blob:${gz}`, sha256: gz }]),
    claimed(3, { script: 'echo "cc: error: no such file"; exit 1' }, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }]),
    claimed(4, TEXT_RECIPE, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }], { backend: 'mock' }),
  ];
  daemon.state.queue.push(...jobs);

  const w = startWorker(t, daemon.url);
  await until('a few failed registrations', () => w.lines.filter((l) => l.startsWith('Cannot register with the daemon')).length >= 3);
  await daemon.start();
  await until('four reports', () => daemon.state.reports.size === 4);

  const { reports, events } = daemon.state;
  assert.equal(daemon.state.registrations, 1);
  assert.deepEqual(events, ['claim 1', 'report 1', 'claim 2', 'report 2', 'claim 3', 'report 3', 'claim 4', 'report 4'], 'one job at a time: no claim while a job runs');
  const byJob = new Map([...reports.values()].map((r) => [r.jobId, r.body]));
  for (const j of jobs) assert.equal(reports.get(j.leaseToken)?.jobId, j.jobId, 'each report carries its lease token');

  const identical = byJob.get(1)!;
  assert.equal(identical.verdict, 'BIT_IDENTICAL');
  assert.equal(identical.failureClass, undefined);
  assert.deepEqual(identical.artifacts, [{ name: 'hello-1.0.txt', sha256: text }]);
  assert.match(daemon.state.blobs.get(identical.log!)!.toString(), /\[reprove\] running the recipe/);
  assert.ok(['fetch', 'build', 'verify', 'upload', 'total'].every((k) => typeof identical.timings[k] === 'number'), JSON.stringify(identical.timings));
  assert.match(identical.environment!.notReproduced[0]!, /command backend recreates none/);

  const unrepro = byJob.get(2)!;
  assert.equal(unrepro.verdict, 'UNREPRODUCIBLE');
  assert.equal(unrepro.failureClass, 'unreproducible');
  assert.ok((unrepro.causes as { id: string; artifact: string }[]).some((c) => c.id === 'timestamps_in_gzip_headers' && c.artifact === 'hello.txt.gz'), JSON.stringify(unrepro.causes));
  const json = JSON.parse(daemon.state.blobs.get(unrepro.reportJson!)!.toString()) as { source1: string };
  assert.match(json.source1, /hello\.txt\.gz$/);
  assert.match(daemon.state.blobs.get(unrepro.reportHtml!)!.toString(), /<html/i);

  const ftbfs = byJob.get(3)!;
  assert.equal(ftbfs.verdict, 'FTBFS');
  assert.equal(ftbfs.failureClass, 'ftbfs');
  assert.equal(ftbfs.exitCode, 1);
  assert.match(daemon.state.blobs.get(ftbfs.log!)!.toString(), /cc: error: no such file/);

  const missing = byJob.get(4)!;
  assert.equal(missing.verdict, 'ERROR');
  assert.equal(missing.failureClass, 'infrastructure');
  assert.match(missing.message!, /Cannot build hello 1\.0 \(job 4\): backend mock is not installed on this worker \(it offers command\)/);

  await until('an idle claim', () => daemon.state.claims > 4);
  assert.deepEqual(readdirSync(w.workDir), [], 'every job directory removed');
});

test('a daemon that goes away mid-job and loses the answer to a report: the worker waits, uploads, and sends the same report again, stored once (#182)', async (t) => {
  const daemon = new FakeDaemon();
  await daemon.start();
  t.after(() => daemon.stop());
  const text = daemon.blob(Buffer.from('hello 1.0\n'));
  const job = claimed(1, { script: `sleep 1.2; ${TEXT_RECIPE.script}` }, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }]);
  daemon.state.queue.push(job);
  let cut = false;
  daemon.state.afterReport = (res) => {
    if (cut) return false;
    cut = true;
    // Stored, then the daemon dies before answering; back a moment later.
    res.socket?.destroy();
    void daemon.stop().then(() => setTimeout(() => void daemon.start(), 500));
    return true;
  };
  const w = startWorker(t, daemon.url);
  await until('the claim', () => daemon.state.claims >= 1 && daemon.state.events.includes('claim 1'));
  await new Promise((r) => setTimeout(r, 300));
  await daemon.stop(); // away while the job builds
  await new Promise((r) => setTimeout(r, 2000));
  await daemon.start();
  await until('the report answered', () => w.lines.some((l) => /reported BIT_IDENTICAL/.test(l)));

  const attempts = daemon.state.reportAttempts;
  assert.ok(attempts.length >= 2, `the report was sent again: ${attempts.length}`);
  assert.ok(attempts.every((a) => a.leaseToken === job.leaseToken && a.jobId === 1), 'with the same lease token');
  assert.equal(daemon.state.reports.size, 1, 'stored once');
  assert.equal([...daemon.state.reports.values()][0]!.body.verdict, 'BIT_IDENTICAL');
  assert.ok(w.lines.some((l) => /Cannot send the heartbeat of hello 1\.0 \(job 1\): Cannot reach the reprove daemon/.test(l)), 'heartbeats failed while it was away, and the job went on');
  assert.ok(w.lines.some((l) => /Cannot (upload the log|report) of hello|Cannot upload the log of hello 1\.0 \(job 1\)|Cannot report hello 1\.0 \(job 1\)/.test(l)), w.lines.join('\n'));
  // It announces itself again before its next claim.
  await until('registered again after reconnecting', () => daemon.state.registrations >= 2, 10_000);
  const log = daemon.state.blobs.get([...daemon.state.reports.values()][0]!.body.log!);
  assert.ok(log, 'the log was uploaded once the daemon was back');
});

test('a heartbeat answering continue: false kills the build with its process group and nothing is reported', async (t) => {
  const daemon = new FakeDaemon();
  await daemon.start();
  t.after(() => daemon.stop());
  const dir = workdir(t);
  const pgidFile = join(dir, 'pgid');
  const text = daemon.blob(Buffer.from('hello 1.0\n'));
  daemon.state.queue.push(claimed(1, { script: `sleep 1000 & ( sleep 1000 & wait ) & echo $$ > ${pgidFile}; wait` }, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }]));
  daemon.state.heartbeat = () => !existsSync(pgidFile) || readFileSync(pgidFile, 'utf8').trim() === '';
  const w = startWorker(t, daemon.url);
  await until('the build to start', () => existsSync(pgidFile) && readFileSync(pgidFile, 'utf8').trim() !== '');
  const pgid = Number(readFileSync(pgidFile, 'utf8'));
  assert.ok(processesInGroup(pgid).length >= 3, 'the build and its sleepers run');
  await until('the worker to claim again', () => daemon.state.claims >= 2, 15_000);
  assert.deepEqual(processesInGroup(pgid), [], 'no process of the build remains');
  assert.equal(daemon.state.reportAttempts.length, 0, 'nothing reported');
  assert.ok(w.lines.some((l) => /the daemon said to stop hello 1\.0 \(job 1\)/.test(l)));
  assert.ok(w.lines.some((l) => /abandoned: nothing reported/.test(l)));
  assert.deepEqual(readdirSync(w.workDir), []);
});

test('stopping the worker mid-build kills the build and reports an infrastructure failure, then the worker ends', async (t) => {
  const daemon = new FakeDaemon();
  await daemon.start();
  t.after(() => daemon.stop());
  const dir = workdir(t);
  const pgidFile = join(dir, 'pgid');
  const text = daemon.blob(Buffer.from('hello 1.0\n'));
  daemon.state.queue.push(claimed(1, { script: `sleep 1000 & echo $$ > ${pgidFile}; wait` }, [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }]));
  const w = startWorker(t, daemon.url);
  await until('the build to start', () => existsSync(pgidFile) && readFileSync(pgidFile, 'utf8').trim() !== '');
  const pgid = Number(readFileSync(pgidFile, 'utf8'));
  w.stop.abort(new Error('SIGTERM'));
  await w.done;
  assert.deepEqual(processesInGroup(pgid), []);
  assert.equal(daemon.state.reports.size, 1);
  const report = [...daemon.state.reports.values()][0]!.body;
  assert.equal(report.verdict, 'ERROR');
  assert.equal(report.failureClass, 'infrastructure');
  assert.match(report.message!, /Cannot finish hello 1\.0 \(job 1\): the worker is stopping/);
  assert.equal(daemon.state.claims, 1, 'no claim after the stop');
  assert.ok(w.lines.includes('stopped'));
});

test('a daemon that refuses the token stops the worker with an error saying so', async (t) => {
  const daemon = new FakeDaemon();
  await daemon.start();
  t.after(() => daemon.stop());
  const stop = new AbortController();
  const worker = new Worker({
    client: new ReproveClient(daemon.url, { token: 'wrong' }),
    workDir: join(workdir(t), 'work'),
    architectures: ['x86_64'],
    backends: [commandBackend],
    limits: {},
    maxLogBytes: 1 << 20,
    signal: stop.signal,
    log: () => {},
  });
  await assert.rejects(worker.run(), /Cannot register with the daemon at http:\/\/127\.0\.0\.1:\d+: it refused the token \(401: wrong token\)/);
});

test('--jobs 2 runs two independent loops: two jobs build at once, each claimed and reported once', async (t) => {
  const daemon = new FakeDaemon();
  await daemon.start();
  t.after(() => daemon.stop());
  const text = daemon.blob(Buffer.from('hello 1.0\n'));
  const artifacts = [{ name: 'hello-1.0.txt', url: `blob:${text}`, sha256: text }];
  daemon.state.queue.push(claimed(1, { script: `sleep 1; ${TEXT_RECIPE.script}` }, artifacts), claimed(2, { script: `sleep 1; ${TEXT_RECIPE.script}` }, artifacts));
  startWorker(t, daemon.url, { jobs: 2 });
  await until('two reports', () => daemon.state.reports.size === 2);
  assert.deepEqual(daemon.state.events.slice(0, 2).sort(), ['claim 1', 'claim 2'], 'both claimed before either was reported');
  assert.deepEqual([...daemon.state.reports.values()].map((r) => r.body.verdict), ['BIT_IDENTICAL', 'BIT_IDENTICAL']);
  assert.equal(daemon.state.reportAttempts.length, 2);
});
