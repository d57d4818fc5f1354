// Builds from other build systems: POST /api/v1/submit with the admin token, and a
// webhook signed with HMAC-SHA256 over "<timestamp>.<body>". A bad or missing
// signature, a stale timestamp and a replayed delivery are refused with 401; a body
// that does not match the schema is a 400; accepted builds are added without
// anything else leaving the suite, and the same build sent twice queues once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, ReproveClient } from '../src/api/client.js';
import type { SyncPackage } from '../src/api/schemas.js';
import { webhookSignature } from '../src/rebuild/sources/webhook.js';
import { workdir } from './helpers.js';
import { daemonWith } from './sources-support.js';

const SECRET = 'webhook-secret-0123456789';
const build = (name: string, version: string): SyncPackage => ({ name, version, backend: 'command', recipe: { script: 'true' }, artifacts: [{ name: `${name}.txt`, url: `https://ci.example.org/${name}/${version}/${name}.txt`, sha256: 'a'.repeat(64) }] });

test('submitted and webhook builds are queued once; bad signatures, stale timestamps, replays and bad bodies are refused', async (t) => {
  const dir = workdir(t);
  const { daemon } = await daemonWith(t, dir, { sources: [{ name: 'obs', kind: 'webhook', distribution: 'obs', suite: 'home', architecture: 'x86_64', secret: SECRET }] });
  const admin = new ReproveClient(daemon.url, { token: daemon.adminToken });
  const post = (body: string, headers: Record<string, string>) => fetch(`${daemon.url}/api/v1/webhooks/obs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = (body: string, ts = String(Math.floor(Date.now() / 1000))) => ({ 'x-reprove-timestamp': ts, 'x-reprove-signature': webhookSignature(SECRET, ts, body) });

  // Manual submission: admin only, adds without anything leaving.
  await assert.rejects(new ReproveClient(daemon.url).submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [build('a', '1')] }), (e: ApiError) => e.status === 401);
  assert.deepEqual(await admin.submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [build('a', '1')] }), { added: 1, queued: 1, superseded: 0 });
  assert.deepEqual(await admin.submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [build('b', '1')] }), { added: 1, queued: 1, superseded: 0 });
  assert.deepEqual(await admin.submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [build('a', '1')] }), { added: 0, queued: 0, superseded: 0 }, 'the same build again queues nothing');
  // A newer version of a: the old one leaves and its queued job is superseded; b stays.
  assert.deepEqual(await admin.submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [build('a', '2')] }), { added: 1, queued: 1, superseded: 1 });
  assert.deepEqual((await admin.packages({ distribution: 'manual' })).items.map((p) => `${p.name} ${p.version}`).sort(), ['a 2', 'b 1']);
  await assert.rejects(admin.submit({ distribution: 'manual', suite: 's', architecture: 'x86_64', packages: [{ ...build('c', '1'), name: '../etc' }] }), (e: ApiError) => e.status === 400);

  // The webhook.
  const body = JSON.stringify({ packages: [build('hello', '1.0')] });
  let r = await post(body, signed(body));
  assert.equal(r.status, 200, await r.clone().text());
  assert.deepEqual(await r.json(), { added: 1, queued: 1, superseded: 0 });
  const headers = signed(body, String(Math.floor(Date.now() / 1000) - 1));
  r = await post(body, headers);
  assert.equal(r.status, 200, 'same body, new timestamp: a new delivery of a known build');
  assert.deepEqual(await r.json(), { added: 0, queued: 0, superseded: 0 });
  r = await post(body, headers);
  assert.equal(r.status, 401, 'the same delivery replayed');
  assert.match(((await r.json()) as { message: string }).message, /replay/);
  r = await post(body.replace('1.0', '6.6'), headers);
  assert.equal(r.status, 401, 'a body the signature is not for');
  r = await post(body, { 'x-reprove-timestamp': headers['x-reprove-timestamp']!, 'x-reprove-signature': webhookSignature('another-secret-0123456789', headers['x-reprove-timestamp']!, body) });
  assert.equal(r.status, 401, 'signed with another secret');
  const old = String(Math.floor(Date.now() / 1000) - 3600);
  r = await post(body, signed(body, old));
  assert.equal(r.status, 401, 'an hour-old timestamp');
  assert.match(((await r.json()) as { message: string }).message, /timestamp/);
  r = await post(body, {});
  assert.equal(r.status, 401, 'unsigned');
  for (const bad of ['{not json', JSON.stringify({ packages: [] }), JSON.stringify({ packages: [{ ...build('x', '1'), artifacts: [{ name: 'x', url: 'u', sha256: 'nothex' }] }] }), JSON.stringify({ packages: [{ ...build('x', '1'), name: 'a/../b' }] })]) {
    r = await post(bad, signed(bad));
    assert.equal(r.status, 400, `${bad.slice(0, 60)} is refused as a bad body`);
  }
  r = await fetch(`${daemon.url}/api/v1/webhooks/nope`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 404);
  const obs = await admin.packages({ distribution: 'obs' });
  assert.deepEqual(obs.items.map((p) => `${p.name} ${p.version}`), ['hello 1.0']);
  assert.equal((await admin.queue({ limit: 100 })).items.filter((j) => j.distribution === 'obs').length, 1);
});
