// tar and the compressed streams around it, on archives made with GNU tar,
// gzip, xz, zstd and bzip2 at test time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { find, memberPaths, reprove, reproveJson, sh, workdir } from './helpers.js';

/** A tree with three files; `variant` changes one file's content. */
function tree(dir: string, name: string, variant = 'one'): void {
  sh(dir, `mkdir -p ${name}/sub && printf 'alpha\\nbeta\\n${variant}\\n' > ${name}/sub/file.txt && printf 'same\\n' > ${name}/same.txt && printf 'x\\n' > ${name}/x.txt && touch -d 2020-01-01 ${name}/sub/file.txt ${name}/same.txt ${name}/x.txt ${name}/sub ${name}`);
}


test('tar archives that differ only in mtimes show the times in the file list and no member content', (t) => {
  const d = workdir(t);
  tree(d, 't');
  sh(d, `tar --format=gnu -cf a.tar -C t . && touch -d 2021-06-01 t/x.txt && tar --format=gnu -cf b.tar -C t .`);
  const { code, json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  assert.equal(code, 1);
  const list = find(json, 'file list')!;
  assert.match(list.unified_diff!, /\n-.*2020-01-01 00:00:00 \.\/x\.txt\n/);
  assert.match(list.unified_diff!, /\n\+.*2021-06-01 00:00:00 \.\/x\.txt\n/);
  assert.deepEqual([...memberPaths(json)], []);
  const changes = list['reprove_changes'] as { member: string; field: string }[];
  assert.deepEqual(changes.map((c) => `${c.member}:${c.field}`), ['./x.txt:mtime']);
});

test('a changed member is reported with its line diff, and only that member', (t) => {
  const d = workdir(t);
  tree(d, 'a', 'one');
  tree(d, 'b', 'two');
  sh(d, `tar --format=gnu --mtime=@0 -cf a.tar -C a . && tar --format=gnu --mtime=@0 -cf b.tar -C b .`);
  const { code, json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  assert.equal(code, 1);
  assert.deepEqual([...memberPaths(json)], ['./sub/file.txt']);
  const m = find(json, './sub/file.txt')!;
  assert.match(m.unified_diff!, /^@@ -1,3 \+1,3 @@\n alpha\n beta\n-one\n\+two\n$/);
});

test('member order, owners and modes are each visible', (t) => {
  const d = workdir(t);
  tree(d, 't');
  sh(d, `cd t && tar --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner -cf ../a.tar same.txt x.txt && tar --format=gnu --mtime=@0 --owner=1000 --group=100 -cf ../b.tar x.txt same.txt`);
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  const list = find(json, 'file list')!;
  assert.ok(list.comments?.includes('Members are in a different order'));
  const fields = new Set((list['reprove_changes'] as { field: string }[]).map((c) => c.field));
  assert.ok(fields.has('order') && fields.has('uid') && fields.has('gid'));
  sh(d, `chmod 600 t/x.txt && cd t && tar --format=gnu --mtime=@0 -cf ../c.tar x.txt && chmod 644 x.txt && tar --format=gnu --mtime=@0 -cf ../e.tar x.txt`);
  const modes = reproveJson(`${d}/c.tar`, `${d}/e.tar`).json;
  assert.match(find(modes, 'file list')!.unified_diff!, /-rw------- .* x\.txt\n\+-rw-r--r-- .* x\.txt/);
});

test('pax headers: xattrs, uname and fractional mtimes are compared', (t) => {
  const d = workdir(t);
  tree(d, 't');
  sh(d, `touch -d '2020-01-01 00:00:00.25' t/x.txt && tar --format=pax -cf a.tar -C t x.txt && touch -d '2020-01-01 00:00:00.75' t/x.txt && tar --format=pax --owner=someone:4242 -cf b.tar -C t x.txt`);
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  const list = find(json, 'file list')!;
  assert.match(list.unified_diff!, /00:00:00\.250000/);
  assert.match(list.unified_diff!, /someone/);
  assert.match(list.unified_diff!, /4242/);
});

test('symlinks and hard links: targets are compared', (t) => {
  const d = workdir(t);
  tree(d, 't');
  sh(d, `cd t && ln -s same.txt link && ln x.txt hard && tar --format=gnu --mtime=@0 -cf ../a.tar same.txt x.txt link hard && rm link && ln -s x.txt link && tar --format=gnu --mtime=@0 -cf ../b.tar same.txt x.txt link hard`);
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  const list = find(json, 'file list')!;
  assert.match(list.unified_diff!, /-l.* link -> same\.txt\n\+l.* link -> x\.txt/);
  assert.match(list.unified_diff!, / hard link to x\.txt/);
});

for (const [name, compress, ext] of [
  ['gzip', 'gzip -n', '.gz'],
  ['xz', 'xz', '.xz'],
  ['zstd', 'zstd -q', '.zst'],
  ['bzip2', 'bzip2', '.bz2'],
] as const) {
  test(`${name}: a changed member inside a compressed tar is found through the stream`, (t) => {
    const d = workdir(t);
    tree(d, 'a', 'one');
    tree(d, 'b', 'two');
    sh(d, `tar --format=gnu --mtime=@0 -cf a.tar -C a . && tar --format=gnu --mtime=@0 -cf b.tar -C b . && ${compress} a.tar && ${compress} b.tar`);
    const { code, json } = reproveJson(`${d}/a.tar${ext}`, `${d}/b.tar${ext}`);
    assert.equal(code, 1);
    assert.deepEqual([...memberPaths(json)], ['a.tar', 'a.tar / ./sub/file.txt']);
    assert.equal(json!.details!.find((x) => x.source1 === 'a.tar')!.source2, 'b.tar');
  });
}

test('gzip with and without -n: the header mtime and name differ, the content does not', (t) => {
  const d = workdir(t);
  sh(d, `printf 'hello\\n' > f && touch -d 2020-01-01 f && gzip -c f > a.gz && gzip -9 -k f && mv f.gz b.gz`);
  // gzip -c records no name; gzip -k records name and mtime.
  sh(d, `gzip -nc f > n.gz`);
  const { code, json } = reproveJson(`${d}/n.gz`, `${d}/b.gz`);
  assert.equal(code, 1);
  const header = json!.details!.find((x) => x.source1 === 'gzip header')!;
  assert.match(header.unified_diff!, /-mtime: 0 \(not set\)\n/);
  assert.match(header.unified_diff!, /\+mtime: 1577836800 \(2020-01-01 00:00:00\)/);
  assert.match(header.unified_diff!, /\+original name: f/);
  assert.deepEqual([...memberPaths(json)], []);
});

test('recompressed with another level: same content, the streams differ and the report says so', (t) => {
  const d = workdir(t);
  sh(d, `seq 1 20000 > f && xz -1 -c f > a.xz && xz -9e -c f > b.xz`);
  const r = reprove(['diff', `${d}/a.xz`, `${d}/b.xz`]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /decompressed content is identical/);
});

test('identical archives at different paths exit 0 and print nothing', (t) => {
  const d = workdir(t);
  tree(d, 't');
  sh(d, `tar -cf a.tar -C t . && cp a.tar b.tar`);
  const r = reprove(['diff', `${d}/a.tar`, `${d}/b.tar`]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
});

test('--exclude leaves matching members out of the comparison', (t) => {
  const d = workdir(t);
  tree(d, 'a', 'one');
  tree(d, 'b', 'two');
  sh(d, `tar --mtime=@0 -cf a.tar -C a . && tar --mtime=@0 -cf b.tar -C b .`);
  assert.equal(reprove(['diff', '--exclude', '*.txt', `${d}/a.tar`, `${d}/b.tar`]).code, 1); // the tar bytes still differ
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`, ['--exclude', 'sub/file.txt']);
  assert.deepEqual([...memberPaths(json)], []);
});

test('the same tar compressed with xz and with zstd is compared by its content', (t) => {
  const d = workdir(t);
  tree(d, 'a', 'one');
  tree(d, 'b', 'two');
  sh(d, `tar --mtime=@0 -cf a.tar -C a . && tar --mtime=@0 -cf b.tar -C b . && xz -c a.tar > a.tar.xz && zstd -qc b.tar > b.tar.zst && zstd -qc a.tar > same.tar.zst`);
  const { code, json } = reproveJson(`${d}/a.tar.xz`, `${d}/b.tar.zst`);
  assert.equal(code, 1);
  assert.ok(json!.comments!.includes('Format differs: xz vs zstd; comparing the decompressed content'));
  assert.deepEqual([...memberPaths(json)], ['a.tar', 'a.tar / ./sub/file.txt']);
  const same = reproveJson(`${d}/a.tar.xz`, `${d}/same.tar.zst`).json!;
  assert.deepEqual(same.comments, ['Format differs: xz vs zstd; comparing the decompressed content', 'The decompressed content is identical']);
});
