// The website over a store filled by hand: every page answers with the strict
// CSP, hostile package data is shown escaped and never as markup or a javascript:
// link, filters and orders select what they say, the regression marker, feeds,
// badges and the pages' JSON tell the same story.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildServer } from '../src/server/build-server.js';
import { PageCache } from '../src/server/web/page-cache.js';
import { PAGE_CSP, safeHref, visible } from '../src/server/web/security.js';
import { openStore, type Store, type Verdict } from '../src/store/index.js';
import { workdir } from './helpers.js';
import { addHostile, HOSTILE_NAME } from './web-support.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const TAGS = { architectures: ['x86_64'], backends: ['command'] };

/** One rebuild of `name` in examples/main/x86_64 ending with `verdict`. */
async function build(store: Store, name: string, verdict: Verdict, issues: string[] = []): Promise<number> {
  const { worker } = await store.addWorker(`w-${name}-${Math.random().toString(36).slice(2, 8)}`, TAGS);
  await store.push({ distribution: 'examples', suite: 'main', architecture: 'x86_64', name, priority: 100 });
  const c = await store.claim(worker.id);
  assert.ok(c && c.job.package.name === name, `claimed ${name}`);
  const log = await store.putLog([Buffer.from(`build of ${name}\n`)]);
  const r = await store.report(c.job.id, c.leaseToken, { verdict, ...(verdict === 'ERROR' ? { failureClass: null } : {}), issues, logBlob: log.sha256, message: `${verdict}: 1 compared` });
  await store.removeWorker(worker.id);
  return r.result.id;
}

async function setup(t: import('node:test').TestContext) {
  const dir = workdir(t);
  const store = await openStore({ dataDir: join(dir, 'data'), queue: { retry: { unreproducible: { maxRetries: 0 }, ftbfs: { maxRetries: 0 } } } });
  t.after(() => store.close());
  const names = ['alpha', 'bravo', 'charlie', 'delta'];
  await store.syncPackages({
    distribution: 'examples',
    suite: 'main',
    architecture: 'x86_64',
    packages: names.map((name) => ({ name, version: '1.0', backend: 'command', maintainer: name === 'alpha' ? 'Alice <alice@example.org>' : 'Bob <bob@example.org>', artifacts: [{ name: `${name}.txt`, url: `https://example.org/${name}.txt`, sha256: 'c'.repeat(64) }] })),
  });
  // alpha reproduced, then not (a regression); bravo the other way (a fix); charlie fails; delta waits.
  await build(store, 'alpha', 'BIT_IDENTICAL');
  await build(store, 'alpha', 'UNREPRODUCIBLE', ['timestamps_in_gzip_headers']);
  await build(store, 'bravo', 'UNREPRODUCIBLE', ['captures_build_path']);
  await build(store, 'bravo', 'REPRODUCIBLE');
  await build(store, 'charlie', 'FTBFS');
  const hostile = await addHostile(store);
  const app = buildServer({ store, adminToken: ADMIN, web: { publicUrl: 'https://rebuild.example.org', cacheMs: 0 } });
  t.after(() => app.close());
  const get = async (url: string) => app.inject({ method: 'GET', url });
  const ids = Object.fromEntries((await store.listPackages({ distribution: 'examples' })).items.map((p) => [p.name, p.id]));
  return { store, app, get, hostile, ids, dataDir: join(dir, 'data') };
}

test('every page answers with the strict CSP, nosniff and a referrer policy, and links its stylesheet only', async (t) => {
  const { get, ids, hostile } = await setup(t);
  for (const url of ['/', '/packages', `/packages/${ids['alpha']}`, `/packages/${hostile.packageId}`, '/causes', '/causes/timestamps_in_gzip_headers', '/queue', '/workers', '/packages/999999', '/packages?verdict=NOPE']) {
    const res = await get(url);
    assert.equal(res.headers['content-security-policy'], PAGE_CSP, url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
    assert.match(String(res.headers['content-type']), /^text\/html/, url);
    assert.doesNotMatch(res.body, /<script|style=|<style/i, url);
    assert.match(res.body, /<link rel="stylesheet" href="\/static\/style.css"/, url);
  }
  assert.equal((await get('/packages/999999')).statusCode, 404);
  assert.equal((await get('/packages?verdict=NOPE')).statusCode, 400);
  const css = await get('/static/style.css');
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
  assert.match(css.body, /prefers-color-scheme:dark/);
});

test('hostile names, versions, maintainers, messages, artifacts and logs are shown escaped: no markup, no javascript: link, bidi controls made visible', async (t) => {
  const { get, hostile } = await setup(t);
  const pages = [`/packages/${hostile.packageId}`, '/packages?distribution=hostile', '/packages?archive=all&sort=recent', '/queue', '/causes/timestamps_in_gzip_headers', '/'];
  for (const url of pages) {
    const { body, statusCode } = await get(url);
    assert.equal(statusCode, 200, url);
    assert.doesNotMatch(body, /<script|<img src=x|<b>|<svg onload|onerror="|href="javascript:/i, url);
    assert.ok(!body.includes('\u202e'), `${url}: a raw RIGHT-TO-LEFT OVERRIDE`);
  }
  const page = (await get(`/packages/${hostile.packageId}`)).body;
  assert.ok(page.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;'), 'the name is shown as text');
  assert.ok(page.includes('&lt;U+202E&gt;'), 'the bidi override is shown as its code point');
  assert.ok(page.includes('&quot;&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;'), 'the maintainer is shown as text');
  // The javascript: artifact URL and build-info reference are shown, not linked.
  assert.ok(page.includes('javascript:alert(5)') && page.includes('&quot;&gt;&lt;b&gt;x&lt;'));
  // The log and the report: whole, from their blobs, sandboxed.
  for (const url of [`/results/${hostile.resultId}/log.txt`, `/results/${hostile.resultId}/report.html`, `/results/${hostile.rawResultId}/report.html`]) {
    const res = await get(url);
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-security-policy']), /sandbox/, url);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/, url);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  const report = (await get(`/results/${hostile.resultId}/report.html`)).body;
  assert.doesNotMatch(report, /<script>alert|<svg onload|<img src=x/);
  assert.ok(report.includes('&lt;script&gt;alert(11)&lt;/script&gt;'));
  assert.match(String((await get(`/results/${hostile.resultId}/log.txt`)).headers['content-type']), /^text\/plain/);
});

test('safeHref lets only absolute http(s) URLs through; visible() shows invisible and bidi characters', () => {
  assert.equal(safeHref('https://example.org/a b'), 'https://example.org/a%20b');
  assert.equal(safeHref('http://example.org/x'), 'http://example.org/x');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,x', 'vbscript:x', '//evil.example', '/relative', 'file:///etc/passwd', '']) assert.equal(safeHref(bad), undefined, bad);
  assert.equal(visible('abc\u202edef\u2066'), 'abc<U+202E>def<U+2066>');
});

test('the package list searches, filters by distribution, verdict, known cause and maintainer, orders and pages', async (t) => {
  const { get, store } = await setup(t);
  const names = (body: string) => [...body.matchAll(/<a class="name" href="\/packages\/\d+"><bdi>([^<]*)<\/bdi>/g)].map((m) => m[1]);
  assert.deepEqual(names((await get('/packages?distribution=examples')).body), ['alpha', 'bravo', 'charlie', 'delta']);
  assert.deepEqual(names((await get('/packages?distribution=examples&sort=-name')).body), ['delta', 'charlie', 'bravo', 'alpha']);
  assert.deepEqual(names((await get('/packages?name=RAV')).body), ['bravo']);
  assert.deepEqual(names((await get('/packages?verdict=UNREPRODUCIBLE&distribution=examples')).body), ['alpha']);
  assert.deepEqual(names((await get('/packages?verdict=UNKNOWN')).body), ['delta']);
  assert.deepEqual(names((await get('/packages?cause=timestamps_in_gzip_headers&distribution=examples')).body), ['alpha']);
  assert.deepEqual(names((await get('/packages?maintainer=' + encodeURIComponent('Alice <alice@example.org>'))).body), ['alpha']);
  // The same filters through the API.
  const api = JSON.parse((await get('/api/v1/packages?cause=timestamps_in_gzip_headers&distribution=examples')).body) as { total: number; items: { name: string; maintainer: string }[] };
  assert.equal(api.total, 1);
  assert.equal(api.items[0]!.maintainer, 'Alice <alice@example.org>');
  // Paging: 120 more packages make three pages of 50.
  await store.syncPackages({ distribution: 'many', suite: 's', architecture: 'x86_64', packages: Array.from({ length: 120 }, (_, i) => ({ name: `p${String(i).padStart(3, '0')}`, version: '1', backend: 'command' })) });
  const p3 = (await get('/packages?distribution=many&page=3')).body;
  assert.match(p3, /120 package versions, page 3 of 3/);
  assert.deepEqual(names(p3), Array.from({ length: 20 }, (_, i) => `p${100 + i}`));
  assert.match(p3, /href="\/packages\?distribution=many&amp;page=2" rel="prev"/);
});

test('a list page is rendered once and kept while the list does not change: a result, a sync or another process\'s write shows at once, and a browser holding the page gets a 304', async (t) => {
  const { app, get, store, dataDir } = await setup(t);
  const names = (body: string) => [...body.matchAll(/<a class="name" href="\/packages\/\d+"><bdi>([^<]*)<\/bdi>/g)].map((m) => m[1]);
  const waiting = '/packages?distribution=examples&verdict=FTBFS';
  const first = await get(waiting);
  assert.deepEqual(names(first.body), ['charlie']);
  const etag = first.headers.etag as string;
  assert.match(etag, /^"[\w-]{12}-[0-9a-z]+"$/);
  assert.equal(first.headers['cache-control'], 'no-cache');
  const again = await app.inject({ method: 'GET', url: waiting, headers: { 'if-none-match': etag } });
  assert.deepEqual([again.statusCode, again.body], [304, '']);
  // charlie's new result lands: gone from the page at once, and the old ETag no longer matches.
  await build(store, 'charlie', 'BIT_IDENTICAL');
  const after = await app.inject({ method: 'GET', url: waiting, headers: { 'if-none-match': etag } });
  assert.equal(after.statusCode, 200);
  assert.deepEqual(names(after.body), []);
  assert.match(after.body, /No package matches/);
  assert.notEqual(after.headers.etag, etag);
  // The cause filter's page follows a new result as well.
  assert.deepEqual(names((await get('/packages?cause=captures_build_path')).body), []);
  assert.deepEqual(names((await get('/packages?cause=timestamps_in_gzip_headers&distribution=examples')).body), ['alpha']);
  await build(store, 'alpha', 'REPRODUCIBLE');
  assert.deepEqual(names((await get('/packages?cause=timestamps_in_gzip_headers&distribution=examples')).body), []);
  // Another process (another store on the same file) syncs a new package: shown at once.
  const list = '/packages?distribution=examples';
  assert.deepEqual(names((await get(list)).body), ['alpha', 'bravo', 'charlie', 'delta']);
  const other = await openStore({ dataDir });
  t.after(() => other.close());
  await other.syncPackages({ distribution: 'examples', suite: 'main', architecture: 'x86_64', mode: 'partial', packages: [{ name: 'echo', version: '1.0', backend: 'command' }] });
  assert.deepEqual(names((await get(list)).body), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
});

test('concurrent requests for one page share one render; a new stamp renders again; a failed render is not kept', async () => {
  const cache = new PageCache(2);
  let renders = 0;
  const render = async () => `<p>page ${++renders}</p>`;
  const [a, b] = await Promise.all([cache.get('/x', 's1', render), cache.get('/x', 's1', render)]);
  assert.equal(renders, 1);
  assert.equal(a, b);
  assert.equal((await cache.get('/x', 's2', render)).html, '<p>page 2</p>');
  await assert.rejects(cache.get('/y', 's2', async () => Promise.reject(new Error('Cannot render: test'))));
  assert.equal((await cache.get('/y', 's2', render)).html, '<p>page 3</p>');
  // At most two pages are kept: the least recently used one goes.
  await cache.get('/z', 's2', render);
  assert.equal((await cache.get('/x', 's2', render)).html, '<p>page 5</p>');
});

test('the package page says why, marks a regression, shows every version\'s history, and the overview counts and charts', async (t) => {
  const { get, ids, store } = await setup(t);
  const alpha = (await get(`/packages/${ids['alpha']}`)).body;
  assert.match(alpha, /Regression:<\/strong> reproduced before, not now/);
  assert.match(alpha, /Timestamps in gzip headers|timestamps_in_gzip_headers/);
  assert.match(alpha, /Fix:/);
  assert.match(alpha, /href="\/results\/\d+\/log.txt">Build log<\/a> \(\d+(\.\d)? (bytes|KiB)/);
  assert.equal((alpha.match(/<tr><td><time/g) ?? []).length, 2, 'two results in the history');
  assert.match(alpha, /href="https:\/\/example.org\/alpha.txt"/);
  assert.doesNotMatch((await get(`/packages/${ids['bravo']}`)).body, /Regression:/);
  // A version that left the archive keeps its page and its results.
  await store.syncPackages({ distribution: 'examples', suite: 'main', architecture: 'x86_64', packages: ['bravo', 'charlie', 'delta'].map((name) => ({ name, version: '1.0', backend: 'command' })) });
  const left = (await get(`/packages/${ids['alpha']}`)).body;
  assert.match(left, /this version left the archive; its results are kept/);
  assert.equal((left.match(/<tr><td><time/g) ?? []).length, 2);

  const overview = JSON.parse((await get('/api/v1/overview')).body) as { groups: { distribution: string; packages: number; verdicts: Record<string, number> }[]; history: { results: number; reproducible: number }[] };
  const ex = overview.groups.find((g) => g.distribution === 'examples')!;
  assert.equal(ex.packages, 3);
  assert.deepEqual(ex.verdicts, { BIT_IDENTICAL: 0, IDENTICAL_EXCEPT_SIGNATURE: 0, REPRODUCIBLE: 1, UNREPRODUCIBLE: 0, FTBFS: 1, ERROR: 0, UNKNOWN: 1 });
  assert.ok(overview.history.length >= 1);
  const html = (await get('/')).body;
  assert.match(html, /<svg class="chart" viewBox="0 0 600 28" role="img" aria-labelledby="bar-\d-\d-t bar-\d-\d-d">/);
  assert.match(html, /<title id="hist-\d-t">Reproducible share of each day/);
});

test('Atom feeds of regressions and fixes per distribution and per maintainer parse and name the packages; /api/v1/events agrees', async (t) => {
  const { get } = await setup(t);
  const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'entry' || name === 'link' });
  const feed = async (url: string) => {
    const res = await get(url);
    assert.equal(res.statusCode, 200, url);
    assert.match(String(res.headers['content-type']), /^application\/atom\+xml/);
    assert.equal(XMLValidator.validate(res.body), true, url);
    return parser.parse(res.body).feed as { title: string; id: string; entry?: { title: string; link: { '@_href': string }[]; summary: { '#text': string } }[] };
  };
  const regressions = await feed('/feeds/examples/regressions.atom');
  assert.equal(regressions.title['#text' as never] ?? regressions.title, 'Regressions in examples');
  assert.equal(regressions.entry?.length, 1);
  assert.match(String(regressions.entry![0]!.title['#text' as never] ?? regressions.entry![0]!.title), /^alpha 1\.0 no longer reproduces/);
  assert.match(regressions.entry![0]!.link[0]!['@_href'], /^https:\/\/rebuild\.example\.org\/packages\/\d+$/);
  const fixes = await feed('/feeds/examples/fixes.atom');
  assert.equal(fixes.entry?.length, 1);
  assert.match(String(fixes.entry![0]!.title['#text' as never] ?? fixes.entry![0]!.title), /^bravo 1\.0 reproduces again/);
  assert.equal((await feed('/feeds/maintainer/regressions.atom?maintainer=' + encodeURIComponent('Alice <alice@example.org>'))).entry?.length, 1);
  assert.equal((await feed('/feeds/maintainer/regressions.atom?maintainer=' + encodeURIComponent('Bob <bob@example.org>'))).entry, undefined);
  assert.equal((await feed('/feeds/hostile/regressions.atom')).entry, undefined);
  const events = JSON.parse((await get('/api/v1/events')).body) as { kind: string; package: { name: string } }[];
  assert.deepEqual(events.map((e) => `${e.kind} ${e.package.name}`).sort(), ['fix bravo', 'regression alpha']);
});

test('badges: shields-style SVG in the verdict colour with caching headers; the known-cause ranking as JSON', async (t) => {
  const { get } = await setup(t);
  const bravo = await get('/badge/examples/bravo.svg');
  assert.equal(bravo.statusCode, 200);
  assert.match(String(bravo.headers['content-type']), /^image\/svg\+xml/);
  assert.match(String(bravo.headers['cache-control']), /max-age=\d+/);
  assert.match(bravo.body, /fill="#97ca00"/);
  assert.match(bravo.body, /aria-label="reproducible builds: reproducible"/);
  assert.match((await get('/badge/examples/alpha.svg')).body, /fill="#e05d44"/);
  assert.match((await get('/badge/examples/nothing.svg')).body, /not found/);
  const hostile = await get(`/badge/hostile/${encodeURIComponent(HOSTILE_NAME)}.svg`);
  assert.doesNotMatch(hostile.body, /<script/);
  const causes = JSON.parse((await get('/api/v1/causes')).body) as { id: string; packages: number }[];
  assert.equal(causes[0]!.packages >= 1, true);
  assert.ok(causes.some((c) => c.id === 'timestamps_in_gzip_headers' && c.packages >= 1));
  const one = JSON.parse((await get('/api/v1/causes/timestamps_in_gzip_headers')).body) as { cause: { fix: string }; packages: { total: number } };
  assert.ok(one.cause.fix.length > 10);
  assert.equal((await get('/api/v1/causes/no_such_cause')).statusCode, 404);
});
