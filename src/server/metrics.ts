// /metrics in Prometheus' text format (0.0.4): queue depth per distribution,
// architecture and status, results per verdict, package versions per latest
// verdict, builds ended in the last hour, and per worker its last heartbeat and
// current job.
import { type App, type RouteDeps } from './context.js';
import { buildsSince, queueDepths, resultCounts } from './store-reads.js';

/** A label value escaped as the format wants: backslash, double quote and newline. */
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string => `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

class Exposition {
  private readonly lines: string[] = [];
  metric(name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`${name}${Object.keys(l).length ? labels(l) : ''} ${v}`);
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function metricsRoutes(app: App, { store, now, onlineMs }: RouteDeps): void {
  app.get('/metrics', { schema: { tags: ['metrics'], summary: 'Prometheus metrics (text format 0.0.4)' } }, async (_request, reply) => {
    const t = now();
    const [depths, results, counts, builds, workers] = await Promise.all([queueDepths(store), resultCounts(store), store.packageCounts(), buildsSince(store, t - 3_600_000), store.listWorkers()]);
    const out = new Exposition();
    out.metric('reprove_queue_jobs', 'gauge', 'Jobs queued or running, per distribution and architecture.', depths.map((d) => [{ distribution: d.distribution, architecture: d.architecture, status: d.status }, d.count]));
    out.metric('reprove_results_total', 'counter', 'Results recorded, per verdict; final="false" for those whose job went back to the queue.', results.map((r) => [{ verdict: r.verdict, final: String(r.final) }, r.count]));
    out.metric('reprove_packages', 'gauge', 'Package versions in the archive, per latest verdict (UNKNOWN: none yet).', counts.map((c) => [{ distribution: c.distribution, suite: c.suite, architecture: c.architecture, verdict: c.verdict ?? 'UNKNOWN' }, c.count]));
    out.metric('reprove_builds_last_hour', 'gauge', 'Build attempts that ended in the last hour.', [[{}, builds]]);
    out.metric('reprove_worker_last_heartbeat_seconds', 'gauge', 'When each worker was last heard from (Unix time, seconds; 0 never).', workers.map((w) => [{ worker: w.name }, w.lastSeenAt === null ? 0 : Number(w.lastSeenAt) / 1000]));
    out.metric('reprove_worker_current_job', 'gauge', "Each worker's current job id (0: idle).", workers.map((w) => [{ worker: w.name }, w.currentJobId ?? 0]));
    out.metric('reprove_worker_online', 'gauge', 'Whether each worker was heard from recently.', workers.map((w) => [{ worker: w.name }, w.lastSeenAt !== null && t - Number(w.lastSeenAt) <= onlineMs ? 1 : 0]));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(out.toString());
  });
}
