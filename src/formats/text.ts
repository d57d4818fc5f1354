// Text: decoded with its detected encoding and compared line by line. Inputs
// past --max-diff-input-size are cut (and the cut is said) to bound memory.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { textDifference, type Difference } from '../compare/difference.js';
import { compareBinary } from '../compare/hexdump.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';
import { limitNote } from '../compare/limits.js';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'iso-8859-1';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether more than `max` bytes are control characters other than tab, newline, CR, form feed and escape. */
function tooManyControls(buf: Buffer, max: number): boolean {
  let n = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27 && ++n > max) return true;
  }
  return false;
}

/** The encoding of a text, or null when the bytes do not look like text. */
export function detectEncoding(buf: Buffer, partial: boolean): Encoding | null {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return 'utf-16le';
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return 'utf-16be';
  if (buf.includes(0)) return null;
  if (tooManyControls(buf, buf.length / 100)) return null;
  try {
    // A cut may split a multi-byte sequence: decode without its last 3 bytes.
    utf8.decode(partial && buf.length > 3 ? buf.subarray(0, buf.length - 3) : buf);
    return 'utf-8';
  } catch {
    // Latin-1 when most bytes are printable ASCII.
    let high = 0;
    for (const c of buf) if (c >= 0x80 && c < 0xa0) high++;
    return high > buf.length / 50 ? null : 'iso-8859-1';
  }
}

export function decode(buf: Buffer, enc: Encoding): string {
  switch (enc) {
    case 'utf-8':
      return buf.toString('utf8').replace(/^\uFEFF/, '');
    case 'utf-16le':
      return new TextDecoder('utf-16le').decode(buf.subarray(2));
    case 'utf-16be':
      return new TextDecoder('utf-16be').decode(buf.subarray(2));
    case 'iso-8859-1':
      return buf.toString('latin1');
  }
}

/** Reads an artifact as text, cut at the diff input limit; null when it is not text. */
export async function readText(a: Artifact, ctx: Context): Promise<{ text: string; encoding: Encoding; cut: boolean } | null> {
  const limit = ctx.limits.maxDiffInputSize;
  const cut = a.size > limit;
  const buf = await a.read(0, limit);
  const encoding = detectEncoding(buf, cut);
  if (!encoding) return null;
  return { text: decode(buf, encoding), encoding, cut };
}

/** Line diff of two texts; binary fallback when either side is not text. */
export async function compareText(a: Artifact, b: Artifact, ctx: Context): Promise<Difference> {
  const [ta, tb] = await settleAll([readText(a, ctx), readText(b, ctx)]);
  if (!ta || !tb) {
    const d = await compareBinary(a, b, ctx);
    d.comments.unshift(`${!ta ? a.name : b.name} is not text; showing the binary difference`);
    return d;
  }
  const comments: string[] = [];
  if (ta.encoding !== tb.encoding) comments.push(`Encoding differs: ${ta.encoding} vs ${tb.encoding}`);
  if (ta.cut || tb.cut) comments.push(`Only the first ${ctx.limits.maxDiffInputSize} bytes are compared as text (${limitNote('maxDiffInputSize')})`);
  const d = await textDifference(ctx, a.name, b.name, ta.text, tb.text);
  if (d) {
    d.comments.unshift(...comments);
    return d;
  }
  // Same text, different bytes: encoding, byte order mark, or past the cut.
  const bin = await compareBinary(a, b, ctx);
  bin.comments.unshift(...comments, 'The decoded text is identical; the bytes differ');
  return bin;
}

export const textFormat: Format = {
  name: FORMAT.text,
  magic: (head) => head.length > 0 && detectEncoding(head, true) !== null,
  compare: compareText,
};

