// The `reprove diff` command line: output formats and their files, limits on
// diff blocks and report size, renames by content, encodings, exit status.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostArchitectures } from '../src/cli/worker.js';
import { CLI, find, haveCommand, memberPaths, reprove, reproveJson, sh, workdir, type JsonNode, skipOutsideCi } from './helpers.js';

/** A node and everything below it. */
const all = (n: JsonNode | null | undefined): JsonNode[] => (n ? [n, ...(n.details ?? []).flatMap(all)] : []);

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
  const dropped = files.filter((f) => find(json, f)!.comments?.some((c) => /report size limit reached \(limit maxReportSize, --max-report-size\)/.test(c)));
  assert.ok(dropped.length > 0 && dropped.length < files.length, `dropped: ${dropped.join()}`);
  assert.ok(json!.comments!.some((c) => /Report size limit of 8192 bytes reached/.test(c)));
});

test('--max-report-size keeps the first diffs in report order, whatever order the comparisons finish in', (t) => {
  const d = workdir(t);
  // f1 is gzip'd: its diff is made after a decompression, so it finishes after the plain files started with it.
  sh(d, `mkdir a b && seq 1 400 | gzip -n > a/f1.gz && seq 1 400 | sed 's/$/x/' | gzip -n > b/f1.gz`);
  sh(d, `for i in 2 3 4 5 6; do seq 1 400 > a/f$i.txt; seq 1 400 | sed 's/$/x/' > b/f$i.txt; done`);
  const files = ['f1.gz', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'f6.txt'];
  const runs = [1, 2, 3].map(() => reproveJson(`${d}/a`, `${d}/b`, ['--max-report-size', '10K']).json);
  const dropped = (json: JsonNode | null) =>
    files.filter((f) => all(find(json, f)).some((n) => n.comments?.some((c) => /report size limit reached \(limit maxReportSize, --max-report-size\)/.test(c))));
  const first = dropped(runs[0]!);
  assert.ok(first.length > 0 && first.length < files.length, `dropped: ${first.join()}`);
  assert.deepEqual(first, files.slice(files.length - first.length), 'the diffs left out are the last ones');
  for (const r of runs) assert.equal(JSON.stringify(r), JSON.stringify(runs[0]));
});

test('one hex dump takes at most an eighth of the report: its many small hunks are cut at a hunk, and a text diff beside them is kept', (t) => {
  const d = workdir(t);
  // 2 MB of random bytes (after a fixed start no format's magic matches) with one byte in a thousand
  // changed on side b, and 16 more at its end:
  // thousands of small hunks, none long enough for --max-diff-block-lines to cut.
  sh(d, `mkdir a b && (printf 'bin:'; head -c 2000000 /dev/urandom) > a/blob && seq 1 300 > a/z.txt && seq 2 301 > b/z.txt`);
  sh(d, `python3 -c "import sys; b = bytearray(open('a/blob', 'rb').read()); b[::1000] = bytes(x ^ 1 for x in b[::1000]); open('b/blob', 'wb').write(bytes(b) + bytes(16))"`);
  const { json } = reproveJson(`${d}/a`, `${d}/b`, ['--max-report-size', '8M']);
  const blob = find(json, 'blob')!;
  assert.ok(blob.unified_diff!.length <= 1 << 20, `${blob.unified_diff!.length} bytes`);
  assert.match(blob.unified_diff!, /^@@ [^\n]* @@\n/);
  assert.match(blob.unified_diff!, /\n$/);
  assert.ok(blob.comments!.some((c) => /^\d+ of the diff's \d+ bytes left out: one hex dump may fill at most an eighth of the report/.test(c)), blob.comments!.join('\n'));
  assert.match(find(json, 'z.txt')!.unified_diff!, /^@@ -1,8 \+1,7 @@\n-1\n/);
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
  // Unrelated random bytes under each versioned name: no content similarity to pair them by. Each starts
  // with "bin:", so that no side is taken for another format by its first bytes (a "{" reads as JSON).
  const random = (n: number, file: string) => `(printf 'bin:'; head -c ${n} /dev/urandom) > ${file}`;
  sh(d, `mkdir -p a/lib b/lib && ${random(4096, 'a/lib/libfoo-1.2.3.so')} && ${random(4096, 'b/lib/libfoo-1.2.4.so')}`);
  sh(d, `${random(999, 'a/lib/x-1.txt')} && ${random(999, 'a/lib/x-2.txt')} && ${random(999, 'b/lib/x-3.txt')}`);
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

test('stopped by a signal mid-run: exit 128+signal, no stack trace, no temporary directory left', { skip: skipOutsideCi(!haveCommand('gcc') || !haveCommand('objdump') ? 'gcc or objdump missing' : false) }, async (t) => {
  const d = workdir(t);
  // 400 pairs of object files differing in one byte of code: each pair is written to the
  // temporary directory for objdump, so a stop lands while files are being written there.
  writeFileSync(join(d, 'f.c'), 'int f(int x) { return x * 3 + 1; }\n');
  sh(d, 'gcc -O1 -c f.c -o f.o && mkdir a b');
  sh(d, `python3 -c "
import shutil
o = bytearray(open('f.o', 'rb').read())
i = o.find(bytes([0x8d, 0x44, 0x7f, 0x01]))  # lea 0x1(%rdi,%rdi,2),%eax
for n in range(400):
    shutil.copy('f.o', 'a/f%d.o' % n)
    p = bytearray(o); p[i + 3] = 2 + n % 100
    open('b/f%d.o' % n, 'wb').write(bytes(p))
"`);
  for (const [signal, code, after] of [['SIGTERM', 143, 400], ['SIGINT', 130, 800]] as const) {
    const tmp = join(d, `tmp-${signal}`);
    mkdirSync(tmp);
    const child = spawn(process.execPath, [CLI, 'diff', '--json', join(d, 'out.json'), join(d, 'a'), join(d, 'b')], { env: { ...process.env, REPROVE_TMPDIR: tmp } });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Stopped once it has made its temporary directory, or after a while if it never does.
    const started = Date.now();
    while (readdirSync(tmp).length === 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, after));
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    child.kill(signal);
    const status = await exited;
    assert.ok(status === code || status === 1, `${signal}: exit ${status}\n${stderr}`);
    assert.doesNotMatch(stderr, /^\s+at /m, `${signal}: no stack trace`);
    assert.deepEqual(readdirSync(tmp), [], `${signal}: temporary directory removed`);
  }
});

test('a worker offers its host architecture in both spellings by default, so Debian jobs (amd64) and the others (x86_64) both reach it, and so do architecture-independent ones (all, any)', () => {
  assert.deepEqual(hostArchitectures('x64'), ['x86_64', 'amd64', 'all', 'any']);
  assert.deepEqual(hostArchitectures('arm64'), ['aarch64', 'arm64', 'all', 'any']);
  assert.deepEqual(hostArchitectures('riscv64'), ['riscv64', 'all', 'any']);
});
