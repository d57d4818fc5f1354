// The text report, in diffoscope's layout: "├── member", "│┄ comment",
// unified diffs indented by "│ " per level.
import type { Difference } from '../compare/difference.js';

const PREFIX = '│ ';

/** The report in pieces, one node's lines at a time. */
export function* textChunks(root: Difference): Generator<string> {
  let out: string[] = [];
  const emit = (text: string, indent: string) => {
    for (const line of text.replace(/\n$/, '').split('\n')) out.push(indent + line);
  };
  function* visit(d: Difference, depth: number): Generator<string> {
    const indent = PREFIX.repeat(Math.max(0, depth - 1));
    if (depth === 0) {
      out.push(`--- ${d.source1}`, `+++ ${d.source2}`);
      for (const i of d.issues ?? []) {
        emit(`known cause: ${i.id} (${i.confidence} confidence)${i.ignored ? ' (ignored by policy)' : ''}`, '│┄ ');
        emit(`  fix: ${i.fix}`, '│┄ ');
      }
      if (d.unexplained?.length) emit(`not explained by any known cause: ${d.unexplained.length > 1 ? `${d.unexplained.length} differences, e.g. ` : ''}${d.unexplained[0]}`, '│┄ ');
      else if (d.issues?.length) emit('every difference is explained by the causes above', '│┄ ');
    } else if (d.source1 === d.source2) {
      out.push(`${indent}├── ${d.source1}`);
    } else {
      out.push(`${indent}│   --- ${d.source1}`, `${indent}├── +++ ${d.source2}`);
    }
    for (const c of d.comments) emit(c, `${indent}│┄ `);
    if (d.ignored) emit(`ignored by policy: ${d.ignored}`, `${indent}│┄ `);
    for (const c of d.changes ?? []) if (c.ignored) emit(`ignored by policy: ${c.member ? `${c.member} ` : ''}${c.field} (${c.ignored})`, `${indent}│┄ `);
    if (d.unifiedDiff) emit(d.unifiedDiff, PREFIX.repeat(depth));
    yield out.join('\n') + '\n';
    out = [];
    for (const c of d.details) yield* visit(c, depth + 1);
  }
  yield* visit(root, 0);
}

export function renderText(root: Difference): string {
  return [...textChunks(root)].join('');
}
