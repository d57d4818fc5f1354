#!/usr/bin/env node
// The sources at scale. (1) An Arch repository database of 100 000 packages (a
// tar.gz of `<pkg>-<ver>/desc` entries, generated here as a stream) served on
// loopback and synced by the arch-repo source into SQLite and into PostgreSQL (a
// scratch schema, dropped afterwards; skipped without DATABASE_URL), then a
// re-sync with 1 % of the versions changed; the process's peak RSS after each.
// (2) A burst of 10 000 build messages published to RabbitMQ and taken by the
// fedora-messaging listener into a SQLite store: queued builds per second. The
// koji lookups go to the local fake hub of the tests (test/koji-fixture.ts: five
// eight XML-RPC calls per build on loopback, made as four multiCall requests per batch),
// so the figure is the listener's and the store's, not Fedora's koji; the hub runs in
// this process and its own time is printed beside the figure.
// Peak RSS is the process's: run one store per process (--skip-sqlite, --skip-pg) for
// each one's own figure.
//   node bench/sources.mjs [--packages N] [--messages N] [--skip-sqlite] [--skip-pg] [--skip-amqp]
//                          [--batch-size N] [--prefetch N]
// Needs `npm run build` first (it loads dist/); AMQP_URL, DATABASE_URL as the tests.
import { randomBytes } from 'node:crypto';
import { createWriteStream, createReadStream, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import pg from 'pg';
import { archRepoSource } from '../dist/src/rebuild/sources/arch-repo.js';
import { fedoraKojiSource, STATE_CHANGE_TOPIC } from '../dist/src/rebuild/sources/fedora-koji.js';
import { openStore } from '../dist/src/store/index.js';
import { startFakeKoji } from '../dist/test/koji-fixture.js';
import { pad, tarHeader } from '../dist/test/sources-support.js';

const { values } = parseArgs({ options: { packages: { type: 'string', default: '100000' }, messages: { type: 'string', default: '10000' }, 'skip-sqlite': { type: 'boolean' }, 'skip-pg': { type: 'boolean' }, 'skip-amqp': { type: 'boolean' }, 'batch-size': { type: 'string' }, prefetch: { type: 'string' } } });
const PACKAGES = Number(values.packages);
const MESSAGES = Number(values.messages);
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.DATABASE_URL;
const dir = mkdtempSync(join(tmpdir(), 'reprove-sources-bench-'));
const mb = (b) => `${(b / 1048576).toFixed(0)} MiB`;
const peak = () => mb(process.resourceUsage().maxRSS * 1024);
const hex = (n) => n.toString(16).padStart(64, '0');

// ---- the database: streamed, never whole in memory
function* entries(changed) {
  for (let i = 0; i < PACKAGES; i++) {
    const name = `pkg${i}`;
    const rel = changed(i) ? 2 : 1;
    const version = `1.${i % 97}.${i % 13}-${rel}`;
    const filename = `${name}-${version}-x86_64.pkg.tar.zst`;
    const desc = `%FILENAME%\n${filename}\n\n%NAME%\n${name}\n\n%BASE%\n${name}\n\n%VERSION%\n${version}\n\n%CSIZE%\n${1000 + i}\n\n%SHA256SUM%\n${hex(i * 7 + rel)}\n\n%ARCH%\nx86_64\n\n%PACKAGER%\nArch Dev <dev${i % 50}@archlinux.org>\n\n`;
    const data = Buffer.from(desc);
    yield tarHeader(Buffer.from(`${name}-${version}/desc`), data.length);
    yield pad(data);
  }
  yield Buffer.alloc(1024);
}
async function writeDb(path, changed) {
  mkdirSync(join(path, '..'), { recursive: true });
  await pipeline(Readable.from(entries(changed)), createGzip({ level: 1 }), createWriteStream(path));
  return statSync(path).size;
}

let t0 = Date.now();
const first = join(dir, 'a', 'core', 'os', 'x86_64', 'core.db');
const second = join(dir, 'b', 'core', 'os', 'x86_64', 'core.db');
const size = await writeDb(first, () => false);
await writeDb(second, (i) => i % 100 === 0);
console.log(`database: ${PACKAGES} packages, ${mb(size)} gzipped, both versions written in ${Date.now() - t0} ms; peak RSS so far ${peak()}`);

let serving = 'a';
const server = http.createServer((req, res) => {
  const file = join(dir, serving, req.url ?? '/');
  try {
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 600_000; // a sync takes longer than the default 5 s: no reset of the reused socket
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const mirror = `http://127.0.0.1:${server.address().port}/{repo}/os/{arch}`;

async function syncBench(label, store) {
  const source = archRepoSource({ name: 'arch', kind: 'arch-repo', distribution: 'archlinux', suite: 'core', architecture: 'x86_64', mirror, repositories: ['core'] });
  const ctx = { store, log: () => undefined, signal: new AbortController().signal };
  serving = 'a';
  const a = await source.sync(ctx);
  console.log(`${label}: full sync ${a.packages} packages (${a.summary?.added} new, ${a.summary?.enqueued} queued) in ${a.ms} ms; peak RSS ${peak()}`);
  serving = 'b';
  const b = await source.sync(ctx);
  console.log(`${label}: re-sync with 1 % changed: ${b.summary?.added ?? 0} new, ${b.summary?.enqueued ?? 0} queued in ${b.ms} ms; peak RSS ${peak()}`);
  serving = 'b';
  const c = await source.sync(ctx);
  console.log(`${label}: re-sync unchanged: ${c.summary?.added ?? 0} new, ${c.summary?.enqueued ?? 0} queued in ${c.ms} ms; peak RSS ${peak()}`);
}

if (!values['skip-sqlite']) {
  const store = await openStore({ dataDir: join(dir, 'sqlite') });
  try {
    await syncBench('SQLite', store);
  } finally {
    await store.close();
  }
}
if (DATABASE_URL && !values['skip-pg']) {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ url: DATABASE_URL, pgSchema: schema, pgPoolSize: 4, dataDir: join(dir, 'pg') });
  try {
    await syncBench('PostgreSQL', store);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  }
} else console.log('PostgreSQL: skipped (DATABASE_URL not set, or --skip-pg)');
server.close();

// ---- a burst of build messages
if (!values['skip-amqp']) {
  const amqplib = await import('amqplib');
  const hub = await startFakeKoji();
  const store = await openStore({ dataDir: join(dir, 'amqp') });
  const queue = `reprove-bench-${randomBytes(6).toString('hex')}`;
  const batchSize = values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {};
  const prefetch = values.prefetch ? { prefetch: Number(values.prefetch) } : {};
  const source = fedoraKojiSource({ name: 'fedora', kind: 'fedora-koji', distribution: 'fedora', suite: 'rawhide', architecture: 'x86_64', hub: hub.url, mockConfig: 'fedora-rawhide-x86_64', ...batchSize, amqp: { url: AMQP_URL, queue, ...prefetch } });
  const controller = new AbortController();
  let ready;
  const listening = new Promise((r) => (ready = r));
  const listener = source.listen({ store, log: (l) => (l.includes('listening on') ? ready() : /dropped|put back|cannot/.test(l) && console.log(l)), signal: controller.signal });
  await listening;
  const pub = await amqplib.connect(AMQP_URL);
  const ch = await pub.createConfirmChannel();
  t0 = Date.now();
  const cpu0 = process.cpuUsage();
  for (let i = 1; i <= MESSAGES; i++) {
    const body = { build_id: i, old: 0, new: 1, attribute: 'state', name: `pkg${i}`, version: '1.0', release: `${i % 7}.fc41`, owner: 'packager', instance: 'primary', task_id: i * 10, epoch: null };
    const ok = ch.publish('amq.topic', STATE_CHANGE_TOPIC, Buffer.from(JSON.stringify(body)), { messageId: `bench-${i}`, headers: { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', 'sent-at': new Date().toISOString() }, contentType: 'application/json', deliveryMode: 2 });
    if (!ok) await new Promise((r) => ch.once('drain', r));
  }
  await ch.waitForConfirms();
  const published = Date.now() - t0;
  while (source.committed < MESSAGES) await new Promise((r) => setTimeout(r, 20));
  const ms = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const jobs = await store.countPackages({ distribution: 'fedora' });
  console.log(`RabbitMQ burst: ${MESSAGES} messages published (confirmed) in ${published} ms; all ${source.committed} builds committed and queued after ${ms} ms: ${Math.round((MESSAGES / ms) * 1000)} builds/s (${jobs} packages in the store; koji: the local fake hub, ${hub.calls.get('getBuild')} getBuild calls in ${[...hub.requests.values()].reduce((a, b) => a + b, 0)} requests, ${Math.round(hub.busy.ms)} ms of its time = ${Math.round((100 * hub.busy.ms) / ms)} % of the burst); this process's CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms (${((cpu.user + cpu.system) / 1000 / MESSAGES).toFixed(2)} ms a build, publishing and the hub included); peak RSS ${peak()}`);
  controller.abort();
  await listener;
  await ch.deleteQueue(queue);
  await pub.close();
  await store.close();
  await hub.close();
}
rmSync(dir, { recursive: true, force: true });
