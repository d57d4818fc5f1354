// zip (and jar, apk, whl, epub, OOXML/ODF): our own reader of the central
// directory, ZIP64 included. Every offset and length is checked against the
// bytes there are before it is used, and entry counts against the room the
// central directory has, so hostile numbers fail fast instead of allocating.
//
// Content is decompressed only where it can differ: paired entries (same path
// on both sides) whose method, CRC, sizes and raw compressed bytes are equal
// keep their compressed bytes as content (equal bytes, so compare() stops at
// once); the others are inflated through spill(), within the limits. The engine
// takes artifacts with a fixed byte source, so this happens when the pair is
// listed rather than when compare() reaches the member.
import { crc32, createInflateRaw } from 'node:zlib';
import type { Artifact, ByteSource, EntryType, Metadata } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, node, type Difference } from '../compare/difference.js';
import { LimitError, malformed, ReproveError, truncated } from '../compare/errors.js';
import { compareMembers } from '../compare/members.js';
import { spill, transformOutput } from '../compare/spill.js';
import { WindowReader } from '../compare/window-reader.js';
import type { Format } from './format.js';
import { pushTo } from '../compare/group-by.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const EOCD_SIZE = 22;
const LOCATOR64_SIZE = 20;
const EOCD64_MIN = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** EOCD plus the longest archive comment. */
const EOCD_SEARCH = EOCD_SIZE + 0xffff;
/** The central directory is read 1 MiB at a time, so one of 100 000 entries costs few reads. */
const CENTRAL_WINDOW = 1 << 20;
/** Local headers are spread over the archive: a small window. */
const LOCAL_WINDOW = 64 * 1024;
/** Symlink targets are paths; a larger "target" is not one. */
const MAX_LINK = 64 * 1024;

const METHODS: Record<number, string> = {
  0: 'stored',
  1: 'shrunk',
  6: 'imploded',
  8: 'deflated',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
  96: 'jpeg',
  97: 'wavpack',
  98: 'ppmd',
  99: 'aes',
};

const HOSTS: Record<number, string> = { 0: 'fat', 1: 'amiga', 2: 'vms', 3: 'unix', 4: 'vm/cms', 5: 'atari', 6: 'hpfs', 7: 'macintosh', 10: 'ntfs', 11: 'mvs', 13: 'acorn', 14: 'vfat', 18: 'os/400', 19: 'osx' };

const UNIX_TYPES: Record<number, string> = { 0o010000: 'fifo', 0o020000: 'char device', 0o060000: 'block device', 0o140000: 'socket' };

const EXTRA_NAMES: Record<number, string> = {
  0x0001: 'zip64',
  0x000a: 'ntfs',
  0x000d: 'unix',
  0x5455: 'UT',
  0x5855: 'UX',
  0x7855: 'Ux',
  0x7875: 'ux',
  0x7075: 'uPath',
  0x6375: 'uComment',
  0xcafe: 'jar',
  0xd935: 'apk-align',
};

// CP437, the zip default for names without the UTF-8 flag (as Python's zipfile reads them).
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function cp437(b: Buffer): string {
  let s = '';
  for (const c of b) s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80]!;
  return s;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeText(b: Buffer, isUtf8: boolean): string {
  if (isUtf8) {
    try {
      return utf8.decode(b);
    } catch {
      return b.toString('latin1');
    }
  }
  return cp437(b);
}

function u64(b: Buffer, at: number, what: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`Cannot read zip ${what}: ${v} is out of range`);
  return Number(v);
}

export interface ExtraField {
  id: number;
  data: Buffer;
}

/** The extra fields of a header: (id, length, data) records, each within the field. */
export function parseExtra(b: Buffer, where: string): { fields: ExtraField[]; junk?: string } {
  const fields: ExtraField[] = [];
  let pos = 0;
  while (pos + 4 <= b.length) {
    const id = b.readUInt16LE(pos);
    const len = b.readUInt16LE(pos + 2);
    if (pos + 4 + len > b.length) return { fields, junk: `extra field 0x${id.toString(16).padStart(4, '0')} of ${where} claims ${len} bytes, only ${b.length - pos - 4} remain` };
    fields.push({ id, data: b.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
  // Trailing bytes too short for a record: zipalign pads this way, so just show them.
  if (pos < b.length) return { fields, junk: `${b.length - pos} trailing bytes in the extra field of ${where}` };
  return { fields };
}

function showExtra(fields: ExtraField[], junk: string | undefined): string {
  const parts = fields.map(({ id, data }) => {
    const name = EXTRA_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
    const hex = data.length <= 64 ? data.toString('hex') : `${data.subarray(0, 32).toString('hex')}...(crc32 ${crc32(data).toString(16).padStart(8, '0')})`;
    return `${name}(${data.length}):${hex}`;
  });
  if (junk) parts.push(`malformed: ${junk}`);
  return parts.join(' ');
}

function dosTime(date: number, time: number): { text: string; seconds: number } {
  const y = ((date >> 9) & 0x7f) + 1980;
  const mo = (date >> 5) & 0xf;
  const d = date & 0x1f;
  const h = time >> 11;
  const mi = (time >> 5) & 0x3f;
  const s = (time & 0x1f) * 2;
  const p = (n: number) => String(n).padStart(2, '0');
  // zip stores no time zone; read as UTC so the value does not depend on where reprove runs.
  return { text: `${y}-${p(mo)}-${p(d)} ${p(h)}:${p(mi)}:${p(s)}`, seconds: Date.UTC(y, mo - 1, d, h, mi, s) / 1000 };
}

/** Unix id of 1 to 8 bytes, little-endian (the ux extra field). */
function uintLE(b: Buffer): number | undefined {
  if (b.length === 0 || b.length > 6) return undefined;
  return b.readUIntLE(0, b.length);
}

export interface ZipEntry {
  index: number;
  name: string;
  rawName: Buffer;
  meta: Metadata;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  dataOffset: number;
  encrypted: boolean;
  /** Why the content cannot be inflated, when it cannot. */
  rawReason?: string;
  comments: string[];
}

export interface ZipListing {
  entries: ZipEntry[];
  header: Record<string, string>;
  comments: string[];
}

interface EndRecord {
  pos: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
  comment: Buffer;
  thisDisk: number;
  cdDisk: number;
  entriesThisDisk: number;
  zip64?: { pos: number; versionMadeBy: number; versionNeeded: number };
}

async function findEnd(a: Artifact, header: Record<string, string>, comments: string[]): Promise<EndRecord> {
  const size = a.size;
  if (size < EOCD_SIZE) throw truncated(`Cannot read zip ${a.name}: ${size} bytes is too short for an end of central directory record`);
  const start = Math.max(0, size - EOCD_SEARCH);
  const tail = await a.readExact(start, size - start, 'zip end of central directory');
  let pos = -1;
  let loose = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== SIG_EOCD) continue;
    const end = i + EOCD_SIZE + tail.readUInt16LE(i + 20);
    if (end === tail.length) {
      pos = i;
      break;
    }
    if (end < tail.length && loose < 0) loose = i;
  }
  if (pos < 0 && loose >= 0) {
    pos = loose;
    const end = pos + EOCD_SIZE + tail.readUInt16LE(pos + 20);
    comments.push(`${a.name} has ${tail.length - end} trailing bytes after the end of central directory record`);
  }
  if (pos < 0) throw malformed(`Cannot read zip ${a.name}: no end of central directory record in its last ${tail.length} bytes`);
  const e = tail.subarray(pos);
  const rec: EndRecord = {
    pos: start + pos,
    thisDisk: e.readUInt16LE(4),
    cdDisk: e.readUInt16LE(6),
    entriesThisDisk: e.readUInt16LE(8),
    entries: e.readUInt16LE(10),
    cdSize: e.readUInt32LE(12),
    cdOffset: e.readUInt32LE(16),
    comment: Buffer.from(e.subarray(EOCD_SIZE, EOCD_SIZE + e.readUInt16LE(20))),
  };
  // ZIP64: a locator right before the EOCD points to the 64-bit record.
  const locPos = rec.pos - LOCATOR64_SIZE;
  if (locPos >= 0) {
    const loc = await a.readExact(locPos, LOCATOR64_SIZE, 'zip64 locator');
    if (loc.readUInt32LE(0) === SIG_LOCATOR64) {
      const at = u64(loc, 8, 'zip64 end record offset');
      if (at + EOCD64_MIN > locPos) throw malformed(`Cannot read zip ${a.name}: its zip64 end record offset ${at} is past the locator at ${locPos}`);
      const r = await a.readExact(at, EOCD64_MIN, 'zip64 end of central directory record');
      if (r.readUInt32LE(0) !== SIG_EOCD64) throw malformed(`Cannot read zip ${a.name}: no zip64 end of central directory record at offset ${at}`);
      rec.thisDisk = r.readUInt32LE(16);
      rec.cdDisk = r.readUInt32LE(20);
      rec.entriesThisDisk = u64(r, 24, 'zip64 entry count');
      rec.entries = u64(r, 32, 'zip64 entry count');
      rec.cdSize = u64(r, 40, 'zip64 central directory size');
      rec.cdOffset = u64(r, 48, 'zip64 central directory offset');
      rec.zip64 = { pos: at, versionMadeBy: r.readUInt16LE(12), versionNeeded: r.readUInt16LE(14) };
      header['zip64'] = `version made by ${versionText(rec.zip64.versionMadeBy, true)}, needs ${versionText(rec.zip64.versionNeeded)}`;
    }
  }
  return rec;
}

/** "3.0 unix": spec version, and the host system when it is "version made by". */
function versionText(v: number, withHost = false): string {
  const spec = v & 0xff;
  const host = v >> 8;
  return `${Math.floor(spec / 10)}.${spec % 10}${withHost || host ? ` ${HOSTS[host] ?? `host ${host}`}` : ''}`;
}

export async function listZip(a: Artifact, ctx: Context): Promise<ZipListing> {
  const header: Record<string, string> = {};
  const comments: string[] = [];
  const end = await findEnd(a, header, comments);
  if (end.thisDisk !== 0 || end.cdDisk !== 0 || end.entriesThisDisk !== end.entries)
    throw new ReproveError('unsupported', `Cannot read zip ${a.name}: split or spanned archives (disk ${end.thisDisk}, central directory on disk ${end.cdDisk}) are not read`);
  const cdEnd = end.zip64?.pos ?? end.pos;
  if (end.cdSize > cdEnd) throw malformed(`Cannot read zip ${a.name}: its central directory of ${end.cdSize} bytes does not fit before offset ${cdEnd}`);
  // Fail before any work on a count the directory has no room for.
  if (end.entries * CENTRAL_SIZE > end.cdSize)
    throw malformed(`Cannot read zip ${a.name}: ${end.entries} entries cannot fit in a central directory of ${end.cdSize} bytes`);
  if (end.entries > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has ${end.entries} members, more than ${ctx.limits.maxMembers} (${limitNote('maxMembers')})`);

  // Data prepended to the archive (self-extractors) shifts every offset by the same amount.
  let shift = 0;
  const cdStart = cdEnd - end.cdSize;
  if (end.cdOffset !== cdStart) {
    const sigAt = async (at: number) => at >= 0 && at + 4 <= a.size && (await a.read(at, 4)).readUInt32LE(0) === SIG_CENTRAL;
    if (end.entries > 0 && end.cdOffset + end.cdSize <= cdEnd && (await sigAt(end.cdOffset))) {
      comments.push(`${a.name} has ${cdStart - end.cdOffset} bytes between its central directory and the end record`);
    } else if (end.cdOffset < cdStart && (end.entries === 0 || (await sigAt(cdStart)))) {
      shift = cdStart - end.cdOffset;
      comments.push(`${a.name} has ${shift} bytes of data before the zip archive (offsets are shifted)`);
    } else throw malformed(`Cannot read zip ${a.name}: its central directory offset ${end.cdOffset} (${end.cdSize} bytes) does not match the end record at ${cdEnd}`);
  }
  const cdOffset = end.cdOffset + shift;

  header['entries'] = String(end.entries);
  header['central directory'] = `${end.cdSize} bytes at offset ${end.cdOffset}`;
  header['comment'] = JSON.stringify(decodeText(end.comment, false));

  const win = new WindowReader(a, CENTRAL_WINDOW);
  const entries: ZipEntry[] = [];
  let pos = cdOffset;
  const cdLimit = cdOffset + end.cdSize;
  for (let i = 0; i < end.entries; i++) {
    const where = `central directory entry ${i} at offset ${pos}`;
    if (pos + CENTRAL_SIZE > cdLimit) throw truncated(`Cannot read zip ${a.name}: ${where} runs past the central directory (ends at ${cdLimit})`);
    const h = await win.exact(pos, CENTRAL_SIZE, where);
    if (h.readUInt32LE(0) !== SIG_CENTRAL) throw malformed(`Cannot read zip ${a.name}: no central directory signature at offset ${pos} (entry ${i} of ${end.entries})`);
    const nameLen = h.readUInt16LE(28);
    const extraLen = h.readUInt16LE(30);
    const commentLen = h.readUInt16LE(32);
    const varLen = nameLen + extraLen + commentLen;
    if (pos + CENTRAL_SIZE + varLen > cdLimit) throw truncated(`Cannot read zip ${a.name}: ${where} has ${varLen} bytes of name, extra field and comment that run past the central directory (ends at ${cdLimit})`);
    const v = await win.exact(pos + CENTRAL_SIZE, varLen, where);
    entries.push(centralEntry(a, i, h, Buffer.from(v.subarray(0, nameLen)), v.subarray(nameLen, nameLen + extraLen), v.subarray(nameLen + extraLen), shift));
    pos += CENTRAL_SIZE + varLen;
  }
  if (pos !== cdLimit) comments.push(`${a.name} has ${cdLimit - pos} unused bytes at the end of its central directory`);

  // Local headers: where each entry's data starts, and whether they agree with the central directory.
  const local = new WindowReader(a, LOCAL_WINDOW);
  for (const e of entries) await readLocal(a, local, e, cdOffset);
  overlaps(a, entries, cdOffset, comments);
  return { entries, header, comments };
}

function centralEntry(a: Artifact, index: number, h: Buffer, rawName: Buffer, extraBuf: Buffer, commentBuf: Buffer, shift: number): ZipEntry {
  const madeBy = h.readUInt16LE(4);
  const needed = h.readUInt16LE(6);
  const flags = h.readUInt16LE(8);
  const method = h.readUInt16LE(10);
  const time = h.readUInt16LE(12);
  const date = h.readUInt16LE(14);
  const crc = h.readUInt32LE(16);
  let compressedSize = h.readUInt32LE(20);
  let size = h.readUInt32LE(24);
  const diskStart = h.readUInt16LE(34);
  const internal = h.readUInt16LE(36);
  const external = h.readUInt32LE(38);
  let localOffset = h.readUInt32LE(42);
  const isUtf8 = (flags & 0x800) !== 0;
  let name = decodeText(rawName, isUtf8);
  const where = `entry ${index} (${name}) of ${a.name}`;
  const { fields, junk } = parseExtra(extraBuf, where);
  const comments: string[] = [];
  const extra: Record<string, string> = {};

  // ZIP64 extended information: 64-bit values for the fields saturated in the header, in this order.
  const z64 = fields.find((f) => f.id === 0x0001);
  if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
    if (!z64) throw malformed(`Cannot read zip ${where}: sizes or offset are 0xffffffff but there is no zip64 extra field`);
    let p = 0;
    const next = (what: string) => {
      if (p + 8 > z64.data.length) throw malformed(`Cannot read zip ${where}: its zip64 extra field (${z64.data.length} bytes) has no ${what}`);
      const v = u64(z64.data, p, `${what} of ${where}`);
      p += 8;
      return v;
    };
    if (size === 0xffffffff) size = next('size');
    if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
    if (localOffset === 0xffffffff) localOffset = next('local header offset');
  }
  if (diskStart !== 0 && diskStart !== 0xffff) throw new ReproveError('unsupported', `Cannot read zip ${where}: it starts on disk ${diskStart}; split archives are not read`);

  // Info-ZIP Unicode path: used when its CRC says it belongs to this header name.
  const up = fields.find((f) => f.id === 0x7075);
  if (!isUtf8 && up && up.data.length >= 5 && up.data[0] === 1 && up.data.readUInt32LE(1) === crc32(rawName)) name = decodeText(up.data.subarray(5), true);

  const host = madeBy >> 8;
  const unixMode = host === 3 || host === 19 ? external >>> 16 : 0;
  let type: EntryType = 'file';
  const fmt = unixMode & 0o170000;
  if (name.endsWith('/') || fmt === 0o040000 || (!unixMode && external & 0x10)) type = 'dir';
  else if (fmt === 0o120000) type = 'symlink';
  // Devices, fifos and sockets still carry data in a zip (zip - makes a fifo entry): compare it as a file.
  const oddType = type === 'file' && fmt !== 0 && fmt !== 0o100000 ? (UNIX_TYPES[fmt] ?? `0o${fmt.toString(8)}`) : undefined;

  const dos = dosTime(date, time);
  const meta: Metadata = { type, size: type === 'file' ? size : 0, mtime: dos.seconds };
  if (unixMode) meta.mode = unixMode & 0o7777;
  extra['version made by'] = versionText(madeBy, true);
  extra['version needed'] = versionText(needed);
  extra['flags'] = `0x${flags.toString(16).padStart(4, '0')}`;
  extra['method'] = METHODS[method] ?? `method ${method}`;
  extra['crc'] = crc.toString(16).padStart(8, '0');
  extra['compressed size'] = String(compressedSize);
  extra['dos time'] = dos.text;
  if (oddType) extra['unix type'] = oddType;
  if (internal) extra['internal attrs'] = `0x${internal.toString(16).padStart(4, '0')}`;
  if (!unixMode || external & 0xffff) extra['external attrs'] = `0x${external.toString(16).padStart(8, '0')}`;

  for (const f of fields) {
    const d = f.data;
    if (f.id === 0x5455 && d.length >= 5 && d[0]! & 1) {
      // The Unix time wins over the DOS time (2-second, zone-less); 'dos time' keeps the other.
      meta.mtime = d.readInt32LE(1);
    } else if (f.id === 0x7875 && d.length >= 3 && d[0] === 1) {
      const uidLen = d[1]!;
      const gidAt = 2 + uidLen;
      if (gidAt < d.length && gidAt + 1 + d[gidAt]! <= d.length) {
        meta.uid = uintLE(d.subarray(2, gidAt));
        meta.gid = uintLE(d.subarray(gidAt + 1, gidAt + 1 + d[gidAt]!));
      }
    } else if (f.id === 0x7855 && d.length >= 4) {
      meta.uid = d.readUInt16LE(0);
      meta.gid = d.readUInt16LE(2);
    }
  }
  if (fields.length || junk) extra['extra fields'] = showExtra(fields, junk);
  if (commentBuf.length) extra['comment'] = JSON.stringify(decodeText(commentBuf, isUtf8));
  meta.extra = extra;

  const encrypted = (flags & 1) !== 0;
  let rawReason: string | undefined;
  if (encrypted) rawReason = 'is encrypted';
  else if (method !== 0 && method !== 8) rawReason = `is compressed with ${METHODS[method] ?? `method ${method}`}, which reprove does not decompress`;

  return {
    index,
    name: name === '' ? '(unnamed)' : name,
    rawName,
    meta,
    method,
    flags,
    crc,
    compressedSize,
    size,
    localOffset: localOffset + shift,
    dataOffset: -1,
    encrypted,
    ...(rawReason ? { rawReason } : {}),
    comments,
  };
}

async function readLocal(a: Artifact, win: WindowReader, e: ZipEntry, cdOffset: number): Promise<void> {
  const where = `local header of ${e.name} at offset ${e.localOffset}`;
  if (e.localOffset + LOCAL_SIZE > cdOffset) throw truncated(`Cannot read zip ${a.name}: ${where} runs into the central directory (offset ${cdOffset})`);
  const h = await win.exact(e.localOffset, LOCAL_SIZE, where);
  if (h.readUInt32LE(0) !== SIG_LOCAL) throw malformed(`Cannot read zip ${a.name}: no local header signature at offset ${e.localOffset} (member ${e.name})`);
  const nameLen = h.readUInt16LE(26);
  const extraLen = h.readUInt16LE(28);
  e.dataOffset = e.localOffset + LOCAL_SIZE + nameLen + extraLen;
  if (e.dataOffset + e.compressedSize > cdOffset)
    throw truncated(`Cannot read zip ${a.name}: the ${e.compressedSize} bytes of member ${e.name} at offset ${e.dataOffset} run past the start of the central directory (${cdOffset})`);
  const v = await win.exact(e.localOffset + LOCAL_SIZE, nameLen + extraLen, where);
  const extra = e.meta.extra!;
  const diffs: string[] = [];
  if (!v.subarray(0, nameLen).equals(e.rawName)) diffs.push(`name ${JSON.stringify(decodeText(v.subarray(0, nameLen), (h.readUInt16LE(6) & 0x800) !== 0))}`);
  if (h.readUInt16LE(8) !== e.method) diffs.push(`method ${h.readUInt16LE(8)}`);
  if (h.readUInt16LE(6) !== e.flags) diffs.push(`flags 0x${h.readUInt16LE(6).toString(16).padStart(4, '0')}`);
  const localTime = dosTime(h.readUInt16LE(12), h.readUInt16LE(10)).text;
  if (localTime !== extra['dos time']) diffs.push(`dos time ${localTime}`);
  if (diffs.length) extra['local header differs'] = diffs.join(', ');
  // Local extra fields often differ from the central ones (atime in UT, ux ids); they are in the bytes, so show them.
  const { fields, junk } = parseExtra(v.subarray(nameLen), `the local header of ${e.name}`);
  const shown = showExtra(fields, junk);
  if (shown !== (extra['extra fields'] ?? '')) extra['local extra fields'] = shown;
}

/** Entries whose bytes overlap another's: the shape of overlapping-file zip bombs. */
function overlaps(a: Artifact, entries: ZipEntry[], cdOffset: number, comments: string[]): void {
  const sorted = [...entries].sort((x, y) => x.localOffset - y.localOffset);
  let shared = 0;
  let firstGap = -1;
  let gaps = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    const next = i + 1 < sorted.length ? sorted[i + 1]!.localOffset : cdOffset;
    const dataEnd = e.dataOffset + e.compressedSize;
    if (dataEnd > next) shared++;
    else if (next > dataEnd && i + 1 < sorted.length) {
      // Data descriptors (flag bit 3) sit between entries: 12 to 24 bytes.
      const gap = next - dataEnd;
      if (!(e.flags & 8 && gap <= 24)) {
        gaps++;
        if (firstGap < 0) firstGap = dataEnd;
      }
    }
  }
  if (shared) comments.push(`${a.name}: ${shared} entries overlap the next one's bytes (a shape used by zip bombs)`);
  if (gaps) comments.push(`${a.name}: ${gaps} gaps of unlisted bytes between entries (first at offset ${firstGap})`);
}

/** Key of an entry as compareMembers pairs them: the path, with an occurrence number for repeats. */
function keys(entries: ZipEntry[]): Map<string, ZipEntry> {
  const out = new Map<string, ZipEntry>();
  for (const e of entries) {
    let key = e.name;
    for (let n = 2; out.has(key); n++) key = `${e.name}\u0000${n}`;
    out.set(key, e);
  }
  return out;
}

/** Paired entries whose decompressed bytes must be equal because their compressed bytes are. */
async function sameStoredBytes(a: Artifact, b: Artifact, la: ZipEntry[], lb: ZipEntry[]): Promise<Set<ZipEntry>> {
  const same = new Set<ZipEntry>();
  const kb = keys(lb);
  for (const [k, ea] of keys(la)) {
    const eb = kb.get(k);
    if (!eb || ea.meta.type !== 'file' || eb.meta.type !== 'file') continue;
    if (ea.method !== eb.method || ea.crc !== eb.crc || ea.size !== eb.size || ea.compressedSize !== eb.compressedSize || ea.encrypted !== eb.encrypted) continue;
    const ra = a.slice(ea.name, ea.meta, ea.dataOffset, ea.compressedSize);
    const rb = b.slice(eb.name, eb.meta, eb.dataOffset, eb.compressedSize);
    if ((await ra.sha256()) === (await rb.sha256())) {
      same.add(ea);
      same.add(eb);
    }
  }
  return same;
}

interface Note {
  text: string;
  limit: boolean;
}

async function inflate(raw: Artifact, e: ZipEntry, ctx: Context): Promise<{ source: ByteSource; crc: number; size: number }> {
  let crc = 0;
  let size = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const c of transformOutput(raw, createInflateRaw())) {
      crc = crc32(c, crc);
      size += c.length;
      yield c;
    }
  }
  const source = await ctx.tools.run(() => spill(ctx, counted(), 'zip-member', e.compressedSize));
  return { source, crc, size };
}

/** A symlink's target: its (small) content. */
async function linkTarget(raw: Artifact, e: ZipEntry): Promise<string> {
  if (e.rawReason) return `(${e.rawReason.replace(/^is /, '')})`;
  if (e.size > MAX_LINK || e.compressedSize > MAX_LINK) return `(${e.size} bytes, too long for a link target)`;
  if (e.method === 0) return decodeText(await raw.read(0, raw.size), true);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of transformOutput(raw, createInflateRaw())) {
    parts.push(c);
    n += c.length;
    if (n > MAX_LINK) return `(more than ${MAX_LINK} bytes, too long for a link target)`;
  }
  return decodeText(Buffer.concat(parts), true);
}

/** The member artifacts of one side, content inflated where it may differ. */
async function materialise(a: Artifact, listing: ZipListing, same: Set<ZipEntry>, ctx: Context, notes: Map<string, Note[]>): Promise<Artifact[]> {
  const note = (e: ZipEntry, text: string, limit = false) => pushTo(notes, e.name, { text, limit });
  return settleAll(
    listing.entries.map(async (e) => {
      const raw = a.slice(e.name, e.meta, e.dataOffset, e.compressedSize);
      if (e.meta.type === 'symlink') {
        try {
          e.meta.linkTarget = await linkTarget(raw, e);
        } catch (err) {
          e.meta.linkTarget = `(unreadable: ${(err as Error).message})`;
        }
        return a.member(e.name, e.meta, { kind: 'empty' });
      }
      if (e.meta.type !== 'file') return a.member(e.name, e.meta, { kind: 'empty' });
      if (same.has(e) || ctx.isExcluded(e.name)) return raw;
      if (e.rawReason) {
        note(e, `${e.name} ${e.rawReason}; its stored bytes are compared`);
        return raw;
      }
      if (e.method === 0) {
        if (e.compressedSize !== e.size) note(e, `${e.name} is stored with ${e.compressedSize} bytes but its header says ${e.size}`);
        return raw;
      }
      try {
        const out = await inflate(raw, e, ctx);
        if (out.size !== e.size) note(e, `${e.name} inflates to ${out.size} bytes but its header says ${e.size}`);
        else if (out.crc !== e.crc) note(e, `${e.name}: CRC-32 of the inflated bytes is ${out.crc.toString(16).padStart(8, '0')}, the header says ${e.crc.toString(16).padStart(8, '0')}`);
        return a.member(e.name, e.meta, out.source);
      } catch (err) {
        if (!(err instanceof ReproveError)) throw err;
        note(e, `Cannot inflate ${e.name}: ${err.message}; its compressed bytes are compared`, err.kind === 'limit');
        return raw;
      }
    }),
  );
}

/** Puts each member's notes on its node (a limit makes it a limit node), merged across sides. */
function attachNotes(details: Difference[], na: Map<string, Note[]>, nb: Map<string, Note[]>, nameA: string, nameB: string): string[] {
  const rest: string[] = [];
  const byName = new Map<string, { texts: string[]; limit: boolean }>();
  for (const name of new Set([...na.keys(), ...nb.keys()])) {
    const a = na.get(name) ?? [];
    const b = nb.get(name) ?? [];
    const texts: string[] = [];
    for (const n of a) texts.push(b.some((m) => m.text === n.text) ? n.text : `${nameA}: ${n.text}`);
    for (const n of b) if (!a.some((m) => m.text === n.text)) texts.push(`${nameB}: ${n.text}`);
    byName.set(name, { texts, limit: [...a, ...b].some((n) => n.limit) });
  }
  for (const d of details) {
    const hit = byName.get(d.source1) ?? byName.get(d.source2);
    if (!hit || d.kind === 'file-list') continue;
    d.comments.unshift(...hit.texts);
    if (hit.limit) d.kind = 'limit';
    byName.delete(d.source1);
    byName.delete(d.source2);
  }
  const extraNodes: Difference[] = [];
  for (const [name, { texts, limit }] of byName) {
    if (limit) extraNodes.push(node(name, name, { kind: 'limit', comments: texts }));
    else rest.push(...texts);
  }
  details.push(...extraNodes);
  return rest;
}

export const zipFormat: Format = {
  name: FORMAT.zip,
  magic: (head) => head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6)),
  fileName: /\.(zip|jar|whl|apk|epub|odt|docx)$/i,
  /**
   * A zip of one file is compared by that file against another format's content, as
   * diffoscope pairs the single members of two different containers (the gzip/zip
   * quine: quine.gz's content against quine.zip's r/r.zip). Any other zip has no
   * one content: an 'unsupported' error, and the pair is compared as bytes.
   */
  async content(a, ctx) {
    const listing = await listZip(a, ctx);
    const only = listing.entries.length === 1 ? listing.entries[0]! : undefined;
    if (!only || only.meta.type !== 'file') throw new ReproveError('unsupported', `${a.name} holds ${listing.entries.length === 1 ? `one ${only!.meta.type}` : `${listing.entries.length} members`}, not one file: it has no single content to compare`);
    const [member] = await materialise(a, listing, new Set(), ctx, new Map());
    return member!;
  },
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listZip(a, ctx), listZip(b, ctx)]);
    const header = await headerDifference(ctx, 'zip archive', la.header, lb.header);
    const same = await sameStoredBytes(a, b, la.entries, lb.entries);
    const na = new Map<string, Note[]>();
    const nb = new Map<string, Note[]>();
    const [ma, mb] = await settleAll([materialise(a, la, same, ctx, na), materialise(b, lb, same, ctx, nb)]);
    const { details, comments: memberComments } = await compareMembers(ma, mb, ctx, depth);
    const noteComments = attachNotes(details, na, nb, a.name, b.name);
    const comments = [...new Set([...la.comments, ...lb.comments, ...noteComments])];
    return group(a.name, b.name, [header, ...details], { comments: [...comments, ...memberComments] });
  },
};
