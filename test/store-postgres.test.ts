// The store on PostgreSQL: the shared suite (store-suite.ts), each run in a
// schema of its own that is dropped afterwards (postgres-scratch.ts).
import { scratchStores, withPostgres } from './postgres-scratch.js';
import { storeSuite } from './store-suite.js';

withPostgres('the PostgreSQL store suite', (url) => storeSuite(async () => scratchStores(url, 4)));
