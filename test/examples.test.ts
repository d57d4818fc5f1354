// The bundled example distribution that `npm start` rebuilds: every package is
// published once the way a distribution's build server would, rebuilt the way a
// worker would, and judged with the verdict and known cause its meta.json names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { workdir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

test('every example package gets the verdict and the cause its meta.json expects', { timeout: 300_000 }, (t) => {
  const out = workdir(t);
  const r = spawnSync('bash', [join(ROOT, 'examples/check.sh'), out], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const published = readdirSync(join(out, 'published'));
  assert.ok(published.length >= 12, `at least twelve packages were published: ${published.join(' ')}`);
  const dist = JSON.parse(readFileSync(join(out, 'distribution.json'), 'utf8')) as { packages: { name: string; artifacts: unknown[] }[] };
  assert.deepEqual(dist.packages.map((p) => p.name).sort(), [...published].sort());
  // Reproducible and unreproducible ones both: the distribution shows what reprove tells apart.
  assert.match(r.stdout, /BIT_IDENTICAL/);
  assert.match(r.stdout, /UNREPRODUCIBLE/);
  assert.match(r.stdout, /FTBFS/);
});
