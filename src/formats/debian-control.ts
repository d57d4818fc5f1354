// Debian control data (deb822): a .deb's control file, and .dsc, .changes and
// .buildinfo texts. Paragraphs of "Field: value" with continuation lines,
// optionally inside an OpenPGP clearsigned message. Compared field by field;
// the text diff of the file is the view.
import type { Context } from '../compare/context.js';
import { textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { malformed } from '../compare/errors.js';
import type { Format } from './format.js';
import { baseName, capChanges, compareParsed, fieldChanges, headText } from './pkginfo.js';
import { FORMAT } from './names.js';

export interface Paragraph {
  /** "Package: foo": the first field, naming the paragraph in changes of multi-paragraph files. */
  id: string;
  fields: [string, string][];
}

export interface Deb822 {
  paragraphs: Paragraph[];
  /** The armored signature of a clearsigned file. */
  signature?: string;
}

const SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIG_START = '-----BEGIN PGP SIGNATURE-----';

export function parseDeb822(text: string, name: string): Deb822 {
  let lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let signature: string | undefined;
  let lineNo = 0; // offset of `lines` in the file, for messages
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && lines[first] === SIGNED) {
    // Armor headers (Hash: ...) end at the first blank line; dash-escaped lines follow.
    let i = first + 1;
    while (i < lines.length && lines[i] !== '') i++;
    const end = lines.indexOf(SIG_START, i);
    if (end < 0) throw malformed(`Cannot read ${name}: clearsigned message without "${SIG_START}"`);
    signature = lines.slice(end).join('\n').trimEnd();
    lineNo = i + 1;
    lines = lines.slice(i + 1, end).map((l) => (l.startsWith('- ') ? l.slice(2) : l));
  }
  const paragraphs: Paragraph[] = [];
  let cur: [string, string][] | null = null;
  const seen = new Map<string, number>();
  const close = () => {
    if (!cur) return;
    const [k, v] = cur[0]!;
    let id = `${k}: ${v.split('\n')[0]}`;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    if (n > 1) id += ` (${n})`;
    paragraphs.push({ id, fields: cur });
    cur = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      close();
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const last = cur?.[cur.length - 1];
      if (!last) throw malformed(`Cannot read ${name} line ${lineNo + i + 1}: continuation line outside a field`);
      last[1] += '\n' + line;
      continue;
    }
    const m = /^([^\s:#-][^\s:]*):(.*)$/.exec(line);
    if (!m) throw malformed(`Cannot read ${name} line ${lineNo + i + 1}: ${JSON.stringify(line.slice(0, 80))} is not "Field: value"`);
    (cur ??= []).push([m[1]!, m[2]!.trim()]);
  }
  close();
  return signature === undefined ? { paragraphs } : { paragraphs, signature };
}

/** Same words in another order (Depends: a, b vs b, a). */
function orderOnly(v1: string, v2: string): boolean {
  const words = (v: string) => v.split(/[\s,]+/).filter(Boolean).sort().join(' ');
  return v1 !== v2 && words(v1) === words(v2);
}

export function deb822Changes(pa: Deb822, pb: Deb822, comments: string[]): FieldChange[] {
  const many = pa.paragraphs.length > 1 || pb.paragraphs.length > 1;
  const byId = new Map(pb.paragraphs.map((p) => [p.id, p]));
  const changes: FieldChange[] = [];
  const add = (fa: [string, string][], fb: [string, string][], member: string | undefined) => {
    const cs = fieldChanges(fa, fb, { ignoreCase: true, ...(member !== undefined ? { member } : {}) });
    for (const c of cs) if (c.value1 !== undefined && c.value2 !== undefined && orderOnly(c.value1, c.value2)) comments.push(`${c.field}: ordering differences only`);
    changes.push(...cs);
  };
  // Paragraphs pair by their first field; with one paragraph a side they always pair.
  if (!many) add(pa.paragraphs[0]?.fields ?? [], pb.paragraphs[0]?.fields ?? [], undefined);
  else {
    for (const p of pa.paragraphs) {
      const q = byId.get(p.id);
      byId.delete(p.id);
      add(p.fields, q?.fields ?? [], p.id);
    }
    for (const q of byId.values()) add([], q.fields, q.id);
  }
  if (pa.signature !== pb.signature) {
    const c: FieldChange = { field: 'PGP signature' };
    if (pa.signature !== undefined) c.value1 = pa.signature;
    if (pb.signature !== undefined) c.value2 = pb.signature;
    changes.push(c);
  }
  return changes;
}

function looksLikeControl(name: string, text: string): boolean {
  const base = baseName(name);
  if (base === 'control') return /^(Package|Source):/m.test(text);
  if (/\.(dsc|changes|buildinfo)$/.test(base)) return text.startsWith(SIGNED) || /^(Format|Source|Binary|Package):/m.test(text);
  return false;
}

export async function deb822Difference(ctx: Context, name1: string, name2: string, pa: Deb822, pb: Deb822, ta: string, tb: string): Promise<Difference | null> {
  const comments: string[] = [];
  const changes = capChanges(deb822Changes(pa, pb, comments), comments);
  if (changes.length === 0 && ta !== tb) comments.push('The fields are the same; their order or formatting differs');
  const d = await textDifference(ctx, name1, name2, ta, tb, { kind: 'header' });
  if (!d) return null;
  d.comments.push(...comments);
  if (changes.length) d.changes = changes;
  return d;
}

export const debianControlFormat: Format = {
  name: FORMAT.debianControl,
  magic(head, a) {
    const text = headText(head);
    return text !== null && looksLikeControl(a.name, text);
  },
  compare: (a, b, ctx) => compareParsed(a, b, ctx, 'Debian control data', parseDeb822, (pa, pb, ta, tb) => deb822Difference(ctx, a.name, b.name, pa, pb, ta, tb)),
};
