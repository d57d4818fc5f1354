#!/usr/bin/env node
// The website under load: 100 000 packages and 1 000 000 results written straight
// into a SQLite store, the server (bench/web-server.mjs) in a process of its own
// on loopback, and 50 concurrent keep-alive clients in this process asking for
// the overview, list pages (plain, filtered, searched, by cause, deep pages),
// package pages, badges and the known causes. Prints, per page type:
// - cold: one client asking for 20 URLs not asked before, one after another (the
//   first also counts its list's total; the time one request costs when nothing
//   answers it from a cache);
// - under load: p50/p95/p99, requests per second and the server's CPU time per
//   request (which the machine's other load does not inflate as it does latency);
// - under load with every URL new (a parameter the page ignores), for the list
//   pages: what they cost when no rendered page is kept for them;
// - under load while results land: the same while a worker reports a result
//   through the API every --result-every ms (each one invalidates what the pages
//   keep), for the list pages;
// and each page's weight (bytes of the HTML, plus the requests it makes: the
// stylesheet, a package page's badge).
//   node bench/web.mjs [--packages N] [--results N] [--seconds S] [--clients C] [--keep DIR] [--only LABEL,...] [--cpu-prof DIR] [--result-every MS]
// Needs `npm run build` first (it loads dist/). --cpu-prof DIR profiles the server
// process; BENCH_SERVER_IMPORT=FILE preloads a module into it (node --import), to time its SQL say.
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { overview } from '../dist/src/server/web/reads.js';
import { openStore } from '../dist/src/store/index.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '100000' },
    results: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    keep: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'result-every': { type: 'string', default: '1000' },
  },
});
const PACKAGES = Number(values.packages);
const RESULTS = Number(values.results);
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const RESULT_EVERY_MS = Number(values['result-every']);
const ONLY = values.only === undefined ? undefined : new Set(values.only.split(','));
const VERDICTS = ['BIT_IDENTICAL', 'BIT_IDENTICAL', 'BIT_IDENTICAL', 'REPRODUCIBLE', 'REPRODUCIBLE', 'UNREPRODUCIBLE', 'FTBFS', 'ERROR'];
const ISSUES = ['[]', '[]', '["timestamps_in_gzip_headers"]', '["captures_build_path"]', '["random_order_in_archives","timestamps_in_file_content"]'];
// --keep DIR: fill DIR once and reuse it on later runs.
const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'reprove-web-bench-'));
const reuse = values.keep !== undefined && existsSync(join(dir, 'reprove.sqlite'));
const now = Date.now();
const DAY = 86_400_000;
const suites = [
  ['debian', 'trixie', 'amd64'],
  ['debian', 'trixie', 'arm64'],
  ['debian', 'forky', 'amd64'],
  ['archlinux', 'core', 'x86_64'],
  ['fedora', 'f43', 'x86_64'],
];

// ---- fill
let t0 = performance.now();
const store = await openStore({ dataDir: dir });
if (!reuse) await fill();
async function fill() {
await store.syncPackages({ distribution: 'debian', suite: 'trixie', architecture: 'amd64', packages: [] });
const raw = new Database(join(dir, 'reprove.sqlite'));
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = OFF');

const insertName = raw.prepare('insert or ignore into suites (distribution, name, created_at) values (?, ?, ?)');
const insertDist = raw.prepare('insert or ignore into distributions (name, created_at) values (?, ?)');
const insertArch = raw.prepare('insert or ignore into architectures (name, created_at) values (?, ?)');
const insertPkg = raw.prepare('insert into source_packages (distribution, suite, architecture, name, version, first_seen_at, last_seen_at, left_archive_at, latest_verdict, latest_result_id, maintainer) values (?, ?, ?, ?, ?, ?, ?, null, null, null, ?)');
const insertInput = raw.prepare("insert into build_inputs (source_package_id, backend, recipe, buildinfo_url, buildinfo_sha256, min_memory_mb, input_hash) values (?, 'debian', '{}', null, null, null, 'x')");
const insertBin = raw.prepare('insert into binary_packages (source_package_id, name, version, architecture, url, sha256, size) values (?, ?, ?, ?, ?, ?, ?)');
const insertJob = raw.prepare("insert into jobs (source_package_id, status, priority, run_after, architecture, backend, min_memory_mb, attempts_ftbfs, attempts_unreproducible, attempts_infrastructure, lease_token, lease_expires_at, worker_id, result_id, created_at, updated_at) values (?, ?, 0, ?, ?, 'debian', null, 0, 0, 0, null, null, null, null, ?, ?)");
const insertResult = raw.prepare("insert into results (job_id, attempt_id, source_package_id, worker_id, verdict, final, failure_class, previous_result_id, ignored, issues, timings, log_blob, report_json_blob, report_html_blob, artifacts, message, content_hash, created_at) values (?, null, ?, null, ?, 1, null, null, '[]', ?, '{}', null, null, null, '[]', ?, 'h', ?)");
const setJob = raw.prepare('update jobs set result_id = ? where id = ?');
const setLatest = raw.prepare('update source_packages set latest_verdict = ?, latest_result_id = ?, latest_issues = ? where id = ?');
const perPackage = Math.max(1, Math.floor(RESULTS / PACKAGES));
raw.transaction(() => {
  for (const [d, s, a] of suites) {
    insertDist.run(d, now);
    insertName.run(d, s, now);
    insertArch.run(a, now);
  }
  let resultsMade = 0;
  for (let i = 0; i < PACKAGES; i++) {
    const [d, s, a] = suites[i % suites.length];
    const name = `pkg-${String(Math.floor(i / suites.length)).padStart(6, '0')}`;
    const id = Number(insertPkg.run(d, s, a, name, `1.${i % 7}-1`, now - 90 * DAY, now, `Maintainer ${i % 500} <m${i % 500}@example.org>`).lastInsertRowid);
    insertInput.run(id);
    insertBin.run(id, name, `1.${i % 7}-1`, a, `https://deb.example.org/${name}.deb`, 'a'.repeat(64), 12345);
    let last = null;
    let lastVerdict = null;
    let lastIssues = null;
    for (let k = 0; k < perPackage; k++) {
      const at = now - 89 * DAY + Math.floor(((k + (i % 3) / 3) / perPackage) * 89 * DAY);
      const job = Number(insertJob.run(id, 'done', at, a, at, at).lastInsertRowid);
      const verdict = VERDICTS[(i * 7 + k * 3) % VERDICTS.length];
      lastIssues = verdict === 'UNREPRODUCIBLE' ? ISSUES[(i + k) % ISSUES.length] : '[]';
      last = Number(insertResult.run(job, id, verdict, lastIssues, `${verdict}: 1 compared`, at).lastInsertRowid);
      setJob.run(last, job);
      lastVerdict = verdict;
      resultsMade++;
    }
    setLatest.run(lastVerdict, last, lastIssues, id);
    // A few queued.
    if (i % 50 === 0) insertJob.run(id, 'queued', now, a, now, now);
  }
  console.log(`filled: ${PACKAGES} packages, ${resultsMade} results`);
})();
raw.pragma('analysis_limit = 1000');
raw.exec('analyze');
raw.close();
console.log(`fill took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// ---- cold numbers (no cache)
t0 = performance.now();
await overview(store, Date.now());
console.log(`overview computed cold (no cache): ${(performance.now() - t0).toFixed(0)} ms`);
await store.close();

// ---- the server, in its own process
const server = fork(new URL('./web-server.mjs', import.meta.url), [dir], { execArgv: [...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []), ...(process.env.BENCH_SERVER_IMPORT ? ['--import', process.env.BENCH_SERVER_IMPORT] : [])] });
const base = await new Promise((resolve, reject) => {
  server.once('message', (m) => resolve(m.url));
  server.once('exit', (code) => reject(new Error(`Cannot start the bench server: it exited with ${code}`)));
});
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(`${base}${path}`, { method, agent, headers: data ? { ...headers, 'content-type': 'application/json', 'content-length': data.length } : headers }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(parts);
        resolve({ status: res.statusCode, bytes: buf.length, ms: performance.now() - started, headers: res.headers, body: buf });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
const get = (path) => request('GET', path);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** The server process's CPU time so far (user + system), milliseconds. */
function serverCpuMs() {
  return new Promise((resolve) => {
    const answer = (m) => {
      if (m?.cpu === undefined) return;
      server.off('message', answer);
      resolve((m.cpu.user + m.cpu.system) / 1000);
    };
    server.on('message', answer);
    server.send('cpu');
  });
}

async function load(label, pathOf) {
  const cpuBefore = await serverCpuMs();
  const times = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const r = await get(pathOf(n++));
        if (r.status !== 200) errors++;
        times.push(r.ms);
      }
    }),
  );
  const cpuPerRequest = ((await serverCpuMs()) - cpuBefore) / times.length;
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} ${String(times.length).padStart(6)} req  ${(times.length / SECONDS).toFixed(0).padStart(5)} req/s  p50 ${pct(times, 50).toFixed(1)} ms  p95 ${pct(times, 95).toFixed(1)} ms  p99 ${pct(times, 99).toFixed(1)} ms  server CPU ${cpuPerRequest.toFixed(2)} ms/req${errors ? `  ${errors} not 200` : ''}`);
  return { label, p95: pct(times, 95) };
}

/** One client, URLs not asked before, one after another: what a request costs with nothing cached for it. */
async function cold(label, pathOf) {
  const times = [];
  for (let i = 0; i < 20; i++) {
    const r = await get(pathOf(i));
    if (r.status !== 200) throw new Error(`Cannot measure ${label}: ${pathOf(i)} answered ${r.status}`);
    times.push(r.ms);
  }
  const first = times[0];
  const rest = times.slice(1).sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} first ${first.toFixed(1)} ms, then median ${pct(rest, 50).toFixed(1)} ms, max ${rest[rest.length - 1].toFixed(1)} ms`);
}

// ---- page weight
const css = await get('/static/style.css');
const weights = [
  ['overview', '/', 1],
  ['package list', '/packages', 1],
  ['package page', `/packages/${Math.floor(PACKAGES / 2)}`, 2],
  ['known causes', '/causes', 1],
];
for (const [label, path, extra] of weights) {
  const r = await get(path);
  console.log(`weight of ${label.padEnd(14)} ${r.bytes} bytes HTML + ${css.bytes} bytes CSS (cached after the first page); ${1 + extra} requests${extra > 1 ? ' (the page, the stylesheet, the badge)' : ' (the page, the stylesheet)'}; no script`);
}

// ---- the page types: cold URLs (never asked in the load runs) and load URLs
const rnd = (n) => Math.floor(Math.random() * n);
const pages = Math.floor(PACKAGES / 50);
const names = Math.floor(PACKAGES / suites.length);
const pageTypes = [
  ['overview /', null, () => '/'],
  ['list /packages?page=N', (i) => `/packages?page=${1 + Math.floor(((i + 0.5) * pages) / 20)}&sort=name`, () => `/packages?page=${1 + rnd(pages)}`],
  ['list filtered', (i) => `/packages?distribution=debian&suite=trixie&architecture=arm64&verdict=FTBFS&page=${1 + i}`, (i) => `/packages?distribution=debian&suite=trixie&architecture=amd64&verdict=UNREPRODUCIBLE&page=${1 + (i % 20)}`],
  ['list name search', (i) => `/packages?name=pkg-01${String(i * 37).padStart(3, '0')}&sort=name`, (i) => `/packages?name=pkg-0${String(i % 1000).padStart(3, '0')}`],
  ['list by cause', (i) => `/packages?cause=captures_build_path&page=${1 + i}`, (i) => `/packages?cause=timestamps_in_gzip_headers&page=${1 + (i % 10)}`],
  ['package page', (i) => `/packages/${1 + Math.floor(((i + 0.5) * PACKAGES) / 20)}`, () => `/packages/${1 + rnd(PACKAGES)}`],
  ['badge', (i) => `/badge/debian/pkg-${String(Math.floor(((i + 0.5) * names) / 20)).padStart(6, '0')}.svg`, () => `/badge/debian/pkg-${String(rnd(names)).padStart(6, '0')}.svg`],
  ['known causes', null, () => '/causes'],
].filter(([label]) => ONLY === undefined || ONLY.has(label));

console.log('\ncold: one client, 20 URLs not asked before:');
for (const [label, coldPath] of pageTypes) if (coldPath) await cold(label, coldPath);

console.log(`\n${CLIENTS} concurrent clients, ${SECONDS} s each, loopback, server in its own process:`);
const results = [];
for (const [label, , loadPath] of pageTypes) results.push(await load(label, loadPath));

// ---- every request a URL not asked before: what list pages cost when the page cache never answers
const lists = pageTypes.filter(([label]) => label.startsWith('list'));
if (lists.length > 0) {
  console.log('\nthe same, every request a new URL (a parameter the page ignores), so the page cache never answers:');
  for (const [label, , loadPath] of lists) results.push(await load(`${label} (new URLs)`, (i) => `${loadPath(i)}&miss=${i}`));
}

// ---- while results land: a worker reports a final result every RESULT_EVERY_MS through the API
const landing = pageTypes.filter(([label]) => label.startsWith('list') || label.startsWith('overview'));
if (landing.length > 0 && RESULT_EVERY_MS > 0) {
  const admin = { authorization: 'Bearer bench-admin-token-0123456789' };
  const added = await request('POST', '/api/v1/workers', { name: `bench-${process.pid}` }, admin);
  if (added.status !== 200) throw new Error(`Cannot add the bench worker: ${added.status} ${added.body}`);
  const worker = { authorization: `Bearer ${JSON.parse(added.body).token}` };
  const registered = await request('POST', '/api/v1/worker/register', { version: 'bench', tags: { architectures: [...new Set(suites.map((s) => s[2]))], backends: ['debian'] } }, worker);
  if (registered.status !== 200) throw new Error(`Cannot register the bench worker: ${registered.status} ${registered.body}`);
  let landed = 0;
  let stopped = false;
  const land = async () => {
    while (!stopped) {
      const claim = await request('POST', '/api/v1/worker/claim', {}, worker);
      if (claim.status === 200) {
        const job = JSON.parse(claim.body);
        const r = await request('POST', `/api/v1/worker/jobs/${job.jobId}/report`, { leaseToken: job.leaseToken, verdict: 'BIT_IDENTICAL', ignored: [], causes: [], timings: {}, artifacts: [] }, worker);
        if (r.status !== 200) throw new Error(`Cannot report job ${job.jobId}: ${r.status} ${r.body}`);
        landed++;
      }
      await new Promise((resolve) => setTimeout(resolve, RESULT_EVERY_MS));
    }
  };
  console.log(`\nthe same while a worker reports a result every ${RESULT_EVERY_MS} ms:`);
  const landingDone = land();
  for (const [label, , loadPath] of landing) results.push(await load(`${label} (results landing)`, loadPath));
  stopped = true;
  await landingDone;
  console.log(`${landed} results landed`);
}

server.send('close');
await new Promise((resolve) => server.once('exit', resolve));
agent.destroy();
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
const over = results.filter((r) => r.p95 >= 100);
console.log(over.length ? `\np95 at or over 100 ms: ${over.map((r) => r.label).join(', ')}` : '\nevery p95 under 100 ms');
