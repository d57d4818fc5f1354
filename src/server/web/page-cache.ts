// Rendered pages kept by URL while what they show cannot have changed. The
// package list's pages are keyed by the store's list stamp (Store.listStamp: it
// changes with every sync and result of this store at once, with another
// process's commit at once on SQLite and within 2 s on PostgreSQL), so a page
// served from here is the page a fresh render would give. Concurrent requests
// for one URL share one render, and every render gets an ETag of its own (this
// process's random prefix and a count: no hashing of the page): a browser that
// has that render gets a 304 without the body.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendHtml } from './context.js';

export interface RenderedPage {
  html: string;
  etag: string;
}

export class PageCache {
  private readonly entries = new Map<string, { stamp: string; page: Promise<RenderedPage> }>();
  /** Unlike any other process's, so an ETag never names two different pages, even across restarts. */
  private readonly prefix = randomBytes(9).toString('base64url');
  private renders = 0;
  constructor(private readonly max = 500) {}

  /** The page at `key` rendered while the stamp was `stamp` (take the stamp before reading what the page shows). */
  get(key: string, stamp: string, render: () => Promise<string>): Promise<RenderedPage> {
    const hit = this.entries.get(key);
    this.entries.delete(key);
    if (hit && hit.stamp === stamp) {
      this.entries.set(key, hit); // the most recently used last
      return hit.page;
    }
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    const etag = `"${this.prefix}-${(++this.renders).toString(36)}"`;
    const page = render().then((html) => ({ html, etag }));
    const entry = { stamp, page };
    this.entries.set(key, entry);
    page.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return page;
  }
}

/** Sends a page with its ETag, or 304 when the request already has it; browsers ask again each time (no-cache). */
export function sendPage(request: FastifyRequest, reply: FastifyReply, page: RenderedPage): FastifyReply {
  reply.header('etag', page.etag);
  reply.header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === page.etag) return reply.code(304).send();
  return sendHtml(reply, page.html);
}
