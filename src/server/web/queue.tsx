// Queue and workers: what builds where, the queue's depth and expected wait per
// architecture (queued jobs × the mean build time of the last day ÷ the online
// workers that build for it), and each worker's health: last heartbeat, current
// job, version, free disk. JSON: /api/v1/queue and /api/v1/workers.
import type { FC } from 'hono/jsx';
import type { QueueEntry, WorkerInfo } from '../../api/schemas.js';
import type { App } from '../context.js';
import { queueEntry, workerInfo } from '../map.js';
import { dbOf } from '../store-reads.js';
import { type WebDeps, sendHtml } from './context.js';
import { Layout, Time, bytes, render } from './layout.js';
import { visible } from './security.js';

interface Depth {
  architecture: string;
  queued: number;
  running: number;
  meanBuildMs: number | null;
  workers: number;
  expectedWaitMs: number | null;
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

async function depths(deps: WebDeps, workers: WorkerInfo[]): Promise<Depth[]> {
  const db = dbOf(deps.store);
  const since = deps.now() - 86_400_000;
  const [counts, builds] = await Promise.all([
    db.selectFrom('jobs').select(['architecture', 'status']).select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['queued', 'running']).groupBy(['architecture', 'status']).execute(),
    db
      .selectFrom('build_attempts as a')
      .innerJoin('jobs as j', 'j.id', 'a.job_id')
      .select('j.architecture')
      .select((eb) => eb.fn.avg<number>(eb('a.ended_at', '-', eb.ref('a.started_at'))).as('mean'))
      .where('a.ended_at', '>=', since)
      .groupBy('j.architecture')
      .execute(),
  ]);
  const out = new Map<string, Depth>();
  const get = (architecture: string) => {
    let d = out.get(architecture);
    if (!d) out.set(architecture, (d = { architecture, queued: 0, running: 0, meanBuildMs: null, workers: 0, expectedWaitMs: null }));
    return d;
  };
  for (const c of counts) get(c.architecture)[c.status === 'queued' ? 'queued' : 'running'] += Number(c.n);
  for (const b of builds) get(b.architecture).meanBuildMs = b.mean === null ? null : Number(b.mean);
  for (const d of out.values()) {
    d.workers = workers.filter((w) => w.online && w.tags.architectures.includes(d.architecture)).length;
    d.expectedWaitMs = d.meanBuildMs === null || d.workers === 0 ? null : (d.queued * d.meanBuildMs) / d.workers;
  }
  return [...out.values()].sort((a, b) => (a.architecture < b.architecture ? -1 : 1));
}

export const QueuePage: FC<{ depth: Depth[]; jobs: QueueEntry[]; total: number }> = ({ depth, jobs, total }) => (
  <Layout title="Queue" json="/api/v1/queue">
    <h1>Queue</h1>
    <div class="table-wrap">
      <table>
        <caption class="sr-only">Depth per architecture</caption>
        <thead>
          <tr>
            <th scope="col">architecture</th>
            <th scope="col" class="num">
              queued
            </th>
            <th scope="col" class="num">
              building
            </th>
            <th scope="col" class="num">
              online workers
            </th>
            <th scope="col" class="num">
              mean build (24 h)
            </th>
            <th scope="col" class="num">
              expected wait
            </th>
          </tr>
        </thead>
        <tbody>
          {depth.map((d) => (
            <tr>
              <th scope="row">
                <bdi>{visible(d.architecture)}</bdi>
              </th>
              <td class="num">{d.queued}</td>
              <td class="num">{d.running}</td>
              <td class="num">{d.workers}</td>
              <td class="num">{duration(d.meanBuildMs)}</td>
              <td class="num">{d.queued === 0 ? 'none' : d.workers === 0 ? 'no worker online' : duration(d.expectedWaitMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {depth.length === 0 ? <p>The queue is empty.</p> : null}
    <h2>Building and next ({jobs.length} of {total})</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">package</th>
            <th scope="col">status</th>
            <th scope="col">worker</th>
            <th scope="col" class="num wide-only">
              priority
            </th>
            <th scope="col" class="wide-only">
              lease until / not before
            </th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr>
              <td>
                <a class="name" href={`/packages/${j.packageId}`}>
                  <bdi>{visible(j.name)}</bdi> <bdi class="muted">{visible(j.version)}</bdi>
                </a>
                <br />
                <span class="muted">{visible(`${j.distribution} / ${j.suite} / ${j.architecture}`)}</span>
              </td>
              <td>{j.status === 'running' ? 'building' : 'queued'}</td>
              <td class="mono">{j.worker ? <bdi>{visible(j.worker)}</bdi> : '—'}</td>
              <td class="num wide-only">{j.priority}</td>
              <td class="wide-only">
                <Time ms={j.status === 'running' ? j.leaseExpiresAt : j.runAfter} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </Layout>
);

export const WorkersPage: FC<{ workers: WorkerInfo[] }> = ({ workers }) => (
  <Layout title="Workers" json="/api/v1/workers">
    <h1>Workers</h1>
    {workers.length === 0 ? <p>No worker is registered.</p> : null}
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">worker</th>
            <th scope="col">health</th>
            <th scope="col">last heartbeat</th>
            <th scope="col">current job</th>
            <th scope="col" class="wide-only">
              builds for
            </th>
            <th scope="col" class="wide-only">
              version
            </th>
            <th scope="col" class="num">
              free disk
            </th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr>
              <td class="mono">
                <bdi>{visible(w.name)}</bdi>
              </td>
              <td>{w.online ? 'online' : 'offline'}</td>
              <td>
                <Time ms={w.lastHeartbeatAt} />
              </td>
              <td>{w.currentJobId === null ? 'idle' : `job ${w.currentJobId}`}</td>
              <td class="wide-only">
                {visible(w.tags.architectures.join(', '))}; {visible(w.tags.backends.join(', '))}
                {w.tags.memoryMb ? `; ${w.tags.memoryMb} MiB` : ''}
              </td>
              <td class="wide-only mono">{w.version ? <bdi>{visible(w.version)}</bdi> : '—'}</td>
              <td class="num">{bytes(w.freeDiskBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </Layout>
);

export function queueRoutes(app: App, deps: WebDeps): void {
  app.get('/queue', { schema: { hide: true } }, async (_request, reply) => {
    const workers = (await deps.store.listWorkers()).map((w) => workerInfo(w, deps.now(), deps.onlineMs));
    const [depth, page] = await Promise.all([depths(deps, workers), deps.store.listQueue({}, { limit: 100 })]);
    return sendHtml(reply, await render(<QueuePage depth={depth} jobs={page.items.map(queueEntry)} total={page.total} />));
  });
  app.get('/workers', { schema: { hide: true } }, async (_request, reply) => {
    const workers = (await deps.store.listWorkers()).map((w) => workerInfo(w, deps.now(), deps.onlineMs));
    return sendHtml(reply, await render(<WorkersPage workers={workers} />));
  });
}
