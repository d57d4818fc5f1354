// The text views of an RPM, as rpm -qp shows a package: every tag of a header by
// name, the file list (rpm -qplv with the per-file attributes), the dependencies of
// each kind, the scriptlets and triggers, and the changelog. Each view is a text
// diff plus field changes, so a report says which tag or file attribute moved. It
// exists apart from the parser so that what is shown can change without touching
// how the bytes are read.
import type { Context } from '../compare/context.js';
import { node, textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { formatTime, modeString } from '../compare/members.js';
import { digestName } from './rpm-integrity.js';
import { BIN, I18NSTRING, RPM_TYPES, tagValues, type RpmHeader, type RpmPackage, type RpmTag } from './rpm-parser.js';
import { NODE } from './names.js';

/** A change's value is cut past this, so a hostile 256 MiB array does not land in the report twice. */
const MAX_CHANGE_VALUE = 64 * 1024;

function cut(s: string): string {
  return s.length > MAX_CHANGE_VALUE ? `${s.slice(0, MAX_CHANGE_VALUE)}… (${s.length} characters)` : s;
}

/** One "NAME: value" line per element; the other lines of a multi-line string are indented. */
function tagText(h: RpmHeader): string {
  const i18n = h.byName.get('HEADERI18NTABLE')?.values ?? [];
  const out: string[] = [];
  for (const t of h.tags) {
    if (t.values.length === 0) out.push(`${t.name}: (${RPM_TYPES[t.type]})`);
    t.values.forEach((v, k) => {
      // rpm reserves signature space as zeros: a kilobyte of "00" says nothing.
      if (t.type === BIN && v.length > 64 && /^0*$/.test(v)) v = `(${v.length / 2} zero bytes)`;
      const label = t.type === I18NSTRING && k > 0 ? `${t.name}(${i18n[k] ?? k})` : t.name;
      out.push(`${label}: ${v.replace(/\n/g, '\n    ')}`);
    });
  }
  return out.join('\n') + '\n';
}

function tagChanges(ha: RpmHeader, hb: RpmHeader): FieldChange[] {
  const byTag = (h: RpmHeader) => new Map(h.tags.map((t) => [t.tag, t]));
  const ma = byTag(ha);
  const mb = byTag(hb);
  const all = [...new Set([...ma.keys(), ...mb.keys()])].sort((x, y) => x - y);
  const show = (t: RpmTag | undefined) => (t ? cut(t.values.join('\n')) : undefined);
  const changes: FieldChange[] = [];
  for (const n of all) {
    const ta = ma.get(n);
    const tb = mb.get(n);
    if (ta && tb && ta.type === tb.type && ta.values.length === tb.values.length && ta.values.every((v, k) => v === tb.values[k])) continue;
    changes.push({ field: (ta ?? tb)!.name, value1: show(ta), value2: show(tb) });
  }
  return changes;
}

export async function headerNode(ctx: Context, title: string, ha: RpmHeader, hb: RpmHeader): Promise<Difference | null> {
  const changes = tagChanges(ha, hb);
  if (changes.length === 0) return null;
  const d = await textDifference(ctx, title, title, tagText(ha), tagText(hb), { kind: 'header', changes });
  return d ?? node(title, title, { kind: 'header', changes, comments: ['The tags differ in type only'] });
}

const FILE_FLAGS: [number, string][] = [
  [1, 'config'], [2, 'doc'], [4, 'icon'], [8, 'missingok'], [16, 'noreplace'], [32, 'specfile'], [64, 'ghost'],
  [128, 'license'], [256, 'readme'], [2048, 'pubkey'], [4096, 'artifact'],
];

function fileFlags(v: string | undefined): string {
  if (v === undefined) return '';
  const n = Number(v);
  const names = FILE_FLAGS.filter(([bit]) => n & bit).map(([, s]) => s);
  const rest = FILE_FLAGS.reduce((m, [bit]) => m & ~bit, n);
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

const FILE_TYPES: Record<number, 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket'> = {
  0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket',
};

/** Per-file attributes: the tag it comes from and how it is shown. */
const FILE_ATTRS: [tag: string, label: string][] = [
  ['FILEDIGESTS', 'digest'], ['FILEFLAGS', 'flags'], ['FILELANGS', 'lang'], ['FILECAPS', 'caps'], ['FILERDEVS', 'rdev'],
  ['FILEVERIFYFLAGS', 'verify'], ['FILECOLORS', 'color'], ['FILEINODES', 'inode'], ['FILEDEVICES', 'device'],
];

export interface RpmFile {
  path: string;
  line: string;
  /** Tag name -> value, for the changes. */
  fields: Record<string, string>;
}

export function rpmFiles(h: RpmHeader, comments: string[], name: string): RpmFile[] {
  const base = tagValues(h, 'BASENAMES');
  const dirs = tagValues(h, 'DIRNAMES');
  const idx = tagValues(h, 'DIRINDEXES');
  const old = tagValues(h, 'OLDFILENAMES');
  const paths = base.length ? base.map((b, i) => `${dirs[Number(idx[i])] ?? '?/'}${b}`) : old;
  if (base.length && (idx.length !== base.length || idx.some((i) => Number(i) >= dirs.length)))
    comments.push(`${name}: DIRINDEXES (${idx.length}) does not match BASENAMES (${base.length}) and DIRNAMES (${dirs.length})`);
  const arr = (tag: string) => {
    const v = tagValues(h, tag);
    if (v.length && v.length !== paths.length) comments.push(`${name}: ${tag} has ${v.length} entries for ${paths.length} files`);
    return v;
  };
  const sizes = h.byName.has('LONGFILESIZES') ? arr('LONGFILESIZES') : arr('FILESIZES');
  const sizeTag = h.byName.has('LONGFILESIZES') ? 'LONGFILESIZES' : 'FILESIZES';
  const modes = arr('FILEMODES');
  const users = arr('FILEUSERNAME');
  const groups = arr('FILEGROUPNAME');
  const mtimes = arr('FILEMTIMES');
  const links = arr('FILELINKTOS');
  const attrs = FILE_ATTRS.map(([tag, label]) => [tag, label, arr(tag)] as const);
  const algo = tagValues(h, 'FILEDIGESTALGO')[0];
  return paths.map((path, i) => {
    const mode = Number(modes[i] ?? 0);
    const type = FILE_TYPES[mode & 0o170000] ?? 'file';
    const fields: Record<string, string> = {};
    const set = (tag: string, v: string | undefined) => {
      if (v !== undefined) fields[tag] = v;
    };
    set(sizeTag, sizes[i]);
    set('FILEMODES', modes[i] === undefined ? undefined : `0${mode.toString(8)}`);
    set('FILEUSERNAME', users[i]);
    set('FILEGROUPNAME', groups[i]);
    set('FILEMTIMES', mtimes[i]);
    set('FILELINKTOS', links[i]);
    let line = `${modeString({ type, size: 0, mode: mode & 0o7777 })} ${users[i] ?? '?'}/${groups[i] ?? '?'} ${(sizes[i] ?? '?').padStart(10)} ${
      mtimes[i] !== undefined ? formatTime(Number(mtimes[i])) : '?'
    } ${path}`;
    if (links[i]) line += ` -> ${links[i]}`;
    const extras: string[] = [];
    for (const [tag, label, values] of attrs) {
      const v = values[i];
      if (v === undefined) continue;
      set(tag, v);
      const shown = tag === 'FILEFLAGS' ? fileFlags(v) : v;
      // Empty, zero and default attributes are the common case, and inode numbers are rpmbuild's
      // own counter: left out of the line, still compared (as changes).
      if (shown === '' || (shown === '0' && tag !== 'FILEFLAGS') || tag === 'FILEINODES' || tag === 'FILEDEVICES') continue;
      if (tag === 'FILEVERIFYFLAGS' && v === '4294967295') continue;
      extras.push(`${label}=${tag === 'FILEDIGESTS' && algo ? `${digestName(algo)}:${shown}` : shown}`);
    }
    if (extras.length) line += ` [${extras.join(', ')}]`;
    return { path, line, fields };
  });
}

export async function fileListNode(ctx: Context, pa: RpmPackage, pb: RpmPackage, comments: string[], na: string, nb: string): Promise<Difference | null> {
  const fa = rpmFiles(pa.header, comments, na);
  const fb = rpmFiles(pb.header, comments, nb);
  const text = (fs: RpmFile[]) => fs.map((f) => f.line + '\n').join('');
  const ta = text(fa);
  const tb = text(fb);
  const changes: FieldChange[] = [];
  const mb = new Map(fb.map((f) => [f.path, f]));
  const ma = new Map(fa.map((f) => [f.path, f]));
  for (const f of fa) {
    const o = mb.get(f.path);
    if (!o) {
      changes.push({ member: f.path, field: 'present', value1: 'yes' });
      continue;
    }
    for (const k of new Set([...Object.keys(f.fields), ...Object.keys(o.fields)]))
      if (f.fields[k] !== o.fields[k]) changes.push({ member: f.path, field: k, value1: f.fields[k], value2: o.fields[k] });
  }
  for (const f of fb) if (!ma.has(f.path)) changes.push({ member: f.path, field: 'present', value2: 'yes' });
  if (ta === tb && changes.length === 0) return null;
  const d = await textDifference(ctx, NODE.fileList, NODE.fileList, ta, tb, { kind: 'file-list', changes });
  return d ?? node(NODE.fileList, NODE.fileList, { kind: 'file-list', changes, comments: [`Files differ only in ${[...new Set(changes.map((c) => c.field))].join(', ')}`] });
}

const SENSE_LESS = 2;
const SENSE_GREATER = 4;
const SENSE_EQUAL = 8;

/** A dependency as rpm's *NEVRS tags print it: "name >= version". */
export function dependencyString(name: string, flags: number, version: string | undefined): string {
  let s = name;
  if (flags & (SENSE_LESS | SENSE_GREATER | SENSE_EQUAL)) {
    s += ' ';
    if (flags & SENSE_LESS) s += '<';
    if (flags & SENSE_GREATER) s += '>';
    if (flags & SENSE_EQUAL) s += '=';
  }
  if (version) s += ` ${version}`;
  return s;
}

/** View name and tag prefix of each dependency kind, in `rpm -qp --<view>` order. */
export const DEPENDENCY_KINDS: [view: string, prefix: string][] = [
  ['requires', 'REQUIRE'], ['provides', 'PROVIDE'], ['conflicts', 'CONFLICT'], ['obsoletes', 'OBSOLETE'], ['recommends', 'RECOMMEND'],
  ['suggests', 'SUGGEST'], ['supplements', 'SUPPLEMENT'], ['enhances', 'ENHANCE'], ['orderwithrequires', 'ORDER'],
];

/** The lines `rpm -qp --requires` (etc.) prints. */
export function dependencies(h: RpmHeader, prefix: string): string[] {
  const names = tagValues(h, `${prefix}NAME`);
  const flags = tagValues(h, `${prefix}FLAGS`);
  const versions = tagValues(h, `${prefix}VERSION`);
  return names.map((n, i) => dependencyString(n, Number(flags[i] ?? 0), versions[i]));
}

export async function dependencyNode(ctx: Context, view: string, la: string[], lb: string[]): Promise<Difference | null> {
  const ta = la.map((l) => l + '\n').join('');
  const tb = lb.map((l) => l + '\n').join('');
  if (ta === tb) return null;
  const sb = new Set(lb);
  const sa = new Set(la);
  const changes: FieldChange[] = [
    ...la.filter((l) => !sb.has(l)).map((l) => ({ field: view, value1: l })),
    ...lb.filter((l) => !sa.has(l)).map((l) => ({ field: view, value2: l })),
  ];
  if (changes.length === 0) changes.push({ field: view, value1: cut(ta), value2: cut(tb) }); // order only
  return textDifference(ctx, view, view, ta, tb, { kind: 'header', changes });
}

const SCRIPTLETS: [tag: string, label: string][] = [
  ['PRETRANS', '%pretrans'], ['PREIN', '%pre'], ['POSTIN', '%post'], ['PREUN', '%preun'], ['POSTUN', '%postun'],
  ['POSTTRANS', '%posttrans'], ['PREUNTRANS', '%preuntrans'], ['POSTUNTRANS', '%postuntrans'], ['VERIFYSCRIPT', '%verifyscript'],
];

const TRIGGER_TYPES: [bit: number, suffix: string][] = [[1 << 25, 'prein'], [1 << 16, 'in'], [1 << 17, 'un'], [1 << 18, 'postun']];

/** Scriptlets as `rpm -qp --scripts` shows them, each headed by its spec-file section name; then triggers. */
function scriptlets(h: RpmHeader): { text: string; fields: Record<string, string> } {
  const parts: string[] = [];
  const fields: Record<string, string> = {};
  for (const [tag, label] of SCRIPTLETS) {
    const body = tagValues(h, tag)[0];
    const prog = tagValues(h, `${tag}PROG`);
    if (body === undefined && prog.length === 0) continue;
    const using = prog.length ? ` (using ${prog.join(' ')})` : '';
    parts.push(body === undefined ? `${label} program: ${prog.join(' ')}\n` : `${label} scriptlet${using}:\n${body}\n`);
    fields[tag] = `${using}${body ?? ''}`;
  }
  for (const [kind, label] of [['TRIGGER', '%trigger'], ['FILETRIGGER', '%filetrigger'], ['TRANSFILETRIGGER', '%transfiletrigger']] as const) {
    const scripts = tagValues(h, `${kind}SCRIPTS`);
    const progs = tagValues(h, `${kind}SCRIPTPROG`);
    const names = tagValues(h, `${kind}NAME`);
    const versions = tagValues(h, `${kind}VERSION`);
    const flags = tagValues(h, `${kind}FLAGS`);
    const index = tagValues(h, `${kind}INDEX`);
    scripts.forEach((body, i) => {
      const conds = names.map((n, j) => [n, j] as const).filter(([, j]) => Number(index[j]) === i);
      const f = Number(flags[conds[0]?.[1] ?? -1] ?? 0);
      const type = TRIGGER_TYPES.find(([bit]) => f & bit)?.[1] ?? '';
      const on = conds.map(([n, j]) => dependencyString(n, Number(flags[j] ?? 0), versions[j])).join(', ');
      parts.push(`${label}${type} -- ${on} (using ${progs[i] ?? '?'}):\n${body}\n`);
      fields[`${kind}SCRIPTS`] = (fields[`${kind}SCRIPTS`] ?? '') + `${on}: ${body}\n`;
    });
  }
  return { text: parts.join(''), fields };
}

/** The changelog as `rpm -qp --changelog` prints it (dates in UTC). */
export function changelog(h: RpmHeader): string {
  const times = tagValues(h, 'CHANGELOGTIME');
  const names = tagValues(h, 'CHANGELOGNAME');
  const texts = tagValues(h, 'CHANGELOGTEXT');
  return names
    .map((n, i) => {
      const d = new Date(Number(times[i] ?? 0) * 1000);
      const day = Number.isNaN(d.getTime())
        ? String(times[i])
        : `${d.toUTCString().slice(0, 3)} ${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, '0')} ${d.getUTCFullYear()}`;
      return `* ${day} ${n}\n${texts[i] ?? ''}\n\n`;
    })
    .join('');
}
/** The scriptlets view, with one change per scriptlet or trigger kind that differs. */
export async function scriptletNode(ctx: Context, ha: RpmHeader, hb: RpmHeader): Promise<Difference | null> {
  const sa = scriptlets(ha);
  const sb = scriptlets(hb);
  const scriptChanges = [...new Set([...Object.keys(sa.fields), ...Object.keys(sb.fields)])]
    .filter((k) => sa.fields[k] !== sb.fields[k])
    .map((k) => ({ field: k, value1: sa.fields[k] && cut(sa.fields[k]), value2: sb.fields[k] && cut(sb.fields[k]) }));
  return textDifference(ctx, 'scriptlets', 'scriptlets', sa.text, sb.text, { kind: 'content', changes: scriptChanges });
}

/** The changelog view. */
export async function changelogNode(ctx: Context, ha: RpmHeader, hb: RpmHeader): Promise<Difference | null> {
  return textDifference(ctx, 'changelog', 'changelog', changelog(ha), changelog(hb), { kind: 'content' });
}
