// Reports written in pieces: the streamed JSON is the document diffoscope's schema
// describes, key for key and in order, for any tree; the writer puts every piece
// in the file, in order, however large the report.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { Difference } from '../src/compare/difference.js';
import { parseJsonReport, renderJson } from '../src/present/json.js';
import { writeChunks } from '../src/present/write.js';

const dir = mkdtempSync(join(tmpdir(), 'reprove-present-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The JSON object of a node, built the plain way, to check the streamed text against. */
function reference(d: Difference): Record<string, unknown> {
  const out: Record<string, unknown> = { source1: d.source1, source2: d.source2 };
  if (d.comments.length) out['comments'] = d.comments;
  if (d.hasInternalLinenos) out['has_internal_linenos'] = true;
  out['unified_diff'] = d.unifiedDiff ?? null;
  if (d.details.length) out['details'] = d.details.map(reference);
  if (d.kind) out['reprove_kind'] = d.kind;
  if (d.format) out['reprove_format'] = d.format;
  if (d.changes?.length) out['reprove_changes'] = d.changes;
  if (d.ignored) out['reprove_ignored'] = d.ignored;
  return out;
}

const text = fc.string({ unit: 'binary', maxLength: 30 });
const tree: fc.Arbitrary<Difference> = fc.letrec<{ node: Difference }>((tie) => ({
  node: fc.record(
    {
      source1: text,
      source2: text,
      comments: fc.array(text, { maxLength: 2 }),
      details: fc.oneof({ maxDepth: 4, depthIdentifier: 'tree' }, fc.constant<Difference[]>([]), fc.array(tie('node'), { maxLength: 3 })),
      unifiedDiff: fc.option(text, { nil: undefined }),
      hasInternalLinenos: fc.option(fc.constant(true as const), { nil: undefined }),
      kind: fc.option(fc.constantFrom('artifact' as const, 'content' as const), { nil: undefined }),
      format: fc.option(text, { nil: undefined }),
      changes: fc.option(fc.array(fc.record({ field: text, value1: text, value2: text }), { maxLength: 2 }), { nil: undefined }),
      ignored: fc.option(text, { nil: undefined }),
    },
    { requiredKeys: ['source1', 'source2', 'comments', 'details'] },
  ),
})).node;

test('the streamed JSON is the whole tree as JSON.stringify writes it, and reads back', () => {
  fc.assert(
    fc.property(tree, (d) => {
      const streamed = renderJson(d, { extra: 1 });
      assert.equal(streamed, JSON.stringify({ 'diffoscope-json-version': 1, ...reference(d), extra: 1 }) + '\n');
      const back = parseJsonReport(streamed);
      assert.equal(back.details.length, d.details.length);
      assert.equal(back.unifiedDiff, d.unifiedDiff);
    }),
    { numRuns: 300 },
  );
});

test('the writer keeps every piece, in order, past its block size', async () => {
  const pieces = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(i % 1500)}é\n`);
  const file = join(dir, 'report.txt');
  await writeChunks(pieces, file);
  assert.equal(readFileSync(file, 'utf8'), pieces.join(''));
  await assert.rejects(writeChunks(['x'], join(dir, 'missing', 'report.txt')), /ENOENT/);
});
