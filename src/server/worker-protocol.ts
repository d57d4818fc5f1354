// What a worker says to the daemon, with its own token: register (at start and
// after reconnecting), claim (204 when nothing matches its tags), heartbeat
// (extends the lease, or says stop), report (fenced by the lease token: a late
// report after another result is 409 and stores nothing; the same report sent
// twice is stored once).
import { Type } from '@sinclair/typebox';
import { ClaimedJob, HeartbeatRequest, HeartbeatResponse, RegisterRequest, ReportRequest, ReportResponse, WorkerInfo } from '../api/schemas.js';
import type { ReportInput } from '../store/index.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { claimedJob, workerInfo } from './map.js';

const JobParams = Type.Object({ jobId: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const worker = { tags: ['worker protocol'], security: [{ bearer: [] }] };

/** The id a cause is known by: the engine's findings carry `id`; a bare string is an id already. */
function causeId(c: unknown): string | null {
  if (typeof c === 'string') return c;
  if (c !== null && typeof c === 'object' && typeof (c as { id?: unknown }).id === 'string') return (c as { id: string }).id;
  return null;
}

export function workerProtocolRoutes(app: App, { store, auth, onlineMs, now }: RouteDeps): void {
  app.post('/api/v1/worker/register', { schema: { ...worker, summary: 'A worker announces its version, tags and free disk', body: RegisterRequest, response: { 200: WorkerInfo, ...errorsOf(400, 401, 403) } } }, async (request) => {
    const w = await auth.worker(request, 'register a worker');
    const b = request.body;
    const updated = await store.updateWorkerStatus(w.id, { version: b.version, tags: b.tags, freeDiskBytes: b.freeDiskBytes });
    return workerInfo(updated, now(), onlineMs);
  });

  app.post(
    '/api/v1/worker/claim',
    { schema: { ...worker, summary: "The next job matching the worker's tags, leased to it; 204 when there is none", body: Type.Optional(Type.Object({})), response: { 200: ClaimedJob, 204: Type.Null(), ...errorsOf(400, 401, 403) } } },
    async (request, reply) => {
      const w = await auth.worker(request, 'claim a job');
      const claimed = await store.claim(w.id);
      if (!claimed) return reply.code(204).send(null);
      return claimedJob(claimed);
    },
  );

  app.post(
    '/api/v1/worker/jobs/:jobId/heartbeat',
    { schema: { ...worker, summary: "Extends the job's lease, or tells the worker to stop", params: JobParams, body: HeartbeatRequest, response: { 200: HeartbeatResponse, ...errorsOf(400, 401, 403, 404) } } },
    async (request) => {
      const w = await auth.worker(request, 'take a heartbeat');
      const answer = await store.heartbeat(request.params.jobId, request.body.leaseToken);
      if (request.body.freeDiskBytes !== undefined) await store.updateWorkerStatus(w.id, { freeDiskBytes: request.body.freeDiskBytes });
      return answer.continue ? { continue: true, leaseExpiresAt: Number(answer.leaseExpiresAt) } : { continue: false, leaseExpiresAt: null };
    },
  );

  app.post(
    '/api/v1/worker/jobs/:jobId/report',
    { schema: { ...worker, summary: 'The outcome of the attempt holding the lease token', params: JobParams, body: ReportRequest, response: { 200: ReportResponse, ...errorsOf(400, 401, 403, 404, 409) } } },
    async (request) => {
      await auth.worker(request, 'report a result');
      const b = request.body;
      const input: ReportInput = {
        verdict: b.verdict,
        ...(b.verdict === 'ERROR' && b.failureClass !== undefined ? { failureClass: b.failureClass } : {}),
        exitCode: b.exitCode ?? null,
        signal: b.signal ?? null,
        message: b.message ?? null,
        ignored: b.ignored,
        issues: [...new Set(b.causes.map(causeId).filter((id): id is string => id !== null))],
        // Seconds in the API, whole milliseconds in the store.
        timings: Object.fromEntries(Object.entries(b.timings).map(([k, v]) => [k, Math.max(0, Math.round(v * 1000))])),
        logBlob: b.log ?? null,
        reportJsonBlob: b.reportJson ?? null,
        reportHtmlBlob: b.reportHtml ?? null,
        artifacts: b.artifacts,
        ...(b.environment ? { environment: b.environment } : {}),
      };
      const outcome = await store.report(request.params.jobId, b.leaseToken, input);
      return { resultId: outcome.result.id, final: outcome.result.final, requeued: !outcome.result.final && outcome.job.status === 'queued' };
    },
  );
}
