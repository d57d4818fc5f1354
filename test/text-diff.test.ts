// The in-process line diff against its definition: applying the hunks to the
// first text gives the second, and the edit is minimal (as many lines kept as a
// longest common subsequence has), also when lines found on one side only are
// set aside before Myers runs. GNU diff, the fallback, must agree on the size.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { unifiedDiff } from '../src/compare/text-diff.js';
import { ToolRunner } from '../src/compare/tool.js';

const dir = mkdtempSync(join(tmpdir(), 'reprove-text-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const OPTS = { context: 3, maxBlockLines: 1_000_000, tmpDir: dir, tools: new ToolRunner(2, 60) };

/** Applies unified-diff hunks to `a`'s lines; throws when a context or removed line does not match. */
function apply(a: string[], diff: string): string[] {
  const out: string[] = [];
  let at = 0;
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(line);
    if (hunk) {
      const start = Number(hunk[1]) - (hunk[2] === '0' ? 0 : 1);
      while (at < start) out.push(a[at++]!);
    } else if (line[0] === ' ' || line[0] === '-') {
      assert.equal(a[at], line.slice(1), `line ${at + 1} of the first text`);
      if (line[0] === ' ') out.push(a[at]!);
      at++;
    } else if (line[0] === '+') out.push(line.slice(1));
    else assert.fail(`unexpected diff line ${JSON.stringify(line)}`);
  }
  while (at < a.length) out.push(a[at++]!);
  return out;
}

function lcsLength(a: string[], b: string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = [0];
    for (let j = 0; j < b.length; j++) row.push(x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!));
    prev = row;
  }
  return prev[b.length]!;
}

const changed = (diff: string, sign: string) => diff.split('\n').filter((l) => l[0] === sign).length;
// Few distinct lines, so lines repeat (shared) and some occur on one side only.
const linesArb = fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'x1', 'x2', 'y1', 'y2', ''), { maxLength: 40 });

test('applying the diff to the first text gives the second, with a minimal edit', async () => {
  await fc.assert(
    fc.asyncProperty(linesArb, linesArb, async (a, b) => {
      const d = await unifiedDiff(a.map((l) => l + '\n').join(''), b.map((l) => l + '\n').join(''), OPTS);
      assert.deepEqual(apply(a, d.text), b);
      const kept = lcsLength(a, b);
      assert.equal(changed(d.text, '-'), a.length - kept, 'lines removed');
      assert.equal(changed(d.text, '+'), b.length - kept, 'lines added');
    }),
    { numRuns: 500 },
  );
});

test('within a change, removed lines come before added ones', async () => {
  // Myers alone interleaves here ("+u1" between "-u2" and the other removals).
  const d = await unifiedDiff('b\nu1\nu2\nv2\nv1\n', 'u1\nu1\na\na\nk\n', OPTS);
  assert.equal(d.text, '@@ -1,5 +1,5 @@\n-b\n u1\n-u2\n-v2\n-v1\n+u1\n+a\n+a\n+k\n');
});

test('a hex dump shifted by an insertion: every later line differs, found in process as GNU diff finds it', async () => {
  const dump = (bytes: Buffer) => {
    const rows: string[] = [];
    for (let o = 0; o < bytes.length; o += 16) rows.push(`${o.toString(16).padStart(8, '0')}: ${bytes.subarray(o, o + 16).toString('hex')}`);
    return rows.join('\n') + '\n';
  };
  const base = Buffer.from(Array.from({ length: 64_000 }, (_, i) => (i * 7919) % 251));
  const [x, y] = [dump(base), dump(Buffer.concat([base.subarray(0, 100), Buffer.from('!'), base.subarray(100)]))];
  const d = await unifiedDiff(x, y, OPTS);
  assert.deepEqual(apply(x.split('\n').slice(0, -1), d.text), y.split('\n').slice(0, -1));
  writeFileSync(join(dir, 'x'), x);
  writeFileSync(join(dir, 'y'), y);
  const gnu = spawnSync('diff', ['-U3', join(dir, 'x'), join(dir, 'y')], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
  assert.equal(changed(d.text, '-'), changed(gnu, '-') - 1, 'as many removed lines as GNU diff (less its --- header)');
  assert.equal(changed(d.text, '+'), changed(gnu, '+') - 1);
});
