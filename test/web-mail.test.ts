// Mail to maintainers, against an SMTP server this test starts in process: a
// regression and a fix are each mailed to the package's maintainer with a signed
// unsubscribe link that works once followed and confirmed; a digest gathers an
// address's events into one mail; the hourly allowance holds the rest back. What
// waits is kept in the database: a restarted or second notifier mails it once, a
// failed send is tried again. The feed finds a change however old it is.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { buildServer } from '../src/server/build-server.js';
import { Notifier, addressOf } from '../src/server/web/mail.js';
import { events } from '../src/server/web/reads.js';
import { openStore, type Store, type Verdict } from '../src/store/index.js';
import { workdir } from './helpers.js';

interface Mail {
  to: string[];
  data: string;
}

async function smtp(t: import('node:test').TestContext): Promise<{ port: number; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as { port: number }).port, mails };
}

async function build(store: Store, name: string, verdict: Verdict): Promise<void> {
  const { worker } = await store.addWorker(`w-${Math.random().toString(36).slice(2, 10)}`, { architectures: ['x86_64'], backends: ['command'] });
  await store.push({ distribution: 'd', suite: 's', architecture: 'x86_64', name, priority: 10 });
  const c = (await store.claim(worker.id))!;
  await store.report(c.job.id, c.leaseToken, { verdict });
  await store.removeWorker(worker.id);
}

/** A store where bob@example.org maintains a, b and c, each built once, bit-identical (no change yet). */
async function bobsPackages(t: import('node:test').TestContext): Promise<Store> {
  const store = await openStore({ dataDir: join(workdir(t), 'data'), queue: { retry: { unreproducible: { maxRetries: 0 } } } });
  t.after(() => store.close());
  await store.syncPackages({ distribution: 'd', suite: 's', architecture: 'x86_64', packages: ['a', 'b', 'c'].map((name) => ({ name, version: '1', backend: 'command', maintainer: 'bob@example.org' })) });
  for (const n of ['a', 'b', 'c']) await build(store, n, 'BIT_IDENTICAL');
  return store;
}

/** Unfolds quoted-printable soft line breaks and =3D, enough to read links. */
const body = (m: Mail) => m.data.replace(/\r\n(?=[ \t])/g, '').replace(/=\r?\n/g, '').replace(/=3D/g, '=');

test('regressions and fixes are mailed to the maintainer, with a working signed unsubscribe link; digests and the hourly allowance', async (t) => {
  const { port, mails } = await smtp(t);
  const dir = workdir(t);
  const store = await openStore({ dataDir: join(dir, 'data'), queue: { retry: { unreproducible: { maxRetries: 0 } } } });
  t.after(() => store.close());
  await store.syncPackages({
    distribution: 'd',
    suite: 's',
    architecture: 'x86_64',
    packages: [
      { name: 'alpha', version: '1', backend: 'command', maintainer: 'Alice Example <Alice@Example.org>' },
      { name: 'bravo', version: '1', backend: 'command', maintainer: 'Alice Example <alice@example.org>' },
      { name: 'charlie', version: '1', backend: 'command', maintainer: 'no address here' },
    ],
  });
  await build(store, 'alpha', 'BIT_IDENTICAL');
  await build(store, 'bravo', 'UNREPRODUCIBLE');
  await build(store, 'charlie', 'BIT_IDENTICAL');
  const secret = 'an-unsubscribe-secret-of-enough-length';
  const app = buildServer({ store, adminToken: 'admin-token-for-tests-0123456789', web: { publicUrl: 'https://r.example.org', unsubscribeSecret: secret } });
  t.after(() => app.close());
  let clock = Date.now();
  const notifier = new Notifier(store, { transport: { host: '127.0.0.1', port, secure: false, ignoreTLS: true }, from: 'reprove <reprove@r.example.org>', publicUrl: 'https://r.example.org', unsubscribeSecret: secret, perHour: 2, now: () => clock });
  t.after(() => notifier.close());
  await notifier.start();
  assert.equal(await notifier.tick(), 0, 'nothing from before the notifier started');

  // alpha regresses, bravo is fixed, charlie regresses but has no address.
  await build(store, 'alpha', 'UNREPRODUCIBLE');
  await build(store, 'bravo', 'REPRODUCIBLE');
  await build(store, 'charlie', 'FTBFS');
  assert.equal(await notifier.tick(), 2);
  assert.equal(mails.length, 2);
  assert.deepEqual(mails.map((m) => m.to), [['alice@example.org'], ['alice@example.org']]);
  const [regression, fix] = mails.map(body);
  assert.match(regression!, /Subject: \[reprove\] alpha 1 no longer reproduces in d\/s\/x86_64/);
  assert.match(regression!, /https:\/\/r\.example\.org\/packages\/\d+/);
  assert.match(fix!, /Subject: \[reprove\] bravo 1 reproduces again/);
  assert.match(regression!, /List-Unsubscribe: <https:\/\/r\.example\.org\/unsubscribe\?/);

  // The hourly allowance (2): a third event waits for the next hour.
  await build(store, 'alpha', 'BIT_IDENTICAL');
  assert.equal(await notifier.tick(), 0);
  clock += 3_600_001;
  assert.equal(await notifier.tick(), 1);
  assert.match(body(mails[2]!), /alpha 1 reproduces again/);

  // The unsubscribe link: a forged token is refused, the real one asks, then takes effect.
  const link = /https:\/\/r\.example\.org(\/unsubscribe\?[^\s>]+)/.exec(regression!)![1]!;
  const forged = link.replace(/token=[^&]+/, 'token=AAAA');
  assert.equal((await app.inject({ method: 'GET', url: forged })).statusCode, 400);
  const ask = await app.inject({ method: 'GET', url: link });
  assert.equal(ask.statusCode, 200);
  assert.match(ask.body, /<form method="post" action="\/unsubscribe">/);
  const params = new URL(`https://x${link}`).searchParams;
  const done = await app.inject({ method: 'POST', url: '/unsubscribe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: params.toString() });
  assert.equal(done.statusCode, 200);
  assert.match(done.body, /No more mail goes to/);
  clock += 3_600_001;
  await build(store, 'alpha', 'UNREPRODUCIBLE');
  assert.equal(await notifier.tick(), 0, 'no mail after unsubscribing');
  assert.equal(mails.length, 3);
});

test('a digest gathers an address\'s regressions and fixes into one mail per period', async (t) => {
  const { port, mails } = await smtp(t);
  const store = await bobsPackages(t);
  let clock = Date.now();
  const notifier = new Notifier(store, { transport: { host: '127.0.0.1', port, secure: false, ignoreTLS: true }, from: 'reprove@r.example.org', publicUrl: 'https://r.example.org', unsubscribeSecret: 's'.repeat(40), digestMs: 86_400_000, now: () => clock });
  t.after(() => notifier.close());
  await notifier.start();
  for (const n of ['a', 'b', 'c']) await build(store, n, 'UNREPRODUCIBLE');
  assert.equal(await notifier.tick(), 0, 'gathered until the period ends');
  clock += 86_400_001;
  assert.equal(await notifier.tick(), 1);
  assert.equal(mails.length, 1);
  assert.match(body(mails[0]!), /Subject: \[reprove\] 3 regression\(s\) and 0 fix\(es\)/);
  for (const n of ['a', 'b', 'c']) assert.match(body(mails[0]!), new RegExp(`${n} 1 no longer reproduces`));
});

test('the maintainer\'s address is read from "Name <address>" or a bare address', () => {
  assert.equal(addressOf('Jane Doe <Jane@Example.org>'), 'jane@example.org');
  assert.equal(addressOf('jane@example.org'), 'jane@example.org');
  assert.equal(addressOf('Debian Team'), undefined);
  assert.equal(addressOf(null), undefined);
});

test('what waits for a digest survives a restart and is mailed once; a second notifier mails nothing twice; a failed send is tried again; old news is not mailed', async (t) => {
  const { port, mails } = await smtp(t);
  const store = await bobsPackages(t);
  let clock = Date.now();
  const notifier = (o: { digestMs?: number; port?: number; now?: () => number } = {}) => {
    const n = new Notifier(store, { transport: { host: '127.0.0.1', port: o.port ?? port, secure: false, ignoreTLS: true }, from: 'reprove@r.example.org', publicUrl: 'https://r.example.org', unsubscribeSecret: 's'.repeat(40), digestMs: o.digestMs, now: o.now ?? (() => clock) });
    t.after(() => n.close());
    return n;
  };

  const first = notifier({ digestMs: 86_400_000 });
  await first.start();
  await build(store, 'a', 'UNREPRODUCIBLE');
  assert.equal(await first.tick(), 0, 'gathered for the digest');
  first.close(); // the daemon stops before the period ends
  const second = notifier({ digestMs: 86_400_000 });
  await second.start();
  clock += 86_400_001;
  assert.equal(await second.tick(), 1, 'the gathered change is mailed by the next notifier');
  assert.match(body(mails[0]!), /a 1 no longer reproduces/);
  const other = notifier();
  await other.start();
  assert.equal(await other.tick(), 0, 'a second daemon mails nothing twice');

  // No SMTP server listens on port 1: the change is given back, then mailed.
  await build(store, 'b', 'UNREPRODUCIBLE');
  await assert.rejects(notifier({ port: 1 }).tick(), /ECONNREFUSED/);
  assert.equal(await other.tick(), 1);
  assert.match(body(mails[1]!), /b 1 no longer reproduces/);

  // Mail switched on three days after a change: not mailed, still in the feed.
  await build(store, 'c', 'UNREPRODUCIBLE');
  const late = notifier({ now: () => clock + 3 * 86_400_000 });
  await late.start();
  assert.equal(await late.tick(), 0);
  assert.equal(await other.tick(), 0);
  assert.equal(mails.length, 2);
  assert.deepEqual((await events(store, { kind: 'regression' })).map((e) => e.package.name), ['c', 'b', 'a']);
});

test('the feed finds a regression however many results came after it', async (t) => {
  const dir = workdir(t);
  const store = await openStore({ dataDir: join(dir, 'data'), queue: { retry: { unreproducible: { maxRetries: 0 } } } });
  t.after(() => store.close());
  const others = Array.from({ length: 520 }, (_, i) => `other-${String(i).padStart(3, '0')}`);
  await store.syncPackages({ distribution: 'd', suite: 's', architecture: 'x86_64', packages: ['alpha', ...others].map((name) => ({ name, version: '1', backend: 'command' })) });
  const { worker } = await store.addWorker('w', { architectures: ['x86_64'], backends: ['command'] });
  const drain = async (verdict: Verdict) => {
    for (let c = await store.claim(worker.id); c; c = await store.claim(worker.id)) await store.report(c.job.id, c.leaseToken, { verdict });
  };
  await drain('BIT_IDENTICAL');
  await store.push({ distribution: 'd', suite: 's', architecture: 'x86_64', name: 'alpha', priority: 10 });
  await drain('UNREPRODUCIBLE');
  for (const name of others) await store.push({ distribution: 'd', suite: 's', architecture: 'x86_64', name, priority: 10 });
  await drain('BIT_IDENTICAL'); // 520 newer results, none a change (more than the 500 the feed used to look at)
  const found = await events(store, { kind: 'regression', limit: 10 });
  assert.deepEqual(found.map((e) => [e.package.name, e.previousVerdict, e.verdict]), [['alpha', 'BIT_IDENTICAL', 'UNREPRODUCIBLE']]);
});
