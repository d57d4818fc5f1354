#!/usr/bin/env node
// The service's benchmark (needs `npm run build`): claims per second with 8
// concurrent workers on SQLite and on PostgreSQL (DATABASE_URL; skipped when
// unset), and the package list of 100 000 packages, filtered and paged, under 50
// concurrent clients on loopback: requests per second and latency percentiles.
// Plain Node: every request is a real HTTP request through fetch on 127.0.0.1.
//
// The load (the 8 workers, the 50 list clients) runs in a child process, as
// autocannon or real workers would, so the figures are the server's; with
// --in-process it shares the server's event loop (the first version's method:
// the client's own cost then counts too). Server CPU per request is printed
// either way (process.cpuUsage of the server's process), which a busy machine
// disturbs less than the wall clock.
//
//   node bench/service.mjs [--packages 100000] [--jobs 4000] [--seconds 10] [--in-process]
//   BENCH_ONLY=claims|list to run one part
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ReproveClient } from '../dist/src/api/client.js';
import { buildServer } from '../dist/src/server/build-server.js';
import { openStore } from '../dist/src/store/index.js';

const { values } = parseArgs({ options: { packages: { type: 'string', default: '100000' }, jobs: { type: 'string', default: '4000' }, seconds: { type: 'string', default: '10' }, 'in-process': { type: 'boolean', default: false }, child: { type: 'string' } } });
const PACKAGES = Number(values.packages);
const JOBS = Number(values.jobs);
const SECONDS = Number(values.seconds);
const ADMIN = randomBytes(24).toString('hex');
const hex = (i) => i.toString(16).padStart(64, '0');
const pkg = (name, i) => ({ name, version: '1.0-1', backend: 'command', recipe: { script: 'make' }, artifacts: [{ name, url: `https://example.invalid/${name}.pkg`, sha256: hex(i) }] });

async function environment(kind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-bench-'));
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const url = kind === 'postgres' ? process.env.DATABASE_URL : undefined;
  const store = await openStore({ dataDir, url, ...(url ? { pgSchema: schema, pgPoolSize: 16 } : {}) });
  const app = buildServer({ store, adminToken: ADMIN });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    store,
    base,
    admin: new ReproveClient(base, { token: ADMIN, timeoutMs: 600_000 }),
    async close() {
      await app.close();
      await store.close();
      if (url) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function claims(kind) {
  const env = await environment(kind);
  try {
    await env.admin.sync({ distribution: 'bench', suite: 'main', architecture: 'x86_64', packages: Array.from({ length: JOBS }, (_, i) => pkg(`c${i}`, i)) });
    const workers = [];
    for (let i = 0; i < 8; i++) {
      const token = (await env.admin.addWorker(`w${i}`)).token;
      await new ReproveClient(env.base, { token }).register({ version: 'bench', tags: { architectures: ['x86_64'], backends: ['command'] } });
      workers.push({ token });
    }
    const tokens = workers.map((w) => w.token);
    const r0 = await load({ role: 'claims', base: env.base, tokens });
    console.log(`claims, ${kind}: ${r0.count} jobs by 8 concurrent workers in ${r0.seconds.toFixed(2)} s = ${Math.round(r0.count / r0.seconds)} claims/s; server CPU ${Math.round(r0.cpuUs / r0.count)} us/claim`);
    // And the full cycle on fresh jobs: claim, then report.
    await env.admin.sync({ distribution: 'bench', suite: 'cycle', architecture: 'x86_64', packages: Array.from({ length: JOBS / 2 }, (_, i) => pkg(`r${i}`, i)) });
    const r1 = await load({ role: 'cycle', base: env.base, tokens });
    console.log(`claim+report, ${kind}: ${r1.count} jobs in ${r1.seconds.toFixed(2)} s = ${Math.round(r1.count / r1.seconds)} jobs/s; server CPU ${Math.round(r1.cpuUs / r1.count)} us/job`);
  } finally {
    await env.close();
  }
}

async function list(kind) {
  const env = await environment(kind);
  try {
    const t0 = performance.now();
    const half = PACKAGES / 2;
    for (const arch of ['x86_64', 'aarch64']) await env.admin.sync({ distribution: 'bench', suite: 'main', architecture: arch, packages: Array.from({ length: half }, (_, i) => pkg(`pkg-${String(i).padStart(6, '0')}`, i)) });
    console.log(`list, ${kind}: ${PACKAGES} packages synced in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const r = await load({ role: 'list', base: env.base, seconds: SECONDS });
    const latencies = r.latencies;
    console.log(`list, ${kind}: 50 clients for ${SECONDS} s: ${latencies.length} requests (${Math.round(latencies.length / SECONDS)}/s), ${r.errors} errors; latency ms p50 ${pct(latencies, 50).toFixed(1)}, p95 ${pct(latencies, 95).toFixed(1)}, p99 ${pct(latencies, 99).toFixed(1)}, max ${latencies.at(-1).toFixed(1)}; server CPU ${Math.round(r.cpuUs / latencies.length)} us/request; after the first 2 s: p50 ${pct(r.steady, 50).toFixed(1)}, p95 ${pct(r.steady, 95).toFixed(1)}`);
  } finally {
    await env.close();
  }
}

/** The load of one part: in a child process (default) or here (--in-process); with the server's CPU time over it. */
async function load(spec) {
  const c0 = process.cpuUsage();
  let result;
  if (values['in-process']) {
    result = await runLoad(spec);
  } else {
    const child = fork(fileURLToPath(import.meta.url), ['--child', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    result = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the load process exited with ${code}`)));
    });
    child.kill();
  }
  const c = process.cpuUsage(c0);
  return { ...result, cpuUs: c.user + c.system };
}

/** What the clients do: 8 workers claiming (and reporting), or 50 clients reading the package list. */
async function runLoad(spec) {
  if (spec.role === 'claims' || spec.role === 'cycle') {
    const workers = spec.tokens.map((token) => new ReproveClient(spec.base, { token }));
    let count = 0;
    const t0 = performance.now();
    if (spec.role === 'claims') await Promise.all(workers.map(async (w) => { while (await w.claim()) count++; }));
    else await Promise.all(workers.map(async (w) => {
      for (let j; (j = await w.claim()); count++) await w.report(j.jobId, { leaseToken: j.leaseToken, verdict: 'BIT_IDENTICAL', ignored: [], causes: [], timings: {}, artifacts: [] });
    }));
    return { count, seconds: (performance.now() - t0) / 1000 };
  }
  const queries = [
    () => `architecture=x86_64&limit=50&offset=${Math.floor(Math.random() * 1000) * 50}`,
    () => `name=pkg-0${Math.floor(Math.random() * 10)}${Math.floor(Math.random() * 10)}&limit=50`,
    () => `distribution=bench&suite=main&architecture=aarch64&verdict=UNKNOWN&limit=100&offset=${Math.floor(Math.random() * 100) * 100}`,
    () => `limit=20`,
  ];
  const latencies = [];
  const steady = []; // after the first 2 s: each filter counted, the bookmarks of the usual pages taken
  let errors = 0;
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (performance.now() < end) {
      const q = queries[Math.floor(Math.random() * queries.length)]();
      const t = performance.now();
      const res = await fetch(`${spec.base}/api/v1/packages?${q}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t);
      if (t - start >= 2000) steady.push(performance.now() - t);
      if (!res.ok) errors++;
    }
  }));
  latencies.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  return { latencies, steady, errors };
}

if (values.child !== undefined) {
  process.send(await runLoad(JSON.parse(values.child)));
  await new Promise(() => {}); // the parent ends this process
}

const kinds = ['sqlite', ...(process.env.DATABASE_URL ? ['postgres'] : [])];
if (kinds.length === 1) console.log('PostgreSQL skipped: DATABASE_URL is not set');
const only = process.env.BENCH_ONLY;
for (const k of kinds) if (!only || only === "claims") await claims(k);
for (const k of kinds) if (!only || only === "list") await list(k);
