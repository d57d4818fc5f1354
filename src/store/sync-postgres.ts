// A sync's statements on PostgreSQL: each is one round trip for a whole batch,
// its rows passed as arrays (one per column) and unnested on the server, so a
// sync of 100 000 packages is a few dozen statements, not a statement per row.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from './schema.js';
import type { StoredVersion, SyncTarget, SyncWriter, ValidPackage, Versioned } from './sync.js';
import { versionKey } from './packages.js';

export async function postgresSyncWriter(trx: Kysely<Database>, { distribution, suite, architecture }: SyncTarget, now: number): Promise<SyncWriter> {
  // Every statement of a sync finds its rows by a key. The planner's statistics are
  // from before this transaction: while it inserts 100 000 rows they still say the
  // table is small, and a lookup (or a foreign-key check) would scan it whole,
  // again for every batch. Sequential scans are ruled out until the sync commits.
  await sql`set local enable_seqscan = off`.execute(trx);
  const rows = async <R>(query: RawBuilder<R>): Promise<R[]> => (await query.execute(trx)).rows;
  const inTarget = sql`s.distribution = ${distribution} and s.suite = ${suite} and s.architecture = ${architecture}`;

  const writeInputs = async (versions: readonly Versioned[]): Promise<void> => {
    if (versions.length === 0) return;
    const c = columns(versions, (v) => [v.id, v.p.backend, v.p.recipe, v.p.buildinfoUrl, v.p.buildinfoSha256, v.p.minMemoryMb, v.p.inputHash]);
    await sql`insert into build_inputs (source_package_id, backend, recipe, buildinfo_url, buildinfo_sha256, min_memory_mb, input_hash)
      select * from unnest(${c[0]}::bigint[], ${c[1]}::text[], ${c[2]}::text[], ${c[3]}::text[], ${c[4]}::text[], ${c[5]}::bigint[], ${c[6]}::text[])`.execute(trx);
    const artifacts = versions.flatMap((v) => v.p.artifacts.map((a) => [v.id, a.name, a.version, a.architecture, a.url, a.sha256, a.size]));
    if (artifacts.length === 0) return;
    const a = transpose(artifacts, 7);
    await sql`insert into binary_packages (source_package_id, name, version, architecture, url, sha256, size)
      select * from unnest(${a[0]}::bigint[], ${a[1]}::text[], ${a[2]}::text[], ${a[3]}::text[], ${a[4]}::text[], ${a[5]}::text[], ${a[6]}::bigint[])`.execute(trx);
  };

  return {
    async lookup(batch: readonly ValidPackage[]) {
      const out = new Map<string, StoredVersion>();
      if (batch.length === 0) return out;
      const [names, versions] = columns(batch, (p) => [p.name, p.version]);
      // Row by row on the key's index (the lateral join's limit keeps the planner from hashing
      // the whole target, again for every batch).
      const found = await rows<StoredVersion & { name: string; version: string }>(sql`
        select s.id, s.name, s.version, s.left_archive_at as "leftArchiveAt", s.maintainer, b.input_hash as "inputHash"
        from unnest(${names}::text[], ${versions}::text[]) as l(name, version)
        join lateral (select * from source_packages s where ${inTarget} and s.name = l.name and s.version = l.version limit 1) s on true
        left join build_inputs b on b.source_package_id = s.id`);
      for (const r of found) out.set(versionKey(r.name, r.version), { id: r.id, leftArchiveAt: r.leftArchiveAt, maintainer: r.maintainer, inputHash: r.inputHash });
      return out;
    },
    async insertVersions(batch) {
      if (batch.length === 0) return [];
      const [names, versions, maintainers] = columns(batch, (p) => [p.name, p.version, p.maintainer]);
      const ids = await rows<{ id: number; name: string; version: string }>(sql`
        insert into source_packages (distribution, suite, architecture, name, version, first_seen_at, last_seen_at, maintainer)
        select ${distribution}, ${suite}, ${architecture}, l.name, l.version, ${now}::bigint, ${now}::bigint, l.maintainer
        from unnest(${names}::text[], ${versions}::text[], ${maintainers}::text[]) as l(name, version, maintainer)
        returning id, name, version`);
      const byKey = new Map(batch.map((p) => [versionKey(p.name, p.version), p]));
      const out = ids.map((r) => ({ id: r.id, p: byKey.get(versionKey(r.name, r.version))! }));
      await writeInputs(out);
      return out;
    },
    async replaceInputs(changed) {
      if (changed.length === 0) return;
      const [ids, backends, memory] = columns(changed, (c) => [c.id, c.p.backend, c.p.minMemoryMb]);
      await sql`delete from binary_packages where source_package_id = any(${ids}::bigint[])`.execute(trx);
      await sql`delete from build_inputs where source_package_id = any(${ids}::bigint[])`.execute(trx);
      await writeInputs(changed);
      await sql`update jobs j set backend = l.backend, min_memory_mb = l.memory, updated_at = ${now}::bigint
        from unnest(${ids}::bigint[], ${backends}::text[], ${memory}::bigint[]) as l(id, backend, memory)
        where j.source_package_id = l.id and j.status = 'queued'`.execute(trx);
    },
    async setMaintainers(changed) {
      if (changed.length === 0) return;
      const [ids, maintainers] = columns(changed, (c) => [c.id, c.maintainer]);
      await sql`update source_packages s set maintainer = l.maintainer from unnest(${ids}::bigint[], ${maintainers}::text[]) as l(id, maintainer) where s.id = l.id`.execute(trx);
    },
    async stamp(ids) {
      if (ids.length === 0) return;
      await sql`update source_packages set last_seen_at = ${now}::bigint, left_archive_at = null where id = any(${ids}::bigint[])`.execute(trx);
    },
    async withoutActiveJob(ids) {
      if (ids.length === 0) return [];
      const r = await rows<{ id: number }>(sql`select l.id from unnest(${ids}::bigint[]) as l(id)
        where not exists (select 1 from jobs j where j.source_package_id = l.id and j.status in ('queued', 'running', 'done'))`);
      return r.map((x) => x.id);
    },
    async enqueue(versions, priority) {
      if (versions.length === 0) return;
      const [ids, backends, memory] = columns(versions, (v) => [v.id, v.p.backend, v.p.minMemoryMb]);
      await sql`insert into jobs (source_package_id, status, priority, run_after, architecture, backend, min_memory_mb, attempts_ftbfs, attempts_unreproducible, attempts_infrastructure, created_at, updated_at)
        select l.id, 'queued', ${priority}::bigint, ${now}::bigint, ${architecture}, l.backend, l.memory, 0, 0, 0, ${now}::bigint, ${now}::bigint
        from unnest(${ids}::bigint[], ${backends}::text[], ${memory}::bigint[]) as l(id, backend, memory)`.execute(trx);
    },
    async inArchive(names) {
      const ofNames = names === null ? sql`` : sql`and s.name = any(${names}::text[])`;
      return (await rows<{ id: number }>(sql`select s.id from source_packages s where ${inTarget} and s.left_archive_at is null ${ofNames}`)).map((r) => r.id);
    },
    async markLeft(ids) {
      if (ids.length === 0) return 0;
      const [r] = await rows<{ superseded: number }>(sql`
        with gone as (update source_packages set left_archive_at = ${now}::bigint where id = any(${ids}::bigint[]) returning id),
        superseded as (
          update jobs j set status = 'superseded', updated_at = ${now}::bigint
          from gone where j.source_package_id = gone.id and j.status = 'queued'
          returning j.id)
        select count(*)::int as superseded from superseded`);
      return r!.superseded;
    },
    async stampInArchive() {
      await sql`update source_packages s set last_seen_at = ${now}::bigint where ${inTarget} and s.left_archive_at is null and s.last_seen_at <> ${now}::bigint`.execute(trx);
    },
  };
}

/** The columns of some rows, as one array each (unnest's parameters). */
function columns<T>(items: readonly T[], row: (item: T) => unknown[]): unknown[][] {
  return transpose(items.map(row), row(items[0]!).length);
}

function transpose(rows: readonly unknown[][], width: number): unknown[][] {
  const out: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) for (let c = 0; c < width; c++) out[c]![i] = rows[i]![c];
  return out;
}
