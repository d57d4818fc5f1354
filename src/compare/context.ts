// The state of one comparison run: its limits, its temporary directory, the files
// it has open, the programs it runs, budgets that hostile input could exhaust, its
// abort signal and its diagnostics. Everything a run opens belongs to its Context
// and is released by dispose(), so many runs can share one process for months.
import type { Format, FormatRegistry, MemberPair } from '../formats/format.js';
import type { Artifact } from './artifact.js';
import { OpenFiles } from './artifact.js';
import type { Difference } from './difference.js';
import { AbortError, LimitError, type ReproveError } from './errors.js';
import { defaultLimits, limitNote, type Limits } from './limits.js';
import { TempDir } from './tempdir.js';
import { DEFAULT_CONTEXT, diffWorker, type DiffOptions } from './text-diff.js';
import { ToolRunner } from './tool.js';
import { WorkerPool } from './worker-pool.js';

export interface Progress {
  total(n: number): void;
  advance(n: number, label: string): void;
}

/** Something the run noticed that is not part of the report: today, a parser bug. */
export interface Diagnostic {
  kind: 'untyped-error';
  /** Member path from the top-level input down to where it happened. */
  memberPath: readonly string[];
  message: string;
  /** The original error's stack, for a bug report. */
  stack?: string;
}

export interface CompareOptions {
  limits?: Partial<Limits>;
  /** Glob patterns of member paths left out of the comparison. */
  exclude?: string[];
  progress?: Progress;
  /** Stops the comparison: its programs are killed, its files removed, and compare() rejects with an AbortError. */
  signal?: AbortSignal;
  /** Where the run's temporary directory is made (default: the system's temporary directory). */
  tmpDir?: string;
  /** Receives the run's diagnostics (errors that reached the engine untyped: parser bugs). */
  onDiagnostic?: (d: Diagnostic) => void;
}

/** How the engine compares two members; a Context calls back into it for containers. */
export type CompareMembers = (a: Artifact, b: Artifact, ctx: Context, depth: number) => Promise<Difference | null>;

/** A glob (`*`, `?`, `**`) as a regular expression over a member path or its base name. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export const REPORT_WORKING_FACTOR = 4;

export class Context {
  readonly limits: Limits;
  readonly tools: ToolRunner;
  /** Worker threads for large diffs (limits.diffThreads), started on first use. */
  readonly workers: WorkerPool | undefined;
  readonly files = new OpenFiles();
  readonly progress: Progress | undefined;
  readonly signal: AbortSignal | undefined;
  private readonly excludes: RegExp[];
  private readonly onDiagnostic: ((d: Diagnostic) => void) | undefined;
  private decompressed = 0;
  private reportBytes = 0;
  reportLimitHit = false;

  private constructor(
    options: CompareOptions,
    readonly tmp: TempDir,
    readonly formats: FormatRegistry,
    private readonly recurse: CompareMembers,
  ) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.signal = options.signal;
    this.tools = new ToolRunner(this.limits.jobs, this.limits.toolTimeout, options.signal);
    const threads = Math.min(this.limits.diffThreads, this.limits.jobs);
    this.workers = threads > 0 ? new WorkerPool(threads, diffWorker, options.signal) : undefined;
    this.excludes = (options.exclude ?? []).map(globToRegExp);
    this.progress = options.progress;
    this.onDiagnostic = options.onDiagnostic;
  }

  /** A run's context, with its temporary directory made; release it with dispose(). */
  static async create(options: CompareOptions, formats: FormatRegistry, recurse: CompareMembers): Promise<Context> {
    if (options.signal?.aborted) throw new AbortError(options.signal.reason);
    return new Context(options, await TempDir.create(options.tmpDir), formats, recurse);
  }

  /** Compares two members of a container (their names already set); null when identical. */
  compare(a: Artifact, b: Artifact, depth: number): Promise<Difference | null> {
    this.tools.throwIfAborted();
    return this.recurse(a, b, this, depth);
  }

  /** Tells the formats that plan batched work (Format.prepare) the member pairs of a container. */
  prepare(pairs: readonly MemberPair[]): void {
    if (pairs.length) for (const f of this.formats.formats) f.prepare?.(pairs, this);
  }

  recognise(a: Artifact): Promise<Format> {
    return this.formats.recognise(a);
  }

  /** Reports an error that reached the engine untyped (a parser bug) to the caller's callback. */
  diagnose(e: ReproveError): void {
    if (e.untyped === undefined || !this.onDiagnostic) return;
    const original = e.untyped;
    this.onDiagnostic({
      kind: 'untyped-error',
      memberPath: e.memberPath,
      message: original instanceof Error ? `${original.name}: ${original.message}` : String(original),
      ...(original instanceof Error && original.stack ? { stack: original.stack } : {}),
    });
  }

  get diffOptions(): DiffOptions {
    return { context: DEFAULT_CONTEXT, maxBlockLines: this.limits.maxDiffBlockLines, tmpDir: this.tmp.path, tools: this.tools, ...(this.workers ? { workers: this.workers } : {}) };
  }

  isExcluded(memberPath: string): boolean {
    if (this.excludes.length === 0) return false;
    const clean = memberPath.replace(/^\.?\/+/, '');
    const base = clean.slice(clean.lastIndexOf('/') + 1);
    return this.excludes.some((re) => re.test(memberPath) || re.test(clean) || re.test(base));
  }

  /** Counts decompressed bytes against the run's total; throws when it is spent. */
  chargeDecompressed(bytes: number): void {
    this.decompressed += bytes;
    if (this.decompressed > this.limits.maxTotalDecompressed)
      throw new LimitError('max-total-decompressed', `Decompressed data of this comparison passed ${this.limits.maxTotalDecompressed} bytes (${limitNote('maxTotalDecompressed')})`);
  }

  /**
   * Takes `bytes` of the budget for diffs made; false (and stays false) once it is gone.
   * The budget is REPORT_WORKING_FACTOR times the report's size limit: parallel comparisons
   * finish in any order, so the report is cut to its limit afterwards, in report order
   * (trimReport), which stays repeatable as long as this budget is not spent.
   */
  chargeReport(bytes: number): boolean {
    if (this.reportLimitHit) return false;
    if (this.reportBytes + bytes > this.limits.maxReportSize * REPORT_WORKING_FACTOR) {
      this.reportLimitHit = true;
      return false;
    }
    this.reportBytes += bytes;
    return true;
  }

  /** Releases everything the run holds: its programs (killed), open files and temporary directory. */
  async dispose(): Promise<void> {
    this.tools.killAll();
    await this.workers?.close();
    await this.tools.settled();
    await this.files.closeAll();
    await this.tmp.remove();
  }
}
