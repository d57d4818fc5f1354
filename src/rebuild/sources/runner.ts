// The daemon's side of the sources: every configured source synced on start and
// then on its interval (one sync of a source at a time; a sync asked for while one
// runs waits for it and runs once more), listeners kept running until the daemon
// stops, and each source's state (last sync, its figures, its last error) for
// `reprove ctl sources ls`. A source's failure is logged and recorded, never
// thrown into the daemon.
import type { Store } from '../../store/index.js';
import { makeSource } from './registry.js';
import type { Source, SourceConfig, SourceSyncOutcome } from './source.js';

export interface SourceState {
  name: string;
  kind: string;
  distribution: string;
  suite: string;
  architecture: string;
  intervalSeconds: number;
  listening: boolean;
  running: boolean;
  lastSyncAt: number | null;
  lastOutcome: SourceSyncOutcome | null;
  lastError: string | null;
}

interface Entry {
  source: Source;
  state: SourceState;
  current: Promise<SourceSyncOutcome> | null;
  again: Promise<SourceSyncOutcome> | null;
  timer: NodeJS.Timeout | null;
  listener: Promise<void> | null;
}

export class SourceRunner {
  private readonly entries = new Map<string, Entry>();
  private readonly controller = new AbortController();

  constructor(
    private readonly store: Store,
    configs: readonly SourceConfig[],
    private readonly log: (line: string) => void,
  ) {
    for (const c of configs) {
      if (this.entries.has(c.name)) throw new Error(`Cannot configure source ${c.name}: the name is used twice`);
      const source = makeSource(c);
      this.entries.set(c.name, {
        source,
        state: { name: c.name, kind: c.kind, ...source.target, intervalSeconds: source.intervalSeconds, listening: false, running: false, lastSyncAt: null, lastOutcome: null, lastError: null },
        current: null,
        again: null,
        timer: null,
        listener: null,
      });
    }
  }

  /** The source named so (webhooks find their configuration here). */
  source(name: string): Source | undefined {
    return this.entries.get(name)?.source;
  }

  list(): SourceState[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  /** Syncs on start, then on each interval; starts the listeners. */
  start(): void {
    for (const e of this.entries.values()) {
      if (e.source.listen) {
        e.state.listening = true;
        e.listener = e.source
          .listen({ store: this.store, log: this.log, signal: this.controller.signal })
          .catch((err: Error) => {
            e.state.lastError = err.message;
            this.log(`reprove: source ${e.state.name}: listener stopped: ${err.message}`);
          })
          .finally(() => {
            e.state.listening = false;
          });
      }
      void this.sync(e.state.name).catch(() => undefined);
      if (e.source.intervalSeconds > 0) e.timer = setInterval(() => void this.sync(e.state.name).catch(() => undefined), e.source.intervalSeconds * 1000);
    }
  }

  /** Runs one sync of the named source (joining one that is about to start). */
  sync(name: string): Promise<SourceSyncOutcome> {
    const e = this.entries.get(name);
    if (!e) return Promise.reject(new Error(`Cannot sync source ${name}: no such source`));
    if (e.current) {
      e.again ??= e.current.catch(() => undefined).then(() => {
        e.again = null;
        return this.run(e);
      });
      return e.again;
    }
    return this.run(e);
  }

  private run(e: Entry): Promise<SourceSyncOutcome> {
    e.state.running = true;
    const p = e.source
      .sync({ store: this.store, log: this.log, signal: this.controller.signal })
      .then((outcome) => {
        e.state.lastOutcome = outcome;
        e.state.lastError = null;
        const s = outcome.summary;
        this.log(`reprove: source ${e.state.name}: ${outcome.packages} packages${s ? `, ${s.added} new, ${s.left} left, ${s.enqueued} queued` : ''}, ${outcome.skipped} skipped, ${outcome.ms} ms`);
        return outcome;
      })
      .catch((err: Error) => {
        e.state.lastError = err.message;
        this.log(`reprove: source ${e.state.name}: sync failed: ${err.message}`);
        throw err;
      })
      .finally(() => {
        e.state.running = false;
        e.state.lastSyncAt = Date.now();
        if (e.current === p) e.current = null;
      });
    e.current = p;
    return p;
  }

  async close(): Promise<void> {
    this.controller.abort();
    for (const e of this.entries.values()) if (e.timer) clearInterval(e.timer);
    await Promise.all([...this.entries.values()].flatMap((e) => [e.current?.catch(() => undefined), e.again?.catch(() => undefined), e.listener]));
  }
}
