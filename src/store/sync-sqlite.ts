// A sync's statements on SQLite: prepared once (the connection's statement
// cache) and run row by row inside the sync's transaction. better-sqlite3 runs
// a statement in the calling thread with no round trip, so a row costs a few
// microseconds and no query is built per row.
import type BetterSqlite3 from 'better-sqlite3';
import type { StoredVersion, SyncTarget, SyncWriter, ValidPackage, Versioned } from './sync.js';
import { versionKey } from './packages.js';

export function sqliteSyncWriter(statement: (sql: string) => BetterSqlite3.Statement, { distribution, suite, architecture }: SyncTarget, now: number): SyncWriter {
  const inTarget = 'distribution = ? and suite = ? and architecture = ?';
  const target = [distribution, suite, architecture];
  const insertInput = statement('insert into build_inputs (source_package_id, backend, recipe, buildinfo_url, buildinfo_sha256, min_memory_mb, input_hash) values (?, ?, ?, ?, ?, ?, ?)');
  const insertArtifact = statement('insert into binary_packages (source_package_id, name, version, architecture, url, sha256, size) values (?, ?, ?, ?, ?, ?, ?)');
  const writeInput = ({ id, p }: Versioned) => {
    insertInput.run(id, p.backend, p.recipe, p.buildinfoUrl, p.buildinfoSha256, p.minMemoryMb, p.inputHash);
    for (const a of p.artifacts) insertArtifact.run(id, a.name, a.version, a.architecture, a.url, a.sha256, a.size);
  };
  return {
    async lookup(batch: readonly ValidPackage[]) {
      const get = statement(`select s.id as id, s.left_archive_at as leftArchiveAt, s.maintainer as maintainer, b.input_hash as inputHash from source_packages s left join build_inputs b on b.source_package_id = s.id where s.distribution = ? and s.suite = ? and s.architecture = ? and s.name = ? and s.version = ?`);
      const out = new Map<string, StoredVersion>();
      for (const p of batch) {
        const row = get.get(distribution, suite, architecture, p.name, p.version) as StoredVersion | undefined;
        if (row) out.set(versionKey(p.name, p.version), row);
      }
      return out;
    },
    async insertVersions(batch) {
      const insert = statement('insert into source_packages (distribution, suite, architecture, name, version, first_seen_at, last_seen_at, maintainer) values (?, ?, ?, ?, ?, ?, ?, ?)');
      const out: Versioned[] = [];
      for (const p of batch) {
        const id = Number(insert.run(distribution, suite, architecture, p.name, p.version, now, now, p.maintainer).lastInsertRowid);
        out.push({ id, p });
        writeInput({ id, p });
      }
      return out;
    },
    async replaceInputs(rows) {
      const dropArtifacts = statement('delete from binary_packages where source_package_id = ?');
      const dropInput = statement('delete from build_inputs where source_package_id = ?');
      const requeue = statement(`update jobs set backend = ?, min_memory_mb = ?, updated_at = ? where source_package_id = ? and status = 'queued'`);
      for (const r of rows) {
        dropArtifacts.run(r.id);
        dropInput.run(r.id);
        writeInput(r);
        requeue.run(r.p.backend, r.p.minMemoryMb, now, r.id);
      }
    },
    async setMaintainers(rows) {
      const update = statement('update source_packages set maintainer = ? where id = ?');
      for (const r of rows) update.run(r.maintainer, r.id);
    },
    async stamp(ids) {
      const update = statement('update source_packages set last_seen_at = ?, left_archive_at = null where id = ?');
      for (const id of ids) update.run(now, id);
    },
    async withoutActiveJob(ids) {
      const active = statement(`select 1 from jobs where source_package_id = ? and status in ('queued', 'running', 'done') limit 1`).pluck();
      return ids.filter((id) => active.get(id) === undefined);
    },
    async enqueue(rows, priority) {
      const insert = statement(
        `insert into jobs (source_package_id, status, priority, run_after, architecture, backend, min_memory_mb, attempts_ftbfs, attempts_unreproducible, attempts_infrastructure, created_at, updated_at) values (?, 'queued', ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)`,
      );
      for (const { id, p } of rows) insert.run(id, priority, now, architecture, p.backend, p.minMemoryMb, now, now);
    },
    async inArchive(names) {
      const all = statement(`select id from source_packages where ${inTarget} and left_archive_at is null`).pluck();
      const ofName = statement(`select id from source_packages where ${inTarget} and name = ? and left_archive_at is null`).pluck();
      return names === null ? (all.all(...target) as number[]) : names.flatMap((n) => ofName.all(...target, n) as number[]);
    },
    async markLeft(ids) {
      const leave = statement('update source_packages set left_archive_at = ? where id = ?');
      const supersede = statement(`update jobs set status = 'superseded', updated_at = ? where source_package_id = ? and status = 'queued'`);
      let superseded = 0;
      for (const id of ids) {
        leave.run(now, id);
        superseded += supersede.run(now, id).changes;
      }
      return superseded;
    },
    async stampInArchive() {
      statement(`update source_packages set last_seen_at = ? where ${inTarget} and left_archive_at is null and last_seen_at <> ?`).run(now, ...target, now);
    },
  };
}
