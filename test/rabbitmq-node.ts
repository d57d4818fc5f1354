// A private RabbitMQ node for the tests that need the broker configured in a way
// the shared one is not (TLS listeners, x509 EXTERNAL login): started as root from
// the installed RabbitMQ with an environment of its own (node name, ports, config
// file, enabled plugins, Mnesia and log directories, HOME for its Erlang cookie,
// all in the test's directory), so the system broker that other tests use is
// neither reconfigured nor restarted. Certificates are made with openssl at test
// time. The node is stopped (rabbitmqctl stop, then its process group killed) when
// the test ends.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
const RABBITMQ_PLUGINS = '/usr/lib/rabbitmq/lib';

/** Why a private node cannot be started here, or null when it can. */
export function privateNodeUnavailable(plugin: string): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'a private RabbitMQ node is started as root (its scripts under /usr/lib/rabbitmq/bin) and this test does not run as root';
  if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server')) || !existsSync(join(RABBITMQ_BIN, 'rabbitmqctl'))) return `RabbitMQ is not installed (no ${RABBITMQ_BIN}/rabbitmq-server)`;
  const plugins = existsSync(RABBITMQ_PLUGINS) ? readdirSync(RABBITMQ_PLUGINS).flatMap((d) => (existsSync(join(RABBITMQ_PLUGINS, d, 'plugins')) ? readdirSync(join(RABBITMQ_PLUGINS, d, 'plugins')) : [])) : [];
  if (!plugins.some((p) => p.startsWith(`${plugin}-`))) return `RabbitMQ's plugin ${plugin} is not installed`;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'openssl is not installed (the test makes its certificates with it)';
  }
  return null;
}

export interface Certificate {
  cert: string;
  key: string;
}

/** A certificate authority in `dir`, and certificates it signs. */
export function makeCa(dir: string, name: string): { ca: string; issue(file: string, commonName: string, usage: 'serverAuth' | 'clientAuth'): Certificate } {
  mkdirSync(dir, { recursive: true });
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = join(dir, `${name}.pem`);
  const caKey = join(dir, `${name}.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=${name}`]);
  return {
    ca,
    issue(file, commonName, usage) {
      const key = join(dir, `${file}.key`);
      const cert = join(dir, `${file}.pem`);
      const ext = join(dir, `${file}.ext`);
      writeFileSync(ext, `extendedKeyUsage=${usage}\n${usage === 'serverAuth' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : ''}`);
      openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', join(dir, `${file}.csr`), '-subj', `/CN=${commonName}`]);
      openssl(['x509', '-req', '-in', join(dir, `${file}.csr`), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
      return { cert, key };
    },
  };
}

/** A TCP port free on 127.0.0.1 just now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface PrivateNode {
  name: string;
  /** The TLS listener's port. */
  tlsPort: number;
  /** The node's log directory. */
  logDir: string;
  /** Milliseconds from start to the node answering await_startup. */
  bootMs: number;
  /** rabbitmqctl against this node; rejects with its output on failure. */
  ctl(args: string[]): Promise<string>;
}

/**
 * Starts a node whose rabbitmq.conf is `config` with `plugins` enabled; `{tlsPort}`
 * in the config is replaced by its TLS port. Stopped when the test ends.
 */
export async function startPrivateNode(t: TestContext, dir: string, config: string, plugins: string[]): Promise<PrivateNode> {
  const [tlsPort, nodePort, distPort] = [await freePort(), await freePort(), await freePort()];
  const name = `reprove-tls-${process.pid}@localhost`;
  for (const d of ['mnesia', 'log', 'home', 'plugins-expand']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'rabbitmq.conf'), config.replaceAll('{tlsPort}', String(tlsPort)));
  writeFileSync(join(dir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'), // its own Erlang cookie, shared by rabbitmqctl below
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_PORT: String(nodePort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
  };
  const ctl = (args: string[], timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) =>
      execFile(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', name, ...args], { env, timeout: timeoutMs }, (e, out, err) => (e ? reject(new Error(`Cannot run rabbitmqctl ${args[0]} on ${name}: ${e.message}\n${out}${err}`)) : resolve(out))),
    );
  const started = Date.now();
  // Its own process group: the node (erl, beam.smp and its helpers) is stopped as a whole.
  const server = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  server.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
  t.after(async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    await ctl(['stop'], 20_000).catch(() => undefined);
    if (await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))])) return;
    try {
      process.kill(-server.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  // await_startup waits for a node that epmd knows, and fails at once before that: asked again until a deadline.
  const deadline = started + 50_000;
  let outcome: 'up' | Error = new Error('not up yet');
  while (outcome !== 'up' && Date.now() < deadline) {
    const up = ctl(['await_startup', '--timeout', String(Math.max(1, Math.round((deadline - Date.now()) / 1000)))], 55_000);
    outcome = await Promise.race([up.then(() => 'up' as const, (e: Error) => e), exited.then((code) => new Error(`the node exited with status ${code} while starting`))]);
    if (outcome !== 'up' && (server.exitCode !== null || server.signalCode !== null)) break;
    if (outcome !== 'up') await new Promise((r) => setTimeout(r, 500));
  }
  if (outcome !== 'up') throw new Error(`Cannot start the private RabbitMQ node ${name}: ${outcome.message.slice(0, 2000)}\n${output}`);
  return { name, tlsPort, logDir: join(dir, 'log'), bootMs: Date.now() - started, ctl: (args) => ctl(args) };
}
