// What every page module is handed: the API's route dependencies plus the
// website's caches and settings.
import type { FastifyReply } from 'fastify';
import type { CauseSummary, OverviewResponse } from '../../api/schemas.js';
import type { RouteDeps } from '../context.js';
import type { PageCache } from './page-cache.js';
import type { Cached } from './reads.js';

export interface WebDeps extends RouteDeps {
  overview: Cached<OverviewResponse>;
  causes: Cached<CauseSummary[]>;
  /** Rendered package list pages, kept while the list does not change. */
  pages: PageCache;
  /** The site's public base URL (feeds and mail need absolute links); default: from the request's Host. */
  publicUrl: string | undefined;
  /** Signs unsubscribe links. */
  unsubscribeSecret: string;
}

/** Sends a rendered page. */
export function sendHtml(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** The base URL for absolute links: the configured one, else what the request came to. */
export function baseUrlOf(deps: WebDeps, request: { protocol: string; host: string }): string {
  return (deps.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
}
