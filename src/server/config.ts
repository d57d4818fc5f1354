// The daemon's configuration: defaults, then a JSON config file (--config FILE),
// then the environment, then command-line flags, each overriding the one before.
// Every value is checked here, with the file and key it came from in the message.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { SourceConfig } from '../rebuild/sources/source.js';
import type { FailureClass, RetryPolicy } from '../store/index.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const Seconds = Type.Number({ exclusiveMinimum: 0 });
const RetryFile = Type.Object(
  { maxRetries: Type.Optional(Type.Integer({ minimum: 0 })), delaySeconds: Type.Optional(Type.Number({ minimum: 0 })), maxDelaySeconds: Type.Optional(Type.Number({ minimum: 0 })), backoff: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('exponential')])) },
  { additionalProperties: false },
);

/** The config file's keys (all optional). */
export const ConfigFile = Type.Object(
  {
    listen: Type.Optional(Type.String({ description: 'HOST:PORT (default 127.0.0.1:8484)' })),
    database: Type.Optional(Type.String({ description: 'postgres://… or a SQLite file in dataDir when unset' })),
    dataDir: Type.Optional(Type.String()),
    blobDir: Type.Optional(Type.String()),
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    leaseSeconds: Type.Optional(Seconds),
    heartbeatSeconds: Type.Optional(Seconds),
    expireIntervalSeconds: Type.Optional(Seconds),
    uploadStaleSeconds: Type.Optional(Seconds),
    uploadLimitBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    syncLimitBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    retry: Type.Optional(Type.Object({ ftbfs: Type.Optional(RetryFile), unreproducible: Type.Optional(RetryFile), infrastructure: Type.Optional(RetryFile) }, { additionalProperties: false })),
    log: Type.Optional(Type.Boolean({ description: 'log every request to standard error' })),
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://', description: "the website's public URL, for feeds and mail" })),
    mail: Type.Optional(
      Type.Object(
        {
          smtp: Type.String({ pattern: '^smtps?://', description: 'smtp://host:port of the relay' }),
          from: Type.String({ minLength: 3 }),
          digestMinutes: Type.Optional(Type.Number({ minimum: 0, description: '0: one mail per event' })),
          perHour: Type.Optional(Type.Integer({ minimum: 1, description: 'most mails per address per hour (default 4)' })),
        },
        { additionalProperties: false },
      ),
    ),
    sources: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
            kind: Type.String({ minLength: 1, maxLength: 64 }),
            distribution: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9+._~:@-]*$' }),
            suite: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9+._~:@-]*$' }),
            architecture: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]*$' }),
            intervalSeconds: Type.Optional(Type.Number({ minimum: 0 })),
          },
          { additionalProperties: true, description: "a source and its kind's options (see README, Sources)" },
        ),
        { maxItems: 1000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFile>;

export interface DaemonConfig {
  host: string;
  port: number;
  /** PostgreSQL URL; undefined for SQLite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  blobDir: string | undefined;
  /** Undefined: read <dataDir>/admin-token, or generate one there. */
  adminToken: string | undefined;
  leaseMs: number | undefined;
  heartbeatIntervalMs: number | undefined;
  expireIntervalMs: number;
  uploadStaleMs: number;
  uploadLimitBytes: number | undefined;
  syncLimitBytes: number | undefined;
  retry: Partial<Record<FailureClass, Partial<RetryPolicy>>> | undefined;
  log: boolean;
  /** The website's public URL (feeds, mail links). */
  publicUrl: string | undefined;
  /** Mail to maintainers on regressions and fixes; off when unset. */
  mail: { smtp: string; from: string; digestMs: number; perHour: number } | undefined;
  /** Package sources the daemon runs (config file key `sources`). */
  sources: SourceConfig[];
}

export function parseListen(value: string, from: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`Cannot use listen address ${JSON.stringify(value)} (${from}): expected HOST:PORT, e.g. 127.0.0.1:8484`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function readConfigFile(path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`Cannot read config file ${path}: ${(e as Error).message}`);
  }
  const first = Value.Errors(ConfigFile, raw).First();
  if (first) throw new ConfigError(`Cannot read config file ${path}: ${first.path || '/'} ${first.message}`);
  return raw as ConfigFile;
}

function positiveFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`Cannot use ${name}=${JSON.stringify(v)}: expected a positive number`);
  return n;
}

export interface ConfigFlags {
  config?: string | undefined;
  listen?: string | undefined;
  database?: string | undefined;
  dataDir?: string | undefined;
  adminToken?: string | undefined;
}

/** Defaults < config file < environment < flags. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const file: ConfigFile = flags.config ? readConfigFile(flags.config) : {};
  const listenText = flags.listen ?? env['REPROVE_LISTEN'] ?? file.listen;
  const listen = listenText === undefined ? { host: '127.0.0.1', port: 8484 } : parseListen(listenText, flags.listen !== undefined ? '--listen' : env['REPROVE_LISTEN'] !== undefined ? 'REPROVE_LISTEN' : 'config file');
  const adminToken = flags.adminToken ?? (env['REPROVE_ADMIN_TOKEN'] || undefined) ?? file.adminToken;
  if (adminToken !== undefined && adminToken.length < 16) throw new ConfigError('Cannot use the admin token: it must have at least 16 characters');
  const s = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 1000));
  const retry = file.retry
    ? Object.fromEntries(
        Object.entries(file.retry).map(([cls, p]) => [
          cls,
          { ...(p.maxRetries !== undefined ? { maxRetries: p.maxRetries } : {}), ...(p.delaySeconds !== undefined ? { delayMs: s(p.delaySeconds) } : {}), ...(p.maxDelaySeconds !== undefined ? { maxDelayMs: s(p.maxDelaySeconds) } : {}), ...(p.backoff ? { backoff: p.backoff } : {}) },
        ]),
      )
    : undefined;
  const uploadLimit = positiveFromEnv(env, 'REPROVE_UPLOAD_LIMIT') ?? file.uploadLimitBytes;
  return {
    ...listen,
    databaseUrl: flags.database ?? (env['DATABASE_URL'] || undefined) ?? file.database,
    dataDir: resolve(flags.dataDir ?? (env['REPROVE_DATA_DIR'] || undefined) ?? file.dataDir ?? 'data'),
    blobDir: file.blobDir === undefined ? undefined : resolve(file.blobDir),
    adminToken,
    leaseMs: s(positiveFromEnv(env, 'REPROVE_LEASE_SECONDS') ?? file.leaseSeconds),
    heartbeatIntervalMs: s(positiveFromEnv(env, 'REPROVE_HEARTBEAT_SECONDS') ?? file.heartbeatSeconds),
    expireIntervalMs: s(file.expireIntervalSeconds) ?? 5000,
    uploadStaleMs: s(file.uploadStaleSeconds) ?? 15 * 60_000,
    uploadLimitBytes: uploadLimit === undefined ? undefined : Math.floor(uploadLimit),
    syncLimitBytes: file.syncLimitBytes,
    retry,
    log: file.log ?? false,
    publicUrl: file.publicUrl,
    mail: file.mail ? { smtp: file.mail.smtp, from: file.mail.from, digestMs: Math.round((file.mail.digestMinutes ?? 0) * 60_000), perHour: file.mail.perHour ?? 4 } : undefined,
    sources: (file.sources ?? []) as SourceConfig[],
  };
}
