// tar: v7, ustar, GNU (long names, long links, old sparse) and pax (local and
// global headers, xattrs, fractional times). Our own parser over positional
// reads: members are slices of the archive, never copied, and every length
// field is checked against the bytes that remain.
import type { Artifact, EntryType, Metadata } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference } from '../compare/difference.js';
import { LimitError, malformed, truncated } from '../compare/errors.js';
import { compareMembers } from '../compare/members.js';
import { WindowReader } from '../compare/window-reader.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

const BLOCK = 512;
/** pax and GNU long-name records are small; a larger one is hostile or broken. */
const MAX_META_RECORD = 1 << 20;

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
  S: 'file',
};

function cstr(b: Buffer, start: number, len: number): Buffer {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return nul < 0 ? field : field.subarray(0, nul);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
export function decodeName(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** A numeric header field: octal text, or base-256 when the high bit is set (GNU); null when it is neither. */
function numOrNull(b: Buffer, start: number, len: number): number | null {
  const field = b.subarray(start, start + len);
  if (field[0]! & 0x80) {
    const negative = field[0] === 0xff;
    let v = negative ? -1 : field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return Number.isSafeInteger(v) ? v : null;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : null;
}

function num(b: Buffer, start: number, len: number, what: string): number {
  const v = numOrNull(b, start, len);
  if (v === null) throw malformed(`Cannot read tar ${what}: ${JSON.stringify(b.toString('latin1', start, start + len))} is neither an octal nor a base-256 number`);
  return v;
}

/** Whether the header's checksum (unsigned, or signed as old tars wrote it) matches; false when unreadable. */
function checksumOk(b: Buffer): boolean {
  const stored = numOrNull(b, 148, 8);
  if (stored === null) return false;
  // The checksum field counts as eight spaces; signed sums differ by 256 for each byte over 127.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const c = b[i]!;
    unsigned += c;
    if (c > 127) high++;
  }
  return stored === unsigned || stored === unsigned - 256 * high;
}

/** pax extended header records: "LEN key=value\n", each checked against the record's bounds. */
export function parsePax(data: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const sp = data.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 20) throw malformed(`Cannot read pax header ${where}: no record length at offset ${pos}`);
    const len = Number(data.toString('latin1', pos, sp));
    if (!Number.isSafeInteger(len) || len <= sp - pos || pos + len > data.length) throw malformed(`Cannot read pax header ${where}: record length ${data.toString('latin1', pos, sp)} at offset ${pos} is out of bounds`);
    const rec = data.subarray(sp + 1, pos + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw malformed(`Cannot read pax header ${where}: record without '=' at offset ${pos}`);
    out.set(decodeName(rec.subarray(0, eq)), decodeName(rec.subarray(eq + 1)));
    pos += len;
  }
  return out;
}

const PAX_CORE = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'GNU.sparse.name', 'GNU.sparse.realsize', 'GNU.sparse.size']);

export interface TarListing {
  members: Artifact[];
  /** Header formats seen (ustar, gnu, pax, v7) and global pax records. */
  header: Record<string, string>;
  comments: string[];
}

export async function listTar(a: Artifact, ctx: Context): Promise<TarListing> {
  const reader = new WindowReader(a);
  // A 512-byte header, or null at the end of the archive.
  const block = (at: number) => (at >= a.size ? Promise.resolve(null) : reader.exact(at, BLOCK, `tar header at offset ${at}`));
  const members: Artifact[] = [];
  const formatsSeen = new Set<string>();
  const globals = new Map<string, string>();
  const comments: string[] = [];
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, string> | undefined;
  let ended = false;

  const readData = async (at: number, size: number, what: string): Promise<Buffer> => {
    if (size > MAX_META_RECORD) throw new LimitError('tar-record', `Cannot read ${what} at offset ${at - BLOCK} of ${a.name}: ${size} bytes is more than a metadata record may hold (${MAX_META_RECORD})`);
    return a.readExact(at, size, `${what} at offset ${at - BLOCK}`);
  };

  for (;;) {
    const h = await block(offset);
    if (!h) break;
    if (h.every((c) => c === 0)) {
      ended = true;
      break;
    }
    if (!checksumOk(h)) throw malformed(`Cannot read tar header at offset ${offset} of ${a.name}: checksum mismatch`);
    const magic = h.toString('latin1', 257, 265);
    const format = magic === 'ustar  \0' ? 'gnu' : magic.startsWith('ustar\0') ? 'ustar' : 'v7';
    const type = String.fromCharCode(h[156]!);
    const size = num(h, 124, 12, `size at offset ${offset}`);
    const dataStart = offset + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (size < 0 || dataStart + size > a.size) throw truncated(`Cannot read tar member at offset ${offset} of ${a.name}: its ${size} bytes run past the end of the archive (${a.size})`);

    if (type === 'x' || type === 'g') {
      formatsSeen.add('pax');
      const records = parsePax(await readData(dataStart, size, 'pax header'), `at offset ${offset} of ${a.name}`);
      if (type === 'g') for (const [k, v] of records) globals.set(k, v);
      else pax = records;
      offset = next;
      continue;
    }
    if (type === 'L' || type === 'K') {
      const value = decodeName(cstr(await readData(dataStart, size, 'GNU long name'), 0, size));
      if (type === 'L') longName = value;
      else longLink = value;
      offset = next;
      continue;
    }
    if (type === 'V') {
      comments.push(`Volume label: ${decodeName(cstr(h, 0, 100))}`);
      offset = next;
      continue;
    }
    formatsSeen.add(format);
    const prefix = format === 'ustar' ? decodeName(cstr(h, 345, 155)) : '';
    let name = pax?.get('path') ?? pax?.get('GNU.sparse.name') ?? longName ?? (prefix ? `${prefix}/` : '') + decodeName(cstr(h, 0, 100));
    const entryType: EntryType = TYPES[type] ?? 'file';
    if (!(type in TYPES)) comments.push(`Member ${name}: unknown type flag ${JSON.stringify(type)}, read as a file`);
    const meta: Metadata = {
      type: entryType,
      size: entryType === 'file' ? size : 0,
      mode: num(h, 100, 8, `mode of ${name}`) & 0o7777,
      uid: pax?.has('uid') ? Number(pax.get('uid')) : num(h, 108, 8, `uid of ${name}`),
      gid: pax?.has('gid') ? Number(pax.get('gid')) : num(h, 116, 8, `gid of ${name}`),
      mtime: pax?.has('mtime') ? Number(pax.get('mtime')) : num(h, 136, 12, `mtime of ${name}`),
    };
    if (format !== 'v7') {
      meta.uname = pax?.get('uname') ?? decodeName(cstr(h, 265, 32));
      meta.gname = pax?.get('gname') ?? decodeName(cstr(h, 297, 32));
    }
    if (entryType === 'symlink' || entryType === 'hardlink') meta.linkTarget = pax?.get('linkpath') ?? longLink ?? decodeName(cstr(h, 157, 100));
    if (entryType === 'char' || entryType === 'block') {
      meta.devMajor = num(h, 329, 8, `device major of ${name}`);
      meta.devMinor = num(h, 337, 8, `device minor of ${name}`);
    }
    const extra: Record<string, string> = {};
    const xattrs: Record<string, string> = {};
    for (const [k, v] of pax ?? []) {
      if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice(13)] = v;
      else if (k.startsWith('LIBARCHIVE.xattr.')) xattrs[k.slice(17)] = v;
      else if (!PAX_CORE.has(k)) extra[`pax ${k}`] = v;
    }
    if (format === 'gnu') {
      const atime = num(h, 345, 12, `atime of ${name}`);
      const ctime = num(h, 357, 12, `ctime of ${name}`);
      if (atime) extra['atime'] = String(atime);
      if (ctime) extra['ctime'] = String(ctime);
    }
    if (type === 'S') {
      // Old GNU sparse: the map is in the header (and extension blocks); the data holds the non-hole parts.
      const realSize = num(h, 483, 12, `sparse size of ${name}`);
      let isExtended = h[482] !== 0;
      let at = dataStart;
      while (isExtended) {
        const ext = await block(at);
        if (!ext) throw truncated(`Cannot read sparse map of ${name} in ${a.name}: archive ends`);
        isExtended = ext[504] !== 0;
        at += BLOCK;
      }
      extra['sparse size'] = String(realSize);
      if (at !== dataStart) {
        const stored = at + Math.ceil(size / BLOCK) * BLOCK;
        offset = stored;
        members.push(a.slice(name, meta, at, size));
        pax = undefined;
        longName = longLink = undefined;
        continue;
      }
    }
    if (Object.keys(xattrs).length) meta.xattrs = xattrs;
    if (Object.keys(extra).length) meta.extra = extra;
    if (name === '') name = '(unnamed)';
    members.push(entryType === 'file' ? a.slice(name, meta, dataStart, size) : a.member(name, meta, { kind: 'empty' }));
    if (members.length > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has more than ${ctx.limits.maxMembers} members (${limitNote('maxMembers')})`);
    pax = undefined;
    longName = longLink = undefined;
    offset = next;
  }
  if (!ended && members.length > 0 && offset < a.size) comments.push(`${a.name} has ${a.size - offset} trailing bytes after its last member`);
  const header: Record<string, string> = { format: [...formatsSeen].sort().join(', ') || 'none' };
  for (const [k, v] of globals) header[`global ${k}`] = v;
  return { members, header, comments };
}

export const tarFormat: Format = {
  name: FORMAT.tar,
  magic: (head) => {
    if (head.length < BLOCK) return false;
    const magic = head.toString('latin1', 257, 263);
    if (magic === 'ustar\0' || magic === 'ustar ') return true;
    // v7 tar has no magic: trust a valid checksum on a plausible first header.
    return head[0] !== 0 && checksumOk(head.subarray(0, BLOCK)) && (numOrNull(head, 124, 12) ?? -1) >= 0;
  },
  fileName: /\.tar$/i,
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listTar(a, ctx), listTar(b, ctx)]);
    const header = await headerDifference(ctx, 'tar archive', la.header, lb.header);
    const comments = [...new Set([...la.comments, ...lb.comments])];
    const { details, comments: memberComments } = await compareMembers(la.members, lb.members, ctx, depth);
    return group(a.name, b.name, [header, ...details], { comments: [...comments, ...memberComments] });
  },
};
