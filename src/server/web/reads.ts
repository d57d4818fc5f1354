// What the website reads that the Store's methods do not give in one query: the
// overview's counts with the queue beside them, the daily history of final
// results, the known causes ranked by the packages they are found in, and the
// regressions and fixes (a final result whose verdict crossed between
// reproducing and not, against the previous final result of the same package).
// Read-only, through the store's one database handle (as store-reads.ts does).
// The overview and the cause ranking scan whole tables, so they are cached for a
// few seconds: a statistics page a few seconds old is still true enough.
import { sql } from 'kysely';
import type { CauseSummary, FeedEvent, OverviewResponse } from '../../api/schemas.js';
import { detectors } from '../../explain/registry.js';
import { type PackageSummary, type Store, type Verdict, VERDICTS } from '../../store/index.js';
import { toPackageSummary } from '../../store/packages.js';
import { NOT_REPRODUCING, REPRODUCING } from '../../store/verdict-changes.js';
import { packageCounts } from '../../store/packages.js';
import { packageSummary } from '../map.js';
import { dbOf } from '../store-reads.js';

const DAY = 86_400_000;
export const HISTORY_DAYS = 90;

/** A value computed at most once per `ttlMs`; concurrent callers share the one computation. */
export class Cached<T> {
  private value: { at: number; promise: Promise<T> } | undefined;
  constructor(
    private readonly ttlMs: number,
    private readonly compute: () => Promise<T>,
    private readonly now: () => number,
  ) {}
  get(): Promise<T> {
    const t = this.now();
    if (this.value === undefined || t - this.value.at >= this.ttlMs) {
      const promise = this.compute();
      this.value = { at: t, promise };
      promise.catch(() => {
        if (this.value?.promise === promise) this.value = undefined;
      });
    }
    return this.value.promise;
  }
}

type Counts = OverviewResponse['groups'][number]['verdicts'];
const emptyCounts = (): Counts => ({ BIT_IDENTICAL: 0, IDENTICAL_EXCEPT_SIGNATURE: 0, REPRODUCIBLE: 0, UNREPRODUCIBLE: 0, FTBFS: 0, ERROR: 0, UNKNOWN: 0 });

type DailyRow = { distribution: string; verdict: Verdict; day: number; n: number };

async function dailyQuery(store: Store, from: number, to: number): Promise<DailyRow[]> {
  const rows = await dbOf(store)
    .selectFrom('results as r')
    .innerJoin('source_packages as s', 's.id', 'r.source_package_id')
    .select(['s.distribution', 'r.verdict'])
    .select(sql<number>`r.created_at / ${DAY}`.as('day'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('r.final', '=', 1)
    .where('r.created_at', '>=', from)
    .where('r.created_at', '<', to)
    .groupBy(['s.distribution', sql`r.created_at / ${DAY}`, 'r.verdict'])
    .execute();
  return rows.map((r) => ({ distribution: r.distribution, verdict: r.verdict, day: Number(r.day), n: Number(r.n) }));
}

// Days before today do not change (results are never deleted or back-dated): counted once a day per store,
// one day per query with the event loop free between them, so a million results never hold every page
// (SQLite runs on the event loop) for the seconds the whole span takes.
const pastDays = new WeakMap<Store, { today: number; rows: Promise<DailyRow[]> }>();

async function pastDailyCounts(store: Store, since: number, today: number): Promise<DailyRow[]> {
  const rows: DailyRow[] = [];
  for (let day = since; day < today; day += DAY) {
    rows.push(...(await dailyQuery(store, day, day + DAY)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return rows;
}

async function dailyCounts(store: Store, since: number, now: number): Promise<DailyRow[]> {
  const today = Math.floor(now / DAY) * DAY;
  let past = pastDays.get(store);
  if (!past || past.today !== today) {
    past = { today, rows: pastDailyCounts(store, since, today) };
    pastDays.set(store, past);
    past.rows.catch(() => pastDays.delete(store));
  }
  const [before, current] = await Promise.all([past.rows, dailyQuery(store, today, Number.MAX_SAFE_INTEGER)]);
  return [...before, ...current];
}

export async function overview(store: Store, now: number): Promise<OverviewResponse> {
  const db = dbOf(store);
  const ctx = (store as unknown as { ctx: Parameters<typeof packageCounts>[0] }).ctx;
  const since = Math.floor(now / DAY) * DAY - (HISTORY_DAYS - 1) * DAY;
  const [counts, jobs, daily] = await Promise.all([
    packageCounts(ctx),
    db
      .selectFrom('jobs as j')
      .innerJoin('source_packages as s', 's.id', 'j.source_package_id')
      .select(['s.distribution', 's.suite', 's.architecture', 'j.status'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('j.status', 'in', ['queued', 'running'])
      .groupBy(['s.distribution', 's.suite', 's.architecture', 'j.status'])
      .execute(),
    dailyCounts(store, since, now),
  ]);
  const groups = new Map<string, OverviewResponse['groups'][number]>();
  const group = (distribution: string, suite: string, architecture: string) => {
    const k = `${distribution}\0${suite}\0${architecture}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { distribution, suite, architecture, packages: 0, verdicts: emptyCounts(), queued: 0, running: 0 }));
    return g;
  };
  for (const c of counts) {
    const g = group(c.distribution, c.suite, c.architecture);
    g.packages += c.count;
    g.verdicts[c.verdict ?? 'UNKNOWN'] += c.count;
  }
  for (const j of jobs) {
    const g = group(j.distribution, j.suite, j.architecture);
    if (j.status === 'queued') g.queued += Number(j.n);
    else g.running += Number(j.n);
  }
  const history = new Map<string, OverviewResponse['history'][number]>();
  for (const d of daily) {
    const day = new Date(Number(d.day) * DAY).toISOString().slice(0, 10);
    const k = `${d.distribution}\0${day}`;
    let h = history.get(k);
    if (!h) history.set(k, (h = { distribution: d.distribution, day, results: 0, reproducible: 0 }));
    h.results += Number(d.n);
    if (REPRODUCING.has(d.verdict)) h.reproducible += Number(d.n);
  }
  const byKey = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    generatedAt: now,
    groups: [...groups.values()].sort(byKey((g) => `${g.distribution}\0${g.suite}\0${g.architecture}`)),
    history: [...history.values()].sort(byKey((h) => `${h.distribution}\0${h.day}`)),
  };
}

/** Every detector with the number of in-archive package versions whose latest result names it, most found first. */
export async function causeRanking(store: Store): Promise<CauseSummary[]> {
  // From the cause rows kept beside latest_issues (store/causes.ts): one per version and cause.
  const rows = await dbOf(store)
    .selectFrom('source_package_causes as c')
    .innerJoin('source_packages as s', 's.id', 'c.source_package_id')
    .select('c.cause')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('s.left_archive_at', 'is', null)
    .groupBy('c.cause')
    .execute();
  const found = new Map(rows.map((r) => [r.cause, Number(r.n)]));
  const known = detectors.map((d) => ({ id: d.id, title: d.title, fix: d.fix, packages: found.get(d.id) ?? 0 }));
  // Ids a detector names besides its own (one per archive format, say) are listed after, as found.
  const ids = new Set(known.map((k) => k.id));
  const others = [...found].filter(([id]) => !ids.has(id)).map(([id, packages]) => ({ ...describeCause(id), packages }));
  return [...known, ...others].sort((a, b) => b.packages - a.packages || (a.id < b.id ? -1 : 1));
}

/** A cause's title and fix: its detector's, or the detector whose id it extends. */
export function describeCause(id: string): { id: string; title: string; fix: string } {
  const d = detectors.find((x) => x.id === id) ?? detectors.find((x) => id.startsWith(`${x.id}_`) || id.startsWith(`${x.id}-`));
  return d ? { id, title: d.id === id ? d.title : `${d.title} (${id})`, fix: d.fix } : { id, title: id, fix: 'No fix is known for this cause yet.' };
}

export interface EventFilter {
  kind?: 'regression' | 'fix' | undefined;
  distribution?: string | undefined;
  maintainer?: string | undefined;
  limit?: number | undefined;
  /** Only changes made by results older than this id: the next page of a feed. */
  beforeResultId?: number | undefined;
}

/**
 * Regressions and fixes, newest first, over the whole history (the store records
 * each as the final result that makes it is written; see store/verdict-changes.ts).
 */
export async function events(store: Store, f: EventFilter = {}): Promise<FeedEvent[]> {
  let q = changes(store);
  if (f.kind !== undefined) q = q.where('c.kind', '=', f.kind);
  if (f.distribution !== undefined) q = q.where('s.distribution', '=', f.distribution);
  if (f.maintainer !== undefined) q = q.where('s.maintainer', '=', f.maintainer);
  if (f.beforeResultId !== undefined) q = q.where('c.result_id', '<', f.beforeResultId);
  return (await q.orderBy('c.result_id', 'desc').limit(f.limit ?? 100).execute()).map(feedEvent);
}

/** Changes with their package, both verdicts and the version before: what a feed entry or a mail says. */
export function changes(store: Store) {
  return dbOf(store)
    .selectFrom('verdict_changes as c')
    .innerJoin('source_packages as s', 's.id', 'c.source_package_id')
    .innerJoin('results as r', 'r.id', 'c.result_id')
    .innerJoin('results as p', 'p.id', 'c.previous_result_id')
    .innerJoin('source_packages as ps', 'ps.id', 'p.source_package_id')
    .selectAll('s')
    .select(['c.kind', 'c.result_id as change_result_id', 'c.previous_result_id as change_previous_result_id', 'c.created_at as change_at', 'r.verdict as change_verdict', 'p.verdict as change_previous_verdict', 'ps.version as change_previous_version']);
}

export function feedEvent(row: Awaited<ReturnType<ReturnType<typeof changes>['execute']>>[number]): FeedEvent {
  return {
    kind: row.kind,
    resultId: Number(row.change_result_id),
    previousResultId: Number(row.change_previous_result_id),
    package: packageSummary(toPackageSummary(row)),
    verdict: row.change_verdict,
    previousVerdict: row.change_previous_verdict,
    previousVersion: row.change_previous_version,
    at: Number(row.change_at),
  };
}

/** The newest version of each (suite, architecture) of a package in a distribution, for its badge and its name page. */
export async function packageByName(store: Store, distribution: string, name: string): Promise<PackageSummary[]> {
  const rows = await dbOf(store).selectFrom('source_packages').selectAll().where('name', '=', name).where('distribution', '=', distribution).orderBy('id', 'desc').execute();
  const seen = new Set<string>();
  const out: PackageSummary[] = [];
  // In-archive versions first; one per (suite, architecture), the newest.
  for (const r of [...rows.filter((r) => r.left_archive_at === null), ...rows.filter((r) => r.left_archive_at !== null)]) {
    const k = `${r.suite}\0${r.architecture}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(toPackageSummary(r));
  }
  return out;
}

/** Was any earlier final result of this package (any version) reproducible, while the newest is not? */
export function regressed(history: { verdict: string; final: boolean; id: number }[]): boolean {
  const finals = history.filter((r) => r.final && r.verdict !== 'ERROR').sort((a, b) => b.id - a.id);
  const [latest, ...before] = finals;
  return latest !== undefined && NOT_REPRODUCING.has(latest.verdict) && before.some((r) => REPRODUCING.has(r.verdict));
}

export const VERDICT_LIST: readonly (Verdict | 'UNKNOWN')[] = [...VERDICTS, 'UNKNOWN'];
