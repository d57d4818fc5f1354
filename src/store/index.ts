// The service's store: the one object the HTTP server, the daemon's timers and
// `reprove ctl` talk to. It holds the database (SQLite in the data directory by
// default, PostgreSQL when the URL says so), the blob directory and the queue's
// configuration; every method validates its input and fails with a typed
// StoreError (errors.ts) that maps to one HTTP status.
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { BlobStore, type PutOptions, type StoredBlob, type StoredLog } from './blobs.js';
import { DEFAULT_QUEUE_CONFIG, type QueueConfig, type RetryPolicy, type StoreContext } from './context.js';
import { type DatabaseOptions, openDatabase } from './db.js';
import { InvalidInputError } from './errors.js';
import type { LogCapOptions } from './log-cap.js';
import * as packages from './packages.js';
import * as queue from './queue.js';
import * as sync from './sync.js';
import type { FailureClass } from './schema.js';
import * as workers from './workers.js';

export * from './errors.js';
export type { RetryPolicy, QueueConfig } from './context.js';
export type { PutOptions, StoredBlob, StoredLog } from './blobs.js';
export { BlobStore } from './blobs.js';
export type { LogCapOptions } from './log-cap.js';
export type { ArtifactInput, PackageInput, SyncInput, SyncSummary, PackageSummary, ArtifactInfo, BuildInputInfo, PackageFilter, Page, PackageCount, PackageSort, PageCursor } from './packages.js';
export { PACKAGE_SORTS, encodeCursor, decodeCursor } from './packages.js';
export type { JobInfo, ClaimedJob, HeartbeatAnswer, ReportInput, ResultInfo, ReportOutcome, ExpiredLease, AttemptInfo, PushInput, QueueFilter } from './queue.js';
export type { WorkerTags, WorkerInfo, WorkerStatusUpdate } from './workers.js';
export { VERDICTS, FAILURE_CLASSES, JOB_STATUSES, type Verdict, type FailureClass, type JobStatus } from './schema.js';
export { zstdImplementation } from './zstd.js';

export interface StoreOptions extends DatabaseOptions {
  /** Lease length, heartbeat interval and retry policies; unset parts keep their defaults. */
  queue?: {
    leaseMs?: number | undefined;
    heartbeatIntervalMs?: number | undefined;
    retry?: Partial<Record<FailureClass, Partial<RetryPolicy>>> | undefined;
  };
  /** The clock (milliseconds since the epoch); tests pass their own. */
  now?: (() => number) | undefined;
  /** Blob directory (default <dataDir>/blobs; share it between daemons on one PostgreSQL). */
  blobDir?: string | undefined;
  /** Cap of one uploaded blob, uncompressed (default 4 GiB). */
  blobMaxBytes?: number | undefined;
  /** A stored log keeps this much of its head and of its tail (default 16 MiB each). */
  logCap?: LogCapOptions | undefined;
}

function queueConfig(o: StoreOptions['queue'] = {}): QueueConfig {
  const positive = (what: string, v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    if (!Number.isSafeInteger(v) || v <= 0) throw new InvalidInputError(`Cannot configure the queue: ${what} must be a positive integer, not ${v}`);
    return v;
  };
  const retry = { ...DEFAULT_QUEUE_CONFIG.retry };
  for (const cls of Object.keys(retry) as FailureClass[]) {
    const p = { ...retry[cls], ...(o.retry?.[cls] ?? {}) };
    if (!Number.isSafeInteger(p.maxRetries) || p.maxRetries < 0) throw new InvalidInputError(`Cannot configure the queue: max retries of ${cls} must be a non-negative integer`);
    if (!Number.isSafeInteger(p.delayMs) || p.delayMs < 0 || !Number.isSafeInteger(p.maxDelayMs) || p.maxDelayMs < 0) throw new InvalidInputError(`Cannot configure the queue: delays of ${cls} must be non-negative integers`);
    retry[cls] = p;
  }
  return {
    leaseMs: positive('the lease', o.leaseMs, DEFAULT_QUEUE_CONFIG.leaseMs),
    heartbeatIntervalMs: positive('the heartbeat interval', o.heartbeatIntervalMs, DEFAULT_QUEUE_CONFIG.heartbeatIntervalMs),
    retry,
  };
}

export class Store {
  private constructor(
    private readonly ctx: StoreContext,
    /** The content-addressed blob store (logs, reports, rebuilt artifacts). */
    readonly blobs: BlobStore,
    private readonly logCap: LogCapOptions,
  ) {}

  /** Opens (and migrates) the store. */
  static async open(options: StoreOptions = {}): Promise<Store> {
    const config = queueConfig(options.queue);
    const dataDir = resolve(options.dataDir ?? 'data');
    const h = await openDatabase({ ...options, dataDir });
    const blobs = new BlobStore(options.blobDir ?? join(dataDir, 'blobs'), options.blobMaxBytes);
    return new Store({ h, now: options.now ?? Date.now, queue: config, totals: { generation: 0, verdicts: 0, entries: new Map() } }, blobs, options.logCap ?? { headBytes: 16 << 20, tailBytes: 16 << 20 });
  }

  /** 'sqlite' or 'postgres'. */
  get dialect(): 'sqlite' | 'postgres' {
    return this.ctx.h.dialect;
  }

  /** The queue configuration in force (lease length, heartbeat interval, retry policies). */
  get queueConfig(): QueueConfig {
    return this.ctx.queue;
  }

  close(): Promise<void> {
    return this.ctx.h.close();
  }

  // Packages

  /** Syncs what a (distribution, suite, architecture) lists now: new versions enqueued, versions gone marked as left. */
  syncPackages(input: packages.SyncInput): Promise<packages.SyncSummary> {
    return sync.syncPackages(this.ctx, input);
  }
  /** Paged by offset, or (by name only) by the cursor of the previous page (`after`: keyset paging, fast however deep). */
  listPackages(filter?: packages.PackageFilter, page?: packages.Page & { after?: packages.PageCursor | undefined }, sort?: packages.PackageSort): Promise<{ total: number; items: packages.PackageSummary[]; next: packages.PageCursor | null }> {
    return packages.listPackages(this.ctx, filter, page, sort);
  }
  /** A text that changes whenever what the package list shows may have (see packages.listStamp): the key of caches of list pages. */
  listStamp(): string {
    return packages.listStamp(this.ctx);
  }
  countPackages(filter?: packages.PackageFilter): Promise<number> {
    return packages.countPackages(this.ctx, filter);
  }
  packageHistory(distribution: string, suite: string, architecture: string, name: string): Promise<packages.PackageSummary[]> {
    return packages.packageHistory(this.ctx, distribution, suite, architecture, name);
  }
  getPackage(id: number): Promise<packages.PackageSummary & { input: packages.BuildInputInfo | null }> {
    return packages.getPackage(this.ctx, id);
  }
  packageCounts(filter?: Pick<packages.PackageFilter, 'distribution' | 'suite' | 'architecture'>): Promise<packages.PackageCount[]> {
    return packages.packageCounts(this.ctx, filter);
  }
  /** Build-info references already known per `name\0version` in a (distribution, suite, architecture). */
  knownBuildinfo(distribution: string, suite: string, architecture: string): Promise<Map<string, { url: string; sha256: string }>> {
    return packages.knownBuildinfo(this.ctx, distribution, suite, architecture);
  }
  listDistributions(): Promise<{ distribution: string; suites: string[] }[]> {
    return packages.listDistributions(this.ctx);
  }
  listArchitectures(): Promise<string[]> {
    return packages.listArchitectures(this.ctx);
  }

  // Queue

  /** The best job this worker can build, leased to it; null when none is runnable. */
  claim(workerId: number, tags?: workers.WorkerTags): Promise<queue.ClaimedJob | null> {
    return queue.claim(this.ctx, workerId, tags);
  }
  /** Extends a lease, or says why the worker should stop. */
  heartbeat(jobId: number, leaseToken: string): Promise<queue.HeartbeatAnswer> {
    return queue.heartbeat(this.ctx, jobId, leaseToken);
  }
  /** Returns expired leases to the queue; the daemon calls this on a timer. */
  expireLeases(now?: number): Promise<queue.ExpiredLease[]> {
    return queue.expireLeases(this.ctx, now);
  }
  /** Records an attempt's outcome (the blobs it names must be stored first). */
  async report(jobId: number, leaseToken: string, result: queue.ReportInput): Promise<queue.ReportOutcome> {
    for (const h of queue.reportBlobs(result)) {
      if (!(await this.blobs.has(h))) throw new InvalidInputError(`Cannot accept the report of job ${jobId}: blob ${h} is not stored (upload it first)`);
    }
    return queue.report(this.ctx, jobId, leaseToken, result);
  }
  push(input: queue.PushInput): Promise<queue.JobInfo> {
    return queue.push(this.ctx, input);
  }
  retry(jobId: number, priority?: number): Promise<queue.JobInfo> {
    return queue.retry(this.ctx, jobId, priority);
  }
  drop(jobId: number): Promise<queue.JobInfo> {
    return queue.drop(this.ctx, jobId);
  }
  getJob(jobId: number): Promise<queue.JobInfo> {
    return queue.getJob(this.ctx, jobId);
  }
  listQueue(filter?: queue.QueueFilter, page?: packages.Page): Promise<{ total: number; items: queue.JobInfo[] }> {
    return queue.listQueue(this.ctx, filter, page);
  }
  listAttempts(jobId: number): Promise<queue.AttemptInfo[]> {
    return queue.listAttempts(this.ctx, jobId);
  }
  getResult(resultId: number): Promise<queue.ResultInfo> {
    return queue.getResult(this.ctx, resultId);
  }
  listResults(packageId: number): Promise<queue.ResultInfo[]> {
    return queue.listResults(this.ctx, packageId);
  }

  // Workers

  /** Registers a worker; the token is returned this once (only its hash is kept). */
  addWorker(name: string, tags: workers.WorkerTags): Promise<{ worker: workers.WorkerInfo; token: string }> {
    return workers.addWorker(this.ctx, name, tags);
  }
  authenticateWorker(token: string): Promise<workers.WorkerInfo | null> {
    return workers.authenticateWorker(this.ctx, token);
  }
  getWorker(id: number): Promise<workers.WorkerInfo> {
    return workers.getWorker(this.ctx, id);
  }
  listWorkers(): Promise<workers.WorkerInfo[]> {
    return workers.listWorkers(this.ctx);
  }
  updateWorkerStatus(id: number, update: workers.WorkerStatusUpdate): Promise<workers.WorkerInfo> {
    return workers.updateWorkerStatus(this.ctx, id, update);
  }
  removeWorker(id: number): Promise<void> {
    return workers.removeWorker(this.ctx, id);
  }

  // Blobs

  /** Stores an upload, its hash checked; see BlobStore.putStream. */
  putBlob(source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: PutOptions): Promise<StoredBlob> {
    return this.blobs.putStream(source, options);
  }
  /** Stores a build log under the configured head/tail cap. */
  putLog(source: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options?: PutOptions): Promise<StoredLog> {
    return this.blobs.putLog(source, this.logCap, options);
  }
}

/** Opens (and migrates) the store: `openStore({ url: process.env.DATABASE_URL, dataDir: './data' })`. */
export function openStore(options: StoreOptions = {}): Promise<Store> {
  return Store.open(options);
}
