// What the source tests share: a static HTTP server over a directory (the
// "mirror"), a daemon started in this process from a config file, and a small
// tar writer for databases with hostile entries that no real tool would write.
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import type { TestContext } from 'node:test';
import { CLI } from './helpers.js';
import { loadConfig } from '../src/server/config.js';
import { type Daemon, startDaemon } from '../src/server/daemon.js';

/** Serves `root` read-only on 127.0.0.1; `hits` counts requests per path. */
export async function serveDirectory(t: TestContext, root: string): Promise<{ url: string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = join(root, normalize(path).replace(/^(\.\.(\/|$))+/, ''));
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

/** A daemon in this process, configured by a config file holding `file`; its log lines collected. */
export async function daemonWith(t: TestContext, dir: string, file: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<{ daemon: Daemon; logs: string[] }> {
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'reprove.json');
  writeFileSync(configPath, JSON.stringify(file));
  const config = loadConfig({ config: configPath, dataDir: join(dir, 'data'), listen: '127.0.0.1:0', adminToken: 'test-admin-token-0123456789' }, env);
  const logs: string[] = [];
  const daemon = await startDaemon(config, { log: (l) => logs.push(l) });
  t.after(() => daemon.close());
  return { daemon, logs };
}

/** One tar entry: a name (string or raw bytes), content, type flag. */
export interface RawEntry {
  name: string | Buffer;
  data: Buffer | string;
  type?: string;
}

/** A ustar header block (checksum filled in); also the sources bench's, for its generated databases. */
export function tarHeader(name: Buffer, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** The data padded to whole 512-byte blocks. */
export const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A tar archive of these entries (names over 100 bytes as GNU long names). */
export function tarOf(entries: RawEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    if (name.length > 100) {
      out.push(tarHeader(Buffer.from('././@LongLink'), name.length + 1, 'L'), pad(Buffer.concat([name, Buffer.from([0])])));
    }
    out.push(tarHeader(name, data.length, e.type ?? '0'), pad(data));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/** An Arch `desc` file. */
export function descOf(f: { filename: string; name: string; base?: string; version: string; arch?: string; sha256: string; csize?: number; packager?: string }): string {
  const lines = [
    ['FILENAME', f.filename],
    ['NAME', f.name],
    ['BASE', f.base ?? f.name],
    ['VERSION', f.version],
    ['CSIZE', String(f.csize ?? 1000)],
    ['SHA256SUM', f.sha256],
    ['ARCH', f.arch ?? 'x86_64'],
    ['PACKAGER', f.packager ?? 'Arch Dev <dev@archlinux.org>'],
  ];
  return lines.map(([k, v]) => `%${k}%\n${v}\n`).join('\n') + '\n';
}

export function writeFileIn(dir: string, name: string, data: Buffer | string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** Runs the reprove command without blocking this process (whose daemon it may talk to). */
export function reproveAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
