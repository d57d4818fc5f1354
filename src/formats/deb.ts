// Debian binary packages (.deb, .udeb, .ddeb): an ar archive of debian-binary,
// control.tar[.gz|.xz|.zst] and data.tar[.*]. Compared as the ar container (the
// tarballs recurse through their own formats), plus the format version and the
// members' order and set against what dpkg writes.
import type { Artifact } from '../compare/artifact.js';
import { group, headerDifference, type Difference } from '../compare/difference.js';
import { AR_MAGIC, compareAr, listAr, type ArListing } from './ar.js';
import type { Format } from './format.js';
import { settleAll } from '../compare/settle.js';
import { FORMAT } from './names.js';

const STANDARD = [/^debian-binary$/, /^control\.tar(\.(gz|xz|zst))?$/, /^data\.tar(\.(gz|bz2|xz|lzma|zst))?$/];
const MAX_VERSION = 1024;

/** Deviations from dpkg's layout; members named "_..." may follow, as dpkg allows. */
function layoutProblems(name: string, names: string[]): string[] {
  const out: string[] = [];
  const main = names.filter((n) => !n.startsWith('_'));
  const ok = main.length === STANDARD.length && STANDARD.every((re, i) => re.test(main[i]!));
  if (!ok) out.push(`${name}: members are ${names.join(', ') || 'none'}; dpkg writes debian-binary, control.tar.*, data.tar.* in that order`);
  else if (names.slice(0, 3).some((n) => n.startsWith('_'))) out.push(`${name}: extra members come before data.tar.*`);
  return out;
}

async function version(l: ArListing): Promise<{ version: string; comments: string[] }> {
  const m = l.members.find((e) => e.member.name === 'debian-binary')?.member;
  if (!m) return { version: '(missing)', comments: [] };
  const text = (await m.read(0, MAX_VERSION)).toString('latin1');
  const v = text.replace(/\n$/, '');
  const comments = /^2\.[0-9]+$/.test(v) ? [] : [`debian-binary holds ${JSON.stringify(text.slice(0, 40))}, not a format version dpkg reads (2.x)`];
  return { version: m.size > MAX_VERSION ? `${JSON.stringify(v.slice(0, 40))}... (${m.size} bytes)` : JSON.stringify(v).slice(1, -1), comments };
}

/** control.tar.gz vs control.tar.xz: the same member compressed differently. */
function stem(name: string): string {
  return name.replace(/\.tar(\.[^.]*)?$/, '');
}

export const debFormat: Format = {
  name: FORMAT.deb,
  magic: (head) => head.length >= 22 && head.toString('latin1', 0, 21) === `${AR_MAGIC}debian-binary` && (head[21] === 0x20 || head[21] === 0x2f),
  fileName: /\.(deb|udeb|ddeb)$/i,
  async compare(a, b, ctx, depth) {
    const [la, lb] = await settleAll([listAr(a, ctx), listAr(b, ctx)]);
    const [va, vb] = await settleAll([version(la), version(lb)]);
    const header = await headerDifference(ctx, 'debian-binary header', { version: va.version }, { version: vb.version });
    const namesA = la.members.map((e) => e.member.name);
    const namesB = lb.members.map((e) => e.member.name);
    const comments = [...new Set([...va.comments, ...vb.comments, ...layoutProblems(a.name, namesA), ...layoutProblems(b.name, namesB)])];
    const ar = await compareAr(la, lb, ctx, depth);

    // Pair members that only changed compression (diffoscope pairs them by stem too), unless already paired.
    const extra: Difference[] = [];
    const onlyA = la.members.map((e) => e.member).filter((m) => !namesB.includes(m.name));
    const onlyB = lb.members.map((e) => e.member).filter((m) => !namesA.includes(m.name));
    const paired = new Set(ar.details.map((d) => d.source1));
    for (const ma of onlyA) {
      if (paired.has(ma.name) || ctx.isExcluded(ma.name)) continue;
      const candidates = onlyB.filter((mb: Artifact) => stem(mb.name) === stem(ma.name) && !ctx.isExcluded(mb.name));
      if (candidates.length !== 1) continue;
      const mb = candidates[0]!;
      onlyB.splice(onlyB.indexOf(mb), 1);
      const d = await ctx.compare(ma, mb, depth);
      if (d) extra.push(d);
    }
    return group(a.name, b.name, [header, ...ar.details, ...extra], { comments: [...comments, ...ar.comments] });
  },
};
