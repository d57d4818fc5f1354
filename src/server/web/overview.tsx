// The overview: per distribution, suite and architecture, how many package
// versions are bit-identical, reproducible under policy, unreproducible, failing
// to build, in error, not built yet, and queued; a bar of those shares each and a
// daily chart of the reproducible share per distribution. JSON: /api/v1/overview.
import type { FC } from 'hono/jsx';
import { OverviewResponse } from '../../api/schemas.js';
import type { App } from '../context.js';
import { HistoryChart, Legend, ShareBar } from './charts.js';
import { type WebDeps, sendHtml } from './context.js';
import { Layout, VERDICT_TEXT, qs, render, share } from './layout.js';
import { visible } from './security.js';

const COLUMNS = ['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE', 'UNREPRODUCIBLE', 'FTBFS', 'ERROR', 'UNKNOWN'] as const;

export const OverviewPage: FC<{ data: OverviewResponse }> = ({ data }) => {
  const distributions = [...new Set(data.groups.map((g) => g.distribution))];
  return (
    <Layout
      title="Overview"
      json="/api/v1/overview"
      feeds={distributions.flatMap((d) => [
        { title: `Regressions in ${d}`, href: `/feeds/${encodeURIComponent(d)}/regressions.atom` },
        { title: `Fixes in ${d}`, href: `/feeds/${encodeURIComponent(d)}/fixes.atom` },
      ])}
    >
      <h1>Reproducible builds: overview</h1>
      {data.groups.length === 0 ? <p>No packages yet: sync a package list to the daemon.</p> : null}
      {distributions.map((d, di) => {
        const groups = data.groups.filter((g) => g.distribution === d);
        const history = data.history.filter((h) => h.distribution === d);
        return (
          <section aria-labelledby={`d${di}`}>
            <h2 id={`d${di}`}>
              <bdi>{visible(d)}</bdi>
            </h2>
            <p>
              Feeds: <a href={`/feeds/${encodeURIComponent(d)}/regressions.atom`}>regressions</a>, <a href={`/feeds/${encodeURIComponent(d)}/fixes.atom`}>fixes</a>.
            </p>
            <div class="cards">
              {groups.map((g, gi) => (
                <div class="card">
                  <h3>
                    <a href={`/packages${qs({ distribution: g.distribution, suite: g.suite, architecture: g.architecture })}`}>
                      <bdi>{visible(g.suite)}</bdi> / <bdi>{visible(g.architecture)}</bdi>
                    </a>
                  </h3>
                  <p class="muted">
                    {g.packages} package versions; {share(g.verdicts.BIT_IDENTICAL + g.verdicts.REPRODUCIBLE, g.packages)} reproducible; {g.queued} queued, {g.running} building
                  </p>
                  <ShareBar group={g} id={`bar-${di}-${gi}`} />
                </div>
              ))}
            </div>
            <Legend />
            <div class="table-wrap">
              <table>
                <caption class="sr-only">{`Verdict counts in ${d}`}</caption>
                <thead>
                  <tr>
                    <th scope="col">suite / architecture</th>
                    {COLUMNS.map((c) => (
                      <th scope="col" class="num">
                        {VERDICT_TEXT[c]}
                      </th>
                    ))}
                    <th scope="col" class="num">
                      queued
                    </th>
                    <th scope="col" class="num">
                      total
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {groups.map((g) => (
                    <tr>
                      <th scope="row">
                        <bdi>{visible(g.suite)}</bdi> / <bdi>{visible(g.architecture)}</bdi>
                      </th>
                      {COLUMNS.map((c) => (
                        <td class="num">
                          <a href={`/packages${qs({ distribution: g.distribution, suite: g.suite, architecture: g.architecture, verdict: c })}`}>{g.verdicts[c]}</a>
                          <br />
                          <span class="muted">{share(g.verdicts[c], g.packages)}</span>
                        </td>
                      ))}
                      <td class="num">{g.queued}</td>
                      <td class="num">{g.packages}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <h3>Reproducible share per day</h3>
            <HistoryChart days={history} id={`hist-${di}`} label={d} />
            {history.length > 0 ? (
              <details>
                <summary>The numbers per day</summary>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">day</th>
                        <th scope="col" class="num">
                          final results
                        </th>
                        <th scope="col" class="num">
                          reproducible
                        </th>
                        <th scope="col" class="num">
                          share
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {history.map((h) => (
                        <tr>
                          <td>{h.day}</td>
                          <td class="num">{h.results}</td>
                          <td class="num">{h.reproducible}</td>
                          <td class="num">{share(h.reproducible, h.results)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </details>
            ) : null}
          </section>
        );
      })}
      <p class="muted">Counts are of package versions in the archive, by the verdict of their newest final result; the daily chart is the share of each day's final results that reproduced.</p>
    </Layout>
  );
};

export function overviewRoutes(app: App, deps: WebDeps): void {
  // The page is rendered once per computed overview (the data is cached, so is its HTML).
  const rendered = new WeakMap<OverviewResponse, Promise<string>>();
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const data = await deps.overview.get();
    let html = rendered.get(data);
    if (!html) rendered.set(data, (html = render(<OverviewPage data={data} />)));
    return sendHtml(reply, await html);
  });
}

export function overviewApi(app: App, deps: WebDeps): void {
  app.get('/api/v1/overview', { schema: { tags: ['website'], summary: 'Counts per distribution, suite and architecture, and the daily history', response: { 200: OverviewResponse } } }, async () => deps.overview.get());
}
