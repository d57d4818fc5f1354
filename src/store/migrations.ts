// The store's migrations: one ordered set, valid on SQLite and PostgreSQL, run by
// Kysely's Migrator from code (no migration files to ship). Where the dialects
// differ (generated ids) the migration asks which one it runs on. Add a migration
// by appending to MIGRATIONS; never edit one that has shipped.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { backfillCauses } from './causes.js';

export type Dialect = 'sqlite' | 'postgres';

function migrations(dialect: Dialect): Record<string, Migration> {
  // An auto-incrementing integer primary key in each dialect.
  const id = dialect === 'sqlite' ? ('integer' as const) : ('bigserial' as const);
  const idColumn = dialect === 'sqlite' ? (c: any) => c.primaryKey().autoIncrement() : (c: any) => c.primaryKey();

  return {
    '0001_initial': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('distributions')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('suites')
          .addColumn('distribution', 'text', (c) => c.notNull().references('distributions.name').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('suites_pk', ['distribution', 'name'])
          .execute();
        await db.schema
          .createTable('architectures')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('source_packages')
          .addColumn('id', id, idColumn)
          .addColumn('distribution', 'text', (c) => c.notNull())
          .addColumn('suite', 'text', (c) => c.notNull())
          .addColumn('architecture', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('left_archive_at', 'bigint')
          .addColumn('latest_verdict', 'text')
          .addColumn('latest_result_id', 'bigint')
          .execute();
        await db.schema
          .createIndex('source_packages_key')
          .on('source_packages')
          .columns(['distribution', 'suite', 'architecture', 'name', 'version'])
          .unique()
          .execute();
        await db.schema.createIndex('source_packages_name').on('source_packages').columns(['name', 'id']).execute();
        await db.schema.createIndex('source_packages_verdict').on('source_packages').columns(['latest_verdict', 'name']).execute();

        await db.schema
          .createTable('build_inputs')
          .addColumn('source_package_id', 'bigint', (c) => c.primaryKey().references('source_packages.id').onDelete('cascade'))
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('recipe', 'text', (c) => c.notNull())
          .addColumn('buildinfo_url', 'text')
          .addColumn('buildinfo_sha256', 'text')
          .addColumn('min_memory_mb', 'bigint')
          .addColumn('input_hash', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('binary_packages')
          .addColumn('id', id, idColumn)
          .addColumn('source_package_id', 'bigint', (c) => c.notNull().references('source_packages.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('architecture', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('size', 'bigint')
          .execute();
        await db.schema.createIndex('binary_packages_source').on('binary_packages').column('source_package_id').execute();
        await db.schema.createIndex('binary_packages_name').on('binary_packages').columns(['name', 'version']).execute();

        await db.schema
          .createTable('workers')
          .addColumn('id', id, idColumn)
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('token_hash', 'text', (c) => c.notNull().unique())
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('free_disk_bytes', 'bigint')
          .addColumn('current_job_id', 'bigint')
          .addColumn('last_seen_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('jobs')
          .addColumn('id', id, idColumn)
          .addColumn('source_package_id', 'bigint', (c) => c.notNull().references('source_packages.id').onDelete('cascade'))
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('priority', 'bigint', (c) => c.notNull())
          .addColumn('run_after', 'bigint', (c) => c.notNull())
          .addColumn('architecture', 'text', (c) => c.notNull())
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('min_memory_mb', 'bigint')
          .addColumn('attempts_ftbfs', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('attempts_unreproducible', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('attempts_infrastructure', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_token', 'text')
          .addColumn('lease_expires_at', 'bigint')
          .addColumn('worker_id', 'bigint', (c) => c.references('workers.id').onDelete('set null'))
          .addColumn('result_id', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // The claim's order: runnable queued jobs by priority, then age.
        await db.schema.createIndex('jobs_claim').on('jobs').columns(['status', 'priority desc', 'run_after', 'id']).execute();
        await db.schema.createIndex('jobs_lease').on('jobs').columns(['status', 'lease_expires_at']).execute();
        await db.schema.createIndex('jobs_source').on('jobs').columns(['source_package_id', 'status']).execute();

        await db.schema
          .createTable('build_attempts')
          .addColumn('id', id, idColumn)
          .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
          .addColumn('worker_id', 'bigint', (c) => c.references('workers.id').onDelete('set null'))
          .addColumn('worker_name', 'text')
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('lease_token', 'text', (c) => c.notNull().unique())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('exit_code', 'bigint')
          .addColumn('signal', 'text')
          .addColumn('failure_class', 'text')
          .addColumn('message', 'text')
          .execute();
        await db.schema.createIndex('build_attempts_job').on('build_attempts').column('job_id').execute();

        await db.schema
          .createTable('results')
          .addColumn('id', id, idColumn)
          .addColumn('job_id', 'bigint', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
          .addColumn('attempt_id', 'bigint', (c) => c.references('build_attempts.id').onDelete('set null'))
          .addColumn('source_package_id', 'bigint', (c) => c.notNull().references('source_packages.id').onDelete('cascade'))
          .addColumn('worker_id', 'bigint', (c) => c.references('workers.id').onDelete('set null'))
          .addColumn('verdict', 'text', (c) => c.notNull())
          .addColumn('final', 'integer', (c) => c.notNull())
          .addColumn('failure_class', 'text')
          .addColumn('previous_result_id', 'bigint')
          .addColumn('ignored', 'text', (c) => c.notNull())
          .addColumn('issues', 'text', (c) => c.notNull())
          .addColumn('timings', 'text', (c) => c.notNull())
          .addColumn('log_blob', 'text')
          .addColumn('report_json_blob', 'text')
          .addColumn('report_html_blob', 'text')
          .addColumn('artifacts', 'text', (c) => c.notNull())
          .addColumn('message', 'text')
          .addColumn('content_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('results_job').on('results').columns(['job_id', 'id']).execute();
        await db.schema.createIndex('results_source').on('results').columns(['source_package_id', 'id']).execute();
        // One result per attempt and one final result per job, whatever the code above does.
        await db.schema.createIndex('results_attempt').on('results').column('attempt_id').unique().execute();
        await sql`create unique index results_one_final on results (job_id) where final = 1`.execute(db);
      },
    },
    // What of the recorded build environment the backend recreated and what not ({reproduced, notReproduced} as JSON; null when not reported).
    '0002_result_environment': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema.alterTable('results').addColumn('environment', 'text').execute();
      },
    },
    // The website: who maintains a package (fed by sync, for mail, feeds and the list's filter),
    // the addresses that unsubscribed from mail, and the daily history of final results.
    '0003_website': {
      async up(db: Kysely<any>): Promise<void> {
        await db.schema.alterTable('source_packages').addColumn('maintainer', 'text').execute();
        await db.schema.alterTable('source_packages').addColumn('latest_issues', 'text').execute();
        await sql`update source_packages set latest_issues = (select r.issues from results r where r.id = source_packages.latest_result_id) where latest_result_id is not null`.execute(db);
        await db.schema.createIndex('source_packages_maintainer').on('source_packages').columns(['maintainer', 'name']).execute();
        await db.schema.createIndex('results_final_created').on('results').columns(['final', 'created_at', 'source_package_id']).execute();
        await db.schema
          .createTable('mail_unsubscribes')
          .addColumn('address', 'text', (c) => c.primaryKey())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0004_list_indexes': {
      // The package list's usual filters over the versions in the archive, each
      // index in the list's order (name, id), so a page is read from the index
      // without sorting; the verdict is in them, so its filter needs no row.
      async up(db: Kysely<any>): Promise<void> {
        await sql`create index source_packages_in_name on source_packages (name, id, latest_verdict) where left_archive_at is null`.execute(db);
        await sql`create index source_packages_in_arch on source_packages (architecture, name, id, latest_verdict) where left_archive_at is null`.execute(db);
        await sql`create index source_packages_in_dsa on source_packages (distribution, suite, architecture, name, id, latest_verdict) where left_archive_at is null`.execute(db);
        if (dialect === 'sqlite') {
          // Name substrings: an FTS5 trigram index over the names (external content, kept by triggers).
          await sql`create virtual table source_package_names using fts5(name, content='source_packages', content_rowid='id', tokenize='trigram')`.execute(db);
          await sql`insert into source_package_names(source_package_names) values ('rebuild')`.execute(db);
          await sql`create trigger source_package_names_insert after insert on source_packages begin insert into source_package_names(rowid, name) values (new.id, new.name); end`.execute(db);
          await sql`create trigger source_package_names_delete after delete on source_packages begin insert into source_package_names(source_package_names, rowid, name) values ('delete', old.id, old.name); end`.execute(db);
          await sql`create trigger source_package_names_update after update of name on source_packages begin insert into source_package_names(source_package_names, rowid, name) values ('delete', old.id, old.name); insert into source_package_names(rowid, name) values (new.id, new.name); end`.execute(db);
        }
        if (dialect === 'postgres') {
          // Name substrings: a trigram index on lower(name), the expression the filter's LIKE uses, where
          // pg_trgm can be had. It goes to the public schema (the store's schema may be dropped with its
          // tables); without it (no extension, no right to create it) the filter scans, as before.
          await sql`do $$
            begin
              if not exists (select 1 from pg_extension where extname = 'pg_trgm') then
                begin
                  create extension pg_trgm schema public;
                exception when others then
                  raise notice 'pg_trgm cannot be created (%): package name filters will scan', sqlerrm;
                end;
              end if;
              if exists (select 1 from pg_extension where extname = 'pg_trgm') then
                execute format('create index source_packages_name_trgm on source_packages using gin (lower(name) %I.gin_trgm_ops)',
                  (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'));
              end if;
            end $$`.execute(db);
        }
      },
    },
    '0005_source_packages_fillfactor': {
      // Every full sync stamps last_seen_at on every version still in the archive.
      // That column is in no index, so on PostgreSQL the update can stay on the
      // row's page (a HOT update, no new entry in the table's nine indexes) when
      // the page has room for the new row version: half of each page is kept free.
      // Pages written before this migration get the room as they are rewritten.
      // SQLite updates rows in place: nothing to do there.
      async up(db: Kysely<any>): Promise<void> {
        if (dialect === 'postgres') await sql`alter table source_packages set (fillfactor = 50)`.execute(db);
      },
    },
    '0006_website_read_indexes': {
      // The package list's cause filter as rows (one per version and known cause of its newest
      // final result, written beside latest_issues: causes.ts), indexed in the list's order per
      // cause, so a page by cause walks that index instead of matching every version's
      // latest_issues text. The list's full filter (distribution, suite, architecture, verdict)
      // as one index in the list's order, so its pages and count read a range of it. And the
      // overview's daily history read from an index alone (verdict in it), not from result rows.
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('source_package_causes')
          .addColumn('source_package_id', 'bigint', (c) => c.notNull().references('source_packages.id').onDelete('cascade'))
          .addColumn('cause', 'text', (c) => c.notNull())
          .addColumn('package_name', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('source_package_causes_pk', ['source_package_id', 'cause'])
          .execute();
        await db.schema.createIndex('source_package_causes_list').on('source_package_causes').columns(['cause', 'package_name', 'source_package_id']).execute();
        await backfillCauses(db);
        await sql`create index source_packages_in_dsav on source_packages (distribution, suite, architecture, latest_verdict, name, id) where left_archive_at is null`.execute(db);
        await db.schema.createIndex('results_final_created_verdict').on('results').columns(['final', 'created_at', 'source_package_id', 'verdict']).execute();
        await db.schema.dropIndex('results_final_created').execute(); // its prefix: the new one serves its reads
      },
    },
    '0007_verdict_changes': {
      // Regressions and fixes, recorded when the final result that makes them is
      // written: the feeds and the mail read them by index over the whole history
      // (they were looked for among the newest results only). Those already in the
      // history are found here and counted as mailed: a new notifier mails no past.
      async up(db: Kysely<any>): Promise<void> {
        await db.schema
          .createTable('verdict_changes')
          .addColumn('result_id', 'bigint', (c) => c.primaryKey().references('results.id').onDelete('cascade'))
          .addColumn('previous_result_id', 'bigint', (c) => c.notNull().references('results.id').onDelete('cascade'))
          .addColumn('source_package_id', 'bigint', (c) => c.notNull().references('source_packages.id').onDelete('cascade'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('notified_at', 'bigint')
          .execute();
        await db.schema.createIndex('verdict_changes_kind').on('verdict_changes').columns(['kind', 'result_id']).execute();
        await db.schema.createIndex('verdict_changes_source').on('verdict_changes').columns(['source_package_id', 'result_id']).execute();
        await sql`create index verdict_changes_unnotified on verdict_changes (result_id) where notified_at is null`.execute(db);
        await sql`insert into verdict_changes (result_id, previous_result_id, source_package_id, kind, created_at, notified_at)
          select id, previous_id, source_package_id,
                 case when verdict in ${GOOD_SQL} then 'fix' else 'regression' end, created_at, created_at
          from (
            select r.id, r.source_package_id, r.verdict, r.created_at,
                   lag(r.id) over w as previous_id, lag(r.verdict) over w as previous_verdict
            from results r join source_packages s on s.id = r.source_package_id
            where r.final = 1 and r.verdict <> 'ERROR'
            window w as (partition by s.distribution, s.suite, s.architecture, s.name order by r.id)
          ) t
          where (previous_verdict in ${GOOD_SQL} and verdict in ${BAD_SQL}) or (previous_verdict in ${BAD_SQL} and verdict in ${GOOD_SQL})`.execute(db);
      },
    },
  };
}

// The verdict classes of 0007, as they were when it was written (a migration never changes).
const GOOD_SQL = sql.raw(`('BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE')`);
const BAD_SQL = sql.raw(`('UNREPRODUCIBLE', 'FTBFS')`);

class CodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.dialect);
  }
}

/**
 * Brings the schema up to date; safe when several daemons start at once (the
 * Migrator locks). On PostgreSQL the migration tables are looked for in the
 * connection's current schema only: Kysely otherwise takes another schema's
 * tables of the same name for its own.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect, upTo?: string): Promise<void> {
  let migrationTableSchema: string | undefined;
  if (dialect === 'postgres') {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema ?? undefined;
    if (migrationTableSchema === undefined) throw new Error('Cannot migrate the store: the connection has no current schema (check search_path)');
  }
  const migrator = new Migrator({ db, provider: new CodeMigrations(dialect), ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }) });
  // upTo: a migration's name, to stop there (a test of the next one's data migration).
  const { error, results } = await (upTo === undefined ? migrator.migrateToLatest() : migrator.migrateTo(upTo));
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Cannot migrate the store: migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
