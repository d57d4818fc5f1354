// ELF files built at test time with gcc, objcopy, ar and go, compared section by
// section; plus synthesised hostile ELF files (sections past the end, 100 000
// sections, overlaps, 32-bit big-endian) that must give a report, never a crash.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { verdefVersions, verneedVersions } from '../src/formats/elf-versions.js';
import { diffoscopeJson, find, haveCommand, type JsonNode, memberPaths, reproveJson, sh, skipOutsideCi, workdir } from './helpers.js';

const skip = skipOutsideCi(!haveCommand('gcc') || !haveCommand('readelf') || !haveCommand('objcopy') ? 'gcc, readelf or objcopy missing' : false);
const noGo = !haveCommand('go') ? 'go missing' : false;
const noDiffoscope = !haveCommand('diffoscope') ? 'diffoscope missing' : false;

type Change = { field: string; value1?: string; value2?: string };


function all(root: JsonNode | null | undefined, out: JsonNode[] = []): JsonNode[] {
  for (const c of root?.details ?? []) {
    out.push(c);
    all(c, out);
  }
  return out;
}

const changes = (root: JsonNode | null): Change[] => all(root).flatMap((n) => (n['reprove_changes'] as Change[] | undefined) ?? []);
const change = (root: JsonNode | null, field: string) => changes(root).find((c) => c.field === field);
const sections = (root: JsonNode | null) => all(root).map((n) => n.source1).filter((s) => s.startsWith('ELF section ') && s !== 'ELF section table').map((s) => s.slice(12));
const sorted = (s: Set<string>) => [...s].sort();

const PROG = `#include <stdio.h>
#include <assert.h>
int counter = 3;
int main(int argc, char **argv) { assert(argc > 0); printf("%s %d\\n", __FILE__, counter); return 0; }
`;

/** The same C source built in two directories with `flags`. */
function cTwice(d: string, flags: string): void {
  for (const sub of ['one', 'two']) {
    sh(d, `mkdir -p ${sub}`);
    writeFileSync(`${d}/${sub}/prog.c`, PROG);
    sh(`${d}/${sub}`, `gcc ${flags} prog.c -o prog`);
  }
}

const buildId = (d: string, file: string) => /Build ID: ([0-9a-f]+)/.exec(sh(d, `readelf -n ${file}`))![1]!;

test('C built with -g in two directories: build-id note and .debug_* sections differ', { skip }, (t) => {
  const d = workdir(t);
  cTwice(d, '-g -O1');
  const { code, json, stderr } = reproveJson(`${d}/one/prog`, `${d}/two/prog`);
  assert.equal(code, 1, stderr);
  const id = change(json, 'NT_GNU_BUILD_ID')!;
  assert.deepEqual([id.value1, id.value2], [buildId(d, 'one/prog'), buildId(d, 'two/prog')]);
  assert.notEqual(id.value1, id.value2);
  const notes = find(json, 'ELF section .note.gnu.build-id')!;
  assert.match(notes.unified_diff!, new RegExp(`-GNU NT_GNU_BUILD_ID: ${id.value1}\\n\\+GNU NT_GNU_BUILD_ID: ${id.value2}`));
  const differing = sections(json);
  assert.ok(differing.some((s) => s.startsWith('.debug_')), differing.join());
  // The build path is in the DWARF line strings, shown as strings.
  const lineStr = find(json, 'ELF section .debug_line_str')!;
  assert.match(lineStr.unified_diff!, new RegExp(`-${d}/one\\n`));
  assert.ok(change(json, 'section:.debug_line_str'));
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/one/prog`, `${d}/two/prog`))));
});

test('C built with DWARF 4 in directories of different lengths: DWARF is shown by readelf, data sections as strings and bytes', { skip }, (t) => {
  const d = workdir(t);
  for (const sub of ['a', 'bbbbbbbbbbbb']) {
    sh(d, `mkdir -p ${sub}`);
    writeFileSync(`${d}/${sub}/prog.c`, PROG);
    sh(`${d}/${sub}`, `gcc -gdwarf-4 -O1 -o prog $PWD/prog.c`);
  }
  const { json } = reproveJson(`${d}/a/prog`, `${d}/bbbbbbbbbbbb/prog`);
  // DWARF 4 keeps the directory in .debug_line itself: a section of plain data whose strings differ.
  const line = find(json, 'ELF section .debug_line')!;
  assert.match(line.comments!.join('\n'), /readelf --wide --debug-dump=rawline/);
  assert.deepEqual(line.details ?? [], []);
  const rodata = find(json, 'ELF section .rodata')!;
  assert.match(rodata.comments!.join('\n'), /Strings of 8 or more printable characters/);
  assert.deepEqual(rodata.details!.map((n) => n.source1), ['hex dump']);
});

test('C built with -ffile-prefix-map and no build-id in two directories: identical', { skip }, (t) => {
  const d = workdir(t);
  for (const sub of ['one', 'two']) {
    sh(d, `mkdir -p ${sub}`);
    writeFileSync(`${d}/${sub}/prog.c`, PROG);
    sh(`${d}/${sub}`, 'gcc -g -O1 -ffile-prefix-map=$PWD=. -Wl,--build-id=none prog.c -o prog');
  }
  const { code, json } = reproveJson(`${d}/one/prog`, `${d}/two/prog`);
  assert.equal(code, 0, JSON.stringify(json));
});

test('objects differing in code: disassembly, relocations and strings of only the differing sections', { skip }, (t) => {
  const d = workdir(t);
  writeFileSync(`${d}/a.c`, 'int counter;\nint f(void) { return 1; }\nconst char *s(void) { return "one"; }\n');
  writeFileSync(`${d}/b.c`, 'int counter;\nint f(void) { return counter; }\nconst char *s(void) { return "two"; }\n');
  sh(d, 'gcc -O1 -c a.c -o a.o && gcc -O1 -c b.c -o b.o');
  const { code, json } = reproveJson(`${d}/a.o`, `${d}/b.o`);
  assert.equal(code, 1);
  const text = find(json, 'ELF section .text')!;
  assert.ok(text.comments!.some((c) => /objdump/.test(c)));
  assert.match(text.unified_diff!, /\n-\s+mov\s+\$0x1,%eax\n/);
  assert.match(find(json, 'ELF section .rela.text')!.unified_diff!, /\+0x\w+ type=\d+ counter - 0x4\n/);
  assert.match(find(json, 'ELF section .rodata.str1.1')!.unified_diff!, /^@@ .* @@\n-one\n\+two\n$/);
  assert.ok(!sections(json).includes('.comment'), 'equal sections are not shown');
});

test('code that moved: calls and jumps that reach the same symbol are not shown as changes', { skip }, (t) => {
  const d = workdir(t);
  const g = '__attribute__((noinline)) int g(int x) { return x * 3; }\n';
  const main = 'int main(int argc, char **argv) { (void)argv; return g(argc) + 1; }\n';
  writeFileSync(`${d}/a.c`, g + main);
  // pad comes first, so g and main sit 16 or more bytes further on and every call target address changes.
  writeFileSync(`${d}/b.c`, '__attribute__((noinline, used)) int pad(int x) { return x * 7 + 5; }\n' + g + main);
  sh(d, 'gcc -O0 -fno-reorder-functions -o a a.c && gcc -O0 -fno-reorder-functions -o b b.c');
  assert.notEqual(sh(d, 'objdump -d --no-show-raw-insn -j .text a | grep "call.*<g>"'), sh(d, 'objdump -d --no-show-raw-insn -j .text b | grep "call.*<g>"'), 'the call to g is at another address');
  const { json } = reproveJson(`${d}/a`, `${d}/b`);
  const text = find(json, 'ELF section .text')!.unified_diff!;
  const changed = text.split('\n').filter((l) => /^[-+]/.test(l));
  assert.ok(changed.some((l) => /^\+\s+imul\s+\$0x7,/.test(l) || /^\+<pad>:$/.test(l)), 'pad is shown as added');
  assert.deepEqual(changed.filter((l) => /<g>/.test(l) && /call/.test(l)), [], 'the call to g is the same instruction');
  assert.ok(!changed.some((l) => /^[-+]\s*[0-9a-f]+:/.test(l)), 'no address column');
});

test('symbol versions: a version added by a version script shows decoded in .gnu.version_d and .gnu.version', { skip }, (t) => {
  const d = workdir(t);
  writeFileSync(`${d}/a.c`, 'int foo(void) { return 1; }\n');
  writeFileSync(`${d}/b.c`, 'int foo(void) { return 1; }\nint bar(void) { return 2; }\n');
  writeFileSync(`${d}/a.map`, 'V1 { global: foo; local: *; };\n');
  writeFileSync(`${d}/b.map`, 'V1 { global: foo; local: *; };\nV2 { global: bar; } V1;\n');
  for (const s of ['a', 'b']) sh(d, `gcc -shared -fPIC -O1 -Wl,--version-script=${s}.map -Wl,-soname,libv.so.1 -o lib${s}.so ${s}.c`);
  const { json } = reproveJson(`${d}/liba.so`, `${d}/libb.so`);
  const verdef = find(json, 'ELF section .gnu.version_d')!.unified_diff!;
  assert.match(verdef, /\n 2: V1\n/);
  assert.match(verdef, /\n\+3: V2 parents: V1\n/);
  assert.match(verdef, /^@@[^\n]*\n 1: libv\.so\.1 \(base\)\n/);
  const versym = find(json, 'ELF section .gnu.version')!.unified_diff!;
  assert.match(versym, /\n\+bar@@V2\n/);
  assert.match(versym, /\n foo@@V1\n/);
  // Hostile chains end with a line saying where, never a read outside the section or a loop.
  const rec = Buffer.alloc(20);
  rec.writeUInt16LE(1, 0);
  rec.writeUInt16LE(1, 6); // one name
  rec.writeUInt32LE(0xfffffff0, 12); // its record far outside
  rec.writeUInt32LE(0xfffffff0, 16); // and the next definition too
  assert.equal(verdefVersions(rec, Buffer.from('\0'), true).text, '(version name at offset 4294967280 is outside the section)\n0: (no name)\n');
  // A chain is never followed further than the section could hold records.
  const looped = Buffer.concat([rec, rec]);
  looped.writeUInt32LE(20, 16);
  looped.writeUInt32LE(20, 36);
  assert.equal(verdefVersions(looped, Buffer.from('\0'), true).text.split('\n').filter((l) => /^0:/.test(l)).length, 2);
  assert.equal(verneedVersions(Buffer.alloc(5), Buffer.alloc(0), true).text, '');
});

test('several small code sections differ: each shows exactly what objdump prints for it alone', { skip }, (t) => {
  const d = workdir(t);
  writeFileSync(`${d}/a.c`, 'int f(void) { return 1; }\nint g(void) { return 2; }\nint h(void) { return 5; }\n');
  writeFileSync(`${d}/b.c`, 'int f(void) { return 3; }\nint g(void) { return 4; }\nint h(void) { return 6; }\n');
  sh(d, 'gcc -O1 -ffunction-sections -c a.c -o a.o && gcc -O1 -ffunction-sections -c b.c -o b.o');
  const { json } = reproveJson(`${d}/a.o`, `${d}/b.o`);
  const alone = (file: string, section: string) =>
    sh(d, `objdump -d --no-show-raw-insn --no-addresses -j ${section} ${file}`)
      .replace(/^[^\n]*:\s+file format [^\n]*\n/m, '')
      .replace(/^\n+/, '');
  for (const [section, before, after] of [['.text.f', 1, 3], ['.text.g', 2, 4], ['.text.h', 5, 6]] as const) {
    const view = find(json, `ELF section ${section}`);
    assert.ok(view, `${section} is shown`);
    assert.match(view.unified_diff!, new RegExp(`\\n-\\s+mov\\s+\\$0x${before},%eax\\n\\+\\s+mov\\s+\\$0x${after},%eax\\n`));
    // The view is the diff of the two single-section disassemblies: its removed and kept lines are a's.
    const removedOrKept = view.unified_diff!.split('\n').filter((l) => l[0] === '-' || l[0] === ' ').map((l) => l.slice(1));
    const aLines = alone('a.o', section).split('\n');
    for (const l of removedOrKept) assert.ok(aLines.includes(l), `${JSON.stringify(l)} is in objdump -j ${section} a.o`);
  }
});

test('objdump without --no-addresses (before binutils 2.36): asked once, both sides disassembled with the address column stripped', { skip }, (t) => {
  const d = workdir(t);
  const real = sh(d, 'command -v objdump').trim();
  // A stand-in for an old objdump: rejects --no-addresses, leaves it out of --help, logs every run.
  sh(d, 'mkdir bin');
  writeFileSync(
    `${d}/bin/objdump`,
    `#!/bin/sh\necho "$*" >> ${d}/runs\nfor a in "$@"; do\n  case "$a" in\n    --no-addresses) echo "objdump: unrecognized option '--no-addresses'" >&2; exit 1;;\n    --help) ${real} --help | grep -v -- --no-addresses; exit 0;;\n  esac\ndone\nexec ${real} "$@"\n`,
    { mode: 0o755 },
  );
  writeFileSync(`${d}/a.c`, 'int f(void) { return 1; }\nint g(void) { return 2; }\nint main(void) { return f() + g(); }\n');
  writeFileSync(`${d}/b.c`, 'int f(void) { return 3; }\nint g(void) { return 4; }\nint main(void) { return f() + g(); }\n');
  sh(d, 'gcc -O1 -ffunction-sections -c a.c -o a.o && gcc -O1 -ffunction-sections -c b.c -o b.o');
  const path = process.env.PATH;
  process.env.PATH = `${d}/bin:${path}`;
  let json: JsonNode | null;
  try {
    json = reproveJson(`${d}/a.o`, `${d}/b.o`).json;
  } finally {
    process.env.PATH = path;
  }
  const runs = readFileSync(`${d}/runs`, 'utf8').trim().split('\n');
  assert.deepEqual(runs.filter((r) => r === '--help'), ['--help'], 'objdump is asked once');
  assert.deepEqual(runs.filter((r) => r.includes('--no-addresses')), [], 'no run with a flag it lacks');
  const stripped = (file: string, section: string) =>
    sh(d, `objdump -d --no-show-raw-insn -j ${section} ${file}`)
      .replace(/^[^\n]*:\s+file format [^\n]*\n/m, '')
      .replace(/^[ \t]*[0-9a-f]+:\t/gm, '\t')
      .replace(/^\n+/, '');
  for (const [section, before, after] of [['.text.f', 1, 3], ['.text.g', 2, 4]] as const) {
    const view = find(json, `ELF section ${section}`)!;
    assert.ok(view.comments!.includes('Disassembled with objdump -d --no-show-raw-insn'), `${section}: ${view.comments!.join('; ')}`);
    assert.match(view.unified_diff!, new RegExp(`\\n-\\tmov\\s+\\$0x${before},%eax\\n\\+\\tmov\\s+\\$0x${after},%eax\\n`));
    const bLines = stripped('b.o', section).split('\n');
    for (const l of view.unified_diff!.split('\n').filter((x) => x[0] === '+' || x[0] === ' ')) assert.ok(bLines.includes(l.slice(1)), `${JSON.stringify(l)} is in b.o's ${section}, address column stripped`);
  }
});

test('Go built in two directories: Go build ID and paths differ; -trimpath -ldflags=-buildid= is bit-identical', { skip: skip || noGo }, (t) => {
  const d = workdir(t);
  const env = { GOCACHE: `${d}/cache`, GOPATH: `${d}/gopath`, HOME: d, CGO_ENABLED: '0', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  for (const sub of ['one', 'two']) {
    sh(d, `mkdir -p ${sub}`);
    writeFileSync(`${d}/${sub}/main.go`, 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n');
    writeFileSync(`${d}/${sub}/go.mod`, 'module example.com/hello\n\ngo 1.19\n');
    sh(`${d}/${sub}`, 'go build -o plain . && go build -trimpath -o trim . && go build -trimpath -ldflags=-buildid= -o repro .', env);
  }
  const { code, json } = reproveJson(`${d}/one/plain`, `${d}/two/plain`);
  assert.equal(code, 1);
  const goId = (f: string) => sh(d, `go tool buildid ${f}`, env).trim();
  const note = change(json, 'NT_GO_BUILDID')!;
  assert.deepEqual([note.value1, note.value2], [goId('one/plain'), goId('two/plain')]);
  assert.deepEqual(change(json, 'go build id'), { ...note, field: 'go build id' });
  // The source paths are in the pc-line table and the DWARF line program.
  assert.match(find(json, 'ELF section .gopclntab')!.unified_diff!, /\/one\/mai/);
  assert.match(find(json, 'ELF section .debug_line')!.unified_diff!, new RegExp(`-.*${d}/one\\n`));

  const trim = reproveJson(`${d}/one/plain`, `${d}/one/trim`);
  assert.equal(trim.code, 1);
  assert.deepEqual(change(trim.json, 'go buildinfo:-trimpath'), { field: 'go buildinfo:-trimpath', value2: 'true' });
  assert.match(find(trim.json, 'ELF section .go.buildinfo')!.unified_diff!, / go version: go1\.\d+.*\n path\texample\.com\/hello\n[^]*\n\+build\t-trimpath=true\n/);

  assert.ok(readFileSync(`${d}/one/repro`).equals(readFileSync(`${d}/two/repro`)));
  assert.equal(reproveJson(`${d}/one/repro`, `${d}/two/repro`).code, 0);
});

test('objcopy --add-gnu-debuglink with two different debug files: name and CRC; the debug files compared too', { skip }, (t) => {
  const d = workdir(t);
  cTwice(d, '-g -O1');
  for (const sub of ['one', 'two']) sh(`${d}/${sub}`, 'objcopy --only-keep-debug prog prog.debug && strip --strip-debug prog && objcopy --add-gnu-debuglink=prog.debug prog');
  const { code, json } = reproveJson(`${d}/one/prog`, `${d}/two/prog`);
  assert.equal(code, 1);
  const crc = (f: string) => `0x${crc32(readFileSync(f)).toString(16).padStart(8, '0')}`;
  const link = change(json, '.gnu_debuglink')!;
  assert.deepEqual([link.value1, link.value2], [`prog.debug ${crc(`${d}/one/prog.debug`)}`, `prog.debug ${crc(`${d}/two/prog.debug`)}`]);
  assert.match(find(json, 'ELF section .gnu_debuglink')!.unified_diff!, /^@@ -1 \+1 @@\n-prog\.debug 0x[0-9a-f]{8}\n\+prog\.debug 0x[0-9a-f]{8}\n$/);
  // The separate debug files (NOBITS code sections) show where the CRC comes from.
  const dbg = reproveJson(`${d}/one/prog.debug`, `${d}/two/prog.debug`);
  assert.equal(dbg.code, 1);
  assert.ok(sections(dbg.json).includes('.debug_line_str'), sections(dbg.json).join());
  assert.ok(!sections(dbg.json).includes('.text'), 'NOBITS sections have no bytes to differ');
});

test('a static library with one changed object: member path into the .o and its .text', { skip }, (t) => {
  const d = workdir(t);
  sh(d, `printf 'int f(void){return 1;}\\n' > a.c && printf 'int g(void){return 2;}\\n' > b.c && gcc -c a.c && gcc -c b.c && ar rcsD x.a a.o b.o`);
  sh(d, `printf 'int f(void){return 3;}\\n' > a.c && gcc -c a.c && ar rcsD y.a a.o b.o`);
  const { code, json } = reproveJson(`${d}/x.a`, `${d}/y.a`);
  assert.equal(code, 1);
  assert.deepEqual(sorted(memberPaths(json)), ['a.o']);
  const member = find(json, 'a.o')!;
  assert.equal(member['reprove_format'], 'elf');
  assert.deepEqual(sections(member), ['.text']);
  assert.match(find(member, 'ELF section .text')!.unified_diff!, /-\s+mov\s+\$0x1,%eax\n\+\s+mov\s+\$0x3,%eax\n/);
  if (!noDiffoscope) assert.deepEqual(sorted(memberPaths(json)), sorted(memberPaths(diffoscopeJson(`${d}/x.a`, `${d}/y.a`))));
});

// ---- Synthesised ELF files -------------------------------------------------

interface SynthSection {
  name: string;
  type: number;
  flags?: number;
  data?: Buffer;
  /** Overrides the offset the builder gives the data. */
  offset?: number;
  size?: number;
}

/**
 * An ELF file laid out as: header, section data, .shstrtab, section header
 * table. Over 0xff00 sections use extended numbering (count and string table
 * index in section 0).
 */
function synthElf(opts: { is64: boolean; le: boolean; machine?: number; shstrndx?: number; sections: SynthSection[] }): Buffer {
  const { is64, le } = opts;
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const names: Buffer[] = [Buffer.from([0])];
  let namesLen = 1;
  const nameOff = (n: string) => {
    const at = namesLen;
    const b = Buffer.from(n + '\0');
    names.push(b);
    namesLen += b.length;
    return at;
  };
  const secs = [...opts.sections, { name: '.shstrtab', type: 3 }];
  const offs = secs.map((s) => nameOff(s.name));
  const shstrtab = Buffer.concat(names);
  const datas = secs.map((s, i) => (i === secs.length - 1 ? shstrtab : (s.data ?? Buffer.alloc(0))));
  let at = ehsize;
  const placed = datas.map((b) => {
    const o = at;
    at += b.length;
    return o;
  });
  const shoff = (at + 7) & ~7;
  const count = secs.length + 1;
  const extended = count >= 0xff00;
  const buf = Buffer.alloc(shoff + count * shentsize);
  buf.write('\x7fELF', 0, 'latin1');
  buf[4] = is64 ? 2 : 1;
  buf[5] = le ? 1 : 2;
  buf[6] = 1;
  const u16 = (o: number, v: number) => (le ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  const u32 = (o: number, v: number) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const word = (o: number, v: number) => (is64 ? (le ? buf.writeBigUInt64LE(BigInt(v), o) : buf.writeBigUInt64BE(BigInt(v), o)) : u32(o, v));
  u16(16, 1); // ET_REL
  u16(18, opts.machine ?? (is64 ? 62 : 8));
  u32(20, 1);
  const p = is64 ? 8 : 4;
  word(24 + 2 * p, shoff);
  const h = 24 + 3 * p;
  u16(h + 4, ehsize);
  u16(h + 10, shentsize);
  const strndx = opts.shstrndx ?? count - 1;
  u16(h + 12, extended ? 0 : count);
  u16(h + 14, extended ? 0xffff : strndx);
  datas.forEach((b, i) => b.copy(buf, placed[i]!));
  if (extended) {
    // Section 0: sh_size is the count, sh_link the string table index.
    word(shoff + (is64 ? 32 : 20), count);
    u32(shoff + (is64 ? 40 : 24), strndx);
  }
  secs.forEach((s, i) => {
    const o = shoff + (i + 1) * shentsize;
    u32(o, offs[i]!);
    u32(o + 4, s.type);
    if (is64) {
      word(o + 8, s.flags ?? 0);
      word(o + 24, s.offset ?? placed[i]!);
      word(o + 32, s.size ?? datas[i]!.length);
      word(o + 48, 1);
    } else {
      u32(o + 8, s.flags ?? 0);
      u32(o + 16, s.offset ?? placed[i]!);
      u32(o + 20, s.size ?? datas[i]!.length);
      u32(o + 32, 1);
    }
  });
  return buf;
}

/** A GNU build-id note in the given byte order. */
function buildIdNote(le: boolean, id: Buffer): Buffer {
  const h = Buffer.alloc(12);
  const w = (v: number, o: number) => (le ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w(4, 0);
  w(id.length, 4);
  w(3, 8);
  return Buffer.concat([h, Buffer.from('GNU\0'), id]);
}

/** Compares two synthesised files: exit 1, no stack trace; returns the report and every comment in it. */
function hostile(d: string, a: Buffer, b: Buffer): { json: JsonNode | null; comments: string } {
  writeFileSync(`${d}/a`, a);
  writeFileSync(`${d}/b`, b);
  const { code, json, stderr } = reproveJson(`${d}/a`, `${d}/b`);
  assert.equal(code, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /);
  return { json, comments: [json!, ...all(json)].flatMap((n) => n.comments ?? []).join('\n') };
}

test('hostile: e_shoff past the end of the file is a clear error and the binary fallback', (t) => {
  const d = workdir(t);
  const good = synthElf({ is64: true, le: true, sections: [{ name: '.data', type: 1, data: Buffer.from('hello') }] });
  const bad = Buffer.from(good);
  bad.writeBigUInt64LE(1n << 40n, 40);
  const { comments } = hostile(d, good, bad);
  assert.match(comments, /Cannot compare as elf: Cannot read the section header table of \S*b: e_shoff 1099511627776 is past the end of the file \(\d+ bytes\)/);
  const many = Buffer.from(good);
  many.writeUInt16LE(60000, 60); // e_shnum far beyond what the file holds
  assert.match(hostile(d, good, many).comments, /Cannot read the section header table of \S*b: 60000 entries of 64 bytes at offset \d+ run past the end of the file/);
});

test('hostile: a section past the end, overlapping sections, a bad name table index: reported, not fatal', (t) => {
  const d = workdir(t);
  const base = (extra: SynthSection[], shstrndx?: number) =>
    synthElf({ is64: true, le: true, shstrndx, sections: [{ name: '.data', type: 1, data: Buffer.from('abcdefgh') }, ...extra] });
  const past = hostile(d, base([]), base([{ name: '.far', type: 1, offset: 1 << 30, size: 4096 }]));
  assert.match(past.comments, /section 2 \(4096 bytes at offset 1073741824\) runs past the end of the file/);
  assert.ok(find(past.json, 'ELF section table'));
  const over = hostile(d, base([]), base([{ name: '.alias', type: 1, offset: 64 + 4, size: 8 }]));
  assert.match(over.comments, /sections \.data and \.alias overlap at offset 68/);
  const names = hostile(d, base([]), base([], 999));
  assert.match(names.comments, /the section name string table index 999 is out of range \(3 sections\)/);
});

// The timeout only stops a hang (a loop per section pair would take hours); speed is measured in bench/, not here.
test('hostile: 100 000 sections (extended numbering) are read; only the changed one is shown', { timeout: 300_000 }, (t) => {
  const d = workdir(t);
  const make = (changed: string) =>
    synthElf({ is64: true, le: true, sections: Array.from({ length: 100_000 }, (_, i) => ({ name: `.s${i}`, type: 1, data: Buffer.from(i === 77_777 ? changed : 'x') })) });
  const { json } = hostile(d, make('x'), make('y'));
  assert.deepEqual(sections(json), ['.s77777']);
  assert.deepEqual(change(json, 'section:.s77777')?.value1?.startsWith('1 bytes'), true);
});

test('hostile: 32-bit big-endian ELF: header, notes decoded in its byte order, foreign code as hex', (t) => {
  const d = workdir(t);
  const idA = Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex');
  const idB = Buffer.from('ffeeddccbbaa99887766554433221100ffeeddcc', 'hex');
  const make = (id: Buffer, code: string) =>
    synthElf({ is64: false, le: false, sections: [{ name: '.note.gnu.build-id', type: 7, flags: 2, data: buildIdNote(false, id) }, { name: '.text', type: 1, flags: 6, data: Buffer.from(code) }] });
  const { json, comments } = hostile(d, make(idA, 'ABCD'), make(idB, 'ABCE'));
  assert.deepEqual(change(json, 'NT_GNU_BUILD_ID'), { field: 'NT_GNU_BUILD_ID', value1: idA.toString('hex'), value2: idB.toString('hex') });
  // MIPS code that this objdump may not disassemble: the hex of the section, with the reason if there is one.
  const text = find(json, 'ELF section .text')!;
  assert.ok(text.unified_diff, comments);
  const header = hostile(d, make(idA, 'ABCD'), synthElf({ is64: true, le: false, sections: [] }));
  const h = find(header.json, 'ELF header')!;
  assert.match(h.unified_diff!, /-EI_CLASS: ELF32\n\+EI_CLASS: ELF64\n/);
  assert.match(h.unified_diff!, / EI_DATA: 2's complement, big endian\n/);
});
