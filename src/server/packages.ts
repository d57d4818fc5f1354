// Packages: the filtered, paged list, one package version with its build input
// and the history of every version of it, and the admin's sync.
import { PackageDetail, PackageList, PackageQuery, SyncRequest, SyncResponse, type ResultSummary } from '../api/schemas.js';
import { packageInput } from '../rebuild/sources/source.js';
import { type PackageFilter, type Verdict, decodeCursor, encodeCursor } from '../store/index.js';
import { type App, IdParams, type RouteDeps, errorsOf } from './context.js';
import { artifactRef, packageSummary, resultSummary } from './map.js';

export function packageRoutes(app: App, { store, auth, syncLimitBytes }: RouteDeps): void {
  app.get('/api/v1/packages', { schema: { tags: ['packages'], summary: 'Package versions, filtered and paged', querystring: PackageQuery, response: { 200: PackageList, ...errorsOf(400) } } }, async (request) => {
    const q = request.query;
    const filter: PackageFilter = {
      distribution: q.distribution,
      suite: q.suite,
      architecture: q.architecture,
      name: q.name,
      verdict: q.verdict === undefined ? undefined : q.verdict === 'UNKNOWN' ? 'none' : (q.verdict as Verdict),
      archive: q.inArchive === undefined ? 'in' : q.inArchive ? 'in' : 'left',
      issue: q.cause,
      maintainer: q.maintainer,
    };
    const limit = q.limit ?? 100;
    const offset = q.offset ?? 0;
    const page = await store.listPackages(filter, { limit, offset, after: q.after === undefined ? undefined : decodeCursor(q.after) }, q.sort);
    return { total: page.total, limit, offset, items: page.items.map(packageSummary), next: page.next === null ? null : encodeCursor(page.next) };
  });

  app.get('/api/v1/packages/:id', { schema: { tags: ['packages'], summary: 'One package version, its build input and the results of every version of it', params: IdParams, response: { 200: PackageDetail, ...errorsOf(400, 404) } } }, async (request) => {
    const pkg = await store.getPackage(request.params.id);
    const [versions, workers] = await Promise.all([store.packageHistory(pkg.distribution, pkg.suite, pkg.architecture, pkg.name), store.listWorkers()]);
    const workerNames = new Map(workers.map((w) => [w.id, w.name]));
    const history: ResultSummary[] = [];
    for (const v of versions) {
      for (const r of await store.listResults(v.id)) history.push(resultSummary(r, v, r.workerId === null ? null : (workerNames.get(r.workerId) ?? null)));
    }
    history.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
    return { package: packageSummary(pkg), artifacts: (pkg.input?.artifacts ?? []).map(artifactRef), backend: pkg.input?.backend ?? null, history };
  });

  app.post(
    '/api/v1/packages/sync',
    { bodyLimit: syncLimitBytes, schema: { tags: ['packages', 'admin'], summary: 'What a (distribution, suite, architecture) lists now (admin)', body: SyncRequest, response: { 200: SyncResponse, ...errorsOf(400, 401, 403, 413) }, security: [{ bearer: [] }] } },
    async (request) => {
      await auth.admin(request, 'sync packages');
      const b = request.body;
      const s = await store.syncPackages({
        distribution: b.distribution,
        suite: b.suite,
        architecture: b.architecture,
        packages: b.packages.map(packageInput),
      });
      return { added: s.added, unchanged: s.listed - s.added - s.changed - s.returned, leftArchive: s.left, queued: s.enqueued, superseded: s.superseded };
    },
  );
}
