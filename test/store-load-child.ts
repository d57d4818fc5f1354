// A separate process for store-sqlite.test.ts: opens the store on a shared SQLite
// file and drains the queue as one worker, syncing a suite of its own between
// claims, then prints the job ids it claimed as JSON; or (`open`) only opens it.
import { openStore } from '../src/store/index.js';

const [dataDir, workerId, n] = process.argv.slice(2);
const store = await openStore({ dataDir: dataDir! });
if (workerId === 'open') {
  // Only open (and so migrate) the store, and write one suite.
  await store.syncPackages({ distribution: 'd', suite: `opened${n}`, architecture: 'x86_64', packages: [] });
  await store.close();
  process.exit(0);
}
const claimed: number[] = [];
for (let i = 0; ; i++) {
  const c = await store.claim(Number(workerId));
  if (!c) break;
  claimed.push(c.job.id);
  await store.heartbeat(c.job.id, c.leaseToken);
  await store.report(c.job.id, c.leaseToken, { verdict: 'REPRODUCIBLE' });
  if (i % 25 === 0) await store.syncPackages({ distribution: 'd', suite: `side${n}`, architecture: 'aarch64', packages: [{ name: `side${i}`, version: '1', backend: 'command' }] });
}
await store.close();
process.stdout.write(JSON.stringify(claimed));
