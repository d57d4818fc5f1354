// Opening the database: SQLite (better-sqlite3) in the data directory by default,
// PostgreSQL (a pg Pool) when the URL says postgres:// or postgresql://.
//
// Writes go through `write()`, one transaction each:
// - SQLite: `BEGIN IMMEDIATE`, so the write lock is taken before the first read
//   and a transaction never fails half way on a lock upgrade. better-sqlite3 is
//   synchronous, so a busy wait would block the whole process: store instances on
//   the same file in one process therefore queue behind one in-process mutex, and
//   `busy_timeout` covers other processes (rebuilderd #2, "database is locked").
// - PostgreSQL: an ordinary transaction; callers lock rows (FOR UPDATE, SKIP LOCKED).
import { mkdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { type Dialect, migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';

export interface DatabaseOptions {
  /** postgres://… or postgresql://… for PostgreSQL; anything else (or none) means SQLite in dataDir. */
  url?: string | undefined;
  /** Directory of the SQLite file and the blobs (default ./data). */
  dataDir?: string | undefined;
  /** PostgreSQL: the schema to use (created when missing), via the connection's search_path. */
  pgSchema?: string | undefined;
  /** PostgreSQL: the pool's size (default 10). */
  pgPoolSize?: number | undefined;
  /** SQLite: how long a write waits for another process's lock (default 15 s). */
  busyTimeoutMs?: number | undefined;
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Runs `fn` in one write transaction (see the header). */
  write<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * SQLite only: runs `fn` synchronously in one immediate transaction, under the
   * same lock as write(), on the same connection, with its statement cache. For
   * the hot paths (a claim): no query building, no await between statements.
   * Safe beside Kysely because under the lock no Kysely transaction is open, and
   * Kysely's single statements run to completion synchronously.
   */
  /**
   * SQLite only: runs `fn` synchronously on the cached statements, outside a
   * transaction but under write()'s lock, so it never reads what a write
   * transaction on this connection has not committed yet (Kysely's own reads wait
   * for the connection in the same way). For single reads on hot paths.
   */
  readonly readSync?: <T>(fn: (prepare: (sql: string) => BetterSqlite3.Statement) => T) => Promise<T>;
  /** SQLite only: `PRAGMA data_version`, which changes when another connection commits. */
  readonly dataVersion?: () => number;
  readonly writeSync?: <T>(fn: (prepare: (sql: string) => BetterSqlite3.Statement) => T) => Promise<T>;
  /**
   * SQLite only: a cached prepared statement on the store's one connection, for
   * use inside write()'s fn only, where it runs in that transaction (a sync's
   * per-row statements: no query building, no await).
   */
  readonly statement?: (sql: string) => BetterSqlite3.Statement;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/** A FIFO async mutex. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** One mutex per SQLite file in this process, shared by every store open on it. */
const fileMutexes = new Map<string, Mutex>();

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** How many prepared statements a SQLite connection keeps (the store's fixed queries are far fewer). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 seen through a statement cache: Kysely prepares every query it
 * runs, and preparing costs more than running most of the store's statements.
 * Statements are kept by their SQL text (the parameters are bound at each run),
 * the least recently used dropped first. Safe because the store never streams
 * (a statement is never in use when it is handed out again), and SQLite
 * re-prepares a statement by itself when a migration changes the schema.
 */
function withStatementCache(database: BetterSqlite3.Database): { close(): void; prepare(text: string): BetterSqlite3.Statement } {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

export async function openDatabase(options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  return isPostgresUrl(options.url) ? openPostgres(options.url, options) : openSqlite(options);
}

async function openSqlite(options: DatabaseOptions): Promise<DatabaseHandle> {
  const dir = resolve(options.dataDir ?? 'data');
  mkdirSync(dir, { recursive: true });
  const file = join(realpathSync(dir), 'reprove.sqlite');
  const database = new BetterSqlite3(file, { timeout: options.busyTimeoutMs ?? 15_000 });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('wal_autocheckpoint = 10000');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 15_000)}`);
  const cached = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  let mutex = fileMutexes.get(file);
  if (!mutex) fileMutexes.set(file, (mutex = new Mutex()));
  const lock = mutex;
  const write = <T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> =>
    lock.run(() =>
      db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (err) {
          await sql`rollback`.execute(conn).catch(() => undefined);
          throw err;
        }
      }),
    );
  try {
    // In this process the migration runs under the same lock as every write. Another
    // process migrating the same file at the same moment makes Kysely's (deferred)
    // migration transaction fail busy: then it is tried again, and finds the work done.
    // SQLite's DDL is not run in a transaction by Kysely, so the other process may also be
    // half-way through a migration (its first table made, the migration not yet recorded):
    // "already exists" and "duplicate column" are waited out the same way.
    for (let attempt = 1; ; attempt++) {
      try {
        // Kysely runs SQLite migrations outside a transaction (no transactional DDL there), so
        // two processes could both see a migration pending and both run it: the whole
        // migration holds the write lock instead, and whoever comes second finds it done.
        await lock.run(async () => {
          database.exec('begin immediate');
          try {
            await migrateToLatest(db, 'sqlite');
            database.exec('commit');
          } catch (err) {
            if (database.inTransaction) database.exec('rollback');
            throw err;
          }
        });
        break;
      } catch (err) {
        if (attempt >= 20 || !/SQLITE_BUSY|database is locked|already exists|duplicate column/.test(`${(err as { code?: string }).code ?? ''} ${(err as Error).message}`)) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const writeSync = <T>(fn: (prepare: (sql: string) => BetterSqlite3.Statement) => T): Promise<T> =>
    lock.run(async () => database.transaction(() => fn((text) => cached.prepare(text))).immediate());
  const versionStatement = database.prepare('pragma data_version').pluck();
  const dataVersion = () => versionStatement.get() as number;
  const readSync = <T>(fn: (prepare: (sql: string) => BetterSqlite3.Statement) => T): Promise<T> => lock.run(async () => fn((text) => cached.prepare(text)));
  return { db, dialect: 'sqlite', write, writeSync, readSync, dataVersion, statement: (text) => cached.prepare(text), close: () => db.destroy() };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const schema = options.pgSchema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`Cannot open the store: schema name ${JSON.stringify(schema)} is not a plain lower-case identifier`);
  // int8 (bigint, COUNT) as numbers: every value the store keeps in one is a time, id, size or count within 2^53.
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')),
  };
  if (schema !== undefined) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pgPoolSize ?? 10,
    types,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const write = <T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> => db.transaction().execute((trx) => fn(trx));
  try {
    await migrateToLatest(db, 'postgres');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: 'postgres', write, close: () => db.destroy() };
}
