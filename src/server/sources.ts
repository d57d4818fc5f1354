// Sources: the list of configured sources with their last sync, a sync run on
// demand (admin), builds submitted by hand (admin) and signed webhooks from
// other build systems. Submissions and webhooks add builds without anything
// else leaving the archive; their bodies go through the same schemas as a sync.
import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { SourceInfo, SourceName, SourceSyncOutcome, SubmitRequest, SubmitResponse, WebhookBody, type SyncPackage } from '../api/schemas.js';
import type { SourceRunner, SourceState } from '../rebuild/sources/runner.js';
import { packageInput } from '../rebuild/sources/source.js';
import { isWebhook } from '../rebuild/sources/webhook.js';
import type { Store } from '../store/index.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { HttpError } from './errors.js';

function info(s: SourceState): SourceInfo {
  const o = s.lastOutcome;
  return {
    ...s,
    lastOutcome: o ? { packages: o.packages, skipped: o.skipped, added: o.summary?.added ?? 0, leftArchive: o.summary?.left ?? 0, queued: o.summary?.enqueued ?? 0, ms: o.ms } : null,
  };
}

async function addBuilds(store: Store, target: { distribution: string; suite: string; architecture: string }, packages: SyncPackage[], priority?: number) {
  const s = await store.syncPackages({ ...target, mode: 'partial', packages: packages.map(packageInput), ...(priority !== undefined ? { priority } : {}) });
  return { added: s.added + s.returned, queued: s.enqueued, superseded: s.superseded };
}

export function sourceRoutes(app: App, { store, auth, sources }: RouteDeps & { sources?: SourceRunner | undefined }): void {
  app.get('/api/v1/sources', { schema: { tags: ['sources'], summary: 'The configured sources and their last sync', response: { 200: Type.Array(SourceInfo) } } }, async () => (sources?.list() ?? []).map(info));

  app.post(
    '/api/v1/sources/:name/sync',
    { schema: { tags: ['sources', 'admin'], summary: 'Sync (or catch up) a source now (admin)', params: SourceName, response: { 200: SourceSyncOutcome, ...errorsOf(400, 401, 403, 404, 409) }, security: [{ bearer: [] }] } },
    async (request) => {
      await auth.admin(request, 'sync a source');
      const { name } = request.params;
      if (!sources?.source(name)) throw new HttpError(404, 'not-found', `Cannot sync source ${name}: no such source in the daemon's configuration`);
      let o;
      try {
        o = await sources.sync(name);
      } catch (e) {
        throw new HttpError(409, 'conflict', `Cannot sync source ${name}: ${(e as Error).message}`);
      }
      return { packages: o.packages, skipped: o.skipped, added: o.summary?.added ?? 0, leftArchive: o.summary?.left ?? 0, queued: o.summary?.enqueued ?? 0, ms: o.ms };
    },
  );

  app.post(
    '/api/v1/submit',
    { schema: { tags: ['sources', 'admin'], summary: 'Add builds by hand (admin); nothing else leaves the archive', body: SubmitRequest, response: { 200: SubmitResponse, ...errorsOf(400, 401, 403) }, security: [{ bearer: [] }] } },
    async (request) => {
      await auth.admin(request, 'submit builds');
      const b = request.body;
      return addBuilds(store, b, b.packages, b.priority);
    },
  );

  // The webhook reads its body raw: the signature is over the bytes as sent.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 << 20 }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/v1/webhooks/:name',
      { schema: { tags: ['sources'], summary: 'Builds from another build system, signed with the webhook secret (HMAC-SHA256)', params: SourceName, response: { 200: SubmitResponse, ...errorsOf(400, 401, 404) } } },
      async (request) => {
        const { name } = request.params as { name: string };
        const source = sources?.source(name);
        if (!isWebhook(source)) throw new HttpError(404, 'not-found', `Cannot accept webhook ${name}: no such webhook in the daemon's configuration`);
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const header = (h: string) => {
          const v = request.headers[h];
          return typeof v === 'string' ? v : undefined;
        };
        const refused = source.verify(header('x-reprove-timestamp'), header('x-reprove-signature'), raw);
        if (refused) {
          request.log.warn(`webhook ${name} refused: ${refused}`);
          throw new HttpError(401, 'unauthorized', `Cannot accept webhook ${name}: ${refused}`);
        }
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (e) {
          throw new HttpError(400, 'bad-request', `Cannot accept webhook ${name}: the body is not JSON (${(e as Error).message})`);
        }
        if (!Value.Check(WebhookBody, body)) {
          const first = Value.Errors(WebhookBody, body).First();
          throw new HttpError(400, 'bad-request', `Cannot accept webhook ${name}: ${first?.path || '/'} ${first?.message ?? 'does not match the schema'}`);
        }
        return addBuilds(store, source.target, body.packages);
      },
    );
  });
}
