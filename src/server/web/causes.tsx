// Known-cause pages: every detector of src/explain/ with its description and fix,
// ranked by the number of package versions in the archive whose newest result
// names it (as Debian's issue pages are); one page per cause lists those
// packages. JSON: /api/v1/causes and /api/v1/causes/:id.
import { Type } from '@sinclair/typebox';
import type { FC } from 'hono/jsx';
import { CauseDetail, CauseList, type CauseSummary, type PackageSummary } from '../../api/schemas.js';
import { NotFoundError } from '../../store/index.js';
import { type App, errorsOf } from '../context.js';
import { packageSummary } from '../map.js';
import { type WebDeps, sendHtml } from './context.js';
import { Layout, PackageLink, Verdict, qs, render } from './layout.js';
import { PAGE_SIZE } from './packages.js';
import { describeCause } from './reads.js';
import { visible } from './security.js';

export const CausesPage: FC<{ causes: CauseSummary[] }> = ({ causes }) => (
  <Layout title="Known causes" json="/api/v1/causes">
    <h1>Known causes</h1>
    <p>What makes builds differ, as reprove's detectors recognise it, with how to fix each; ranked by the package versions whose newest result names it.</p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">cause</th>
            <th scope="col" class="num">
              packages
            </th>
            <th scope="col" class="wide-only">
              fix
            </th>
          </tr>
        </thead>
        <tbody>
          {causes.map((c) => (
            <tr>
              <td>
                <a href={`/causes/${encodeURIComponent(c.id)}`}>{visible(c.title)}</a>
                <br />
                <span class="muted mono">{visible(c.id)}</span>
              </td>
              <td class="num">{c.packages}</td>
              <td class="wide-only">{visible(c.fix)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  </Layout>
);

export const CausePage: FC<{ cause: CauseSummary; items: PackageSummary[]; total: number; page: number }> = ({ cause, items, total, page }) => {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <Layout title={cause.title} json={`/api/v1/causes/${encodeURIComponent(cause.id)}`}>
      <h1>{visible(cause.title)}</h1>
      <p class="mono muted">{visible(cause.id)}</p>
      <h2>Fix</h2>
      <p>{visible(cause.fix)}</p>
      <h2>Found in {total} package versions</h2>
      <ul>
        {items.map((p) => (
          <li>
            <PackageLink pkg={p} withVersion /> <Verdict verdict={p.verdict} /> <span class="muted">{`${p.distribution} / ${p.suite} / ${p.architecture}`}</span>
          </li>
        ))}
      </ul>
      {pages > 1 ? (
        <nav class="pages" aria-label="Pages">
          {page > 1 ? <a href={`/causes/${encodeURIComponent(cause.id)}${qs({ page: page - 1 })}`}>previous</a> : null}
          <span>
            page {page} of {pages}
          </span>
          {page < pages ? <a href={`/causes/${encodeURIComponent(cause.id)}${qs({ page: page + 1 })}`}>next</a> : null}
        </nav>
      ) : null}
    </Layout>
  );
};

const CauseParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._+~-]*$' }) });

async function causeOf(deps: WebDeps, id: string, limit: number, offset: number) {
  const ranked = await deps.causes.get();
  const cause = ranked.find((c) => c.id === id) ?? (describeCause(id).title !== id ? { ...describeCause(id), packages: 0 } : undefined);
  if (!cause) throw new NotFoundError(`Cannot find known cause ${JSON.stringify(id)}: no detector has this id`);
  const list = await deps.store.listPackages({ issue: id }, { limit, offset });
  return { cause, list };
}

export function causeRoutes(app: App, deps: WebDeps): void {
  app.get('/causes', { schema: { hide: true } }, async (_request, reply) => sendHtml(reply, await render(<CausesPage causes={await deps.causes.get()} />)));
  app.get('/causes/:id', { schema: { hide: true, params: CauseParams } }, async (request, reply) => {
    const page = Math.min(Math.max(1, Number.parseInt(String((request.query as Record<string, unknown>)['page'] ?? '1'), 10) || 1), 100_000);
    const { cause, list } = await causeOf(deps, (request.params as { id: string }).id, PAGE_SIZE, (page - 1) * PAGE_SIZE);
    return sendHtml(reply, await render(<CausePage cause={cause} items={list.items.map(packageSummary)} total={list.total} page={page} />));
  });
}

export function causeApi(app: App, deps: WebDeps): void {
  app.get('/api/v1/causes', { schema: { tags: ['website'], summary: 'The known causes, ranked by the packages they are found in', response: { 200: CauseList } } }, async () => deps.causes.get());
  app.get(
    '/api/v1/causes/:id',
    {
      schema: {
        tags: ['website'],
        summary: 'One known cause and the package versions whose newest result names it',
        params: CauseParams,
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })), offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })) }),
        response: { 200: CauseDetail, ...errorsOf(400, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const offset = request.query.offset ?? 0;
      const { cause, list } = await causeOf(deps, request.params.id, limit, offset);
      return { cause, packages: { total: list.total, limit, offset, items: list.items.map(packageSummary) } };
    },
  );
}
