// The text views of ELF files: the section and program header tables as lines, and each
// differing section by what it holds, chosen from a table of viewers keyed by section
// type (SHT_* names), with the few sections known by name (.gnu_debuglink,
// .go.buildinfo) before it; then plain data, code (objdump) and DWARF (readelf); bytes
// when nothing textual differs. Reading is elf-parse.ts's, running tools elf-tools.ts's.
import { createHash } from 'node:crypto';
import type { Context } from '../compare/context.js';
import { textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { asReproveError } from '../compare/errors.js';
import { haveTool } from '../compare/tool.js';
import { settleAll } from '../compare/settle.js';
import { compareBinary } from '../compare/hexdump.js';
import { decodeNotes, notesText, type Note } from './elf-notes.js';
import {
  CHUNK, hex, linkedStrings, MAX_VIEW, named, num, sectionData, sectionTypeName, SHF_EXECINSTR, SHF_STRINGS, SHN_LORESERVE,
  SHT_DYNSYM, SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_NOBITS, SHT_NOTE, SHT_PROGBITS, SHT_RELA, SHT_SYMTAB,
  type Elf, type Section, type SectionTypeName,
} from './elf-parse.js';
import { debugDump, disassemble, DISASSEMBLY_WINDOW, dwarfGroup, objdumpHasNoAddresses, type SharedDisassembly } from './elf-tools.js';
import { cString, nameAt, Words } from './elf-words.js';
import { verdefVersions, verneedVersions, versymLines } from './elf-versions.js';
import { decodeGoBuildInfo, goTextBuildId } from './go-buildinfo.js';

/** Section types as readelf names them in its section table. */
const SECTION_TYPE_LABELS: Record<SectionTypeName, string> = {
  SHT_NULL: 'NULL', SHT_PROGBITS: 'PROGBITS', SHT_SYMTAB: 'SYMTAB', SHT_STRTAB: 'STRTAB', SHT_RELA: 'RELA', SHT_HASH: 'HASH',
  SHT_DYNAMIC: 'DYNAMIC', SHT_NOTE: 'NOTE', SHT_NOBITS: 'NOBITS', SHT_REL: 'REL', SHT_SHLIB: 'SHLIB', SHT_DYNSYM: 'DYNSYM',
  SHT_INIT_ARRAY: 'INIT_ARRAY', SHT_FINI_ARRAY: 'FINI_ARRAY', SHT_PREINIT_ARRAY: 'PREINIT_ARRAY', SHT_GROUP: 'GROUP',
  SHT_SYMTAB_SHNDX: 'SYMTAB_SHNDX', SHT_RELR: 'RELR', SHT_LLVM_ADDRSIG: 'LLVM_ADDRSIG', SHT_GNU_ATTRIBUTES: 'GNU_ATTRIBUTES',
  SHT_GNU_HASH: 'GNU_HASH', SHT_GNU_LIBLIST: 'GNU_LIBLIST', SHT_CHECKSUM: 'CHECKSUM', SHT_GNU_VERDEF: 'VERDEF',
  SHT_GNU_VERNEED: 'VERNEED', SHT_GNU_VERSYM: 'VERSYM',
};

function sectionTypeLabel(type: number): string {
  const name = sectionTypeName(type);
  return name ? SECTION_TYPE_LABELS[name] : hex(type);
}

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

function flagString(f: bigint): string {
  const n = Number(f & 0xffffffffn);
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (n & bit) s += letter;
  const rest = f & ~BigInt(FLAG_LETTERS.reduce((m, [b]) => m | b, 0) >>> 0);
  return rest ? `${s}+${hex(rest)}` : s;
}

export function sectionTable(e: Elf): string {
  const lines = e.sections.map(
    (s) =>
      `[${s.index}] ${s.name} ${sectionTypeLabel(s.type)} flags=${flagString(s.flags)} addr=${hex(s.addr)} off=${hex(s.offset)} size=${hex(s.size)} entsize=${hex(s.entsize)} link=${s.link} info=${s.info} align=${s.addralign}`,
  );
  return lines.length ? lines.join('\n') + '\n' : '';
}

export function segmentTable(e: Elf): string {
  const lines = e.segments.map((p) => {
    const fl = `${p.flags & 4 ? 'R' : ' '}${p.flags & 2 ? 'W' : ' '}${p.flags & 1 ? 'E' : ' '}`;
    return `${named(SEGMENT_TYPES, p.type)} off=${hex(p.offset)} vaddr=${hex(p.vaddr)} paddr=${hex(p.paddr)} filesz=${hex(p.filesz)} memsz=${hex(p.memsz)} flags=${fl} align=${hex(p.align)}`;
  });
  return lines.length ? lines.join('\n') + '\n' : '';
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

function symbolLines(e: Elf, data: Buffer, strtab: Buffer): string {
  const size = e.h.is64 ? 24 : 16;
  const w = new Words(data, e.h.le, e.h.is64);
  const lines: string[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    const nameOff = w.u32(o);
    const [info, other, shndx] = e.h.is64 ? [w.u8(o + 4), w.u8(o + 5), w.u16(o + 6)] : [w.u8(o + 12), w.u8(o + 13), w.u16(o + 14)];
    const [value, sz] = e.h.is64 ? [w.wordHex(o + 8), w.wordDecimal(o + 16)] : [w.wordHex(o + 4), w.wordDecimal(o + 8)];
    const sec = shndx === 0 ? 'UND' : shndx === 0xfff1 ? 'ABS' : shndx === 0xfff2 ? 'COM' : shndx >= SHN_LORESERVE ? hex(shndx) : (e.sections[shndx]?.name ?? `#${shndx}`);
    const name = nameAt(strtab, nameOff);
    const vis = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'][other & 3];
    lines.push(`${value} ${sz} ${SYM_TYPES[info & 15] ?? info & 15} ${SYM_BINDS[info >> 4] ?? info >> 4} ${vis} ${sec} ${name}`);
  }
  if (data.length % size) lines.push(`(${data.length % size} trailing bytes)`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** REL/RELA entries: offset, type number, symbol (from the linked symbol table) and addend. */
function relocationLines(e: Elf, s: Section, data: Buffer, symtab: Buffer, strtab: Buffer): string {
  const rela = s.type === SHT_RELA;
  const p = e.h.is64 ? 8 : 4;
  const size = (rela ? 3 : 2) * p;
  const symSize = e.h.is64 ? 24 : 16;
  const w = new Words(data, e.h.le, e.h.is64);
  const sw = new Words(symtab, e.h.le, e.h.is64);
  // Many relocations name the same symbol: each name is read from the tables once.
  const symNames: (string | undefined)[] = [];
  const symbolName = (sym: number): string => {
    if (sym === 0) return '-';
    if (sym * symSize + symSize > symtab.length) return String(sym);
    let known = symNames[sym];
    if (known === undefined) {
      const at = sym * symSize;
      const name = cString(strtab, sw.u32(at));
      const shndx = sw.u16(at + (e.h.is64 ? 6 : 14));
      const info8 = sw.u8(at + (e.h.is64 ? 4 : 12));
      known = symNames[sym] = name || ((info8 & 15) === 3 ? (e.sections[shndx]?.name ?? `#${shndx}`) : `#${sym}`);
    }
    return known;
  };
  const lines: string[] = [];
  for (let o = 0; o + size <= data.length; o += size) {
    // r_info: symbol index in the high half (64-bit: 32 bits; 32-bit: 24 bits), type in the low bits.
    let sym: number;
    let type: number;
    if (e.h.is64) {
      const [hi, lo] = e.h.le ? [w.u32(o + p + 4), w.u32(o + p)] : [w.u32(o + p), w.u32(o + p + 4)];
      [sym, type] = [hi, lo];
    } else {
      const info = w.u32(o + p);
      [sym, type] = [info >>> 8, info & 0xff];
    }
    lines.push(`${w.wordHex(o)} type=${type} ${symbolName(sym)}${rela ? w.signedHexTerm(o + 2 * p) : ''}`);
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
  if (dynsym && dynsym.type === SHT_DYNSYM && dynsym.avail <= MAX_VIEW) {
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



/** One section present and differing on both sides, its bytes on each, and where its view puts what it finds. */
interface ViewerInput {
  ea: Elf;
  eb: Elf;
  sa: Section;
  sb: Section;
  /** The section's bytes on each side (decompressed when compressed). */
  da: Buffer;
  db: Buffer;
  /** Field changes found in the section, for the report's summary and the explainers. */
  changes: FieldChange[];
  comments: string[];
  /** The text difference of the two views; the comment goes with it when they differ. */
  text(ta: string, tb: string, comment?: string): Promise<Difference | null>;
}

/**
 * A decoded view of one kind of section: the difference of its text, null when the decoded
 * texts are equal (the bytes are shown instead), or undefined when this pair has no such
 * view after all (the next kinds of view are tried).
 */
type Viewer = (v: ViewerInput) => Promise<Difference | null | undefined>;

const notesView: Viewer = async ({ ea, eb, sa, sb, da, db, changes, text }) => {
  const [na, nb] = [decodeNotes(da, ea.h.le, sa.addralign), decodeNotes(db, eb.h.le, sb.addralign)];
  changes.push(...noteChanges(na.notes, nb.notes));
  if (changes.some((c) => c.field === 'NT_GO_BUILDID')) changes.push({ ...changes.find((c) => c.field === 'NT_GO_BUILDID')!, field: 'go build id' });
  return text(notesText(na.notes, na.problem), notesText(nb.notes, nb.problem), 'Notes decoded: owner, type, value');
};

const debuglinkView: Viewer = async ({ ea, eb, da, db, changes, text }) => {
  const [va, vb] = [debuglink(da, ea.h.le), debuglink(db, eb.h.le)];
  if (va !== vb) changes.push({ field: '.gnu_debuglink', value1: va, value2: vb });
  return text(`${va}\n`, `${vb}\n`, 'Debug link: file name and CRC-32 of the debug file');
};

const goBuildInfoView: Viewer = async ({ da, db, changes, comments, text }) => {
  const [ga, gb] = [decodeGoBuildInfo(da), decodeGoBuildInfo(db)];
  if (typeof ga === 'string' || typeof gb === 'string') {
    comments.push(`Go build information not decoded: ${typeof ga === 'string' ? ga : (gb as string)}`);
    return undefined;
  }
  for (const k of new Set([...ga.fields.keys(), ...gb.fields.keys()]))
    if (ga.fields.get(k) !== gb.fields.get(k)) changes.push({ field: `go buildinfo:${k}`, value1: ga.fields.get(k), value2: gb.fields.get(k) });
  return text(ga.text, gb.text, 'Go build information: version, module, dependencies, build settings');
};

const symbolsView: Viewer = async ({ ea, eb, sa, sb, da, db, text }) => {
  const [sta, stb] = await settleAll([linkedStrings(ea, sa), linkedStrings(eb, sb)]);
  return text(symbolLines(ea, da, sta), symbolLines(eb, db, stb), 'Symbols: value, size, type, binding, visibility, section, name');
};

const relocationsView: Viewer = async ({ ea, eb, sa, sb, da, db, text }) => {
  const linked = async (e: Elf, s: Section): Promise<[Buffer, Buffer]> => {
    const st = e.sections[s.link];
    if (!st || st.avail > MAX_VIEW || (st.type !== SHT_SYMTAB && st.type !== SHT_DYNSYM)) return [Buffer.alloc(0), Buffer.alloc(0)];
    return [await e.a.read(st.offset, st.avail), await linkedStrings(e, st)];
  };
  const [[ya, za], [yb, zb]] = await settleAll([linked(ea, sa), linked(eb, sb)]);
  return text(relocationLines(ea, sa, da, ya, za), relocationLines(eb, sb, db, yb, zb), 'Relocations: offset, type, symbol, addend');
};

const dynamicView: Viewer = async ({ ea, eb, sa, sb, da, db, text }) => {
  const [sta, stb] = await settleAll([linkedStrings(ea, sa), linkedStrings(eb, sb)]);
  return text(dynamicLines(ea, da, sta), dynamicLines(eb, db, stb), 'Dynamic section: tag and value');
};

const versionsView: Viewer = async ({ ea, eb, sa, sb, da, db, text }) => {
  const [va, vb] = await settleAll([versionView(ea, sa, da), versionView(eb, sb, db)]);
  return text(va, vb, 'Symbol versions: defined (.gnu.version_d), needed per library (.gnu.version_r), or each dynamic symbol\'s (.gnu.version)');
};

const stringsView: Viewer = async ({ da, db, text }) => text(strings(da), strings(db), 'Strings, one per line');

/**
 * The decoded view of each section type; null where the type has none of its own (its
 * section may still be shown by name, as strings by flag, as plain data, code or DWARF,
 * or as bytes). Every named type is listed, so a type added to SECTION_TYPES needs a choice here.
 */
const VIEWERS: Record<SectionTypeName, Viewer | null> = {
  SHT_NULL: null,
  SHT_PROGBITS: null,
  SHT_SYMTAB: symbolsView,
  SHT_STRTAB: stringsView,
  SHT_RELA: relocationsView,
  SHT_HASH: null,
  SHT_DYNAMIC: dynamicView,
  SHT_NOTE: notesView,
  SHT_NOBITS: null,
  SHT_REL: relocationsView,
  SHT_SHLIB: null,
  SHT_DYNSYM: symbolsView,
  SHT_INIT_ARRAY: null,
  SHT_FINI_ARRAY: null,
  SHT_PREINIT_ARRAY: null,
  SHT_GROUP: null,
  SHT_SYMTAB_SHNDX: null,
  SHT_RELR: null,
  SHT_LLVM_ADDRSIG: null,
  SHT_GNU_ATTRIBUTES: null,
  SHT_GNU_HASH: null,
  SHT_GNU_LIBLIST: null,
  SHT_CHECKSUM: null,
  SHT_GNU_VERDEF: versionsView,
  SHT_GNU_VERNEED: versionsView,
  SHT_GNU_VERSYM: versionsView,
};

/** Sections known by their name, whatever their type (except notes). A Map: a section name may be "constructor". */
const VIEWERS_BY_NAME = new Map<string, Viewer>([
  ['.gnu_debuglink', debuglinkView],
  ['.go.buildinfo', goBuildInfoView],
]);

/**
 * The decoded view of a section, chosen by side A's section: a note section as notes
 * whatever its name, then the sections known by name, then by type, then as strings when
 * named .comment or flagged SHF_STRINGS.
 */
function viewerFor(s: Section): Viewer | undefined {
  if (s.type === SHT_NOTE) return notesView;
  const typeName = sectionTypeName(s.type);
  return (
    VIEWERS_BY_NAME.get(s.name) ??
    (typeName && VIEWERS[typeName]) ??
    (s.name === '.comment' || Number(s.flags & BigInt(SHF_STRINGS)) ? stringsView : undefined)
  );
}

/** The view of one section present (and differing) on both sides. */
export async function sectionView(
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
      const viewer = viewerFor(sa);
      if (viewer) d = await viewer({ ea, eb, sa, sb, da: da.data, db: db.data, changes, comments, text });
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
      const noAddresses = await objdumpHasNoAddresses(ctx);
      d = await text(xa, xb, `Disassembled with objdump -d --no-show-raw-insn${noAddresses ? ' --no-addresses' : ''}`);
      if (d === null) comments.push('The disassembly (without addresses) is the same on both sides, so the bytes are shown');
    } else if (d === undefined && /^\.(z?debug)_/.test(name) && (await haveTool('readelf'))) {
      const g = dwarfGroup(name);
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
