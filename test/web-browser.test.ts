// The website in a real browser (Debian's chromium driven by playwright-core):
// the overview of a database filled by a real `reprove start` run over packages
// built at test time, a package followed to its diff, the list filtered, and a
// hostile package (markup in its name, maintainer, log and reports, one report
// raw) whose scripts never run: any alert() fails the test. Screenshots of the
// overview and of a package page go to dist/test-output/web-browser/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildServer } from '../src/server/build-server.js';
import { PAGE_CSP } from '../src/server/web/security.js';
import { openStore } from '../src/store/index.js';
import { CLI, workdir } from './helpers.js';
import { makePackages, until } from './service-support.js';
import { addHostile } from './web-support.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = resolve(import.meta.dirname, '../test-output/web-browser');
const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
if (missing && process.env['CI']) throw new Error(`Cannot run the browser tests in CI: ${missing}`);

test('in chromium: the overview of a real run, a package followed to its diff, the list filtered, no script from package data runs, CSP on every page', { skip: missing, timeout: 300_000 }, async (t) => {
  const dir = workdir(t);
  // A real service run: reprove start with its local worker over two packages, until both have a verdict.
  const packages = makePackages(dir, ['plain', 'stamped'], (n) => (n === 'plain' ? 'same' : 'date'));
  const list = join(dir, 'list.json');
  writeFileSync(list, JSON.stringify({ distribution: 'local', suite: 'main', architecture: 'x86_64', packages }));
  const data = join(dir, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
  delete env['DATABASE_URL'];
  const proc = spawn(process.execPath, [CLI, 'start', '--data-dir', data, '--listen', '127.0.0.1:0', '--examples', list], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  await until('every package to have a verdict', 180, async () => (out.includes('every package has a verdict') ? true : undefined));
  assert.match(out, /the website is at http:\/\/127\.0\.0\.1:\d+\//);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));

  // The same database, served in process, with a hostile package added.
  const store = await openStore({ dataDir: data, queue: { retry: { unreproducible: { maxRetries: 0 } } } });
  t.after(() => store.close());
  const hostile = await addHostile(store);
  const app = buildServer({ store, adminToken: 'admin-token-for-tests-0123456789' });
  t.after(() => app.close());
  const base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');

  const profile = join(dir, 'chromium-profile');
  mkdirSync(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const dialogs: string[] = [];
  const foreign: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) foreign.push(r.url());
  });
  mkdirSync(OUT, { recursive: true });

  // The overview: counts, charts, the CSP header.
  const overview = await page.goto(`${base}/`);
  assert.equal(overview!.headers()['content-security-policy'], PAGE_CSP);
  assert.equal(overview!.headers()['x-content-type-options'], 'nosniff');
  await page.getByRole('heading', { name: 'Reproducible builds: overview' }).waitFor();
  assert.ok((await page.locator('svg.chart').count()) >= 2, 'a bar per suite and the history chart');
  // The stylesheet applied (no inline style allowed): the header has its panel background.
  assert.notEqual(await page.locator('header.site').evaluate((e) => getComputedStyle(e).borderBottomStyle), 'none');
  await page.screenshot({ path: join(OUT, 'overview.png'), fullPage: true });

  // Filter the list: unreproducible packages of local/main/x86_64, by name.
  await page.getByRole('link', { name: 'Packages', exact: true }).click();
  await page.getByLabel('Distribution', { exact: true }).selectOption('local');
  await page.getByLabel('Verdict', { exact: true }).selectOption('UNREPRODUCIBLE');
  await page.getByLabel('Name contains', { exact: true }).fill('stam');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/verdict=UNREPRODUCIBLE/);
  const rows = await page.locator('table a.name').allTextContents();
  assert.deepEqual(rows, ['stamped']);

  // Follow it to its page and its diff.
  await page.getByRole('link', { name: 'stamped' }).click();
  await page.getByRole('heading', { level: 1 }).waitFor();
  assert.match(await page.locator('h1').innerText(), /stamped/);
  assert.match(await page.locator('main').innerText(), /Build log/);
  await page.screenshot({ path: join(OUT, 'package.png'), fullPage: true });
  const [report] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/report.html')), page.getByRole('link', { name: 'Diff report' }).click()]);
  assert.match(report.headers()['content-security-policy'] ?? '', /sandbox/);
  assert.match(await page.content(), /stamped\.txt/);

  // The hostile package: its list row, its page, its logs and both reports. Nothing runs.
  for (const url of [`/packages?distribution=hostile`, `/packages/${hostile.packageId}`, `/results/${hostile.resultId}/report.html`, `/results/${hostile.rawResultId}/report.html`, `/results/${hostile.resultId}/log.txt`, `/queue`, '/causes']) {
    const res = await page.goto(`${base}${url}`);
    assert.ok(res!.headers()['content-security-policy'], `${url}: a CSP`);
    await page.waitForLoadState('load');
  }
  await page.goto(`${base}/packages/${hostile.packageId}`);
  assert.match(await page.locator('h1').innerText(), /"><script>alert\(1\)</);
  await page.screenshot({ path: join(OUT, 'hostile.png'), fullPage: true });
  // Keyboard: the skip link is the first stop and leads to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  // A phone: the overview fits its width.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${base}/`);
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390 + 1, 'no horizontal scroll on a phone');
  await page.screenshot({ path: join(OUT, 'overview-phone.png'), fullPage: true });
  assert.deepEqual(dialogs, [], 'no script from package data ran');
  assert.deepEqual(foreign, [], 'no request left the site');
});
