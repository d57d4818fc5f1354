// The rebuilder's HTTP API as a Fastify instance that does not listen: the
// daemon (daemon.ts) listens with it, the tests inject requests into it. Every
// request and response goes through the TypeBox schemas of src/api/schemas.ts,
// which also make the OpenAPI document at /api/v1/openapi.json. Routes live in
// one file per area; errors are JSON `{error, message}` everywhere (errors.ts).
import { Ajv } from 'ajv';
import type { Readable } from 'node:stream';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { SourceRunner } from '../rebuild/sources/runner.js';
import type { Store } from '../store/index.js';
import { Auth } from './auth.js';
import { blobRoutes } from './blobs.js';
import type { App, RouteDeps } from './context.js';
import { installErrorHandling } from './errors.js';
import { metricsRoutes } from './metrics.js';
import { packageRoutes } from './packages.js';
import { queueRoutes } from './queue.js';
import { rebuilderdRoutes } from './rebuilderd.js';
import { resultRoutes } from './results.js';
import { sourceRoutes } from './sources.js';
import { statusRoutes } from './status.js';
import { workerProtocolRoutes } from './worker-protocol.js';
import { workerRoutes } from './workers.js';
import { installSecurityHeaders, type WebOptions, webApiRoutes, webDeps, webRoutes } from './web/plugin.js';

export interface ServerConfig {
  store: Store;
  /** The operator's token (admin endpoints; at least 16 characters). */
  adminToken: string;
  /** Largest blob upload, bytes (default 2 GiB). */
  uploadLimitBytes?: number | undefined;
  /** Largest package sync body, bytes (default 512 MiB). */
  syncLimitBytes?: number | undefined;
  /** Largest other JSON body (reports), bytes (default 16 MiB). */
  jsonLimitBytes?: number | undefined;
  /** A worker heard from within this long counts as online (default: the lease length). */
  onlineMs?: number | undefined;
  /** Fastify's logger option (default off). */
  logger?: FastifyServerOptions['logger'];
  /** The clock, milliseconds (tests pass their own). */
  now?: (() => number) | undefined;
  /** The website's settings (public URL, unsubscribe key, cache time). */
  web?: WebOptions | undefined;
  /** The configured sources (list, sync on demand, webhooks). */
  sources?: SourceRunner | undefined;
}

export const API_VERSION = '1.0.0';

export function buildServer(config: ServerConfig): FastifyInstance {
  const now = config.now ?? Date.now;
  const deps: RouteDeps = {
    store: config.store,
    auth: new Auth(config.store, config.adminToken),
    uploadLimitBytes: config.uploadLimitBytes ?? 2 * 1024 ** 3,
    syncLimitBytes: config.syncLimitBytes ?? 512 * 1024 ** 2,
    onlineMs: config.onlineMs ?? config.store.queueConfig.leaseMs,
    now,
    sources: config.sources,
  };
  const app = Fastify({
    logger: config.logger ?? false,
    bodyLimit: config.jsonLimitBytes ?? 16 * 1024 ** 2,
    // A malformed path segment or query is a 400, not a crash.
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandling(app);
  // Bodies are validated as sent: coercing types there turns a null into "" or a 0 into null
  // when a schema allows both. Query strings and path parameters arrive as text and are coerced.
  const strictAjv = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: true, allErrors: false, strict: false });
  const coercingAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false, strict: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema));
  installSecurityHeaders(app);

  // Uploads: the raw request stream goes to the handler, which streams it into the blob store.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload as Readable));

  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'reprove rebuilder API', version: API_VERSION, description: 'Packages, results, queue, workers and blobs of a reprove daemon.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the admin token, or a worker token' } } },
    },
  });
  void app.register(async (instance) => {
    const routes: App = instance.withTypeProvider<TypeBoxTypeProvider>();
    for (const add of [statusRoutes, packageRoutes, resultRoutes, queueRoutes, workerRoutes, workerProtocolRoutes, blobRoutes, rebuilderdRoutes, metricsRoutes, sourceRoutes]) add(routes, deps);
    routes.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => instance.swagger());
    const web = webDeps(deps, config.web);
    webApiRoutes(routes, web);
    webRoutes(routes, web);
  });
  return app;
}
