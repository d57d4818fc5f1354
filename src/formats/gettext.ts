// GNU gettext message catalogs (.mo): the file header field by field, then the
// catalog as PO text in table order, as `msgunfmt` prints it. The header entry's
// fields (POT-Creation-Date, PO-Revision-Date, ...) become structured changes.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, textDifference, type FieldChange } from '../compare/difference.js';
import { asReproveError, LimitError, malformed, truncated } from '../compare/errors.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';

const MAGIC = 0x950412de;
const HEADER = 28;
const HEADER_SYSDEP = 48;
const SEGMENTS_END = 0xffffffff;

interface Catalog {
  fields: Record<string, string>;
  /** Header entry fields ("Key: value" lines of the msgstr of ""). */
  entryFields: Record<string, string>;
  text: string;
  comments: string[];
}

/** A PO string literal body: escapes as msgunfmt writes them. */
function escape(s: string): string {
  return s.replace(/[\\"\x00-\x1f\x7f]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\t':
        return '\\t';
      case '\r':
        return '\\r';
      case '\x07':
        return '\\a';
      case '\b':
        return '\\b';
      case '\f':
        return '\\f';
      case '\v':
        return '\\v';
      default:
        return '\\' + c.charCodeAt(0).toString(8).padStart(3, '0');
    }
  });
}

/** `keyword "..."`, split after each newline when the string has several lines (as msgunfmt does). */
function poString(keyword: string, s: string): string {
  const lines = s.split(/(?<=\n)/);
  if (lines.length <= 1) return `${keyword} "${escape(s)}"\n`;
  return `${keyword} ""\n` + lines.map((l) => `"${escape(l)}"\n`).join('');
}

function parseEntryFields(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of header.split('\n')) {
    const m = /^([^:\s]+):\s?(.*)$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Reads a .mo file completely; every offset and length is checked against its size first. */
export async function readMo(a: Artifact, ctx: Context): Promise<Catalog> {
  const buf = await a.readAll(ctx.limits.maxDiffInputSize);
  const where = `of ${a.name}`;
  if (buf.length < HEADER) throw truncated(`Cannot read the gettext header ${where}: ${buf.length} bytes is shorter than its ${HEADER} bytes`);
  const little = buf.readUInt32LE(0) === MAGIC;
  if (!little && buf.readUInt32BE(0) !== MAGIC) throw malformed(`Cannot read ${a.name} as a gettext catalog: bad magic ${buf.subarray(0, 4).toString('hex')}`);
  const u32 = (at: number, what: string) => {
    if (at < 0 || at + 4 > buf.length) throw truncated(`Cannot read ${what} ${where}: offset ${at} is past the end (${buf.length})`);
    return little ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  };
  const revision = u32(4, 'the revision');
  const major = revision >>> 16;
  const minor = revision & 0xffff;
  if (major !== 0) throw malformed(`Cannot read ${a.name}: gettext file format revision ${major}.${minor} is unknown (only major revision 0 exists)`);
  const count = u32(8, 'the string count');
  const origOff = u32(12, 'the original table offset');
  const transOff = u32(16, 'the translation table offset');
  const hashSize = u32(20, 'the hash table size');
  const hashOff = u32(24, 'the hash table offset');
  const table = (off: number, n: number, what: string) => {
    if (off > buf.length || n > (buf.length - off) / 8)
      throw truncated(`Cannot read the ${what} ${where}: ${n} entries of 8 bytes at offset ${off} run past the end (${buf.length})`);
  };
  table(origOff, count, 'original string table');
  table(transOff, count, 'translation table');
  if (hashSize > 0 && (hashOff > buf.length || hashSize > (buf.length - hashOff) / 4))
    throw truncated(`Cannot read the hash table ${where}: ${hashSize} entries of 4 bytes at offset ${hashOff} run past the end (${buf.length})`);

  const fields: Record<string, string> = {
    'byte order': little ? 'little-endian' : 'big-endian',
    revision: `${major}.${minor}`,
    strings: String(count),
    'original table offset': String(origOff),
    'translation table offset': String(transOff),
    'hash table size': String(hashSize),
    'hash table offset': String(hashOff),
  };
  const raw = (tab: number, i: number, what: string): Buffer => {
    const len = u32(tab + i * 8, what);
    const off = u32(tab + i * 8 + 4, what);
    if (off > buf.length || len > buf.length - off)
      throw truncated(`Cannot read ${what} ${i} ${where}: its ${len} bytes at offset ${off} run past the end (${buf.length})`);
    return buf.subarray(off, off + len);
  };

  // [original, translation, system-dependent]
  const entries: [Buffer, Buffer, boolean][] = [];
  for (let i = 0; i < count; i++) entries.push([raw(origOff, i, 'original string'), raw(transOff, i, 'translation'), false]);

  const comments: string[] = [];
  if (minor >= 1) {
    if (buf.length < HEADER_SYSDEP) throw truncated(`Cannot read the revision ${minor} header ${where}: ${buf.length} bytes is shorter than its ${HEADER_SYSDEP} bytes`);
    const nSeg = u32(28, 'the system-dependent segment count');
    const segOff = u32(32, 'the system-dependent segment table offset');
    const nSys = u32(36, 'the system-dependent string count');
    const sysOrig = u32(40, 'the system-dependent original table offset');
    const sysTrans = u32(44, 'the system-dependent translation table offset');
    table(segOff, nSeg, 'system-dependent segment table');
    if (sysOrig > buf.length || nSys > (buf.length - sysOrig) / 4 || sysTrans > buf.length || nSys > (buf.length - sysTrans) / 4)
      throw truncated(`Cannot read the system-dependent string tables ${where}: ${nSys} entries at offsets ${sysOrig} and ${sysTrans} run past the end (${buf.length})`);
    fields['system-dependent strings'] = String(nSys);
    const segName = (i: number) => {
      if (i >= nSeg) throw malformed(`Cannot read a system-dependent string ${where}: segment ${i} of ${nSeg}`);
      return raw(segOff, i, 'system-dependent segment').toString('latin1').replace(/\0+$/, '');
    };
    // A string is static pieces from one offset, interleaved with <segment> references.
    // Segment names can be referenced any number of times: bound what they expand to.
    let budget = 4 * buf.length + 65536;
    const sysdep = (tab: number, i: number): Buffer => {
      let at = u32(tab + i * 4, 'a system-dependent string offset');
      let dataOff = u32(at, 'a system-dependent string');
      at += 4;
      const parts: Buffer[] = [];
      for (;;) {
        const size = u32(at, 'a system-dependent segment');
        const ref = u32(at + 4, 'a system-dependent segment');
        at += 8;
        if (dataOff > buf.length || size > buf.length - dataOff)
          throw truncated(`Cannot read system-dependent string ${i} ${where}: ${size} bytes at offset ${dataOff} run past the end (${buf.length})`);
        parts.push(buf.subarray(dataOff, dataOff + size));
        dataOff += size;
        if (ref === SEGMENTS_END) break;
        const name = segName(ref);
        budget -= size + name.length + 2;
        if (budget < 0) throw new LimitError('gettext-sysdep', `Cannot read system-dependent string ${i} ${where}: the strings expand to more than ${4 * buf.length + 65536} bytes`);
        parts.push(Buffer.from(`<${name}>`, 'latin1'));
      }
      const s = Buffer.concat(parts);
      return s[s.length - 1] === 0 ? s.subarray(0, -1) : s;
    };
    for (let i = 0; i < nSys; i++) entries.push([sysdep(sysOrig, i), sysdep(sysTrans, i), true]);
  }

  // The charset comes from the header entry, itself ASCII.
  const headerEntry = entries.find(([o]) => o.length === 0)?.[1].toString('latin1') ?? '';
  const charset = /^Content-Type:.*charset=([^\s;]+)/im.exec(headerEntry)?.[1] ?? 'UTF-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset === 'CHARSET' ? 'utf-8' : charset);
  } catch {
    comments.push(`Unknown charset ${JSON.stringify(charset)} in ${a.name}; strings are read as UTF-8`);
    decoder = new TextDecoder('utf-8');
  }
  const dec = (b: Buffer) => decoder.decode(b);

  let text = '';
  let entryFields: Record<string, string> = {};
  for (const [orig, trans, sys] of entries) {
    if (text.length > ctx.limits.maxDiffInputSize) throw new LimitError('max-diff-input-size', `Cannot show the catalog of ${a.name}: its text passes ${ctx.limits.maxDiffInputSize} bytes`);
    let id = dec(orig);
    // msgunfmt marks these so: only c-format strings have <PRI...> segments.
    let out = sys ? '#, c-format\n' : '';
    const ctxSep = id.indexOf('\x04');
    if (ctxSep >= 0) {
      out += poString('msgctxt', id.slice(0, ctxSep));
      id = id.slice(ctxSep + 1);
    }
    const str = dec(trans);
    const plural = id.indexOf('\0');
    if (plural >= 0) {
      out += poString('msgid', id.slice(0, plural)) + poString('msgid_plural', id.slice(plural + 1));
      str.split('\0').forEach((s, i) => (out += poString(`msgstr[${i}]`, s)));
    } else if (orig.length === 0 && ctxSep < 0) {
      entryFields = parseEntryFields(str);
      out += 'msgid ""\n' + poString('msgstr', str);
    } else out += poString('msgid', id) + poString('msgstr', str);
    text += (text ? '\n' : '') + out;
  }
  return { fields, entryFields, text, comments };
}

export const gettextFormat: Format = {
  name: FORMAT.gettext,
  magic: (head) => head.length >= HEADER && (head.readUInt32LE(0) === MAGIC || head.readUInt32BE(0) === MAGIC),
  fileName: /\.g?mo$/,
  async compare(a, b, ctx) {
    const [ca, cb] = await settleAll([
      readMo(a, ctx).catch((e: unknown) => {
        throw asReproveError(e, a.path);
      }),
      readMo(b, ctx).catch((e: unknown) => {
        throw asReproveError(e, b.path);
      }),
    ]);
    const header = await headerDifference(ctx, 'mo header', ca.fields, cb.fields);
    const keys = [...new Set([...Object.keys(ca.entryFields), ...Object.keys(cb.entryFields)])];
    const changes: FieldChange[] = keys
      .filter((k) => ca.entryFields[k] !== cb.entryFields[k])
      .map((k) => ({ field: k, value1: ca.entryFields[k], value2: cb.entryFields[k] }));
    const catalog = await textDifference(ctx, 'gettext catalog', 'gettext catalog', ca.text, cb.text, changes.length ? { changes } : {});
    const comments = [...new Set([...ca.comments, ...cb.comments])];
    return group(a.name, b.name, [header, catalog], { comments });
  },
};
