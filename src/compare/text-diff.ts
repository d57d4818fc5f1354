// Line diffs in diffoscope's unified form (hunks only, 7 lines of context,
// long blocks cut with "[ N lines removed ]"). Small edit distances are found in
// process with Myers' algorithm; past MAX_EDITS, GNU diff (with its heuristics
// for expensive inputs) does the work in a subprocess so time stays bounded.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { settleAll } from './settle.js';
import { runTool, type ToolRunner } from './tool.js';
import { limitNote } from './limits.js';
import type { WorkerPool } from './worker-pool.js';

export interface DiffOptions {
  context: number;
  maxBlockLines: number;
  /** Where GNU diff's two inputs are written when the diff is too large to do in process. */
  tmpDir: string;
  /** The run's program runner, which GNU diff runs under (slots, time limit, abort). */
  tools: ToolRunner;
  /** The run's worker threads (see diffWorker), which diff large texts off the main thread. */
  workers?: WorkerPool;
}

/** What formatting hunks needs of DiffOptions. */
type HunkOptions = Pick<DiffOptions, 'context' | 'maxBlockLines'>;

export interface UnifiedDiff {
  text: string;
  /** Set when blocks were cut: says how many lines. */
  truncated?: string;
}

export const DEFAULT_CONTEXT = 7;
/** Edits Myers may search to (its trace grows as D squared: 16 MB at 2000). */
const MAX_EDITS = 2000;
/** Work Myers may do (diagonals tried plus lines compared); past it GNU diff, with its heuristics, is faster. */
const MAX_WORK = 10_000_000;

/** An edit script, one byte a step: 0 keeps a line, 1 deletes one of the first text, 2 inserts one of the second. */
type Ops = Uint8Array;
const DELETE = 1;
const INSERT = 2;

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

/** Myers' O(ND) diff on interned lines; null when the distance is over maxEdits or the work over MAX_WORK. */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): Ops | null {
  let work = 0;
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    work += d + 1;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      const x0 = x;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      work += x - x0;
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m, d);
    }
    if (work > MAX_WORK) return null;
  }
  return null;
}

function backtrack(trace: Int32Array[], n: number, m: number, dEnd: number): Ops {
  // deletes + kept = n, inserts + kept = m, deletes + inserts = dEnd.
  const ops = new Uint8Array((n + m + dEnd) / 2);
  let i = ops.length;
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const vd = trace[d]!; // covers k in [-d-1, d+1] at index k + d + 1
    const at = (k: number) => vd[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    const kept = Math.min(x - prevX, y - prevY);
    i -= kept; // kept lines are 0 already
    x -= kept;
    y -= kept;
    ops[--i] = prevK === k + 1 ? INSERT : DELETE;
    x = prevX;
    y = prevY;
  }
  return ops;
}

/** Each line as a dense id (0 up to the number of distinct lines, also returned). */
function intern(a: string[], b: string[]): [Int32Array, Int32Array, number] {
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
  return [conv(a), conv(b), ids.size];
}

/**
 * Edit script between two line lists, or null when it would be too expensive in process.
 * Lines found on one side only can never be part of a common subsequence, so they are
 * set aside before Myers runs (as GNU diff does): a shifted hex dump or disassembly,
 * where most lines are unique, then costs almost nothing.
 */
function editScript(a: string[], b: string[]): Ops | null {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const [ia, ib, distinct] = intern(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf));
  const [ka, kb] = shared(ia, ib, distinct);
  const found = myers(ia.filter((_, i) => ka[i]), ib.filter((_, i) => kb[i]), MAX_EDITS);
  if (!found) return null;
  const mid = groupChanges(restore(found, ka, kb));
  const ops = new Uint8Array(pre + mid.length + suf);
  ops.set(mid, pre);
  return ops;
}

/** Which lines of each side also occur on the other side. */
function shared(a: Int32Array, b: Int32Array, ids: number): [Uint8Array, Uint8Array] {
  const inA = new Uint8Array(ids);
  const inB = new Uint8Array(ids);
  for (let i = 0; i < a.length; i++) inA[a[i]!] = 1;
  for (let i = 0; i < b.length; i++) inB[b[i]!] = 1;
  const keptA = new Uint8Array(a.length);
  const keptB = new Uint8Array(b.length);
  for (let i = 0; i < a.length; i++) keptA[i] = inB[a[i]!]!;
  for (let i = 0; i < b.length; i++) keptB[i] = inA[b[i]!]!;
  return [keptA, keptB];
}

/** The edit script over the kept lines, widened back to all lines: set-aside lines are deleted or inserted. */
function restore(ops: Ops, keptA: Uint8Array, keptB: Uint8Array): Ops {
  const setAside = (kept: Uint8Array) => kept.length - kept.reduce((n, k) => n + k, 0);
  const out = new Uint8Array(ops.length + setAside(keptA) + setAside(keptB));
  let o = 0;
  let x = 0;
  let y = 0;
  const skipA = () => {
    while (x < keptA.length && !keptA[x]) (out[o++] = DELETE, x++);
  };
  const skipB = () => {
    while (y < keptB.length && !keptB[y]) (out[o++] = INSERT, y++);
  };
  for (const op of ops) {
    if (op !== INSERT) skipA();
    if (op !== DELETE) skipB();
    out[o++] = op;
    if (op !== INSERT) x++;
    if (op !== DELETE) y++;
  }
  skipA();
  skipB();
  return out;
}

/** Within each run of changes, deletions before insertions (the order diff and diffoscope print them in). */
function groupChanges(ops: Ops): Ops {
  for (let i = 0; i < ops.length; ) {
    if (ops[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    let deletes = 0;
    while (j < ops.length && ops[j] !== 0) deletes += ops[j++] === DELETE ? 1 : 0;
    ops.fill(DELETE, i, i + deletes).fill(INSERT, i + deletes, j);
    i = j;
  }
  return ops;
}

interface Emitter {
  out: string[];
  removed: number;
}

/** Formats hunks from an edit script, cutting runs of +/- lines longer than maxBlockLines. */
function formatHunks(a: Lines, b: Lines, ops: Ops, opts: HunkOptions): UnifiedDiff {
  const ctx = opts.context;
  const em: Emitter = { out: [], removed: 0 };
  // Positions (in ops) of changes, grouped into hunks when closer than 2*ctx.
  const changes: number[] = [];
  for (let i = 0; i < ops.length; i++) if (ops[i] !== 0) changes.push(i);
  let ci = 0;
  // The line of each text at each step of the script.
  const lineA = new Int32Array(ops.length + 1);
  const lineB = new Int32Array(ops.length + 1);
  for (let i = 0; i < ops.length; i++) {
    lineA[i + 1] = lineA[i]! + (ops[i] !== INSERT ? 1 : 0);
    lineB[i + 1] = lineB[i]! + (ops[i] !== DELETE ? 1 : 0);
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
    const [x0, y0] = [lineA[start]!, lineB[start]!];
    const [x1, y1] = [lineA[end]!, lineB[end]!];
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
      const dir = op === 0 ? ' ' : op === DELETE ? '-' : '+';
      const text = op === INSERT ? b.lines[y]! : a.lines[x]!;
      if (dir !== block.dir) {
        flushCut();
        block = { dir, count: 0 };
      }
      block.count++;
      if (dir === ' ' || block.count <= opts.maxBlockLines) {
        em.out.push(dir + text);
        const last = op === INSERT ? y === b.lines.length - 1 && b.noFinalNewline : x === a.lines.length - 1 && a.noFinalNewline;
        if (showNoNl && last) em.out.push('\\ No newline at end of file');
      }
      if (op !== INSERT) x++;
      if (op !== DELETE) y++;
    }
    flushCut();
  }
  return {
    text: em.out.length ? em.out.join('\n') + '\n' : '',
    ...(em.removed ? { truncated: `${em.removed} lines removed from diff blocks longer than ${opts.maxBlockLines} lines (${limitNote('maxDiffBlockLines')})` } : {}),
  };
}

/**
 * A diff cut to at most `max` bytes at the start of a hunk (or of a line, when the first
 * hunk alone is longer), with the number of bytes left out.
 */
export function cutDiff(text: string, max: number): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  let end = text.lastIndexOf('\n@@', max - 1);
  if (end <= 0) end = text.lastIndexOf('\n', max - 1);
  const kept = end > 0 ? text.slice(0, end + 1) : '';
  return { text: kept, cut: text.length - kept.length };
}

/** Texts at least this long together are diffed in a worker thread when the run has workers (below it, a worker start costs more than it saves). */
const WORKER_MIN_CHARS = 512 << 10;

/** The unified diff made in this thread, or null when it is too expensive (GNU diff's job then). */
function diffHere(text1: string, text2: string, opts: HunkOptions): UnifiedDiff | null {
  const a = splitLines(text1);
  const b = splitLines(text2);
  // A last line without its newline differs from the same line with one (as in GNU diff).
  const keys = (l: Lines) => (l.noFinalNewline && a.noFinalNewline !== b.noFinalNewline ? [...l.lines.slice(0, -1), l.lines[l.lines.length - 1] + '\n'] : l.lines);
  const ops = editScript(keys(a), keys(b));
  return ops ? formatHunks(a, b, ops, opts) : null;
}

/** Unified diff of two texts. */
export async function unifiedDiff(text1: string, text2: string, opts: DiffOptions): Promise<UnifiedDiff> {
  const workers = opts.workers;
  const hunkOpts: HunkOptions = { context: opts.context, maxBlockLines: opts.maxBlockLines };
  const made =
    workers && text1.length + text2.length >= WORKER_MIN_CHARS
      ? await opts.tools.run(() => workers.call<UnifiedDiff | null>({ text1, text2, opts: hunkOpts }))
      : diffHere(text1, text2, hunkOpts);
  return made ?? gnuDiff(text1, text2, opts);
}

const WORKER_MARK = 'reprove-diff-worker';

/**
 * A worker thread that makes unified diffs: this module, loaded again in the worker
 * (so the bundle needs no file of its own for it), answering { text1, text2, opts }
 * with { result: UnifiedDiff | null }.
 */
export function diffWorker(): Worker {
  // A young generation larger than a worker's default: splitting and interning a few
  // megabytes of lines otherwise spends a worker's first diffs in scavenges (measured:
  // 820 ms cold for libssl3's large diffs at the default, 440 ms at 64 MB).
  return new Worker(new URL(import.meta.url), { workerData: { [WORKER_MARK]: true }, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
}

if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[WORKER_MARK] === true) {
  const port = parentPort;
  port.on('message', (m: { text1: string; text2: string; opts: HunkOptions }) => {
    try {
      port.postMessage({ result: diffHere(m.text1, m.text2, m.opts) });
    } catch (e) {
      port.postMessage({ error: e instanceof Error ? e.message : String(e) });
    }
  });
}

/** GNU diff over two temporary files (it cannot read pipes given as /dev/fd sockets); its hunks are re-cut to our block limit. */
async function gnuDiff(text1: string, text2: string, opts: DiffOptions): Promise<UnifiedDiff> {
  const stem = join(opts.tmpDir, `diff-${randomBytes(6).toString('hex')}`);
  const [f1, f2] = [`${stem}-1`, `${stem}-2`];
  let out: Buffer;
  try {
    await settleAll([writeFile(f1, text1), writeFile(f2, text2)]);
    // A unified diff holds each input line at most once, plus a prefix per line and hunk headers.
    const maxOutput = 2 * (text1.length + text2.length) + (1 << 20);
    ({ stdout: out } = await runTool({ tools: opts.tools }, 'diff', ['-a', `-U${opts.context}`, f1, f2], { maxOutput, okCodes: [0, 1] }));
  } finally {
    await settleAll([rm(f1, { force: true }), rm(f2, { force: true })]);
  }
  const raw = out.toString('utf8').split('\n');
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
    ...(removed ? { truncated: `${removed} lines removed from diff blocks longer than ${opts.maxBlockLines} lines (${limitNote('maxDiffBlockLines')})` } : {}),
  };
}
