// One result with everything a page about it shows: the verdict, what the policy
// ignored, the known causes, timings, the blobs (log, reports, rebuilt artifacts)
// and how the build ended.
import { ResultDetail } from '../api/schemas.js';
import { type App, IdParams, type RouteDeps, errorsOf } from './context.js';
import { resultSummary } from './map.js';

export function resultRoutes(app: App, { store }: RouteDeps): void {
  app.get('/api/v1/results/:id', { schema: { tags: ['results'], summary: 'One result', params: IdParams, response: { 200: ResultDetail, ...errorsOf(400, 404) } } }, async (request) => {
    const r = await store.getResult(request.params.id);
    const [pkg, attempts] = await Promise.all([store.getPackage(r.packageId), store.listAttempts(r.jobId)]);
    const attempt = attempts.find((a) => a.id === r.attemptId);
    return {
      result: resultSummary(r, pkg, attempt?.workerName ?? null),
      distribution: pkg.distribution,
      suite: pkg.suite,
      architecture: pkg.architecture,
      exitCode: attempt?.exitCode ?? null,
      signal: attempt?.signal ?? null,
      message: r.message,
      ignored: Array.isArray(r.ignored) ? r.ignored : [],
      // The store keeps the causes' ids; their evidence and fixes are in the JSON report blob.
      causes: r.issues.map((id) => ({ id })),
      timings: Object.fromEntries(Object.entries(r.timings).map(([k, ms]) => [k, ms / 1000])),
      environment: r.environment ?? { reproduced: [], notReproduced: [] },
      log: r.logBlob,
      reportJson: r.reportJsonBlob,
      reportHtml: r.reportHtmlBlob,
      artifacts: r.artifacts,
      previousResultId: r.previousResultId,
    };
  });
}
