// The store's behaviour, one suite run over both databases (store-sqlite.test.ts,
// store-postgres.test.ts). Every test opens fresh stores on a fresh database
// through `env`, drives a fake clock instead of sleeping, and asserts on what the
// database holds afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type PackageFilter,
  type PackageInput,
  type PackageSummary,
  type Store,
  type StoreOptions,
  type WorkerTags,
} from '../src/store/index.js';
import { sql } from 'kysely';
import { dbOf } from '../src/server/store-reads.js';
import { events } from '../src/server/web/reads.js';
import { backfillCauses } from '../src/store/causes.js';
import { migrateToLatest } from '../src/store/migrations.js';

/** A fresh database per test: `open` gives store instances on it (several = several daemons or processes). */
export interface StoreEnv {
  open(options?: Omit<StoreOptions, 'url' | 'dataDir' | 'pgSchema'>): Promise<Store>;
  cleanup(): Promise<void>;
}

export class Clock {
  t = 1_800_000_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

const MIN = 60_000;
const X86: WorkerTags = { architectures: ['x86_64'], backends: ['command'], memoryMb: 8192 };

function pkg(name: string, version: string, extra: Partial<PackageInput> = {}): PackageInput {
  return { name, version, backend: 'command', recipe: { script: `build ${name}` }, artifacts: [{ name, url: `https://example.invalid/${name}-${version}.pkg`, sha256: 'ab'.repeat(32) }], ...extra };
}

const ARCH = { distribution: 'archlinux', suite: 'core', architecture: 'x86_64' };

/** Claims and reports until the queue is empty for this worker; returns the job ids it claimed. */
async function drain(store: Store, workerId: number): Promise<number[]> {
  const claimed: number[] = [];
  for (;;) {
    const c = await store.claim(workerId);
    if (!c) return claimed;
    claimed.push(c.job.id);
    await store.report(c.job.id, c.leaseToken, { verdict: 'BIT_IDENTICAL' });
  }
}

/** Every version a filter lists, read page after page by the "after" cursor (at most 50 pages). */
async function byCursor(store: Store, filter: PackageFilter, limit: number): Promise<PackageSummary[]> {
  const out: PackageSummary[] = [];
  for (let after, n = 0; n < 50; n++) {
    const page = await store.listPackages(filter, { limit, after });
    out.push(...page.items);
    if (page.next === null) break;
    after = page.next;
  }
  return out;
}

export function storeSuite(makeEnv: () => Promise<StoreEnv>): void {
  /** Runs `body` with a fresh environment, cleaned up afterwards. */
  const withEnv = async (body: (env: StoreEnv) => Promise<void>): Promise<void> => {
    const env = await makeEnv();
    try {
      await body(env);
    } finally {
      await env.cleanup();
    }
  };

  test('a version that leaves the archive keeps its row and history; listing shows what is in, what left, and all', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now });
      await store.syncPackages({ ...ARCH, packages: [pkg('zlib', '1.3-1'), pkg('bash', '5.2-1')] });
      const { worker } = await store.addWorker('w1', X86);
      const done = await drain(store, worker.id);
      assert.equal(done.length, 2);
      clock.advance(MIN);
      const summary = await store.syncPackages({ ...ARCH, packages: [pkg('zlib', '1.3-2'), pkg('bash', '5.2-1')] });
      assert.deepEqual({ added: summary.added, left: summary.left, enqueued: summary.enqueued }, { added: 1, left: 1, enqueued: 1 });

      const history = await store.packageHistory('archlinux', 'core', 'x86_64', 'zlib');
      assert.deepEqual(history.map((p) => [p.version, p.leftArchiveAt === null]), [['1.3-2', true], ['1.3-1', false]]);
      const old = history[1]!;
      assert.equal(old.latestVerdict, 'BIT_IDENTICAL', 'the old version keeps its verdict');
      assert.equal((await store.listResults(old.id)).length, 1, 'and its result');

      assert.deepEqual((await store.listPackages(ARCH)).items.map((p) => `${p.name} ${p.version}`), ['bash 5.2-1', 'zlib 1.3-2']);
      assert.deepEqual((await store.listPackages({ ...ARCH, archive: 'left' })).items.map((p) => `${p.name} ${p.version}`), ['zlib 1.3-1']);
      assert.equal((await store.listPackages({ ...ARCH, archive: 'all' })).total, 3);

      // Back in the archive: the same row, no longer marked, not rebuilt again (it has a result).
      const back = await store.syncPackages({ ...ARCH, packages: [pkg('zlib', '1.3-1'), pkg('bash', '5.2-1')] });
      assert.deepEqual({ returned: back.returned, enqueued: back.enqueued }, { returned: 1, enqueued: 0 });
      assert.equal((await store.packageHistory('archlinux', 'core', 'x86_64', 'zlib')).find((p) => p.version === '1.3-1')!.leftArchiveAt, null);
      await store.close();
    }));

  test('paging: offsets (from kept bookmarks on SQLite) and the "after" cursor give the same rows as one long read; totals follow syncs and verdicts at once, the syncs of other stores at once on SQLite and within 2 s on PostgreSQL', () =>
    withEnv(async (env) => {
      const store = await env.open();
      const other = await env.open();
      const names = Array.from({ length: 120 }, (_, i) => `pkg${String((i * 37) % 120).padStart(3, '0')}`);
      await store.syncPackages({ ...ARCH, packages: names.map((n) => pkg(n, '1')) });
      const all = (await store.listPackages(ARCH, { limit: 1000 })).items.map((p) => p.id);
      assert.equal(all.length, 120);
      for (const round of [1, 2]) {
        // In an odd order, so later offsets start from bookmarks taken by earlier pages.
        for (const offset of [70, 0, 7, 119, 35, 36, 120, 500, 64]) {
          const page = await store.listPackages(ARCH, { limit: 9, offset });
          assert.deepEqual(page.items.map((p) => p.id), all.slice(offset, offset + 9), `round ${round}, offset ${offset}`);
          assert.equal(page.total, 120);
        }
      }
      assert.deepEqual((await byCursor(store, ARCH, 25)).map((p) => p.id), all);
      const named = await store.listPackages({ ...ARCH, name: 'KG01' }, { limit: 5, offset: 5 });
      assert.deepEqual([named.total, named.items.map((p) => p.name)], [10, ['pkg015', 'pkg016', 'pkg017', 'pkg018', 'pkg019']]);
      assert.equal((await store.listPackages({ ...ARCH, name: 'zzz' })).total, 0);
      // Another store (another daemon or process) adds versions: counted again, the bookmarks dropped.
      await other.syncPackages({ ...ARCH, packages: [...names, 'aaa', 'pkg0355'].map((n) => pkg(n, '1')) });
      let after = await store.listPackages(ARCH, { limit: 9, offset: 36 });
      // SQLite tells of another connection's commit (data_version); PostgreSQL does not, so there a
      // total kept because counting was slow (a loaded machine) shows it within 2 s (TOTAL_TTL_MS).
      for (const end = Date.now() + 3_000; after.total !== 122 && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 100));
        after = await store.listPackages(ARCH, { limit: 9, offset: 36 });
      }
      assert.equal(after.total, 122);
      assert.deepEqual(after.items.map((p) => p.name), ['pkg035', 'pkg0355', 'pkg036', 'pkg037', 'pkg038', 'pkg039', 'pkg040', 'pkg041', 'pkg042']);
      assert.equal((await store.listPackages({ ...ARCH, name: 'pkg035' })).total, 2);
      // A final verdict moves a package between verdict filters at once.
      assert.equal((await store.listPackages({ ...ARCH, verdict: 'none' }, { limit: 5 })).total, 122);
      const { worker } = await store.addWorker('w1', X86);
      const c = (await store.claim(worker.id))!;
      await store.report(c.job.id, c.leaseToken, { verdict: 'REPRODUCIBLE' });
      assert.equal((await store.listPackages({ ...ARCH, verdict: 'none' }, { limit: 5 })).total, 121);
      assert.equal((await store.listPackages({ ...ARCH, verdict: 'REPRODUCIBLE' }, { limit: 5 })).total, 1);
      await other.close();
      await store.close();
    }));

  test('listing filters by name substring and latest verdict and pages; counts are per verdict', () =>
    withEnv(async (env) => {
      const store = await env.open();
      await store.syncPackages({ ...ARCH, packages: Array.from({ length: 30 }, (_, i) => pkg(`lib${String(i).padStart(2, '0')}`, '1')) });
      await store.syncPackages({ distribution: 'archlinux', suite: 'core', architecture: 'aarch64', packages: [pkg('lib00', '1')] });
      const { worker } = await store.addWorker('w1', X86);
      for (let i = 0; i < 3; i++) {
        const c = (await store.claim(worker.id))!;
        await store.report(c.job.id, c.leaseToken, { verdict: i === 0 ? 'UNREPRODUCIBLE' : 'REPRODUCIBLE', failureClass: undefined });
      }
      const page = await store.listPackages({ ...ARCH, name: 'LIB1' }, { limit: 4, offset: 4 });
      assert.equal(page.total, 10);
      assert.deepEqual(page.items.map((p) => p.name), ['lib14', 'lib15', 'lib16', 'lib17']);
      assert.equal((await store.listPackages({ ...ARCH, verdict: 'REPRODUCIBLE' })).total, 2);
      assert.equal((await store.listPackages({ ...ARCH, verdict: 'none' })).total, 28, 'the UNREPRODUCIBLE one awaits its confirmation: no final verdict yet');
      assert.equal((await store.listPackages({ name: '%' })).total, 0, 'LIKE wildcards in the filter are literal');
      const counts = await store.packageCounts({ distribution: 'archlinux' });
      assert.deepEqual(
        counts.map((c) => [c.architecture, c.verdict, c.count]),
        [['aarch64', null, 1], ['x86_64', null, 28], ['x86_64', 'REPRODUCIBLE', 2]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );
      await assert.rejects(store.listPackages({ verdict: 'GOOD' as never }), InvalidInputError);
      await store.close();
    }));

  test('a re-sync listing the same versions only stamps them as seen: no input rewritten, no job touched or added; a changed build input is replaced and its queued job follows, without a second job', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now });
      const first = [pkg('a', '1'), pkg('b', '1'), pkg('c', '1')];
      await store.syncPackages({ ...ARCH, packages: first });
      const jobs = async () => (await store.listQueue()).items.map((j) => `${j.package.name} ${j.status} ${j.backend} ${j.minMemoryMb} ${j.updatedAt}`).sort();
      const before = await jobs();
      const started = clock.t;
      clock.advance(MIN);
      const same = await store.syncPackages({ ...ARCH, packages: first });
      assert.deepEqual(same, { listed: 3, added: 0, changed: 0, returned: 0, left: 0, enqueued: 0, superseded: 0 });
      assert.deepEqual(await jobs(), before, 'the jobs are as they were, updated_at included');
      const listed = (await store.listPackages(ARCH)).items;
      assert.deepEqual(listed.map((p) => [p.name, p.firstSeenAt, p.lastSeenAt]), [['a', started, clock.t], ['b', started, clock.t], ['c', started, clock.t]]);

      clock.advance(MIN);
      const rebuilt = pkg('b', '1', { backend: 'mock', minMemoryMb: 2048, artifacts: [{ name: 'b', url: 'https://example.invalid/b-1-respun.pkg', sha256: 'cd'.repeat(32) }] });
      const changed = await store.syncPackages({ ...ARCH, packages: [first[0]!, rebuilt, first[2]!] });
      assert.deepEqual([changed.changed, changed.added, changed.enqueued], [1, 0, 0]);
      const b = await store.getPackage(listed[1]!.id);
      assert.deepEqual(b.input?.artifacts.map((x) => [x.url, x.sha256]), [['https://example.invalid/b-1-respun.pkg', 'cd'.repeat(32)]]);
      assert.deepEqual(await jobs(), [before[0], `b queued mock 2048 ${clock.t}`, before[2]]);
      await store.close();
    }));

  test('a sync streamed from a generator over several batches is one transaction: an invalid package or one listed twice after the first batch leaves the store as it was', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now });
      const names = (n: number) => Array.from({ length: n }, (_, i) => `p${String(i).padStart(5, '0')}`);
      await store.syncPackages({ ...ARCH, packages: names(5).map((n) => pkg(n, '1')) });
      const state = async () => [await store.countPackages({ ...ARCH, archive: 'all' }), await store.countPackages({ ...ARCH, archive: 'left' }), (await store.listQueue({}, { limit: 1 })).total];
      async function* stream(list: PackageInput[]) {
        for (const p of list) yield p;
      }
      clock.advance(MIN);
      const many = names(4500).map((n) => pkg(n, '2'));
      await assert.rejects(store.syncPackages({ ...ARCH, packages: stream([...many, pkg('bad/name', '1')]) }), InvalidInputError);
      assert.deepEqual(await state(), [5, 0, 5]);
      await assert.rejects(store.syncPackages({ ...ARCH, packages: stream([...many, pkg('p00007', '2')]) }), /p00007 2 is listed twice/);
      assert.deepEqual(await state(), [5, 0, 5]);
      const s = await store.syncPackages({ ...ARCH, packages: stream(many) });
      assert.deepEqual([s.listed, s.added, s.left, s.enqueued, s.superseded], [4500, 4500, 5, 4500, 5]);
      assert.deepEqual(await state(), [4505, 5, 4500], "the queue lists the 4500 new jobs; the 5 of the versions that left are superseded");
      await store.close();
    }));

  test('the cause filter lists the in-archive versions whose newest final result names the cause, by name, paged by offset and by cursor; a new final result or a version leaving moves it at once; the migration backfill writes the same rows', () =>
    withEnv(async (env) => {
      const store = await env.open();
      const names = Array.from({ length: 36 }, (_, i) => `c${String((i * 7) % 36).padStart(2, '0')}`);
      await store.syncPackages({ ...ARCH, packages: names.map((n) => pkg(n, '1')) });
      await store.syncPackages({ distribution: 'archlinux', suite: 'core', architecture: 'aarch64', packages: [pkg('c03', '1'), pkg('c04', '1')] });
      const { worker } = await store.addWorker('w1', { architectures: ['x86_64', 'aarch64'], backends: ['command'] });
      // c00, c03, c06, ... name both causes; c01, c04, ... name one, twice; the rest none.
      const causesOf = (name: string): string[] => [[ 'timestamps_in_gzip_headers', 'captures_build_path'], ['captures_build_path', 'captures_build_path'], []][Number(name.slice(1)) % 3]!;
      for (let c = await store.claim(worker.id); c; c = await store.claim(worker.id)) {
        await store.report(c.job.id, c.leaseToken, { verdict: c.job.package.architecture === 'aarch64' ? 'BIT_IDENTICAL' : 'REPRODUCIBLE', issues: causesOf(c.job.package.name) });
      }
      const expected = (cause: string, arch?: string): string[] =>
        [...names.map((n) => [n, 'x86_64']), ['c03', 'aarch64'], ['c04', 'aarch64']]
          .filter(([n, a]) => causesOf(n!).includes(cause) && (arch === undefined || a === arch))
          .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)) // by name, then id: x86_64 was synced first
          .map(([n, a]) => `${n} ${a}`);
      const shown = (items: { name: string; architecture: string }[]) => items.map((p) => `${p.name} ${p.architecture}`);
      const all = await store.listPackages({ issue: 'captures_build_path' }, { limit: 1000 });
      assert.deepEqual(shown(all.items), expected('captures_build_path'));
      assert.equal(all.total, 26);
      // Offsets in an odd order (bookmarks on SQLite) and the cursor give the rows of the one long read.
      for (const offset of [20, 0, 7, 25, 26, 13]) {
        const page = await store.listPackages({ issue: 'captures_build_path' }, { limit: 6, offset });
        assert.deepEqual(page.items.map((p) => p.id), all.items.slice(offset, offset + 6).map((p) => p.id), `offset ${offset}`);
        assert.equal(page.total, 26);
      }
      assert.deepEqual((await byCursor(store, { issue: 'captures_build_path' }, 5)).map((p) => p.id), all.items.map((p) => p.id));
      // With the other filters, the other orders and the count.
      assert.deepEqual(shown((await store.listPackages({ issue: 'timestamps_in_gzip_headers', architecture: 'aarch64' })).items), expected('timestamps_in_gzip_headers', 'aarch64'));
      assert.deepEqual(shown((await store.listPackages({ issue: 'timestamps_in_gzip_headers', verdict: 'BIT_IDENTICAL' })).items), ['c03 aarch64']);
      assert.deepEqual(shown((await store.listPackages({ issue: 'timestamps_in_gzip_headers', name: 'c1' })).items), ['c12 x86_64', 'c15 x86_64', 'c18 x86_64']);
      assert.deepEqual(shown((await store.listPackages({ issue: 'timestamps_in_gzip_headers' }, {}, '-name')).items), expected('timestamps_in_gzip_headers').reverse(), 'name descending, then id descending');
      assert.equal(await store.countPackages({ issue: 'timestamps_in_gzip_headers' }), 13);
      assert.equal((await store.listPackages({ issue: 'no_such_cause' })).total, 0);
      await assert.rejects(store.listPackages({ issue: "x' or 1=1 --" }), InvalidInputError);

      assert.equal((await store.listPackages({ issue: 'timestamps_in_gzip_headers' }, { limit: 3, offset: 3 })).total, 13);
      // c00 is rebuilt and its newest final result names no cause: out of both lists at once (the totals were kept).
      const again = await store.push({ ...ARCH, name: 'c00' });
      const c = (await store.claim(worker.id))!;
      assert.equal(c.job.id, again.id);
      await store.report(c.job.id, c.leaseToken, { verdict: 'REPRODUCIBLE', issues: [] });
      assert.deepEqual(shown((await store.listPackages({ issue: 'captures_build_path' }, { limit: 1000 })).items), expected('captures_build_path').filter((n) => n !== 'c00 x86_64'));
      assert.equal((await store.listPackages({ issue: 'timestamps_in_gzip_headers' }, { limit: 3, offset: 3 })).total, 12);
      // c03 leaves the archive in x86_64: listed among the versions that left, no longer among those in.
      await store.syncPackages({ ...ARCH, packages: names.filter((n) => n !== 'c03').map((n) => pkg(n, '1')) });
      assert.deepEqual(shown((await store.listPackages({ issue: 'timestamps_in_gzip_headers', archive: 'left' })).items), ['c03 x86_64']);
      assert.equal((await store.listPackages({ issue: 'timestamps_in_gzip_headers' })).total, 11);

      // The migration's backfill from latest_issues writes the rows the reports wrote.
      const db = dbOf(store);
      const rows = () => db.selectFrom('source_package_causes').select(['source_package_id', 'cause', 'package_name']).orderBy('source_package_id').orderBy('cause').execute();
      const written = await rows();
      assert.equal(written.length, 12 + 25);
      await db.deleteFrom('source_package_causes').execute();
      await backfillCauses(db);
      assert.deepEqual(await rows(), written);
      await store.close();
    }));

  test('a name search gives the matching versions by name and their total, whether few match (read by trigrams on SQLite) or most (along the name index), by offset and by cursor', () =>
    withEnv(async (env) => {
      const store = await env.open();
      // 2 100 names in an order unlike their ids, so sorting is tested too.
      const names = Array.from({ length: 2100 }, (_, i) => `pkg${String((i * 17) % 2100).padStart(4, '0')}`);
      await store.syncPackages({ ...ARCH, packages: names.map((n) => pkg(n, '1')) });
      const sorted = [...names].sort();
      for (const [search, offsets] of [
        ['pkg', [0, 1000, 2050, 2100]],
        ['G02', [0, 50, 99]],
        ['g209', [0, 5]],
        ['2', [0, 700]],
        ['pkg0000', [0]],
        ['zzz', [0]],
      ] as const) {
        const expected = sorted.filter((n) => n.includes(search.toLowerCase()));
        for (const offset of offsets) {
          const page = await store.listPackages({ ...ARCH, name: search }, { limit: 50, offset });
          assert.deepEqual(page.items.map((p) => p.name), expected.slice(offset, offset + 50), `${search} from ${offset}`);
          assert.equal(page.total, expected.length, `total of ${search}`);
        }
        assert.deepEqual((await byCursor(store, { ...ARCH, name: search }, 400)).map((p) => p.name), expected, `${search} by cursor`);
      }
      await store.close();
    }));

  test('a new version supersedes the queued job of the old one, not a running one', () =>
    withEnv(async (env) => {
      const store = await env.open();
      await store.syncPackages({ ...ARCH, packages: [pkg('openssl', '3.0-1'), pkg('curl', '8.0-1')] });
      const { worker } = await store.addWorker('w1', X86);
      const running = (await store.claim(worker.id))!;
      assert.equal(running.job.package.name, 'openssl', 'claim order is priority, then age, then id');
      const s = await store.syncPackages({ ...ARCH, packages: [pkg('openssl', '3.0-2'), pkg('curl', '8.0-2')] });
      assert.equal(s.superseded, 1);
      const queue = await store.listQueue();
      assert.deepEqual(queue.items.map((j) => `${j.status} ${j.package.name} ${j.package.version}`).sort(), ['queued curl 8.0-2', 'queued openssl 3.0-2', 'running openssl 3.0-1']);
      const all = await store.listQueue({ statuses: ['superseded'] });
      assert.deepEqual(all.items.map((j) => `${j.package.name} ${j.package.version}`), ['curl 8.0-1']);
      assert.deepEqual(await store.heartbeat(running.job.id, running.leaseToken).then((h) => h.continue), true);
      await store.close();
    }));

  test('a claim matches architecture, backend and memory: an aarch64 or mock job never goes to an x86_64 command worker', () =>
    withEnv(async (env) => {
      const store = await env.open();
      await store.syncPackages({ ...ARCH, architecture: 'aarch64', packages: [pkg('arm-only', '1')] });
      await store.syncPackages({ ...ARCH, packages: [pkg('needs-mock', '1', { backend: 'mock' }), pkg('big', '1', { minMemoryMb: 65536 }), pkg('small', '1', { minMemoryMb: 1024 })] });
      const x86 = (await store.addWorker('x86', X86)).worker;
      const got = await drain(store, x86.id);
      const names = await Promise.all(got.map(async (id) => (await store.getJob(id)).package.name));
      assert.deepEqual(names, ['small']);
      assert.equal(await store.claim(x86.id, { architectures: ['x86_64'], backends: ['command'] }), null, 'a worker that does not say its memory gets no job with a requirement');
      const arm = (await store.addWorker('arm', { architectures: ['aarch64'], backends: ['command', 'mock'], memoryMb: 4096 })).worker;
      assert.deepEqual(await Promise.all((await drain(store, arm.id)).map(async (id) => (await store.getJob(id)).package.name)), ['arm-only']);
      const big = (await store.addWorker('big', { architectures: ['x86_64'], backends: ['mock', 'command'], memoryMb: 131072 })).worker;
      assert.deepEqual((await Promise.all((await drain(store, big.id)).map(async (id) => (await store.getJob(id)).package.name))).sort(), ['big', 'needs-mock']);
      await store.close();
    }));

  test('priority first: a pushed job with a higher priority is claimed before older ones; a job waits for its run_after', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now });
      await store.syncPackages({ ...ARCH, packages: [pkg('a', '1'), pkg('b', '1'), pkg('c', '1')] });
      const pushed = await store.push({ ...ARCH, name: 'c', priority: 50 });
      assert.equal(pushed.priority, 50, 'the queued job of c got the higher priority, no second job');
      assert.equal((await store.listQueue()).total, 3);
      const { worker } = await store.addWorker('w1', X86);
      assert.equal((await store.claim(worker.id))!.job.package.name, 'c');
      await assert.rejects(store.push({ ...ARCH, name: 'c' }), ConflictError, 'c is running');
      await assert.rejects(store.push({ ...ARCH, name: 'nope' }), NotFoundError);
      await assert.rejects(store.push({ ...ARCH, name: 'a', version: '9' }), NotFoundError);
      await store.close();
    }));

  test('four claimers on four store instances drain 2 000 jobs: each job claimed once, each result recorded once', () =>
    withEnv(async (env) => {
      const setup = await env.open();
      await setup.syncPackages({ ...ARCH, packages: Array.from({ length: 2000 }, (_, i) => pkg(`p${i}`, '1')) });
      const workerIds: number[] = [];
      for (let i = 0; i < 4; i++) workerIds.push((await setup.addWorker(`w${i}`, X86)).worker.id);
      const stores = await Promise.all(workerIds.map(() => env.open()));
      const claimed = await Promise.all(stores.map((s, i) => drain(s, workerIds[i]!)));
      const all = claimed.flat();
      assert.equal(all.length, 2000);
      assert.equal(new Set(all).size, 2000, 'no job was claimed twice');
      assert.ok(claimed.filter((c) => c.length > 0).length >= 2, 'the claimers really ran side by side');
      const done = await setup.listQueue({ statuses: ['done'] }, { limit: 1 });
      assert.equal(done.total, 2000);
      const results = await setup.listPackages({ ...ARCH, verdict: 'BIT_IDENTICAL' }, { limit: 1 });
      assert.equal(results.total, 2000);
      for (const id of all.slice(0, 50)) assert.equal((await setup.listAttempts(id)).length, 1);
      await Promise.all([...stores, setup].map((s) => s.close()));
    }));

  test('an expired lease is returned on time and reclaimed; the old holder may still report while no result exists, and the new holder is told to stop', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now, queue: { leaseMs: 10 * MIN, retry: { infrastructure: { delayMs: MIN, maxRetries: 3 } } } });
      await store.syncPackages({ ...ARCH, packages: [pkg('gcc', '14-1')] });
      const a = (await store.addWorker('a', X86)).worker;
      const b = (await store.addWorker('b', X86)).worker;
      const first = (await store.claim(a.id))!;
      clock.advance(10 * MIN - 1);
      assert.deepEqual(await store.expireLeases(), [], 'not before the lease ends');
      clock.advance(1);
      const expired = await store.expireLeases();
      assert.deepEqual(expired.map((e) => [e.jobId, e.requeued]), [[first.job.id, true]]);
      const attempts = await store.listAttempts(first.job.id);
      assert.equal(attempts[0]!.failureClass, 'infrastructure');
      assert.match(attempts[0]!.message ?? '', /worker lost/);
      assert.equal((await store.getJob(first.job.id)).attempts.infrastructure, 1);
      assert.equal(await store.claim(b.id), null, 'the infrastructure backoff holds it for a minute');
      clock.advance(MIN);
      const second = (await store.claim(b.id))!;
      assert.equal(second.job.id, first.job.id);
      assert.notEqual(second.leaseToken, first.leaseToken);

      const late = await store.report(first.job.id, first.leaseToken, { verdict: 'REPRODUCIBLE' });
      assert.equal(late.job.status, 'done');
      assert.deepEqual(await store.heartbeat(second.job.id, second.leaseToken), { continue: false, reason: 'result-recorded' });
      await assert.rejects(store.report(second.job.id, second.leaseToken, { verdict: 'BIT_IDENTICAL' }), ConflictError);
      const results = await store.listResults(first.job.package.id);
      assert.deepEqual(results.map((r) => [r.verdict, r.final, r.workerId]), [['REPRODUCIBLE', true, a.id]]);
      await store.close();
    }));

  test('once the new holder has reported, the expired holder gets a conflict and nothing is stored', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now, queue: { leaseMs: MIN, retry: { infrastructure: { delayMs: 0 } } } });
      await store.syncPackages({ ...ARCH, packages: [pkg('gcc', '14-1')] });
      const a = (await store.addWorker('a', X86)).worker;
      const b = (await store.addWorker('b', X86)).worker;
      const first = (await store.claim(a.id))!;
      clock.advance(MIN);
      await store.expireLeases();
      assert.deepEqual(await store.heartbeat(first.job.id, first.leaseToken), { continue: false, reason: 'lease-lost' });
      const second = (await store.claim(b.id))!;
      await store.report(second.job.id, second.leaseToken, { verdict: 'BIT_IDENTICAL' });
      await assert.rejects(store.report(first.job.id, first.leaseToken, { verdict: 'UNREPRODUCIBLE' }), ConflictError);
      assert.deepEqual((await store.listResults(first.job.package.id)).map((r) => [r.verdict, r.workerId]), [['BIT_IDENTICAL', b.id]]);
      await store.close();
    }));

  test('the same report sent twice is stored once; a different report on the same lease is a conflict; a wrong token too', () =>
    withEnv(async (env) => {
      const store = await env.open();
      await store.syncPackages({ ...ARCH, packages: [pkg('vim', '9.1-1')] });
      const w = (await store.addWorker('w', X86)).worker;
      const c = (await store.claim(w.id))!;
      const log = await store.putBlob(['build log\n'].map((s) => Buffer.from(s)));
      const body = { verdict: 'UNREPRODUCIBLE', issues: ['timestamps_in_tarball'], ignored: [], timings: { build: 1200 }, logBlob: log.sha256, exitCode: 0 } as const;
      await assert.rejects(store.report(c.job.id, 'not-a-lease', body), ConflictError);
      const once = await store.report(c.job.id, c.leaseToken, { ...body, issues: [...body.issues] });
      const twice = await store.report(c.job.id, c.leaseToken, { ...body, issues: [...body.issues], timings: { build: 1200 } });
      assert.equal(once.duplicate, false);
      assert.equal(twice.duplicate, true);
      assert.equal(twice.result.id, once.result.id);
      await assert.rejects(store.report(c.job.id, c.leaseToken, { ...body, issues: [] }), ConflictError);
      assert.equal((await store.listResults(c.job.package.id)).length, 1);
      await assert.rejects(store.report(c.job.id, c.leaseToken, { verdict: 'ERROR', logBlob: 'cd'.repeat(32) }), InvalidInputError, 'a blob that was never uploaded');
      await assert.rejects(store.report(987654, c.leaseToken, body), NotFoundError);
      await store.close();
    }));

  test('two different reports racing on one job from two store instances: exactly one wins', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const [s1, s2] = [await env.open({ now: clock.now, queue: { leaseMs: MIN, retry: { infrastructure: { delayMs: 0 } } } }), await env.open({ now: clock.now, queue: { leaseMs: MIN } })];
      await s1.syncPackages({ ...ARCH, packages: Array.from({ length: 20 }, (_, i) => pkg(`r${i}`, '1')) });
      const a = (await s1.addWorker('a', X86)).worker;
      const b = (await s1.addWorker('b', X86)).worker;
      const olds = [];
      for (let i = 0; i < 20; i++) olds.push((await s1.claim(a.id))!);
      clock.advance(MIN);
      assert.equal((await s1.expireLeases()).length, 20);
      const pairs = [];
      for (let i = 0; i < 20; i++) {
        const fresh = (await s1.claim(b.id))!;
        pairs.push({ old: olds.find((o) => o.job.id === fresh.job.id)!, fresh });
      }
      const outcomes = await Promise.all(
        pairs.flatMap(({ old, fresh }) => [
          s1.report(old.job.id, old.leaseToken, { verdict: 'UNREPRODUCIBLE', failureClass: undefined }).then(() => 'ok', (e: unknown) => (e instanceof ConflictError ? 'conflict' : Promise.reject(e))),
          s2.report(fresh.job.id, fresh.leaseToken, { verdict: 'BIT_IDENTICAL' }).then(() => 'ok', (e: unknown) => (e instanceof ConflictError ? 'conflict' : Promise.reject(e))),
        ]),
      );
      for (let i = 0; i < 20; i++) {
        const pair = outcomes.slice(2 * i, 2 * i + 2);
        const job = await s1.getJob(pairs[i]!.old.job.id);
        const results = await s1.listResults(job.package.id);
        if (pair.filter((o) => o === 'ok').length === 2) {
          // The late UNREPRODUCIBLE report came first and was not final (a confirmation is due): the new holder's report then ended the job.
          assert.deepEqual(results.map((r) => [r.verdict, r.final]), [['BIT_IDENTICAL', true], ['UNREPRODUCIBLE', false]]);
        } else {
          assert.deepEqual(pair.sort(), ['conflict', 'ok']);
          assert.equal(results.filter((r) => r.final).length, 1);
        }
        assert.equal(job.status, 'done');
        assert.equal(results.filter((r) => r.final).length, 1, 'exactly one final result');
      }
      await s1.close();
      await s2.close();
    }));

  test('retries count per failure class and stop at max_retries (rebuilderd #196, #233)', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({
        now: clock.now,
        queue: { retry: { ftbfs: { maxRetries: 2, delayMs: MIN, backoff: 'linear' }, infrastructure: { maxRetries: 1, delayMs: MIN, backoff: 'exponential' } } },
      });
      await store.syncPackages({ ...ARCH, packages: [pkg('flaky', '1')] });
      const w = (await store.addWorker('w', X86)).worker;
      const claimAfter = async (ms: number) => {
        assert.equal(await store.claim(w.id), null, `not runnable before its delay of ${ms} ms`);
        clock.advance(ms);
        return (await store.claim(w.id))!;
      };
      let c = (await store.claim(w.id))!;
      let r = await store.report(c.job.id, c.leaseToken, { verdict: 'ERROR', message: 'fetch failed: 503' });
      assert.equal(r.job.status, 'queued');
      assert.deepEqual(r.job.attempts, { ftbfs: 0, unreproducible: 0, infrastructure: 1 });
      c = await claimAfter(MIN);
      r = await store.report(c.job.id, c.leaseToken, { verdict: 'FTBFS', exitCode: 2 });
      assert.equal(r.job.status, 'queued', 'an infrastructure failure did not use up the FTBFS retries');
      c = await claimAfter(MIN);
      r = await store.report(c.job.id, c.leaseToken, { verdict: 'FTBFS', exitCode: 2 });
      assert.equal(r.job.status, 'queued');
      assert.equal(r.job.runAfter, clock.t + 2 * MIN, 'linear backoff: delay × attempt');
      c = await claimAfter(2 * MIN);
      r = await store.report(c.job.id, c.leaseToken, { verdict: 'FTBFS', exitCode: 2 });
      assert.equal(r.job.status, 'done', 'the third FTBFS is past max_retries = 2');
      assert.equal(r.result.final, true);
      assert.deepEqual(r.job.attempts, { ftbfs: 3, unreproducible: 0, infrastructure: 1 });
      clock.advance(1000 * MIN);
      assert.equal(await store.claim(w.id), null, 'never built again');
      assert.equal((await store.listAttempts(c.job.id)).length, 4);
      await store.close();
    }));

  test('a first UNREPRODUCIBLE verdict is confirmed by one more rebuild later; the final result points at the first', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now, queue: { retry: { unreproducible: { maxRetries: 1, delayMs: 30 * MIN } } } });
      await store.syncPackages({ ...ARCH, packages: [pkg('python', '3.12-1'), pkg('perl', '5.40-1')] });
      const w = (await store.addWorker('w', X86)).worker;
      const firsts = [(await store.claim(w.id))!, (await store.claim(w.id))!];
      assert.equal(firsts[0]!.confirmation, false);
      for (const c of firsts) {
        const r = await store.report(c.job.id, c.leaseToken, { verdict: 'UNREPRODUCIBLE' });
        assert.equal(r.result.final, false);
        assert.equal(r.job.status, 'queued');
      }
      assert.equal(await store.claim(w.id), null);
      clock.advance(30 * MIN);
      const verdicts: Record<string, string> = { python: 'REPRODUCIBLE', perl: 'UNREPRODUCIBLE' };
      for (let i = 0; i < 2; i++) {
        const c = (await store.claim(w.id))!;
        assert.equal(c.confirmation, true);
        const r = await store.report(c.job.id, c.leaseToken, { verdict: verdicts[c.job.package.name] as 'REPRODUCIBLE' });
        assert.equal(r.result.final, true);
        assert.equal(r.job.status, 'done');
        const first = await store.getResult(r.result.previousResultId!);
        assert.equal(first.verdict, 'UNREPRODUCIBLE');
        assert.equal(first.jobId, c.job.id);
      }
      assert.deepEqual((await store.listPackages(ARCH)).items.map((p) => [p.name, p.latestVerdict]), [['perl', 'UNREPRODUCIBLE'], ['python', 'REPRODUCIBLE']]);
      await store.close();
    }));

  test('regressions and fixes are recorded as their final results are written: across versions, ERROR and non-final results skipped, other suites apart', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now, queue: { retry: { unreproducible: { maxRetries: 1, delayMs: 0 }, infrastructure: { maxRetries: 0, delayMs: 0 } } } });
      const w = (await store.addWorker('w', X86)).worker;
      const build = async (suite: string, version: string, ...verdicts: ('BIT_IDENTICAL' | 'UNREPRODUCIBLE' | 'REPRODUCIBLE' | 'ERROR' | 'FTBFS')[]) => {
        await store.syncPackages({ ...ARCH, suite, mode: 'partial', packages: [pkg('zlib', version)] });
        for (const verdict of verdicts) {
          clock.advance(MIN);
          const c = (await store.claim(w.id))!;
          assert.equal(c.job.package.version, version);
          await store.report(c.job.id, c.leaseToken, { verdict });
        }
      };
      await build('core', '1', 'BIT_IDENTICAL');
      await build('core', '2', 'UNREPRODUCIBLE', 'UNREPRODUCIBLE'); // the first is not final: confirmed by the second
      await build('core', '3', 'ERROR'); // the rebuilder's own failure: no change either way
      await build('core', '4', 'REPRODUCIBLE');
      await build('testing', '4', 'UNREPRODUCIBLE', 'UNREPRODUCIBLE'); // another suite: no predecessor there
      const changes = await events(store);
      assert.deepEqual(
        changes.map((e) => [e.kind, e.package.suite, e.package.version, e.previousVersion, e.previousVerdict, e.verdict]),
        [
          ['fix', 'core', '4', '2', 'UNREPRODUCIBLE', 'REPRODUCIBLE'],
          ['regression', 'core', '2', '1', 'BIT_IDENTICAL', 'UNREPRODUCIBLE'],
        ],
      );
      assert.deepEqual((await events(store, { kind: 'regression' })).map((e) => e.package.version), ['2']);
      assert.deepEqual((await events(store, { beforeResultId: changes[0]!.resultId })).map((e) => e.package.version), ['2'], 'the next page');

      // Migration 0007 finds the same changes in a history written before it, and counts them as mailed.
      const db = dbOf(store);
      const dialect = (store as unknown as { ctx: { h: { dialect: 'sqlite' | 'postgres' } } }).ctx.h.dialect;
      await sql`drop table verdict_changes`.execute(db);
      await sql`delete from kysely_migration where name = '0007_verdict_changes'`.execute(db);
      await migrateToLatest(db, dialect);
      assert.deepEqual(await events(store), changes);
      assert.deepEqual(await db.selectFrom('verdict_changes').select('notified_at').where('notified_at', 'is', null).execute(), []);
      await store.close();
    }));

  test('a job out of infrastructure retries after lost workers is done with an ERROR result', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now, queue: { leaseMs: MIN, retry: { infrastructure: { maxRetries: 1, delayMs: 0 } } } });
      await store.syncPackages({ ...ARCH, packages: [pkg('ghc', '9-1')] });
      const w = (await store.addWorker('w', X86)).worker;
      for (let i = 0; i < 2; i++) {
        assert.ok(await store.claim(w.id));
        clock.advance(MIN);
        await store.expireLeases();
      }
      const [job] = (await store.listQueue({ statuses: ['done'] })).items;
      assert.ok(job);
      const result = await store.getResult(job.resultId!);
      assert.equal(result.verdict, 'ERROR');
      assert.match(result.message ?? '', /out of infrastructure retries/);
      assert.equal(await store.claim(w.id), null);
      await store.close();
    }));

  test('retry, drop, push and lookups of unknown or finished jobs answer typed errors, never untyped ones (rebuilderd #164)', () =>
    withEnv(async (env) => {
      const store = await env.open();
      await store.syncPackages({ ...ARCH, packages: [pkg('a', '1'), pkg('b', '1')] });
      const w = (await store.addWorker('w', X86)).worker;
      await assert.rejects(store.retry(424242), NotFoundError);
      await assert.rejects(store.drop(424242), NotFoundError);
      await assert.rejects(store.getJob(424242), NotFoundError);
      await assert.rejects(store.heartbeat(424242, 'x'), NotFoundError);
      await assert.rejects(store.retry(-1), InvalidInputError);
      await assert.rejects(store.drop(1.5), InvalidInputError);
      await assert.rejects(store.removeWorker(424242), NotFoundError);
      await assert.rejects(store.claim(424242), NotFoundError);
      await assert.rejects(store.getResult(424242), NotFoundError);

      const c = (await store.claim(w.id))!;
      await assert.rejects(store.retry(c.job.id), ConflictError, 'a running job is not retried');
      await store.report(c.job.id, c.leaseToken, { verdict: 'BIT_IDENTICAL' });
      await assert.rejects(store.drop(c.job.id), ConflictError, 'a done job is not dropped');
      const again = await store.retry(c.job.id, 99);
      assert.notEqual(again.id, c.job.id);
      assert.deepEqual([again.status, again.priority, again.package.id], ['queued', 99, c.job.package.id]);
      await assert.rejects(store.retry(c.job.id), ConflictError, 'its version is already queued');
      assert.equal((await store.getJob(c.job.id)).status, 'done', 'the old job keeps its result');

      const d = (await store.claim(w.id))!;
      assert.equal(d.job.id, again.id);
      const dropped = await store.drop(d.job.id);
      assert.equal(dropped.status, 'dropped');
      assert.deepEqual(await store.heartbeat(d.job.id, d.leaseToken), { continue: false, reason: 'dropped' });
      assert.equal((await store.getWorker(w.id)).currentJobId, null, 'the worker no longer shows the dropped job');
      await assert.rejects(store.report(d.job.id, d.leaseToken, { verdict: 'BIT_IDENTICAL' }), ConflictError);
      await assert.rejects(store.drop(d.job.id), ConflictError);
      const queued = (await store.listQueue()).items[0]!;
      assert.equal((await store.drop(queued.id)).status, 'dropped');
      assert.equal((await store.listQueue()).total, 0);
      await store.close();
    }));

  test('hostile names, versions and digests are refused and nothing is stored', () =>
    withEnv(async (env) => {
      const store = await env.open();
      const bad: PackageInput[] = [
        pkg('../../etc/passwd', '1'),
        pkg('a/b', '1'),
        pkg('ok', '1/../../x'),
        pkg('nl\nname', '1'),
        pkg('x'.repeat(201), '1'),
        pkg('', '1'),
        pkg('ok', '1', { backend: 'sh -c' }),
        pkg('ok', '1', { artifacts: [{ name: 'ok', url: 'https://x/ok', sha256: 'zz' }] }),
        pkg('ok', '1', { minMemoryMb: -1 }),
      ];
      for (const p of bad) await assert.rejects(store.syncPackages({ ...ARCH, packages: [pkg('fine', '1'), p] }), InvalidInputError, JSON.stringify(p.name));
      await assert.rejects(store.syncPackages({ ...ARCH, distribution: '..', packages: [] }), InvalidInputError);
      await assert.rejects(store.syncPackages({ ...ARCH, packages: [pkg('dup', '1'), pkg('dup', '1')] }), InvalidInputError);
      await assert.rejects(store.addWorker('bad name', X86), InvalidInputError);
      await assert.rejects(store.addWorker('w', { architectures: ['x86_64'] } as never), InvalidInputError);
      assert.equal((await store.listPackages({}, {})).total, 0);
      assert.deepEqual(await store.listDistributions(), []);
      await store.close();
    }));

  test('workers: the token is shown once, only its hash is stored, and authentication finds the worker by it', () =>
    withEnv(async (env) => {
      const clock = new Clock();
      const store = await env.open({ now: clock.now });
      const { worker, token } = await store.addWorker('builder-1', X86);
      assert.ok(token.length >= 40);
      assert.equal((await store.authenticateWorker(token))?.id, worker.id);
      assert.equal(await store.authenticateWorker(`${token}x`), null);
      assert.equal(await store.authenticateWorker(''), null);
      assert.ok(!JSON.stringify(await store.listWorkers()).includes(token));
      await assert.rejects(store.addWorker('builder-1', X86), ConflictError);
      clock.advance(5000);
      const updated = await store.updateWorkerStatus(worker.id, { version: '0.1.0', freeDiskBytes: 123456789, tags: { architectures: ['x86_64', 'i686'], backends: ['command'] } });
      assert.deepEqual([updated.version, updated.freeDiskBytes, updated.lastSeenAt, updated.tags.architectures], ['0.1.0', 123456789, clock.t, ['x86_64', 'i686']]);
      await store.syncPackages({ ...ARCH, packages: [pkg('a', '1')] });
      const c = (await store.claim(worker.id))!;
      assert.equal((await store.getWorker(worker.id)).currentJobId, c.job.id);
      assert.equal((await store.listQueue()).items[0]!.workerName, 'builder-1');
      await store.removeWorker(worker.id);
      assert.equal(await store.authenticateWorker(token), null);
      assert.deepEqual(await store.listWorkers(), []);
      await store.close();
    }));
}
