// Regressions and fixes, recorded as the final result that makes one is written
// (in its transaction): the feeds, the events API and the mail read them by index
// over the whole history instead of searching the newest results for them.
import type { Kysely, Selectable } from 'kysely';
import type { Database, ResultTable, Verdict, VerdictChangeKind } from './schema.js';

/** Verdicts that count as reproducing, and those that count as not; ERROR (the rebuilder's own failure) is neither. */
export const REPRODUCING: ReadonlySet<string> = new Set<Verdict>(['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE']);
export const NOT_REPRODUCING: ReadonlySet<string> = new Set<Verdict>(['UNREPRODUCIBLE', 'FTBFS']);

/** A regression (reproduced before, not now), a fix (the other way), or neither. */
export function changeKind(previous: string, current: string): VerdictChangeKind | undefined {
  if (REPRODUCING.has(previous) && NOT_REPRODUCING.has(current)) return 'regression';
  if (NOT_REPRODUCING.has(previous) && REPRODUCING.has(current)) return 'fix';
  return undefined;
}

/**
 * Records the change a final result makes, if any: against the final result
 * before it of the same package (any version) in the same distribution, suite
 * and architecture, ERROR skipped. Runs in the transaction that writes the result.
 */
export async function recordVerdictChange(trx: Kysely<Database>, result: Selectable<ResultTable>): Promise<VerdictChangeKind | undefined> {
  if (!REPRODUCING.has(result.verdict) && !NOT_REPRODUCING.has(result.verdict)) return undefined;
  const pkg = await trx.selectFrom('source_packages').select(['distribution', 'suite', 'architecture', 'name']).where('id', '=', result.source_package_id).executeTakeFirstOrThrow();
  const previous = await trx
    .selectFrom('results as r')
    .innerJoin('source_packages as s', 's.id', 'r.source_package_id')
    .select(['r.id', 'r.verdict'])
    .where('s.distribution', '=', pkg.distribution)
    .where('s.suite', '=', pkg.suite)
    .where('s.architecture', '=', pkg.architecture)
    .where('s.name', '=', pkg.name)
    .where('r.final', '=', 1)
    .where('r.verdict', '!=', 'ERROR')
    .where('r.id', '<', result.id)
    .orderBy('r.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const kind = previous ? changeKind(previous.verdict, result.verdict) : undefined;
  if (previous && kind) {
    await trx
      .insertInto('verdict_changes')
      .values({ result_id: result.id, previous_result_id: previous.id, source_package_id: result.source_package_id, kind, created_at: result.created_at, notified_at: null })
      .execute();
  }
  return kind;
}
