// The store on SQLite: the shared suite (store-suite.ts) on a fresh file per test,
// plus SQLite's own trouble: several processes writing one file at once
// (rebuilderd #2, "database is locked").
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { canonicalJson } from '../src/store/context.js';
import { openStore } from '../src/store/index.js';
import { inputText } from '../src/store/sync.js';
import { storeSuite } from './store-suite.js';

storeSuite(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-store-'));
  return {
    open: (options = {}) => openStore({ ...options, dataDir }),
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});

const CHILD = resolve(import.meta.dirname, 'store-load-child.js');

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

test('four processes claiming, reporting and syncing on one SQLite file at once: no "database is locked", each job done once (rebuilderd #2)', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-store-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ dataDir });
  await store.syncPackages({ distribution: 'd', suite: 's', architecture: 'x86_64', packages: Array.from({ length: 600 }, (_, i) => ({ name: `p${i}`, version: '1', backend: 'command' })) });
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) ids.push((await store.addWorker(`w${i}`, { architectures: ['x86_64'], backends: ['command'] })).worker.id);
  const runs = await Promise.all(ids.map((id, i) => runChild([dataDir, String(id), String(i)])));
  for (const r of runs) {
    assert.doesNotMatch(r.stderr, /locked|SQLITE_BUSY/i);
    assert.equal(r.code, 0, r.stderr);
  }
  const claimed = runs.flatMap((r) => JSON.parse(r.stdout) as number[]);
  assert.equal(claimed.length, 600);
  assert.equal(new Set(claimed).size, 600);
  const working = runs.filter((r) => (JSON.parse(r.stdout) as number[]).length > 0).length;
  assert.ok(working >= 2, 'the processes really ran side by side');
  assert.equal((await store.listQueue({ statuses: ['done'] }, { limit: 1 })).total, 600);
  // The side syncs of the processes that claimed a job (each makes one after its first claim, in a suite of its own) are all there.
  assert.deepEqual((await store.listDistributions()).map((d) => d.suites.length), [1 + working]);
  await store.close();
});

test('six processes opening a new data directory at once all find it migrated', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-store-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => runChild([dataDir, 'open', String(i)])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const store = await openStore({ dataDir });
  assert.equal((await store.listDistributions())[0]?.suites.length, 6);
  await store.close();
});

test('the input hash text written field by field is canonicalJson of the build input, so stored hashes stay valid', () => {
  const inputs = [
    { backend: 'archlinux', recipe: '{"pkgbuild":{"git":"https://x/\u00e9.git","ref":"1-1"}}', buildinfoUrl: null, buildinfoSha256: null, minMemoryMb: null, artifacts: [] },
    {
      backend: 'debian',
      recipe: '{}',
      buildinfoUrl: 'https://b/x "quoted" \\ é.buildinfo',
      buildinfoSha256: 'a'.repeat(64),
      minMemoryMb: 4096,
      artifacts: [
        { name: 'a', version: '1:2.0-1', architecture: 'amd64', url: 'https://a/a.deb', sha256: 'b'.repeat(64), size: 12 },
        { name: 'b\u2028', version: '2', architecture: 'all', url: 'u', sha256: 'c'.repeat(64), size: null },
      ],
    },
  ];
  for (const v of inputs) assert.equal(inputText(v), canonicalJson({ ...v, name: undefined, version: undefined }));
});
