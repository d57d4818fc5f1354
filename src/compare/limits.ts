// The bounds that keep a comparison of hostile input finite. Each has a default
// and a CLI flag; reaching one is written into the report, never a crash.

export interface Limits {
  /** Containers nested deeper than this are compared as binary. */
  maxDepth: number;
  /** Bytes one decompressed stream may produce. */
  maxDecompressedSize: number;
  /** Decompressed/compressed ratio allowed once a stream is past `ratioFloor` bytes. */
  maxRatio: number;
  ratioFloor: number;
  /** Bytes all decompressed streams of one comparison may produce together. */
  maxTotalDecompressed: number;
  /** Members one container may list. */
  maxMembers: number;
  /** Lines of one unified diff block; the rest is cut with a note. */
  maxDiffBlockLines: number;
  /** Bytes of lines fed into one textual diff, per side. */
  maxDiffInputSize: number;
  /** Bytes of the whole report (sum of diff texts); past it, diffs are dropped with a note. */
  maxReportSize: number;
  /** Members whose size is under this are kept in memory rather than spilled to disk. */
  spillThreshold: number;
  /** Similarity (0-100) from which two unmatched members are paired as a rename. */
  fuzzyThreshold: number;
  /** Unmatched members per side above which fuzzy pairing is skipped. */
  maxFuzzyCandidates: number;
  /** Seconds an external tool may run. */
  toolTimeout: number;
  /** Concurrent member comparisons. */
  jobs: number;
  /**
   * Worker threads that make the line diffs of large views (at most `jobs`; 0: all in the
   * main thread). Off by default: on two shared cores they gave no measurable wall time
   * and cost 30-90 MB of peak RSS (a worker's heap and its JIT warm-up).
   */
  diffThreads: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const defaultLimits: Limits = {
  maxDepth: 50,
  maxDecompressedSize: 16 * GiB,
  maxRatio: 100_000,
  ratioFloor: 256 * MiB,
  maxTotalDecompressed: 64 * GiB,
  maxMembers: 1_000_000,
  maxDiffBlockLines: 1024,
  maxDiffInputSize: 64 * MiB,
  maxReportSize: 40 * MiB,
  spillThreshold: 8 * MiB,
  fuzzyThreshold: 60,
  maxFuzzyCandidates: 2000,
  toolTimeout: 300,
  jobs: 4,
  diffThreads: 0,
};

/** The command line's flag for each limit. */
export const LIMIT_FLAGS: Record<Exclude<keyof Limits, 'ratioFloor' | 'spillThreshold' | 'maxFuzzyCandidates' | 'toolTimeout' | 'diffThreads'>, string> = {
  maxDepth: '--max-depth',
  maxDecompressedSize: '--max-decompressed-size',
  maxRatio: '--max-ratio',
  maxTotalDecompressed: '--max-total-decompressed',
  maxMembers: '--max-members',
  maxDiffBlockLines: '--max-diff-block-lines',
  maxDiffInputSize: '--max-diff-input-size',
  maxReportSize: '--max-report-size',
  fuzzyThreshold: '--fuzzy-threshold',
  jobs: '--jobs',
};

/** How a report names a limit it reached: the library's option and the command's flag. */
export function limitNote(key: keyof typeof LIMIT_FLAGS): string {
  return `limit ${key}, ${LIMIT_FLAGS[key]}`;
}
