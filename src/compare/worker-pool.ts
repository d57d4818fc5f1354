// Worker threads of one comparison run, for CPU work that does not need the run's
// state (today: line diffs of large views). The pool belongs to its run: workers
// start lazily, never keep the process alive (unref'd), and close() (the run's
// dispose) or an abort terminates them, rejecting what they were doing. How many
// run at once is bounded by the run's -j slots (the caller takes one per task) and
// by the pool's size.
import type { Worker } from 'node:worker_threads';
import { AbortError, ReproveError } from './errors.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Pending | undefined;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private closed = false;
  private readonly onAbort = () => void this.close();

  constructor(
    /** Workers that may exist at once. */
    private readonly size: number,
    /** Starts one worker; it answers each message with { result } or { error }. */
    private readonly start: () => Worker,
    private readonly signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Sends `message` to a free worker and resolves with its answer. */
  async call<T>(message: unknown): Promise<T> {
    const slot = await this.acquire();
    try {
      return await new Promise<T>((resolve, reject) => {
        slot.pending = { resolve: resolve as (v: unknown) => void, reject };
        slot.worker.postMessage(message);
      });
    } finally {
      slot.pending = undefined;
      this.release(slot);
    }
  }

  private failure(): ReproveError {
    return this.signal?.aborted ? new AbortError(this.signal.reason) : new ReproveError('tool', 'A worker thread of the comparison stopped');
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(this.failure());
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    if (this.slots.length < this.size) return Promise.resolve(this.spawn());
    return new Promise((r) => this.waiting.push(r));
  }

  private release(slot: Slot): void {
    if (this.closed || !this.slots.includes(slot)) return;
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private spawn(): Slot {
    const worker = this.start();
    worker.unref();
    const slot: Slot = { worker, pending: undefined };
    this.slots.push(slot);
    worker.on('message', (m: { result?: unknown; error?: string }) => {
      const p = slot.pending;
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    const gone = (e?: Error) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      const j = this.idle.indexOf(slot);
      if (j >= 0) this.idle.splice(j, 1);
      slot.pending?.reject(this.closed || !e ? this.failure() : e);
      slot.pending = undefined;
      // A task waiting for a worker gets a new one (close() fails the waiting tasks itself).
      if (!this.closed) {
        const next = this.waiting.shift();
        if (next) next(this.spawn());
      }
    };
    worker.on('error', (e) => gone(e));
    worker.on('exit', () => gone());
    return slot;
  }

  /** Terminates every worker; tasks in flight or waiting reject. */
  async close(): Promise<void> {
    // A signal that outlives the run (a service's) keeps no reference to it.
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.closed && this.slots.length === 0) return;
    this.closed = true;
    const workers = this.slots.map((s) => s.worker);
    for (const s of this.slots) {
      s.pending?.reject(this.failure());
      s.pending = undefined;
    }
    // Waiting tasks are handed a stand-in whose postMessage throws: their call rejects at once.
    const waiting = this.waiting.splice(0);
    for (const w of waiting) w({ worker: deadWorker(this.failure()), pending: undefined });
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A stand-in worker whose postMessage rejects the call at once (for tasks still waiting when the pool closes). */
function deadWorker(error: ReproveError): Worker {
  return {
    postMessage() {
      throw error;
    },
  } as unknown as Worker;
}
