// ELF objects, executables, shared libraries and separate debug files, 32/64-bit,
// both byte orders: the format as the engine sees it. It recognises ELF by its magic and
// compares two files: header, program headers and section table, then only the sections
// whose bytes differ, each shown by elf-views.ts, and the bytes outside all sections.
// Parsing is elf-parse.ts's; objdump and readelf runs are elf-tools.ts's.
import type { Artifact } from '../compare/artifact.js';
import type { Context } from '../compare/context.js';
import { group, headerDifference, textDifference, type Difference, type FieldChange } from '../compare/difference.js';
import { WindowReader } from '../compare/window-reader.js';
import { mapLimited } from '../compare/semaphore.js';
import { settleAll } from '../compare/settle.js';
import { compareBinary } from '../compare/hexdump.js';
import { CHUNK, hex, readElf, type Elf, type Section } from './elf-parse.js';
import { sharedDisassembly, smallCodeSections, type SharedDisassembly } from './elf-tools.js';
import { sectionTable, sectionView, segmentTable } from './elf-views.js';
import type { Format } from './format.js';
import { FORMAT } from './names.js';

/** Differing sections shown one by one; past this, named in a comment. */
const MAX_SECTION_VIEWS = 2000;

/** Whether two byte ranges differ, and where the first and last differing chunks are. */
async function rangesDiffer(ra: WindowReader, rb: WindowReader, a: Artifact, b: Artifact, sa: Section, sb: Section): Promise<{ differ: boolean; first: number; last: number }> {
  if (sa.avail !== sb.avail || sa.size !== sb.size) return { differ: true, first: 0, last: Math.max(sa.avail, sb.avail) };
  if (sa.avail === 0) return { differ: false, first: 0, last: 0 };
  if (sa.avail <= 64 * 1024) {
    const [x, y] = [await ra.exact(sa.offset, sa.avail, `section ${sa.key}`), await rb.exact(sb.offset, sb.avail, `section ${sb.key}`)];
    return { differ: !x.equals(y), first: 0, last: sa.avail };
  }
  let first = -1;
  let last = 0;
  for (let off = 0; off < sa.avail; off += CHUNK) {
    const n = Math.min(CHUNK, sa.avail - off);
    const [x, y] = await settleAll([a.read(sa.offset + off, n), b.read(sb.offset + off, n)]);
    if (!x.equals(y)) {
      if (first < 0) first = off;
      last = off + n;
    }
  }
  return { differ: first >= 0, first: Math.max(0, first), last };
}

/** Bytes not covered by the header, the tables or any section, when both layouts agree. */
function gaps(e: Elf): [number, number][] {
  const h = e.h;
  const ranges: [number, number][] = [[0, h.is64 ? 64 : 52]];
  if (h.phnum) ranges.push([h.phoff, h.phoff + h.phnum * h.phentsize]);
  if (e.sections.length) ranges.push([h.shoff, h.shoff + e.sections.length * h.shentsize]);
  for (const s of e.sections) if (s.avail) ranges.push([s.offset, s.offset + s.avail]);
  ranges.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let at = 0;
  for (const [s, end] of ranges) {
    if (s > at) out.push([at, Math.min(s, e.a.size)]);
    at = Math.max(at, end);
  }
  if (at < e.a.size) out.push([at, e.a.size]);
  return out;
}

async function compareElf(a: Artifact, b: Artifact, ctx: Context): Promise<Difference | null> {
  const [ea, eb] = await settleAll([readElf(a, ctx), readElf(b, ctx)]);
  const header = await headerDifference(ctx, 'ELF header', ea.h.fields, eb.h.fields);
  const [pa, pb] = [segmentTable(ea), segmentTable(eb)];
  const phdrs = await textDifference(ctx, 'ELF program headers', 'ELF program headers', pa, pb, { kind: 'header' });
  // Rendering 100 000 lines twice only to find them equal is the cost to avoid.
  const sameTable = ea.rawTable.equals(eb.rawTable) && ea.h.is64 === eb.h.is64 && ea.h.le === eb.h.le;
  const table = sameTable ? null : await textDifference(ctx, 'ELF section table', 'ELF section table', sectionTable(ea), sectionTable(eb), { kind: 'header' });
  const comments = [...new Set([...ea.comments, ...eb.comments])];

  const ra = new WindowReader(a);
  const rb = new WindowReader(b);
  const differing: [Section, Section, { first: number; last: number }][] = [];
  const onlyChanges: FieldChange[] = [];
  for (const sa of ea.sections) {
    const sb = eb.byKey.get(sa.key);
    if (!sb) {
      onlyChanges.push({ field: `section:${sa.key}`, value1: `${sa.size} bytes` });
      continue;
    }
    const r = await rangesDiffer(ra, rb, a, b, sa, sb);
    if (r.differ) differing.push([sa, sb, r]);
  }
  for (const sb of eb.sections) if (!ea.byKey.has(sb.key)) onlyChanges.push({ field: `section:${sb.key}`, value2: `${sb.size} bytes` });
  if (onlyChanges.length && table) table.changes = onlyChanges;
  else if (onlyChanges.length) comments.push(`Sections only on one side: ${onlyChanges.map((c) => c.field.slice(8)).join(', ')}`);

  const shown = differing.slice(0, MAX_SECTION_VIEWS);
  if (differing.length > shown.length)
    comments.push(`${differing.length} sections differ; the first ${shown.length} are shown, not: ${differing.slice(shown.length, shown.length + 50).map(([s]) => s.key).join(', ')}${differing.length > shown.length + 50 ? ', ...' : ''}`);
  // Two at a time: each view may hold two sections of up to MAX_VIEW bytes and their text.
  const small = smallCodeSections(ea, eb, shown);
  const shared: [SharedDisassembly, SharedDisassembly] = [sharedDisassembly(ea, small, ctx), sharedDisassembly(eb, small, ctx)];
  const views = await mapLimited(shown, 2, ([sa, sb, span]) => sectionView(ea, eb, sa, sb, span, ctx, shared));

  // Same layout: bytes between sections (padding, unlisted data) must be equal too.
  let outside: Difference | null = null;
  if (!header && !phdrs && !table && a.size === b.size) {
    const diffs: string[] = [];
    for (const [s, e] of gaps(ea)) {
      for (let off = s; off < e; off += CHUNK) {
        const n = Math.min(CHUNK, e - off);
        const [x, y] = await settleAll([a.read(off, n), b.read(off, n)]);
        if (!x.equals(y)) {
          diffs.push(`${hex(s)}..${hex(e)}`);
          break;
        }
      }
    }
    if (diffs.length) {
      outside = await compareBinary(a, b, ctx);
      outside.source1 = outside.source2 = 'ELF bytes outside sections';
      outside.comments.unshift(`Bytes outside the header, tables and sections differ, in ${diffs.slice(0, 10).join(', ')}${diffs.length > 10 ? ', ...' : ''}; hex dump of the whole file`);
      outside.changes = [{ field: 'bytes outside sections', value1: diffs.join(' ') }];
    }
  }
  return group(a.name, b.name, [header, phdrs, table, ...views, outside], { comments });
}

export const elfFormat: Format = {
  name: FORMAT.elf,
  magic: (head) => head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46,
  compare: (a, b, ctx) => compareElf(a, b, ctx),
};
