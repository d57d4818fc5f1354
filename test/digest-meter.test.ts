// The meter shared by the blob store's uploads and the worker's fetches: on a real
// file streamed to disk it counts and hashes exactly what `sha256sum` and `stat`
// see, and past its cap it stops the pipeline with an error naming the stream.
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { DigestMeter, OverCapError } from '../src/compare/digest-meter.js';
import { sh, workdir } from './helpers.js';

/** A file of `bytes` random bytes, and its SHA-256 as sha256sum prints it. */
function randomFile(dir: string, name: string, bytes: number): { path: string; sha256: string } {
  const path = join(dir, name);
  const sum = sh(dir, `head -c ${bytes} /dev/urandom > ${name} && sha256sum ${name}`);
  return { path, sha256: sum.split(' ')[0]! };
}

test('a file streamed through the meter is counted and hashed as sha256sum sees it, and passes unchanged', async (t) => {
  const dir = workdir(t);
  // Several read chunks (64 KiB each) and a ragged end.
  const input = randomFile(dir, 'in.bin', 5 * 65536 + 123);
  const meter = new DigestMeter('in.bin', statSync(input.path).size);
  await pipeline(createReadStream(input.path), meter, createWriteStream(join(dir, 'out.bin')));
  assert.equal(meter.bytes, 5 * 65536 + 123);
  assert.equal(meter.sha256(), input.sha256);
  assert.equal(meter.sha256(), input.sha256, 'asked twice, the same digest');
  assert.ok(readFileSync(join(dir, 'out.bin')).equals(readFileSync(input.path)));
});

test('a file longer than the cap stops the pipeline with an OverCapError naming the stream and the cap', async (t) => {
  const dir = workdir(t);
  const input = randomFile(dir, 'big.bin', 300_000);
  const meter = new DigestMeter('the published artifact big.bin', 200_000);
  await assert.rejects(pipeline(createReadStream(input.path), meter, createWriteStream(join(dir, 'out.bin'))), (e: unknown) => {
    assert.ok(e instanceof OverCapError);
    assert.equal(e.message, 'Cannot read the published artifact big.bin: more than its cap of 200000 bytes');
    assert.equal(e.what, 'the published artifact big.bin');
    assert.equal(e.maxBytes, 200_000);
    return true;
  });
  assert.ok(statSync(join(dir, 'out.bin')).size <= 200_000, 'nothing past the cap went downstream');
});

test('a file of exactly the cap passes', async (t) => {
  const dir = workdir(t);
  const input = randomFile(dir, 'edge.bin', 200_000);
  const meter = new DigestMeter('edge.bin', 200_000);
  await pipeline(createReadStream(input.path), meter, createWriteStream(join(dir, 'out.bin')));
  assert.deepEqual([meter.bytes, meter.sha256()], [200_000, input.sha256]);
});
