// cpio: the ASCII formats newc ("070701"), crc ("070702") and odc ("070707"),
// and the old binary format in either byte order. Our own parser over positional
// reads: members are slices of the archive, each length is checked against the
// bytes that remain, and "TRAILER!!!" ends the archive.
import type { Artifact, EntryType, Metadata } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference } from '../compare/difference.js';
import { asReproveError, LimitError, malformed, truncated } from '../compare/errors.js';
import { compareMembers } from '../compare/members.js';
import { decodeName } from './tar.js';
import { WindowReader } from '../compare/window-reader.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

const TRAILER = 'TRAILER!!!';
/** PATH_MAX is 4096; a name this long is hostile or broken. */
const MAX_NAME = 64 * 1024;
const MAX_LINK = 64 * 1024;

type Variant = 'newc' | 'crc' | 'odc' | 'bin-le' | 'bin-be';

const TYPES: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o020000: 'char',
  0o060000: 'block',
  0o010000: 'fifo',
  0o140000: 'socket',
};

function variantOf(head: Buffer): Variant | undefined {
  if (head.length >= 6) {
    const m = head.toString('latin1', 0, 6);
    if (m === '070701') return 'newc';
    if (m === '070702') return 'crc';
    if (m === '070707') return 'odc';
  }
  if (head.length >= 2 && head[0] === 0xc7 && head[1] === 0x71) return 'bin-le';
  if (head.length >= 2 && head[0] === 0x71 && head[1] === 0xc7) return 'bin-be';
  return undefined;
}

const HEADER_SIZE: Record<Variant, number> = { newc: 110, crc: 110, odc: 76, 'bin-le': 26, 'bin-be': 26 };

interface RawHeader {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  namesize: number;
  check: number;
}

/** The fields of one header; throws naming the field when one is not a number. */
function parseHeader(v: Variant, h: Buffer, where: string): RawHeader {
  if (v === 'bin-le' || v === 'bin-be') {
    const u16 = (i: number) => (v === 'bin-le' ? h.readUInt16LE(i) : h.readUInt16BE(i));
    const u32 = (i: number) => u16(i) * 0x10000 + u16(i + 2); // high half first in both orders
    const dev = u16(2);
    const rdev = u16(14);
    return {
      ino: u16(4), mode: u16(6), uid: u16(8), gid: u16(10), nlink: u16(12), mtime: u32(16), namesize: u16(20), filesize: u32(22),
      devMajor: dev >> 8, devMinor: dev & 0xff, rdevMajor: rdev >> 8, rdevMinor: rdev & 0xff, check: 0,
    };
  }
  const num = (start: number, len: number, what: string): number => {
    const text = h.toString('latin1', start, start + len);
    const ok = v === 'odc' ? /^[0-7]+$/.test(text) : /^[0-9a-fA-F]+$/.test(text);
    if (!ok) throw malformed(`Cannot read cpio header ${where}: ${what} field ${JSON.stringify(text)} is not ${v === 'odc' ? 'octal' : 'hexadecimal'}`);
    return parseInt(text, v === 'odc' ? 8 : 16);
  };
  if (v === 'odc') {
    const dev = num(6, 6, 'dev');
    const rdev = num(42, 6, 'rdev');
    return {
      ino: num(12, 6, 'ino'), mode: num(18, 6, 'mode'), uid: num(24, 6, 'uid'), gid: num(30, 6, 'gid'), nlink: num(36, 6, 'nlink'),
      mtime: num(48, 11, 'mtime'), namesize: num(59, 6, 'namesize'), filesize: num(65, 11, 'filesize'),
      devMajor: dev >> 8, devMinor: dev & 0xff, rdevMajor: rdev >> 8, rdevMinor: rdev & 0xff, check: 0,
    };
  }
  const f = (i: number, what: string) => num(6 + i * 8, 8, what);
  return {
    ino: f(0, 'ino'), mode: f(1, 'mode'), uid: f(2, 'uid'), gid: f(3, 'gid'), nlink: f(4, 'nlink'), mtime: f(5, 'mtime'),
    filesize: f(6, 'filesize'), devMajor: f(7, 'devmajor'), devMinor: f(8, 'devminor'), rdevMajor: f(9, 'rdevmajor'),
    rdevMinor: f(10, 'rdevminor'), namesize: f(11, 'namesize'), check: f(12, 'check'),
  };
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

export interface CpioListing {
  members: Artifact[];
  header: Record<string, string>;
  comments: string[];
}

export async function listCpio(a: Artifact, ctx: Context): Promise<CpioListing> {
  // Located here: the engine would otherwise name the first side for either side's error.
  return readCpio(a, ctx).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
}

async function readCpio(a: Artifact, ctx: Context): Promise<CpioListing> {
  const reader = new WindowReader(a);
  const members: Artifact[] = [];
  const comments: string[] = [];
  const variants = new Set<Variant>();
  // First name of each (dev, ino) with nlink > 1, to note hard links.
  const links = new Map<string, string>();
  let offset = 0;
  let trailer = false;

  while (offset < a.size) {
    const where = `at offset ${offset} of ${a.name}`;
    const v = variantOf(await reader.exact(offset, Math.min(6, a.size - offset), `cpio header at offset ${offset}`));
    if (!v) throw malformed(`Cannot read cpio header ${where}: no cpio magic (070701, 070702, 070707 or binary 070707)`);
    variants.add(v);
    const hsize = HEADER_SIZE[v];
    const h = await reader.exact(offset, hsize, `cpio header at offset ${offset}`);
    const r = parseHeader(v, h, where);
    const pad = v === 'newc' || v === 'crc' ? 4 : v === 'odc' ? 1 : 2;
    if (r.namesize === 0) throw malformed(`Cannot read cpio header ${where}: namesize is 0 (the name must at least hold its NUL)`);
    if (r.namesize > MAX_NAME) throw malformed(`Cannot read cpio header ${where}: namesize ${r.namesize} is over ${MAX_NAME}`);
    if (r.namesize > a.size - offset - hsize)
      throw truncated(`Cannot read cpio member name ${where}: namesize ${r.namesize} runs past the end of the archive (${a.size - offset - hsize} bytes remain)`);
    const nameBytes = await reader.exact(offset + hsize, r.namesize, `cpio member name at offset ${offset}`);
    const nul = nameBytes.indexOf(0);
    const name = decodeName(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)) || '(unnamed)';
    // An empty last entry may lack its alignment padding.
    const dataStart = Math.min(align(offset + hsize + r.namesize, pad), r.filesize === 0 ? a.size : Infinity);
    if (r.filesize > a.size - dataStart)
      throw truncated(`Cannot read cpio member ${JSON.stringify(name)} ${where}: its ${r.filesize} bytes run past the end of the archive (${Math.max(0, a.size - dataStart)} remain)`);
    const next = Math.min(align(dataStart + r.filesize, pad), a.size);
    if (name === TRAILER) {
      trailer = true;
      offset = next;
      break;
    }
    const fmt = r.mode & 0o170000;
    let type = TYPES[fmt];
    if (!type) {
      comments.push(`Member ${name}: unknown file type bits ${fmt.toString(8)}, read as a file`);
      type = 'file';
    }
    const meta: Metadata = { type, size: type === 'file' ? r.filesize : 0, mode: r.mode & 0o7777, uid: r.uid, gid: r.gid, mtime: r.mtime };
    // Inode and device numbers are bytes of the archive that differ between build machines: shown, not hidden.
    const extra: Record<string, string> = { ino: String(r.ino), nlink: String(r.nlink), dev: `${r.devMajor},${r.devMinor}` };
    if (v === 'crc') extra['checksum'] = r.check.toString(16).padStart(8, '0');
    if (type === 'char' || type === 'block') {
      meta.devMajor = r.rdevMajor;
      meta.devMinor = r.rdevMinor;
    } else if (r.rdevMajor || r.rdevMinor) extra['rdev'] = `${r.rdevMajor},${r.rdevMinor}`;
    if (type === 'symlink') {
      if (r.filesize > MAX_LINK) throw malformed(`Cannot read symlink ${JSON.stringify(name)} ${where}: its target of ${r.filesize} bytes is over ${MAX_LINK}`);
      meta.linkTarget = decodeName(await reader.exact(dataStart, r.filesize, `symlink target of ${name} at offset ${offset}`));
    } else if (type !== 'file' && r.filesize > 0) extra['data size'] = String(r.filesize);
    // Hard links share (dev, ino); newc stores the data once, with the last link. Each entry keeps its own bytes, as diffoscope shows them.
    if (type !== 'dir' && r.nlink > 1) {
      const key = `${r.devMajor},${r.devMinor},${r.ino}`;
      const first = links.get(key);
      if (first === undefined) links.set(key, name);
      else extra['hard link to'] = first;
    }
    meta.extra = extra;
    members.push(type === 'file' ? a.slice(name, meta, dataStart, r.filesize) : a.member(name, meta, { kind: 'empty' }));
    if (members.length > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has more than ${ctx.limits.maxMembers} members (${limitNote('maxMembers')})`);
    offset = next;
  }
  if (!trailer) comments.push(`${a.name} ends without a ${TRAILER} entry: the archive may be truncated`);
  else if (offset < a.size) {
    // cpio pads to its block size with zeros; other bytes after the trailer are worth a word.
    const tail = await a.read(offset, Math.min(a.size - offset, 1 << 20));
    if (!tail.every((c) => c === 0)) comments.push(`${a.name} has ${a.size - offset} bytes after its ${TRAILER} entry that are not zero padding`);
  }
  const header: Record<string, string> = {
    format: [...variants].join(', ') || 'none',
    trailer: trailer ? 'present' : 'missing',
  };
  // Padding to cpio's usual 512-byte block follows from the content; other padding (-B, -C) is a difference of its own.
  const padding = Math.max(0, a.size - offset);
  if (trailer && padding > 0 && (a.size % 512 !== 0 || padding >= 512)) header['padding after trailer'] = `${padding} bytes`;
  return { members, header, comments };
}

export const cpioFormat: Format = {
  name: FORMAT.cpio,
  magic: (head) => {
    const v = variantOf(head);
    if (!v || head.length < HEADER_SIZE[v]) return false;
    try {
      const r = parseHeader(v, head, 'at offset 0');
      // The two binary magic bytes alone are weak: also ask for a sane name.
      return r.namesize > 0 && r.namesize <= MAX_NAME && (!v.startsWith('bin') || r.namesize < 4096);
    } catch {
      return false;
    }
  },
  fileName: /\.cpio$/i,
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listCpio(a, ctx), listCpio(b, ctx)]);
    const header = await headerDifference(ctx, 'cpio archive', la.header, lb.header);
    const { details, comments: memberComments } = await compareMembers(la.members, lb.members, ctx, depth);
    const comments = [...new Set([...la.comments, ...lb.comments])];
    const fields = new Set(details[0]?.kind === 'file-list' ? (details[0].changes ?? []).map((c) => c.field) : []);
    if (fields.has('extra:ino') || fields.has('extra:dev'))
      comments.push('Inode or device numbers differ: `cpio --reproducible` (or --renumber-inodes --ignore-devno) makes them stable');
    return group(a.name, b.name, [header, ...details], { comments: [...comments, ...memberComments] });
  },
};
