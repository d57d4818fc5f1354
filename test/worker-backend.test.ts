// The command backend and the worker's fetch on real inputs: a source tarball is
// fetched (digest checked), unpacked and built by a recipe into a real tarball;
// hostile sources and wrong digests are refused and leave nothing behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { ClaimedJob } from '../src/api/schemas.js';
import type { BuildOutcome } from '../src/rebuild/backend.js';
import { commandBackend } from '../src/rebuild/backends/command.js';
import { backendNamed } from '../src/rebuild/backends/registry.js';
import { LogSink } from '../src/rebuild/log-sink.js';
import { FetchError, fetchVerified } from '../src/worker/fetch.js';
import { sh, workdir } from './helpers.js';
import { claimedJob } from './rebuild-fixtures.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function build(t: TestContext, recipe: unknown, extra: Partial<ClaimedJob> = {}): Promise<{ outcome: BuildOutcome; dir: string; log: string }> {
  const dir = workdir(t);
  for (const d of ['work', 'out']) mkdirSync(join(dir, d));
  const log = new LogSink(join(dir, 'build.log'), 1 << 20);
  const outcome = await commandBackend.build({
    job: claimedJob(recipe, extra),
    workDir: join(dir, 'work'),
    outDir: join(dir, 'out'),
    log,
    signal: new AbortController().signal,
    limits: { timeoutMs: 60_000 },
    fetch: (url, sha, dest, what) => fetchVerified(url, sha, dest, what, { allowFileUrls: true }).then(() => undefined),
  });
  await log.close();
  return { outcome, dir, log: readFileSync(join(dir, 'build.log'), 'utf8') };
}

/** hello-1.0.tar.gz with a top directory, and the recipe that builds a reproducible tarball from it. */
export function helloSource(dir: string): { url: string; sha256: string } {
  sh(dir, `mkdir -p src/hello-1.0 && printf 'echo hello\\n' > src/hello-1.0/hello.sh && printf 'a readme\\n' > src/hello-1.0/README && tar -C src -czf hello-1.0.tar.gz hello-1.0`);
  const path = join(dir, 'hello-1.0.tar.gz');
  return { url: pathToFileURL(path).href, sha256: sha256(path) };
}

export const TARBALL_SCRIPT = 'test -f hello.sh; tar --sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner -cf "$OUT/$PACKAGE-$VERSION.tar" .; echo "built $PACKAGE $VERSION for $ARCH in $PWD"';

test('the command backend fetches a source, unpacks it and builds a real tarball from a recipe', async (t) => {
  const src = workdir(t);
  const source = helloSource(src);
  const { outcome, dir, log } = await build(t, { script: TARBALL_SCRIPT, source: { ...source, strip: 1 }, sourceDateEpoch: 1700000000 });
  assert.equal(outcome.status, 'built', log);
  if (outcome.status !== 'built') return;
  assert.deepEqual(outcome.artifacts, [join(dir, 'out', 'hello-1.0.tar')]);
  assert.equal(outcome.exitCode, 0);
  const listing = sh(dir, 'tar -tvf out/hello-1.0.tar');
  assert.match(listing, /\.\/hello\.sh/);
  assert.match(listing, /2023-11-14/);
  assert.match(log, /built hello 1\.0 for x86_64 in .*\/work\/build\/hello-1\.0\n/);
  assert.deepEqual(outcome.environment.reproduced, ['SOURCE_DATE_EPOCH=1700000000 (from the recipe)']);
  assert.match(outcome.environment.notReproduced[0]!, /recreates none of it/);
});

test('the recipe gets package data only through its environment, never as shell text', async (t) => {
  const { outcome, dir } = await build(t, { script: 'printf "%s" "$VERSION" > "$OUT/version"' }, { version: '1.0;touch${IFS}pwned' });
  // The version is refused as a directory name before anything runs...
  assert.equal(outcome.status, 'failed');
  assert.equal(readdirSync(join(dir, 'out')).length, 0);
  // ...and a plain one reaches the script as a variable.
  const ok = await build(t, { script: 'printf "%s" "$VERSION" > "$OUT/version"' }, { version: '2:1.0-1' });
  assert.equal(ok.outcome.status, 'built');
  assert.equal(readFileSync(join(ok.dir, 'out', 'version'), 'utf8'), '2:1.0-1');
});

test('a failing recipe is FTBFS with its exit code; an empty $OUT and symbolic links are refused', async (t) => {
  const failing = await build(t, { script: 'echo compiling; exit 3' });
  assert.equal(failing.outcome.status, 'failed');
  if (failing.outcome.status === 'failed') {
    assert.equal(failing.outcome.failureClass, 'ftbfs');
    assert.equal(failing.outcome.exitCode, 3);
    assert.match(failing.outcome.message, /the build of hello 1\.0 \(job 7\) exited with code 3/);
  }
  const empty = await build(t, { script: 'true' });
  assert.ok(empty.outcome.status === 'failed' && /left no file in \$OUT/.test(empty.outcome.message));
  const link = await build(t, { script: 'ln -s /etc/passwd "$OUT/passwd"' });
  assert.ok(link.outcome.status === 'failed' && /\$OUT\/passwd is a symbolic link/.test(link.outcome.message));
  const bad = await build(t, { source: 'x' });
  assert.ok(bad.outcome.status === 'failed' && /recipe\.script is not a non-empty string/.test(bad.outcome.message));
});

for (const [kind, make] of [
  ['a "../x" member', 'mkdir -p a/b && echo evil > a/x && cd a/b && tar -P -cf ../../evil.tar ../x'],
  ['an absolute member', 'mkdir -p abs && echo evil > abs/x && tar -P -cf evil.tar "$PWD/abs/x"'],
] as const) {
  test(`a source tar with ${kind} is refused before anything is unpacked`, async (t) => {
    const src = workdir(t);
    sh(src, make);
    const tarPath = join(src, 'evil.tar');
    const { outcome, dir, log } = await build(t, { script: 'touch "$OUT/built"', source: { url: pathToFileURL(tarPath).href, sha256: sha256(tarPath) } });
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.failureClass, 'ftbfs');
    assert.match(outcome.message, /Cannot unpack the source of hello 1\.0 \(job 7\): member ".*x" is (a path with "\.\."|an absolute path)/);
    assert.match(log, /refused the source/);
    assert.deepEqual(readdirSync(join(dir, 'work', 'build', 'hello-1.0')), [], 'nothing unpacked');
    assert.ok(!existsSync(join(dir, 'work', 'x')) && !existsSync(join(dir, 'x')));
    assert.equal(readdirSync(join(dir, 'out')).length, 0, 'the script never ran');
  });
}

test('a source whose digest does not match is an infrastructure failure naming it, and the script never runs', async (t) => {
  const src = workdir(t);
  const source = helloSource(src);
  const { outcome, dir } = await build(t, { script: 'touch "$OUT/built"', source: { url: source.url, sha256: '0'.repeat(64) } });
  assert.ok(outcome.status === 'failed');
  if (outcome.status !== 'failed') return;
  assert.equal(outcome.failureClass, 'infrastructure');
  assert.match(outcome.message, /^Cannot fetch the source of hello 1\.0 \(job 7\) from file:.*: SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}/);
  assert.deepEqual(readdirSync(join(dir, 'work')).filter((f) => f.startsWith('source')), []);
  assert.equal(readdirSync(join(dir, 'out')).length, 0);
});

test('fetch refuses a wrong digest over HTTP and leaves no file, partial or whole', async (t) => {
  const dir = workdir(t);
  const body = Buffer.alloc(3 << 20, 'x');
  const server = createServer((req, res) => {
    if (req.url === '/missing') return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const good = createHash('sha256').update(body).digest('hex');
  const dest = join(dir, 'artifact.bin');
  await assert.rejects(fetchVerified(`${base}/a`, 'f'.repeat(64), dest, 'published artifact a.bin of hello 1.0 (job 7)'), (e: unknown) => {
    assert.ok(e instanceof FetchError);
    assert.match(e.message, /^Cannot fetch published artifact a\.bin of hello 1\.0 \(job 7\) from http:.*\/a: SHA-256 mismatch/);
    return true;
  });
  assert.deepEqual(readdirSync(dir), []);
  await assert.rejects(fetchVerified(`${base}/a`, good, dest, 'a', { maxBytes: 1 << 20 }), /larger than the cap of 1048576 bytes/);
  await assert.rejects(fetchVerified(`${base}/missing`, good, dest, 'a'), /HTTP 404/);
  assert.deepEqual(readdirSync(dir), []);
  assert.deepEqual(await fetchVerified(`${base}/a`, good, dest, 'a'), { bytes: body.length });
  assert.equal(sha256(dest), good);
});

test('fetch stops an HTTP answer without a length once it passes the cap, and leaves no file', async (t) => {
  const dir = workdir(t);
  const chunk = Buffer.alloc(256 << 10, 'y');
  // Chunked transfer: no content-length to refuse up front, so the streaming cap has to.
  const server = createServer((_req, res) => {
    res.writeHead(200);
    for (let i = 0; i < 8; i++) res.write(chunk);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
  await assert.rejects(fetchVerified(url, 'f'.repeat(64), join(dir, 'big.bin'), 'the source of big 1.0 (job 9)', { maxBytes: 1 << 20 }), (e: unknown) => {
    assert.ok(e instanceof FetchError);
    assert.match(e.message, /^Cannot fetch the source of big 1\.0 \(job 9\) from http:.*\/big: larger than the cap of 1048576 bytes$/);
    return true;
  });
  assert.deepEqual(readdirSync(dir), []);
});

test('file:// inputs are read only where the worker allows them', async (t) => {
  const dir = workdir(t);
  writeFileSync(join(dir, 'in'), 'data');
  const url = pathToFileURL(join(dir, 'in')).href;
  const sum = sha256(join(dir, 'in'));
  await assert.rejects(fetchVerified(url, sum, join(dir, 'out'), 'the source'), /file:\/\/ URLs are not allowed on this worker/);
  await fetchVerified(url, sum, join(dir, 'out'), 'the source', { allowFileUrls: true });
  assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'data');
  await assert.rejects(fetchVerified('ftp://example.org/x', sum, join(dir, 'x'), 'the source'), /unsupported URL scheme ftp:/);
});

test('the registry names the command backend, available where bash and tar are', async () => {
  assert.equal(backendNamed('command'), commandBackend);
  assert.equal(backendNamed('mock'), undefined);
  assert.equal(await commandBackend.available(), true);
});
