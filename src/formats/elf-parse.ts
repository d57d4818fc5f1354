// The ELF parser: file header, program headers, section header table and section names,
// each table checked against the file size before it is read, and the bytes of one
// section (decompressed) or of the string table it links to. 32/64-bit, both byte orders.
// What a section holds is shown by elf-views.ts; this module only reads.
import { inflateSync } from 'node:zlib';
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { asReproveError, LimitError, malformed, truncated } from '../compare/errors.js';
import { cString, Words } from './elf-words.js';
import { SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM } from './elf-versions.js';
import { limitNote } from '../compare/limits.js';

// Section types (sh_type) by their names in the gABI and the GNU and LLVM extensions.
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SHLIB = 10;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;
export const SHT_GNU_ATTRIBUTES = 0x6ffffff5;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_LIBLIST = 0x6ffffff7;
export const SHT_CHECKSUM = 0x6ffffff8;
export { SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM };

/** The section types known by name: tables keyed by these names (`Record<SectionTypeName, ...>`) cover every one. */
export const SECTION_TYPES = {
  SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_HASH, SHT_DYNAMIC, SHT_NOTE, SHT_NOBITS, SHT_REL, SHT_SHLIB,
  SHT_DYNSYM, SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY, SHT_GROUP, SHT_SYMTAB_SHNDX, SHT_RELR,
  SHT_LLVM_ADDRSIG, SHT_GNU_ATTRIBUTES, SHT_GNU_HASH, SHT_GNU_LIBLIST, SHT_CHECKSUM, SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM,
} as const;
export type SectionTypeName = keyof typeof SECTION_TYPES;

const typeNames = new Map<number, SectionTypeName>(Object.entries(SECTION_TYPES).map(([name, value]) => [value, name as SectionTypeName]));
/** The name of a section type, or undefined for a type not in SECTION_TYPES. */
export function sectionTypeName(type: number): SectionTypeName | undefined {
  return typeNames.get(type);
}

const SHN_XINDEX = 0xffff;
export const SHN_LORESERVE = 0xff00;
export const SHF_EXECINSTR = 0x4;
export const SHF_STRINGS = 0x20;
const SHF_COMPRESSED = 0x800;
/** Largest section decoded into a textual view (notes, symbols, strings, ...). */
export const MAX_VIEW = 32 << 20;
/** Bytes read at a time when a section or the whole file is walked. */
export const CHUNK = 1 << 20;

export interface Header {
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

export interface Section {
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

export interface Segment {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface Elf {
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

export const hex = (v: bigint | number) => `0x${v.toString(16)}`;
export const named = (table: Record<number, string>, v: number) => table[v] ?? hex(v);

/** A file offset or size from the file: a number, or Infinity when it cannot be one. */
export function num(v: bigint): number {
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
  if (count > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has ${count} sections, more than ${ctx.limits.maxMembers} (${limitNote('maxMembers')})`);
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
    const hasBytes = s.type !== SHT_NOBITS && s.type !== SHT_NULL;
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

export async function readElf(a: Artifact, ctx: Context): Promise<Elf> {
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

/** The section's bytes (decompressed when SHF_COMPRESSED with zlib), bounded. */
export async function sectionData(e: Elf, s: Section): Promise<{ data: Buffer; note?: string } | undefined> {
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

/** The string table a section links to (sh_link), bounded; empty when there is none. */
export async function linkedStrings(e: Elf, s: Section): Promise<Buffer> {
  const st = e.sections[s.link];
  if (!st || st.avail > MAX_VIEW) return Buffer.alloc(0);
  return e.a.read(st.offset, st.avail);
}

