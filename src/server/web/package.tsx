// One package version's page: its current verdict and why (what the policy
// ignored, the known causes with their fixes, what stays unexplained), the
// regression marker, the build log and the diff report (each served whole from
// its blob on its own sandboxed URL, with its size said here), the published and
// rebuilt artifacts with their digests, the build input, and every result of every
// version of the package in this distribution, suite and architecture, kept after
// a version left the archive. JSON: /api/v1/packages/:id and /api/v1/results/:id.
import type { FC } from 'hono/jsx';
import type { PackageSummary as ApiPackage } from '../../api/schemas.js';
import type { BuildInputInfo, ResultInfo } from '../../store/index.js';
import { type App, IdParams } from '../context.js';
import { packageSummary } from '../map.js';
import { type WebDeps, sendHtml } from './context.js';
import { Layout, PackageLink, Time, Verdict, bytes, render } from './layout.js';
import { describeCause, packageByName, regressed } from './reads.js';
import { NotFoundError } from '../../store/index.js';
import { safeHref, visible } from './security.js';

export interface HistoryEntry {
  result: ResultInfo;
  version: ApiPackage;
  worker: string | null;
}

export interface BlobSizes {
  log: number | null;
  reportHtml: number | null;
  reportJson: number | null;
}

/** One ignored difference as a line of text, whatever its shape. */
function ignoredText(item: unknown): string {
  if (item && typeof item === 'object') {
    const o = item as Record<string, unknown>;
    const where = [o['artifact'], o['path'] ?? o['member']].filter((x) => typeof x === 'string').join(': ');
    const reason = typeof o['reason'] === 'string' ? o['reason'] : undefined;
    if (where || reason) return `${where}${where && reason ? ' — ' : ''}${reason ?? ''}`;
  }
  return JSON.stringify(item) ?? String(item);
}

const Current: FC<{ result: ResultInfo; sizes: BlobSizes }> = ({ result, sizes }) => {
  const ignored = Array.isArray(result.ignored) ? result.ignored : [];
  const unexplained = (result.message ?? '').split('\n').filter((l) => /unexplained|differ|published but not rebuilt|rebuilt but not published/.test(l));
  return (
    <section aria-labelledby="why">
      <h2 id="why">Why</h2>
      {result.issues.length > 0 ? (
        <>
          <h3>Known causes</h3>
          <ul>
            {result.issues.map((id) => {
              const c = describeCause(id);
              return (
                <li>
                  <a href={`/causes/${encodeURIComponent(id)}`}>{visible(c.title)}</a> <span class="muted mono">({visible(id)})</span>
                  <br />
                  Fix: {visible(c.fix)}
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
      {ignored.length > 0 ? (
        <details>
          <summary>What the policy ignored ({ignored.length})</summary>
          <ul class="mono">
            {ignored.slice(0, 500).map((i) => (
              <li>
                <bdi>{visible(ignoredText(i))}</bdi>
              </li>
            ))}
          </ul>
          {ignored.length > 500 ? (
            <p>
              {ignored.length - 500} more: see <a href={`/api/v1/results/${result.id}`}>the result as JSON</a>.
            </p>
          ) : null}
        </details>
      ) : null}
      {unexplained.length > 0 ? (
        <>
          <h3>Unexplained</h3>
          <ul>
            {unexplained.map((l) => (
              <li class="mono">
                <bdi>{visible(l)}</bdi>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {result.message ? (
        <details>
          <summary>The worker's summary</summary>
          <pre>{visible(result.message)}</pre>
        </details>
      ) : null}
      <h3>Build log and diff</h3>
      <ul>
        <li>
          {result.logBlob ? (
            <>
              <a href={`/results/${result.id}/log.txt`}>Build log</a> ({bytes(sizes.log)} stored, compressed; shown whole)
            </>
          ) : (
            'No build log was stored.'
          )}
        </li>
        <li>
          {result.reportHtmlBlob ? (
            <>
              <a href={`/results/${result.id}/report.html`}>Diff report</a> ({bytes(sizes.reportHtml)} stored, compressed; the whole report, members collapsible, opened on its own page without scripts)
            </>
          ) : (
            'No diff report (nothing differed, or the build failed).'
          )}
          {result.reportJsonBlob ? (
            <>
              {' '}
              <a href={`/api/v1/blobs/${result.reportJsonBlob}`}>as JSON</a> ({bytes(sizes.reportJson)} compressed)
            </>
          ) : null}
        </li>
      </ul>
      <h3>Rebuilt artifacts</h3>
      {result.artifacts.length === 0 ? (
        <p>None stored.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">file</th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {result.artifacts.map((a) => (
                <tr>
                  <td class="name">
                    <a href={`/api/v1/blobs/${a.sha256}`}>
                      <bdi>{visible(a.name)}</bdi>
                    </a>
                  </td>
                  <td class="mono">{a.sha256}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>Build environment</h3>
      <p>
        Timings:{' '}
        {Object.entries(result.timings)
          .map(([k, v]) => `${k} ${(Number(v) / 1000).toFixed(1)} s`)
          .join(', ') || '—'}
        .
      </p>
      {result.environment === null ? (
        <p>The worker did not say which parts of the recorded build environment it recreated; its build log may.</p>
      ) : (
        <div>
          <h4>Recreated as recorded</h4>
          {result.environment.reproduced.length ? <ul>{result.environment.reproduced.map((line) => <li>{visible(line)}</li>)}</ul> : <p>Nothing.</p>}
          <h4>Not recreated</h4>
          {result.environment.notReproduced.length ? <ul>{result.environment.notReproduced.map((line) => <li>{visible(line)}</li>)}</ul> : <p>Nothing: the environment was recreated as recorded.</p>}
        </div>
      )}
    </section>
  );
};

const Input: FC<{ input: BuildInputInfo | null }> = ({ input }) =>
  input === null ? (
    <p>No build input is known.</p>
  ) : (
    <>
      <dl class="facts">
        <dt>backend</dt>
        <dd class="mono">{visible(input.backend)}</dd>
        <dt>build information</dt>
        <dd class="mono">
          {input.buildinfoUrl === null ? (
            '—'
          ) : safeHref(input.buildinfoUrl) ? (
            <a href={safeHref(input.buildinfoUrl)} rel="nofollow noopener noreferrer">
              <bdi>{visible(input.buildinfoUrl)}</bdi>
            </a>
          ) : (
            <bdi>{visible(input.buildinfoUrl)}</bdi>
          )}
          {input.buildinfoSha256 ? <> (SHA-256 {input.buildinfoSha256})</> : null}
        </dd>
      </dl>
      <h3>Published artifacts</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">file</th>
              <th scope="col">SHA-256</th>
              <th scope="col" class="num">
                size
              </th>
            </tr>
          </thead>
          <tbody>
            {input.artifacts.map((a) => {
              const href = safeHref(a.url);
              return (
                <tr>
                  <td class="name">
                    {href ? (
                      <a href={href} rel="nofollow noopener noreferrer">
                        <bdi>{visible(a.name)}</bdi>
                      </a>
                    ) : (
                      <bdi>{visible(a.name)}</bdi>
                    )}
                  </td>
                  <td class="mono">{a.sha256}</td>
                  <td class="num">{bytes(a.size === null ? null : Number(a.size))}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );

export const PackagePage: FC<{ pkg: ApiPackage; input: BuildInputInfo | null; current: ResultInfo | null; sizes: BlobSizes; history: HistoryEntry[] }> = ({ pkg, input, current, sizes, history }) => {
  const isRegression = regressed(history.map((h) => ({ verdict: h.result.verdict, final: h.result.final, id: h.result.id })));
  const badge = `/badge/${encodeURIComponent(pkg.distribution)}/${encodeURIComponent(pkg.name)}.svg`;
  return (
    <Layout title={`${pkg.name} ${pkg.version}`} json={`/api/v1/packages/${pkg.id}`}>
      <h1>
        <bdi>{visible(pkg.name)}</bdi> <bdi class="muted">{visible(pkg.version)}</bdi>
      </h1>
      <p>
        <Verdict verdict={pkg.verdict} /> in <bdi>{visible(pkg.distribution)}</bdi> / <bdi>{visible(pkg.suite)}</bdi> / <bdi>{visible(pkg.architecture)}</bdi>
        {pkg.inArchive ? null : <strong> — this version left the archive; its results are kept.</strong>} <img src={badge} alt={`badge: ${pkg.verdict ?? 'not built yet'}`} height="20" />
      </p>
      {isRegression ? (
        <p class="regression" role="note">
          <strong>Regression:</strong> reproduced before, not now.
        </p>
      ) : null}
      {pkg.maintainer ? (
        <p>
          Maintainer:{' '}
          <a href={`/packages?maintainer=${encodeURIComponent(pkg.maintainer)}`}>
            <bdi>{visible(pkg.maintainer)}</bdi>
          </a>
        </p>
      ) : null}
      {current ? <Current result={current} sizes={sizes} /> : <p class="notice">No final result yet{pkg.inArchive ? ': it is queued or being built.' : '.'}</p>}
      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">when</th>
                <th scope="col">version</th>
                <th scope="col">verdict</th>
                <th scope="col">final</th>
                <th scope="col" class="wide-only">
                  worker
                </th>
                <th scope="col">result</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr>
                  <td>
                    <Time ms={h.result.createdAt} />
                  </td>
                  <td class="mono">
                    {h.version.id === pkg.id ? <bdi>{visible(h.version.version)}</bdi> : <PackageLink pkg={{ ...h.version, name: h.version.version }} />}
                    {h.version.inArchive ? null : <span class="muted"> (left)</span>}
                  </td>
                  <td>
                    <Verdict verdict={h.result.verdict} />
                  </td>
                  <td>{h.result.final ? 'final' : 'retried'}</td>
                  <td class="wide-only mono">{h.worker ? <bdi>{visible(h.worker)}</bdi> : '—'}</td>
                  <td>
                    {h.result.reportHtmlBlob ? <a href={`/results/${h.result.id}/report.html`}>diff</a> : null} {h.result.logBlob ? <a href={`/results/${h.result.id}/log.txt`}>log</a> : null}{' '}
                    <a href={`/api/v1/results/${h.result.id}`}>JSON</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {history.length === 0 ? <p>No results yet.</p> : null}
      </section>
      <section aria-labelledby="input">
        <h2 id="input">Build input</h2>
        <Input input={input} />
      </section>
      <section aria-labelledby="badge">
        <h2 id="badge">Badge</h2>
        <p>
          <code>{badge}</code>
        </p>
      </section>
    </Layout>
  );
};

export function packageRoutes(app: App, deps: WebDeps): void {
  const { store } = deps;
  app.get('/packages/:id', { schema: { hide: true, params: IdParams } }, async (request, reply) => {
    const pkg = await store.getPackage((request.params as { id: number }).id);
    const [versions, workers] = await Promise.all([store.packageHistory(pkg.distribution, pkg.suite, pkg.architecture, pkg.name), store.listWorkers()]);
    const names = new Map(workers.map((w) => [w.id, w.name]));
    const history: HistoryEntry[] = [];
    const perVersion = await Promise.all(versions.map((v) => store.listResults(v.id)));
    versions.forEach((v, i) => {
      for (const r of perVersion[i]!) history.push({ result: r, version: packageSummary(v), worker: r.workerId === null ? null : (names.get(r.workerId) ?? null) });
    });
    history.sort((a, b) => b.result.id - a.result.id);
    const current = pkg.latestResultId === null ? null : (history.find((h) => h.result.id === pkg.latestResultId)?.result ?? (await store.getResult(pkg.latestResultId)));
    const size = (h: string | null | undefined) => (h ? store.blobs.storedSize(h) : Promise.resolve(null));
    const [log, reportHtml, reportJson] = await Promise.all([size(current?.logBlob), size(current?.reportHtmlBlob), size(current?.reportJsonBlob)]);
    return sendHtml(reply, await render(<PackagePage pkg={packageSummary(pkg)} input={pkg.input} current={current} sizes={{ log, reportHtml, reportJson }} history={history} />));
  });
}

/** /pkg/DISTRO/NAME: the newest version of a package by name (the badge's link); the list when it is in several suites or architectures. */
export function packageByNameRoutes(app: App, deps: WebDeps): void {
  app.get('/pkg/:distribution/:name', { schema: { hide: true } }, async (request, reply) => {
    const { distribution, name } = request.params as { distribution: string; name: string };
    const found = await packageByName(deps.store, distribution, name);
    if (found.length === 1) return reply.redirect(`/packages/${found[0]!.id}`);
    if (found.length === 0) throw new NotFoundError(`Cannot find package ${JSON.stringify(name)} in ${JSON.stringify(distribution)}`);
    return reply.redirect(`/packages?distribution=${encodeURIComponent(distribution)}&name=${encodeURIComponent(name)}&archive=all`);
  });
}
