// Markdown report: one heading per member, comments as quotes, diffs fenced.
import type { Difference } from '../compare/difference.js';

function escapeInline(s: string): string {
  return s.replace(/([\\`*_{}[\]<>()#+!|~-])/g, '\\$1');
}

/** A fence longer than any backtick run inside the text, so untrusted diffs cannot close it. */
function fence(text: string): string {
  let longest = 2;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(longest + 1);
}

/** The report in pieces, one member's section at a time. */
export function* markdownChunks(root: Difference): Generator<string> {
  let out: string[] = [];
  let first = true;
  function* visit(d: Difference, depth: number): Generator<string> {
    const level = '#'.repeat(Math.min(6, depth + 1));
    const title = d.source1 === d.source2 ? escapeInline(d.source1) : `${escapeInline(d.source1)} vs ${escapeInline(d.source2)}`;
    out.push(`${level} ${title}`, '');
    if (depth === 0 && d.issues?.length) {
      out.push('**Known causes**', '');
      for (const i of d.issues) out.push(`- \`${i.id}\` (${i.confidence} confidence${i.ignored ? ', ignored by policy' : ''}): ${escapeInline(i.fix)}`);
      out.push('');
      if (d.unexplained?.length) {
        out.push(`**Not explained by any known cause** (${d.unexplained.length}):`, '');
        for (const u of d.unexplained) out.push(`- ${escapeInline(u)}`);
        out.push('');
      }
    }
    for (const c of d.comments) out.push(`> ${escapeInline(c).replace(/\n/g, '\n> ')}`, '');
    if (d.ignored) out.push(`> ignored by policy: ${escapeInline(d.ignored)}`, '');
    if (d.unifiedDiff) {
      const f = fence(d.unifiedDiff);
      out.push(`${f}diff`, d.unifiedDiff.replace(/\n$/, ''), f, '');
    }
    // Sections are joined by one newline, as if the whole report were one list of lines.
    yield (first ? '' : '\n') + out.join('\n');
    first = false;
    out = [];
    for (const c of d.details) yield* visit(c, depth + 1);
  }
  yield* visit(root, 0);
}

export function renderMarkdown(root: Difference): string {
  return [...markdownChunks(root)].join('');
}
