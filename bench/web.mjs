#!/usr/bin/env node
// The website under load: 100 000 packages and 1 000 000 results written straight
// into a SQLite store, the server built by buildServer on loopback, and 50
// concurrent keep-alive clients asking for the overview, list pages (plain,
// filtered, searched, deep pages) and package pages. Prints p50/p95/p99 and
// requests per second for each, and each page's weight (bytes of the HTML, plus
// the requests it makes: the stylesheet, a package page's badge).
//   node bench/web.mjs [--packages N] [--results N] [--seconds S] [--clients C]
// Needs `npm run build` first (it loads dist/).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { buildServer } from '../dist/src/server/build-server.js';
import { overview } from '../dist/src/server/web/reads.js';
import { openStore } from '../dist/src/store/index.js';

const { values } = parseArgs({ options: { packages: { type: 'string', default: '100000' }, results: { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '50' }, keep: { type: 'string' } } });
const PACKAGES = Number(values.packages);
const RESULTS = Number(values.results);
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
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

const app = buildServer({ store, adminToken: 'bench-admin-token-0123456789' });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function get(path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(`${base}${path}`, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: performance.now() - started, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function load(label, pathOf) {
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
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(28)} ${String(times.length).padStart(6)} req  ${(times.length / SECONDS).toFixed(0).padStart(5)} req/s  p50 ${pct(times, 50).toFixed(1)} ms  p95 ${pct(times, 95).toFixed(1)} ms  p99 ${pct(times, 99).toFixed(1)} ms${errors ? `  ${errors} not 200` : ''}`);
  return { label, p95: pct(times, 95) };
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

// ---- load
console.log(`\n${CLIENTS} concurrent clients, ${SECONDS} s each, loopback:`);
const rnd = (n) => Math.floor(Math.random() * n);
const results = [];
results.push(await load('overview /', () => '/'));
results.push(await load('list /packages?page=N', () => `/packages?page=${1 + rnd(Math.floor(PACKAGES / 50))}`));
results.push(await load('list filtered', (i) => `/packages?distribution=debian&suite=trixie&architecture=amd64&verdict=UNREPRODUCIBLE&page=${1 + (i % 20)}`));
results.push(await load('list name search', (i) => `/packages?name=pkg-0${String(i % 1000).padStart(3, '0')}`));
results.push(await load('list by cause', (i) => `/packages?cause=timestamps_in_gzip_headers&page=${1 + (i % 10)}`));
results.push(await load('package page', () => `/packages/${1 + rnd(PACKAGES)}`));
results.push(await load('badge', () => `/badge/debian/pkg-${String(rnd(PACKAGES / suites.length)).padStart(6, '0')}.svg`));
results.push(await load('known causes', () => '/causes'));

await app.close();
agent.destroy();
await store.close();
if (values.keep === undefined) rmSync(dir, { recursive: true, force: true });
const over = results.filter((r) => r.p95 >= 100);
console.log(over.length ? `\np95 at or over 100 ms: ${over.map((r) => r.label).join(', ')}` : '\nevery p95 under 100 ms');
