// ar(1) archives: the common format with GNU ("/" symbol table, "//" long-name
// table, "/123" references, "name/" terminators) and BSD ("#1/len" names,
// __.SYMDEF) extensions. Our own parser over positional reads: members are
// slices of the archive, and every field is validated and every length checked
// against the bytes that remain.
import type { Artifact, Metadata } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, textDifference, type Difference } from '../compare/difference.js';
import { asReproveError, LimitError, malformed, ReproveError, truncated } from '../compare/errors.js';
import { compareMembers, listingLine } from '../compare/members.js';
import { decodeName } from './tar.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { WindowReader } from '../compare/window-reader.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

export const AR_MAGIC = '!<arch>\n';
const THIN_MAGIC = '!<thin>\n';
const HEADER = 60;
/** A long-name table or symbol table larger than this is hostile or broken. */
const MAX_TABLE = 256 << 20;

/** One ar member header as stored, for the symbol-table view and the deb reader. */
export interface ArEntry {
  /** Offset of the 60-byte header in the archive (what GNU symbol tables point at). */
  offset: number;
  member: Artifact;
}

export interface ArListing {
  /** The members, symbol and long-name tables left out. */
  members: ArEntry[];
  /** GNU "/" or "/SYM64/" symbol table, when present. */
  symbolTable?: { entry: ArEntry; wide: boolean };
  /** The variant (common, gnu, bsd). BSD __.SYMDEF tables stay ordinary members, as diffoscope shows them. */
  header: Record<string, string>;
  comments: string[];
}

/** A numeric header field: space-padded decimal (or octal for the mode); blank is absent. */
function field(h: Buffer, start: number, len: number, radix: 8 | 10, what: string, where: string): number | undefined {
  const text = h.toString('latin1', start, start + len).replace(/ +$/, '');
  if (text === '') return undefined;
  if (!(radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/).test(text))
    throw malformed(`Cannot read ar header ${where}: ${what} field ${JSON.stringify(text)} is not a ${radix === 8 ? 'octal' : 'decimal'} number`);
  const v = parseInt(text, radix);
  if (!Number.isSafeInteger(v)) throw malformed(`Cannot read ar header ${where}: ${what} field ${JSON.stringify(text)} is out of range`);
  return v;
}

/** Reads the members of an ar archive (common, GNU and BSD variants). */
export async function listAr(a: Artifact, ctx: Context): Promise<ArListing> {
  // Located here: the engine would otherwise name the first side for either side's error.
  return readAr(a, ctx).catch((e: unknown) => {
    throw asReproveError(e, a.path);
  });
}

async function readAr(a: Artifact, ctx: Context): Promise<ArListing> {
  const reader = new WindowReader(a);
  const magic = (await a.read(0, 8)).toString('latin1');
  if (magic === THIN_MAGIC) throw new ReproveError('unsupported', `${a.name} is a thin ar archive: its members are files outside it, which reprove does not follow`);
  if (magic !== AR_MAGIC) throw malformed(`${a.name} is not an ar archive: bad magic`);
  const members: ArEntry[] = [];
  const comments: string[] = [];
  const variants = new Set<string>();
  let symbolTable: ArListing['symbolTable'];
  let longNames: Buffer | undefined;
  let offset = 8;

  while (offset < a.size) {
    const remaining = a.size - offset;
    // Some writers pad the archive with newlines; anything else short of a header is a cut.
    if (remaining < HEADER) {
      const tail = await a.read(offset, remaining);
      if (tail.every((c) => c === 0x0a)) break;
      throw truncated(`Cannot read ar header at offset ${offset} of ${a.name}: only ${remaining} bytes remain, a header is ${HEADER}`);
    }
    const h = await reader.exact(offset, HEADER, `ar header at offset ${offset}`);
    const where = `at offset ${offset} of ${a.name}`;
    if (h[58] !== 0x60 || h[59] !== 0x0a) throw malformed(`Cannot read ar header ${where}: no "\`\\n" terminator`);
    const rawName = h.toString('latin1', 0, 16).replace(/ +$/, '');
    const size = field(h, 48, 10, 10, 'size', where);
    if (size === undefined) throw malformed(`Cannot read ar header ${where}: empty size field`);
    const dataStart = offset + HEADER;
    if (size > a.size - dataStart)
      throw truncated(`Cannot read ar member ${JSON.stringify(rawName)} ${where}: its ${size} bytes run past the end of the archive (${a.size - dataStart} remain)`);
    const mtime = field(h, 16, 12, 10, 'mtime', where);
    const uid = field(h, 28, 6, 10, 'uid', where);
    const gid = field(h, 34, 6, 10, 'gid', where);
    const mode = field(h, 40, 8, 8, 'mode', where);
    // Members start on even offsets; the last one may lack its pad byte.
    const next = Math.min(a.size, dataStart + size + (size & 1));

    const meta: Metadata = { type: 'file', size, mtime, uid, gid, mode: mode === undefined ? undefined : mode & 0o7777 };
    // "644" (deterministic ar) and "100644" differ in the bytes: keep the type bits visible.
    if (mode !== undefined && mode > 0o7777) meta.extra = { 'raw mode': mode.toString(8) };

    if (rawName === '/' || rawName === '/SYM64/') {
      variants.add('gnu');
      if (symbolTable) comments.push(`${a.name} has a second symbol table ${where}`);
      else symbolTable = { entry: { offset, member: a.slice(rawName, meta, dataStart, size) }, wide: rawName === '/SYM64/' };
      offset = next;
      continue;
    }
    if (rawName === '//') {
      variants.add('gnu');
      if (size > MAX_TABLE) throw new LimitError('ar-table', `Cannot read the long-name table ${where}: ${size} bytes is over ${MAX_TABLE}`);
      longNames = await a.readExact(dataStart, size, `long-name table at offset ${offset}`);
      offset = next;
      continue;
    }

    let name: string;
    let start = dataStart;
    let length = size;
    if (/^\/[0-9]+$/.test(rawName)) {
      variants.add('gnu');
      const at = Number(rawName.slice(1));
      if (!longNames) throw malformed(`Cannot read ar member name ${rawName} ${where}: the archive has no "//" long-name table before it`);
      if (at >= longNames.length) throw malformed(`Cannot read ar member name ${rawName} ${where}: offset ${at} is past the long-name table (${longNames.length} bytes)`);
      let end = longNames.indexOf(0x0a, at);
      if (end < 0) end = longNames.length;
      const nameBytes = longNames.subarray(at, end);
      name = decodeName(nameBytes[nameBytes.length - 1] === 0x2f ? nameBytes.subarray(0, -1) : nameBytes);
    } else if (/^#1\/[0-9]+$/.test(rawName)) {
      variants.add('bsd');
      const len = Number(rawName.slice(3));
      if (len > size) throw malformed(`Cannot read ar member name ${rawName} ${where}: the name is longer than the member (${size} bytes)`);
      const nameBytes = await a.readExact(dataStart, len, `BSD long name at offset ${offset}`);
      const nul = nameBytes.indexOf(0);
      name = decodeName(nul < 0 ? nameBytes : nameBytes.subarray(0, nul));
      start += len;
      length -= len;
      meta.size = length;
    } else if (rawName.endsWith('/')) {
      variants.add('gnu');
      name = decodeName(h.subarray(0, rawName.length - 1));
    } else {
      name = decodeName(h.subarray(0, rawName.length));
    }
    if (name === '') name = '(unnamed)';
    members.push({ offset, member: a.slice(name, meta, start, length) });
    if (members.length > ctx.limits.maxMembers) throw new LimitError('max-members', `${a.name} has more than ${ctx.limits.maxMembers} members (${limitNote('maxMembers')})`);
    offset = next;
  }
  const header: Record<string, string> = { variant: [...variants].sort().join(', ') || 'common' };
  return { members, symbolTable, header, comments };
}

/** The symbol table as `nm -s` prints its index: one "symbol in member" line each. */
export async function symbolIndex(l: ArListing, ctx: Context): Promise<string> {
  const st = l.symbolTable;
  if (!st) return '';
  const m = st.entry.member;
  const lines = [listingLine(m)];
  if (m.size > Math.min(MAX_TABLE, ctx.limits.maxDiffInputSize)) {
    lines.push(`(symbol table of ${m.size} bytes not shown, sha256 ${await m.sha256()})`);
    return lines.join('\n') + '\n';
  }
  const data = await m.read(0, m.size);
  const w = st.wide ? 8 : 4;
  const word = (at: number) => (st.wide ? Number(data.readBigUInt64BE(at)) : data.readUInt32BE(at));
  const bad = (why: string) => new ReproveError('malformed', `Cannot read the ar symbol table: ${why}`, m.path.slice(0, -1));
  if (data.length < w) throw bad(`${data.length} bytes is too short for its symbol count`);
  const count = word(0);
  if (!Number.isSafeInteger(count) || count > (data.length - w) / w) throw bad(`${count} symbols do not fit in ${data.length} bytes`);
  const byOffset = new Map(l.members.map((e) => [e.offset, e.member.name]));
  lines.push('Archive index:');
  let pos = w + count * w;
  for (let i = 0; i < count; i++) {
    const end = data.indexOf(0, pos);
    if (end < 0) throw bad(`symbol ${i} of ${count} runs past the end of the table`);
    const sym = decodeName(data.subarray(pos, end));
    const off = word(w + i * w);
    lines.push(`${sym} in ${byOffset.get(off) ?? `(no member at offset ${off})`}`);
    pos = end + 1;
  }
  return lines.join('\n') + '\n';
}

/** The ar-level details of two archives: variant, symbol table, file list, members. */
export async function compareAr(la: ArListing, lb: ArListing, ctx: Context, depth: number): Promise<{ details: Difference[]; comments: string[] }> {
  const header = await headerDifference(ctx, 'ar archive', la.header, lb.header);
  const [sa, sb] = await settleAll([symbolIndex(la, ctx), symbolIndex(lb, ctx)]);
  // Named like a pseudo node ("ar ..."): diffoscope shows the symbol table as `nm -s`, not as a member.
  const symbols = await textDifference(ctx, 'ar symbol table', 'ar symbol table', sa, sb, { kind: 'header' });
  const members = await compareMembers(
    la.members.map((e) => e.member),
    lb.members.map((e) => e.member),
    ctx,
    depth,
  );
  const comments = [...new Set([...la.comments, ...lb.comments])];
  return { details: [header, symbols, ...members.details].filter((d): d is Difference => d !== null), comments: [...comments, ...members.comments] };
}

export const arFormat: Format = {
  name: FORMAT.ar,
  magic: (head) => head.length >= 8 && head.toString('latin1', 0, 8) === AR_MAGIC,
  fileName: /\.(a|ar)$/i,
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listAr(a, ctx), listAr(b, ctx)]);
    const { details, comments } = await compareAr(la, lb, ctx, depth);
    return group(a.name, b.name, details, { comments });
  },
};
