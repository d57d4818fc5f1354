// Arch Linux package metadata: .PKGINFO and .BUILDINFO, "key = value" lines
// written by makepkg, some keys repeated (depend, buildenv, installed, ...).
// Compared field by field; the text diff of the file is the view. The helpers
// for structured text files are shared with debian-control, md5sums and mtree.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { malformed, ReproveError } from '../compare/errors.js';
import type { Format } from './format.js';
import { compareText, readText } from './text.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';

/** Field changes kept on one node; the rest are counted in a comment. */
export const MAX_CHANGES = 100_000;

export function baseName(name: string): string {
  const clean = name.replace(/\/+$/, '');
  return clean.slice(clean.lastIndexOf('/') + 1);
}

/** The head as text when it has no NUL byte (recognisers look at text only). */
export function headText(head: Buffer): string | null {
  if (head.length === 0 || head.includes(0)) return null;
  return head.toString('latin1');
}

/** Keeps at most MAX_CHANGES changes, saying how many were left out. */
export function capChanges(changes: FieldChange[], comments: string[]): FieldChange[] {
  if (changes.length <= MAX_CHANGES) return changes;
  comments.push(`${changes.length - MAX_CHANGES} more field changes are not listed`);
  return changes.slice(0, MAX_CHANGES);
}

/**
 * Reads both sides as text and parses them; anything that is not text, is past
 * the diff input limit or does not parse is shown as a text (or binary) diff
 * with a comment, so a parser's failure never hides a difference.
 */
export async function compareParsed<T>(
  a: Artifact,
  b: Artifact,
  ctx: Context,
  what: string,
  parse: (text: string, name: string) => T,
  build: (pa: T, pb: T, ta: string, tb: string) => Promise<Difference | null>,
): Promise<Difference> {
  const [ta, tb] = await settleAll([readText(a, ctx), readText(b, ctx)]);
  if (!ta || !tb || ta.cut || tb.cut) return compareText(a, b, ctx);
  let pa: T;
  let pb: T;
  try {
    pa = parse(ta.text, a.name);
    pb = parse(tb.text, b.name);
  } catch (err) {
    if (!(err instanceof ReproveError)) throw err;
    const d = await compareText(a, b, ctx);
    d.comments.unshift(`Cannot read as ${what}: ${err.message}; showing the text difference`);
    return d;
  }
  const d = await build(pa, pb, ta.text, tb.text);
  if (!d) return compareText(a, b, ctx);
  if (ta.encoding !== tb.encoding) d.comments.unshift(`Encoding differs: ${ta.encoding} vs ${tb.encoding}`);
  return d;
}

export interface FieldOptions {
  /** Keys whose every value is one item of a list, even when a side has it once. */
  multi?: (key: string) => boolean;
  /** Keys compared case-insensitively (deb822). */
  ignoreCase?: boolean;
  member?: string;
}

/**
 * Changes between two lists of (key, value): one change per single-valued key
 * that differs; for repeated keys one change per value added or removed, with
 * only the side that has it set.
 */
export function fieldChanges(fa: readonly (readonly [string, string])[], fb: readonly (readonly [string, string])[], opts: FieldOptions = {}): FieldChange[] {
  const norm = (k: string) => (opts.ignoreCase ? k.toLowerCase() : k);
  const keys = new Map<string, { name: string; a: string[]; b: string[] }>();
  const add = (list: readonly (readonly [string, string])[], side: 'a' | 'b') => {
    for (const [k, v] of list) {
      let e = keys.get(norm(k));
      if (!e) keys.set(norm(k), (e = { name: k, a: [], b: [] }));
      e[side].push(v);
    }
  };
  add(fa, 'a');
  add(fb, 'b');
  const out: FieldChange[] = [];
  const change = (field: string, value1?: string, value2?: string): FieldChange => {
    const c: FieldChange = { field };
    if (opts.member !== undefined) c.member = opts.member;
    if (value1 !== undefined) c.value1 = value1;
    if (value2 !== undefined) c.value2 = value2;
    return c;
  };
  for (const { name, a, b } of keys.values()) {
    if (a.length <= 1 && b.length <= 1 && !opts.multi?.(name)) {
      if (a[0] !== b[0]) out.push(change(name, a[0], b[0]));
      continue;
    }
    const left = new Map<string, number>();
    for (const v of b) left.set(v, (left.get(v) ?? 0) + 1);
    for (const v of a) {
      const n = left.get(v) ?? 0;
      if (n > 0) left.set(v, n - 1);
      else out.push(change(name, v, undefined));
    }
    const right = new Map<string, number>();
    for (const v of a) right.set(v, (right.get(v) ?? 0) + 1);
    for (const v of b) {
      const n = right.get(v) ?? 0;
      if (n > 0) right.set(v, n - 1);
      else out.push(change(name, undefined, v));
    }
  }
  return out;
}

// Keys makepkg writes once per item (.PKGINFO and .BUILDINFO).
const MULTI = new Set([
  'license', 'replaces', 'group', 'conflict', 'provides', 'backup', 'depend', 'optdepend', 'makedepend', 'checkdepend',
  'makepkgopt', 'buildenv', 'options', 'installed',
]);

export type KeyValues = [string, string][];

/** "key = value" lines; '#' comments and blank lines skipped. */
export function parseKeyValues(text: string, name: string): KeyValues {
  const out: KeyValues = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^\s=]+) ?= ?(.*)$/.exec(line);
    if (!m) throw malformed(`Cannot read ${name} line ${i + 1}: ${JSON.stringify(line.slice(0, 80))} is not "key = value"`);
    out.push([m[1]!, m[2]!]);
  }
  return out;
}

/** Node for two field lists: the file's text diff, one change per field that differs. */
export async function keyValueDifference(ctx: Context, a: Artifact, b: Artifact, fa: KeyValues, fb: KeyValues, ta: string, tb: string): Promise<Difference | null> {
  const comments: string[] = [];
  const changes = capChanges(fieldChanges(fa, fb, { multi: (k) => MULTI.has(k) }), comments);
  if (changes.length === 0 && ta !== tb) comments.push('The fields are the same; their order or formatting differs');
  const d = await textDifference(ctx, a.name, b.name, ta, tb, { kind: 'header' });
  if (!d) return null;
  d.comments.push(...comments);
  if (changes.length) d.changes = changes;
  return d;
}

function looksLikePkginfo(name: string, text: string): boolean {
  const base = baseName(name);
  if (base === '.PKGINFO') return text.startsWith('# Generated by makepkg') || /^pkgname = /m.test(text);
  if (base === '.BUILDINFO') return /^(format|pkgname) = /m.test(text);
  return false;
}

export const pkginfoFormat: Format = {
  name: FORMAT.pkginfo,
  magic(head, a) {
    const text = headText(head);
    return text !== null && looksLikePkginfo(a.name, text);
  },
  compare: (a, b, ctx) =>
    compareParsed(a, b, ctx, 'Arch package metadata', parseKeyValues, (fa, fb, ta, tb) => keyValueDifference(ctx, a, b, fa, fb, ta, tb)),
};
