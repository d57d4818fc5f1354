// cpio archives made at test time with GNU cpio from find listings (newc,
// odc, crc, bin), and damaged ones.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { diffoscopeJson, find, haveCommand, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('cpio') ? 'cpio missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;


const sorted = (s: Set<string>) => [...s].sort();

/** A tree with a file in a subdirectory, a symlink and a hard link, all dated 2020-01-01. */
function tree(d: string, name: string, line = 'one'): void {
  sh(d, `mkdir -p ${name}/sub && printf 'alpha\\n${line}\\n' > ${name}/sub/a.txt && printf 'same\\n' > ${name}/b.txt && ln -s b.txt ${name}/link && ln ${name}/b.txt ${name}/hard && find ${name} -exec touch -h -d 2020-01-01 {} +`);
}

/** `find | cpio -o` in `dir`; --reproducible keeps inode and device numbers out of the way. */
function cpio(d: string, dir: string, out: string, format: string, reproducible = true): void {
  sh(d, `cd ${dir} && find . | LC_ALL=C sort | cpio --quiet -o -H ${format} ${reproducible ? '--reproducible' : ''} > ../${out}`);
}

for (const format of ['newc', 'odc', 'crc', 'bin']) {
  test(`${format}: one changed file is reported with its line diff, and only it`, { skip }, (t) => {
    const d = workdir(t);
    tree(d, 'a', 'one');
    tree(d, 'b', 'two');
    cpio(d, 'a', 'a.cpio', format);
    cpio(d, 'b', 'b.cpio', format);
    const { code, json, stderr } = reproveJson(`${d}/a.cpio`, `${d}/b.cpio`);
    assert.equal(code, 1, stderr);
    assert.deepEqual(sorted(memberPaths(json)), ['sub/a.txt']);
    assert.match(find(json, 'sub/a.txt')!.unified_diff!, /^@@ -1,2 \+1,2 @@\n alpha\n-one\n\+two\n$/);
    if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.cpio`, `${d}/b.cpio`))));
  });
}

test('odc and newc archives that differ only in mtimes show them in the file list, no member content', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 't');
  for (const format of ['odc', 'newc']) {
    cpio(d, 't', `a-${format}.cpio`, format);
    sh(d, `touch -d 2021-06-01 t/sub/a.txt`);
    cpio(d, 't', `b-${format}.cpio`, format);
    sh(d, `touch -d 2020-01-01 t/sub/a.txt`);
    const { code, json } = reproveJson(`${d}/a-${format}.cpio`, `${d}/b-${format}.cpio`);
    assert.equal(code, 1);
    const list = find(json, 'file list')!;
    assert.match(list.unified_diff!, /\n-.* 2020-01-01 00:00:00 sub\/a\.txt .*\n\+.* 2021-06-01 00:00:00 sub\/a\.txt /);
    assert.deepEqual((list['reprove_changes'] as { member: string; field: string }[]).map((c) => `${c.member}:${c.field}`), ['sub/a.txt:mtime']);
    assert.deepEqual(sorted(memberPaths(json)), []);
    if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a-${format}.cpio`, `${d}/b-${format}.cpio`))));
  }
});

test('symlink targets, hard links and file types are in the listing', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 'a');
  tree(d, 'b');
  sh(d, `ln -sfn sub/a.txt b/link && touch -h -d 2020-01-01 b/link`);
  cpio(d, 'a', 'a.cpio', 'newc');
  cpio(d, 'b', 'b.cpio', 'newc');
  const { json } = reproveJson(`${d}/a.cpio`, `${d}/b.cpio`);
  const diff = find(json, 'file list')!.unified_diff!;
  assert.match(diff, /\n-lrwxrwxrwx .* link -> b\.txt .*\n\+lrwxrwxrwx .* link -> sub\/a\.txt /);
  assert.match(diff, /\n -rw-r--r-- .* hard \[.*nlink=2.*hard link to=b\.txt\]\n/);
  assert.match(diff, /\n drwxr-xr-x .* sub \[/);
});

test('inode numbers of archives from different trees are shown, with a hint', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 'a');
  tree(d, 'b');
  cpio(d, 'a', 'a.cpio', 'newc', false);
  cpio(d, 'b', 'b.cpio', 'newc', false);
  const { code, json } = reproveJson(`${d}/a.cpio`, `${d}/b.cpio`);
  assert.equal(code, 1);
  assert.ok(json!.comments!.some((c) => /Inode or device numbers differ/.test(c)), JSON.stringify(json!.comments));
  const fields = new Set((find(json, 'file list')!['reprove_changes'] as { field: string }[]).map((c) => c.field));
  assert.ok(fields.has('extra:ino'));
});

function damaged(a: string, b: string): string {
  const { code, json, stderr } = reproveJson(a, b);
  assert.ok(code === 1 || code === 2, `exit ${code}`);
  assert.doesNotMatch(stderr, /\n\s+at /);
  return [...(json?.comments ?? []), stderr].join('\n');
}

test('damaged cpio archives: huge namesize, no trailer, cut header, garbage: clear messages, no crash', { skip }, (t) => {
  const d = workdir(t);
  tree(d, 't');
  cpio(d, 't', 'good.cpio', 'newc');
  const good = readFileSync(`${d}/good.cpio`);
  const huge = Buffer.from(good);
  huge.write('FFFFFFF0', 6 + 11 * 8, 'latin1'); // namesize of the first entry
  writeFileSync(`${d}/huge.cpio`, huge);
  assert.match(damaged(`${d}/good.cpio`, `${d}/huge.cpio`), /Cannot compare as cpio: Cannot read cpio header at offset 0 of \S*huge\.cpio: namesize 4294967280 is over 65536/);
  const past = Buffer.from(good);
  past.write('0000F000', 6 + 11 * 8, 'latin1');
  writeFileSync(`${d}/past.cpio`, past);
  assert.match(damaged(`${d}/good.cpio`, `${d}/past.cpio`), /namesize 61440 runs past the end of the archive/);
  // Cut exactly before the trailer entry: members read, the missing trailer said.
  writeFileSync(`${d}/notrailer.cpio`, good.subarray(0, good.indexOf('TRAILER!!!') - 110));
  const r = reproveJson(`${d}/good.cpio`, `${d}/notrailer.cpio`);
  assert.equal(r.code, 1);
  assert.match(r.json!.comments!.join('\n'), /notrailer\.cpio ends without a TRAILER!!! entry: the archive may be truncated/);
  assert.match(find(r.json, 'cpio archive')!.unified_diff!, /-trailer: present\n\+trailer: missing/);
  writeFileSync(`${d}/cut.cpio`, good.subarray(0, 150));
  assert.match(damaged(`${d}/good.cpio`, `${d}/cut.cpio`), /Cannot read cpio (header|member name) at offset \d+ of \S*cut\.cpio: needs bytes/);
  const garbage = Buffer.from(good);
  garbage.write('zzzzzzzz', 6 + 6 * 8, 'latin1'); // filesize
  writeFileSync(`${d}/garbage.cpio`, garbage);
  assert.match(damaged(`${d}/good.cpio`, `${d}/garbage.cpio`), /filesize field "zzzzzzzz" is not hexadecimal/);
  const bigFile = Buffer.from(good);
  bigFile.write('7FFFFFFF', 6 + 6 * 8, 'latin1');
  writeFileSync(`${d}/bigfile.cpio`, bigFile);
  assert.match(damaged(`${d}/good.cpio`, `${d}/bigfile.cpio`), /its 2147483647 bytes run past the end of the archive/);
});
