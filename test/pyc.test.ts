// Python bytecode built at test time with py_compile: the header field by field
// (mtime, source size, hash-based flags), and the code object disassembled by
// the python3 on PATH, or shown as hex when no python with the same magic exists.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { diffoscopeJson, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('python3') ? 'python3 missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;

const child = (d: JsonNode | null, name: string) => d?.details?.find((c) => c.source1 === name);
const names = (d: JsonNode | null) => (d?.details ?? []).map((c) => c.source1);
const fields = (d: JsonNode | undefined) => ((d?.['reprove_changes'] ?? []) as { field: string }[]).map((c) => c.field);

/** Compiles `src` (with the given source mtime) to `out`; mode is a py_compile.PycInvalidationMode name. */
function compile(d: string, src: string, text: string, date: string, out: string, mode = 'TIMESTAMP'): void {
  sh(
    d,
    `mkdir -p "$(dirname ${src})" && printf '%s' "$TEXT" > ${src} && touch -d '${date}' ${src} && python3 -c "import py_compile as p; p.compile('${src}', '${out}', doraise=True, invalidation_mode=p.PycInvalidationMode.${mode})"`,
    { TEXT: text },
  );
}

const SOURCE = 'X = 1\nprint("hi")\n';

function conforms(a: string, b: string, json: JsonNode | null): void {
  if (noDiffoscope) return;
  assert.deepEqual([...memberPaths(json)].sort(), [...memberPaths(diffoscopeJson(a, b))].sort());
}

test('the same source compiled at two source mtimes: exactly the mtime field differs', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'src/m.py', SOURCE, '2020-01-01 00:00:00', 'a.pyc');
  compile(d, 'src/m.py', SOURCE, '2021-01-01 00:00:00', 'b.pyc');
  const [a, b] = [readFileSync(join(d, 'a.pyc')), readFileSync(join(d, 'b.pyc'))];
  // The premise: bytes 8..12 (the mtime) are the only ones that differ.
  assert.ok(Buffer.concat([a.subarray(0, 8), a.subarray(12)]).equals(Buffer.concat([b.subarray(0, 8), b.subarray(12)])));
  const { code, json } = reproveJson(`${d}/a.pyc`, `${d}/b.pyc`);
  assert.equal(code, 1);
  assert.equal(json!['reprove_format'], 'pyc');
  assert.deepEqual(names(json), ['pyc header']);
  const header = child(json, 'pyc header')!;
  assert.equal(header['reprove_kind'], 'header');
  assert.deepEqual(header['reprove_changes'], [
    { field: 'mtime', value1: '1577836800 (2020-01-01 00:00:00)', value2: '1609459200 (2021-01-01 00:00:00)' },
  ]);
  assert.match(header.unified_diff!, /^@@ -1,5 \+1,5 @@\n magic: [0-9a-f]{4}0d0a \(\d+, Python 3\.\d+\)\n flags: 0 \(timestamp-based\)\n-mtime: 1577836800 .*\n\+mtime: 1609459200 .*\n source size: 18\n/);
  conforms(`${d}/a.pyc`, `${d}/b.pyc`, json);
});

test('a changed constant (same source size) shows in the disassembly only', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'm.py', SOURCE, '2020-01-01', 'a.pyc');
  compile(d, 'm.py', 'X = 2\nprint("hi")\n', '2020-01-01', 'b.pyc');
  const { code, json } = reproveJson(`${d}/a.pyc`, `${d}/b.pyc`);
  assert.equal(code, 1);
  assert.deepEqual(names(json), ['Python disassembly']);
  const dis = child(json, 'Python disassembly')!.unified_diff!;
  assert.match(dis, /\n-    0: 1\n\+    0: 2\n/);
  assert.match(dis, /\n- +1 +\d+ LOAD_CONST +0 \(1\)\n\+ +1 +\d+ LOAD_CONST +0 \(2\)\n/);
  assert.doesNotMatch(dis, / at 0x[0-9a-f]+/);
  conforms(`${d}/a.pyc`, `${d}/b.pyc`, json);
});

test('a build path embedded in co_filename shows in the disassembly', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'build1/m.py', 'def f():\n    return {"a", "b", "c"}\n', '2020-01-01', 'a.pyc');
  compile(d, 'build2/m.py', 'def f():\n    return {"a", "b", "c"}\n', '2020-01-01', 'b.pyc');
  const { json } = reproveJson(`${d}/a.pyc`, `${d}/b.pyc`);
  const dis = child(json, 'Python disassembly')!.unified_diff!;
  assert.match(dis, /\n-  co_filename: 'build1\/m\.py'\n\+  co_filename: 'build2\/m\.py'\n/);
  // Set constants print in one order on both sides: only the paths differ.
  const changed = dis.split('\n').filter((l) => /^[-+]/.test(l)).map((l) => l.replace(/build[12]/g, 'build'));
  assert.ok(changed.length >= 2);
  assert.deepEqual(changed.filter((l) => l[0] === '-').map((l) => l.slice(1)), changed.filter((l) => l[0] === '+').map((l) => l.slice(1)));
  // Repeated runs give the same report (no addresses, no hash-seeded order).
  assert.deepEqual(reproveJson(`${d}/a.pyc`, `${d}/b.pyc`).json, json);
});

test('hash-based (checked) vs timestamp-based: flags, then the source hash instead of mtime and size', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'm.py', SOURCE, '2020-01-01', 'ts.pyc');
  compile(d, 'm.py', SOURCE, '2020-01-01', 'checked.pyc', 'CHECKED_HASH');
  compile(d, 'm.py', SOURCE, '2020-01-01', 'unchecked.pyc', 'UNCHECKED_HASH');
  const { code, json } = reproveJson(`${d}/ts.pyc`, `${d}/checked.pyc`);
  assert.equal(code, 1);
  assert.deepEqual(names(json), ['pyc header']);
  const header = child(json, 'pyc header')!;
  assert.deepEqual(fields(header), ['flags', 'mtime', 'source size', 'source hash']);
  assert.match(header.unified_diff!, /\n-flags: 0 \(timestamp-based\)\n/);
  assert.match(header.unified_diff!, /\n\+flags: 3 \(hash-based, checked\)\n/);
  assert.match(header.unified_diff!, /\n\+source hash: [0-9a-f]{16}\n/);
  conforms(`${d}/ts.pyc`, `${d}/checked.pyc`, json);

  const both = reproveJson(`${d}/checked.pyc`, `${d}/unchecked.pyc`).json;
  assert.deepEqual(child(both, 'pyc header')!['reprove_changes'], [{ field: 'flags', value1: '3 (hash-based, checked)', value2: '1 (hash-based, unchecked)' }]);
});

test('without a python of the same magic number the code object is shown as hex', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'm.py', SOURCE, '2020-01-01', 'a.pyc');
  compile(d, 'm.py', 'X = 2\nprint("hi")\n', '2020-01-01', 'b.pyc');
  // Relabel both as Python 3.8 (same header layout): the python here cannot read them.
  for (const f of ['a.pyc', 'b.pyc']) {
    const buf = readFileSync(join(d, f));
    buf.writeUInt16LE(buf.readUInt16LE(0) === 3413 ? 3439 : 3413, 0);
    writeFileSync(join(d, f), buf);
  }
  const { code, json } = reproveJson(`${d}/a.pyc`, `${d}/b.pyc`);
  assert.equal(code, 1);
  assert.deepEqual(names(json), ['Python code object (marshal, hex)']);
  const hex = child(json, 'Python code object (marshal, hex)')!;
  assert.match(hex.comments!.join('\n'), /No python3\.(8|10) with magic number \d+ on PATH|Cannot disassemble/);
  assert.match(hex.unified_diff!, /^@@ .*\n[ -]00000000: e3/);
});

test('a truncated pyc gets a clear comment and the binary fallback', { skip }, (t) => {
  const d = workdir(t);
  compile(d, 'm.py', SOURCE, '2020-01-01', 'a.pyc');
  sh(d, 'head -c 10 a.pyc > cut.pyc');
  const { code, json, stderr } = reproveJson(`${d}/a.pyc`, `${d}/cut.pyc`);
  assert.equal(code, 1);
  assert.doesNotMatch(stderr, /\n\s+at /);
  assert.match(json!.comments!.join('\n'), /Cannot compare as pyc: Cannot read pyc header of \S*cut\.pyc: it is 10 bytes, a Python 3\.\d+ header is 16/);
});
