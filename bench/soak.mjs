#!/usr/bin/env node
// Soak: the engine embedded in one long-lived process, as the rebuilder's worker
// runs it. Compares the same small pairs (built here with the real tools) a
// thousand times, eight at a time, and prints resident memory, heap, open file
// descriptors and temporary files after 100 and after all comparisons: none may grow.
// Usage: node bench/soak.mjs [COUNT]   (after npm run build)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compare, explain } from '../dist/src/index.js';

const count = Number(process.argv[2] ?? 1000);
const work = resolve(import.meta.dirname, 'work/soak');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'tmp'), { recursive: true });
execFileSync(
  'bash',
  [
    '-euo',
    'pipefail',
    '-c',
    `
  cd ${work}
  mkdir -p t1 t2
  for i in $(seq 1 60); do seq 1 $((i * 20)) > t1/f$i.txt; seq 1 $((i * 20)) > t2/f$i.txt; done
  echo changed >> t2/f7.txt; echo changed >> t2/f31.txt
  tar --sort=name --mtime=@1000 -cf a.tar -C t1 . && tar --sort=name --mtime=@2000 -cf b.tar -C t2 .
  gzip -n -c a.tar > a.tar.gz && gzip -n -c b.tar > b.tar.gz
  xz -c a.tar > a.tar.xz && xz -c b.tar > b.tar.xz
  (cd t1 && zip -q -X ../a.zip *) && (cd t2 && zip -q -X ../b.zip *)
  printf 'int main(void) { return %s; }\\n' 1 > p1.c && printf 'int main(void) { return %s; }\\n' 2 > p2.c
  gcc -O1 -o p1 p1.c && gcc -O1 -o p2 p2.c
  `,
  ],
  { stdio: 'inherit' },
);
const pairs = [
  ['a.tar', 'b.tar'],
  ['a.tar.gz', 'b.tar.gz'],
  ['a.tar.xz', 'b.tar.xz'],
  ['a.zip', 'b.zip'],
  ['p1', 'p2'],
  ['a.tar', 'a.tar'],
].map(([a, b]) => [join(work, a), join(work, b)]);

const tmpDir = join(work, 'tmp');
const fds = () => readdirSync('/proc/self/fd').length;
const mb = (n) => (n / 2 ** 20).toFixed(1);
const sample = (label, done, started) => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  console.log(
    `${label.padEnd(8)} comparisons ${String(done).padStart(5)}  rss ${mb(m.rss).padStart(6)} MB  heap ${mb(m.heapUsed).padStart(6)} MB  fds ${String(fds()).padStart(3)}  temporary files ${readdirSync(tmpDir).length}  ${((performance.now() - started) / done).toFixed(1)} ms/comparison`,
  );
};

const started = performance.now();
let done = 0;
let diagnostics = 0;
const CONCURRENT = 8;
sample('start', 1, started);
while (done < count) {
  const batch = Array.from({ length: Math.min(CONCURRENT, count - done) }, (_, i) => pairs[(done + i) % pairs.length]);
  await Promise.all(
    batch.map(async ([a, b]) => {
      const { difference } = await compare(a, b, { tmpDir, onDiagnostic: () => diagnostics++ });
      if (difference) explain(difference);
    }),
  );
  const before = done;
  done += batch.length;
  if (before < 100 && done >= 100) sample('at 100', done, started);
}
sample(`at ${done}`, done, started);
if (diagnostics) console.log(`diagnostics: ${diagnostics} (parser bugs)`);
