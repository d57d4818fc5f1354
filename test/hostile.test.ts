// Hostile input: truncated and garbled archives, traversal names, symlink loops,
// decompression bombs and deep nesting. Each gets a clear message, bounded work,
// and leaves nothing behind outside reprove's temporary directory.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { CLI, reprove, reproveJson, sh, workdir, type JsonNode } from './helpers.js';

function allComments(d: JsonNode | null): string[] {
  if (!d) return [];
  return [...(d.comments ?? []), ...(d.details ?? []).flatMap(allComments)];
}

/** Runs the CLI with its temporary directory inside `tmp`, so leftovers can be seen. */
function reproveIn(tmp: string, args: string[]) {
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, REPROVE_TMPDIR: tmp } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, leftovers: readdirSync(tmp) };
}

function assertNoCrash(r: { code: number | null; stderr: string }): void {
  assert.ok(r.code === 1 || r.code === 2, `exit status ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('a truncated tar.gz is reported with the decompressor error and the binary difference', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && seq 1 50000 > t/f && tar -czf a.tar.gz -C t . && head -c 20000 a.tar.gz > b.tar.gz`);
  const { code, json, stderr } = reproveJson(`${d}/a.tar.gz`, `${d}/b.tar.gz`);
  assert.equal(code, 1, stderr);
  assert.ok(allComments(json).some((c) => /Cannot compare as gzip: .*(unexpected end|Unexpected end)/i.test(c)), allComments(json).join('\n'));
});

test('a tar with a garbled header says which offset is wrong and shows the bytes', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && printf 'x\\n' > t/f && tar -cf a.tar -C t . && cp a.tar b.tar && printf 'ZZZZ' | dd of=b.tar bs=1 seek=600 conv=notrunc status=none`);
  const { code, json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  assert.equal(code, 1);
  const comments = allComments(json);
  assert.ok(comments.some((c) => /Cannot compare as tar: Cannot read tar header at offset 512 of \S*b\.tar: checksum mismatch/.test(c)), comments.join('\n'));
  assert.ok(json!.unified_diff!.includes('5a5a 5a5a'));
});

test('a tar member whose size runs past the end is a truncation error, not a crash', (t) => {
  const d = workdir(t);
  sh(d, `mkdir t && seq 1 3000 > t/f && tar --format=ustar -cf a.tar -C t f && head -c 5000 a.tar > b.tar`);
  const { code, json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  assert.equal(code, 1);
  assert.ok(allComments(json).some((c) => /run past the end of the archive/.test(c)));
});

test('member names with ../ or an absolute path are reported and never written anywhere', (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p t/sub && printf 'one\\n' > t/evil && printf 'two\\n' > t/abs`);
  // GNU tar's --transform writes such names as they are.
  sh(d, `cd t && tar --format=gnu -P --transform='s,^evil,../../evil,;s,^abs,/tmp/reprove-abs-test,' -cf ../a.tar evil abs && printf 'three\\n' > evil && tar --format=gnu -P --transform='s,^evil,../../evil,;s,^abs,/tmp/reprove-abs-test,' -cf ../b.tar evil abs`);
  const r = reproveIn(join(d, 'tmp'), ['diff', '--json', '-', join(d, 'a.tar'), join(d, 'b.tar')]);
  assert.equal(r.code, 1);
  const comments = allComments(JSON.parse(r.stdout) as JsonNode);
  assert.ok(comments.some((c) => c.includes('"../../evil" is absolute or contains ".."')), comments.join('\n'));
  assert.ok(comments.some((c) => c.includes('"/tmp/reprove-abs-test" is absolute')));
  assert.equal(existsSync('/tmp/reprove-abs-test'), false);
  assert.equal(existsSync(join(d, '..', 'evil')), false);
  assert.deepEqual(r.leftovers, []);
});

test('symlink loops in directories are listed as links, not followed', (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p a/x b/x && ln -s loop a/x/loop && ln -s loop b/x/loop && ln -s .. a/x/up && ln -s ../.. b/x/up && printf 1 > a/f && printf 2 > b/f`);
  const { code, json } = reproveJson(`${d}/a`, `${d}/b`);
  assert.equal(code, 1);
  const text = JSON.stringify(json);
  assert.match(text, /x\/up -> \.\.\/\.\./);
});

const BOMBS: [string, string][] = [
  ['gzip', 'gzip -1'],
  ['xz', 'xz -0 -T1'],
  ['zstd', 'zstd -q -1'],
  ['bzip2', 'bzip2 -1'],
];

for (const [name, cmd] of BOMBS) {
  test(`a ${name} bomb stops at --max-decompressed-size with a message`, (t) => {
    const d = workdir(t);
    sh(d, `head -c 200M /dev/zero | ${cmd} > a.bomb && (head -c 200M /dev/zero; printf x) | ${cmd} > b.bomb`);
    const r = reproveIn(join(d, 'tmp'), ['diff', '--json', '-', '--max-decompressed-size', '16M', join(d, 'a.bomb'), join(d, 'b.bomb')]);
    assertNoCrash(r);
    assert.equal(r.code, 1);
    const comments = allComments(JSON.parse(r.stdout) as JsonNode);
    assert.ok(comments.some((c) => /Decompressed size passed 16777216 bytes \(limit maxDecompressedSize, --max-decompressed-size\); stopped as a possible decompression bomb/.test(c)), comments.join('\n'));
    assert.deepEqual(r.leftovers, []);
  });
}

test('a high decompression ratio stops at --max-ratio', (t) => {
  const d = workdir(t);
  sh(d, `head -c 300M /dev/zero | zstd -q -1 > a.zst && (head -c 300M /dev/zero; printf x) | zstd -q -1 > b.zst`);
  const r = reprove(['diff', '--json', '-', '--max-ratio', '100', `${d}/a.zst`, `${d}/b.zst`]);
  assertNoCrash(r);
  assert.match(r.stdout, /Decompression ratio passed 100:1/);
});

test('10 000 levels of gzip inside gzip stop at the depth limit', (t) => {
  const d = workdir(t);
  let a = Buffer.from('a\n');
  let b = Buffer.from('b\n');
  // Stored (level 0) deflate keeps making 10 000 levels cheap.
  for (let i = 0; i < 10_000; i++) {
    a = gzipSync(a, { level: 0 });
    b = gzipSync(b, { level: 0 });
  }
  writeFileSync(join(d, 'a.gz'), a);
  writeFileSync(join(d, 'b.gz'), b);
  const r = reproveIn(join(d, 'tmp'), ['diff', '--json', '-', join(d, 'a.gz'), join(d, 'b.gz')]);
  assertNoCrash(r);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /Nesting deeper than 50 levels \(limit maxDepth, --max-depth\); compared as binary/);
  assert.deepEqual(r.leftovers, []);
});

test('deeply nested directories stop at the depth limit', (t) => {
  const d = workdir(t);
  const deep = Array.from({ length: 80 }, () => 'd').join('/');
  sh(d, `mkdir -p a/${deep} b/${deep} && printf 1 > a/${deep}/f && printf 2 > b/${deep}/f`);
  const r = reprove(['diff', '--json', '-', `${d}/a`, `${d}/b`]);
  assertNoCrash(r);
  assert.match(r.stdout, /Directory nesting deeper than 50/);
});

test('JSON nested 100 000 deep is compared as text without a crash', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.json'), '['.repeat(100_000) + ']'.repeat(100_000) + '\n');
  writeFileSync(join(d, 'b.json'), '['.repeat(100_000) + '1' + ']'.repeat(100_000) + '\n');
  const r = reprove(['diff', '--json', '-', `${d}/a.json`, `${d}/b.json`]);
  assertNoCrash(r);
  assert.equal(r.code, 1);
});

test('a missing input is a one-line error with exit status 2', (t) => {
  const d = workdir(t);
  const r = reprove(['diff', `${d}/nope`, `${d}/nope2`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^reprove: error: Cannot read input: .*nope/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('bad flag values are a usage error with exit status 2', () => {
  const r = reprove(['diff', '--max-report-size', 'lots', 'a', 'b']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--max-report-size takes a size/);
});
