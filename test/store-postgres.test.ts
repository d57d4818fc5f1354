// The store on PostgreSQL: the shared suite (store-suite.ts), each test in a
// schema of its own (s_<random>, through the connections' search_path) that is
// dropped afterwards, so parallel runs never meet. DATABASE_URL names the server;
// without it the suite is skipped here, but never in CI (CI=…): there it fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { openStore } from '../src/store/index.js';
import { storeSuite } from './store-suite.js';

const url = process.env['DATABASE_URL'];

if (url === undefined || url === '') {
  if (process.env['CI']) {
    test('the PostgreSQL store suite runs in CI', () => {
      throw new Error('DATABASE_URL is not set: CI must run the PostgreSQL half of the store tests (e.g. postgres://postgres@127.0.0.1:5432/test)');
    });
  } else {
    test('the PostgreSQL store suite', { skip: 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); CI sets it and never skips' }, () => {});
  }
} else {
  storeSuite(async () => {
    const schema = `s_${randomBytes(6).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'reprove-store-pg-'));
    const opened: { close(): Promise<void> }[] = [];
    return {
      open: async (options = {}) => {
        const store = await openStore({ ...options, url, pgSchema: schema, pgPoolSize: 4, dataDir });
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
  });
}
