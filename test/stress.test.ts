// Stress (issue 11): a 2 GB member inside a tar inside zstd, and 100 000 members
// in one tar, compared in bounded memory (peak RSS of the reprove process,
// measured by the kernel through getrusage of a python3 parent).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CLI, haveCommand, sh, skipOutsideCi, workdir } from './helpers.js';

/** Runs reprove diff and returns its exit status and peak RSS in MiB. */
function measured(args: string[]): { code: number; rssMiB: number; stdout: string } {
  const wrapper = 'import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],stdout=subprocess.PIPE)\nsys.stderr.write("%d %d\\n"%(r.returncode,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\nsys.stdout.buffer.write(r.stdout)';
  const r = spawnSync('python3', ['-c', wrapper, process.execPath, CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const [code, kib] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { code: code!, rssMiB: kib! / 1024, stdout: r.stdout };
}

const skip = skipOutsideCi(haveCommand('python3') && haveCommand('zstd') ? false : 'needs python3 and zstd');

test('a 2 GB member inside a tar inside zstd compares in under 300 MB', { skip, timeout: 600_000 }, (t) => {
  const d = workdir(t);
  sh(d, `truncate -s 2G big && printf a > other && tar -cf - big other | zstd -1 -q -T2 > a.tar.zst && printf b > other && tar -cf - big other | zstd -1 -q -T2 > b.tar.zst && rm big`);
  const r = measured(['diff', `${d}/a.tar.zst`, `${d}/b.tar.zst`]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /├── other\n│ │ @@ -1 \+1 @@\n│ │ -a\n│ │ \+b/);
  assert.doesNotMatch(r.stdout, /├── big/);
  assert.ok(r.rssMiB < 300, `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
});

test('100 000 members in one tar compare in bounded memory, finding the one that differs', { skip, timeout: 600_000 }, (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p t && cd t && seq -f 'f%06g' 1 100000 | xargs touch -d 2020-01-01 && cd .. && tar --format=gnu --sort=name -cf a.tar -C t . && printf changed > t/f050000 && touch -d 2020-01-01 t/f050000 && tar --format=gnu --sort=name -cf b.tar -C t .`);
  const r = measured(['diff', '--json', '-', `${d}/a.tar`, `${d}/b.tar`]);
  assert.equal(r.code, 1);
  const json = JSON.parse(r.stdout) as { details: { source1: string; unified_diff: string | null }[] };
  assert.deepEqual(json.details.map((x) => x.source1), ['file list', './f050000']);
  assert.ok(r.rssMiB < 400, `peak RSS ${r.rssMiB.toFixed(0)} MiB`);
});
