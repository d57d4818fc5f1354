// Comparing two containers: their listings (names, metadata, order) as a "file
// list" diff, then member pairs, matched by path and, for what is left, by content
// similarity (reported as renames, as diffoscope does with fuzzy hashes).
import type { Artifact, Metadata } from './artifact.js';
import type { Context } from './context.js';
import { state, textDifference, type Difference, type FieldChange } from './difference.js';
import { mapLimited } from './semaphore.js';
import { similarity, sketch } from './similarity.js';
import { pushTo } from './group-by.js';
import { settleAll } from './settle.js';
import { NODE } from '../formats/names.js';

const TYPE_CHAR: Record<Metadata['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  char: 'c',
  block: 'b',
  fifo: 'p',
  socket: 's',
};

export function modeString(meta: Metadata): string {
  const m = meta.mode ?? 0;
  const rwx = (shift: number, special: number, ch: string) =>
    ((m >> shift) & 4 ? 'r' : '-') +
    ((m >> shift) & 2 ? 'w' : '-') +
    (m & special ? ((m >> shift) & 1 ? ch : ch.toUpperCase()) : (m >> shift) & 1 ? 'x' : '-');
  return TYPE_CHAR[meta.type] + rwx(6, 0o4000, 's') + rwx(3, 0o2000, 's') + rwx(0, 0o1000, 't');
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const ms = Math.round(seconds * 1000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return `@${seconds}`;
  const iso = d.toISOString(); // 2020-01-01T00:00:00.000Z
  const frac = seconds % 1 !== 0 ? `.${String(Math.round((seconds % 1) * 1e6)).padStart(6, '0')}` : '';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}`;
}

/** One line of a file list: what `tar -tv` would show, with every field the format has. */
export function listingLine(m: Artifact): string {
  const meta = m.meta;
  const parts = [meta.mode !== undefined ? modeString(meta) : TYPE_CHAR[meta.type]];
  if (meta.uid !== undefined || meta.gid !== undefined) parts.push(`${meta.uid ?? '?'}/${meta.gid ?? '?'}`);
  if (meta.uname || meta.gname) parts.push(`${meta.uname ?? ''}/${meta.gname ?? ''}`);
  if (meta.type === 'char' || meta.type === 'block') parts.push(`${meta.devMajor ?? 0},${meta.devMinor ?? 0}`);
  else parts.push(String(meta.size).padStart(10));
  if (meta.mtime !== undefined) parts.push(formatTime(meta.mtime));
  let line = parts.join(' ') + ' ' + m.name;
  if (meta.linkTarget !== undefined) line += (meta.type === 'hardlink' ? ' link to ' : ' -> ') + meta.linkTarget;
  const extras: string[] = [];
  for (const [k, v] of Object.entries(meta.xattrs ?? {})) extras.push(`xattr ${k}=${v}`);
  for (const [k, v] of Object.entries(meta.extra ?? {})) extras.push(`${k}=${v}`);
  if (extras.length) line += ` [${extras.join(', ')}]`;
  return line;
}

const META_FIELDS = ['type', 'mode', 'uid', 'gid', 'uname', 'gname', 'size', 'mtime', 'linkTarget', 'devMajor', 'devMinor'] as const;

/** The metadata fields that differ between two members. */
export function metadataChanges(a: Artifact, b: Artifact): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of META_FIELDS) {
    const va = a.meta[f];
    const vb = b.meta[f];
    if (va !== vb) {
      const show = (v: unknown) => (v === undefined ? undefined : f === 'mode' ? (v as number).toString(8).padStart(4, '0') : f === 'mtime' ? formatTime(v as number) : String(v));
      out.push({ member: a.name, field: f, value1: show(va), value2: show(vb) });
    }
  }
  for (const [kind, ra, rb] of [
    ['xattr', a.meta.xattrs ?? {}, b.meta.xattrs ?? {}],
    ['extra', a.meta.extra ?? {}, b.meta.extra ?? {}],
  ] as const) {
    for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) if (ra[k] !== rb[k]) out.push({ member: a.name, field: `${kind}:${k}`, value1: ra[k], value2: rb[k] });
  }
  return out;
}

export interface ContainerOptions {
  /** Formats the file-list line of a member (default: listingLine). */
  listing?: (m: Artifact) => string;
  /** Name of the listing node (default "file list", as diffoscope). */
  listName?: string;
  /**
   * Give each member whose metadata differs a node of its own with a "metadata"
   * child, as diffoscope does for directories on disk (for archives the file
   * list alone shows metadata, as in diffoscope).
   */
  metadataNodes?: boolean;
}

/** The metadata of a member as "field: value" lines. */
function metadataText(m: Artifact): string {
  const meta = m.meta;
  const lines = [`type: ${meta.type}`];
  if (meta.mode !== undefined) lines.push(`mode: ${modeString(meta)} (${meta.mode.toString(8).padStart(4, '0')})`);
  if (meta.uid !== undefined) lines.push(`uid: ${meta.uid}`);
  if (meta.gid !== undefined) lines.push(`gid: ${meta.gid}`);
  if (meta.uname) lines.push(`owner: ${meta.uname}`);
  if (meta.gname) lines.push(`group: ${meta.gname}`);
  if (meta.type === 'file') lines.push(`size: ${meta.size}`);
  if (meta.mtime !== undefined) lines.push(`mtime: ${formatTime(meta.mtime)}`);
  if (meta.linkTarget !== undefined) lines.push(`link target: ${meta.linkTarget}`);
  if (meta.devMajor !== undefined) lines.push(`device: ${meta.devMajor},${meta.devMinor ?? 0}`);
  for (const [k, v] of Object.entries(meta.xattrs ?? {})) lines.push(`xattr ${k}: ${v}`);
  for (const [k, v] of Object.entries(meta.extra ?? {})) lines.push(`${k}: ${v}`);
  return lines.join('\n') + '\n';
}

/**
 * A symlink whose target changed, or that became (or replaced) something else, as a
 * member of its own: diffoscope's "symlink" node with a "destination:" line each
 * side. The parent's listing shows the change as well, as diffoscope's does.
 */
async function symlinkDifference(a: Artifact, b: Artifact, ctx: Context): Promise<Difference | null> {
  if (a.meta.type !== 'symlink' && b.meta.type !== 'symlink') return null;
  if (a.meta.type === b.meta.type && a.meta.linkTarget === b.meta.linkTarget) return null;
  const describe = (m: Artifact) => (m.meta.type === 'symlink' ? `destination: ${m.meta.linkTarget ?? ''}\n` : `type: ${m.meta.type}${m.meta.type === 'file' ? ` of ${m.meta.size} bytes` : ''}\n`);
  const d = await textDifference(ctx, a.name, b.name, describe(a), describe(b), {
    kind: 'metadata',
    changes: [{ member: a.name, field: 'linkTarget', value1: a.meta.linkTarget, value2: b.meta.linkTarget }],
  });
  d?.comments.unshift(a.meta.type === b.meta.type ? 'symlink' : `Type changed: ${a.meta.type} vs ${b.meta.type}`);
  return d;
}

interface Pair {
  a: Artifact;
  b: Artifact;
  comment?: string;
}

/** Keys members by path; repeated paths get an occurrence suffix so none is lost. */
function keyed(members: Artifact[]): Map<string, Artifact> {
  const out = new Map<string, Artifact>();
  for (const m of members) {
    let key = m.name;
    for (let n = 2; out.has(key); n++) key = `${m.name}\u0000${n}`;
    out.set(key, m);
  }
  return out;
}

/** Whether the members both sides share appear in a different relative order. */
function orderDiffers(ka: Map<string, Artifact>, kb: Map<string, Artifact>): boolean {
  const common = [...ka.keys()].filter((k) => kb.has(k));
  const posB = new Map<string, number>();
  let i = 0;
  for (const k of kb.keys()) posB.set(k, i++);
  let last = -1;
  for (const k of common) {
    const p = posB.get(k)!;
    if (p < last) return true;
    last = p;
  }
  return false;
}

/** A member name with its numbers set aside: runs of digits, with the dots and dashes between them. */
function versionless(name: string): string {
  return name.replace(/\d+(?:[._~+-]\d+)*/g, '#');
}

/**
 * Pairs leftover members: identical content first, then the same name but for version
 * numbers, then by content similarity. The
 * matching is symmetric (comparing B with A pairs the same members as A with B):
 * candidates are taken in an order that does not depend on which side is which,
 * the best-scoring pair of all first, ties broken by archive order, then by the two names.
 */
async function fuzzyPairs(onlyA: Artifact[], onlyB: Artifact[], ctx: Context): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const candA = onlyA.filter((m) => m.hasBytes);
  const candB = onlyB.filter((m) => m.hasBytes);
  if (candA.length === 0 || candB.length === 0) return pairs;
  if (candA.length > ctx.limits.maxFuzzyCandidates || candB.length > ctx.limits.maxFuzzyCandidates) return pairs;
  const byName = (x: Artifact, y: Artifact) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);
  const takenA = new Set<Artifact>();
  const takenB = new Set<Artifact>();
  // Identical content: members with the same hash, paired in name order on both sides.
  const hashes = async (list: Artifact[]) => {
    const m = new Map<string, Artifact[]>();
    for (const x of [...list].sort(byName)) pushTo(m, await x.sha256(), x);
    return m;
  };
  const [ha, hb] = await settleAll([hashes(candA), hashes(candB)]);
  for (const [h, as] of ha) {
    const bs = hb.get(h) ?? [];
    for (let i = 0; i < Math.min(as.length, bs.length); i++) {
      takenA.add(as[i]!);
      takenB.add(bs[i]!);
      pairs.push({ a: as[i]!, b: bs[i]!, comment: 'Files identical despite different names' });
    }
  }
  // The same name once version numbers are set aside (libdns-9.18.49.so and libdns-9.18.51.so,
  // tomcat-10.1.55.jar and tomcat-10.1.60.jar), when that name is unique on both sides: a renamed
  // library or a compressed jar may look dissimilar byte for byte while being the same file.
  if (ctx.limits.fuzzyThreshold > 0) {
    const stems = (list: Artifact[], taken: Set<Artifact>) => {
      const m = new Map<string, Artifact[]>();
      for (const x of list) if (!taken.has(x)) pushTo(m, versionless(x.name), x);
      return m;
    };
    const [sa, sb] = [stems(candA, takenA), stems(candB, takenB)];
    for (const [stem, [a, ...moreA]] of sa) {
      const [b, ...moreB] = sb.get(stem) ?? [];
      if (!a || !b || moreA.length || moreB.length) continue;
      takenA.add(a);
      takenB.add(b);
      pairs.push({ a, b, comment: 'Files with the same name but for version numbers' });
    }
  }
  const restA = candA.filter((m) => !takenA.has(m));
  const restB = candB.filter((m) => !takenB.has(m));
  if (ctx.limits.fuzzyThreshold <= 0 || restA.length === 0 || restB.length === 0) return pairs;
  const [sa, sb] = await settleAll([settleAll(restA.map((m) => sketch(m))), settleAll(restB.map((m) => sketch(m)))]);
  const scored: { i: number; j: number; score: number; key: string }[] = [];
  for (let i = 0; i < restA.length; i++) {
    if (!sa[i]) continue;
    for (let j = 0; j < restB.length; j++) {
      if (!sb[j]) continue;
      const score = similarity(sa[i]!, sb[j]!);
      if (score >= ctx.limits.fuzzyThreshold) scored.push({ i, j, score, key: [restA[i]!.name, restB[j]!.name].sort().join('\u0000') });
    }
  }
  // Equal scores (two copies of one file, say): the candidates earlier in their archives first, as
  // diffoscope takes them (each member in archive order, its best candidate the first in archive
  // order); the order key is symmetric, (min, max) of the two positions, so that B against A pairs
  // the same members. Unequal scores keep best-first, which never pairs worse than diffoscope's
  // first-come order.
  const early = (x: { i: number; j: number }) => Math.min(x.i, x.j);
  const late = (x: { i: number; j: number }) => Math.max(x.i, x.j);
  scored.sort((x, y) => y.score - x.score || early(x) - early(y) || late(x) - late(y) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  for (const { i, j, score } of scored) {
    const [a, b] = [restA[i]!, restB[j]!];
    if (takenA.has(a) || takenB.has(b)) continue;
    takenA.add(a);
    takenB.add(b);
    pairs.push({ a, b, comment: `Files ${Math.round(score)}% similar despite different names` });
  }
  return pairs;
}

/**
 * The details of two containers: a file-list diff when names, metadata or order
 * differ, then one node per member pair whose content differs.
 */
export async function compareMembers(
  membersA: Artifact[],
  membersB: Artifact[],
  ctx: Context,
  depth: number,
  opts: ContainerOptions = {},
): Promise<{ details: Difference[]; comments: string[] }> {
  const la = membersA.filter((m) => !ctx.isExcluded(m.name));
  const lb = membersB.filter((m) => !ctx.isExcluded(m.name));
  const listing = opts.listing ?? listingLine;
  const ka = keyed(la);
  const kb = keyed(lb);

  const pairs: Pair[] = [];
  if (la.length === 1 && lb.length === 1) pairs.push({ a: la[0]!, b: lb[0]! });
  else {
    for (const [k, m] of ka) {
      const o = kb.get(k);
      if (o) pairs.push({ a: m, b: o });
    }
    const onlyA = [...ka].filter(([k]) => !kb.has(k)).map(([, m]) => m);
    const onlyB = [...kb].filter(([k]) => !ka.has(k)).map(([, m]) => m);
    pairs.push(...(await fuzzyPairs(onlyA, onlyB, ctx)));
  }

  const changes: FieldChange[] = [];
  for (const p of pairs) changes.push(...metadataChanges(p.a, p.b));
  const pairedA = new Set(pairs.map((p) => p.a));
  const pairedB = new Set(pairs.map((p) => p.b));
  for (const m of la) if (!pairedA.has(m)) changes.push({ member: m.name, field: 'present', value1: 'yes', value2: undefined });
  for (const m of lb) if (!pairedB.has(m)) changes.push({ member: m.name, field: 'present', value1: undefined, value2: 'yes' });
  if (orderDiffers(ka, kb)) changes.push({ field: 'order', value1: la.map((m) => m.name).join('\n'), value2: lb.map((m) => m.name).join('\n') });

  const details: Difference[] = [];
  const listA = la.map(listing).join('\n') + (la.length ? '\n' : '');
  const listB = lb.map(listing).join('\n') + (lb.length ? '\n' : '');
  const listDiff = await textDifference(ctx, opts.listName ?? NODE.fileList, opts.listName ?? NODE.fileList, listA, listB, { kind: 'file-list' });
  if (listDiff) {
    if (changes.some((c) => c.field === 'order')) listDiff.comments.push('Members are in a different order');
    listDiff.changes = changes;
    details.push(listDiff);
  }

  ctx.progress?.total(pairs.length);
  ctx.prepare(pairs);
  const results = await mapLimited(pairs, ctx.limits.jobs, async (p) => {
    let d = await ctx.compare(p.a, p.b, depth);
    ctx.progress?.advance(1, p.a.name);
    const link = await symlinkDifference(p.a, p.b, ctx);
    // Members of either kind have no bytes to compare, so d is null here unless a format gave a link bytes.
    if (link && d) d.details.unshift(link);
    else if (link) d = link;
    if (opts.metadataNodes) {
      // A symlink's new target is its node's own diff (above); the metadata child shows the rest.
      const fields = metadataChanges(p.a, p.b).filter((c) => !(link && c.field === 'linkTarget'));
      if (fields.length) {
        const meta = await textDifference(ctx, 'metadata', 'metadata', metadataText(p.a), metadataText(p.b), { kind: 'metadata', changes: fields });
        d ??= { source1: p.a.name, source2: p.b.name, comments: [], details: [], kind: 'artifact' };
        if (meta) d.details.unshift(meta);
      }
    }
    if (p.comment) {
      const out = d ?? { source1: p.a.name, source2: p.b.name, comments: [], details: [], kind: 'artifact' as const };
      return state(out, 'renamed', p.comment);
    }
    return d;
  });
  for (const r of results) if (r) details.push(r);
  return { details, comments: unsafeNames([...la, ...lb]) };
}

/** Names that would land outside an extraction directory. Reported, never followed: reprove extracts nothing by name. */
export function unsafeNames(members: Artifact[]): string[] {
  const seen = new Set<string>();
  for (const m of members) {
    const n = m.name;
    if (n.startsWith('/') || n.split('/').includes('..')) seen.add(n);
  }
  return [...seen].slice(0, 20).map((n) => `Member name ${JSON.stringify(n)} is absolute or contains "..": it points outside the archive`);
}
