// The `reprove diff` command line: output formats and their files, limits on
// diff blocks and report size, renames by content, encodings, exit status.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { find, memberPaths, reprove, reproveJson, sh, workdir } from './helpers.js';

test('--text, --json, --markdown and --html write their files; text is on stdout only when no file is asked for', (t) => {
  const d = workdir(t);
  sh(d, `printf 'one\\ntwo\\n' > a.txt && printf 'one\\nthree\\n' > b.txt`);
  const plain = reprove(['diff', `${d}/a.txt`, `${d}/b.txt`]);
  assert.equal(plain.code, 1);
  assert.equal(plain.stdout, `--- ${d}/a.txt\n+++ ${d}/b.txt\n│┄ not explained by any known cause: ${d}/a.txt: -two / +three\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n`);
  const r = reprove(['diff', '--text', `${d}/r.txt`, '--json', `${d}/r.json`, '--markdown', `${d}/r.md`, '--html', `${d}/r.html`, `${d}/a.txt`, `${d}/b.txt`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(readFileSync(`${d}/r.txt`, 'utf8'), plain.stdout);
  const json = JSON.parse(readFileSync(`${d}/r.json`, 'utf8')) as Record<string, unknown>;
  // diffoscope's keys, in diffoscope's order, before reprove's own.
  assert.deepEqual(Object.keys(json).slice(0, 4), ['diffoscope-json-version', 'source1', 'source2', 'unified_diff']);
  assert.equal(json['unified_diff'], '@@ -1,2 +1,2 @@\n one\n-two\n+three\n');
  const md = readFileSync(`${d}/r.md`, 'utf8');
  assert.match(md, /^# .*a\.txt vs .*b\.txt\n/);
  assert.match(md, /```diff\n@@ -1,2 \+1,2 @@\n one\n-two\n\+three\n```/);
  assert.match(readFileSync(`${d}/r.html`, 'utf8'), /^<!doctype html>/);
});

test('--max-diff-block-lines cuts long blocks and says how many lines it removed', (t) => {
  const d = workdir(t);
  sh(d, `seq 1 100 > a.txt && seq 1 100 | sed 's/$/x/' > b.txt`);
  const { json } = reproveJson(`${d}/a.txt`, `${d}/b.txt`, ['--max-diff-block-lines', '10']);
  const diff = json!.unified_diff!;
  assert.match(diff, /^-10\n-\[ 90 lines removed \]\n\+1x\n/m);
  assert.match(diff, /\+\[ 90 lines removed \]\n$/);
  assert.ok(json!.comments!.some((c) => /180 lines removed from diff blocks longer than 10 lines/.test(c)));
});

test('--max-report-size drops later diffs with a note, and the differences are still all listed', (t) => {
  const d = workdir(t);
  sh(d, `mkdir a b && for i in 1 2 3 4 5 6; do seq 1 400 > a/f$i.txt; seq 1 400 | sed 's/$/x/' > b/f$i.txt; done`);
  const { code, json } = reproveJson(`${d}/a`, `${d}/b`, ['--max-report-size', '8K']);
  assert.equal(code, 1);
  const files = ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'f6.txt'];
  for (const f of files) assert.ok(find(json, f), `${f} is listed`);
  const dropped = files.filter((f) => find(json, f)!.comments?.some((c) => /report size limit reached \(--max-report-size\)/.test(c)));
  assert.ok(dropped.length > 0 && dropped.length < files.length, `dropped: ${dropped.join()}`);
  assert.ok(json!.comments!.some((c) => /Report size limit of 8192 bytes reached/.test(c)));
});

test('a renamed member is paired by content and reported as a rename; --fuzzy-threshold 0 turns that off', (t) => {
  const d = workdir(t);
  sh(d, `mkdir a b && seq 1 500 > a/old-name.txt && seq 1 500 | sed 's/^250$/changed/' > b/new-name.txt && seq 1 20 > a/same && cp a/same b/same`);
  sh(d, `tar --mtime=@0 -cf a.tar -C a . && tar --mtime=@0 -cf b.tar -C b .`);
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  const renamed = find(json, './old-name.txt')!;
  assert.equal(renamed.source2, './new-name.txt');
  assert.match(renamed.comments![0]!, /^Files \d+% similar despite different names$/);
  assert.match(renamed.unified_diff!, /-250\n\+changed/);
  const off = reproveJson(`${d}/a.tar`, `${d}/b.tar`, ['--fuzzy-threshold', '0']).json;
  assert.deepEqual([...memberPaths(off)], []);
});

test('members renamed by a version bump are paired by name even when their bytes share nothing; ambiguous names are not', (t) => {
  const d = workdir(t);
  // Unrelated random bytes under each versioned name: no content similarity to pair them by.
  sh(d, `mkdir -p a/lib b/lib && head -c 4096 /dev/urandom > a/lib/libfoo-1.2.3.so && head -c 4096 /dev/urandom > b/lib/libfoo-1.2.4.so`);
  sh(d, `head -c 999 /dev/urandom > a/lib/x-1.txt && head -c 999 /dev/urandom > a/lib/x-2.txt && head -c 999 /dev/urandom > b/lib/x-3.txt`);
  sh(d, `tar --mtime=@0 -cf a.tar -C a . && tar --mtime=@0 -cf b.tar -C b .`);
  for (const [x, y] of [['a', 'b'], ['b', 'a']]) {
    const { json } = reproveJson(`${d}/${x}.tar`, `${d}/${y}.tar`);
    const lib = find(json, `./lib/libfoo-1.2.${x === 'a' ? 3 : 4}.so`)!;
    assert.equal(lib.source2, `./lib/libfoo-1.2.${x === 'a' ? 4 : 3}.so`);
    assert.deepEqual(lib.comments, ['Files with the same name but for version numbers']);
    // x-1, x-2 and x-3 share a stem, but two of them are on one side: which pairs is not for the name to say.
    assert.deepEqual([...memberPaths(json)].filter((p) => p.includes('/x-')), []);
  }
  const off = reproveJson(`${d}/a.tar`, `${d}/b.tar`, ['--fuzzy-threshold', '0']).json;
  assert.deepEqual([...memberPaths(off)], []);
});

test('text in another encoding is decoded, and the encoding change is said', (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a.txt'), Buffer.from('caf\u00e9\n', 'utf8'));
  writeFileSync(join(d, 'b.txt'), Buffer.from('caf\u00e9\n', 'latin1'));
  const { code, json } = reproveJson(`${d}/a.txt`, `${d}/b.txt`);
  assert.equal(code, 1);
  assert.ok(json!.comments!.includes('Encoding differs: utf-8 vs iso-8859-1'));
  assert.ok(json!.comments!.includes('The decoded text is identical; the bytes differ'));
});

test('two directories: added, removed, changed and retyped entries', (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p a/sub b/sub && printf 1 > a/sub/f && printf 2 > b/sub/f && printf x > a/gone && printf y > b/new && printf z > a/kind && ln -s target b/kind && touch -d 2020-01-01 a/* b/* a/sub/* b/sub/* 2>/dev/null; touch -h -d 2020-01-01 b/kind`);
  const { code, json } = reproveJson(`${d}/a`, `${d}/b`);
  assert.equal(code, 1);
  const list = find(json, 'file list')!.unified_diff!;
  assert.match(list, /^-.* gone$/m);
  assert.match(list, /^\+.* new$/m);
  assert.match(list, /^\+l.* kind -> target$/m);
  assert.match(find(json, 'sub/f')!.unified_diff!, /-1\n\\\\ No newline at end of file|^-1/m);
});

test('exit status: 0 for identical inputs, 2 for a directory against a file; inputs given as symlinks are followed', (t) => {
  const d = workdir(t);
  sh(d, `mkdir dir && printf same > a && cp a b && printf other > c && ln -s a la && ln -s c lc`);
  assert.equal(reprove(['diff', `${d}/a`, `${d}/b`]).code, 0);
  assert.equal(reprove(['diff', `${d}/la`, `${d}/lc`]).code, 1);
  const r = reprove(['diff', `${d}/dir`, `${d}/a`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^reprove: error: Cannot compare a dir with a file/);
});
