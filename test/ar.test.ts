// ar archives made at test time with binutils ar (GNU long names, symbol
// tables, deterministic and non-deterministic mode), hand-built BSD archives,
// and damaged ones.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { diffoscopeJson, find, haveCommand, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const LONG = 'bar_with_a_very_long_name_indeed.o';
const skip = skipOutsideCi(!haveCommand('ar') || !haveCommand('gcc') ? 'ar or gcc missing' : false);
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;


const sorted = (s: Set<string>) => [...s].sort();

/** Two objects (one with a name too long for the 16-byte field), compiled once per test. */
function objects(d: string, fBody = 'return 1;', extra = ''): void {
  sh(d, `printf 'int f(void){${fBody}}\\n${extra}' > a.c && printf 'int g(void){return 2;}\\n' > b.c && gcc -c a.c -o foo.o && gcc -c b.c -o ${LONG}`);
}

/** An ar archive by hand: BSD "#1/len" names, odd sizes padded with "\n". */
function bsdAr(members: [string, string][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, text] of members) {
    const body = Buffer.concat([Buffer.from(name), Buffer.from(text)]);
    const h = `#1/${name.length}`.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(body.length).padEnd(10) + '`\n';
    parts.push(Buffer.from(h, 'latin1'), body);
    if (body.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

test('ar rcsU vs ar rcsD: mtimes, modes and the symbol table header differ, no member content', { skip }, (t) => {
  const d = workdir(t);
  objects(d);
  sh(d, `touch -d 2020-01-01 foo.o ${LONG} && ar rcsU u.a foo.o ${LONG} && ar rcsD det.a foo.o ${LONG}`);
  const { code, json, stderr } = reproveJson(`${d}/u.a`, `${d}/det.a`);
  assert.equal(code, 1, stderr);
  const list = find(json, 'file list')!;
  assert.match(list.unified_diff!, new RegExp(`\\n-.*2020-01-01 00:00:00 ${LONG} \\[raw mode=100644\\]\\n`));
  assert.match(list.unified_diff!, new RegExp(`\\n\\+-rw-r--r-- 0/0 .* 1970-01-01 00:00:00 ${LONG}\\n`));
  const fields = new Set((list['reprove_changes'] as { field: string }[]).map((c) => c.field));
  assert.ok(fields.has('mtime') && fields.has('extra:raw mode'), [...fields].join());
  const symbols = find(json, 'ar symbol table')!;
  assert.match(symbols.unified_diff!, /\n Archive index:\n f in foo\.o\n g in bar_with/);
  assert.deepEqual(sorted(memberPaths(json)), []);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/u.a`, `${d}/det.a`))));
});

test('a changed object in a static library: that member and the symbol index, GNU long names kept', { skip }, (t) => {
  const d = workdir(t);
  objects(d);
  sh(d, `ar rcsD a.a foo.o ${LONG}`);
  objects(d, 'return 3;', 'int h;\\n');
  sh(d, `ar rcsD b.a foo.o ${LONG}`);
  const { code, json } = reproveJson(`${d}/a.a`, `${d}/b.a`);
  assert.equal(code, 1);
  assert.deepEqual(sorted(memberPaths(json)), ['foo.o']);
  assert.match(find(json, 'ar symbol table')!.unified_diff!, /\n f in foo\.o\n\+h in foo\.o\n g in bar_with_a_very_long_name_indeed\.o\n/);
  assert.match(find(json, 'file list')!.unified_diff!, new RegExp(` ${LONG}\\n`));
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.a`, `${d}/b.a`))));
});

test('text members with odd sizes: the changed one with its line diff; identical archives are identical', { skip }, (t) => {
  const d = workdir(t);
  sh(d, `printf 'odd\\n' > x.txt && printf 'one\\ntwo\\n' > y.txt && printf 'z\\n' > z.txt && ar rcD a.ar x.txt y.txt z.txt && cp a.ar same.ar && printf 'one\\nTWO\\n' > y.txt && ar rcD b.ar x.txt y.txt z.txt`);
  const { code, json } = reproveJson(`${d}/a.ar`, `${d}/b.ar`);
  assert.equal(code, 1);
  assert.deepEqual(sorted(memberPaths(json)), ['y.txt']);
  assert.match(find(json, 'y.txt')!.unified_diff!, /^@@ -1,2 \+1,2 @@\n one\n-two\n\+TWO\n$/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.ar`, `${d}/b.ar`))));
  assert.equal(reproveJson(`${d}/a.ar`, `${d}/same.ar`).code, 0);
});

test('BSD "#1/len" names are read, the name bytes are not part of the content', (t) => {
  const d = workdir(t);
  writeFileSync(`${d}/a.a`, bsdAr([['a_rather_long_member_name.txt', 'hello\nworld\n'], ['odd', 'x']]));
  writeFileSync(`${d}/b.a`, bsdAr([['a_rather_long_member_name.txt', 'hello\nthere\n'], ['odd', 'x']]));
  const { code, json } = reproveJson(`${d}/a.a`, `${d}/b.a`);
  assert.equal(code, 1);
  assert.deepEqual(sorted(memberPaths(json)), ['a_rather_long_member_name.txt']);
  assert.match(find(json, 'a_rather_long_member_name.txt')!.unified_diff!, /^@@ -1,2 \+1,2 @@\n hello\n-world\n\+there\n$/);
  assert.match(find(json, 'ar archive')?.unified_diff ?? '', /^$/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/a.a`, `${d}/b.a`))));
});

/** The root comment of a report on a damaged archive; never a crash or a stack trace. */
function damaged(a: string, b: string, extra: string[] = []): string {
  const { code, json, stderr } = reproveJson(a, b, extra);
  assert.ok(code === 1 || code === 2, `exit ${code}`);
  assert.doesNotMatch(stderr, /\n\s+at /);
  return [...(json?.comments ?? []), stderr].join('\n');
}

test('damaged ar archives: a clear comment, the binary fallback, no crash', { skip }, (t) => {
  const d = workdir(t);
  objects(d);
  sh(d, `ar rcsD good.a foo.o ${LONG} && head -c 1000 good.a > cut.a`);
  assert.match(damaged(`${d}/good.a`, `${d}/cut.a`), /Cannot compare as ar: Cannot read ar member "foo\.o\/" at offset \d+ of \S*cut\.a: its \d+ bytes run past the end of the archive \(\d+ remain\)/);
  const good = sh(d, 'base64 -w0 good.a');
  const bytes = Buffer.from(good, 'base64');
  const big = Buffer.from(bytes);
  big.write('99999999  ', 8 + 48, 'latin1'); // size field of the first header
  writeFileSync(`${d}/big.a`, big);
  assert.match(damaged(`${d}/good.a`, `${d}/big.a`), /Cannot read ar member "\/" at offset 8 of \S*big\.a: its 99999999 bytes run past the end/);
  for (const [field, at, text] of [['mtime', 16, '12x4        '], ['uid', 28, '-1    '], ['mode', 40, '10 644  '], ['size', 48, '0x10      ']] as const) {
    const bad = Buffer.from(bytes);
    bad.write(text, 8 + at, 'latin1');
    writeFileSync(`${d}/bad.a`, bad);
    assert.match(damaged(`${d}/good.a`, `${d}/bad.a`), new RegExp(`Cannot read ar header at offset 8 of \\S*bad\\.a: ${field} field ".*" is not a (decimal|octal) number`));
  }
  const noEnd = Buffer.from(bytes);
  noEnd.write('xx', 8 + 58, 'latin1');
  writeFileSync(`${d}/noend.a`, noEnd);
  assert.match(damaged(`${d}/good.a`, `${d}/noend.a`), /no "`\\n" terminator/);
});

test('--max-members stops a long archive with a stated limit', (t) => {
  const d = workdir(t);
  writeFileSync(`${d}/a.a`, bsdAr([['1', 'a'], ['2', 'b'], ['3', 'c']]));
  writeFileSync(`${d}/b.a`, bsdAr([['1', 'a'], ['2', 'b'], ['3', 'd']]));
  assert.match(damaged(`${d}/a.a`, `${d}/b.a`, ['--max-members', '2']), /more than 2 members \(limit maxMembers, --max-members\)/);
});
