// PostgreSQL for the tests that need it: each run in a schema of its own
// (s_<random>, through the connections' search_path), dropped afterwards, so
// parallel runs never meet. DATABASE_URL names the server; without it the suite is
// skipped saying why, but never in CI (CI=…): there it fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { openStore, type Store, type StoreOptions } from '../src/store/index.js';

/** Runs `suite` with the server's URL, or registers the test that says why it cannot run. */
export function withPostgres(what: string, suite: (url: string) => void): void {
  const url = process.env['DATABASE_URL'];
  if (url) return suite(url);
  if (process.env['CI'])
    test(`${what} runs in CI`, () => {
      throw new Error(`DATABASE_URL is not set: CI must run ${what} (e.g. postgres://postgres@127.0.0.1:5432/test)`);
    });
  else test(what, { skip: 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); CI sets it and never skips' }, () => {});
}

/** Stores on a fresh schema, all closed and the schema dropped by cleanup(). */
export function scratchStores(url: string, poolSize: number): { open: (options?: Partial<StoreOptions>) => Promise<Store>; cleanup: () => Promise<void> } {
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'reprove-pg-'));
  const opened: Store[] = [];
  return {
    open: async (options = {}) => {
      const store = await openStore({ ...options, url, pgSchema: schema, pgPoolSize: poolSize, dataDir });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      // Close what a failing test left open, then drop the schema.
      await Promise.allSettled(opened.map((s) => s.close()));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
