// The engine embedded in a long-lived process, as the rebuilder's worker and daemon
// use it: many comparisons at once, each owning what it opens, an abort that
// releases everything, and the library's entry points called directly.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { AbortError, compare, explain, renderJson, verifySet, writeReport, type Diagnostic } from '../src/index.js';
import { haveCommand, sh, workdir, skipOutsideCi } from './helpers.js';

/** The file descriptors this process has open, by number and what they point at. */
function openFds(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`;
      } catch {
        return undefined; // the directory handle readdir itself used
      }
    })
    .filter((x): x is string => x !== undefined)
    .sort();
}

/** Processes whose parent is this one. */
function childProcesses(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(process.pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Eight pairs of different formats, built with the real tools: one spills to disk, two run external programs. */
function makePairs(d: string): [string, string][] {
  sh(
    d,
    `
    mkdir -p t1 t2
    for i in $(seq 1 40); do echo "line $i of a text file" > t1/f$i.txt; echo "line $i of a text file" > t2/f$i.txt; done
    echo changed >> t2/f7.txt
    tar --sort=name --mtime=@1000 -cf a.tar -C t1 . && tar --sort=name --mtime=@2000 -cf b.tar -C t2 .
    gzip -n -c a.tar > a.tar.gz && gzip -n -c b.tar > b.tar.gz
    xz -c a.tar > a.tar.xz && xz -c b.tar > b.tar.xz
    (cd t1 && zip -q -X ../a.zip *) && (cd t2 && sleep 0 && zip -q -X ../b.zip *)
    (cd t1 && ls | cpio -o -H newc --quiet > ../a.cpio) && (cd t2 && ls | cpio -o -H newc --quiet > ../b.cpio)
    printf '{"name": "x", "version": 1, "list": [1, 2, 3]}' > a.json && printf '{"name": "x", "version": 2, "list": [1, 3, 2]}' > b.json
    head -c 12000000 /dev/zero | tr '\\0' 'a' > big-a && cp big-a big-b && printf 'XYZ' | dd of=big-b bs=1 seek=6000000 conv=notrunc status=none
    zstd -q -1 -c big-a > big-a.zst && zstd -q -1 -c big-b > big-b.zst
    printf 'int main(void) { return %s; }\\n' 1 > p1.c && printf 'int main(void) { return %s; }\\n' 2 > p2.c
    gcc -O1 -o p1 p1.c && gcc -O1 -o p2 p2.c
  `,
  );
  return [
    ['a.tar', 'b.tar'],
    ['a.tar.gz', 'b.tar.gz'],
    ['a.tar.xz', 'b.tar.xz'],
    ['a.zip', 'b.zip'],
    ['a.cpio', 'b.cpio'],
    ['a.json', 'b.json'],
    ['big-a.zst', 'big-b.zst'],
    ['p1', 'p2'],
  ].map(([x, y]) => [join(d, x!), join(d, y!)]);
}

const tools = ['tar', 'gzip', 'xz', 'zstd', 'zip', 'cpio', 'gcc', 'objdump'];
const skip = tools.find((t) => !haveCommand(t));

test('eight comparisons at once in one process give the same reports as each alone, and leave no file, descriptor or temporary file behind', { skip: skipOutsideCi(skip && `${skip} missing`) }, async (t) => {
  const d = workdir(t);
  const pairs = makePairs(d);
  const tmp = join(d, 'tmp');
  mkdirSync(tmp);
  const diagnostics: Diagnostic[] = [];
  const options = { tmpDir: tmp, onDiagnostic: (x: Diagnostic) => diagnostics.push(x) };
  // Alone, one after the other (this also opens whatever Node opens once, such as the child-process signal pipe).
  const alone: string[] = [];
  for (const [a, b] of pairs) {
    const { difference } = await compare(a, b, options);
    assert.ok(difference, `${a} and ${b} differ`);
    alone.push(renderJson(difference));
  }
  const fdsBefore = openFds();
  const together = await Promise.all(pairs.map(async ([a, b]) => renderJson((await compare(a, b, options)).difference!)));
  for (let i = 0; i < pairs.length; i++) assert.equal(together[i], alone[i], `the report of ${pairs[i]![0]} is the same run alone and with seven others`);
  assert.deepEqual(openFds(), fdsBefore, 'the same descriptors are open as before');
  assert.deepEqual(readdirSync(tmp), [], 'the temporary directory is empty');
  assert.deepEqual(childProcesses(), [], 'no program is left running');
  assert.deepEqual(diagnostics, [], 'no parser bug was reported');
  // The spilled pair did spill: its report names the changed bytes past the first 8 MiB... of 12 MB of a's.
  assert.match(alone[6]!, /XYZ|58 59 5a|5859 5a/i);
});

test('an aborted comparison rejects with AbortError and releases its programs, files and temporary directory', { skip: skipOutsideCi(skip && `${skip} missing`) }, async (t) => {
  const d = workdir(t);
  // Two large tar.zst inputs whose member differs in many places: decompression spills to disk, then a long hex comparison.
  sh(
    d,
    `
    head -c 150000000 /dev/urandom > m && cp m m2
    for off in 1000 50000000 100000000 149000000; do printf 'DIFF' | dd of=m2 bs=1 seek=$off conv=notrunc status=none; done
    mkdir x y && mv m x/member && mv m2 y/member
    tar -cf - -C x member | zstd -q -1 -o a.tar.zst && tar -cf - -C y member | zstd -q -1 -o b.tar.zst
  `,
  );
  const tmp = join(d, 'tmp');
  mkdirSync(tmp);
  // Warm up, so that what Node opens once is open before the count.
  await compare(join(d, 'x/member'), join(d, 'x/member'), { tmpDir: tmp });
  const fdsBefore = openFds();
  const controller = new AbortController();
  const run = compare(join(d, 'a.tar.zst'), join(d, 'b.tar.zst'), { tmpDir: tmp, signal: controller.signal });
  const outcome = run.then(
    () => 'finished',
    (e: unknown) => e,
  );
  // Abort once the run is under way: its temporary directory holds a spill file.
  const hang = setTimeout(() => controller.abort('hang guard'), 120_000);
  while (readdirSync(tmp).length === 0 || readdirSync(join(tmp, readdirSync(tmp)[0]!)).length === 0) {
    if ((await Promise.race([outcome, new Promise((r) => setTimeout(() => r(undefined), 10))])) !== undefined) break;
  }
  controller.abort(new Error('lease expired'));
  const result = await outcome;
  clearTimeout(hang);
  assert.ok(result instanceof AbortError, `rejected with AbortError, not ${String(result)}`);
  assert.equal(result.kind, 'aborted');
  assert.match(result.message, /lease expired/);
  assert.deepEqual(readdirSync(tmp), [], 'the temporary directory is removed');
  assert.deepEqual(childProcesses(), [], 'the decompressors were killed');
  assert.deepEqual(openFds(), fdsBefore, 'its files are closed');
});

test('an already aborted signal starts nothing', async (t) => {
  const d = workdir(t);
  writeFileSync(join(d, 'a'), 'a');
  writeFileSync(join(d, 'b'), 'b');
  await assert.rejects(compare(join(d, 'a'), join(d, 'b'), { tmpDir: d, signal: AbortSignal.abort() }), AbortError);
  assert.deepEqual(readdirSync(d).sort(), ['a', 'b']);
});

test('verifySet and explain called directly: a tar rebuilt with other mtimes is UNREPRODUCIBLE with timestamps_in_tarball named, and the report streams out', { skip: skipOutsideCi(!haveCommand('tar') && 'tar missing') }, async (t) => {
  const d = workdir(t);
  sh(
    d,
    `
    mkdir -p src published rebuilt && echo hello > src/hello.txt && echo same > src/same.txt
    tar --sort=name --mtime=@1000 -cf published/pkg.tar -C src . && tar --sort=name --mtime=@2000 -cf rebuilt/pkg.tar -C src .
    cp src/same.txt published/notes.txt && cp src/same.txt rebuilt/notes.txt
  `,
  );
  const set = await verifySet([join(d, 'published/notes.txt'), join(d, 'published/pkg.tar')], [join(d, 'rebuilt/notes.txt'), join(d, 'rebuilt/pkg.tar')]);
  assert.equal(set.verdict, 'UNREPRODUCIBLE');
  assert.deepEqual(
    set.artifacts.map((a) => [a.name, a.verdict]),
    [
      ['notes.txt', 'BIT_IDENTICAL'],
      ['pkg.tar', 'UNREPRODUCIBLE'],
    ],
  );
  const tar = set.artifacts[1]!;
  assert.ok(tar.issues.some((i) => i.id === 'timestamps_in_tarball'), JSON.stringify(tar.issues));
  const e = explain(tar.difference!);
  assert.ok(e.findings.some((f) => f.id === 'timestamps_in_tarball'));
  assert.equal(e.unexplainedCount, 0, e.unexplained.join('\n'));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeReport(tar.difference!, 'json', out);
  const report = JSON.parse(Buffer.concat(chunks).toString()) as { source1: string; details: { source1: string }[] };
  assert.equal(report.source1, join(d, 'published/pkg.tar'));
  assert.ok(report.details.some((x) => x.source1 === 'file list'));
});

test('large diffs made in worker threads (limits.diffThreads) give the same report, and the workers end with the run, aborted or not', async (t) => {
  const d = workdir(t);
  // Two texts of about 2 MB whose diff has a few hundred hunks: past the size a worker takes.
  const lines = (seed: number) => Array.from({ length: 60_000 }, (_, i) => `line ${i} of a long generated text ${i % 7 === 0 && i % 300 === seed ? 'changed' : 'same'}`).join('\n') + '\n';
  writeFileSync(join(d, 'a.txt'), lines(0));
  writeFileSync(join(d, 'b.txt'), lines(7));
  const tmp = join(d, 'tmp');
  mkdirSync(tmp);
  const inMain = await compare(join(d, 'a.txt'), join(d, 'b.txt'), { tmpDir: tmp });
  const fdsBefore = openFds();
  const inWorker = await compare(join(d, 'a.txt'), join(d, 'b.txt'), { tmpDir: tmp, limits: { diffThreads: 1 } });
  assert.ok(inMain.difference?.details.length || inMain.difference?.unifiedDiff, 'the texts differ');
  assert.equal(renderJson(inWorker.difference!), renderJson(inMain.difference!), 'the same report from a worker thread');
  assert.deepEqual(openFds(), fdsBefore, 'the same descriptors are open as before');
  assert.deepEqual(readdirSync(tmp), [], 'the temporary directory is empty');
  // Aborted while its worker may be diffing: rejects with AbortError and leaves nothing behind.
  const controller = new AbortController();
  const run = compare(join(d, 'a.txt'), join(d, 'b.txt'), { tmpDir: tmp, limits: { diffThreads: 1 }, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('shutdown')), 5);
  await assert.rejects(run, AbortError);
  assert.deepEqual(openFds(), fdsBefore, 'its descriptors are closed');
  assert.deepEqual(readdirSync(tmp), [], 'its temporary directory is removed');
});
