// mtree(5) file lists: Arch packages' .MTREE (gzip'd; the gzip format hands us
// the decompressed member). Entries are parsed with their /set defaults applied
// and compared entry by entry (field = keyword, member = path); the view is the
// diff of the entries that differ, one line each.
import type { Context } from '../compare/context.js';
import { textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { malformed } from '../compare/errors.js';
import type { Format } from './format.js';
import { capChanges, compareParsed, headText } from './pkginfo.js';
import { FORMAT } from './names.js';

export type Keywords = Map<string, string>;

/** An entry as written: the /set defaults in force (shared between entries) and its own keywords. */
export interface Entry {
  defaults: Keywords;
  /** Identifies `defaults` by content, so equal entries are found without resolving them. */
  defaultsKey: string;
  /** The keywords of the line, after the path. */
  own: string;
}

export interface Mtree {
  /** Path as written ("./usr/bin/x", vis(3)-encoded) -> entry, in file order. */
  entries: Map<string, Entry>;
}

function tokens(line: string): string[] {
  return line.split(/[ \t]+/).filter(Boolean);
}

function setKeywords(into: Keywords, toks: string[]): void {
  for (const t of toks) {
    const eq = t.indexOf('=');
    if (eq < 0) into.set(t, '');
    else into.set(t.slice(0, eq), t.slice(eq + 1));
  }
}

/** The effective keywords of an entry. */
export function resolve(e: Entry): Keywords {
  const kw = new Map(e.defaults);
  setKeywords(kw, tokens(e.own));
  return kw;
}

const keyOf = (kw: Keywords) => [...kw].map(([k, v]) => `${k}=${v}`).join(' ');

function continues(line: string): boolean {
  let n = 0;
  while (n < line.length && line.charCodeAt(line.length - 1 - n) === 0x5c) n++;
  return n % 2 === 1;
}

export function parseMtree(text: string, name: string): Mtree {
  const entries = new Map<string, Entry>();
  let defaults: Keywords = new Map();
  let defaultsKey = '';
  let cwd = '';
  // Lines are cut from the text one at a time: no array of every line.
  let pos = 0;
  let lineCount = 0;
  const next = (): string => {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let l = text.slice(pos, end);
    pos = end + 1;
    lineCount++;
    if (l.endsWith('\r')) l = l.slice(0, -1);
    return l;
  };
  while (pos < text.length) {
    const lineNo = lineCount + 1;
    let part = next();
    // An odd number of trailing backslashes continues the line (counted, not matched: no regex backtracking).
    const parts: string[] = [];
    while (continues(part) && pos < text.length) {
      parts.push(part.slice(0, -1));
      part = next();
    }
    parts.push(part);
    const line = (parts.length === 1 ? part : parts.join(' ')).trim();
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.search(/[ \t]/);
    const first = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    const where = () => `Cannot read ${name} line ${lineNo}`;
    const bad = tokens(rest).find((t) => t.startsWith('='));
    if (bad !== undefined) throw malformed(`${where()}: keyword ${JSON.stringify(bad.slice(0, 40))} has no name`);
    if (first === '/set' || first === '/unset') {
      // Copy on write: entries keep the defaults they were read with.
      defaults = new Map(defaults);
      if (first === '/set') setKeywords(defaults, tokens(rest));
      else for (const k of tokens(rest)) if (k === 'all') defaults.clear();
        else defaults.delete(k);
      defaultsKey = keyOf(defaults);
      continue;
    }
    if (first.startsWith('/')) throw malformed(`${where()}: unknown command ${JSON.stringify(first.slice(0, 40))}`);
    if (first === '..') {
      // Hierarchical (v1) form: back up one directory.
      cwd = cwd.includes('/') ? cwd.slice(0, cwd.lastIndexOf('/')) : '';
      continue;
    }
    const entry: Entry = { defaults, defaultsKey, own: rest };
    const full = first.includes('/');
    const path = full || cwd === '' ? first : `${cwd}/${first}`;
    if (!full && resolve(entry).get('type') === 'dir') cwd = path;
    const prev = entries.get(path);
    if (prev) {
      // A repeated path adds to (and overrides) the keywords of the first.
      const merged = resolve(prev);
      for (const [k, v] of resolve(entry)) merged.set(k, v);
      entries.set(path, { defaults: merged, defaultsKey: keyOf(merged), own: '' });
    } else entries.set(path, entry);
  }
  return { entries };
}

const ORDER = ['type', 'mode', 'uid', 'gid', 'uname', 'gname', 'size', 'time', 'link', 'md5digest', 'sha256digest'];
const KNOWN = new Set(ORDER);
const MAX_VIEW_ENTRIES = 50_000;

/** An entry's keywords without copying its defaults: its own first, then the /set ones. */
class Resolved {
  readonly own: Keywords = new Map();
  constructor(readonly e: Entry) {
    setKeywords(this.own, e.own.includes('\t') ? tokens(e.own) : e.own.split(' ').filter(Boolean));
  }
  get(k: string): string | undefined {
    const v = this.own.get(k);
    return v !== undefined ? v : this.e.defaults.get(k);
  }
  /** Adds the keywords outside ORDER to `into`. */
  others(into: Set<string>): void {
    for (const k of this.own.keys()) if (!KNOWN.has(k)) into.add(k);
    for (const k of this.e.defaults.keys()) if (!KNOWN.has(k)) into.add(k);
  }
}

/** The keywords of one or two entries in display order: ORDER, then the others by name. */
function keywordsOf(x: Resolved | undefined, y: Resolved | undefined): readonly string[] {
  const extra = new Set<string>();
  x?.others(extra);
  y?.others(extra);
  return extra.size === 0 ? ORDER : [...ORDER, ...[...extra].sort()];
}

function entryLine(path: string, r: Resolved): string {
  let line = path;
  for (const k of keywordsOf(r, undefined)) {
    const v = r.get(k);
    if (v !== undefined) line += v === '' ? ` ${k}` : ` ${k}=${v}`;
  }
  return line + '\n';
}

export async function mtreeDifference(ctx: Context, name1: string, name2: string, ma: Mtree, mb: Mtree, ta: string, tb: string): Promise<Difference | null> {
  const comments: string[] = [];
  const changes: FieldChange[] = [];
  const viewA: string[] = [];
  const viewB: string[] = [];
  let shown = 0;
  const paths = [...ma.entries.keys(), ...[...mb.entries.keys()].filter((p) => !ma.entries.has(p))];
  for (const path of paths) {
    const ea = ma.entries.get(path);
    const eb = mb.entries.get(path);
    if (ea && eb && ea.own === eb.own && ea.defaultsKey === eb.defaultsKey) continue;
    const ra = ea && new Resolved(ea);
    const rb = eb && new Resolved(eb);
    let differs = false;
    for (const k of keywordsOf(ra, rb)) {
      const v1 = ra?.get(k);
      const v2 = rb?.get(k);
      if (v1 === v2) continue;
      differs = true;
      const c: FieldChange = { member: path, field: k };
      if (v1 !== undefined) c.value1 = v1;
      if (v2 !== undefined) c.value2 = v2;
      changes.push(c);
    }
    if (!differs) continue;
    // The view is for reading and bounded; the changes list every entry.
    if (++shown > MAX_VIEW_ENTRIES) continue;
    if (ra) viewA.push(entryLine(path, ra));
    if (rb) viewB.push(entryLine(path, rb));
  }
  const oa = [...ma.entries.keys()].filter((p) => mb.entries.has(p));
  const ob = [...mb.entries.keys()].filter((p) => ma.entries.has(p));
  const at = oa.findIndex((p, i) => p !== ob[i]);
  if (at >= 0) {
    comments.push('Entries are in a different order');
    changes.push({ field: 'order', value1: oa[at]!, value2: ob[at]! });
  }
  let d: Difference | null;
  const [va, vb] = [viewA.join(''), viewB.join('')];
  if (va !== vb) {
    d = await textDifference(ctx, name1, name2, va, vb, { kind: 'header' });
    d?.comments.push('Entries that differ, with the /set defaults applied');
    if (shown > MAX_VIEW_ENTRIES) d?.comments.push(`Only the first ${MAX_VIEW_ENTRIES} of the ${shown} entries that differ are shown`);
  } else {
    // Same entries: the raw text shows the order or formatting that differs.
    d = await textDifference(ctx, name1, name2, ta, tb, { kind: 'header' });
    if (at < 0) comments.push('The entries are the same; the formatting differs (/set lines, keyword order)');
  }
  if (!d) return null;
  d.comments.push(...comments);
  const kept = capChanges(changes, d.comments);
  if (kept.length) d.changes = kept;
  return d;
}

export const mtreeFormat: Format = {
  name: FORMAT.mtree,
  magic(head) {
    const text = headText(head);
    return text !== null && /^#mtree(\s|$)/.test(text);
  },
  compare: (a, b, ctx) => compareParsed(a, b, ctx, 'mtree', parseMtree, (ma, mb, ta, tb) => mtreeDifference(ctx, a.name, b.name, ma, mb, ta, tb)),
};
