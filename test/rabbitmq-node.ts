// A private RabbitMQ node for the tests that need the broker configured in a way
// the shared one is not (TLS listeners, x509 EXTERNAL login): started as root from
// the installed RabbitMQ with an environment of its own (node name, ports, config
// file, enabled plugins, Mnesia and log directories, HOME for its Erlang cookie,
// all in a directory of its own), so the system broker that other tests use is
// neither reconfigured nor restarted. Certificates are made with openssl at test
// time. The node is stopped (rabbitmqctl stop, then its process group killed if it
// lingers) when the test ends, and its directory removed after that.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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
  /** The node's own directory (removed after the node stopped): configuration, Mnesia, logs, and the test's certificates. */
  dir: string;
  name: string;
  /** Starts the node with `config` as its rabbitmq.conf (`{tlsPort}` replaced by its TLS port) and `plugins` enabled. */
  start(config: string, plugins: string[]): Promise<void>;
  /** The TLS listener's port. */
  tlsPort: number;
  /** Milliseconds from start to the node answering await_startup. */
  bootMs: number;
  /** rabbitmqctl against this node; rejects with its output on failure. */
  ctl(args: string[]): Promise<string>;
}

/**
 * A private node's own directory, and the after-hook that stops the node and only
 * then removes the directory (rabbitmqctl needs the node's HOME, its Erlang cookie,
 * to stop it). start() starts it.
 */
export async function privateNode(t: TestContext): Promise<PrivateNode> {
  const dir = mkdtempSync(join(tmpdir(), 'reprove-rabbitmq-'));
  const [tlsPort, nodePort, distPort] = [await freePort(), await freePort(), await freePort()];
  const name = `reprove-tls-${process.pid}@localhost`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'), // its own Erlang cookie, shared by rabbitmqctl below
    ERL_CRASH_DUMP_SECONDS: '0', // a CLI or node that fails writes no erl_crash.dump into the working directory
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
      execFile(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', name, ...args], { env, cwd: dir, timeout: timeoutMs }, (e, out, err) => (e ? reject(new Error(`Cannot run rabbitmqctl ${args[0]} on ${name}: ${e.message}\n${out}${err}`)) : resolve(out))),
    );
  let server: ChildProcess | null = null;
  let exited: Promise<number | null> = Promise.resolve(null);
  t.after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      await ctl(['stop'], 20_000).catch(() => undefined);
      if (!(await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]))) {
        try {
          process.kill(-server.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  });
  const node: PrivateNode = {
    dir,
    name,
    tlsPort,
    bootMs: 0,
    ctl: (args) => ctl(args),
    async start(config, plugins) {
      for (const d of ['mnesia', 'log', 'home', 'plugins-expand']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'rabbitmq.conf'), config.replaceAll('{tlsPort}', String(tlsPort)));
      writeFileSync(join(dir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
      const started = Date.now();
      // Its own process group: the node (erl, beam.smp and its helpers) is stopped as a whole.
      const child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], { env, cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      server = child;
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
      child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
      exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      // await_startup waits for a node that epmd knows, and fails at once before that: asked again until a deadline.
      const deadline = started + 50_000;
      let outcome: 'up' | Error = new Error('not up yet');
      while (outcome !== 'up' && Date.now() < deadline) {
        const up = ctl(['await_startup', '--timeout', String(Math.max(1, Math.round((deadline - Date.now()) / 1000)))], 55_000);
        outcome = await Promise.race([up.then(() => 'up' as const, (e: Error) => e), exited.then((code) => new Error(`the node exited with status ${code} while starting`))]);
        if (outcome !== 'up' && (child.exitCode !== null || child.signalCode !== null)) break;
        if (outcome !== 'up') await new Promise((r) => setTimeout(r, 500));
      }
      if (outcome !== 'up') throw new Error(`Cannot start the private RabbitMQ node ${name}: ${outcome.message.slice(0, 2000)}\n${output}`);
      node.bootMs = Date.now() - started;
    },
  };
  return node;
}
