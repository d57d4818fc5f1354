// The engine's fallback for bytes no format reads: a hex dump diff in xxd's layout, as
// diffoscope shows. Equal-size inputs are compared row by row without building
// the whole dump; others are dumped (up to HEXDUMP_INPUT bytes) and line-diffed.
import type { Artifact } from './artifact.js';
import type { Context } from './context.js';
import { cutComment, node, textDifference, type Difference } from './difference.js';
import { cutDiff } from './text-diff.js';
import { settleAll } from './settle.js';
import { limitNote } from './limits.js';

const ROW = 16;
const HEXDUMP_INPUT = 4 << 20;
const CHUNK = 1 << 20;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Longest row: 8+ offset digits, ": ", 40 hex columns, " ", 16 ASCII, newline. */
const MAX_ROW = 24 + 2 + 40 + 1 + ROW + 1;

/** Writes one xxd row into `out` at `pos` (bytes [start, end) of `buf`); returns the new position. */
function writeRow(out: Buffer, pos: number, buf: Buffer, offset: number, start: number, end: number): number {
  // The offset in hex, at least 8 digits (offset.toString(16).padStart(8, '0'), without a string per row).
  let digits = 8;
  for (let v = Math.floor(offset / 0x100000000); v > 0; v = Math.floor(v / 16)) digits++;
  for (let k = digits - 1, v = offset; k >= 0; k--, v = Math.floor(v / 16)) out[pos + k] = HEX_DIGITS[v % 16]!;
  pos += digits;
  out[pos++] = 0x3a; // ':'
  out[pos++] = 0x20;
  for (let i = start; i < start + ROW; i++) {
    if (i < end) {
      const b = buf[i]!;
      out[pos++] = HEX_DIGITS[b >> 4]!;
      out[pos++] = HEX_DIGITS[b & 15]!;
    } else {
      out[pos++] = 0x20;
      out[pos++] = 0x20;
    }
    if ((i - start) % 2 === 1) out[pos++] = 0x20;
  }
  out[pos++] = 0x20;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    out[pos++] = b >= 0x20 && b < 0x7f ? b : 0x2e;
  }
  return pos;
}

/** One row of xxd's layout: "00000010: 6869 0a00 ...  hi..". */
export function hexRow(buf: Buffer, offset: number, start: number, end: number): string {
  const out = Buffer.allocUnsafe(MAX_ROW);
  return out.toString('latin1', 0, writeRow(out, 0, buf, offset, start, end));
}

/** The whole dump, built in one buffer (a string per byte would be garbage by the megabyte). */
export function hexDump(buf: Buffer, base = 0): string {
  if (buf.length === 0) return '';
  const out = Buffer.allocUnsafe(Math.ceil(buf.length / ROW) * MAX_ROW);
  let pos = 0;
  for (let i = 0; i < buf.length; i += ROW) {
    pos = writeRow(out, pos, buf, base + i, i, Math.min(buf.length, i + ROW));
    out[pos++] = 0x0a;
  }
  return out.toString('latin1', 0, pos);
}

/** Rows that differ between two equal-size artifacts, found chunk by chunk. */
async function differingRows(a: Artifact, b: Artifact, max: number): Promise<{ rows: number[]; more: boolean }> {
  const rows: number[] = [];
  for (let off = 0; off < a.size; off += CHUNK) {
    const [ca, cb] = await settleAll([a.read(off, CHUNK), b.read(off, CHUNK)]);
    if (ca.equals(cb)) continue;
    for (let r = 0; r < ca.length; r += ROW) {
      if (ca.compare(cb, r, Math.min(r + ROW, cb.length), r, Math.min(r + ROW, ca.length)) !== 0) {
        if (rows.length >= max) return { rows, more: true };
        rows.push((off + r) / ROW);
      }
    }
  }
  return { rows, more: false };
}

/** A text of ASCII lines built in one growing buffer: a string per row would be garbage by the megabyte. */
class Lines {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** A line of ASCII text. */
  line(text: string): void {
    this.room(text.length + 1);
    this.pos += this.buf.write(text, this.pos, 'latin1');
    this.buf[this.pos++] = 0x0a;
  }

  /** A line made of `sign` and one xxd row (see writeRow). */
  row(sign: number, data: Buffer, offset: number, start: number, end: number): void {
    this.room(MAX_ROW + 2);
    this.buf[this.pos++] = sign;
    this.pos = writeRow(this.buf, this.pos, data, offset, start, end);
    this.buf[this.pos++] = 0x0a;
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.pos);
  }
}

const SPACE = 0x20;
const MINUS = 0x2d;
const PLUS = 0x2b;

async function sameSizeDiff(a: Artifact, b: Artifact, ctx: Context): Promise<{ text: string; comments: string[] }> {
  const context = ctx.diffOptions.context;
  const maxBlock = ctx.diffOptions.maxBlockLines;
  const { rows, more } = await differingRows(a, b, 64 * maxBlock);
  const out = new Lines();
  const comments: string[] = [];
  const totalRows = Math.ceil(a.size / ROW);
  let i = 0;
  let removed = 0;
  while (i < rows.length) {
    let j = i;
    while (j + 1 < rows.length && rows[j + 1]! - rows[j]! <= 2 * context) j++;
    const start = Math.max(0, rows[i]! - context);
    const end = Math.min(totalRows, rows[j]! + context + 1);
    const len = end - start;
    out.line(`@@ -${start + 1},${len} +${start + 1},${len} @@`);
    // The hunk's bytes, read once per side (at most 64 blocks of rows).
    const [ha, hb] = await settleAll([a.read(start * ROW, len * ROW), b.read(start * ROW, len * ROW)]);
    const row = (sign: number, buf: Buffer, r: number) => out.row(sign, buf, r * ROW, (r - start) * ROW, Math.min(buf.length, (r - start + 1) * ROW));
    const changed = new Set(rows.slice(i, j + 1));
    for (let r = start; r < end; ) {
      if (!changed.has(r)) {
        row(SPACE, ha, r);
        r++;
        continue;
      }
      let e = r;
      while (e < end && changed.has(e)) e++;
      for (const [buf, sign] of [
        [ha, MINUS],
        [hb, PLUS],
      ] as const) {
        for (let k = r; k < e; k++) {
          if (k - r < maxBlock) row(sign, buf, k);
        }
        if (e - r > maxBlock) {
          out.line(`${String.fromCharCode(sign)}[ ${e - r - maxBlock} lines removed ]`);
          removed += e - r - maxBlock;
        }
      }
      r = e;
    }
    i = j + 1;
  }
  if (removed) comments.push(`${removed} lines removed from diff blocks longer than ${maxBlock} lines (${limitNote('maxDiffBlockLines')})`);
  if (more) comments.push(`Only the first ${rows.length} differing rows of 16 bytes are shown`);
  // An empty diff is one newline, as joining no lines and ending with one gave.
  return { text: out.text() || '\n', comments };
}

/** The most one hex dump diff may take of the report, so that decoded views elsewhere still fit. */
const hexDiffMax = (ctx: Context) => Math.max(1 << 20, Math.floor(ctx.limits.maxReportSize / 8));

/** Hex dump diff of two artifacts; always a node, since the bytes differ. */
export async function compareBinary(a: Artifact, b: Artifact, ctx: Context): Promise<Difference> {
  if (a.size === b.size && a.size > 0) {
    const d = node(a.name, b.name, { kind: 'binary' });
    const { text: whole, comments } = await sameSizeDiff(a, b, ctx);
    const { text, cut } = cutDiff(whole, hexDiffMax(ctx));
    if (cut) comments.push(cutComment(cut, whole.length));
    if (ctx.chargeReport(text.length)) d.unifiedDiff = text;
    else d.comments.push(`Hex dump left out: report size limit reached (${limitNote('maxReportSize')})`);
    d.comments.push(...comments);
    return d;
  }
  const [ba, bb] = await settleAll([a.read(0, HEXDUMP_INPUT), b.read(0, HEXDUMP_INPUT)]);
  const d = (await textDifference(ctx, a.name, b.name, hexDump(ba), hexDump(bb), { kind: 'binary' }, hexDiffMax(ctx))) ?? node(a.name, b.name, { kind: 'binary' });
  if (a.size > HEXDUMP_INPUT || b.size > HEXDUMP_INPUT) d.comments.push(`Hex dump limited to the first ${HEXDUMP_INPUT} bytes of ${a.size} and ${b.size}`);
  if (ba.equals(bb)) d.comments.push(`Sizes differ: ${a.size} vs ${b.size} bytes`);
  return d;
}

