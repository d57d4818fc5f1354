// The overview `reprove ctl status` prints: package versions per verdict, per
// (distribution, suite, architecture), the queue and the workers.
import { StatusResponse } from '../api/schemas.js';
import { type App, type RouteDeps } from './context.js';

export function statusRoutes(app: App, { store, now, onlineMs }: RouteDeps): void {
  app.get('/api/v1/status', { schema: { tags: ['statistics'], summary: 'Counts of packages, verdicts, queue and workers', response: { 200: StatusResponse } } }, async () => {
    const [counts, queued, running, workers] = await Promise.all([
      store.packageCounts(),
      store.listQueue({ statuses: ['queued'] }, { limit: 1 }),
      store.listQueue({ statuses: ['running'] }, { limit: 1 }),
      store.listWorkers(),
    ]);
    const verdicts: Record<string, number> = {};
    const per = new Map<string, { distribution: string; suite: string; architecture: string; packages: number; verdicts: Record<string, number> }>();
    let packages = 0;
    for (const c of counts) {
      const v = c.verdict ?? 'UNKNOWN';
      verdicts[v] = (verdicts[v] ?? 0) + c.count;
      packages += c.count;
      const key = `${c.distribution}\u0000${c.suite}\u0000${c.architecture}`;
      const d = per.get(key) ?? { distribution: c.distribution, suite: c.suite, architecture: c.architecture, packages: 0, verdicts: {} };
      d.packages += c.count;
      d.verdicts[v] = (d.verdicts[v] ?? 0) + c.count;
      per.set(key, d);
    }
    const t = now();
    return {
      packages,
      verdicts,
      queue: { queued: queued.total, running: running.total },
      workers: { total: workers.length, online: workers.filter((w) => w.lastSeenAt !== null && t - Number(w.lastSeenAt) <= onlineMs).length },
      distributions: [...per.values()],
    };
  });
}
