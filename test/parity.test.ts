// Parity with diffoscope on its own kind of test pairs, each built with the real
// tools at test time: a symlink whose target changed inside a container, the
// gzip/zip quine, the pairing of a renamed member among similar ones, and the
// tag names of an RPM's headers.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { artifactFromPath, OpenFiles } from '../src/compare/artifact.js';
import { readRpm } from '../src/formats/rpm-parser.js';
import { diffoscopeJson, directoryFilePaths, find, haveCommand, memberPaths, reproveJson, sh, workdir, type JsonNode, skipOutsideCi } from './helpers.js';

const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;
const sorted = (s: Set<string>) => [...s].sort();

/** Two trees that differ only in where dir/link points (f in a, g in b), all dated 2020-01-01. */
const LINK_TREES = `mkdir -p a/dir b/dir && echo hi > a/dir/f && echo hi > b/dir/f && echo ho > a/dir/g && echo ho > b/dir/g
ln -s f a/dir/link && ln -s g b/dir/link && find a b -exec touch -h -d 2020-01-01 {} +`;

const LINK_PAIRS: [string, string, string | false][] = [
  ['tar', `tar --sort=name -cf a.tar -C a dir && tar --sort=name -cf b.tar -C b dir && echo a.tar b.tar`, false],
  ['pax tar', `for t in a b; do tar --format=pax --pax-option=delete=atime,delete=ctime --sort=name -cf $t.tar -C $t dir; done && echo a.tar b.tar`, false],
  ['cpio', `for t in a b; do (cd $t && find dir | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible > ../$t.cpio); done && echo a.cpio b.cpio`, !haveCommand('cpio') && 'cpio missing'],
  ['zip', `for t in a b; do (cd $t && zip -qry ../$t.zip dir); done && echo a.zip b.zip`, !haveCommand('zip') && 'zip missing'],
  ['directories', `echo a b`, false],
];

for (const [name, make, skip] of LINK_PAIRS) {
  test(`symlink whose target changed, in ${name}: a member node of its own with both destinations, and the listing`, { skip }, (t) => {
    const d = workdir(t);
    sh(d, LINK_TREES);
    const [a, b] = sh(d, make).trim().split(' ') as [string, string];
    const { code, json, stderr } = reproveJson(`${d}/${a}`, `${d}/${b}`);
    assert.equal(code, 1, stderr);
    const link = find(json, 'dir/link');
    assert.ok(link, `no dir/link node in ${JSON.stringify(json)}`);
    assert.deepEqual(link.comments, ['symlink']);
    assert.equal(link.unified_diff, '@@ -1 +1 @@\n-destination: f\n+destination: g\n');
    assert.deepEqual(link['reprove_changes'], [{ member: 'dir/link', field: 'linkTarget', value1: 'f', value2: 'g' }]);
    // The listing still shows the change, as diffoscope's does.
    const list = find(json, 'file list')!.unified_diff!;
    assert.match(list, /\n-l[^\n]* dir\/link -> f/);
    assert.match(list, /\n\+l[^\n]* dir\/link -> g/);
    // The symlink's target is its node's diff; a directory's metadata child would only repeat it.
    assert.equal(find(link as JsonNode, 'metadata'), undefined);
    assert.deepEqual(sorted(memberPaths(json)), ['dir/link']);
    if (!noDiffoscope) {
      const theirs = diffoscopeJson(`${d}/${a}`, `${d}/${b}`);
      if (name === 'directories') assert.deepEqual(sorted(directoryFilePaths(json, `${d}/a`)), sorted(directoryFilePaths(theirs, `${d}/a`)));
      else assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(theirs)));
    }
  });
}

test('a symlink that became a file, in tar: a member node saying so, as diffoscope has one', (t) => {
  const d = workdir(t);
  sh(d, `mkdir -p a/dir b/dir && echo hi > a/dir/f && echo hi > b/dir/f && ln -s f a/dir/link && echo f > b/dir/link
find a b -exec touch -h -d 2020-01-01 {} + && tar --sort=name -cf a.tar -C a dir && tar --sort=name -cf b.tar -C b dir`);
  const { json } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
  const link = find(json, 'dir/link')!;
  assert.deepEqual(link.comments, ['Type changed: symlink vs file']);
  assert.match(link.unified_diff!, /\n-destination: f\n\+type: file of 2 bytes\n$/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.tar`, `${d}/b.tar`))));
});

test('gzip against a zip of one file: the gzip content is compared with the zip member, one level down, as diffoscope pairs them', { skip: skipOutsideCi(!haveCommand('zip') && 'zip missing') }, (t) => {
  const d = workdir(t);
  sh(d, `seq 1 100 > x && seq 1 101 > y && seq 1 100 > x2 && gzip -n -k x && zip -qX one.zip y && zip -qX two.zip x2 y`);
  const { code, json, stderr } = reproveJson(`${d}/x.gz`, `${d}/one.zip`);
  assert.equal(code, 1, stderr);
  assert.deepEqual(json!.comments, ['Format differs: gzip vs zip; comparing the decompressed content']);
  const inner = json!.details![0]!;
  assert.deepEqual([inner.source1, inner.source2], ['x', 'y']);
  assert.match(inner.unified_diff!, /\n 100\n\+101\n$/);
  if (!noDiffoscope) {
    const theirs = diffoscopeJson(`${d}/x.gz`, `${d}/one.zip`);
    assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(theirs)));
    assert.equal(find(theirs, 'x')?.source2, 'y');
  }
  // A zip of two members has no single content: the pair is compared as bytes, as before.
  const two = reproveJson(`${d}/x.gz`, `${d}/two.zip`);
  assert.equal(two.code, 1, two.stderr);
  assert.deepEqual(two.json!.comments, ['Format differs: gzip vs zip']);
  assert.match(two.json!.unified_diff!, /^@@ /);
});

/** A text of about 900 bytes (diffoscope's tlsh needs 512), one accented line: UTF-8 in `utf8`, ISO-8859-1 in `latin1`. */
const ACCENTED = `{ for i in $(seq 1 14); do printf 'Line %02d: the quick brown fox jumps over the lazy dog %d times.\\n' $i $((i*i)); done; printf 'Le caf\\xc3\\xa9 cr\\xc3\\xa8me.\\n'; } > utf8 && iconv -f UTF-8 -t ISO-8859-1 utf8 > latin1`;

for (const order of [['fuzzy2', 'fuzzy'], ['fuzzy', 'fuzzy2']]) {
  test(`a renamed member among two identical candidates (archive order ${order.join(', ')}) pairs with the first in archive order, as diffoscope does`, (t) => {
    const d = workdir(t);
    sh(d, `${ACCENTED} && mkdir a b && cp latin1 a/matching && cp utf8 b/fuzzy && cp utf8 b/fuzzy2 && touch -d 2020-01-01 a/* b/*
tar --format=gnu -cf a.tar -C a matching && tar --format=gnu -cf b.tar -C b ${order.join(' ')}`);
    const { code, json, stderr } = reproveJson(`${d}/a.tar`, `${d}/b.tar`);
    assert.equal(code, 1, stderr);
    const pair = find(json, 'matching')!;
    assert.equal(pair.source2, order[0]);
    assert.match(pair.comments![0]!, /^Files \d+% similar despite different names$/);
    // Symmetric: B against A pairs the same two members.
    const back = reproveJson(`${d}/b.tar`, `${d}/a.tar`);
    assert.equal(find(back.json, order[0]!)?.source2, 'matching');
    // diffoscope pairs renamed members only with tlsh, importable by its own interpreter.
    if (!noDiffoscope && sh(d, `$(head -1 "$(command -v diffoscope)" | sed 's/^#! *//') -c 'import tlsh' 2>/dev/null && echo yes || true`).trim() === 'yes') {
      const theirs = diffoscopeJson(`${d}/a.tar`, `${d}/b.tar`);
      const paired = theirs!.details!.find((c) => c.comments?.some((m) => / similar despite different names$/.test(m)))!;
      // diffoscope 240 names a member paired this way by its extraction path, which ends in its index in the archive.
      const index = /\/0\/(\d+)$/.exec(paired.source2);
      assert.equal(index ? order[Number(index[1])] : paired.source2.replace(/^\.\//, ''), order[0]);
    }
  });
}

/** The interpreter diffoscope runs on, when it can import `module` (diffoscope's RPM header view needs python3-rpm). */
function diffoscopePython(d: string, module: string): string | undefined {
  if (!haveCommand('diffoscope')) return undefined;
  const python = sh(d, `head -1 "$(command -v diffoscope)" | sed 's/^#! *//'`).trim();
  return sh(d, `${python} -c 'import ${module}' 2>/dev/null && echo yes || true`).trim() === 'yes' ? python : undefined;
}

const RPM_SPEC = `Name: tags
Version: 1.0
Release: 1
Summary: Tag names
License: MIT
BuildArch: noarch
Requires: bash
%description
Every header tag by name.
%install
mkdir -p %{buildroot}/usr/share/tags
echo @DATA@ > %{buildroot}/usr/share/tags/data.txt
%post
echo post
%files
/usr/share/tags/data.txt
`;

test('RPM: every tag of the signature and main headers has a name, the ones rpm and diffoscope show ARCHIVESIZE and the rest by', { skip: skipOutsideCi(!haveCommand('rpmbuild') && 'rpmbuild missing') }, async (t) => {
  const d = workdir(t);
  const build = (data: string, out: string) => {
    writeFileSync(`${d}/tags.spec`, RPM_SPEC.replace('@DATA@', data));
    sh(d, `rm -rf top && rpmbuild -bb --define '_topdir ${d}/top' tags.spec >build.log 2>&1 || { cat build.log >&2; exit 1; }; cp top/RPMS/noarch/tags-1.0-1.noarch.rpm ${out}`);
  };
  build('one', 'a.rpm');
  build('three', 'b.rpm');
  const files = new OpenFiles();
  t.after(() => files.closeAll());
  const p = await readRpm(await artifactFromPath(files, `${d}/a.rpm`));
  const signature = new Map(p.signature.tags.map((x) => [x.name, x.tag]));
  const header = new Map(p.header.tags.map((x) => [x.tag, x.name]));
  assert.deepEqual([...p.signature.tags, ...p.header.tags].filter((x) => /^TAG\d+$/.test(x.name)).map((x) => x.tag), [], 'tags without a name');
  // RPMSIGTAG_PAYLOADSIZE (1007), by the name rpm queries it and diffoscope shows it.
  assert.equal(signature.get('ARCHIVESIZE'), 1007);
  assert.equal(p.signature.tags.find((x) => x.tag === 1007)!.values[0], sh(d, `rpm -qp --qf '%{ARCHIVESIZE}' a.rpm`));

  // The report shows it in the signature header view.
  const { json } = reproveJson(`${d}/a.rpm`, `${d}/b.rpm`);
  const view = find(json, 'signature header')!.unified_diff!;
  assert.match(view, /^-ARCHIVESIZE: \d+$/m);
  assert.match(view, /^\+ARCHIVESIZE: \d+$/m);

  // Every tag of the header diffoscope shows (rpm's, with the signature tags merged in) is one of ours:
  // a main-header tag of that number, or a signature tag of that name.
  const python = diffoscopePython(d, 'rpm');
  if (python) {
    const listed = sh(d, `${python} -c '
import rpm, sys
ts = rpm.TransactionSet(); ts.setVSFlags(-1)
with open("a.rpm") as f: h = ts.hdrFromFdno(f)
for tag in sorted(rpm.tagnames):
    if tag in h: print(tag, rpm.tagnames[tag])
'`);
    const missing = listed
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .filter(([tag, name]) => !header.has(Number(tag)) && !signature.has(name));
    assert.deepEqual(missing, []);
    assert.match(listed, /^1046 ARCHIVESIZE$/m);
  }
});
