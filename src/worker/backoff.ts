// Waiting between attempts to reach the daemon: a delay that doubles from
// `initialMs` up to `maxMs`, each wait jittered (between half and all of it) so
// a fleet of workers does not return to a restarted daemon in one wave. The
// worker never gives up (rebuilderd #247, #182); only its stop signal ends a wait.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export class Backoff {
  private current: number;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    this.current = options.initialMs;
  }

  /** The next wait, in milliseconds. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.options.maxMs, this.current * 2);
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  reset(): void {
    this.current = this.options.initialMs;
  }
}

/** Waits `ms`; resolves false at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
