// The HTTP API on PostgreSQL: the shared suite (server-suite.ts), each test in a
// schema of its own (s_<random>, through the connections' search_path), dropped
// afterwards. Without DATABASE_URL the suite is skipped, saying why; in CI it fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { openStore } from '../src/store/index.js';
import { serverSuite } from './server-suite.js';

const url = process.env['DATABASE_URL'];

if (url === undefined || url === '') {
  if (process.env['CI']) {
    test('the PostgreSQL server suite runs in CI', () => {
      throw new Error('DATABASE_URL is not set: CI must run the PostgreSQL half of the server tests (e.g. postgres://postgres@127.0.0.1:5432/test)');
    });
  } else {
    test('the PostgreSQL server suite', { skip: 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); CI sets it and never skips' }, () => {});
  }
} else {
  serverSuite('PostgreSQL', async () => {
    const schema = `s_${randomBytes(6).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'reprove-server-pg-'));
    const opened: { close(): Promise<void> }[] = [];
    return {
      open: async (options = {}) => {
        const store = await openStore({ ...options, url, pgSchema: schema, pgPoolSize: 8, dataDir });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
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
