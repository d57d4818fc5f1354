// Conformance with diffoscope: on the same pairs, the set of member paths that
// reprove reports as different equals the set diffoscope reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffoscopeJson, directoryFilePaths, haveCommand, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(haveCommand('diffoscope') ? false : 'diffoscope is not installed (apt-get install diffoscope-minimal)');

/** Two trees that differ in content, mtimes, modes, one added and one removed file, and nesting. */
const TREES = `
mkdir -p a/doc a/lib b/doc b/lib
for t in a b; do
  printf 'line 1\\nline 2\\nline 3\\n' > $t/doc/same.txt
  seq 1 200 > $t/lib/numbers.txt
  printf '{"b": 1, "a": [1, 2]}\\n' > $t/doc/data.json
done
printf 'changed in a\\n' > a/doc/changed.txt
printf 'changed in b\\n' > b/doc/changed.txt
seq 1 200 | sed 's/^57$/fifty-seven/' > b/lib/numbers.txt
printf '{"a": [1, 3], "b": 1}\\n' > b/doc/data.json
printf 'only in a\\n' > a/doc/gone.txt
printf 'only in b\\n' > b/doc/new.txt
head -c 3000 /dev/zero | tr '\\0' 'x' > a/lib/blob.bin; printf '\\x01\\x02' >> a/lib/blob.bin
head -c 3000 /dev/zero | tr '\\0' 'x' > b/lib/blob.bin; printf '\\x01\\x03' >> b/lib/blob.bin
chmod 600 b/doc/same.txt
find a -exec touch -d 2020-01-01 {} + ; find b -exec touch -d 2020-01-02 {} +
`;

const PAIRS: [string, string][] = [
  ['tar', `tar --format=gnu -cf a.tar -C a . && tar --format=gnu -cf b.tar -C b . && echo a.tar b.tar`],
  ['pax tar', `tar --format=pax --sort=name -cf a.tar -C a . && tar --format=pax --sort=name -cf b.tar -C b . && echo a.tar b.tar`],
  ['tar.gz', `tar -czf a.tar.gz -C a . && sleep 1 && tar -czf b.tar.gz -C b . && echo a.tar.gz b.tar.gz`],
  ['tar.xz', `tar -cJf a.tar.xz -C a . && tar -cJf b.tar.xz -C b . && echo a.tar.xz b.tar.xz`],
  ['tar.zst', `tar --zstd -cf a.tar.zst -C a . && tar --zstd -cf b.tar.zst -C b . && echo a.tar.zst b.tar.zst`],
  ['tar.bz2', `tar -cjf a.tar.bz2 -C a . && tar -cjf b.tar.bz2 -C b . && echo a.tar.bz2 b.tar.bz2`],
  ['nested tar in tar.gz', `tar -cf inner-a.tar -C a . && tar -cf inner-b.tar -C b . && mkdir -p oa ob && mv inner-a.tar oa/inner.tar && mv inner-b.tar ob/inner.tar && tar -czf a.tgz.tar.gz -C oa . && tar -czf b.tgz.tar.gz -C ob . && echo a.tgz.tar.gz b.tgz.tar.gz`],
  ['directories', `echo a b`],
  ['text files', `echo a/lib/numbers.txt b/lib/numbers.txt`],
  ['json files', `echo a/doc/data.json b/doc/data.json`],
  ['binary files', `echo a/lib/blob.bin b/lib/blob.bin`],
];

for (const [name, make] of PAIRS) {
  test(`conformance with diffoscope: ${name}`, { skip }, (t) => {
    const d = workdir(t);
    sh(d, TREES);
    const [a, b] = sh(d, make).trim().split(' ') as [string, string];
    const ours = reproveJson(`${d}/${a}`, `${d}/${b}`);
    assert.equal(ours.code, 1, ours.stderr);
    const theirs = diffoscopeJson(`${d}/${a}`, `${d}/${b}`);
    if (name === 'directories') assert.deepEqual([...directoryFilePaths(ours.json, `${d}/a`)].sort(), [...directoryFilePaths(theirs, `${d}/a`)].sort());
    else assert.deepEqual([...memberPaths(ours.json)].sort(), [...memberPaths(theirs)].sort());
  });
}
