// Workers: registration with a token shown once (only its SHA-256 is stored),
// authentication by token, what a worker reports about itself with each
// heartbeat (version, free disk, tags, current job: rebuilderd #146), and removal.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StoreContext } from './context.js';
import { parseJson } from './context.js';
import { ConflictError, InvalidInputError, NotFoundError, isUniqueViolation } from './errors.js';
import type { Selectable } from 'kysely';
import type { WorkerTable } from './schema.js';
import { identifier, integer, text } from './validate.js';

/** What a worker can build: matched against a job's architecture, backend and memory on claim. */
export interface WorkerTags {
  architectures: string[];
  backends: string[];
  /** Memory the worker can give a build, in MiB; jobs needing more are not handed to it. */
  memoryMb?: number | null;
}

export interface WorkerInfo {
  id: number;
  name: string;
  tags: WorkerTags;
  version: string | null;
  freeDiskBytes: number | null;
  currentJobId: number | null;
  lastSeenAt: number | null;
  createdAt: number;
}

export interface WorkerStatusUpdate {
  version?: string | undefined;
  freeDiskBytes?: number | undefined;
  tags?: WorkerTags | undefined;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function validateTags(tags: unknown): WorkerTags {
  const t = tags as Partial<WorkerTags> | null;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.architectures) || !Array.isArray(t.backends)) {
    throw new InvalidInputError('Cannot accept worker tags: they need the lists "architectures" and "backends"');
  }
  if (t.architectures.length > 64 || t.backends.length > 64) throw new InvalidInputError('Cannot accept worker tags: more than 64 architectures or backends');
  return {
    architectures: [...new Set(t.architectures.map((a) => identifier('architecture', a)))],
    backends: [...new Set(t.backends.map((b) => identifier('backend', b)))],
    memoryMb: t.memoryMb === undefined || t.memoryMb === null ? null : integer('worker memory (MiB)', t.memoryMb, 0, 1 << 30),
  };
}

export function toWorkerInfo(row: Selectable<WorkerTable>): WorkerInfo {
  return {
    id: row.id,
    name: row.name,
    tags: parseJson<WorkerTags>(row.tags, { architectures: [], backends: [] }),
    version: row.version,
    freeDiskBytes: row.free_disk_bytes,
    currentJobId: row.current_job_id,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
  };
}

/** Registers a worker. The token is returned here once and never again. */
export async function addWorker(ctx: StoreContext, name: string, tags: WorkerTags): Promise<{ worker: WorkerInfo; token: string }> {
  const workerName = identifier('worker name', name);
  const validTags = validateTags(tags);
  const token = `rpw_${randomBytes(32).toString('base64url')}`;
  try {
    const row = await ctx.h.write((trx) =>
      trx
        .insertInto('workers')
        .values({ name: workerName, token_hash: hashToken(token), tags: JSON.stringify(validTags), created_at: ctx.now(), version: null, free_disk_bytes: null, current_job_id: null, last_seen_at: null })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return { worker: toWorkerInfo(row), token };
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError(`Cannot add worker ${workerName}: a worker of that name exists`);
    throw err;
  }
}

/** The worker holding `token`, or null. Hashes are compared in constant time. */
export async function authenticateWorker(ctx: StoreContext, token: string): Promise<WorkerInfo | null> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 256) return null;
  const presented = Buffer.from(hashToken(token), 'hex');
  // Every worker request starts here: on SQLite a kept statement, not a built query.
  const row = ctx.h.readSync
    ? await ctx.h.readSync((prepare) => prepare('select * from workers where token_hash = ?').get(presented.toString('hex')) as Selectable<WorkerTable> | undefined)
    : await ctx.h.db.selectFrom('workers').selectAll().where('token_hash', '=', presented.toString('hex')).executeTakeFirst();
  if (!row) return null;
  const stored = Buffer.from(row.token_hash, 'hex');
  return stored.length === presented.length && timingSafeEqual(stored, presented) ? toWorkerInfo(row) : null;
}

export async function getWorker(ctx: StoreContext, id: number): Promise<WorkerInfo> {
  const row = await ctx.h.db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`Cannot find worker ${id}: no such worker`);
  return toWorkerInfo(row);
}

export async function listWorkers(ctx: StoreContext): Promise<WorkerInfo[]> {
  const rows = await ctx.h.db.selectFrom('workers').selectAll().orderBy('name').execute();
  return rows.map(toWorkerInfo);
}

/** Records that the worker is alive, with what it says about itself. */
export async function updateWorkerStatus(ctx: StoreContext, id: number, update: WorkerStatusUpdate): Promise<WorkerInfo> {
  const values: Partial<Record<keyof WorkerTable, unknown>> = { last_seen_at: ctx.now() };
  if (update.version !== undefined) values.version = text('worker version', update.version, 200);
  if (update.freeDiskBytes !== undefined) values.free_disk_bytes = integer('free disk', update.freeDiskBytes);
  if (update.tags !== undefined) values.tags = JSON.stringify(validateTags(update.tags));
  const row = await ctx.h.write((trx) => trx.updateTable('workers').set(values as never).where('id', '=', id).returningAll().executeTakeFirst());
  if (!row) throw new NotFoundError(`Cannot update worker ${id}: no such worker`);
  return toWorkerInfo(row);
}

/** Removes a worker; its running jobs come back to the queue when their leases expire. */
export async function removeWorker(ctx: StoreContext, id: number): Promise<void> {
  const removed = await ctx.h.write(async (trx) => {
    await trx.updateTable('jobs').set({ worker_id: null }).where('worker_id', '=', id).execute();
    return trx.deleteFrom('workers').where('id', '=', id).executeTakeFirst();
  });
  if (Number(removed.numDeletedRows) === 0) throw new NotFoundError(`Cannot remove worker ${id}: no such worker`);
}
