// Read-only queries the server needs and the Store does not offer yet: grouped
// counts for /metrics, rebuilderd's flat package list (one row per published
// artifact, joined in one query rather than one per package) and what a blob is
// (log, JSON or HTML report) for its content type. They read the database the
// store opened, through its one context, and write nothing.
// TODO(store): move these into src/store/ as Store methods; this is the one place
// that reaches into the store's private context.
import { type Kysely, sql } from 'kysely';
import type { StoreContext } from '../store/context.js';
import type { Store, Verdict } from '../store/index.js';
import type { Database } from '../store/schema.js';

export function dbOf(store: Store): Kysely<Database> {
  return (store as unknown as { ctx: StoreContext }).ctx.h.db;
}

export interface QueueDepth {
  distribution: string;
  architecture: string;
  status: 'queued' | 'running';
  count: number;
}

export async function queueDepths(store: Store): Promise<QueueDepth[]> {
  const rows = await dbOf(store)
    .selectFrom('jobs as j')
    .innerJoin('source_packages as s', 's.id', 'j.source_package_id')
    .select(['s.distribution', 'j.architecture', 'j.status'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('j.status', 'in', ['queued', 'running'])
    .groupBy(['s.distribution', 'j.architecture', 'j.status'])
    .orderBy('s.distribution')
    .orderBy('j.architecture')
    .orderBy('j.status')
    .execute();
  return rows.map((r) => ({ distribution: r.distribution, architecture: r.architecture, status: r.status as 'queued' | 'running', count: Number(r.n) }));
}

export async function resultCounts(store: Store): Promise<{ verdict: Verdict; final: boolean; count: number }[]> {
  const rows = await dbOf(store)
    .selectFrom('results')
    .select(['verdict', 'final'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['verdict', 'final'])
    .orderBy('verdict')
    .orderBy('final')
    .execute();
  return rows.map((r) => ({ verdict: r.verdict, final: Number(r.final) === 1, count: Number(r.n) }));
}

/** Build attempts that ended at or after `since` (milliseconds). */
export async function buildsSince(store: Store, since: number): Promise<number> {
  const row = await dbOf(store)
    .selectFrom('build_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ended_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface RebuilderdRow {
  name: string;
  version: string;
  distribution: string;
  suite: string;
  architecture: string;
  url: string | null;
  verdict: Verdict | null;
  resultId: number | null;
  builtAt: number | null;
  hasReport: boolean;
}

export interface RebuilderdFilter {
  distro?: string | undefined;
  suite?: string | undefined;
  architecture?: string | undefined;
  name?: string | undefined;
  /** Verdicts to keep; 'none' for versions without a result. */
  verdicts?: (Verdict | 'none')[] | undefined;
}

/** Every published artifact of every source package version in the archive (a version without artifacts as itself), with its latest verdict. */
export async function rebuilderdRows(store: Store, f: RebuilderdFilter): Promise<RebuilderdRow[]> {
  let q = dbOf(store)
    .selectFrom('source_packages as s')
    .leftJoin('binary_packages as b', 'b.source_package_id', 's.id')
    .leftJoin('results as r', 'r.id', 's.latest_result_id')
    .select([
      sql<string>`coalesce(b.name, s.name)`.as('name'),
      sql<string>`coalesce(b.version, s.version)`.as('version'),
      's.distribution',
      's.suite',
      sql<string>`coalesce(b.architecture, s.architecture)`.as('architecture'),
      'b.url',
      's.latest_verdict',
      's.latest_result_id',
      'r.created_at',
      'r.report_json_blob',
      'r.report_html_blob',
    ])
    .where('s.left_archive_at', 'is', null);
  if (f.distro !== undefined) q = q.where('s.distribution', '=', f.distro);
  if (f.suite !== undefined) q = q.where('s.suite', '=', f.suite);
  if (f.architecture !== undefined) q = q.where(sql<string>`coalesce(b.architecture, s.architecture)`, '=', f.architecture);
  if (f.name !== undefined) q = q.where(sql<string>`coalesce(b.name, s.name)`, '=', f.name);
  if (f.verdicts !== undefined) {
    const named = f.verdicts.filter((v): v is Verdict => v !== 'none');
    const none = f.verdicts.includes('none');
    q = q.where((eb) => {
      const parts = [];
      if (named.length > 0) parts.push(eb('s.latest_verdict', 'in', named));
      if (none) parts.push(eb('s.latest_verdict', 'is', null));
      return parts.length > 0 ? eb.or(parts) : eb.val(false);
    });
  }
  const rows = await q.orderBy('s.name').orderBy('s.id').orderBy('b.id').execute();
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    distribution: r.distribution,
    suite: r.suite,
    architecture: r.architecture,
    url: r.url,
    verdict: r.latest_verdict,
    resultId: r.latest_result_id,
    builtAt: r.created_at === null ? null : Number(r.created_at),
    hasReport: r.report_json_blob !== null || r.report_html_blob !== null,
  }));
}

export type BlobKind = 'log' | 'report-json' | 'report-html' | 'other';

/** What a stored blob is, from the results that name it. */
export async function blobKind(store: Store, sha256: string): Promise<BlobKind> {
  const db = dbOf(store);
  const named = async (column: 'log_blob' | 'report_json_blob' | 'report_html_blob'): Promise<boolean> =>
    (await db.selectFrom('results').select('id').where(column, '=', sha256).limit(1).executeTakeFirst()) !== undefined;
  if (await named('log_blob')) return 'log';
  if (await named('report_json_blob')) return 'report-json';
  if (await named('report_html_blob')) return 'report-html';
  return 'other';
}
