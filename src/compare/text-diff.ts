// Line diffs in diffoscope's unified form (hunks only, 7 lines of context,
// long blocks cut with "[ N lines removed ]"). Small edit distances are found in
// process with Myers' algorithm; past MAX_EDITS, GNU diff (with its heuristics
// for expensive inputs) does the work in a subprocess so time stays bounded.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReproveError } from './errors.js';
import { settleAll } from './settle.js';

export interface DiffOptions {
  context: number;
  maxBlockLines: number;
  /** Where GNU diff's two inputs are written when the diff is too large to do in process. */
  tmpDir: string;
}

export interface UnifiedDiff {
  text: string;
  /** Set when blocks were cut: says how many lines. */
  truncated?: string;
}

export const DEFAULT_CONTEXT = 7;
const MAX_EDITS = 2000;
/** Steps Myers may take ((N + M) * D); past it GNU diff, with its heuristics, is faster. */
const MAX_STEPS = 4_000_000;

type Op = 0 | 1 | 2; // equal, delete, insert

interface Lines {
  lines: string[];
  /** Whether the text ends without a newline. */
  noFinalNewline: boolean;
}

export function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noFinalNewline: false };
  const lines = text.split('\n');
  const noFinalNewline = lines[lines.length - 1] !== '';
  if (!noFinalNewline) lines.pop();
  return { lines, noFinalNewline };
}

/** Myers' O(ND) diff on interned lines; null when the distance is over maxEdits. */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m, d);
    }
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number, dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const vd = trace[d]!; // covers k in [-d-1, d+1] at index k + d + 1
    const at = (k: number) => vd[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(0);
      x--;
      y--;
    }
    ops.push(prevK === k + 1 ? 2 : 1);
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push(0);
    x--;
    y--;
  }
  return ops.reverse();
}

function intern(a: string[], b: string[]): [Int32Array, Int32Array] {
  const ids = new Map<string, number>();
  const conv = (xs: string[]) => {
    const out = new Int32Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      let id = ids.get(xs[i]!);
      if (id === undefined) ids.set(xs[i]!, (id = ids.size));
      out[i] = id;
    }
    return out;
  };
  return [conv(a), conv(b)];
}

/** Edit script between two line lists, or null when it would be too expensive in process. */
function editScript(a: string[], b: string[]): Op[] | null {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const [ia, ib] = intern(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf));
  const mid = myers(ia, ib, Math.min(MAX_EDITS, Math.floor(MAX_STEPS / Math.max(1, ia.length + ib.length))));
  if (!mid) return null;
  return [...new Array<Op>(pre).fill(0), ...mid, ...new Array<Op>(suf).fill(0)];
}

interface Emitter {
  out: string[];
  removed: number;
}

/** Formats hunks from an edit script, cutting runs of +/- lines longer than maxBlockLines. */
function formatHunks(a: Lines, b: Lines, ops: Op[], opts: DiffOptions): UnifiedDiff {
  const ctx = opts.context;
  const em: Emitter = { out: [], removed: 0 };
  // Positions (in ops) of changes, grouped into hunks when closer than 2*ctx.
  const changes: number[] = [];
  for (let i = 0; i < ops.length; i++) if (ops[i] !== 0) changes.push(i);
  let ci = 0;
  const lineAt = new Array<[number, number]>(ops.length + 1);
  {
    let x = 0;
    let y = 0;
    for (let i = 0; i < ops.length; i++) {
      lineAt[i] = [x, y];
      if (ops[i] !== 2) x++;
      if (ops[i] !== 1) y++;
    }
    lineAt[ops.length] = [x, y];
  }
  const showNoNl = a.noFinalNewline !== b.noFinalNewline;
  while (ci < changes.length) {
    const start = Math.max(0, changes[ci]! - ctx);
    let end = changes[ci]! + 1;
    while (ci + 1 < changes.length && changes[ci + 1]! - end < 2 * ctx) {
      ci++;
      end = changes[ci]! + 1;
    }
    end = Math.min(ops.length, end + ctx);
    ci++;
    const [x0, y0] = lineAt[start]!;
    const [x1, y1] = lineAt[end]!;
    const len1 = x1 - x0;
    const len2 = y1 - y0;
    const range = (s: number, l: number) => (l === 1 ? `${s + 1}` : `${l === 0 ? s : s + 1},${l}`);
    em.out.push(`@@ -${range(x0, len1)} +${range(y0, len2)} @@`);
    let block: { dir: string; count: number } = { dir: ' ', count: 0 };
    const flushCut = () => {
      const cut = block.count - opts.maxBlockLines;
      if (cut > 0) {
        em.out.push(`${block.dir}[ ${cut} lines removed ]`);
        em.removed += cut;
      }
    };
    let x = x0;
    let y = y0;
    for (let i = start; i < end; i++) {
      const op = ops[i]!;
      const dir = op === 0 ? ' ' : op === 1 ? '-' : '+';
      const text = op === 2 ? b.lines[y]! : a.lines[x]!;
      if (dir !== block.dir) {
        flushCut();
        block = { dir, count: 0 };
      }
      block.count++;
      if (dir === ' ' || block.count <= opts.maxBlockLines) {
        em.out.push(dir + text);
        const last = op === 2 ? y === b.lines.length - 1 && b.noFinalNewline : x === a.lines.length - 1 && a.noFinalNewline;
        if (showNoNl && last) em.out.push('\\ No newline at end of file');
      }
      if (op !== 2) x++;
      if (op !== 1) y++;
    }
    flushCut();
  }
  return {
    text: em.out.length ? em.out.join('\n') + '\n' : '',
    ...(em.removed ? { truncated: `${em.removed} lines removed from diff blocks longer than ${opts.maxBlockLines} lines (--max-diff-block-lines)` } : {}),
  };
}

/** Unified diff of two texts. */
export async function unifiedDiff(text1: string, text2: string, opts: DiffOptions): Promise<UnifiedDiff> {
  const a = splitLines(text1);
  const b = splitLines(text2);
  // A last line without its newline differs from the same line with one (as in GNU diff).
  const keys = (l: Lines) => (l.noFinalNewline && a.noFinalNewline !== b.noFinalNewline ? [...l.lines.slice(0, -1), l.lines[l.lines.length - 1] + '\n'] : l.lines);
  const ops = editScript(keys(a), keys(b));
  if (ops) return formatHunks(a, b, ops, opts);
  return gnuDiff(text1, text2, opts);
}

/** GNU diff over two temporary files (it cannot read pipes given as /dev/fd sockets); its hunks are re-cut to our block limit. */
async function gnuDiff(text1: string, text2: string, opts: DiffOptions): Promise<UnifiedDiff> {
  const stem = join(opts.tmpDir, `diff-${randomBytes(6).toString('hex')}`);
  const [f1, f2] = [`${stem}-1`, `${stem}-2`];
  let out: Buffer[];
  try {
    await settleAll([writeFile(f1, text1), writeFile(f2, text2)]);
    out = await new Promise<Buffer[]>((resolve, reject) => {
      const child = spawn('diff', ['-a', `-U${opts.context}`, f1, f2], { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', (e) => reject(new ReproveError('tool', `Cannot run diff: ${e.message}`)));
      child.on('close', (code) => {
        if (code !== 0 && code !== 1) reject(new ReproveError('tool', `diff failed (exit ${code}): ${err.trim()}`));
        else resolve(chunks);
      });
    });
  } finally {
    await settleAll([rm(f1, { force: true }), rm(f2, { force: true })]);
  }
  const raw = Buffer.concat(out).toString('utf8').split('\n');
  // Drop the ---/+++ header and re-apply the block limit.
  const lines: string[] = [];
  let removed = 0;
  let dir = '';
  let count = 0;
  const flush = () => {
    if (count > opts.maxBlockLines) {
      lines.push(`${dir}[ ${count - opts.maxBlockLines} lines removed ]`);
      removed += count - opts.maxBlockLines;
    }
  };
  const noNlBoth = text1 !== '' && text2 !== '' && !text1.endsWith('\n') && !text2.endsWith('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    if (i < 2 && (line.startsWith('--- ') || line.startsWith('+++ '))) continue;
    if (line === '' && i === raw.length - 1) continue;
    if (line.startsWith('\\') && noNlBoth) continue;
    const d = line[0] === '-' || line[0] === '+' ? line[0] : '';
    if (d !== dir) {
      flush();
      dir = d;
      count = 0;
    }
    if (d) {
      count++;
      if (count > opts.maxBlockLines) continue;
    }
    lines.push(line);
  }
  flush();
  return {
    text: lines.length ? lines.join('\n') + '\n' : '',
    ...(removed ? { truncated: `${removed} lines removed from diff blocks longer than ${opts.maxBlockLines} lines (--max-diff-block-lines)` } : {}),
  };
}
