// The package list: search by name, filters (distribution, suite, architecture,
// verdict, known cause, maintainer, in the archive or left), an order and pages,
// all through the store's listPackages (indexed columns, one count and one page
// query), each rendered page kept until the list changes (page-cache.ts). A
// plain GET form: no JavaScript. JSON: /api/v1/packages, same filters.
import type { FC } from 'hono/jsx';
import type { PackageSummary } from '../../api/schemas.js';
import { detectors } from '../../explain/registry.js';
import { PACKAGE_SORTS, type PackageFilter, type PackageSort, VERDICTS, type Verdict } from '../../store/index.js';
import type { App } from '../context.js';
import { packageSummary } from '../map.js';
import type { WebDeps } from './context.js';
import { sendPage } from './page-cache.js';
import { Layout, PackageLink, Time, VERDICT_TEXT, Verdict as VerdictTag, qs, render } from './layout.js';
import { one, visible } from './security.js';

export const PAGE_SIZE = 50;

export interface ListQuery {
  name?: string | undefined;
  distribution?: string | undefined;
  suite?: string | undefined;
  architecture?: string | undefined;
  verdict?: string | undefined;
  cause?: string | undefined;
  maintainer?: string | undefined;
  archive?: string | undefined;
  sort?: string | undefined;
  page?: string | undefined;
}

const SORT_TEXT: Record<PackageSort, string> = { name: 'name, A to Z', '-name': 'name, Z to A', recent: 'newest result first', verdict: 'verdict' };

export function parseListQuery(raw: Record<string, unknown>): ListQuery {
  const q: ListQuery = {};
  for (const k of ['name', 'distribution', 'suite', 'architecture', 'verdict', 'cause', 'maintainer', 'archive', 'sort', 'page'] as const) q[k] = one(raw[k]);
  return q;
}

const Select: FC<{ name: string; label: string; value: string | undefined; options: { value: string; text: string }[]; any?: string }> = ({ name, label, value, options, any }) => (
  <label>
    {label}
    <select name={name} aria-label={label}>
      <option value="">{any ?? 'any'}</option>
      {options.map((o) => (
        <option value={o.value} selected={o.value === value}>
          {visible(o.text)}
        </option>
      ))}
    </select>
  </label>
);

export const ListPage: FC<{
  q: ListQuery;
  items: PackageSummary[];
  total: number;
  page: number;
  distributions: { distribution: string; suites: string[] }[];
  architectures: string[];
}> = ({ q, items, total, page, distributions, architectures }) => {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const link = (p: number) => `/packages${qs({ ...q, page: p === 1 ? undefined : p })}`;
  const suites = [...new Set(distributions.filter((d) => q.distribution === undefined || d.distribution === q.distribution).flatMap((d) => d.suites))].sort();
  return (
    <Layout title="Packages" json={`/api/v1/packages${qs({ distribution: q.distribution, suite: q.suite, architecture: q.architecture, name: q.name, verdict: q.verdict, cause: q.cause, maintainer: q.maintainer, sort: q.sort, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE })}`}>
      <h1>Packages</h1>
      <form class="filters" method="get" action="/packages" role="search" aria-label="Filter packages">
        <label>
          Name contains
          <input type="search" name="name" value={q.name ?? ''} maxlength={200} autocomplete="off" />
        </label>
        <Select name="distribution" label="Distribution" value={q.distribution} options={distributions.map((d) => ({ value: d.distribution, text: d.distribution }))} />
        <Select name="suite" label="Suite" value={q.suite} options={suites.map((s) => ({ value: s, text: s }))} />
        <Select name="architecture" label="Architecture" value={q.architecture} options={architectures.map((a) => ({ value: a, text: a }))} />
        <Select name="verdict" label="Verdict" value={q.verdict} options={[...VERDICTS, 'UNKNOWN'].map((v) => ({ value: v, text: VERDICT_TEXT[v] ?? v }))} />
        <Select name="cause" label="Known cause" value={q.cause} options={detectors.map((d) => ({ value: d.id, text: d.title }))} />
        <label>
          Maintainer
          <input type="text" name="maintainer" value={q.maintainer ?? ''} maxlength={512} autocomplete="off" />
        </label>
        <Select
          name="archive"
          label="Versions"
          value={q.archive}
          any="in the archive"
          options={[
            { value: 'left', text: 'left the archive' },
            { value: 'all', text: 'all' },
          ]}
        />
        <Select name="sort" label="Order" value={q.sort} any="name, A to Z" options={PACKAGE_SORTS.filter((s) => s !== 'name').map((s) => ({ value: s, text: SORT_TEXT[s] }))} />
        <button type="submit">Show</button>
      </form>
      <p aria-live="polite">
        {total} package versions{total > PAGE_SIZE ? `, page ${page} of ${pages}` : ''}.
      </p>
      {items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">version</th>
                <th scope="col">verdict</th>
                <th scope="col" class="wide-only">
                  distribution / suite / arch
                </th>
                <th scope="col" class="wide-only">
                  last seen
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr>
                  <td>
                    <PackageLink pkg={p} />
                    {p.inArchive ? null : <span class="muted"> (left the archive)</span>}
                  </td>
                  <td class="mono">
                    <bdi>{visible(p.version)}</bdi>
                  </td>
                  <td>
                    <VerdictTag verdict={p.verdict} />
                  </td>
                  <td class="wide-only">
                    <bdi>{visible(p.distribution)}</bdi> / <bdi>{visible(p.suite)}</bdi> / <bdi>{visible(p.architecture)}</bdi>
                  </td>
                  <td class="wide-only">
                    <Time ms={p.lastSeenAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No package matches.</p>
      )}
      {pages > 1 ? (
        <nav class="pages" aria-label="Pages">
          {page > 1 ? <a href={link(1)}>first</a> : null}
          {page > 1 ? (
            <a href={link(page - 1)} rel="prev">
              previous
            </a>
          ) : null}
          <span>
            page {page} of {pages}
          </span>
          {page < pages ? (
            <a href={link(page + 1)} rel="next">
              next
            </a>
          ) : null}
          {page < pages ? <a href={link(pages)}>last</a> : null}
        </nav>
      ) : null}
    </Layout>
  );
};

/** The store filter of a list query (the store validates each value). */
export function filterOf(q: ListQuery): PackageFilter {
  return {
    name: q.name,
    distribution: q.distribution,
    suite: q.suite,
    architecture: q.architecture,
    verdict: q.verdict === undefined ? undefined : q.verdict === 'UNKNOWN' ? 'none' : (q.verdict as Verdict),
    issue: q.cause,
    maintainer: q.maintainer,
    archive: q.archive === 'left' || q.archive === 'all' ? q.archive : 'in',
  };
}

export function listRoutes(app: App, deps: WebDeps): void {
  app.get('/packages', { schema: { hide: true } }, async (request, reply) => {
    const q = parseListQuery(request.query as Record<string, unknown>);
    const page = Math.min(Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1), 1_000_000);
    const sort = (PACKAGE_SORTS as readonly string[]).includes(q.sort ?? '') ? (q.sort as PackageSort) : 'name';
    const filter = filterOf(q);
    const rendered = await deps.pages.get(request.url, deps.store.listStamp(), async () => {
      const [list, distributions, architectures] = await Promise.all([
        deps.store.listPackages(filter, { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }, sort),
        deps.store.listDistributions(),
        deps.store.listArchitectures(),
      ]);
      return render(<ListPage q={q} items={list.items.map(packageSummary)} total={list.total} page={page} distributions={distributions} architectures={architectures} />);
    });
    return sendPage(request, reply, rendered);
  });
}
