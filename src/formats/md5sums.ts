// Debian md5sums (control.tar's ./md5sums, md5sum(1) output): "digest  path"
// per line. Compared per path (field 'md5'); the order of the lines is compared
// separately, as unsorted md5sums are a known cause (random_order_in_md5sums).
import { node, textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { malformed } from '../compare/errors.js';
import type { Format } from './format.js';
import { baseName, capChanges, compareParsed, headText } from './pkginfo.js';
import { FORMAT } from './names.js';

export interface Md5Line {
  digest: string;
  path: string;
}

const LINE = /^([0-9a-fA-F]{32}) [ *](.+)$/;

export function parseMd5sums(text: string, name: string): Md5Line[] {
  const out: Md5Line[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw malformed(`Cannot read ${name} line ${i + 1}: ${JSON.stringify(line.slice(0, 80))} is not "md5-digest  path"`);
    out.push({ digest: m[1]!.toLowerCase(), path: m[2]! });
  }
  return out;
}

const listing = (lines: Md5Line[]) => lines.map((l) => `${l.digest}  ${l.path}\n`).join('');
const byPath = (x: Md5Line, y: Md5Line) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);

export const md5sumsFormat: Format = {
  name: FORMAT.md5sums,
  magic(head, a) {
    const text = headText(head);
    if (text === null || !/^md5sums$/i.test(baseName(a.name))) return false;
    const firstLine = text.split('\n', 1)[0]!.replace(/\r$/, '');
    return LINE.test(firstLine);
  },
  compare: (a, b, ctx) =>
    compareParsed(a, b, ctx, 'md5sums', parseMd5sums, async (la, lb, ta, tb): Promise<Difference | null> => {
      if (ta === tb) return null;
      const comments: string[] = [];
      const ma = new Map(la.map((l) => [l.path, l.digest]));
      const mb = new Map(lb.map((l) => [l.path, l.digest]));
      if (ma.size !== la.length || mb.size !== lb.length) comments.push('A path is listed more than once; its last digest counts');
      const changes: FieldChange[] = [];
      for (const [path, d1] of ma) {
        const d2 = mb.get(path);
        if (d1 !== d2) changes.push(d2 === undefined ? { member: path, field: 'md5', value1: d1 } : { member: path, field: 'md5', value1: d1, value2: d2 });
      }
      for (const [path, d2] of mb) if (!ma.has(path)) changes.push({ member: path, field: 'md5', value2: d2 });

      // Order of the paths both sides list, each at its first line (a repeated path is said above):
      // the same set of paths on both sides, so the comparison reads the same both ways.
      const common = (l: Md5Line[], other: Map<string, string>) => [...new Set(l.map((x) => x.path))].filter((p) => other.has(p));
      const oa = common(la, mb);
      const ob = common(lb, ma);
      const at = oa.findIndex((p, i) => p !== ob[i]);
      let order: Difference | null = null;
      if (at >= 0) {
        comments.push('Lines are in a different order');
        changes.push({ field: 'order', value1: oa[at]!, value2: ob[at]! });
        const paths = (l: Md5Line[]) => l.map((x) => `${x.path}\n`).join('');
        order = await textDifference(ctx, 'line order', 'line order', paths(la), paths(lb), { kind: 'order' });
      }
      // Digests by path, so that a reordering does not hide which digest changed.
      const sortedA = listing([...la].sort(byPath));
      const sortedB = listing([...lb].sort(byPath));
      const d =
        sortedA !== sortedB
          ? (await textDifference(ctx, a.name, b.name, sortedA, sortedB, { kind: 'header' }))!
          : ((await textDifference(ctx, a.name, b.name, ta, tb, { kind: 'header' })) ?? node(a.name, b.name, { kind: 'header' }));
      if (changes.length === 0 && at < 0) comments.push('The digests and their order are the same; the formatting differs');
      d.comments.push(...comments);
      if (order) d.details.push(order);
      const kept = capChanges(changes, d.comments);
      if (kept.length) d.changes = kept;
      return d;
    }),
};
