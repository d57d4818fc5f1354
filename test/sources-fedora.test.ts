// The Fedora source: the koji XML-RPC codec and client against a local hub serving
// koji-shaped answers (i8 as bigint, nil as null, strings kept exactly, faults,
// multiCall, a hub that never answers), the catch-up from listTagged, and the
// fedora-messaging listener against the real RabbitMQ: messages shaped like
// Fedora's, malformed ones, duplicates, a connection dropped mid-stream, the
// daemon restarted with messages waiting: every build queued exactly once.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ReproveClient } from '../src/api/client.js';
import { type FedoraKojiSource, STATE_CHANGE_TOPIC, TAG_TOPIC } from '../src/rebuild/sources/fedora-koji.js';
import { KojiClient, KojiFault, KojiTransportError, decodeResponse, encodeResponse } from '../src/rebuild/sources/koji-client.js';
import { workdir } from './helpers.js';
import { buildName, type FakeKoji, startFakeKoji } from './koji-fixture.js';
import { until } from './service-support.js';
import { daemonWith } from './sources-support.js';

const AMQP_URL = process.env['AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

/** rabbitmqctl's output, or null where it cannot run (not installed, not root). */
function rabbitmqctl(args: string[]): Promise<string | null> {
  return new Promise((r) => execFile('rabbitmqctl', ['-q', ...args], { timeout: 15_000 }, (e, out) => r(e ? null : out)));
}

/** Has the broker close the connections whose client name contains `marker`; false where rabbitmqctl cannot. */
async function closeBrokerSide(marker: string): Promise<boolean> {
  const list = await rabbitmqctl(['list_connections', 'pid', 'client_properties', '--no-table-headers']);
  if (list === null) return false;
  const pids = list.split('\n').filter((l) => l.includes(marker)).map((l) => l.split('\t')[0]!);
  if (pids.length === 0) return false;
  for (const pid of pids) if ((await rabbitmqctl(['close_connection', pid, 'closed by the test'])) === null) return false;
  return true;
}

async function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((r) => {
    const s = new Socket();
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(false));
    s.once('timeout', () => (s.destroy(), r(false)));
    s.connect(Number(u.port || 5672), u.hostname);
  });
}

test('the XML-RPC codec: i8 is a bigint, nil is null, strings are kept exactly, faults and multiCall, a timeout', async (t) => {
  const v = decodeResponse(encodeResponse({ big: 2n ** 40n, none: null, s: '  007 ', n: 7, list: [true, 1.5, 'x'], nested: { a: [] } }), 'test');
  assert.deepEqual(v, { big: 2n ** 40n, none: null, s: '  007 ', n: 7, list: [true, 1.5, 'x'], nested: { a: [] } });
  assert.equal(decodeResponse('<?xml version="1.0"?><methodResponse><params><param><value>plain &amp; text</value></param></params></methodResponse>', 'x'), 'plain & text');
  assert.throws(() => decodeResponse('<methodResponse><params><param><value><i8>12x</i8></value></param></params></methodResponse>', 'x'), KojiTransportError);
  assert.throws(() => decodeResponse('not xml <<<', 'x'), KojiTransportError);
  // What Python's xmlrpc and other servers may write around the values: space, comments, CDATA, character references, attributes.
  const answer = (inner: string) => `<?xml version="1.0"?>\n<!-- hub -->\n<methodResponse>\n <params>\n  <param>\n   ${inner}\n  </param>\n </params>\n</methodResponse>\n`;
  assert.deepEqual(decodeResponse(answer('<value> <struct>\n <member> <name>a&lt;b</name> <value><int> 5 </int></value> </member>\n <member><name>c</name><value><![CDATA[x<y]]>&#65;&#x42;</value></member> </struct> </value>'), 'x'), { 'a<b': 5, c: 'x<yAB' });
  assert.deepEqual(decodeResponse(answer('<value lang="en"><array><data/></array></value>'), 'x'), []);
  const proto = decodeResponse(answer('<value><struct><member><name>__proto__</name><value>data</value></member></struct></value>'), 'x') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(proto['__proto__'], 'data');
  for (const refused of ['<!DOCTYPE r [<!ENTITY e "boom">]>' + answer('<value>&e;</value>'), answer('<value>a & b</value>'), answer('<value><float>1</float></value>'), answer('<value>x<int>1</int></value>'), answer('<value><int>1</int>'), answer('<value>1</value>') + '<more/>']) {
    assert.throws(() => decodeResponse(refused, 'x'), KojiTransportError, refused);
  }

  const hub = await startFakeKoji();
  t.after(() => hub.close());
  const koji = new KojiClient(hub.url, { timeoutMs: 1500 });
  const b = await koji.getBuild(42);
  assert.equal(b?.nvr, 'pkg42-1.0-0.fc41');
  assert.equal(b?.epoch, null);
  const rpms = await koji.listRPMs(42);
  assert.equal(typeof rpms[0]!.size, 'bigint');
  const roots = await koji.listBuildroots(421);
  assert.equal(roots[0]!['create_event_id'], 2n ** 40n);
  assert.equal((await koji.getBuildrootListing(7))[0]!['name'], 'bash');
  await assert.rejects(koji.call('noSuchMethod'), (e: KojiFault) => e instanceof KojiFault && e.faultCode === 1000 && /Invalid method/.test(e.faultString));
  hub.faults.set(5, 1);
  const answers = await koji.multiCall([{ method: 'getBuild', params: [5] }, { method: 'getBuild', params: [6] }]);
  assert.ok(answers[0] instanceof KojiFault);
  assert.equal((answers[1] as { nvr: string }).nvr, 'pkg6-1.0-6.fc41');
  hub.hang.add(9);
  await assert.rejects(koji.getBuild(9), (e: Error) => e instanceof KojiTransportError && /no answer within 1500 ms/.test(e.message));
  await assert.rejects(new KojiClient('http://127.0.0.1:1/kojihub').getBuild(1), KojiTransportError);
});

test('the catch-up lists the tags in koji and queues each new build once, with its buildroot listing and digests; a fault skips one build', async (t) => {
  const dir = workdir(t);
  const hub = await startFakeKoji();
  t.after(() => hub.close());
  hub.tagged.set('f41-updates', [11, 12, 13]);
  hub.faults.set(13, 1);
  const { daemon, logs } = await daemonWith(t, dir, { sources: [{ name: 'fedora', kind: 'fedora-koji', distribution: 'fedora', suite: 'f41', architecture: 'x86_64', hub: hub.url, mockConfig: 'fedora-41-x86_64', tags: ['f41-updates'], packageUrl: 'https://kojipkgs.example.org/packages/{build_name}/{build_version}/{build_release}/{arch}/{name}-{version}-{release}.{arch}.rpm' }] });
  const client = new ReproveClient(daemon.url, { token: daemon.adminToken });
  await until('the catch-up on start', 20, async () => ((await client.sources())[0]!.lastSyncAt !== null ? true : undefined));
  assert.deepEqual((await client.packages({ distribution: 'fedora' })).items.map((p) => `${p.name} ${p.version}`), ['pkg11 1.0-4.fc41', 'pkg12 1.0-5.fc41']);
  assert.ok(logs.some((l) => /build pkg13-1\.0-6\.fc41 skipped for now: koji getBuild failed: fault 1000/.test(l)), logs.join('\n'));
  const again = await client.syncSource('fedora');
  assert.deepEqual({ packages: again.packages, added: again.added }, { packages: 1, added: 1 }, 'the faulted build comes in on the next catch-up, the others are not resolved again');
  const p = await daemon.store.getPackage((await client.packages({ distribution: 'fedora', name: 'pkg12' })).items[0]!.id);
  assert.equal(p.input?.backend, 'fedora');
  assert.equal(p.maintainer, 'packager', 'the koji owner is the maintainer');
  assert.deepEqual((p.input?.recipe as { config: string }).config, 'fedora-41-x86_64');
  assert.match((p.input?.recipe as { srpm: { url: string } }).srpm.url, /packages\/pkg12\/1\.0\/5\.fc41\/src\/pkg12-1\.0-5\.fc41\.src\.rpm$/);
  assert.deepEqual(p.input?.artifacts.map((a) => a.name).sort(), ['pkg12-1.0-5.fc41.x86_64.rpm', 'pkg12-doc-1.0-5.fc41.noarch.rpm']);
  const listing = JSON.parse(await (await client.blob(p.input!.buildinfoSha256!)).text()) as { build: { name: string }; buildroot: { name: string }[] };
  assert.equal(p.input?.buildinfoUrl, `blob:${p.input?.buildinfoSha256}`);
  assert.equal(listing.build.name, 'pkg12');
  assert.deepEqual(listing.buildroot.map((r) => r.name), ['bash', 'gcc']);
});

/** False (the test skipped, or failed in CI) when RabbitMQ is not reachable. */
async function needRabbit(t: TestContext): Promise<boolean> {
  if (await reachable(AMQP_URL)) return true;
  if (process.env['CI']) assert.fail(`RabbitMQ is not reachable at ${AMQP_URL} in CI`);
  t.skip(`RabbitMQ is not reachable at ${AMQP_URL} (set AMQP_URL; .ci/run does)`);
  return false;
}

/** A COMPLETE build state change as koji's fedora-messaging schema has it. */
const complete = (id: number) => ({ build_id: id, old: 0, new: 1, attribute: 'state', name: buildName(id), version: '1.0', release: `${id % 7}.fc41`, owner: 'packager', instance: 'primary', task_id: id * 10, epoch: null, request: ['git+https://src.fedoraproject.org/rpms/x.git#abc', 'f41-candidate', {}] });

/** What a listener test starts from: a directory, a koji hub, a queue name and a publisher's confirm channel (the queue deleted at the end). */
async function listenerTest(t: TestContext) {
  const amqplib = await import('amqplib');
  const dir = workdir(t);
  const hub = await startFakeKoji();
  t.after(() => hub.close());
  const queue = `reprove-test-${randomUUID()}`;
  const pub = await amqplib.connect(AMQP_URL);
  t.after(async () => {
    const ch = await pub.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await pub.close();
  });
  return { dir, hub, queue, pub, ch: await pub.createConfirmChannel() };
}

test('fedora-messaging: every build queued exactly once across duplicates, malformed messages, a dropped connection and a daemon restart', { timeout: 90_000 }, async (t) => {
  if (!(await needRabbit(t))) return;
  const { dir, hub, queue, pub, ch } = await listenerTest(t);
  const source = { name: 'fedora', kind: 'fedora-koji', distribution: 'fedora', suite: 'rawhide', architecture: 'x86_64', hub: hub.url, mockConfig: 'fedora-rawhide-x86_64', retryDelaySeconds: 0.2, amqp: { url: AMQP_URL, queue, prefetch: 50 } };
  const send = async (topic: string, body: unknown, opts: { id?: string; headers?: Record<string, unknown> | null; raw?: Buffer } = {}) => {
    const headers = opts.headers === null ? {} : { fedora_messaging_schema: topic.endsWith('tag') ? 'koji_fedoramessaging.tag.TagV1' : 'koji_fedoramessaging.build.BuildStateChangeV1', 'sent-at': new Date().toISOString(), fedora_messaging_severity: 20, ...(opts.headers ?? {}) };
    ch.publish('amq.topic', topic, opts.raw ?? Buffer.from(JSON.stringify(body)), { messageId: opts.id ?? randomUUID(), headers, contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 });
  };

  let { daemon, logs } = await daemonWith(t, join(dir, 'a'), { sources: [source] });
  const client = () => new ReproveClient(daemon.url, { token: daemon.adminToken });
  await until('the listener', 20, async () => (logs.some((l) => l.includes(`listening on ${queue}`)) ? true : undefined));

  // 40 builds; duplicates by message id and by build; malformed and ignored messages among them.
  hub.faults.set(7, 2); // koji fails twice for build 7: retried, not lost
  for (let i = 1; i <= 40; i++) {
    const id = `msg-${i}`;
    await send(STATE_CHANGE_TOPIC, complete(i), { id });
    if (i % 10 === 0) await send(STATE_CHANGE_TOPIC, complete(i), { id }); // the same message again
    if (i % 8 === 0) await send(STATE_CHANGE_TOPIC, complete(i)); // the same build, another message
    if (i === 20) (daemon.sources.source('fedora') as FedoraKojiSource).dropConnection();
  }
  await send(STATE_CHANGE_TOPIC, null, { id: 'bad-json', raw: Buffer.from('{not json') });
  await send(STATE_CHANGE_TOPIC, complete(900), { id: 'no-headers', headers: null });
  await send(STATE_CHANGE_TOPIC, { ...complete(901), build_id: '../etc' }, { id: 'bad-id' });
  await send(STATE_CHANGE_TOPIC, { ...complete(902), new: 3 }, { id: 'failed-build' });
  await send(TAG_TOPIC, { build_id: 903, tag: 'f41-updates', name: 'pkg903', version: '1.0', release: '1', user: 'bodhi' }, { id: 'tag-903' });
  await ch.waitForConfirms();
  await until('the first 40 builds and the tagged one', 30, async () => ((await client().packages({ distribution: 'fedora', limit: 1000 })).total === 41 ? true : undefined)).catch(async (e) => { console.error(logs.join('\n'), (await client().packages({ distribution: 'fedora', limit: 1000 })).total); throw e; });
  for (const [id, why] of [['bad-json', /not JSON/], ['no-headers', /fedora_messaging_schema/], ['bad-id', /build_id/]] as const) assert.ok(logs.some((l) => l.includes(`message ${id} dropped`) && why.test(l)), `${id}:\n${logs.join('\n')}`);
  assert.ok(logs.some((l) => /message msg-7 \(build 7\) put back: koji getBuild failed: fault 1000/.test(l)));
  assert.ok(logs.some((l) => /connection to the broker lost \(connection dropped\); reconnecting/.test(l)), logs.join('\n'));
  const listening = () => logs.filter((l) => l.includes(`listening on ${queue}`)).length;

  // The socket closed under the client without an error (amqplib alone never notices), then
  // the broker closing the connection: builds sent meanwhile come in once each.
  let n = listening();
  (daemon.sources.source('fedora') as FedoraKojiSource).dropConnection(true);
  for (let i = 61; i <= 65; i++) await send(STATE_CHANGE_TOPIC, complete(i), { id: `msg-${i}` });
  await send(TAG_TOPIC, { build_id: 903, tag: 'f41-updates', name: 'pkg903', version: '1.0', release: '1', user: 'bodhi' }, { id: 'tag-903-again' });
  await ch.waitForConfirms();
  await until('the listener back after a silent socket close', 20, async () => (listening() > n ? true : undefined));
  assert.ok(logs.some((l) => /connection to the broker lost \(socket closed\)/.test(l)), logs.join('\n'));
  n = listening();
  const brokerClosed = await closeBrokerSide(queue);
  if (brokerClosed) await until('the listener back after the broker closed its connection', 20, async () => (listening() > n ? true : undefined));
  else t.diagnostic('rabbitmqctl cannot run here (not root?): the broker-side close is not exercised');
  for (let i = 66; i <= 70; i++) await send(STATE_CHANGE_TOPIC, complete(i), { id: `msg-${i}` });
  await ch.waitForConfirms();
  await until('the builds sent across the reconnections', 20, async () => ((await client().packages({ distribution: 'fedora', limit: 1000 })).total === 51 ? true : undefined));

  // The daemon stops (promptly); builds arrive meanwhile; the next daemon (same database) takes them.
  const stopping = Date.now();
  await daemon.close();
  assert.ok(Date.now() - stopping < 15_000, `the daemon took ${Date.now() - stopping} ms to close`);
  for (let i = 41; i <= 60; i++) await send(STATE_CHANGE_TOPIC, complete(i), { id: `msg-${i}` });
  await send(STATE_CHANGE_TOPIC, complete(5), { id: 'msg-5-late' });
  await send(STATE_CHANGE_TOPIC, complete(41), { id: 'msg-41' }); // the same message twice while nobody listens
  await ch.waitForConfirms();
  const dataDir = join(dir, 'a');
  ({ daemon, logs } = await daemonWith(t, dataDir, { sources: [source] }));
  await until('the builds sent while it was down', 30, async () => ((await client().packages({ distribution: 'fedora', limit: 1000 })).total === 71 ? true : undefined));
  await new Promise((r) => setTimeout(r, 500));
  const jobs = (await client().queue({ limit: 1000 })).items.filter((j) => j.distribution === 'fedora');
  const perName = new Map<string, number>();
  for (const j of jobs) perName.set(j.name, (perName.get(j.name) ?? 0) + 1);
  assert.equal(jobs.length, 71, 'one job per build');
  assert.ok([...perName.values()].every((n) => n === 1), JSON.stringify([...perName].filter(([, n]) => n !== 1)));
  const left = await (await pub.createChannel()).checkQueue(queue);
  assert.equal(left.messageCount, 0, 'every message acknowledged');
});

/**
 * Builds `ids` published before the listener starts (the queue declared first, so they
 * wait in it and come as one burst), then a daemon listening with `options`;
 * `prepare` sets up the hub before anything is asked of it.
 */
async function burst(t: TestContext, ids: number[], options: Record<string, unknown>, prepare: (hub: FakeKoji) => void) {
  const { dir, hub, queue, ch } = await listenerTest(t);
  await ch.assertQueue(queue, { durable: true });
  await ch.bindQueue(queue, 'amq.topic', STATE_CHANGE_TOPIC);
  const send = (id: number) => ch.publish('amq.topic', STATE_CHANGE_TOPIC, Buffer.from(JSON.stringify(complete(id))), { messageId: `m-${id}`, headers: { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', 'sent-at': new Date().toISOString() }, deliveryMode: 2 });
  for (const id of ids) send(id);
  await ch.waitForConfirms();
  prepare(hub);
  const source = { name: 'fedora', kind: 'fedora-koji', distribution: 'fedora', suite: 'rawhide', architecture: 'x86_64', hub: hub.url, mockConfig: 'fedora-rawhide-x86_64', retryDelaySeconds: 0.3, concurrency: 1, batchSize: 100, ...options, amqp: { url: AMQP_URL, queue, prefetch: 100 } };
  const { daemon, logs } = await daemonWith(t, dir, { sources: [source] });
  const client = new ReproveClient(daemon.url, { token: daemon.adminToken });
  const queued = (n: number, what: string) =>
    until(what, 30, async () => ((await client.packages({ distribution: 'fedora', limit: 1000 })).total === n ? true : undefined)).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs.join('\n')}`);
    });
  const everyJobOnceAndAcked = async (n: number) => {
    const jobs = (await client.queue({ limit: 1000 })).items.filter((j) => j.distribution === 'fedora');
    assert.equal(jobs.length, n, 'one job per build');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await ch.checkQueue(queue)).messageCount, 0, 'every message acknowledged');
  };
  return { hub, logs, queued, everyJobOnceAndAcked };
}

test('fedora-messaging: a batch in which koji faults for one build queues the others and asks again only about that one', { timeout: 90_000 }, async (t) => {
  if (!(await needRabbit(t))) return;
  const ids = Array.from({ length: 30 }, (_, i) => 201 + i);
  // Koji fails once for build 215's RPM list and once for build 220's buildroot listing
  // (its x86_64 buildArch task is 2202, whose buildroot is 6606).
  const { hub, logs, queued, everyJobOnceAndAcked } = await burst(t, ids, {}, (hub) => {
    hub.callFaults.set('listRPMs 215', 1);
    hub.callFaults.set('getBuildrootListing 6606', 1);
  });
  await queued(30, 'the 30 builds');
  const putBack = logs.filter((l) => l.includes('put back'));
  assert.equal(putBack.length, 2, putBack.join('\n'));
  assert.match(putBack.find((l) => l.includes('message m-215 (build 215)')) ?? '', /koji listRPMs failed: fault 1000/);
  assert.match(putBack.find((l) => l.includes('message m-220 (build 220)')) ?? '', /koji getBuildrootListing failed: fault 1000/);
  const askedFor = (id: number) => hub.getBuildRequests.filter((r) => r.includes(id)).length;
  for (const id of [215, 220]) {
    assert.ok(hub.getBuildRequests.find((r) => r.includes(id))!.length > 1, `build ${id} was asked about with others: ${JSON.stringify(hub.getBuildRequests)}`);
    assert.equal(askedFor(id), 2, `build ${id}: asked again once`);
  }
  for (const id of ids) if (id !== 215 && id !== 220) assert.equal(askedFor(id), 1, `build ${id} was not asked about again`);
  await everyJobOnceAndAcked(30);
});

test('fedora-messaging: a build that makes koji hang sends its batch back, and resolving those builds one by one holds back only that one', { timeout: 90_000 }, async (t) => {
  if (!(await needRabbit(t))) return;
  const ids = Array.from({ length: 10 }, (_, i) => 231 + i);
  const { hub, logs, queued, everyJobOnceAndAcked } = await burst(t, ids, { timeoutSeconds: 1.5 }, (hub) => hub.hang.add(235));
  await queued(9, 'the builds beside the hanging one');
  assert.ok(logs.some((l) => /messages \(builds .*235.*\) put back: Cannot call koji multiCall .* no answer within 1500 ms/.test(l)), logs.join('\n'));
  assert.ok(hub.getBuildRequests.some((r) => r.length === 1 && r[0] === 235), 'build 235 was asked about alone');
  hub.hang.delete(235);
  await queued(10, 'the build koji answers for at last');
  await everyJobOnceAndAcked(10);
});
