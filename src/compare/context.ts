// State shared by one comparison run: limits, the temporary directory, budgets
// that hostile input could exhaust, the process semaphore and progress.
import { defaultLimits, type Limits } from './limits.js';
import { Semaphore } from './semaphore.js';
import { TempDir } from './tempdir.js';
import { DEFAULT_CONTEXT, type DiffOptions } from './text-diff.js';
import { LimitError } from './errors.js';

export interface Progress {
  total(n: number): void;
  advance(n: number, label: string): void;
}

export interface CompareOptions {
  limits?: Partial<Limits>;
  /** Glob patterns of member paths left out of the comparison. */
  exclude?: string[];
  progress?: Progress;
}

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
  readonly tmp: TempDir;
  readonly tools: Semaphore;
  readonly progress: Progress | undefined;
  private readonly excludes: RegExp[];
  private decompressed = 0;
  private reportBytes = 0;
  reportLimitHit = false;

  constructor(options: CompareOptions = {}) {
    this.limits = { ...defaultLimits, ...options.limits };
    this.tmp = new TempDir();
    this.tools = new Semaphore(Math.max(1, this.limits.jobs));
    this.excludes = (options.exclude ?? []).map(globToRegExp);
    this.progress = options.progress;
  }

  get diffOptions(): DiffOptions {
    return { context: DEFAULT_CONTEXT, maxBlockLines: this.limits.maxDiffBlockLines, tmpDir: this.tmp.path };
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
      throw new LimitError('max-total-decompressed', `Decompressed data of this comparison passed ${this.limits.maxTotalDecompressed} bytes (--max-total-decompressed)`);
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

  dispose(): void {
    this.tmp.removeSync();
  }
}
