#!/usr/bin/env node
// The worker's own cost per job, on the example distribution: `reprove start` on a
// fresh data directory rebuilds every example, and each result's timings (fetch,
// build, verify, explain, upload, total) are read back through the API. The build is
// the package's; the rest is reprove's overhead. Prints per-stage medians and maxima.
// Usage: node bench/worker-overhead.mjs   (after npm run build and examples/publish.sh)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const list = join(root, 'examples/out/distribution.json');
if (!existsSync(list)) {
  console.error('bench: run examples/publish.sh first');
  process.exit(2);
}
const data = mkdtempSync(join(tmpdir(), 'reprove-overhead-'));
const env = { ...process.env };
delete env.DATABASE_URL;
const proc = spawn(process.execPath, [join(root, 'dist/bin/main.js'), 'start', '--data-dir', data, '--listen', '127.0.0.1:0', '--examples', list], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
proc.stdout.on('data', (c) => (out += c));
const started = Date.now();
while (!out.includes('every package has a verdict')) {
  if (proc.exitCode !== null) throw new Error(`reprove start exited: ${out}`);
  if (Date.now() - started > 600_000) throw new Error('no summary after 10 minutes');
  await new Promise((r) => setTimeout(r, 500));
}
const wall = (Date.now() - started) / 1000;
const url = JSON.parse(readFileSync(join(data, 'daemon.json'), 'utf8')).url;
const get = async (path) => (await fetch(`${url}${path}`)).json();
const packages = (await get('/api/v1/packages?limit=1000')).items;
const stages = {};
for (const p of packages) {
  const detail = await get(`/api/v1/packages/${p.id}`);
  for (const h of detail.history) {
    const r = await get(`/api/v1/results/${h.id}`);
    for (const [stage, seconds] of Object.entries(r.timings)) (stages[stage] ??= []).push(seconds);
  }
}
proc.kill('SIGTERM');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${packages.length} packages, ${stages.total?.length ?? 0} builds, ${wall.toFixed(1)} s from start to the last verdict`);
console.log('stage      median s   max s   (per build)');
for (const [stage, xs] of Object.entries(stages)) console.log(`${stage.padEnd(10)} ${median(xs).toFixed(3).padStart(8)} ${Math.max(...xs).toFixed(3).padStart(7)}`);
await new Promise((r) => proc.once('exit', r));
rmSync(data, { recursive: true, force: true });
