// The known causes of each package version's newest final result as rows
// (source_package_causes), kept in step with source_packages.latest_issues: the
// package list's cause filter reads them along their (cause, name, id) index, a
// walk over the versions with that cause in the list's order, instead of
// matching every version's latest_issues text.
import { type Kysely, sql } from 'kysely';
import { chunks, parseJson } from './context.js';
import type { Database } from './schema.js';

/** The distinct cause ids of a latest_issues text (a JSON list of ids); anything else names none. */
export function causesOf(issues: string | null): string[] {
  const ids = parseJson<unknown>(issues, []);
  return Array.isArray(ids) ? [...new Set(ids.filter((id): id is string => typeof id === 'string' && id.length > 0))] : [];
}

/** Replaces the cause rows of one package version by those of its new latest_issues (in the caller's transaction). */
export async function writeLatestCauses(trx: Kysely<Database>, sourcePackageId: number, issues: string | null): Promise<void> {
  await trx.deleteFrom('source_package_causes').where('source_package_id', '=', sourcePackageId).execute();
  const causes = causesOf(issues);
  if (causes.length === 0) return;
  // The name from the row itself: the caller need not have read it.
  const name = sql<string>`(select name from source_packages where id = ${sourcePackageId})`;
  await trx
    .insertInto('source_package_causes')
    .values(causes.map((cause) => ({ source_package_id: sourcePackageId, cause, package_name: name })))
    .execute();
}

/** Fills source_package_causes from latest_issues (the migration that made the table), in bounded batches. */
export async function backfillCauses(db: Kysely<any>): Promise<void> {
  let after = 0;
  for (;;) {
    const rows: { id: number | string; name: string; latest_issues: string }[] = await db
      .selectFrom('source_packages')
      .select(['id', 'name', 'latest_issues'])
      .where('id', '>', after)
      .where('latest_issues', 'is not', null)
      .where('latest_issues', '<>', '[]')
      .orderBy('id')
      .limit(5000)
      .execute();
    if (rows.length === 0) return;
    const values = rows.flatMap((r) => causesOf(r.latest_issues).map((cause) => ({ source_package_id: Number(r.id), cause, package_name: r.name })));
    for (const part of chunks(values, 300)) await db.insertInto('source_package_causes').values(part).execute();
    after = Number(rows[rows.length - 1]!.id);
  }
}
