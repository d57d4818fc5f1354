// The HTTP API on PostgreSQL: the shared suite (server-suite.ts), each run in a
// schema of its own that is dropped afterwards (postgres-scratch.ts).
import { scratchStores, withPostgres } from './postgres-scratch.js';
import { serverSuite } from './server-suite.js';

withPostgres('the PostgreSQL server suite', (url) => serverSuite('PostgreSQL', async () => scratchStores(url, 8)));
