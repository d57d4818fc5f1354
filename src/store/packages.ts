// Packages: what a sync takes (its types; the sync itself is sync.ts) and
// reading the package versions back. Every version ever seen keeps its row: a
// version the archive no longer lists is marked as left (rebuilderd deletes it,
// and with it the evidence that it once reproduced).
import { type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { type StoreContext, chunks, parseJson } from './context.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { type Database, VERDICTS, type Verdict } from './schema.js';
import { identifier, integer, packageName, text } from './validate.js';

/** A published artifact (binary package) of a source package version. */
export interface ArtifactInput {
  name: string;
  /** Defaults to the source package's version. */
  version?: string | undefined;
  /** Defaults to the sync's architecture. */
  architecture?: string | undefined;
  url: string;
  sha256: string;
  size?: number | null | undefined;
}

/** One source package version as a source lists it, with what rebuilding it needs. */
export interface PackageInput {
  name: string;
  version: string;
  backend: string;
  /** Backend recipe or parameters (any JSON). */
  recipe?: unknown;
  buildinfoUrl?: string | null | undefined;
  buildinfoSha256?: string | null | undefined;
  /** Memory a rebuild needs, in MiB: only workers with at least this much get it (rebuilderd #126). */
  minMemoryMb?: number | null | undefined;
  artifacts?: readonly ArtifactInput[] | undefined;
  /** Who maintains it ("Name <address>"), for the website's mail and feeds. */
  maintainer?: string | null | undefined;
}

export interface SyncInput {
  distribution: string;
  suite: string;
  architecture: string;
  /**
   * Everything the archive lists now for this (distribution, suite, architecture): a list,
   * or a stream read once. A stream is read inside the sync's transaction (on SQLite, under
   * the write lock): make it from what is in memory, not from the network.
   */
  packages: Iterable<PackageInput> | AsyncIterable<PackageInput>;
  /** Priority of the jobs this sync enqueues (default 0). */
  priority?: number | undefined;
  /**
   * 'full' (default): the list is everything the archive holds, and versions not in it
   * have left. 'partial': the list names some builds (a build notification, a webhook);
   * only older versions of the names it lists leave (their queued jobs superseded),
   * every other package is left alone.
   */
  mode?: 'full' | 'partial' | undefined;
}

export interface SyncSummary {
  /** Versions listed. */
  listed: number;
  /** Versions never seen before. */
  added: number;
  /** Known versions whose build input changed. */
  changed: number;
  /** Versions back in the archive after having left it. */
  returned: number;
  /** Versions no longer listed, marked as left (kept with their history). */
  left: number;
  enqueued: number;
  /** Queued jobs of versions that left, marked superseded. */
  superseded: number;
}

export interface PackageSummary {
  id: number;
  distribution: string;
  suite: string;
  architecture: string;
  name: string;
  version: string;
  firstSeenAt: number;
  lastSeenAt: number;
  /** When it left the archive; null while listed. */
  leftArchiveAt: number | null;
  latestVerdict: Verdict | null;
  latestResultId: number | null;
  maintainer: string | null;
}

export interface ArtifactInfo {
  name: string;
  version: string;
  architecture: string;
  url: string;
  sha256: string;
  size: number | null;
}

export interface BuildInputInfo {
  backend: string;
  recipe: unknown;
  buildinfoUrl: string | null;
  buildinfoSha256: string | null;
  minMemoryMb: number | null;
  artifacts: ArtifactInfo[];
}

export interface PackageFilter {
  distribution?: string | undefined;
  suite?: string | undefined;
  architecture?: string | undefined;
  /** A substring of the name, case-insensitive. */
  name?: string | undefined;
  /** The verdict of the latest final result; 'none' for versions without one. */
  verdict?: Verdict | 'none' | undefined;
  /** Which versions: those listed now (default), those that left, or all. */
  archive?: 'in' | 'left' | 'all' | undefined;
  /** A known-cause id its latest result names. */
  issue?: string | undefined;
  /** Its maintainer, exactly as synced. */
  maintainer?: string | undefined;
}

/** Orders of the package list: by name (default), name descending, most recently seen first, by verdict. */
export const PACKAGE_SORTS = ['name', '-name', 'recent', 'verdict'] as const;
export type PackageSort = (typeof PACKAGE_SORTS)[number];

export interface Page {
  /** At most 1000 (default 100). */
  limit?: number | undefined;
  offset?: number | undefined;
  /** The total when the caller knows it already (a cached count): the count query is skipped. */
  total?: number | undefined;
}

export interface PackageCount {
  distribution: string;
  suite: string;
  architecture: string;
  verdict: Verdict | null;
  count: number;
}

/** The key of a package version in maps by version. */
export const versionKey = (name: string, version: string): string => `${name}\u0000${version}`;

/** Enqueues a job for each of these package versions. */
export async function enqueueJobs(trx: Kysely<Database>, now: number, architecture: string, rows: { id: number; p: { backend: string; minMemoryMb: number | null } }[], priority: number): Promise<void> {
  for (const part of chunks(rows, 200)) {
    if (part.length === 0) continue;
    await trx
      .insertInto('jobs')
      .values(
        part.map(({ id, p }) => ({
          source_package_id: id,
          status: 'queued' as const,
          priority,
          run_after: now,
          architecture,
          backend: p.backend,
          min_memory_mb: p.minMemoryMb,
          attempts_ftbfs: 0,
          attempts_unreproducible: 0,
          attempts_infrastructure: 0,
          lease_token: null,
          lease_expires_at: null,
          worker_id: null,
          result_id: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  }
}

type SourceRow = Database['source_packages'];

export function toPackageSummary(r: Selectable<SourceRow>): PackageSummary {
  return {
    id: r.id,
    distribution: r.distribution,
    suite: r.suite,
    architecture: r.architecture,
    name: r.name,
    version: r.version,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    leftArchiveAt: r.left_archive_at,
    latestVerdict: r.latest_verdict,
    latestResultId: r.latest_result_id,
    maintainer: r.maintainer ?? null,
  };
}

/**
 * The package versions a filter selects. `trigrams`: on SQLite, narrow a name
 * filter of three characters or more by the trigram index first (migration
 * 0004; the LIKE still decides): right for counting and for reading a page of a
 * few matches, while reading a page of many in order is quicker along the name
 * index. A known-cause filter selects from source_package_causes (as c) joined
 * to the versions: its index is in the list's order per cause (see orderOf).
 */
function filtered(db: Kysely<Database>, f: PackageFilter, trigrams = false) {
  const issue = f.issue !== undefined && f.issue !== '' ? identifier('known-cause id', f.issue, 128) : undefined;
  // The same columns either way (source_package_causes names none of source_packages' columns but id's
  // and name's in its own words), so the conditions below read the same on both.
  let q = (
    issue === undefined
      ? db.selectFrom('source_packages')
      : db.selectFrom('source_package_causes as c').innerJoin('source_packages', 'source_packages.id', 'c.source_package_id').where('c.cause', '=', issue)
  ) as SelectQueryBuilder<Database, 'source_packages', object>;
  if (f.distribution !== undefined) q = q.where('distribution', '=', identifier('distribution', f.distribution));
  if (f.suite !== undefined) q = q.where('suite', '=', identifier('suite', f.suite));
  if (f.architecture !== undefined) q = q.where('architecture', '=', identifier('architecture', f.architecture));
  if (f.name !== undefined && f.name !== '') {
    if (typeof f.name !== 'string' || f.name.length > 200) throw new InvalidInputError('Cannot filter packages: the name filter is not a string of at most 200 characters');
    const pattern = `%${f.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where(sql<boolean>`lower(name) like ${pattern} escape '\\'`);
    // The trigram tokenizer folds case (a superset of what lower() folds) and matches a quoted phrase as a substring.
    if (trigrams && [...f.name].length >= 3) q = q.where(sql<boolean>`id in (select rowid from source_package_names where source_package_names match ${`"${f.name.replace(/"/g, '""')}"`})`);
  }
  if (f.verdict !== undefined) {
    if (f.verdict === 'none') q = q.where('latest_verdict', 'is', null);
    else if ((VERDICTS as readonly string[]).includes(f.verdict)) q = q.where('latest_verdict', '=', f.verdict);
    else throw new InvalidInputError(`Cannot filter packages: ${JSON.stringify(f.verdict)} is not a verdict`);
  }
  if (f.maintainer !== undefined && f.maintainer !== '') q = q.where('maintainer', '=', text('maintainer', f.maintainer, 512));
  const archive = f.archive ?? 'in';
  if (archive === 'in') q = q.where('left_archive_at', 'is', null);
  else if (archive === 'left') q = q.where('left_archive_at', 'is not', null);
  else if (archive !== 'all') throw new InvalidInputError(`Cannot filter packages: archive must be in, left or all, not ${JSON.stringify(archive)}`);
  return q;
}

/** The columns of the list's order (name, then id) in the index a filter's pages are read along. */
function orderOf(f: PackageFilter): { name: RawBuilder<string>; id: RawBuilder<number> } {
  return f.issue !== undefined && f.issue !== '' ? { name: sql.ref('c.package_name'), id: sql.ref('c.source_package_id') } : { name: sql.ref('source_packages.name'), id: sql.ref('source_packages.id') };
}

export function pageOf(page: Page): { limit: number; offset: number } {
  return {
    limit: page.limit === undefined ? 100 : integer('page limit', page.limit, 1, 1000),
    offset: page.offset === undefined ? 0 : integer('page offset', page.offset),
  };
}

/** Where a page starts: after this (name, id) in the list's order. */
export interface PageCursor {
  name: string;
  id: number;
}

/** The opaque text of a cursor, for the API. */
export function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.name, c.id]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): PageCursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isSafeInteger(v[1])) throw new InvalidInputError('Cannot page packages: the "after" cursor is not one a list gave out');
  return { name: v[0], id: v[1] as number };
}

/** Bookmarks kept per list (SQLite): where pages already read begin. */
const MARKS_KEPT = 1_024;
/** Totals are kept for at most this long on PostgreSQL, where other daemons' writes are not seen (see listPackages). */
const TOTAL_TTL_MS = 2_000;
/** On PostgreSQL only a count that took at least this long is kept: a small list is counted every time. */
const TOTAL_SLOW_MS = 10;
const TOTALS_KEPT = 256;
/** A name filter matching at most this many versions reads them by the trigram index and sorts them (SQLite). */
const FEW_NAME_MATCHES = 2_000;

/** Marks the package list as changed by this store (call after the write committed): totals are counted again. */
export function packagesChanged(ctx: StoreContext, what: 'packages' | 'verdicts' = 'packages'): void {
  if (what === 'packages') ctx.totals.generation++;
  else ctx.totals.verdicts++;
}

/**
 * What the package list shows, as a text that changes whenever any of it may
 * have: this store's syncs and results at once, and on SQLite any other
 * connection's commit (`PRAGMA data_version`). PostgreSQL does not tell of other
 * daemons' writes: there the text also changes every TOTAL_TTL_MS, so they show
 * within that time. For caches of what is read from the list (rendered pages).
 */
export function listStamp(ctx: StoreContext): string {
  const other = ctx.h.dataVersion ? ctx.h.dataVersion() : Math.floor(Date.now() / TOTAL_TTL_MS);
  return `${ctx.totals.generation}:${ctx.totals.verdicts}:${other}`;
}

type KeptTotal = StoreContext['totals']['entries'] extends Map<string, infer E> ? E : never;

/**
 * A filter's kept total (see listPackages), if it still holds, and how to count
 * and keep a new one: `remember` keeps it whatever it cost, `rememberCounted`
 * keeps a total just counted by the rule of its dialect.
 */
function keptTotal(ctx: StoreContext, filter: PackageFilter) {
  const sqlite = ctx.h.dialect === 'sqlite';
  const key = JSON.stringify([filter.distribution, filter.suite, filter.architecture, filter.name, filter.verdict, filter.issue, filter.maintainer, filter.archive ?? 'in']);
  // A final result changes a version's verdict and known causes: their filters' totals with it.
  const byResult = filter.verdict !== undefined || (filter.issue !== undefined && filter.issue !== '');
  let stamp = `${ctx.totals.generation}:${byResult ? ctx.totals.verdicts : ''}`;
  if (sqlite) stamp += `:${ctx.h.dataVersion!()}`;
  const started = Date.now();
  let kept = ctx.totals.entries.get(key);
  if (kept && (kept.stamp !== stamp || (!sqlite && started - kept.at >= TOTAL_TTL_MS))) kept = undefined;
  const remember = (total: number): KeptTotal => {
    const entries = ctx.totals.entries;
    entries.delete(key);
    if (entries.size >= TOTALS_KEPT) entries.delete(entries.keys().next().value!);
    const entry = { total, stamp, at: started, marks: sqlite ? [] : null };
    entries.set(key, entry);
    return entry;
  };
  return {
    sqlite,
    kept,
    remember,
    rememberCounted: (total: number): KeptTotal | undefined => (sqlite || Date.now() - started >= TOTAL_SLOW_MS ? remember(total) : undefined),
    count: async (): Promise<number> => Number((await filtered(ctx.h.db, filter, sqlite).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
  };
}

/**
 * Package versions matching the filter, by name then id (version age), with the
 * total for paging: `offset` rows skipped, or the rows after a cursor (keyset
 * paging, which stays fast however deep), then `offset`.
 *
 * Counting a large list costs far more than reading a page of it, so the total is
 * kept while the list cannot have changed. On SQLite that is exact: this store's
 * own writes bump a generation (a verdict or cause filter's also on every final
 * result), and `PRAGMA data_version` changes when any other connection commits. There,
 * too, the first row of every page read is kept as a bookmark, so a later offset
 * starts at the nearest bookmark before it instead of stepping over every row
 * from the start (the query runs on the event loop: it must stay short). On
 * PostgreSQL a total is kept for TOTAL_TTL_MS, and only when counting was slow:
 * this store's writes still count at once, another daemon's show within that time.
 */
export async function listPackages(ctx: StoreContext, filter: PackageFilter = {}, page: Page & { after?: PageCursor | undefined } = {}, sort: PackageSort = 'name'): Promise<{ total: number; items: PackageSummary[]; next: PageCursor | null }> {
  const { limit, offset } = pageOf(page);
  if (!(PACKAGE_SORTS as readonly string[]).includes(sort)) throw new InvalidInputError(`Cannot list packages: ${JSON.stringify(sort)} is not an order (${PACKAGE_SORTS.join(', ')})`);
  if (sort !== 'name') return listPackagesInOrder(ctx, filter, page, sort);
  const after = page.after;
  if (after !== undefined && (typeof after.name !== 'string' || !Number.isSafeInteger(after.id))) throw new InvalidInputError('Cannot page packages: malformed cursor');
  filtered(ctx.h.db, filter); // validates the filter before anything is looked up
  const totals = keptTotal(ctx, filter);
  const { sqlite, remember, count } = totals;
  let kept = totals.kept;
  // The caller already knows the total (it counted): kept, with bookmarks, as if counted here.
  if (!kept && page.total !== undefined) kept = remember(page.total);
  // A name substring is counted first on SQLite, by its trigrams: a name no package has costs no scan.
  if (sqlite && !kept && filter.name !== undefined && [...filter.name].length >= 3) kept = remember(await count());

  // The page: after the cursor, or from the nearest bookmark at or before the offset.
  let from = after;
  let skip = offset;
  let inclusive = false;
  const marks = kept?.marks ?? [];
  let at = -1; // index of the last bookmark at or before the offset
  if (after === undefined) {
    for (let lo = 0, hi = marks.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]!.pos <= offset) (at = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    if (at >= 0) {
      const m = marks[at]!;
      (from = m), (skip = offset - m.pos), (inclusive = true);
    }
  }
  // A name found in few versions: those read by their trigrams and sorted, instead of a walk along
  // the name index that may cross most of it before the first match (a name late in the alphabet).
  const fewNames = sqlite && kept !== undefined && kept.total <= FEW_NAME_MATCHES && filter.name !== undefined && [...filter.name].length >= 3;
  let q = filtered(ctx.h.db, filter, fewNames).selectAll('source_packages');
  const order = orderOf(filter);
  if (from !== undefined) q = q.where(sql<boolean>`(${order.name}, ${order.id}) ${sql.raw(inclusive ? '>=' : '>')} (${from.name}, ${from.id})`);
  const past = kept !== undefined && after === undefined && offset >= kept.total;
  const rows = past ? [] : await q.orderBy(order.name).orderBy(order.id).limit(limit).offset(skip).execute();

  let total: number;
  if (kept) {
    total = kept.total;
  } else {
    const short = after === undefined && ((rows.length > 0 && rows.length < limit) || (offset === 0 && rows.length === 0));
    total = short ? offset + rows.length : await count(); // a short page ends the list: known without counting
    kept = totals.rememberCounted(total);
  }
  const first = rows[0];
  if (sqlite && kept?.marks && after === undefined && first && (at < 0 || marks[at]!.pos !== offset) && kept.marks.length < MARKS_KEPT) {
    kept.marks.splice(at + 1, 0, { pos: offset, name: first.name, id: first.id });
  }
  return finish(total, rows, limit);
}

function finish(total: number, rows: Selectable<SourceRow>[], limit: number): { total: number; items: PackageSummary[]; next: PageCursor | null } {
  const last = rows.length === limit ? rows[rows.length - 1] : undefined;
  return { total, items: rows.map(toPackageSummary), next: last ? { name: last.name, id: last.id } : null };
}

/** Other orders than by name (newest result first, by verdict, name descending): offset paging only, no bookmarks; the total kept as by name. */
async function listPackagesInOrder(ctx: StoreContext, filter: PackageFilter, page: Page, sort: Exclude<PackageSort, 'name'>): Promise<{ total: number; items: PackageSummary[]; next: PageCursor | null }> {
  const { limit, offset } = pageOf(page);
  const base = filtered(ctx.h.db, filter).selectAll('source_packages');
  const ordered =
    sort === '-name'
      ? base.orderBy('name', 'desc').orderBy('id', 'desc')
      : sort === 'recent'
        ? base.orderBy('latest_result_id', 'desc').orderBy('id', 'desc')
        : base.orderBy('latest_verdict').orderBy('name').orderBy('id');
  const totals = keptTotal(ctx, filter);
  const total = async (): Promise<number> => {
    if (totals.kept) return totals.kept.total;
    const n = await totals.count();
    totals.rememberCounted(n);
    return n;
  };
  const [n, rows] = await Promise.all([page.total ?? total(), ordered.limit(limit).offset(offset).execute()]);
  return { total: n, items: rows.map(toPackageSummary), next: null };
}

/** How many package versions match the filter. */
export async function countPackages(ctx: StoreContext, filter: PackageFilter = {}): Promise<number> {
  const count = await filtered(ctx.h.db, filter, ctx.h.dialect === 'sqlite').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(count.n);
}

/** Every version ever seen of one package in one (distribution, suite, architecture), newest first. */
export async function packageHistory(ctx: StoreContext, distribution: string, suite: string, architecture: string, name: string): Promise<PackageSummary[]> {
  const rows = await ctx.h.db
    .selectFrom('source_packages')
    .selectAll()
    .where('distribution', '=', identifier('distribution', distribution))
    .where('suite', '=', identifier('suite', suite))
    .where('architecture', '=', identifier('architecture', architecture))
    .where('name', '=', packageName(name))
    .orderBy('first_seen_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toPackageSummary);
}

export async function getPackage(ctx: StoreContext, id: number): Promise<PackageSummary & { input: BuildInputInfo | null }> {
  const row = await ctx.h.db.selectFrom('source_packages').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Cannot find package ${id}: no such package version`);
  return { ...toPackageSummary(row), input: await buildInputOf(ctx.h.db, id) };
}

export async function buildInputOf(db: Kysely<Database>, sourcePackageId: number): Promise<BuildInputInfo | null> {
  const input = await db.selectFrom('build_inputs').selectAll().where('source_package_id', '=', sourcePackageId).executeTakeFirst();
  if (!input) return null;
  const artifacts = await db.selectFrom('binary_packages').select(['name', 'version', 'architecture', 'url', 'sha256', 'size']).where('source_package_id', '=', sourcePackageId).orderBy('id').execute();
  return {
    backend: input.backend,
    recipe: parseJson<unknown>(input.recipe, {}),
    buildinfoUrl: input.buildinfo_url,
    buildinfoSha256: input.buildinfo_sha256,
    minMemoryMb: input.min_memory_mb,
    artifacts,
  };
}

/** Counts of listed package versions per (distribution, suite, architecture, latest verdict): the statistics pages' numbers. */
export async function packageCounts(ctx: StoreContext, filter: Pick<PackageFilter, 'distribution' | 'suite' | 'architecture'> = {}): Promise<PackageCount[]> {
  const rows = await filtered(ctx.h.db, { ...filter, archive: 'in' })
    .select(['distribution', 'suite', 'architecture', 'latest_verdict'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['distribution', 'suite', 'architecture', 'latest_verdict'])
    .execute();
  // Ordered here, not in SQL: the dialects sort NULL (no verdict yet) differently.
  const sortKey = (r: (typeof rows)[number]): string => [r.distribution, r.suite, r.architecture, r.latest_verdict ?? ''].join('\u0000');
  return rows
    .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0))
    .map((r) => ({ distribution: r.distribution, suite: r.suite, architecture: r.architecture, verdict: r.latest_verdict, count: Number(r.n) }));
}

/** Names known to the store, for the overview and filters. */
export async function listDistributions(ctx: StoreContext): Promise<{ distribution: string; suites: string[] }[]> {
  const rows = await ctx.h.db.selectFrom('suites').select(['distribution', 'name']).orderBy('distribution').orderBy('name').execute();
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.distribution, [...(out.get(r.distribution) ?? []), r.name]);
  return [...out].map(([distribution, suites]) => ({ distribution, suites }));
}

export async function listArchitectures(ctx: StoreContext): Promise<string[]> {
  return (await ctx.h.db.selectFrom('architectures').select('name').orderBy('name').execute()).map((r) => r.name);
}

/** The build-info reference of every listed version in a (distribution, suite, architecture), by `name\0version`: what a source need not fetch again. */
export async function knownBuildinfo(ctx: StoreContext, distribution: string, suite: string, architecture: string): Promise<Map<string, { url: string; sha256: string }>> {
  const rows = await ctx.h.db
    .selectFrom('source_packages as s')
    .innerJoin('build_inputs as b', 'b.source_package_id', 's.id')
    .select(['s.name', 's.version', 'b.buildinfo_url', 'b.buildinfo_sha256'])
    .where('s.distribution', '=', identifier('distribution', distribution))
    .where('s.suite', '=', identifier('suite', suite))
    .where('s.architecture', '=', identifier('architecture', architecture))
    .where('b.buildinfo_url', 'is not', null)
    .execute();
  const out = new Map<string, { url: string; sha256: string }>();
  for (const r of rows) if (r.buildinfo_url && r.buildinfo_sha256) out.set(versionKey(r.name, r.version), { url: r.buildinfo_url, sha256: r.buildinfo_sha256 });
  return out;
}
