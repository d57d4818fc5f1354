// Workers as the operator sees them (public list; admin add and remove). Adding
// one answers its token once; the daemon keeps only its hash.
import { Type } from '@sinclair/typebox';
import { AddWorkerRequest, AddWorkerResponse, WorkerInfo } from '../api/schemas.js';
import { NotFoundError } from '../store/index.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { workerInfo } from './map.js';

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) });

export function workerRoutes(app: App, { store, auth, onlineMs, now }: RouteDeps): void {
  app.get('/api/v1/workers', { schema: { tags: ['workers'], summary: 'Every worker with its last heartbeat and current job', response: { 200: Type.Array(WorkerInfo) } } }, async () => {
    const t = now();
    return (await store.listWorkers()).map((w) => workerInfo(w, t, onlineMs));
  });

  app.post(
    '/api/v1/workers',
    { schema: { tags: ['workers', 'admin'], summary: 'Add a worker; its token is answered this once (admin)', security: [{ bearer: [] }], body: AddWorkerRequest, response: { 200: AddWorkerResponse, ...errorsOf(400, 401, 403, 409) } } },
    async (request) => {
      await auth.admin(request, 'add a worker');
      const added = await store.addWorker(request.body.name, { architectures: [], backends: [] });
      return { name: added.worker.name, token: added.token };
    },
  );

  app.delete(
    '/api/v1/workers/:name',
    { schema: { tags: ['workers', 'admin'], summary: 'Remove a worker (admin); its running job returns to the queue when the lease expires', security: [{ bearer: [] }], params: NameParams, response: { 204: Type.Null(), ...errorsOf(400, 401, 403, 404) } } },
    async (request, reply) => {
      await auth.admin(request, 'remove a worker');
      const w = (await store.listWorkers()).find((x) => x.name === request.params.name);
      if (!w) throw new NotFoundError(`Cannot remove worker ${request.params.name}: no such worker`);
      await store.removeWorker(w.id);
      return reply.code(204).send(null);
    },
  );
}
