// The website: server-rendered pages (hono/jsx, escaped by default), the one
// stylesheet, badges, feeds and the sandboxed log and report URLs, registered on
// the API's Fastify instance by buildServer, plus the JSON endpoints of the
// pages that the API did not have (overview, causes, events). Pages answer errors
// as HTML; every response gets the security headers (security.ts) unless it set
// its own policy (the sandboxed report, the badge).
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { App, RouteDeps } from '../context.js';
import { errorAnswer } from '../errors.js';
import { badgeRoutes } from './badge.js';
import { causeApi, causeRoutes } from './causes.js';
import type { WebDeps } from './context.js';
import { eventApi, feedRoutes } from './feeds.js';
import { errorPage } from './error-page.js';
import { mailRoutes } from './mail-routes.js';
import { overviewApi, overviewRoutes } from './overview.js';
import { packageByNameRoutes, packageRoutes } from './package.js';
import { listRoutes } from './packages.js';
import { queueRoutes } from './queue.js';
import { PageCache } from './page-cache.js';
import { Cached, causeRanking, overview } from './reads.js';
import { reportRoutes } from './report.js';
import { SECURITY_HEADERS } from './security.js';
import { STYLESHEET } from './style.js';

export interface WebOptions {
  /** The site's public URL, for feeds and mail (default: the request's host). */
  publicUrl?: string | undefined;
  /** Key of the unsubscribe links (default: random per process, so links die with it: configure one). */
  unsubscribeSecret?: string | undefined;
  /** How long the overview and the cause ranking are reused, milliseconds (default 10 s). */
  cacheMs?: number | undefined;
}

export function webDeps(deps: RouteDeps, options: WebOptions = {}): WebDeps {
  const ttl = options.cacheMs ?? 10_000;
  return {
    ...deps,
    overview: new Cached(ttl, () => overview(deps.store, deps.now()), deps.now),
    causes: new Cached(ttl, () => causeRanking(deps.store), deps.now),
    pages: new PageCache(),
    publicUrl: options.publicUrl,
    unsubscribeSecret: options.unsubscribeSecret ?? randomBytes(32).toString('hex'),
  };
}

/** Security headers on every response of the server (API included) that did not set its own policy. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) reply.header(k, v);
    return payload;
  });
}

const ETAG_CSS = `"${Buffer.from(STYLESHEET).length.toString(16)}-${createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 16)}"`;

/** The pages, on their own encapsulated instance (HTML errors). */
export function webRoutes(app: App, web: WebDeps): void {
  void app.register(async (instance) => {
    const pages = instance as unknown as App;
    pages.setErrorHandler(async (err, request, reply) => {
      const answer = errorAnswer(err);
      if (answer.status >= 500) request.log.error({ err }, 'page failed');
      return reply
        .code(answer.status)
        .type('text/html; charset=utf-8')
        .send(await errorPage(answer.status, answer.body.message));
    });
    pages.get('/static/style.css', { schema: { hide: true } }, async (request, reply) => {
      reply.header('cache-control', 'public, max-age=3600');
      reply.header('etag', ETAG_CSS);
      if (request.headers['if-none-match'] === ETAG_CSS) return reply.code(304).send();
      return reply.type('text/css; charset=utf-8').send(STYLESHEET);
    });
    for (const add of [overviewRoutes, listRoutes, packageRoutes, packageByNameRoutes, causeRoutes, queueRoutes, reportRoutes, badgeRoutes, feedRoutes, mailRoutes]) add(pages, web);
  });
}

/** The pages' data as JSON under /api/v1 (JSON errors, like the rest of the API). */
export function webApiRoutes(app: App, web: WebDeps): void {
  for (const add of [overviewApi, causeApi, eventApi]) add(app, web);
}
