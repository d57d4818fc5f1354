// What judging and explaining add to comparing (issue 5: at most 10 %), measured
// in process on the bench's downloaded pairs: compare(), then judge() + explain()
// on its tree. Run after bench/bench.mjs has downloaded the packages:
//   node bench/verdict-overhead.mjs
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compare } from '../dist/src/compare/compare.js';
import { explain } from '../dist/src/explain/explain.js';
import { judge } from '../dist/src/verdict/judge.js';
import { builtinPolicies, policiesFor } from '../dist/src/verdict/policy.js';

const root = new URL('./work/debs/', import.meta.url).pathname;
const byPackage = new Map();
for (const dir of readdirSync(root)) {
  if (dir === 'identical') continue;
  const name = dir.slice(0, dir.indexOf('_'));
  const debs = readdirSync(join(root, dir)).filter((f) => f.endsWith('.deb'));
  if (debs.length) byPackage.set(name, [...(byPackage.get(name) ?? []), join(root, dir, debs[0])]);
}
console.log('| pair | compare ms | judge + explain ms | overhead |');
console.log('| --- | --- | --- | --- |');
for (const [name, [a, b]] of byPackage) {
  if (!b) continue;
  const t0 = performance.now();
  const { difference } = await compare(a, b);
  const t1 = performance.now();
  if (difference) {
    judge(difference, policiesFor(builtinPolicies, difference.format, name, [], false));
    explain(difference);
  }
  const t2 = performance.now();
  console.log(`| ${name} | ${(t1 - t0).toFixed(0)} | ${(t2 - t1).toFixed(0)} | ${(((t2 - t1) / (t1 - t0)) * 100).toFixed(1)} % |`);
}
