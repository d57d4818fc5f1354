// Atom feeds of regressions (reproduced before, not now) and of fixes, per
// distribution and per maintainer, written with a small element builder that
// escapes every text and attribute. JSON: /api/v1/events.
import { Type } from '@sinclair/typebox';
import { FeedEventList, FeedEventQuery, type FeedEvent } from '../../api/schemas.js';
import { type App, errorsOf } from '../context.js';
import { type WebDeps, baseUrlOf } from './context.js';
import { VERDICT_TEXT } from './layout.js';
import { events } from './reads.js';

type Node = { name: string; attrs: Record<string, string>; children: (Node | string)[] };

const el = (name: string, attrs: Record<string, string>, ...children: (Node | string)[]): Node => ({ name, attrs, children });

// XML 1.0 forbids most C0 controls even escaped: they are dropped.
const escapeXml = (s: string) => s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function serialise(n: Node | string): string {
  if (typeof n === 'string') return escapeXml(n);
  const attrs = Object.entries(n.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  return n.children.length === 0 ? `<${n.name}${attrs}/>` : `<${n.name}${attrs}>${n.children.map(serialise).join('')}</${n.name}>`;
}

export type FeedKind = 'regression' | 'fix';

export function atomFeed(o: { id: string; title: string; self: string; base: string; events: FeedEvent[]; updated: number; kind: FeedKind }): string {
  const entries = o.events.map((e) => {
    const p = e.package;
    const href = `${o.base}/packages/${p.id}`;
    const what = e.kind === 'regression' ? 'no longer reproduces' : 'reproduces again';
    const title = `${p.name} ${p.version} ${what} (${p.distribution}/${p.suite}/${p.architecture})`;
    const summary = `${p.name} ${p.version} is ${VERDICT_TEXT[e.verdict] ?? e.verdict}; ${e.previousVersion} was ${VERDICT_TEXT[e.previousVerdict] ?? e.previousVerdict}.`;
    return el(
      'entry',
      {},
      el('id', {}, `${o.base}/results/${e.resultId}#${e.kind}`),
      el('title', { type: 'text' }, title),
      el('updated', {}, new Date(e.at).toISOString()),
      el('link', { rel: 'alternate', type: 'text/html', href }),
      ...(p.maintainer ? [el('author', {}, el('name', {}, p.maintainer))] : []),
      el('category', { term: e.verdict }),
      el('summary', { type: 'text' }, summary),
    );
  });
  const feed = el(
    'feed',
    { xmlns: 'http://www.w3.org/2005/Atom' },
    el('id', {}, o.id),
    el('title', { type: 'text' }, o.title),
    el('updated', {}, new Date(o.events[0]?.at ?? o.updated).toISOString()),
    el('link', { rel: 'self', type: 'application/atom+xml', href: o.self }),
    el('link', { rel: 'alternate', type: 'text/html', href: `${o.base}/` }),
    el('author', {}, el('name', {}, 'reprove')),
    el('generator', {}, 'reprove'),
    ...entries,
  );
  return `<?xml version="1.0" encoding="utf-8"?>\n${serialise(feed)}\n`;
}

const KIND: Record<string, FeedKind> = { 'regressions.atom': 'regression', 'fixes.atom': 'fix' };

export function feedRoutes(app: App, deps: WebDeps): void {
  const send = async (request: { protocol: string; host: string; url: string }, reply: import('fastify').FastifyReply, kind: FeedKind, scope: { distribution?: string; maintainer?: string }, what: string) => {
    const base = baseUrlOf(deps, request);
    const list = await events(deps.store, { kind, ...scope, limit: 100 });
    const self = `${base}${request.url.split('?')[0]}`;
    reply.header('content-type', 'application/atom+xml; charset=utf-8');
    reply.header('cache-control', 'public, max-age=300');
    return reply.send(atomFeed({ id: self, self, base, title: `${kind === 'regression' ? 'Regressions' : 'Fixes'} in ${what}`, events: list, updated: deps.now(), kind }));
  };
  app.get('/feeds/:distribution/:file', { schema: { hide: true, params: Type.Object({ distribution: Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._+~-]*$' }), file: Type.String({ maxLength: 32 }) }) } }, async (request, reply) => {
    const { distribution, file } = request.params as { distribution: string; file: string };
    const kind = KIND[file];
    if (!kind) return reply.code(404).send({ error: 'not-found', message: `Cannot find feed ${JSON.stringify(file)}: the feeds are regressions.atom and fixes.atom` });
    return send(request, reply, kind, { distribution }, distribution);
  });
  app.get('/feeds/maintainer/:file', { schema: { hide: true, querystring: Type.Object({ maintainer: Type.String({ minLength: 1, maxLength: 512 }) }) } }, async (request, reply) => {
    const kind = KIND[(request.params as { file: string }).file];
    if (!kind) return reply.code(404).send({ error: 'not-found', message: 'Cannot find this feed: the feeds are regressions.atom and fixes.atom' });
    const maintainer = (request.query as { maintainer: string }).maintainer;
    return send(request, reply, kind, { maintainer }, `packages of ${maintainer}`);
  });
}

export function eventApi(app: App, deps: WebDeps): void {
  app.get('/api/v1/events', { schema: { tags: ['website'], summary: 'Regressions and fixes, newest first', querystring: FeedEventQuery, response: { 200: FeedEventList, ...errorsOf(400) } } }, async (request) => {
    const q = request.query;
    return events(deps.store, { kind: q.kind, distribution: q.distribution, maintainer: q.maintainer, limit: q.limit ?? 100, beforeResultId: q.before });
  });
}
