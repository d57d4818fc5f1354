// ELF objects, executables, shared libraries and separate debug files, 32/64-bit,
// both byte orders. Our own parser: header, program headers, section headers,
// every table checked against the file size before it is read. Only sections
// whose bytes differ are shown, each by kind: notes, .gnu_debuglink,
// .go.buildinfo, symbols, dynamic entries, strings, code (objdump, bounded),
// DWARF (readelf --debug-dump, bounded), the rest as hex.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { inflateSync } from 'node:zlib';
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { asReproveError, LimitError, malformed, ReproveError, truncated } from '../compare/errors.js';
import { haveTool, runTool, type ToolRun } from '../compare/tool.js';
import { WindowReader } from '../compare/window-reader.js';
import { compareBinary } from '../compare/hexdump.js';
import { decodeNotes, notesText, type Note } from './elf-notes.js';
import { cString, nameAt, Words } from './elf-words.js';
import { SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM, verdefVersions, verneedVersions, versymLines } from './elf-versions.js';
import type { Format } from './format.js';
import { decodeGoBuildInfo, goTextBuildId } from './go-buildinfo.js';
import { mapLimited } from '../compare/semaphore.js';
import { settleAll } from '../compare/settle.js';

const SHT_PROGBITS = 1;
const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;
const SHN_LORESERVE = 0xff00;
const SHF_STRINGS = 0x20;
const SHF_EXECINSTR = 0x4;
const SHF_COMPRESSED = 0x800;
/** Differing sections shown one by one; past this, named in a comment. */
const MAX_SECTION_VIEWS = 2000;
/** Largest section decoded into a textual view (notes, symbols, strings, ...). */
const MAX_VIEW = 32 << 20;
/** Disassembly of a section larger than this is limited to the window around its differences. */
const DISASSEMBLY_WINDOW = 256 << 10;
const CHUNK = 1 << 20;

interface Header {
  is64: boolean;
  le: boolean;
  fields: Record<string, string>;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
  ehsize: number;
  machine: number;
}

interface Section {
  index: number;
  name: string;
  /** Unique pairing key: the name, with " (2)" etc. for repeated names. */
  key: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** Bytes of the section that lie inside the file (offset..offset+avail). */
  avail: number;
}

interface Segment {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

interface Elf {
  a: Artifact;
  h: Header;
  segments: Segment[];
  sections: Section[];
  byKey: Map<string, Section>;
  comments: string[];
  /** The raw section header table and name table: equal bytes mean equal section tables. */
  rawTable: Buffer;
}

const TYPES: Record<number, string> = { 0: 'NONE (No file type)', 1: 'REL (Relocatable file)', 2: 'EXEC (Executable file)', 3: 'DYN (Shared object file)', 4: 'CORE (Core file)' };
const MACHINES: Record<number, string> = {
  2: 'SPARC', 3: 'Intel 80386', 8: 'MIPS R3000', 20: 'PowerPC', 21: 'PowerPC64', 22: 'IBM S/390', 40: 'ARM', 42: 'Renesas SH',
  43: 'Sparc v9', 50: 'Intel IA-64', 62: 'Advanced Micro Devices X86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};
const OSABI: Record<number, string> = { 0: 'UNIX - System V', 1: 'UNIX - HP-UX', 2: 'UNIX - NetBSD', 3: 'UNIX - GNU', 6: 'UNIX - Solaris', 9: 'UNIX - FreeBSD', 12: 'UNIX - OpenBSD', 97: 'ARM', 255: 'Standalone App' };
const SECTION_TYPES: Record<number, string> = {
  0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 5: 'HASH', 6: 'DYNAMIC', 7: 'NOTE', 8: 'NOBITS', 9: 'REL', 10: 'SHLIB',
  11: 'DYNSYM', 14: 'INIT_ARRAY', 15: 'FINI_ARRAY', 16: 'PREINIT_ARRAY', 17: 'GROUP', 18: 'SYMTAB_SHNDX', 19: 'RELR',
  0x6fff4c03: 'LLVM_ADDRSIG', 0x6ffffff5: 'GNU_ATTRIBUTES', 0x6ffffff6: 'GNU_HASH', 0x6ffffff7: 'GNU_LIBLIST', 0x6ffffff8: 'CHECKSUM',
  0x6ffffffd: 'VERDEF', 0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERSYM',
};
const SEGMENT_TYPES: Record<number, string> = {
  0: 'NULL', 1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 5: 'SHLIB', 6: 'PHDR', 7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME', 0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
};
const FLAG_LETTERS: [number, string][] = [[0x1, 'W'], [0x2, 'A'], [0x4, 'X'], [0x10, 'M'], [0x20, 'S'], [0x40, 'I'], [0x80, 'L'], [0x100, 'O'], [0x200, 'G'], [0x400, 'T'], [0x800, 'C'], [0x200000, 'R'], [0x80000000, 'E']];
const DYN_TAGS: Record<number, string> = {
  0: 'NULL', 1: 'NEEDED', 2: 'PLTRELSZ', 3: 'PLTGOT', 4: 'HASH', 5: 'STRTAB', 6: 'SYMTAB', 7: 'RELA', 8: 'RELASZ', 9: 'RELAENT', 10: 'STRSZ',
  11: 'SYMENT', 12: 'INIT', 13: 'FINI', 14: 'SONAME', 15: 'RPATH', 16: 'SYMBOLIC', 17: 'REL', 18: 'RELSZ', 19: 'RELENT', 20: 'PLTREL',
  21: 'DEBUG', 22: 'TEXTREL', 23: 'JMPREL', 24: 'BIND_NOW', 25: 'INIT_ARRAY', 26: 'FINI_ARRAY', 27: 'INIT_ARRAYSZ', 28: 'FINI_ARRAYSZ',
  29: 'RUNPATH', 30: 'FLAGS', 32: 'PREINIT_ARRAY', 33: 'PREINIT_ARRAYSZ', 35: 'RELRSZ', 36: 'RELR', 37: 'RELRENT',
  0x6ffffef5: 'GNU_HASH', 0x6ffffff0: 'VERSYM', 0x6ffffff9: 'RELACOUNT', 0x6ffffffa: 'RELCOUNT', 0x6ffffffb: 'FLAGS_1',
  0x6ffffffc: 'VERDEF', 0x6ffffffd: 'VERDEFNUM', 0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERNEEDNUM',
};
const DYN_STRING_TAGS = new Set([1, 14, 15, 29]);
const SYM_TYPES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
const SYM_BINDS = ['LOCAL', 'GLOBAL', 'WEAK'];
/** readelf --debug-dump groups, by section name (without the .debug_ prefix). */
const DWARF_GROUPS: Record<string, string> = {
  info: 'info', line: 'rawline', abbrev: 'abbrev', aranges: 'aranges', frame: 'frames', loc: 'loc', loclists: 'loc',
  ranges: 'ranges', rnglists: 'ranges', macro: 'macro', pubnames: 'pubnames', pubtypes: 'pubtypes', gnu_pubnames: 'pubnames',
};

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const named = (table: Record<number, string>, v: number) => table[v] ?? hex(v);

/** A file offset or size from the file: a number, or Infinity when it cannot be one. */
function num(v: bigint): number {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Infinity;
}

function readHeader(a: Artifact, buf: Buffer): Header {
  if (buf.length < 16) throw truncated(`Cannot read ELF header of ${a.name}: the file is only ${a.size} bytes`);
  const cls = buf[4];
  const data = buf[5];
  if (cls !== 1 && cls !== 2) throw malformed(`Cannot read ELF header of ${a.name}: EI_CLASS ${cls} is neither 1 (32-bit) nor 2 (64-bit)`);
  if (data !== 1 && data !== 2) throw malformed(`Cannot read ELF header of ${a.name}: EI_DATA ${data} is neither 1 (little endian) nor 2 (big endian)`);
  const is64 = cls === 2;
  const need = is64 ? 64 : 52;
  if (buf.length < need) throw truncated(`Cannot read ELF header of ${a.name}: needs ${need} bytes, the file is ${a.size}`);
  const w = new Words(buf, data === 1, is64);
  const p = is64 ? 8 : 4;
  const entry = w.word(24);
  const phoff = w.word(24 + p);
  const shoff = w.word(24 + 2 * p);
  const at = 24 + 3 * p;
  const h: Header = {
    is64,
    le: data === 1,
    machine: w.u16(18),
    phoff: num(phoff),
    shoff: num(shoff),
    ehsize: w.u16(at + 4),
    phentsize: w.u16(at + 6),
    phnum: w.u16(at + 8),
    shentsize: w.u16(at + 10),
    shnum: w.u16(at + 12),
    shstrndx: w.u16(at + 14),
    fields: {},
  };
  h.fields = {
    EI_CLASS: is64 ? 'ELF64' : 'ELF32',
    EI_DATA: h.le ? "2's complement, little endian" : "2's complement, big endian",
    EI_VERSION: String(buf[6]),
    EI_OSABI: named(OSABI, buf[7]!),
    EI_ABIVERSION: String(buf[8]),
    e_type: named(TYPES, w.u16(16)),
    e_machine: named(MACHINES, h.machine),
    e_version: hex(w.u32(20)),
    e_entry: hex(entry),
    e_phoff: String(phoff),
    e_shoff: String(shoff),
    e_flags: hex(w.u32(at)),
    e_ehsize: String(h.ehsize),
    e_phentsize: String(h.phentsize),
    e_phnum: String(h.phnum),
    e_shentsize: String(h.shentsize),
    e_shnum: String(h.shnum),
    e_shstrndx: String(h.shstrndx),
  };
  return h;
}

async function readSegments(a: Artifact, h: Header): Promise<Segment[]> {
  if (h.phnum === 0) return [];
  const min = h.is64 ? 56 : 32;
  if (h.phentsize < min) throw malformed(`Cannot read the program headers of ${a.name}: e_phentsize ${h.phentsize} is below ${min}`);
  const total = h.phnum * h.phentsize;
  if (!(h.phoff <= a.size && total <= a.size - h.phoff))
    throw truncated(`Cannot read the program headers of ${a.name}: ${h.phnum} entries of ${h.phentsize} bytes at offset ${h.phoff} run past the end of the file (${a.size} bytes)`);
  const w = new Words(await a.readExact(h.phoff, total, 'program headers'), h.le, h.is64);
  const out: Segment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = i * h.phentsize;
    if (h.is64)
      out.push({ type: w.u32(o), flags: w.u32(o + 4), offset: w.u64(o + 8), vaddr: w.u64(o + 16), paddr: w.u64(o + 24), filesz: w.u64(o + 32), memsz: w.u64(o + 40), align: w.u64(o + 48) });
    else
      out.push({ type: w.u32(o), offset: BigInt(w.u32(o + 4)), vaddr: BigInt(w.u32(o + 8)), paddr: BigInt(w.u32(o + 12)), filesz: BigInt(w.u32(o + 16)), memsz: BigInt(w.u32(o + 20)), flags: w.u32(o + 24), align: BigInt(w.u32(o + 28)) });
  }
  return out;
}

async function readSections(a: Artifact, h: Header, ctx: Context, comments: string[], raws: Buffer[]): Promise<Section[]> {
  if (h.shoff === 0) {
    if (h.shnum !== 0) comments.push(`${a.name}: e_shnum is ${h.shnum} but e_shoff is 0: no section header table`);
    return [];
  }
  const min = h.is64 ? 64 : 40;
  if (h.shentsize < min) throw malformed(`Cannot read the section header table of ${a.name}: e_shentsize ${h.shentsize} is below ${min}`);
  if (!(h.shoff <= a.size && h.shentsize <= a.size - h.shoff))
    throw truncated(`Cannot read the section header table of ${a.name}: e_shoff ${h.shoff} is past the end of the file (${a.size} bytes)`);
  // Extended numbering: section 0 holds the real count (sh_size) and string table index (sh_link).
  let count = h.shnum;
  let strndx = h.shstrndx;
  if (count === 0 || strndx === SHN_XINDEX) {
    const s0 = new Words(await a.readExact(h.shoff, h.shentsize, 'section header 0'), h.le, h.is64);
    if (count === 0) {
      const n = num(h.is64 ? s0.u64(32) : BigInt(s0.u32(20)));
      count = n === Infinity ? Number.MAX_SAFE_INTEGER : n;
    }
    if (strndx === SHN_XINDEX) strndx = s0.u32(h.is64 ? 40 : 24);
  }
  if (count > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has ${count} sections, more than ${ctx.limits.maxMembers} (--max-members)`);
  if (count > (a.size - h.shoff) / h.shentsize)
    throw truncated(`Cannot read the section header table of ${a.name}: ${count} entries of ${h.shentsize} bytes at offset ${h.shoff} run past the end of the file (${a.size} bytes)`);
  const w = new Words(await a.readExact(h.shoff, count * h.shentsize, 'section header table'), h.le, h.is64);
  const raw: Section[] = [];
  const nameOffs = new Uint32Array(count);
  // 64-bit words as numbers without BigInt (hot with many sections); unsafe values become Infinity.
  const u64n = (o: number) => {
    const [lo, hi] = h.le ? [w.u32(o), w.u32(o + 4)] : [w.u32(o + 4), w.u32(o)];
    return hi < 0x200000 ? hi * 0x100000000 + lo : Infinity;
  };
  let pastEnd = 0;
  for (let i = 0; i < count; i++) {
    const o = i * h.shentsize;
    nameOffs[i] = w.u32(o);
    const s: Section = h.is64
      ? { index: i, name: '', key: '', type: w.u32(o + 4), flags: w.u64(o + 8), addr: w.u64(o + 16), offset: u64n(o + 24), size: u64n(o + 32), link: w.u32(o + 40), info: w.u32(o + 44), addralign: u64n(o + 48), entsize: u64n(o + 56), avail: 0 }
      : { index: i, name: '', key: '', type: w.u32(o + 4), flags: BigInt(w.u32(o + 8)), addr: BigInt(w.u32(o + 12)), offset: w.u32(o + 16), size: w.u32(o + 20), link: w.u32(o + 24), info: w.u32(o + 28), addralign: w.u32(o + 32), entsize: w.u32(o + 36), avail: 0 };
    const hasBytes = s.type !== SHT_NOBITS && s.type !== 0;
    s.avail = !hasBytes ? 0 : s.offset >= a.size ? 0 : Math.min(s.size, a.size - s.offset);
    if (hasBytes && s.avail < s.size) {
      if (++pastEnd <= 5) comments.push(`${a.name}: section ${i} (${s.size} bytes at offset ${s.offset}) runs past the end of the file (${a.size} bytes); only the bytes inside it are compared`);
    }
    raw.push(s);
  }
  if (pastEnd > 5) comments.push(`${a.name}: ${pastEnd} sections in all run past the end of the file`);

  let names: Buffer = Buffer.alloc(0);
  if (strndx === 0 && count > 0) comments.push(`${a.name} has no section name string table (e_shstrndx is 0)`);
  else if (strndx >= count) comments.push(`${a.name}: the section name string table index ${strndx} is out of range (${count} sections)`);
  else {
    const st = raw[strndx]!;
    if (st.avail > MAX_VIEW * 4) comments.push(`${a.name}: section name table of ${st.avail} bytes is too large; names not read`);
    else names = await a.read(st.offset, st.avail);
  }
  raws.push(w.buf, names);
  let badNames = 0;
  const seen = new Map<string, number>();
  for (const s of raw) {
    const off = nameOffs[s.index]!;
    let name = names.length || off ? cString(names, off) : '';
    if (name === undefined) {
      badNames++;
      name = `<corrupt name, offset ${off}>`;
    }
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    s.name = name;
    s.key = n === 1 ? name : `${name} (${n})`;
  }
  const sections = raw;
  if (badNames) comments.push(`${a.name}: ${badNames} section names point outside the section name table`);
  overlaps(a, sections, comments);
  return sections;
}

/** Sections whose file bytes overlap are reported (sorted sweep, not pairwise). */
function overlaps(a: Artifact, sections: Section[], comments: string[]): void {
  const withBytes = sections.filter((s) => s.avail > 0).sort((x, y) => x.offset - y.offset);
  let found = 0;
  let prev: Section | undefined;
  for (const s of withBytes) {
    if (prev && s.offset < prev.offset + prev.avail) {
      if (++found <= 5) comments.push(`${a.name}: sections ${prev.key} and ${s.key} overlap at offset ${s.offset}`);
    }
    if (!prev || s.offset + s.avail > prev.offset + prev.avail) prev = s;
  }
  if (found > 5) comments.push(`${a.name}: ${found} section overlaps in all`);
}

async function readElf(a: Artifact, ctx: Context): Promise<Elf> {
  try {
    const h = readHeader(a, await a.read(0, 64));
    const comments: string[] = [];
    const segments = await readSegments(a, h);
    const raws: Buffer[] = [];
    const sections = await readSections(a, h, ctx, comments, raws);
    return { a, h, segments, sections, byKey: new Map(sections.map((s) => [s.key, s])), comments, rawTable: Buffer.concat(raws) };
  } catch (e) {
    // Located here: the engine would otherwise name the first side for either side's error.
    throw asReproveError(e, a.path);
  }
}

function flagString(f: bigint): string {
  const n = Number(f & 0xffffffffn);
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (n & bit) s += letter;
  const rest = f & ~BigInt(FLAG_LETTERS.reduce((m, [b]) => m | b, 0) >>> 0);
  return rest ? `${s}+${hex(rest)}` : s;
}

function sectionTable(e: Elf): string {
  const lines = e.sections.map(
    (s) =>
      `[${s.index}] ${s.name} ${named(SECTION_TYPES, s.type)} flags=${flagString(s.flags)} addr=${hex(s.addr)} off=${hex(s.offset)} size=${hex(s.size)} entsize=${hex(s.entsize)} link=${s.link} info=${s.info} align=${s.addralign}`,
  );
  return lines.length ? lines.join('\n') + '\n' : '';
}

function segmentTable(e: Elf): string {
  const lines = e.segments.map((p) => {
    const fl = `${p.flags & 4 ? 'R' : ' '}${p.flags & 2 ? 'W' : ' '}${p.flags & 1 ? 'E' : ' '}`;
    return `${named(SEGMENT_TYPES, p.type)} off=${hex(p.offset)} vaddr=${hex(p.vaddr)} paddr=${hex(p.paddr)} filesz=${hex(p.filesz)} memsz=${hex(p.memsz)} flags=${fl} align=${hex(p.align)}`;
  });
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Whether two byte ranges differ, and where the first and last differing chunks are. */
async function rangesDiffer(ra: WindowReader, rb: WindowReader, a: Artifact, b: Artifact, sa: Section, sb: Section): Promise<{ differ: boolean; first: number; last: number }> {
  if (sa.avail !== sb.avail || sa.size !== sb.size) return { differ: true, first: 0, last: Math.max(sa.avail, sb.avail) };
  if (sa.avail === 0) return { differ: false, first: 0, last: 0 };
  if (sa.avail <= 64 * 1024) {
    const [x, y] = [await ra.exact(sa.offset, sa.avail, `section ${sa.key}`), await rb.exact(sb.offset, sb.avail, `section ${sb.key}`)];
    return { differ: !x.equals(y), first: 0, last: sa.avail };
  }
  let first = -1;
  let last = 0;
  for (let off = 0; off < sa.avail; off += CHUNK) {
    const n = Math.min(CHUNK, sa.avail - off);
    const [x, y] = await settleAll([a.read(sa.offset + off, n), b.read(sb.offset + off, n)]);
    if (!x.equals(y)) {
      if (first < 0) first = off;
      last = off + n;
    }
  }
  return { differ: first >= 0, first: Math.max(0, first), last };
}

/** A file on disk holding the artifact's bytes, for objdump and readelf. */
const onDisk = new WeakMap<Artifact, Promise<string>>();
function diskPath(a: Artifact, ctx: Context): Promise<string> {
  let p = onDisk.get(a);
  if (!p) {
    p = (async () => {
      const src = a.source;
      if (src.kind === 'file' && src.offset === 0 && a.fsPath === src.file) return src.file;
      const file = ctx.tmp.file('elf');
      await pipeline(a.stream(), createWriteStream(file));
      return file;
    })();
    onDisk.set(a, p);
  }
  return p;
}

/** The section's bytes (decompressed when SHF_COMPRESSED with zlib), bounded. */
async function sectionData(e: Elf, s: Section): Promise<{ data: Buffer; note?: string } | undefined> {
  if (s.avail > MAX_VIEW) return undefined;
  const data = await e.a.read(s.offset, s.avail);
  if (!(s.flags & BigInt(SHF_COMPRESSED))) return { data };
  const w = new Words(data, e.h.le, e.h.is64);
  const hdr = e.h.is64 ? 24 : 12;
  if (data.length < hdr) return { data, note: 'compression header cut short' };
  const type = w.u32(0);
  const size = num(e.h.is64 ? w.u64(8) : BigInt(w.u32(4)));
  if (type !== 1) return { data, note: `compression type ${type} is not zlib; shown compressed` };
  if (size > MAX_VIEW) return undefined;
  try {
    const out = inflateSync(data.subarray(hdr), { maxOutputLength: Math.max(1, size) });
    return { data: out, note: 'decompressed (zlib)' };
  } catch (err) {
    return { data, note: `cannot decompress: ${(err as Error).message}; shown compressed` };
  }
}

/** Runs of at least `min` printable ASCII characters (or tabs), one a line: what `strings --all --bytes=8` prints. */
function printableRuns(data: Buffer, min = 8): string {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= data.length; i++) {
    const c = i < data.length ? data[i]! : 0;
    if ((c >= 0x20 && c < 0x7f) || c === 0x09) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start >= min) out.push(data.toString('latin1', start, i));
      start = -1;
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function strings(data: Buffer): string {
  const parts = data.toString('utf8').split('\0');
  return parts.filter((p) => p !== '').join('\n') + (parts.some((p) => p !== '') ? '\n' : '');
}

async function linkedStrings(e: Elf, s: Section): Promise<Buffer> {
  const st = e.sections[s.link];
  if (!st || st.avail > MAX_VIEW) return Buffer.alloc(0);
  return e.a.read(st.offset, st.avail);
}

function symbolLines(e: Elf, data: Buffer, strtab: Buffer): string {
  const size = e.h.is64 ? 24 : 16;
  const w = new Words(data, e.h.le, e.h.is64);
  const lines: string[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    const nameOff = w.u32(o);
    const [info, other, shndx, value, sz] = e.h.is64
      ? [w.u8(o + 4), w.u8(o + 5), w.u16(o + 6), w.u64(o + 8), w.u64(o + 16)]
      : [w.u8(o + 12), w.u8(o + 13), w.u16(o + 14), BigInt(w.u32(o + 4)), BigInt(w.u32(o + 8))];
    const sec = shndx === 0 ? 'UND' : shndx === 0xfff1 ? 'ABS' : shndx === 0xfff2 ? 'COM' : shndx >= SHN_LORESERVE ? hex(shndx) : (e.sections[shndx]?.name ?? `#${shndx}`);
    const name = nameAt(strtab, nameOff);
    const vis = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'][other & 3];
    lines.push(`${hex(value)} ${sz} ${SYM_TYPES[info & 15] ?? info & 15} ${SYM_BINDS[info >> 4] ?? info >> 4} ${vis} ${sec} ${name}`);
  }
  if (data.length % size) lines.push(`(${data.length % size} trailing bytes)`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** REL/RELA entries: offset, type number, symbol (from the linked symbol table) and addend. */
function relocationLines(e: Elf, s: Section, data: Buffer, symtab: Buffer, strtab: Buffer): string {
  const rela = s.type === 4;
  const p = e.h.is64 ? 8 : 4;
  const size = (rela ? 3 : 2) * p;
  const symSize = e.h.is64 ? 24 : 16;
  const w = new Words(data, e.h.le, e.h.is64);
  const sw = new Words(symtab, e.h.le, e.h.is64);
  const lines: string[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    const info = w.word(o + p);
    const [sym, type] = e.h.is64 ? [num(info >> 32n), Number(info & 0xffffffffn)] : [num(info >> 8n), Number(info & 0xffn)];
    let symName = String(sym);
    if (sym === 0) symName = '-';
    else if (sym * symSize + symSize <= symtab.length) {
      const at = sym * symSize;
      const name = cString(strtab, sw.u32(at));
      const shndx = sw.u16(at + (e.h.is64 ? 6 : 14));
      const info8 = sw.u8(at + (e.h.is64 ? 4 : 12));
      symName = name || ((info8 & 15) === 3 ? (e.sections[shndx]?.name ?? `#${shndx}`) : `#${sym}`);
    }
    const addend = rela ? (e.h.is64 ? BigInt.asIntN(64, w.u64(o + 2 * p)) : BigInt(w.buf[e.h.le ? 'readInt32LE' : 'readInt32BE'](o + 2 * p))) : undefined;
    lines.push(`${hex(w.word(o))} type=${type} ${symName}${addend === undefined ? '' : addend < 0n ? ` - ${hex(-addend)}` : ` + ${hex(addend)}`}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** A GNU symbol-versioning section as text; .gnu.version needs the dynamic symbols' names and the file's version names. */
async function versionView(e: Elf, s: Section, data: Buffer): Promise<string> {
  if (s.type === SHT_GNU_VERDEF) return verdefVersions(data, await linkedStrings(e, s), e.h.le).text;
  if (s.type === SHT_GNU_VERNEED) return verneedVersions(data, await linkedStrings(e, s), e.h.le).text;
  const names = new Map<number, string>();
  const defined = new Set<number>();
  for (const v of e.sections) {
    if ((v.type !== SHT_GNU_VERDEF && v.type !== SHT_GNU_VERNEED) || v.avail > MAX_VIEW) continue;
    const decode = v.type === SHT_GNU_VERDEF ? verdefVersions : verneedVersions;
    const found = decode(await e.a.read(v.offset, v.avail), await linkedStrings(e, v), e.h.le).names;
    for (const [index, name] of found) {
      names.set(index, name);
      if (v.type === SHT_GNU_VERDEF) defined.add(index);
    }
  }
  const symbolNames: string[] = [];
  const dynsym = e.sections[s.link];
  if (dynsym && dynsym.type === 11 && dynsym.avail <= MAX_VIEW) {
    const [syms, strtab] = [await e.a.read(dynsym.offset, dynsym.avail), await linkedStrings(e, dynsym)];
    const size = e.h.is64 ? 24 : 16;
    const w = new Words(syms, e.h.le, e.h.is64);
    for (let o = 0; o + size <= syms.length; o += size) symbolNames.push(nameAt(strtab, w.u32(o)));
  }
  return versymLines(data, symbolNames, names, defined, e.h.le);
}

function dynamicLines(e: Elf, data: Buffer, strtab: Buffer): string {
  const size = e.h.is64 ? 16 : 8;
  const w = new Words(data, e.h.le, e.h.is64);
  const lines: string[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    const tag = num(w.word(o));
    const val = w.word(o + size / 2);
    const tagName = DYN_TAGS[tag] ?? hex(tag);
    const v = DYN_STRING_TAGS.has(tag) ? (cString(strtab, num(val)) ?? `<corrupt string, offset ${val}>`) : hex(val);
    lines.push(`${tagName} ${v}`);
    if (tag === 0) break;
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

function debuglink(data: Buffer, le: boolean): string {
  const nul = data.indexOf(0);
  if (nul < 0) return `(malformed: no NUL after the file name) ${data.toString('latin1')}`;
  const name = data.toString('utf8', 0, nul);
  const crcAt = (nul + 4) & ~3;
  if (crcAt + 4 > data.length) return `${name} (no CRC)`;
  const crc = le ? data.readUInt32LE(crcAt) : data.readUInt32BE(crcAt);
  return `${name} 0x${crc.toString(16).padStart(8, '0')}`;
}

async function shortHash(e: Elf, s: Section): Promise<string> {
  const h = createHash('sha256');
  for (let off = 0; off < s.avail; off += CHUNK) h.update(await e.a.read(s.offset + off, Math.min(CHUNK, s.avail - off)));
  return `${s.size} bytes, sha256 ${h.digest('hex').slice(0, 16)}`;
}

function noteChanges(na: Note[], nb: Note[]): FieldChange[] {
  const fields = (ns: Note[]) => {
    const m = new Map<string, string>();
    for (const n of ns) if (n.field) m.set(m.has(n.field) ? `${n.field} (2)` : n.field, n.value);
    return m;
  };
  const [fa, fb] = [fields(na), fields(nb)];
  const out: FieldChange[] = [];
  for (const k of new Set([...fa.keys(), ...fb.keys()])) if (fa.get(k) !== fb.get(k)) out.push({ field: k, value1: fa.get(k), value2: fb.get(k) });
  return out;
}

/**
 * objdump's disassembly of the named sections without addresses: neither the column in
 * front of each instruction (diffoscope drops that one too) nor the absolute targets of
 * jumps and calls, which are kept as symbol+offset. Code that moved then differs only
 * where the instructions or the displacements they encode differ, not on every line.
 * objdump before 2.36 lacks --no-addresses: it gets the column stripped instead.
 */
let noAddresses = true;
async function disassemble(e: Elf, names: string[], ctx: Context, window?: [bigint, bigint]): Promise<string> {
  const file = await diskPath(e.a, ctx);
  const args = ['-d', '--no-show-raw-insn', ...names.flatMap((n) => ['-j', n])];
  if (window) args.push(`--start-address=${hex(window[0])}`, `--stop-address=${hex(window[1])}`);
  const max = Math.min(ctx.limits.maxDiffInputSize, 64 << 20);
  const run = (flags: string[]) => runTool(ctx, 'objdump', [...flags, ...args, file], { maxOutput: max });
  let r: ToolRun;
  try {
    r = await run(noAddresses ? ['--no-addresses'] : []);
  } catch (err) {
    if (!(noAddresses && err instanceof ReproveError && /no-addresses/.test(err.message))) throw err;
    noAddresses = false;
    r = await run([]);
  }
  // Drop objdump's "FILE: file format" line (it names our temporary file).
  const text = r.stdout.toString('utf8').replace(/^[^\n]*:\s+file format [^\n]*\n/m, '');
  return (noAddresses ? text : text.replace(/^[ \t]*[0-9a-f]+:\t/gm, '\t')).replace(/^\n+/, '');
}

/**
 * The small code sections of one file that will be shown, disassembled by one objdump run
 * on first use and split back per section (each the text a run for it alone gives): a
 * process start per section is most of the cost for the many small ones (.init, .plt, .fini).
 */
type SharedDisassembly = (name: string) => Promise<string> | undefined;

function sharedDisassembly(e: Elf, names: string[], ctx: Context): SharedDisassembly {
  const wanted = new Set(names);
  let run: Promise<Map<string, string>> | undefined;
  return (name) => {
    if (!wanted.has(name)) return undefined;
    run ??= disassemble(e, names, ctx).then((text) => {
      const parts = new Map<string, string>();
      for (const part of text.split(/\n(?=Disassembly of section [^\n]*:\n)/)) {
        const m = /^Disassembly of section ([^\n]*):\n/.exec(part);
        if (m) parts.set(m[1]!, part);
      }
      return parts;
    });
    return run.then((parts) => parts.get(name) ?? '');
  };
}

/** Code sections shown whole (not windowed), with names unique on both sides, when there are several. */
function smallCodeSections(ea: Elf, eb: Elf, shown: [Section, Section, unknown][]): string[] {
  const unique = (e: Elf, name: string) => e.sections.filter((s) => s.name === name).length === 1;
  const code = (s: Section) => Number(s.flags & BigInt(SHF_EXECINSTR)) && s.type !== SHT_NOBITS && s.avail <= DISASSEMBLY_WINDOW;
  const names = shown.filter(([sa, sb]) => sa.name === sb.name && code(sa) && code(sb) && unique(ea, sa.name) && unique(eb, sb.name)).map(([sa]) => sa.name);
  return names.length > 1 ? names : [];
}

async function debugDump(e: Elf, group: string, ctx: Context): Promise<string> {
  const file = await diskPath(e.a, ctx);
  // Past this, a DWARF dump is shown as bytes: readelf's text would cost more memory than it helps.
  const max = Math.min(ctx.limits.maxDiffInputSize, 16 << 20);
  const r = await runTool(ctx, 'readelf', ['--wide', `--debug-dump=${group}`, file], { maxOutput: max });
  return r.stdout.toString('utf8').split(file).join('{}');
}

/** The view of one section present (and differing) on both sides. */
async function sectionView(
  ea: Elf,
  eb: Elf,
  sa: Section,
  sb: Section,
  span: { first: number; last: number },
  ctx: Context,
  shared: [SharedDisassembly, SharedDisassembly],
): Promise<Difference> {
  const title = `ELF section ${sa.key}`;
  const changes: FieldChange[] = [];
  const comments: string[] = [];
  const [da, db] = await settleAll([sectionData(ea, sa), sectionData(eb, sb)]);
  const text = async (ta: string, tb: string, comment?: string): Promise<Difference | null> => {
    const d = await textDifference(ctx, title, title, ta, tb, { kind: 'content' });
    if (d && comment) comments.push(comment);
    return d;
  };
  let d: Difference | null | undefined;
  let withBytes = false;
  const name = sa.name;
  try {
    if (da && db) {
      if (da.note || db.note) comments.push(`Section data ${[...new Set([da.note, db.note].filter(Boolean))].join('; ')}`);
      if (sa.type === 7) {
        const [na, nb] = [decodeNotes(da.data, ea.h.le, sa.addralign), decodeNotes(db.data, eb.h.le, sb.addralign)];
        changes.push(...noteChanges(na.notes, nb.notes));
        if (changes.some((c) => c.field === 'NT_GO_BUILDID')) changes.push({ ...changes.find((c) => c.field === 'NT_GO_BUILDID')!, field: 'go build id' });
        d = await text(notesText(na.notes, na.problem), notesText(nb.notes, nb.problem), 'Notes decoded: owner, type, value');
      } else if (name === '.gnu_debuglink') {
        const [va, vb] = [debuglink(da.data, ea.h.le), debuglink(db.data, eb.h.le)];
        if (va !== vb) changes.push({ field: '.gnu_debuglink', value1: va, value2: vb });
        d = await text(`${va}\n`, `${vb}\n`, 'Debug link: file name and CRC-32 of the debug file');
      } else if (name === '.go.buildinfo') {
        const [ga, gb] = [decodeGoBuildInfo(da.data), decodeGoBuildInfo(db.data)];
        if (typeof ga !== 'string' && typeof gb !== 'string') {
          for (const k of new Set([...ga.fields.keys(), ...gb.fields.keys()]))
            if (ga.fields.get(k) !== gb.fields.get(k)) changes.push({ field: `go buildinfo:${k}`, value1: ga.fields.get(k), value2: gb.fields.get(k) });
          d = await text(ga.text, gb.text, 'Go build information: version, module, dependencies, build settings');
        } else comments.push(`Go build information not decoded: ${typeof ga === 'string' ? ga : (gb as string)}`);
      } else if (sa.type === 2 || sa.type === 11) {
        const [sta, stb] = await settleAll([linkedStrings(ea, sa), linkedStrings(eb, sb)]);
        d = await text(symbolLines(ea, da.data, sta), symbolLines(eb, db.data, stb), 'Symbols: value, size, type, binding, visibility, section, name');
      } else if (sa.type === 4 || sa.type === 9) {
        const linked = async (e: Elf, s: Section): Promise<[Buffer, Buffer]> => {
          const st = e.sections[s.link];
          if (!st || st.avail > MAX_VIEW || (st.type !== 2 && st.type !== 11)) return [Buffer.alloc(0), Buffer.alloc(0)];
          return [await e.a.read(st.offset, st.avail), await linkedStrings(e, st)];
        };
        const [[ya, za], [yb, zb]] = await settleAll([linked(ea, sa), linked(eb, sb)]);
        d = await text(relocationLines(ea, sa, da.data, ya, za), relocationLines(eb, sb, db.data, yb, zb), 'Relocations: offset, type, symbol, addend');
      } else if (sa.type === 6) {
        const [sta, stb] = await settleAll([linkedStrings(ea, sa), linkedStrings(eb, sb)]);
        d = await text(dynamicLines(ea, da.data, sta), dynamicLines(eb, db.data, stb), 'Dynamic section: tag and value');
      } else if (sa.type === SHT_GNU_VERDEF || sa.type === SHT_GNU_VERNEED || sa.type === SHT_GNU_VERSYM) {
        const [va, vb] = await settleAll([versionView(ea, sa, da.data), versionView(eb, sb, db.data)]);
        d = await text(va, vb, 'Symbol versions: defined (.gnu.version_d), needed per library (.gnu.version_r), or each dynamic symbol\'s (.gnu.version)');
      } else if (sa.type === 3 || name === '.comment' || Number(sa.flags & BigInt(SHF_STRINGS))) {
        d = await text(strings(da.data), strings(db.data), 'Strings, one per line');
      }
    }
    // Plain data (.rodata, .data): the strings in it first, where build paths and dates are read whole,
    // then its bytes. Decided on both sides, so that both directions give the same members.
    const plainData = (x: Section) => x.type === SHT_PROGBITS && !Number(x.flags & BigInt(SHF_EXECINSTR | SHF_STRINGS));
    if (d === undefined && da && db && plainData(sa) && plainData(sb) && !/^\.(z?debug_|comment$|gnu_debuglink$|go\.buildinfo$)/.test(name)) {
      d = await text(printableRuns(da.data), printableRuns(db.data), 'Strings of 8 or more printable characters (as strings --all --bytes=8); the bytes follow');
      if (d) withBytes = true;
      else d = undefined;
    }
    if (d === undefined && Number(sa.flags & BigInt(SHF_EXECINSTR)) && sa.type !== SHT_NOBITS && (await haveTool('objdump'))) {
      const [ida, idb] = await settleAll([ea.a.read(sa.offset, 256), eb.a.read(sb.offset, 256)]).then(([x, y]) => [goTextBuildId(x), goTextBuildId(y)]);
      if (ida !== idb) changes.push({ field: 'go build id', value1: ida, value2: idb });
      // Large sections: only a window from the first differing byte, so time and memory stay bounded
      // (a whole libcrypto .text is tens of MB of disassembly, past what a reader uses).
      let windows: [[bigint, bigint], [bigint, bigint]] | undefined;
      if (sa.avail > DISASSEMBLY_WINDOW || sb.avail > DISASSEMBLY_WINDOW) {
        const from = Math.max(0, span.first - 4096);
        const to = Math.max(span.first, Math.min(span.last + 4096, from + DISASSEMBLY_WINDOW));
        const win = (s: Section): [bigint, bigint] => [s.addr + BigInt(Math.min(from, s.avail)), s.addr + BigInt(Math.min(to, s.avail))];
        windows = [win(sa), win(sb)];
        comments.push(`Disassembly limited to section offsets ${hex(from)}..${hex(to)} (${to - from} of ${Math.max(sa.avail, sb.avail)} bytes), from the first differing byte`);
      }
      const [xa, xb] = await settleAll([
        (!windows && shared[0](sa.name)) || disassemble(ea, [sa.name], ctx, windows?.[0]),
        (!windows && shared[1](sb.name)) || disassemble(eb, [sb.name], ctx, windows?.[1]),
      ]);
      d = await text(xa, xb, `Disassembled with objdump -d --no-show-raw-insn${noAddresses ? ' --no-addresses' : ''}`);
      if (d === null) comments.push('The disassembly (without addresses) is the same on both sides, so the bytes are shown');
    } else if (d === undefined && /^\.(z?debug)_/.test(name) && (await haveTool('readelf'))) {
      const g = DWARF_GROUPS[name.replace(/^\.z?debug_/, '').replace(/\.dwo$/, '')];
      if (g) {
        const [xa, xb] = await settleAll([debugDump(ea, g, ctx), debugDump(eb, g, ctx)]);
        d = await text(xa, xb, `DWARF shown by readelf --wide --debug-dump=${g} (the whole group, which may span several sections)`);
      }
    }
  } catch (err) {
    const e = asReproveError(err, ea.a.path);
    comments.push(`Cannot show section ${sa.key} decoded: ${e.describe()}; showing its bytes`);
    d = undefined;
  }
  // Nothing textual differs, or no view for this kind: the bytes themselves (for data, beside its strings).
  if (!d || withBytes) {
    // Only the bytes inside the file: a section header may point anywhere.
    const bytes = (e: Elf, sec: Section) =>
      sec.avail > 0 ? e.a.slice(title, { type: 'file', size: sec.avail }, sec.offset, sec.avail) : e.a.member(title, { type: 'file', size: 0 }, { kind: 'empty' });
    const [xa, xb] = [bytes(ea, sa), bytes(eb, sb)];
    const bin = await compareBinary(xa, xb, ctx);
    const hexComment = 'Hex dump of the section bytes (offsets from the section start)';
    if (d) {
      bin.source1 = bin.source2 = 'hex dump';
      bin.comments.unshift(hexComment);
      d.details.push(bin);
    } else {
      bin.source1 = bin.source2 = title;
      comments.push(hexComment);
      d = bin;
    }
  }
  d.comments.unshift(...comments);
  if (!changes.length) changes.push({ field: `section:${sa.key}`, value1: await shortHash(ea, sa), value2: await shortHash(eb, sb) });
  d.changes = [...(d.changes ?? []), ...changes];
  return d;
}

/** Bytes not covered by the header, the tables or any section, when both layouts agree. */
function gaps(e: Elf): [number, number][] {
  const h = e.h;
  const ranges: [number, number][] = [[0, h.is64 ? 64 : 52]];
  if (h.phnum) ranges.push([h.phoff, h.phoff + h.phnum * h.phentsize]);
  if (e.sections.length) ranges.push([h.shoff, h.shoff + e.sections.length * h.shentsize]);
  for (const s of e.sections) if (s.avail) ranges.push([s.offset, s.offset + s.avail]);
  ranges.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let at = 0;
  for (const [s, end] of ranges) {
    if (s > at) out.push([at, Math.min(s, e.a.size)]);
    at = Math.max(at, end);
  }
  if (at < e.a.size) out.push([at, e.a.size]);
  return out;
}

async function compareElf(a: Artifact, b: Artifact, ctx: Context): Promise<Difference | null> {
  const [ea, eb] = await settleAll([readElf(a, ctx), readElf(b, ctx)]);
  const header = await headerDifference(ctx, 'ELF header', ea.h.fields, eb.h.fields);
  const [pa, pb] = [segmentTable(ea), segmentTable(eb)];
  const phdrs = await textDifference(ctx, 'ELF program headers', 'ELF program headers', pa, pb, { kind: 'header' });
  // Rendering 100 000 lines twice only to find them equal is the cost to avoid.
  const sameTable = ea.rawTable.equals(eb.rawTable) && ea.h.is64 === eb.h.is64 && ea.h.le === eb.h.le;
  const table = sameTable ? null : await textDifference(ctx, 'ELF section table', 'ELF section table', sectionTable(ea), sectionTable(eb), { kind: 'header' });
  const comments = [...new Set([...ea.comments, ...eb.comments])];

  const ra = new WindowReader(a);
  const rb = new WindowReader(b);
  const differing: [Section, Section, { first: number; last: number }][] = [];
  const onlyChanges: FieldChange[] = [];
  for (const sa of ea.sections) {
    const sb = eb.byKey.get(sa.key);
    if (!sb) {
      onlyChanges.push({ field: `section:${sa.key}`, value1: `${sa.size} bytes` });
      continue;
    }
    const r = await rangesDiffer(ra, rb, a, b, sa, sb);
    if (r.differ) differing.push([sa, sb, r]);
  }
  for (const sb of eb.sections) if (!ea.byKey.has(sb.key)) onlyChanges.push({ field: `section:${sb.key}`, value2: `${sb.size} bytes` });
  if (onlyChanges.length && table) table.changes = onlyChanges;
  else if (onlyChanges.length) comments.push(`Sections only on one side: ${onlyChanges.map((c) => c.field.slice(8)).join(', ')}`);

  const shown = differing.slice(0, MAX_SECTION_VIEWS);
  if (differing.length > shown.length)
    comments.push(`${differing.length} sections differ; the first ${shown.length} are shown, not: ${differing.slice(shown.length, shown.length + 50).map(([s]) => s.key).join(', ')}${differing.length > shown.length + 50 ? ', ...' : ''}`);
  // Two at a time: each view may hold two sections of up to MAX_VIEW bytes and their text.
  const small = smallCodeSections(ea, eb, shown);
  const shared: [SharedDisassembly, SharedDisassembly] = [sharedDisassembly(ea, small, ctx), sharedDisassembly(eb, small, ctx)];
  const views = await mapLimited(shown, 2, ([sa, sb, span]) => sectionView(ea, eb, sa, sb, span, ctx, shared));

  // Same layout: bytes between sections (padding, unlisted data) must be equal too.
  let outside: Difference | null = null;
  if (!header && !phdrs && !table && a.size === b.size) {
    const diffs: string[] = [];
    for (const [s, e] of gaps(ea)) {
      for (let off = s; off < e; off += CHUNK) {
        const n = Math.min(CHUNK, e - off);
        const [x, y] = await settleAll([a.read(off, n), b.read(off, n)]);
        if (!x.equals(y)) {
          diffs.push(`${hex(s)}..${hex(e)}`);
          break;
        }
      }
    }
    if (diffs.length) {
      outside = await compareBinary(a, b, ctx);
      outside.source1 = outside.source2 = 'ELF bytes outside sections';
      outside.comments.unshift(`Bytes outside the header, tables and sections differ, in ${diffs.slice(0, 10).join(', ')}${diffs.length > 10 ? ', ...' : ''}; hex dump of the whole file`);
      outside.changes = [{ field: 'bytes outside sections', value1: diffs.join(' ') }];
    }
  }
  return group(a.name, b.name, [header, phdrs, table, ...views, outside], { comments });
}

export const elfFormat: Format = {
  name: 'elf',
  magic: (head) => head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46,
  compare: (a, b, ctx) => compareElf(a, b, ctx),
};
