// zip: archives built at test time with Info-ZIP zip, compared with reprove and
// (for conformance of the reported member paths) with diffoscope.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { diffoscopeJson, find, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('zip') && 'zip is not installed');
const noDiffoscope = !haveCommand('diffoscope') && 'diffoscope is not installed';


function allComments(root: JsonNode | null): string[] {
  const out: string[] = [];
  const visit = (d: JsonNode) => {
    out.push(...(d.comments ?? []));
    (d.details ?? []).forEach(visit);
  };
  if (root) visit(root);
  return out;
}

type Changes = { member?: string; field: string; value1?: string; value2?: string }[];
const changesOf = (d: JsonNode | undefined) => (d?.['reprove_changes'] ?? []) as Changes;

/** Pair (1): the same files with different mtimes. */
function mtimePair(dir: string): [string, string] {
  sh(dir, `mkdir s && cd s && echo hello > x && seq 1 3000 > y && touch -d '2020-01-01 00:00:00' x y && zip -q ../a.zip x y && touch -d '2021-06-01 12:00:00' x y && zip -q ../b.zip x y`);
  return [join(dir, 'a.zip'), join(dir, 'b.zip')];
}

/** Pair (2): one member's content changed (a deflated one), another deflated member unchanged. */
function contentPair(dir: string): [string, string] {
  sh(
    dir,
    `mkdir s && cd s && echo hello > x && seq 1 5000 > big.txt && seq 1 4000 > same.txt && touch -d '2020-01-01' x big.txt same.txt && zip -q ../a.zip x big.txt same.txt
     sed -i 's/^2500$/two thousand five hundred/' big.txt && touch -d '2020-01-01' big.txt && zip -q ../b.zip x big.txt same.txt`,
  );
  return [join(dir, 'a.zip'), join(dir, 'b.zip')];
}

/** Pair (3): the same members in a different order. */
function orderPair(dir: string): [string, string] {
  sh(dir, `mkdir s && cd s && echo one > x && echo two > y && touch -d '2020-01-01' x y && zip -q ../a.zip x y && zip -q ../b.zip y x`);
  return [join(dir, 'a.zip'), join(dir, 'b.zip')];
}

function noCrash(t: TestContext, r: { code: number | null; stderr: string }): void {
  assert.notEqual(r.code, null, 'reprove was killed');
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace on stderr: ${r.stderr}`);
  t.diagnostic(`exit ${r.code}`);
}

test('zip: different mtimes show in the file list, no content node', { skip }, (t) => {
  const [a, b] = mtimePair(workdir(t));
  const r = reproveJson(a, b);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([...memberPaths(r.json)], []);
  const list = find(r.json, 'file list');
  assert.match(list?.unified_diff ?? '', /^-.* 2020-01-01 00:00:00 x /m);
  assert.match(list?.unified_diff ?? '', /^\+.* 2021-06-01 12:00:00 x /m);
  const fields = new Set(changesOf(list).map((c) => `${c.member}:${c.field}`));
  assert.ok(fields.has('x:mtime') && fields.has('y:mtime') && fields.has('x:extra:dos time'), [...fields].join(' '));
});

test('zip: a changed member is reported with its unified diff, nothing else', { skip }, (t) => {
  const [a, b] = contentPair(workdir(t));
  const r = reproveJson(a, b);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([...memberPaths(r.json)], ['big.txt']);
  const d = find(r.json, 'big.txt')!;
  assert.match(d.unified_diff ?? '', /^-2500$/m);
  assert.match(d.unified_diff ?? '', /^\+two thousand five hundred$/m);
});

test('zip: member order', { skip }, (t) => {
  const [a, b] = orderPair(workdir(t));
  const r = reproveJson(a, b);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([...memberPaths(r.json)], []);
  assert.ok(find(r.json, 'file list')?.comments?.includes('Members are in a different order'));
});

test('zip: -X (no extra fields) against the default', { skip }, (t) => {
  const dir = workdir(t);
  sh(dir, `mkdir s && cd s && echo hello > x && touch -d '2020-01-01' x && zip -q ../a.zip x && zip -qX ../b.zip x`);
  const r = reproveJson(join(dir, 'a.zip'), join(dir, 'b.zip'));
  assert.equal(r.code, 1, r.stderr);
  const list = find(r.json, 'file list');
  const fields = changesOf(list).map((c) => c.field);
  assert.ok(fields.includes('extra:extra fields'), fields.join(' '));
  assert.ok(fields.includes('uid'), 'uid comes from the ux extra field');
  assert.match(list?.unified_diff ?? '', /^-.*UT\(5\):.*ux\(11\):/m);
  assert.deepEqual([...memberPaths(r.json)], []);
});

test('zip: archive comment', { skip }, (t) => {
  const dir = workdir(t);
  sh(dir, `mkdir s && cd s && echo hello > x && touch -d '2020-01-01' x && zip -q ../a.zip x && cp ../a.zip ../b.zip && echo 'built on host A' | zip -qz ../a.zip && echo 'built on host B' | zip -qz ../b.zip`);
  const r = reproveJson(join(dir, 'a.zip'), join(dir, 'b.zip'));
  assert.equal(r.code, 1, r.stderr);
  const h = find(r.json, 'zip archive');
  assert.match(h?.unified_diff ?? '', /^-comment: "built on host A"$/m);
  assert.match(h?.unified_diff ?? '', /^\+comment: "built on host B"$/m);
  assert.deepEqual(changesOf(h).map((c) => c.field), ['comment']);
});

test('zip: symlinks, directories, ZIP64, stored against deflated', { skip }, (t) => {
  const dir = workdir(t);
  sh(
    dir,
    `mkdir s && cd s && seq 1 2000 > data && ln -s data link && mkdir sub && echo hi > sub/f && touch -h -d '2020-01-01' data link sub sub/f
     zip -qry -0 ../a.zip data link sub && zip -qry -9 -fz ../b.zip data link sub`,
  );
  const r = reproveJson(join(dir, 'a.zip'), join(dir, 'b.zip'));
  assert.equal(r.code, 1, r.stderr);
  // Same content, stored in one, deflated in the other: no content node.
  assert.deepEqual([...memberPaths(r.json)], []);
  const list = find(r.json, 'file list')!;
  assert.match(list.unified_diff ?? '', /^ ?[-+]?lrwxrwxrwx .* link -> data /m);
  assert.match(list.unified_diff ?? '', /^[-+ ]drwxr-xr-x .* sub\/ /m);
  const methods = changesOf(list).filter((c) => c.member === 'data' && c.field === 'extra:method');
  assert.deepEqual(methods.map((c) => [c.value1, c.value2]), [['stored', 'deflated']]);
  assert.ok(find(r.json, 'zip archive')?.unified_diff?.includes('+zip64:'));
});

test('zip: hostile archives fail with a clear message, never a crash', { skip }, (t) => {
  const dir = workdir(t);
  sh(dir, `mkdir s && cd s && echo hello > x && seq 1 300 > y && touch -d '2020-01-01' x y && zip -q ../good.zip x y && zip -q -fz ../good64.zip x y`);
  const good = readFileSync(join(dir, 'good.zip'));
  const eocd = good.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
  const patched = (name: string, edit: (b: Buffer) => void, base = good) => {
    const b = Buffer.from(base);
    edit(b);
    writeFileSync(join(dir, name), b);
    return join(dir, name);
  };
  const cases: [string, string, RegExp][] = [];
  sh(dir, `head -c ${good.length - 30} good.zip > truncated.zip`);
  cases.push(['truncated', join(dir, 'truncated.zip'), /Cannot compare as zip: .*(no end of central directory|past|ends)/]);
  cases.push(['count 0xffff', patched('count.zip', (b) => (b.writeUInt16LE(0xffff, eocd + 8), b.writeUInt16LE(0xffff, eocd + 10))), /65535 entries cannot fit/]);
  cases.push(['offset past the end', patched('offset.zip', (b) => b.writeUInt32LE(0x7fffff00, eocd + 16)), /central directory offset 2147483392/]);
  cases.push(['cd size huge', patched('cdsize.zip', (b) => b.writeUInt32LE(0xffffffff, eocd + 12)), /central directory of 4294967295 bytes/]);
  const g64 = readFileSync(join(dir, 'good64.zip'));
  const eocd64 = g64.lastIndexOf(Buffer.from('PK\x06\x06', 'latin1'));
  assert.ok(eocd64 > 0, 'zip -fz wrote a zip64 end record');
  cases.push(['zip64 count 2^31', patched('count64.zip', (b) => (b.writeBigUInt64LE(2n ** 31n, eocd64 + 24), b.writeBigUInt64LE(2n ** 31n, eocd64 + 32)), g64), /2147483648 entries cannot fit/]);
  cases.push(['zip64 count 2^63', patched('count64b.zip', (b) => (b.writeBigUInt64LE(2n ** 63n, eocd64 + 24), b.writeBigUInt64LE(2n ** 63n, eocd64 + 32)), g64), /out of range/]);
  const firstCentral = good.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
  cases.push(['local offset past the end', patched('local.zip', (b) => b.writeUInt32LE(0x7fffffff, firstCentral + 42)), /local header of x/]);

  for (const [what, file, message] of cases) {
    const r = reproveJson(file, join(dir, 'good.zip'));
    noCrash(t, r);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.ok(allComments(r.json).some((c) => message.test(c)), `${what}: ${allComments(r.json).join(' | ')}`);
  }
  const limited = reproveJson(join(dir, 'good.zip'), join(dir, 'good64.zip'), ['--max-members', '1']);
  noCrash(t, limited);
  assert.ok(allComments(limited.json).some((c) => /more than 1 \(limit maxMembers, --max-members\)/.test(c)), allComments(limited.json).join(' | '));
});

test('zip: a deflate bomb stops at --max-decompressed-size', { skip, timeout: 120_000 }, (t) => {
  const dir = workdir(t);
  // Two bombs that differ at the very end, so their compressed bytes differ but share a long prefix.
  sh(dir, `head -c 200M /dev/zero | zip -q a.zip - && { head -c 200M /dev/zero; echo x; } | zip -q b.zip -`);
  const r = reproveJson(join(dir, 'a.zip'), join(dir, 'b.zip'), ['--max-decompressed-size', '10M']);
  noCrash(t, r);
  assert.equal(r.code, 1, r.stderr);
  const member = find(r.json, '-');
  assert.equal(member?.['reprove_kind'], 'limit');
  assert.match(member?.comments?.join(' ') ?? '', /--max-decompressed-size/);
});

test('zip: members with equal compressed bytes are not decompressed', { skip }, (t) => {
  const dir = workdir(t);
  // 50 MB of zeros, unchanged: decompressing it would pass the 1 MB limit.
  sh(dir, `mkdir s && cd s && head -c 50M /dev/zero > zeros && echo a > x && touch -d '2020-01-01' zeros x && zip -q ../a.zip zeros x && echo b > x && touch -d '2020-01-01' x && zip -q ../b.zip zeros x`);
  const r = reproveJson(join(dir, 'a.zip'), join(dir, 'b.zip'), ['--max-decompressed-size', '1M']);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([...memberPaths(r.json)], ['x']);
  assert.deepEqual(allComments(r.json).filter((c) => /limit|--max/.test(c)), []);
});

test('zip: member paths match diffoscope', { skip: skip || noDiffoscope, timeout: 300_000 }, (t) => {
  for (const [name, make] of [
    ['mtimes', mtimePair],
    ['content', contentPair],
    ['order', orderPair],
  ] as const) {
    const [a, b] = make(workdir(t));
    const ours = memberPaths(reproveJson(a, b).json);
    const theirs = memberPaths(diffoscopeJson(a, b));
    assert.deepEqual([...ours].sort(), [...theirs].sort(), name);
  }
});
