#!/usr/bin/env node
// The server half of bench/web.mjs, in a process of its own so the load
// generator does not share its event loop: opens the store in DIR, builds the
// server, listens on a loopback port and sends its URL to the parent over IPC.
// It answers "cpu" with its CPU time so far, and stops when the parent says
// "close" or goes away.
//   node bench/web-server.mjs DIR   (forked by bench/web.mjs; add --cpu-prof to profile)
import { buildServer } from '../dist/src/server/build-server.js';
import { openStore } from '../dist/src/store/index.js';

const dir = process.argv[2];
if (!dir || !process.send) throw new Error('Cannot start the bench server: run it from bench/web.mjs (fork with IPC) with the data directory');
const store = await openStore({ dataDir: dir });
const app = buildServer({ store, adminToken: 'bench-admin-token-0123456789' });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
let stopping;
const stop = () => {
  stopping ??= (async () => {
    await app.close();
    await store.close();
    if (process.connected) process.disconnect();
  })();
  return stopping;
};
process.on('message', (m) => {
  if (m === 'close') void stop();
  // The parent asks for this process's CPU time around each load run: CPU per request, whatever else the machine runs.
  else if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => void stop().catch(() => process.exit(1)));
process.send({ url });
