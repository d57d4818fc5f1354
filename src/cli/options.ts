// Parsing of command-line values shared by the subcommands.
import type { Limits } from '../compare/limits.js';

export class UsageError extends Error {}

/** Aborted by main.ts when the command gets SIGINT, SIGTERM or SIGHUP: the running comparison stops and removes its files. */
export const stop = new AbortController();

/** What every comparison of this command shares: the stop signal and $REPROVE_TMPDIR. */
export function runOptions(): { signal: AbortSignal; tmpDir?: string } {
  const tmpDir = process.env['REPROVE_TMPDIR'];
  return { signal: stop.signal, ...(tmpDir ? { tmpDir } : {}) };
}

/** "64M", "2G", "1048576" -> bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`${flag} takes a size such as 64M or 2G, not ${JSON.stringify(text)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/** The limit flags, shared by every subcommand that compares. */
export const limitFlags = {
  'max-depth': { type: 'string' },
  'max-decompressed-size': { type: 'string' },
  'max-total-decompressed': { type: 'string' },
  'max-ratio': { type: 'string' },
  'max-members': { type: 'string' },
  'max-diff-block-lines': { type: 'string' },
  'max-diff-input-size': { type: 'string' },
  'max-report-size': { type: 'string' },
  'fuzzy-threshold': { type: 'string' },
  jobs: { type: 'string', short: 'j' },
} as const;

export function limitsFrom(values: Record<string, unknown>): Partial<Limits> {
  const out: Partial<Limits> = {};
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const set = <K extends keyof Limits>(key: K, flag: string, parse: (t: string, f: string) => number) => {
    const v = s(flag);
    if (v !== undefined) out[key] = parse(v, `--${flag}`) as Limits[K];
  };
  set('maxDepth', 'max-depth', parseCount);
  set('maxDecompressedSize', 'max-decompressed-size', parseSize);
  set('maxTotalDecompressed', 'max-total-decompressed', parseSize);
  set('maxRatio', 'max-ratio', parseCount);
  set('maxMembers', 'max-members', parseCount);
  set('maxDiffBlockLines', 'max-diff-block-lines', parseCount);
  set('maxDiffInputSize', 'max-diff-input-size', parseSize);
  set('maxReportSize', 'max-report-size', parseSize);
  set('fuzzyThreshold', 'fuzzy-threshold', parseCount);
  set('jobs', 'jobs', parseCount);
  if (out.jobs === 0) throw new UsageError('--jobs must be at least 1');
  return out;
}
