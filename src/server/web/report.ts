// A result's build log and diff report, each on its own URL, streamed whole from
// its blob (never cut): the report is reprove's own HTML, escaped when the engine
// made it, and is still sent under a sandboxing CSP (no script, unique origin,
// only its own inline stylesheet), as the log is sent as plain text with nosniff.
import { NotFoundError } from '../../store/index.js';
import { type App, IdParams } from '../context.js';
import type { WebDeps } from './context.js';
import { SANDBOX_CSP } from './security.js';

export function reportRoutes(app: App, { store }: WebDeps): void {
  const serve = (which: 'log' | 'report') =>
    async function (this: unknown, request: { params: unknown }, reply: import('fastify').FastifyReply) {
      const { id } = request.params as { id: number };
      const r = await store.getResult(id);
      const blob = which === 'log' ? r.logBlob : r.reportHtmlBlob;
      if (blob === null) throw new NotFoundError(`Cannot show the ${which === 'log' ? 'build log' : 'diff report'} of result ${id}: none was stored`);
      const stream = await store.blobs.get(blob);
      reply.header('content-type', which === 'log' ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8');
      reply.header('content-security-policy', SANDBOX_CSP);
      reply.header('cache-control', 'public, max-age=86400');
      reply.header('etag', `"${blob}"`);
      return reply.send(stream);
    };
  app.get('/results/:id/log.txt', { schema: { hide: true, params: IdParams } }, serve('log'));
  app.get('/results/:id/report.html', { schema: { hide: true, params: IdParams } }, serve('report'));
}
