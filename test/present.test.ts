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
import { ReproveError } from '../src/compare/errors.js';
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
      assert.equal(JSON.stringify(reference(back)), JSON.stringify(reference(d)));
    }),
    { numRuns: 300 },
  );
});

test('a stored report that is not diffoscope-shaped JSON is a typed error with the member path', () => {
  const bad = (text: string, message: RegExp, path: string[]) =>
    assert.throws(
      () => parseJsonReport(text, 'r.json'),
      (e: unknown) => e instanceof ReproveError && e.kind === 'malformed' && message.test(e.message) && assert.deepEqual(e.memberPath, path) === undefined,
      `${text.slice(0, 80)}: ${message}`,
    );
  const v = '"diffoscope-json-version":1';
  bad('not json', /not valid JSON/, ['r.json']);
  for (const t of ['null', '[1]', '3', '{}', '{"diffoscope-json-version":2}']) bad(t, /^not a diffoscope JSON report \(diffoscope-json-version is/, ['r.json']);
  bad(`{${v},"details":[null]}`, /^details\[0\] is null, not an object$/, ['r.json']);
  bad(`{${v},"details":[{"source1":"a.tar","details":[{"source1":"x"},7]}]}`, /^details\[0\]\.details\[1\] is a number, not an object$/, ['r.json', 'a.tar']);
  bad(`{${v},"details":[{"source1":"a.tar","details":[{"source1":"b","reprove_changes":[{"field":"mode","value1":5}]}]}]}`, /^details\[0\]\.details\[0\]: reprove_changes\[0\]\.value1 is a number, not a string$/, ['r.json', 'a.tar', 'b']);
  bad(`{${v},"reprove_changes":[null]}`, /^reprove_changes\[0\] is null, not an object$/, ['r.json']);
  bad(`{${v},"reprove_changes":[{"value1":"x"}]}`, /^reprove_changes\[0\] has no field name \(field is missing\)$/, ['r.json']);
  // Deep nesting: read without recursion up to the limit, a typed error past it (it was a RangeError from 2 500 levels on).
  const nested = (n: number) => `{${v},"source1":"r"${',"details":[{"source1":"n"'.repeat(n)}${'}]'.repeat(n)}}`;
  let depth = 0;
  for (let d: Difference | undefined = parseJsonReport(nested(9_999)); d; d = d.details[0]) depth++;
  assert.equal(depth, 10_000);
  assert.throws(() => parseJsonReport(nested(10_001)), (e: unknown) => e instanceof ReproveError && e.message === 'report nested too deeply' && e.memberPath.length === 10_001);
});

test('the writer keeps every piece, in order, past its block size', async () => {
  const pieces = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(i % 1500)}é\n`);
  const file = join(dir, 'report.txt');
  await writeChunks(pieces, file);
  assert.equal(readFileSync(file, 'utf8'), pieces.join(''));
  await assert.rejects(writeChunks(['x'], join(dir, 'missing', 'report.txt')), /ENOENT/);
});
