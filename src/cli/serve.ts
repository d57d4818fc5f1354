// `reprove serve`: the rebuilder daemon (src/server/daemon.ts) from the command
// line. Configuration comes from defaults, a JSON file (--config), the
// environment and these flags, each overriding the one before.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.js';
import { startDaemon } from '../server/daemon.js';
import { stop, UsageError } from './options.js';

export const serveUsage = `Usage: reprove serve [options]

Runs the rebuilder daemon: the HTTP API (packages, results, queue, workers,
blobs, /metrics, rebuilderd's /api/v0/pkgs/list) over SQLite or PostgreSQL.

Options:
  --config FILE       JSON config file (keys: listen, database, dataDir, blobDir,
                      adminToken, leaseSeconds, heartbeatSeconds,
                      expireIntervalSeconds, uploadLimitBytes, syncLimitBytes,
                      uploadStaleSeconds, retry.{ftbfs,unreproducible,infrastructure}
                      .{maxRetries,delaySeconds,maxDelaySeconds,backoff}, log)
  --listen HOST:PORT  where to listen (default 127.0.0.1:8484; port 0: any free one)
  --database URL      postgres://... (default: SQLite in the data directory)
  --data-dir DIR      SQLite file, blobs (DIR/blobs), admin-token, daemon.json (default ./data)
  --admin-token T     the operator's token (default: DIR/admin-token, made on first start)
  -h, --help          this help

Environment (between the config file and the flags): REPROVE_LISTEN, DATABASE_URL,
REPROVE_DATA_DIR, REPROVE_ADMIN_TOKEN, REPROVE_LEASE_SECONDS,
REPROVE_HEARTBEAT_SECONDS, REPROVE_UPLOAD_LIMIT (bytes).
`;

export async function runServe(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        database: { type: 'string' },
        'data-dir': { type: 'string' },
        'admin-token': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${serveUsage}`);
  }
  if (values.help) {
    process.stdout.write(serveUsage);
    return 0;
  }
  let config;
  try {
    config = loadConfig({ config: values.config, listen: values.listen, database: values.database, dataDir: values['data-dir'], adminToken: values['admin-token'] });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const daemon = await startDaemon(config, { signal: stop.signal });
  process.stdout.write(`reprove: serving the API at ${daemon.url}/api/v1 (${daemon.store.dialect}, data in ${config.dataDir})\n`);
  process.stdout.write(`reprove: the website is at ${daemon.url}/\n`);
  await daemon.closed;
  process.stdout.write('reprove: stopped\n');
  return 0;
}
