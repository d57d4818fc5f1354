// The blob store and the log cap: content addressed, compressed, stored once,
// hash-checked while streaming with nothing kept on a mismatch or over the cap,
// names that cannot leave the directory, and logs that keep head and tail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { BlobStore, InvalidInputError, NotFoundError, TooLargeError } from '../src/store/index.js';
import { LogCap } from '../src/store/log-cap.js';
import { workdir } from './helpers.js';

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Every file below `dir`, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

test('a blob is stored once under the SHA-256 of its content, zstd-compressed, and read back whole', async (t) => {
  const dir = workdir(t);
  const blobs = new BlobStore(dir);
  const content = Buffer.from('the same build log line\n'.repeat(10_000));
  const first = await blobs.putStream(Readable.from([content.subarray(0, 1000), content.subarray(1000)]), { expectedSha256: sha(content) });
  const second = await blobs.putBuffer(content);
  assert.deepEqual([first.sha256, first.size, first.created, second.sha256, second.created], [sha(content), content.length, true, sha(content), false]);
  const h = sha(content);
  assert.deepEqual(files(dir), [`${h.slice(0, 2)}/${h.slice(2)}`]);
  const onDisk = readFileSync(join(dir, h.slice(0, 2), h.slice(2)));
  assert.deepEqual([...onDisk.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'a zstd frame');
  assert.ok(onDisk.length < content.length / 20);
  assert.ok(await blobs.has(h));
  assert.deepEqual(await blobs.getBuffer(h), content);
});

test('an upload whose hash is not the expected one is refused and nothing is kept', async (t) => {
  const dir = workdir(t);
  const blobs = new BlobStore(dir);
  await assert.rejects(blobs.putBuffer('rebuilt artifact', { expectedSha256: sha('another artifact') }), (e: unknown) => e instanceof InvalidInputError && /not the expected/.test(e.message));
  assert.deepEqual(files(dir), []);
  assert.equal(await blobs.has(sha('rebuilt artifact')), false);
});

test('an upload over the cap is refused with TooLargeError and nothing is kept', async (t) => {
  const dir = workdir(t);
  const blobs = new BlobStore(dir, 1000);
  const chunks = Array.from({ length: 10 }, () => Buffer.alloc(200, 1));
  await assert.rejects(blobs.putStream(Readable.from(chunks)), TooLargeError);
  assert.deepEqual(files(dir), []);
  assert.equal((await blobs.putBuffer(Buffer.alloc(1000, 1))).size, 1000, 'at the cap is fine');
});

test('a blob name that is not 64 hex characters is refused before it touches a path', async (t) => {
  const blobs = new BlobStore(workdir(t));
  for (const name of ['../../../etc/passwd', `${'a'.repeat(62)}/x`, 'A'.repeat(63), '', `..${'a'.repeat(62)}`]) {
    await assert.rejects(blobs.get(name), InvalidInputError, name);
    await assert.rejects(blobs.has(name), InvalidInputError, name);
  }
  await assert.rejects(blobs.putBuffer('x', { expectedSha256: '../x' }), InvalidInputError);
  await assert.rejects(blobs.get('ab'.repeat(32)), NotFoundError);
  assert.equal(await blobs.has('AB'.repeat(32)), false, 'upper case is the same hash, lowered');
});

test('a log over its cap keeps its head and its tail and says how many bytes were cut; the upload hash is that of the whole log', async (t) => {
  const blobs = new BlobStore(workdir(t));
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`);
  const whole = lines.join('');
  const stored = await blobs.putLog(Readable.from(lines.map((l) => Buffer.from(l))), { headBytes: 100, tailBytes: 200 }, { expectedSha256: sha(whole) });
  const kept = (await blobs.getBuffer(stored.sha256)).toString();
  const cut = whole.length - 300;
  assert.equal(stored.cutBytes, cut);
  assert.equal(stored.originalSize, whole.length);
  assert.equal(kept, `${whole.slice(0, 100)}\n[reprove: ${cut} bytes of this log were cut here; it was ${whole.length} bytes long]\n${whole.slice(-200)}`);
  assert.equal(stored.sha256, sha(kept));
  const short = await blobs.putLog(['short log\n'].map((s) => Buffer.from(s)), { headBytes: 100, tailBytes: 200 });
  assert.equal((await blobs.getBuffer(short.sha256)).toString(), 'short log\n');
  assert.equal(short.cutBytes, 0);
  await assert.rejects(blobs.putLog([Buffer.from(whole)], { headBytes: 10, tailBytes: 10 }, { expectedSha256: sha('other') }), InvalidInputError);
});

test('the log cap gives the same head and tail however the stream is cut into chunks', () =>
  fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 20 }), fc.nat(500), fc.nat(500), async (data, cuts, headBytes, tailBytes) => {
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let at = 0;
      for (const p of [...points, data.length]) {
        if (p > at) chunks.push(Buffer.from(data.subarray(at, p)));
        at = Math.max(at, p);
      }
      const cap = new LogCap({ headBytes, tailBytes });
      const out: Buffer[] = [];
      await pipeline(Readable.from(chunks), cap, async (source: AsyncIterable<Buffer>) => {
        for await (const c of source) out.push(c);
      });
      const got = Buffer.concat(out);
      const whole = Buffer.from(data);
      if (whole.length <= headBytes + tailBytes) {
        assert.deepEqual(got, whole);
      } else {
        const cut = whole.length - headBytes - tailBytes;
        const marker = Buffer.from(`\n[reprove: ${cut} bytes of this log were cut here; it was ${whole.length} bytes long]\n`);
        assert.deepEqual(got, Buffer.concat([whole.subarray(0, headBytes), marker, whole.subarray(whole.length - tailBytes)]));
      }
    }),
    { numRuns: 300 },
  ));

test('a 256 MiB log streams through the cap into a blob of head and tail', async (t) => {
  const blobs = new BlobStore(workdir(t));
  const chunk = Buffer.alloc(1 << 20, 'x');
  async function* huge(): AsyncGenerator<Buffer> {
    for (let i = 0; i < 256; i++) yield chunk;
    yield Buffer.from('the end\n');
  }
  const stored = await blobs.putLog(huge(), { headBytes: 1 << 16, tailBytes: 1 << 16 });
  assert.equal(stored.originalSize, 256 * (1 << 20) + 8);
  assert.ok(stored.size < (1 << 17) + 200);
  assert.match((await blobs.getBuffer(stored.sha256)).toString().slice(-20), /xxxthe end\n$/);
});
