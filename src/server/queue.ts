// The queue: what is running and waiting (public), and the admin's push, retry
// and drop. Unknown jobs are 404, a retry of a running job or a drop of a
// finished one 409 with the reason, never a 500 (rebuilderd #164).
import { Type } from '@sinclair/typebox';
import { JobRef, PushRequest, QueueList } from '../api/schemas.js';
import { JOB_STATUSES } from '../store/index.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { queueEntry } from './map.js';

const QueueQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  all: Type.Optional(Type.Boolean({ description: 'also done, dropped and superseded jobs' })),
});

export function queueRoutes(app: App, { store, auth }: RouteDeps): void {
  app.get('/api/v1/queue', { schema: { tags: ['queue'], summary: 'Running jobs, then queued ones in claim order', querystring: QueueQuery, response: { 200: QueueList, ...errorsOf(400) } } }, async (request) => {
    const q = request.query;
    const page = await store.listQueue(q.all ? { statuses: [...JOB_STATUSES] } : {}, { limit: q.limit ?? 100, offset: q.offset ?? 0 });
    return { total: page.total, items: page.items.map(queueEntry) };
  });

  const admin = { tags: ['queue', 'admin'], security: [{ bearer: [] }], response: { 200: JobRef, ...errorsOf(400, 401, 403, 404, 409) } };
  app.post('/api/v1/queue/push', { schema: { ...admin, summary: 'Queue a package version (admin)', body: PushRequest } }, async (request) => {
    await auth.admin(request, 'push a job');
    const job = await store.push(request.body);
    return { jobId: job.id };
  });
  app.post('/api/v1/queue/retry', { schema: { ...admin, summary: "Queue a finished job's package version again (admin)", body: JobRef } }, async (request) => {
    await auth.admin(request, 'retry a job');
    const job = await store.retry(request.body.jobId);
    return { jobId: job.id };
  });
  app.post('/api/v1/queue/drop', { schema: { ...admin, summary: 'Take a queued or running job out of the queue (admin)', body: JobRef } }, async (request) => {
    await auth.admin(request, 'drop a job');
    const job = await store.drop(request.body.jobId);
    return { jobId: job.id };
  });
}
