// What every part of the store shares: the database, the clock and the configuration.
import type { DatabaseHandle } from './db.js';
import type { FailureClass } from './schema.js';

/** How one failure class is retried. */
export interface RetryPolicy {
  /** Re-queues after failures of this class; the failure after the last one is final. */
  maxRetries: number;
  /** Delay before the first retry. */
  delayMs: number;
  /** linear: delay × n (rebuilderd's 24 h × attempt); exponential: delay × 2^(n-1). */
  backoff: 'linear' | 'exponential';
  /** Upper bound of any one delay. */
  maxDelayMs: number;
}

export interface QueueConfig {
  /** How long a claim or heartbeat holds a job (rebuilderd hard-codes 540 s). */
  leaseMs: number;
  /** How often a worker should heartbeat; told to workers with each claim. */
  heartbeatIntervalMs: number;
  retry: Record<FailureClass, RetryPolicy>;
}

export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  leaseMs: 10 * 60_000,
  heartbeatIntervalMs: 60_000,
  retry: {
    ftbfs: { maxRetries: 1, delayMs: 24 * 3_600_000, backoff: 'linear', maxDelayMs: 7 * 24 * 3_600_000 },
    // One confirmation rebuild tells a flaky package from a deterministic one.
    unreproducible: { maxRetries: 1, delayMs: 3_600_000, backoff: 'linear', maxDelayMs: 24 * 3_600_000 },
    infrastructure: { maxRetries: 5, delayMs: 60_000, backoff: 'exponential', maxDelayMs: 6 * 3_600_000 },
  },
};

/** Package-list totals already counted, by filter (see packages.ts, countPackages). */
export interface TotalsCache {
  /** Bumped after every write of this store that changes which package versions there are (a sync). */
  generation: number;
  /** Bumped after every write of this store that changes a latest verdict (a final result). */
  verdicts: number;
  readonly entries: Map<string, { total: number; stamp: string; at: number; marks: { pos: number; name: string; id: number }[] | null }>;
}

export interface StoreContext {
  readonly h: DatabaseHandle;
  readonly totals: TotalsCache;
  /** Milliseconds since the epoch; injectable so tests need no sleeping. */
  readonly now: () => number;
  readonly queue: QueueConfig;
}

/** The delay before retry number `n` (1-based) under `policy`. */
export function retryDelay(policy: RetryPolicy, n: number): number {
  const factor = policy.backoff === 'linear' ? n : 2 ** Math.min(n - 1, 40);
  return Math.min(policy.delayMs * factor, policy.maxDelayMs);
}

/** Splits a list into chunks, for statements whose parameter count must stay bounded. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** JSON.stringify with object keys sorted, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
