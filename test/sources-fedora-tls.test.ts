// The fedora-messaging listener the way Fedora's public broker is reached: amqps
// with a client certificate, key and CA, and the x509 EXTERNAL login (the user is
// the certificate's common name). A private RabbitMQ node (test/rabbitmq-node.ts)
// runs with TLS listeners only, verify_peer and fail_if_no_peer_cert, EXTERNAL as
// its only mechanism (rabbitmq_auth_mechanism_ssl), and certificates made here:
// the listener queues a build published over such a connection, and a listener
// holding a certificate from another CA is refused, says so in the log, and the
// daemon carries on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReproveClient } from '../src/api/client.js';
import { STATE_CHANGE_TOPIC } from '../src/rebuild/sources/fedora-koji.js';
import { workdir } from './helpers.js';
import { buildName, startFakeKoji } from './koji-fixture.js';
import { makeCa, privateNode, privateNodeUnavailable } from './rabbitmq-node.js';
import { until } from './service-support.js';
import { daemonWith } from './sources-support.js';

const LISTENER = 'reprove-listener';

test('fedora-messaging over amqps with a client certificate and EXTERNAL: a build queued; a certificate from another CA refused and logged, the daemon unharmed', { timeout: 120_000 }, async (t) => {
  const unavailable = privateNodeUnavailable('rabbitmq_auth_mechanism_ssl');
  if (unavailable) {
    if (process.env['CI']) assert.fail(`Cannot run the TLS/EXTERNAL test in CI: ${unavailable}`);
    t.skip(`Cannot start a private RabbitMQ node with TLS and EXTERNAL here: ${unavailable}`);
    return;
  }
  // The node's own directory holds its state and the certificates: nothing else removes it before the node stops.
  const node = await privateNode(t);
  const trusted = makeCa(join(node.dir, 'pki'), 'reprove-test-ca');
  const server = trusted.issue('server', 'localhost', 'serverAuth');
  const client = trusted.issue('client', LISTENER, 'clientAuth');
  // Same common name, so only the issuer tells them apart.
  const stranger = makeCa(join(node.dir, 'pki-other'), 'another-ca').issue('stranger', LISTENER, 'clientAuth');

  await node.start(
    [
      'listeners.tcp = none',
      'listeners.ssl.default = {tlsPort}',
      `ssl_options.cacertfile = ${trusted.ca}`,
      `ssl_options.certfile = ${server.cert}`,
      `ssl_options.keyfile = ${server.key}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      'auth_mechanisms.1 = EXTERNAL',
      'ssl_cert_login_from = common_name',
      '',
    ].join('\n'),
    ['rabbitmq_auth_mechanism_ssl'],
  );
  t.diagnostic(`the private node ${node.name} booted in ${node.bootMs} ms`);
  const dir = workdir(t);
  // The user is the certificate's common name; its password is never used (EXTERNAL only).
  await node.ctl(['add_user', LISTENER, randomUUID()]);
  await node.ctl(['set_permissions', '-p', '/', LISTENER, '.*', '.*', '.*']);

  const url = `amqps://localhost:${node.tlsPort}`;
  const hub = await startFakeKoji();
  t.after(() => hub.close());
  const queue = `reprove-tls-${randomUUID()}`;
  const common = { kind: 'fedora-koji', distribution: 'fedora', architecture: 'x86_64', hub: hub.url, mockConfig: 'fedora-rawhide-x86_64', retryDelaySeconds: 0.2 };
  const { daemon, logs } = await daemonWith(t, dir, {
    sources: [
      { ...common, name: 'fedora', suite: 'rawhide', amqp: { url, queue, cert: client.cert, key: client.key, ca: trusted.ca, external: true } },
      { ...common, name: 'stranger', suite: 'stranger', amqp: { url, queue: `${queue}-stranger`, cert: stranger.cert, key: stranger.key, ca: trusted.ca, external: true } },
    ],
  });
  const api = new ReproveClient(daemon.url, { token: daemon.adminToken });
  await until('the listener on the TLS node', 30, async () => (logs.some((l) => l.includes(`source fedora: listening on ${queue}`)) ? true : undefined)).catch((e: Error) => {
    throw new Error(`${e.message}\n${logs.join('\n')}`);
  });

  // Published over amqps with the same kind of credentials: the broker takes nothing else.
  const amqplib = await import('amqplib');
  const tls = { cert: readFileSync(client.cert), key: readFileSync(client.key), ca: [readFileSync(trusted.ca)], credentials: amqplib.credentials.external() };
  const pub = await amqplib.connect(url, tls);
  // The node's hook runs first (after-hooks run in registration order), and a close
  // then waits for an answer that never comes: bounded. The body closes it itself.
  let pubOpen = true;
  t.after(() => pubOpen && Promise.race([pub.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]));
  const ch = await pub.createConfirmChannel();
  const publish = (id: number) =>
    ch.publish('amq.topic', STATE_CHANGE_TOPIC, Buffer.from(JSON.stringify({ build_id: id, old: 0, new: 1, attribute: 'state', name: buildName(id), version: '1.0', release: `${id % 7}.fc41`, owner: 'packager', instance: 'primary', task_id: id * 10, epoch: null })), {
      messageId: `tls-${id}`,
      headers: { fedora_messaging_schema: 'koji_fedoramessaging.build.BuildStateChangeV1', 'sent-at': new Date().toISOString() },
      contentType: 'application/json',
      deliveryMode: 2,
    });
  publish(4242);
  await ch.waitForConfirms();
  await until('the build published over TLS', 20, async () => ((await api.packages({ distribution: 'fedora', name: buildName(4242) })).total === 1 ? true : undefined));
  const connections = await node.ctl(['list_connections', 'user', 'auth_mechanism', 'ssl', 'peer_cert_subject', '--no-table-headers', '-q']);
  assert.match(connections, new RegExp(`${LISTENER}\\s+EXTERNAL\\s+true\\s+CN=${LISTENER}`), connections);

  // The stranger's certificate is refused in the TLS handshake; its listener logs that and tries again later.
  await until('the refusal in the log', 20, async () => (logs.some((l) => /source stranger: cannot listen: .*(unknown ca|certificate)/i.test(l)) ? true : undefined)).catch((e: Error) => {
    throw new Error(`${e.message}\n${logs.join('\n')}`);
  });
  assert.ok(!logs.some((l) => l.includes('source stranger: listening on')), logs.join('\n'));
  assert.equal((await node.ctl(['list_connections', 'peer_cert_issuer', '--no-table-headers', '-q'])).includes('another-ca'), false, 'no connection from the other CA');
  // The daemon carries on: a second build comes in.
  publish(4343);
  await ch.waitForConfirms();
  await until('a build after the refusal', 20, async () => ((await api.packages({ distribution: 'fedora', name: buildName(4343) })).total === 1 ? true : undefined));
  assert.equal((await api.packages({ distribution: 'fedora', suite: 'stranger' })).total, 0);
  await pub.close();
  pubOpen = false;
});
