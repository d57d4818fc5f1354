// RPM packages: our own parser of the lead, the signature header, the main header
// and the payload. Both headers are compared tag by tag (names from rpm's tag
// table), with views of what rpm -qp shows (files, dependencies, scriptlets,
// changelog); the payload is decompressed as PAYLOADCOMPRESSOR says and compared
// as the member "content" (diffoscope's name), which the cpio reader then lists.
// Every index count, offset and length is checked against the bytes that remain
// before anything is allocated from it.
import { createHash } from 'node:crypto';
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, node, textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { asReproveError, malformed, truncated } from '../compare/errors.js';
import { formatTime, modeString } from '../compare/members.js';
import { compareBinary } from '../compare/hexdump.js';
import { bzip2Format } from './bzip2.js';
import type { Format } from './format.js';
import { gzipFormat } from './gzip.js';
import { tagName } from './rpm-tags.js';
import { xzFormat } from './xz.js';
import { zstdFormat } from './zstd.js';
import { settleAll } from '../compare/settle.js';

const LEAD_MAGIC = Buffer.from([0xed, 0xab, 0xee, 0xdb]);
const HEADER_MAGIC = Buffer.from([0x8e, 0xad, 0xe8, 0x01]);
const LEAD_SIZE = 96;
/** rpm's own bounds (header.c hdrchkTags / hdrchkData): larger headers are refused by rpm too. */
const MAX_TAGS = 0xffff;
const MAX_DATA = 0x0fffffff;
/** A change's value is cut past this, so a hostile 256 MiB array does not land in the report twice. */
const MAX_CHANGE_VALUE = 64 * 1024;
/** Larger BIN values are shown by their digest (a hex string of 256 MiB would not fit in a JS string). */
const MAX_BIN_HEX = 16 * 1024 * 1024;

export const RPM_TYPES = ['NULL', 'CHAR', 'INT8', 'INT16', 'INT32', 'INT64', 'STRING', 'BIN', 'STRING_ARRAY', 'I18NSTRING'] as const;
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];
const STRING = 6;
const BIN = 7;
const I18NSTRING = 9;

export interface RpmTag {
  tag: number;
  name: string;
  type: number;
  count: number;
  /** One display string per element, as `rpm -qp --qf '[%{TAG}\n]'` prints it (BIN: one hex string). */
  values: string[];
}

export interface RpmHeader {
  /** Tags in tag-number order. */
  tags: RpmTag[];
  byName: Map<string, RpmTag>;
  /** The header's bytes from its magic to the end of its data store. */
  bytes: Buffer;
  offset: number;
}

export interface RpmPackage {
  lead: Record<string, string>;
  signature: RpmHeader;
  header: RpmHeader;
  payloadOffset: number;
  comments: string[];
}

/** Parses one header structure from `buf` (which holds exactly the header). */
function parseHeader(buf: Buffer, what: string, signature: boolean, offset: number): RpmHeader {
  const il = buf.readUInt32BE(8);
  const dl = buf.readUInt32BE(12);
  const storeStart = 16 + il * 16;
  const store = buf.subarray(storeStart, storeStart + dl);
  const tags: RpmTag[] = [];
  // Bytes the entries claim so far: rpm rejects overlapping entries, and so do we, which
  // bounds the decoded elements (and the work) by the store's size.
  let used = 0;
  const spans: [start: number, end: number, name: string][] = [];
  const claim = (start: number, bytes: number, where: string, name: string) => {
    used += bytes;
    if (used > dl) throw malformed(`Cannot read ${where}: the entries claim more than the ${dl}-byte data store holds (overlapping entries)`);
    spans.push([start, start + bytes, name]);
  };
  for (let i = 0; i < il; i++) {
    const e = 16 + i * 16;
    const tag = buf.readUInt32BE(e);
    const type = buf.readUInt32BE(e + 4);
    const off = buf.readUInt32BE(e + 8);
    const count = buf.readUInt32BE(e + 12);
    const name = tagName(tag, signature);
    const where = `${what}: entry ${i} (${name}, tag ${tag})`;
    if (type > I18NSTRING) throw malformed(`Cannot read ${where}: unknown type ${type}`);
    if (type === 0) {
      tags.push({ tag, name, type, count, values: [] });
      continue;
    }
    if (count === 0) throw malformed(`Cannot read ${where}: count is 0`);
    if (off >= dl) throw malformed(`Cannot read ${where}: offset ${off} is outside the ${dl}-byte data store`);
    const values: string[] = [];
    const size = TYPE_SIZE[type]!;
    if (size > 0) {
      if (off % size !== 0) throw malformed(`Cannot read ${where}: offset ${off} is not aligned to ${size} bytes for ${RPM_TYPES[type]}`);
      if (count > (dl - off) / size) throw malformed(`Cannot read ${where}: ${count} ${RPM_TYPES[type]} values at offset ${off} run past the ${dl}-byte data store`);
      claim(off, count * size, where, name);
      if (type === BIN)
        values.push(count <= MAX_BIN_HEX ? store.toString('hex', off, off + count) : `(${count} bytes, SHA-256 ${createHash('sha256').update(store.subarray(off, off + count)).digest('hex')})`);
      else
        for (let k = 0; k < count; k++) {
          const p = off + k * size;
          values.push(size === 1 ? String(store[p]) : size === 2 ? String(store.readUInt16BE(p)) : size === 4 ? String(store.readUInt32BE(p)) : store.readBigUInt64BE(p).toString());
        }
    } else {
      if (type === STRING && count !== 1) throw malformed(`Cannot read ${where}: a STRING has count ${count}, not 1`);
      // Every string takes at least its NUL: a count past the remaining bytes is hostile.
      if (count > dl - used) throw malformed(`Cannot read ${where}: ${count} strings cannot fit in the ${dl - used} bytes of the data store that other entries leave`);
      if (count > dl - off) throw malformed(`Cannot read ${where}: ${count} strings at offset ${off} cannot fit in the ${dl - off} bytes left of the data store`);
      let p = off;
      for (let k = 0; k < count; k++) {
        const nul = store.indexOf(0, p);
        if (nul < 0) throw malformed(`Cannot read ${where}: string ${k} at offset ${p} has no NUL before the end of the data store`);
        values.push(store.toString('utf8', p, nul));
        p = nul + 1;
      }
      claim(off, p - off, where, name);
    }
    tags.push({ tag, name, type, count, values });
  }
  spans.sort((x, y) => x[0] - y[0]);
  for (let k = 1; k < spans.length; k++)
    if (spans[k]![0] < spans[k - 1]![1])
      throw malformed(`Cannot read ${what}: the data of ${spans[k]![2]} (offset ${spans[k]![0]}) overlaps the data of ${spans[k - 1]![2]} (bytes ${spans[k - 1]![0]}..${spans[k - 1]![1]})`);
  tags.sort((x, y) => x.tag - y.tag);
  const byName = new Map<string, RpmTag>();
  for (const t of tags) if (!byName.has(t.name)) byName.set(t.name, t);
  return { tags, byName, bytes: buf, offset };
}

/** Reads the header structure at `offset`, checking its declared size against the bytes that remain. */
async function readHeader(a: Artifact, offset: number, what: string, signature: boolean): Promise<RpmHeader> {
  const intro = await a.readExact(offset, 16, what);
  if (!intro.subarray(0, 4).equals(HEADER_MAGIC))
    throw malformed(`Cannot read ${what} of ${a.name}: no header magic 8eade801 at offset ${offset} (found ${intro.toString('hex', 0, 4)})`);
  const il = intro.readUInt32BE(8);
  const dl = intro.readUInt32BE(12);
  if (il === 0 || il > MAX_TAGS) throw malformed(`Cannot read ${what} of ${a.name}: index count ${il} is outside 1..${MAX_TAGS}`);
  if (dl > MAX_DATA) throw malformed(`Cannot read ${what} of ${a.name}: data store size ${dl} is over ${MAX_DATA}`);
  const total = 16 + il * 16 + dl;
  if (total > a.size - offset)
    throw truncated(`Cannot read ${what} of ${a.name}: ${il} index entries and ${dl} bytes of data need ${total} bytes at offset ${offset}, only ${a.size - offset} remain`);
  const buf = await a.readExact(offset, total, what);
  return parseHeader(buf, `${what} of ${a.name}`, signature, offset);
}

function parseLead(b: Buffer, name: string): Record<string, string> {
  if (!b.subarray(0, 4).equals(LEAD_MAGIC)) throw malformed(`Cannot read RPM lead of ${name}: no magic edabeedb`);
  const nul = b.indexOf(0, 10);
  const type = b.readUInt16BE(6);
  return {
    version: `${b[4]}.${b[5]}`,
    type: type === 0 ? '0 (binary)' : type === 1 ? '1 (source)' : String(type),
    archnum: String(b.readUInt16BE(8)),
    name: b.toString('latin1', 10, nul < 0 || nul > 76 ? 76 : nul),
    osnum: String(b.readUInt16BE(76)),
    'signature type': String(b.readUInt16BE(78)),
    reserved: b.subarray(80, 96).every((c) => c === 0) ? 'zeros' : b.toString('hex', 80, 96),
  };
}

/** Lead, both headers and where the payload starts. */
export async function readRpm(a: Artifact): Promise<RpmPackage> {
  return readRpmUnlocated(a).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
}

async function readRpmUnlocated(a: Artifact): Promise<RpmPackage> {
  const lead = parseLead(await a.readExact(0, LEAD_SIZE, 'RPM lead'), a.name);
  const comments: string[] = [];
  if (lead['signature type'] !== '5') comments.push(`${a.name}: lead signature type is ${lead['signature type']}, rpm writes 5 (header-style signature)`);
  const signature = await readHeader(a, LEAD_SIZE, 'signature header', true);
  const sigEnd = LEAD_SIZE + signature.bytes.length;
  const header = await readHeader(a, sigEnd + ((8 - (sigEnd % 8)) % 8), 'header', false);
  const payloadOffset = header.offset + header.bytes.length;
  return { lead, signature, header, payloadOffset, comments };
}

/** The values of a tag by name ([] when absent). */
export function tagValues(h: RpmHeader, name: string): string[] {
  return h.byName.get(name)?.values ?? [];
}

// --- views ------------------------------------------------------------------

function cut(s: string): string {
  return s.length > MAX_CHANGE_VALUE ? `${s.slice(0, MAX_CHANGE_VALUE)}… (${s.length} characters)` : s;
}

/** One "NAME: value" line per element; the other lines of a multi-line string are indented. */
function tagText(h: RpmHeader): string {
  const i18n = h.byName.get('HEADERI18NTABLE')?.values ?? [];
  const out: string[] = [];
  for (const t of h.tags) {
    if (t.values.length === 0) out.push(`${t.name}: (${RPM_TYPES[t.type]})`);
    t.values.forEach((v, k) => {
      // rpm reserves signature space as zeros: a kilobyte of "00" says nothing.
      if (t.type === BIN && v.length > 64 && /^0*$/.test(v)) v = `(${v.length / 2} zero bytes)`;
      const label = t.type === I18NSTRING && k > 0 ? `${t.name}(${i18n[k] ?? k})` : t.name;
      out.push(`${label}: ${v.replace(/\n/g, '\n    ')}`);
    });
  }
  return out.join('\n') + '\n';
}

function tagChanges(ha: RpmHeader, hb: RpmHeader): FieldChange[] {
  const byTag = (h: RpmHeader) => new Map(h.tags.map((t) => [t.tag, t]));
  const ma = byTag(ha);
  const mb = byTag(hb);
  const all = [...new Set([...ma.keys(), ...mb.keys()])].sort((x, y) => x - y);
  const show = (t: RpmTag | undefined) => (t ? cut(t.values.join('\n')) : undefined);
  const changes: FieldChange[] = [];
  for (const n of all) {
    const ta = ma.get(n);
    const tb = mb.get(n);
    if (ta && tb && ta.type === tb.type && ta.values.length === tb.values.length && ta.values.every((v, k) => v === tb.values[k])) continue;
    changes.push({ field: (ta ?? tb)!.name, value1: show(ta), value2: show(tb) });
  }
  return changes;
}

async function headerNode(ctx: Context, title: string, ha: RpmHeader, hb: RpmHeader): Promise<Difference | null> {
  const changes = tagChanges(ha, hb);
  if (changes.length === 0) return null;
  const d = await textDifference(ctx, title, title, tagText(ha), tagText(hb), { kind: 'header', changes });
  return d ?? node(title, title, { kind: 'header', changes, comments: ['The tags differ in type only'] });
}

const FILE_FLAGS: [number, string][] = [
  [1, 'config'], [2, 'doc'], [4, 'icon'], [8, 'missingok'], [16, 'noreplace'], [32, 'specfile'], [64, 'ghost'],
  [128, 'license'], [256, 'readme'], [2048, 'pubkey'], [4096, 'artifact'],
];

function fileFlags(v: string | undefined): string {
  if (v === undefined) return '';
  const n = Number(v);
  const names = FILE_FLAGS.filter(([bit]) => n & bit).map(([, s]) => s);
  const rest = FILE_FLAGS.reduce((m, [bit]) => m & ~bit, n);
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

const FILE_TYPES: Record<number, 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket'> = {
  0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket',
};

/** Per-file attributes: the tag it comes from and how it is shown. */
const FILE_ATTRS: [tag: string, label: string][] = [
  ['FILEDIGESTS', 'digest'], ['FILEFLAGS', 'flags'], ['FILELANGS', 'lang'], ['FILECAPS', 'caps'], ['FILERDEVS', 'rdev'],
  ['FILEVERIFYFLAGS', 'verify'], ['FILECOLORS', 'color'], ['FILEINODES', 'inode'], ['FILEDEVICES', 'device'],
];

interface RpmFile {
  path: string;
  line: string;
  /** Tag name -> value, for the changes. */
  fields: Record<string, string>;
}

export function rpmFiles(h: RpmHeader, comments: string[], name: string): RpmFile[] {
  const base = tagValues(h, 'BASENAMES');
  const dirs = tagValues(h, 'DIRNAMES');
  const idx = tagValues(h, 'DIRINDEXES');
  const old = tagValues(h, 'OLDFILENAMES');
  const paths = base.length ? base.map((b, i) => `${dirs[Number(idx[i])] ?? '?/'}${b}`) : old;
  if (base.length && (idx.length !== base.length || idx.some((i) => Number(i) >= dirs.length)))
    comments.push(`${name}: DIRINDEXES (${idx.length}) does not match BASENAMES (${base.length}) and DIRNAMES (${dirs.length})`);
  const arr = (tag: string) => {
    const v = tagValues(h, tag);
    if (v.length && v.length !== paths.length) comments.push(`${name}: ${tag} has ${v.length} entries for ${paths.length} files`);
    return v;
  };
  const sizes = h.byName.has('LONGFILESIZES') ? arr('LONGFILESIZES') : arr('FILESIZES');
  const sizeTag = h.byName.has('LONGFILESIZES') ? 'LONGFILESIZES' : 'FILESIZES';
  const modes = arr('FILEMODES');
  const users = arr('FILEUSERNAME');
  const groups = arr('FILEGROUPNAME');
  const mtimes = arr('FILEMTIMES');
  const links = arr('FILELINKTOS');
  const attrs = FILE_ATTRS.map(([tag, label]) => [tag, label, arr(tag)] as const);
  const algo = tagValues(h, 'FILEDIGESTALGO')[0];
  return paths.map((path, i) => {
    const mode = Number(modes[i] ?? 0);
    const type = FILE_TYPES[mode & 0o170000] ?? 'file';
    const fields: Record<string, string> = {};
    const set = (tag: string, v: string | undefined) => {
      if (v !== undefined) fields[tag] = v;
    };
    set(sizeTag, sizes[i]);
    set('FILEMODES', modes[i] === undefined ? undefined : `0${mode.toString(8)}`);
    set('FILEUSERNAME', users[i]);
    set('FILEGROUPNAME', groups[i]);
    set('FILEMTIMES', mtimes[i]);
    set('FILELINKTOS', links[i]);
    let line = `${modeString({ type, size: 0, mode: mode & 0o7777 })} ${users[i] ?? '?'}/${groups[i] ?? '?'} ${(sizes[i] ?? '?').padStart(10)} ${
      mtimes[i] !== undefined ? formatTime(Number(mtimes[i])) : '?'
    } ${path}`;
    if (links[i]) line += ` -> ${links[i]}`;
    const extras: string[] = [];
    for (const [tag, label, values] of attrs) {
      const v = values[i];
      if (v === undefined) continue;
      set(tag, v);
      const shown = tag === 'FILEFLAGS' ? fileFlags(v) : v;
      // Empty, zero and default attributes are the common case, and inode numbers are rpmbuild's
      // own counter: left out of the line, still compared (as changes).
      if (shown === '' || (shown === '0' && tag !== 'FILEFLAGS') || tag === 'FILEINODES' || tag === 'FILEDEVICES') continue;
      if (tag === 'FILEVERIFYFLAGS' && v === '4294967295') continue;
      extras.push(`${label}=${tag === 'FILEDIGESTS' && algo ? `${digestName(algo)}:${shown}` : shown}`);
    }
    if (extras.length) line += ` [${extras.join(', ')}]`;
    return { path, line, fields };
  });
}

const DIGEST_ALGOS: Record<string, string> = { '1': 'md5', '2': 'sha1', '8': 'sha256', '9': 'sha384', '10': 'sha512', '11': 'sha224' };
function digestName(algo: string): string {
  return DIGEST_ALGOS[algo] ?? `algo${algo}`;
}

async function fileListNode(ctx: Context, pa: RpmPackage, pb: RpmPackage, comments: string[], na: string, nb: string): Promise<Difference | null> {
  const fa = rpmFiles(pa.header, comments, na);
  const fb = rpmFiles(pb.header, comments, nb);
  const text = (fs: RpmFile[]) => fs.map((f) => f.line + '\n').join('');
  const ta = text(fa);
  const tb = text(fb);
  const changes: FieldChange[] = [];
  const mb = new Map(fb.map((f) => [f.path, f]));
  const ma = new Map(fa.map((f) => [f.path, f]));
  for (const f of fa) {
    const o = mb.get(f.path);
    if (!o) {
      changes.push({ member: f.path, field: 'present', value1: 'yes' });
      continue;
    }
    for (const k of new Set([...Object.keys(f.fields), ...Object.keys(o.fields)]))
      if (f.fields[k] !== o.fields[k]) changes.push({ member: f.path, field: k, value1: f.fields[k], value2: o.fields[k] });
  }
  for (const f of fb) if (!ma.has(f.path)) changes.push({ member: f.path, field: 'present', value2: 'yes' });
  if (ta === tb && changes.length === 0) return null;
  const d = await textDifference(ctx, 'file list', 'file list', ta, tb, { kind: 'file-list', changes });
  return d ?? node('file list', 'file list', { kind: 'file-list', changes, comments: [`Files differ only in ${[...new Set(changes.map((c) => c.field))].join(', ')}`] });
}

const SENSE_LESS = 2;
const SENSE_GREATER = 4;
const SENSE_EQUAL = 8;

/** A dependency as rpm's *NEVRS tags print it: "name >= version". */
export function dependencyString(name: string, flags: number, version: string | undefined): string {
  let s = name;
  if (flags & (SENSE_LESS | SENSE_GREATER | SENSE_EQUAL)) {
    s += ' ';
    if (flags & SENSE_LESS) s += '<';
    if (flags & SENSE_GREATER) s += '>';
    if (flags & SENSE_EQUAL) s += '=';
  }
  if (version) s += ` ${version}`;
  return s;
}

/** View name and tag prefix of each dependency kind, in `rpm -qp --<view>` order. */
export const DEPENDENCY_KINDS: [view: string, prefix: string][] = [
  ['requires', 'REQUIRE'], ['provides', 'PROVIDE'], ['conflicts', 'CONFLICT'], ['obsoletes', 'OBSOLETE'], ['recommends', 'RECOMMEND'],
  ['suggests', 'SUGGEST'], ['supplements', 'SUPPLEMENT'], ['enhances', 'ENHANCE'], ['orderwithrequires', 'ORDER'],
];

/** The lines `rpm -qp --requires` (etc.) prints. */
export function dependencies(h: RpmHeader, prefix: string): string[] {
  const names = tagValues(h, `${prefix}NAME`);
  const flags = tagValues(h, `${prefix}FLAGS`);
  const versions = tagValues(h, `${prefix}VERSION`);
  return names.map((n, i) => dependencyString(n, Number(flags[i] ?? 0), versions[i]));
}

async function dependencyNode(ctx: Context, view: string, la: string[], lb: string[]): Promise<Difference | null> {
  const ta = la.map((l) => l + '\n').join('');
  const tb = lb.map((l) => l + '\n').join('');
  if (ta === tb) return null;
  const sb = new Set(lb);
  const sa = new Set(la);
  const changes: FieldChange[] = [
    ...la.filter((l) => !sb.has(l)).map((l) => ({ field: view, value1: l })),
    ...lb.filter((l) => !sa.has(l)).map((l) => ({ field: view, value2: l })),
  ];
  if (changes.length === 0) changes.push({ field: view, value1: cut(ta), value2: cut(tb) }); // order only
  return textDifference(ctx, view, view, ta, tb, { kind: 'header', changes });
}

const SCRIPTLETS: [tag: string, label: string][] = [
  ['PRETRANS', '%pretrans'], ['PREIN', '%pre'], ['POSTIN', '%post'], ['PREUN', '%preun'], ['POSTUN', '%postun'],
  ['POSTTRANS', '%posttrans'], ['PREUNTRANS', '%preuntrans'], ['POSTUNTRANS', '%postuntrans'], ['VERIFYSCRIPT', '%verifyscript'],
];

const TRIGGER_TYPES: [bit: number, suffix: string][] = [[1 << 25, 'prein'], [1 << 16, 'in'], [1 << 17, 'un'], [1 << 18, 'postun']];

/** Scriptlets as `rpm -qp --scripts` shows them, each headed by its spec-file section name; then triggers. */
function scriptlets(h: RpmHeader): { text: string; fields: Record<string, string> } {
  const parts: string[] = [];
  const fields: Record<string, string> = {};
  for (const [tag, label] of SCRIPTLETS) {
    const body = tagValues(h, tag)[0];
    const prog = tagValues(h, `${tag}PROG`);
    if (body === undefined && prog.length === 0) continue;
    const using = prog.length ? ` (using ${prog.join(' ')})` : '';
    parts.push(body === undefined ? `${label} program: ${prog.join(' ')}\n` : `${label} scriptlet${using}:\n${body}\n`);
    fields[tag] = `${using}${body ?? ''}`;
  }
  for (const [kind, label] of [['TRIGGER', '%trigger'], ['FILETRIGGER', '%filetrigger'], ['TRANSFILETRIGGER', '%transfiletrigger']] as const) {
    const scripts = tagValues(h, `${kind}SCRIPTS`);
    const progs = tagValues(h, `${kind}SCRIPTPROG`);
    const names = tagValues(h, `${kind}NAME`);
    const versions = tagValues(h, `${kind}VERSION`);
    const flags = tagValues(h, `${kind}FLAGS`);
    const index = tagValues(h, `${kind}INDEX`);
    scripts.forEach((body, i) => {
      const conds = names.map((n, j) => [n, j] as const).filter(([, j]) => Number(index[j]) === i);
      const f = Number(flags[conds[0]?.[1] ?? -1] ?? 0);
      const type = TRIGGER_TYPES.find(([bit]) => f & bit)?.[1] ?? '';
      const on = conds.map(([n, j]) => dependencyString(n, Number(flags[j] ?? 0), versions[j])).join(', ');
      parts.push(`${label}${type} -- ${on} (using ${progs[i] ?? '?'}):\n${body}\n`);
      fields[`${kind}SCRIPTS`] = (fields[`${kind}SCRIPTS`] ?? '') + `${on}: ${body}\n`;
    });
  }
  return { text: parts.join(''), fields };
}

/** The changelog as `rpm -qp --changelog` prints it (dates in UTC). */
export function changelog(h: RpmHeader): string {
  const times = tagValues(h, 'CHANGELOGTIME');
  const names = tagValues(h, 'CHANGELOGNAME');
  const texts = tagValues(h, 'CHANGELOGTEXT');
  return names
    .map((n, i) => {
      const d = new Date(Number(times[i] ?? 0) * 1000);
      const day = Number.isNaN(d.getTime())
        ? String(times[i])
        : `${d.toUTCString().slice(0, 3)} ${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
      return `* ${day} ${n}\n${texts[i] ?? ''}\n\n`;
    })
    .join('');
}

// --- integrity ---------------------------------------------------------------

const HASHES: Record<string, string> = { '1': 'md5', '2': 'sha1', '8': 'sha256', '9': 'sha384', '10': 'sha512', '11': 'sha224' };

async function hashOf(a: Artifact, algo: string): Promise<string> {
  if (algo === 'sha256') return a.sha256();
  const h = createHash(algo);
  for await (const c of a.chunks()) h.update(c);
  return h.digest('hex');
}

/** Header digests and sizes checked against the bytes; a mismatch is a comment, never silence. */
async function integrity(a: Artifact, p: RpmPackage, payload: Artifact): Promise<string[]> {
  const out: string[] = [];
  const sig = p.signature;
  const sha256 = tagValues(sig, 'SHA256HEADER')[0];
  if (sha256 !== undefined) {
    const actual = createHash('sha256').update(p.header.bytes).digest('hex');
    if (actual !== sha256) out.push(`${a.name}: SHA256HEADER is ${sha256} but the header's SHA-256 is ${actual}: the header does not match its signature header`);
  }
  const sha1 = tagValues(sig, 'SHA1HEADER')[0];
  if (sha1 !== undefined) {
    const actual = createHash('sha1').update(p.header.bytes).digest('hex');
    if (actual !== sha1) out.push(`${a.name}: SHA1HEADER is ${sha1} but the header's SHA-1 is ${actual}`);
  }
  const size = tagValues(sig, 'LONGSIGSIZE')[0] ?? tagValues(sig, 'SIGSIZE')[0];
  const actualSize = a.size - p.header.offset;
  if (size !== undefined && Number(size) !== actualSize)
    out.push(`${a.name}: the signature header gives ${size} bytes of header and payload, the file has ${actualSize}`);
  const digest = tagValues(p.header, 'PAYLOADDIGEST')[0];
  if (digest !== undefined) {
    const algoNum = tagValues(p.header, 'PAYLOADDIGESTALGO')[0] ?? '8';
    const algo = HASHES[algoNum];
    if (!algo) out.push(`${a.name}: PAYLOADDIGESTALGO ${algoNum} is not a digest reprove knows; PAYLOADDIGEST not checked`);
    else {
      const actual = await hashOf(payload, algo);
      if (actual !== digest) out.push(`${a.name}: PAYLOADDIGEST is ${digest} but the payload's ${algo.toUpperCase()} is ${actual}: the payload does not match its header`);
    }
  }
  return out;
}

// --- payload ----------------------------------------------------------------

function decompressor(compressor: string | undefined): Format | undefined {
  switch (compressor ?? 'gzip') {
    case 'gzip':
      return gzipFormat;
    case 'xz':
    case 'lzma':
      return xzFormat;
    case 'zstd':
      return zstdFormat;
    case 'bzip2':
      return bzip2Format;
    default:
      return undefined;
  }
}

/** The decompressed payload as the member "content", as diffoscope names what rpm2cpio gives. */
async function payloadContent(a: Artifact, p: RpmPackage, payload: Artifact, ctx: Context): Promise<Artifact> {
  const compressor = tagValues(p.header, 'PAYLOADCOMPRESSOR')[0];
  if (compressor === 'identity' || compressor === 'none') return a.member('content', { type: 'file', size: payload.size }, payload.source);
  const f = decompressor(compressor);
  if (!f?.content) throw malformed(`Cannot decompress the payload of ${a.name}: PAYLOADCOMPRESSOR ${JSON.stringify(compressor)} is not one reprove reads`);
  const c = await f.content(payload, ctx).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
  return a.member('content', { type: 'file', size: c.size }, c.source);
}

async function comparePayloads(a: Artifact, b: Artifact, pa: RpmPackage, pb: RpmPackage, ya: Artifact, yb: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  if (ya.size === yb.size && (await ya.sha256()) === (await yb.sha256())) return null;
  let ca: Artifact;
  let cb: Artifact;
  try {
    [ca, cb] = await settleAll([payloadContent(a, pa, ya, ctx), payloadContent(b, pb, yb, ctx)]);
  } catch (err) {
    const e = asReproveError(err, a.path);
    const d = await compareBinary(ya.member('content', ya.meta, ya.source), yb.member('content', yb.meta, yb.source), ctx);
    d.comments.unshift(`Cannot decompress the payload: ${e.describe()}; showing the binary difference of the compressed payloads`);
    if (e.kind === 'limit') d.kind = 'limit';
    return d;
  }
  const inner = await ctx.compare(ca, cb, depth);
  if (inner) return inner;
  const ka = tagValues(pa.header, 'PAYLOADCOMPRESSOR')[0] ?? 'gzip';
  const kb = tagValues(pb.header, 'PAYLOADCOMPRESSOR')[0] ?? 'gzip';
  const flags = `${tagValues(pa.header, 'PAYLOADFLAGS')[0] ?? ''} vs ${tagValues(pb.header, 'PAYLOADFLAGS')[0] ?? ''}`;
  return node('content', 'content', {
    kind: 'artifact',
    comments: [`The decompressed payloads are identical; the compressed payloads differ (${ka} vs ${kb}, PAYLOADFLAGS ${flags})`],
  });
}

export async function compareRpm(a: Artifact, b: Artifact, ctx: Context, depth: number): Promise<Difference | null> {
  const [pa, pb] = await settleAll([readRpm(a), readRpm(b)]);
  const comments = [...pa.comments, ...pb.comments];
  const ya = a.slice('payload', { type: 'file', size: a.size - pa.payloadOffset }, pa.payloadOffset, a.size - pa.payloadOffset);
  const yb = b.slice('payload', { type: 'file', size: b.size - pb.payloadOffset }, pb.payloadOffset, b.size - pb.payloadOffset);
  const details: (Difference | null)[] = [
    await headerDifference(ctx, 'lead', pa.lead, pb.lead),
    await headerNode(ctx, 'signature header', pa.signature, pb.signature),
    await headerNode(ctx, 'header', pa.header, pb.header),
  ];
  const viewComments: string[] = [];
  details.push(await fileListNode(ctx, pa, pb, viewComments, a.name, b.name));
  for (const [view, prefix] of DEPENDENCY_KINDS) details.push(await dependencyNode(ctx, view, dependencies(pa.header, prefix), dependencies(pb.header, prefix)));
  const sa = scriptlets(pa.header);
  const sb = scriptlets(pb.header);
  const scriptChanges = [...new Set([...Object.keys(sa.fields), ...Object.keys(sb.fields)])]
    .filter((k) => sa.fields[k] !== sb.fields[k])
    .map((k) => ({ field: k, value1: sa.fields[k] && cut(sa.fields[k]), value2: sb.fields[k] && cut(sb.fields[k]) }));
  details.push(await textDifference(ctx, 'scriptlets', 'scriptlets', sa.text, sb.text, { kind: 'content', changes: scriptChanges }));
  details.push(await textDifference(ctx, 'changelog', 'changelog', changelog(pa.header), changelog(pb.header), { kind: 'content' }));
  const [ia, ib] = await settleAll([integrity(a, pa, ya), integrity(b, pb, yb)]);
  details.push(await comparePayloads(a, b, pa, pb, ya, yb, ctx, depth));
  return group(a.name, b.name, details, { comments: [...new Set([...comments, ...viewComments, ...ia, ...ib])] });
}

export const rpmFormat: Format = {
  name: 'rpm',
  magic: (head) => head.length >= 4 && head.subarray(0, 4).equals(LEAD_MAGIC),
  fileName: /\.rpm$/i,
  compare: compareRpm,
};
