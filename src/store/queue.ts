// The queue: claims with leases, heartbeats, expiry, reports fenced by the lease
// token, retries per failure class, and the operator's push, retry and drop.
//
// Invariants, held by transactions and by the schema (one result per attempt,
// one final result per job, unique indexes):
// - a job is claimed by one worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED;
//   SQLite: BEGIN IMMEDIATE);
// - a job has exactly one final result: a report is accepted from the current
//   lease holder, or from an expired one while no final result exists (the new
//   holder is then told to stop); anything else is a ConflictError, except the
//   same report sent again, which returns what was stored;
// - failures count per class (ftbfs, unreproducible, infrastructure), each with
//   its own max_retries and backoff (rebuilderd #196, #233).
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { writeLatestCauses } from './causes.js';
import { type StoreContext, canonicalJson, parseJson, retryDelay } from './context.js';
import { ConflictError, InvalidInputError, NotFoundError } from './errors.js';
import { type BuildInputInfo, type Page, type PackageSummary, buildInputOf, enqueueJobs, packagesChanged, pageOf } from './packages.js';
import { type Database, type FailureClass, JOB_STATUSES, type JobStatus, type JobTable, type ResultTable, VERDICTS, type Verdict } from './schema.js';
import { identifier, integer, json, packageName, packageVersion, sha256Hex, text } from './validate.js';
import { recordVerdictChange } from './verdict-changes.js';
import { type WorkerTags, validateTags } from './workers.js';

export interface JobInfo {
  id: number;
  status: JobStatus;
  priority: number;
  runAfter: number;
  package: Pick<PackageSummary, 'id' | 'distribution' | 'suite' | 'architecture' | 'name' | 'version'>;
  backend: string;
  minMemoryMb: number | null;
  attempts: Record<FailureClass, number>;
  workerId: number | null;
  workerName: string | null;
  leaseExpiresAt: number | null;
  resultId: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ClaimedJob {
  job: JobInfo;
  /** Presented with every heartbeat and the report; secret to the worker holding it. */
  leaseToken: string;
  leaseExpiresAt: number;
  heartbeatIntervalMs: number;
  attemptId: number;
  /** True when this rebuild confirms an UNREPRODUCIBLE first one. */
  confirmation: boolean;
  input: BuildInputInfo;
}

export type HeartbeatAnswer =
  | { continue: true; leaseExpiresAt: number }
  | { continue: false; reason: 'lease-lost' | 'result-recorded' | 'dropped' | 'superseded' };

/** What a worker reports at the end of an attempt. */
export interface ReportInput {
  verdict: Verdict;
  /** Only for ERROR: 'infrastructure' (default, retried with backoff) or null (final, not retried). */
  failureClass?: FailureClass | null | undefined;
  exitCode?: number | null | undefined;
  signal?: string | null | undefined;
  message?: string | null | undefined;
  /** The differences the policy ignored (JSON). */
  ignored?: unknown;
  /** Known-issue ids explaining the differences. */
  issues?: readonly string[] | undefined;
  /** Phase durations in milliseconds. */
  timings?: Record<string, number> | undefined;
  logBlob?: string | null | undefined;
  reportJsonBlob?: string | null | undefined;
  reportHtmlBlob?: string | null | undefined;
  artifacts?: readonly { name: string; sha256: string }[] | undefined;
  /** What of the recorded build environment was recreated and what not. */
  environment?: BuildEnvironmentReport | null | undefined;
}

export interface BuildEnvironmentReport {
  reproduced: string[];
  notReproduced: string[];
}

export interface ResultInfo {
  id: number;
  jobId: number;
  attemptId: number | null;
  packageId: number;
  workerId: number | null;
  verdict: Verdict;
  final: boolean;
  failureClass: FailureClass | null;
  /** The earlier result of the same job (the first UNREPRODUCIBLE rebuild a confirmation follows). */
  previousResultId: number | null;
  ignored: unknown;
  issues: string[];
  timings: Record<string, number>;
  logBlob: string | null;
  reportJsonBlob: string | null;
  reportHtmlBlob: string | null;
  artifacts: { name: string; sha256: string }[];
  message: string | null;
  environment: BuildEnvironmentReport | null;
  createdAt: number;
}

export interface ReportOutcome {
  result: ResultInfo;
  job: JobInfo;
  /** True when this exact report had been stored before (nothing new was written). */
  duplicate: boolean;
}

export interface ExpiredLease {
  jobId: number;
  workerId: number | null;
  /** False when the job ran out of infrastructure retries and is done with an ERROR result. */
  requeued: boolean;
  runAfter: number | null;
}

export interface AttemptInfo {
  id: number;
  jobId: number;
  workerId: number | null;
  workerName: string | null;
  backend: string;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  failureClass: FailureClass | null;
  message: string | null;
}

export interface PushInput {
  distribution: string;
  suite: string;
  architecture: string;
  name: string;
  /** Default: the newest version in the archive. */
  version?: string | undefined;
  priority?: number | undefined;
}

export interface QueueFilter {
  /** Default: running and queued. */
  statuses?: JobStatus[] | undefined;
  distribution?: string | undefined;
  architecture?: string | undefined;
}

const ATTEMPT_COLUMN = {
  ftbfs: 'attempts_ftbfs',
  unreproducible: 'attempts_unreproducible',
  infrastructure: 'attempts_infrastructure',
} as const satisfies Record<FailureClass, keyof JobTable>;

/** The failure class of a verdict; null for a success. */
const CLASS_OF: Record<Verdict, FailureClass | null> = {
  BIT_IDENTICAL: null,
  IDENTICAL_EXCEPT_SIGNATURE: null,
  REPRODUCIBLE: null,
  UNREPRODUCIBLE: 'unreproducible',
  FTBFS: 'ftbfs',
  ERROR: 'infrastructure',
};

type JobRow = Selectable<JobTable>;

/** A query over `jobs as j`, to be narrowed, ordered and paged, then read as JobInfo. */
const jobSelect = (db: Kysely<Database>) => db.selectFrom('jobs as j');
type JobsQuery = ReturnType<typeof jobSelect>;

async function jobInfo(db: Kysely<Database>, id: number): Promise<JobInfo> {
  const infos = await jobInfos(jobSelect(db).where('j.id', '=', id));
  if (!infos[0]) throw new NotFoundError(`Cannot find job ${id}: no such job`);
  return infos[0];
}

async function jobInfos(q: JobsQuery): Promise<JobInfo[]> {
  const rows = await q
    .innerJoin('source_packages as s', 's.id', 'j.source_package_id')
    .leftJoin('workers as w', 'w.id', 'j.worker_id')
    .selectAll('j')
    .select(['s.distribution', 's.suite', 's.architecture as package_architecture', 's.name', 's.version', 'w.name as worker_name'])
    .execute();
  return rows.map(toJobInfo);
}

function toJobInfo(r: JobRow & { distribution: string; suite: string; package_architecture: string; name: string; version: string; worker_name: string | null }): JobInfo {
  return {
    id: r.id,
    status: r.status,
    priority: r.priority,
    runAfter: r.run_after,
    package: { id: r.source_package_id, distribution: r.distribution, suite: r.suite, architecture: r.package_architecture, name: r.name, version: r.version },
    backend: r.backend,
    minMemoryMb: r.min_memory_mb,
    attempts: { ftbfs: r.attempts_ftbfs, unreproducible: r.attempts_unreproducible, infrastructure: r.attempts_infrastructure },
    workerId: r.worker_id,
    workerName: r.worker_name,
    leaseExpiresAt: r.lease_expires_at,
    resultId: r.result_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toResultInfo(r: Selectable<ResultTable>): ResultInfo {
  return {
    id: r.id,
    jobId: r.job_id,
    attemptId: r.attempt_id,
    packageId: r.source_package_id,
    workerId: r.worker_id,
    verdict: r.verdict,
    final: Number(r.final) === 1,
    failureClass: r.failure_class,
    previousResultId: r.previous_result_id,
    ignored: parseJson<unknown>(r.ignored, []),
    issues: parseJson<string[]>(r.issues, []),
    timings: parseJson<Record<string, number>>(r.timings, {}),
    logBlob: r.log_blob,
    reportJsonBlob: r.report_json_blob,
    reportHtmlBlob: r.report_html_blob,
    artifacts: parseJson<{ name: string; sha256: string }[]>(r.artifacts, []),
    message: r.message,
    environment: r.environment === null || r.environment === undefined ? null : parseJson<BuildEnvironmentReport | null>(r.environment, null),
    createdAt: r.created_at,
  };
}

/** Locks and reads one job row (PostgreSQL: FOR UPDATE; SQLite holds the write lock already). */
async function lockJob(ctx: StoreContext, trx: Kysely<Database>, id: number): Promise<JobRow | undefined> {
  const q = trx.selectFrom('jobs').selectAll().where('id', '=', id);
  return (ctx.h.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
}

function checkId(what: string, id: unknown): number {
  return integer(`${what} id`, id, 1);
}

/**
 * Hands the best runnable job that the worker can build to the worker: highest
 * priority first, then oldest; only jobs whose architecture and backend the
 * worker has and whose memory requirement it meets. Null when there is none.
 */
export async function claim(ctx: StoreContext, workerId: number, tags?: WorkerTags): Promise<ClaimedJob | null> {
  checkId('worker', workerId);
  const worker = ctx.h.readSync
    ? await ctx.h.readSync((prepare) => prepare('select id, name, tags from workers where id = ?').get(workerId) as { id: number; name: string; tags: string } | undefined)
    : await ctx.h.db.selectFrom('workers').select(['id', 'name', 'tags']).where('id', '=', workerId).executeTakeFirst();
  if (!worker) throw new NotFoundError(`Cannot claim a job for worker ${workerId}: no such worker`);
  const t = validateTags(tags ?? parseJson<WorkerTags>(worker.tags, { architectures: [], backends: [] }));
  if (t.architectures.length === 0 || t.backends.length === 0) return null;

  const leaseToken = randomBytes(24).toString('base64url');
  const memory = t.memoryMb ?? null;
  // The runnable jobs this worker can build, best first (the jobs_claim index's order).
  const candidates = (db: Kysely<Database>, now: number) => {
    const q = db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', 'queued')
      .where('run_after', '<=', now)
      .where('architecture', 'in', t.architectures)
      .where('backend', 'in', t.backends)
      .where((eb) => (memory === null ? eb('min_memory_mb', 'is', null) : eb.or([eb('min_memory_mb', 'is', null), eb('min_memory_mb', '<=', memory)])))
      .orderBy('priority', 'desc')
      .orderBy('run_after')
      .orderBy('id')
      .limit(1);
    return ctx.h.dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
  };
  let now = 0;
  let job: JobRow | undefined;
  let attemptId = 0;
  if (ctx.h.dialect === 'postgres') {
    // One statement, so one round trip: pick (skipping rows other claims hold), lease,
    // open the attempt and note the worker's current job, atomically.
    now = ctx.now();
    const row = await ctx.h.db
      .with('picked', (db) => candidates(db as unknown as Kysely<Database>, now))
      .with('job', (db) =>
        db
          .updateTable('jobs')
          .from('picked')
          .set({ status: 'running', lease_token: leaseToken, lease_expires_at: now + ctx.queue.leaseMs, worker_id: worker.id, updated_at: now })
          .whereRef('jobs.id', '=', 'picked.id')
          .where('jobs.status', '=', 'queued')
          .returningAll('jobs'),
      )
      .with('attempt', (db) =>
        db
          .insertInto('build_attempts')
          .columns(['job_id', 'worker_id', 'worker_name', 'backend', 'lease_token', 'started_at'])
          .expression((eb) => eb.selectFrom('job').select((e) => ['job.id', e.val(worker.id).as('worker_id'), e.val(worker.name).as('worker_name'), 'job.backend', e.val(leaseToken).as('lease_token'), e.val(now).as('started_at')]))
          .returning('id'),
      )
      .with('noted', (db) =>
        db
          .updateTable('workers')
          .set((eb) => ({ current_job_id: eb.selectFrom('job').select('job.id'), last_seen_at: now }))
          .where('id', '=', worker.id)
          .where((eb) => eb.exists(eb.selectFrom('job').select('job.id')))
          .returning('workers.id'),
      )
      .selectFrom(['job', 'attempt'])
      .selectAll('job')
      .select('attempt.id as attempt_id')
      .executeTakeFirst();
    if (row) {
      const { attempt_id, ...rest } = row as JobRow & { attempt_id: number };
      job = rest as JobRow;
      attemptId = attempt_id;
    }
  } else if (ctx.h.writeSync) {
    // SQLite: the whole claim runs synchronously in one immediate transaction, on
    // prepared statements kept by their text (it is the queue's hottest path).
    const arch = t.architectures.map(() => '?').join(', ');
    const backends = t.backends.map(() => '?').join(', ');
    const pick =
      `update jobs set status = 'running', lease_token = ?, lease_expires_at = ?, worker_id = ?, updated_at = ? ` +
      `where status = 'queued' and id = (select id from jobs where status = 'queued' and run_after <= ? and architecture in (${arch}) and backend in (${backends}) ` +
      `and (min_memory_mb is null${memory === null ? '' : ' or min_memory_mb <= ?'}) order by priority desc, run_after, id limit 1) returning *`;
    const out = await ctx.h.writeSync((prepare) => {
      now = ctx.now();
      const params: unknown[] = [leaseToken, now + ctx.queue.leaseMs, worker.id, now, now, ...t.architectures, ...t.backends, ...(memory === null ? [] : [memory])];
      const row = prepare(pick).get(params) as JobRow | undefined;
      if (!row) return undefined;
      const attempt = prepare('insert into build_attempts (job_id, worker_id, worker_name, backend, lease_token, started_at) values (?, ?, ?, ?, ?, ?) returning id').get(row.id, worker.id, worker.name, row.backend, leaseToken, now) as { id: number };
      prepare('update workers set current_job_id = ?, last_seen_at = ? where id = ?').run(row.id, now, worker.id);
      const pkg = prepare('select distribution, suite, architecture as package_architecture, name, version from source_packages where id = ?').get(row.source_package_id) as { distribution: string; suite: string; package_architecture: string; name: string; version: string };
      const input = prepare('select * from build_inputs where source_package_id = ?').get(row.source_package_id) as Selectable<Database['build_inputs']> | undefined;
      const artifacts = input ? (prepare('select name, version, architecture, url, sha256, size from binary_packages where source_package_id = ? order by id').all(row.source_package_id) as BuildInputInfo['artifacts']) : [];
      return { row, attemptId: attempt.id, pkg, input: input ? { backend: input.backend, recipe: parseJson<unknown>(input.recipe, {}), buildinfoUrl: input.buildinfo_url, buildinfoSha256: input.buildinfo_sha256, minMemoryMb: input.min_memory_mb, artifacts } : null };
    });
    if (!out) return null;
    return {
      job: toJobInfo({ ...out.row, ...out.pkg, worker_name: worker.name }),
      leaseToken,
      leaseExpiresAt: now + ctx.queue.leaseMs,
      heartbeatIntervalMs: ctx.queue.heartbeatIntervalMs,
      attemptId: out.attemptId,
      confirmation: out.row.attempts_unreproducible > 0,
      input: out.input ?? { backend: out.row.backend, recipe: {}, buildinfoUrl: null, buildinfoSha256: null, minMemoryMb: out.row.min_memory_mb, artifacts: [] },
    };
  } else {
    throw new Error('Cannot claim: a SQLite store without its synchronous transaction');
  }
  if (!job) return null;
  const leased: JobRow = job;
  const [pkg, input] = await Promise.all([
    ctx.h.db.selectFrom('source_packages').select(['distribution', 'suite', 'architecture as package_architecture', 'name', 'version']).where('id', '=', leased.source_package_id).executeTakeFirstOrThrow(),
    buildInputOf(ctx.h.db, leased.source_package_id),
  ]);
  const claimedJob = toJobInfo({ ...leased, ...pkg, worker_name: worker.name });
  const claimed = { leaseToken, leaseExpiresAt: now + ctx.queue.leaseMs, attemptId, confirmation: leased.attempts_unreproducible > 0 };
  return {
    job: claimedJob,
    leaseToken: claimed.leaseToken,
    leaseExpiresAt: claimed.leaseExpiresAt,
    heartbeatIntervalMs: ctx.queue.heartbeatIntervalMs,
    attemptId: claimed.attemptId,
    confirmation: claimed.confirmation,
    input: input ?? { backend: leased.backend, recipe: {}, buildinfoUrl: null, buildinfoSha256: null, minMemoryMb: leased.min_memory_mb, artifacts: [] },
  };
}

/**
 * Extends the lease of a worker still holding it. Tells it to stop when its lease
 * went to another worker, a result was recorded, or the job was dropped or superseded.
 */
export async function heartbeat(ctx: StoreContext, jobId: number, leaseToken: string): Promise<HeartbeatAnswer> {
  checkId('job', jobId);
  if (typeof leaseToken !== 'string' || leaseToken.length === 0 || leaseToken.length > 200) throw new InvalidInputError(`Cannot take the heartbeat of job ${jobId}: malformed lease token`);
  return ctx.h.write(async (trx) => {
    const now = ctx.now();
    const leaseExpiresAt = now + ctx.queue.leaseMs;
    const updated = await trx
      .updateTable('jobs')
      .set({ lease_expires_at: leaseExpiresAt, updated_at: now })
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .where('lease_token', '=', leaseToken)
      .returning('worker_id')
      .executeTakeFirst();
    if (updated) {
      if (updated.worker_id !== null) await trx.updateTable('workers').set({ last_seen_at: now, current_job_id: jobId }).where('id', '=', updated.worker_id).execute();
      return { continue: true, leaseExpiresAt };
    }
    const job = await trx.selectFrom('jobs').select(['status', 'result_id']).where('id', '=', jobId).executeTakeFirst();
    if (!job) throw new NotFoundError(`Cannot take the heartbeat of job ${jobId}: no such job`);
    const reason = job.status === 'dropped' ? 'dropped' : job.status === 'superseded' ? 'superseded' : job.status === 'done' ? 'result-recorded' : 'lease-lost';
    return { continue: false, reason };
  });
}

/** The retry decision after a failure of class `cls`: null when it is final. */
function nextRun(ctx: StoreContext, job: JobRow, cls: FailureClass | null, now: number): { count: number; runAfter: number } | null {
  if (cls === null) return null;
  const policy = ctx.queue.retry[cls];
  const count = job[ATTEMPT_COLUMN[cls]] + 1;
  return count <= policy.maxRetries ? { count, runAfter: now + retryDelay(policy, count) } : null;
}

/**
 * Returns every job whose lease has expired (at or before `now`) to the queue,
 * closing its attempt as an infrastructure failure ("worker lost") that counts
 * against that class's retries. A job out of them is done with an ERROR result.
 */
export async function expireLeases(ctx: StoreContext, now = ctx.now()): Promise<ExpiredLease[]> {
  const expired = await ctx.h.write(async (trx) => {
    let q = trx.selectFrom('jobs').selectAll().where('status', '=', 'running').where('lease_expires_at', '<=', now).orderBy('id');
    if (ctx.h.dialect === 'postgres') q = q.forUpdate().skipLocked();
    const expired = await q.execute();
    const out: ExpiredLease[] = [];
    for (const job of expired) {
      const message = 'worker lost: its lease expired without a heartbeat';
      if (job.lease_token !== null) {
        await trx.updateTable('build_attempts').set({ ended_at: now, failure_class: 'infrastructure', message }).where('lease_token', '=', job.lease_token).where('ended_at', 'is', null).execute();
      }
      if (job.worker_id !== null) await trx.updateTable('workers').set({ current_job_id: null }).where('id', '=', job.worker_id).where('current_job_id', '=', job.id).execute();
      const next = nextRun(ctx, job, 'infrastructure', now);
      const count = job.attempts_infrastructure + 1;
      if (next) {
        await trx
          .updateTable('jobs')
          .set({ status: 'queued', run_after: next.runAfter, attempts_infrastructure: count, lease_token: null, lease_expires_at: null, worker_id: null, updated_at: now })
          .where('id', '=', job.id)
          .execute();
        out.push({ jobId: job.id, workerId: job.worker_id, requeued: true, runAfter: next.runAfter });
      } else {
        const attempt = job.lease_token === null ? undefined : await trx.selectFrom('build_attempts').select('id').where('lease_token', '=', job.lease_token).executeTakeFirst();
        const result = await insertResult(trx, job, attempt?.id ?? null, null, { verdict: 'ERROR', failureClass: 'infrastructure', message: `${message}; out of infrastructure retries` }, true, now);
        await finishJob(trx, job, result, { attempts_infrastructure: count }, now);
        out.push({ jobId: job.id, workerId: job.worker_id, requeued: false, runAfter: null });
      }
    }
    return out;
  });
  // A job out of retries got its final verdict: the package list changed.
  if (expired.some((e) => !e.requeued)) packagesChanged(ctx, 'verdicts');
  return expired;
}

interface ValidReport {
  verdict: Verdict;
  failureClass: FailureClass | null;
  exitCode: number | null;
  signal: string | null;
  message: string | null;
  ignored: string;
  issues: string;
  timings: string;
  logBlob: string | null;
  reportJsonBlob: string | null;
  reportHtmlBlob: string | null;
  artifacts: string;
  environment: string | null;
}

function validateReport(jobId: number, r: ReportInput): ValidReport {
  const what = `the report of job ${jobId}`;
  if (r === null || typeof r !== 'object') throw new InvalidInputError(`Cannot accept ${what}: not an object`);
  if (!(VERDICTS as readonly string[]).includes(r.verdict)) throw new InvalidInputError(`Cannot accept ${what}: ${JSON.stringify(r.verdict)} is not a verdict`);
  let failureClass = CLASS_OF[r.verdict];
  if (r.verdict === 'ERROR' && r.failureClass !== undefined) {
    if (r.failureClass !== null && r.failureClass !== 'infrastructure') throw new InvalidInputError(`Cannot accept ${what}: an ERROR's failure class is infrastructure or none`);
    failureClass = r.failureClass;
  }
  const blob = (name: string, v: string | null | undefined): string | null => (v === undefined || v === null ? null : sha256Hex(`${name} of ${what}`, v));
  const issues = r.issues ?? [];
  if (!Array.isArray(issues) || issues.length > 1000) throw new InvalidInputError(`Cannot accept ${what}: issues must be a list of at most 1000 ids`);
  const artifacts = r.artifacts ?? [];
  if (!Array.isArray(artifacts) || artifacts.length > 10_000) throw new InvalidInputError(`Cannot accept ${what}: artifacts must be a list of at most 10000`);
  const env = r.environment ?? null;
  if (env !== null) {
    const lists = [env.reproduced, env.notReproduced];
    if (typeof env !== 'object' || !lists.every((l) => Array.isArray(l) && l.length <= 1000 && l.every((x) => typeof x === 'string' && x.length <= 1024)))
      throw new InvalidInputError(`Cannot accept ${what}: environment must be {reproduced, notReproduced}, lists of at most 1000 strings of at most 1024 characters`);
  }
  const timings = r.timings ?? {};
  if (typeof timings !== 'object' || timings === null || Array.isArray(timings)) throw new InvalidInputError(`Cannot accept ${what}: timings must be an object`);
  return {
    verdict: r.verdict,
    failureClass,
    exitCode: r.exitCode === undefined || r.exitCode === null ? null : integer(`exit code of ${what}`, r.exitCode, -(2 ** 31), 2 ** 31),
    signal: r.signal === undefined || r.signal === null ? null : identifier(`signal of ${what}`, r.signal, 32),
    message: r.message === undefined || r.message === null ? null : text(`message of ${what}`, r.message, 16_384),
    ignored: json(`ignored differences of ${what}`, r.ignored ?? [], 4 << 20),
    issues: json(`issues of ${what}`, issues.map((i) => identifier('issue id', i, 128))),
    timings: json(`timings of ${what}`, Object.fromEntries(Object.entries(timings).map(([k, v]) => [identifier('timing name', k), integer(`timing ${k}`, v)]))),
    logBlob: blob('log blob', r.logBlob),
    reportJsonBlob: blob('JSON report blob', r.reportJsonBlob),
    reportHtmlBlob: blob('HTML report blob', r.reportHtmlBlob),
    artifacts: json(`artifacts of ${what}`, artifacts.map((a) => ({ name: packageName(a?.name), sha256: sha256Hex(`artifact digest of ${what}`, a?.sha256) }))),
    environment: env === null ? null : json(`environment of ${what}`, { reproduced: env.reproduced, notReproduced: env.notReproduced }),
  };
}

/** The blob hashes a report refers to (the caller checks they are stored). */
export function reportBlobs(r: ReportInput): string[] {
  return [r.logBlob, r.reportJsonBlob, r.reportHtmlBlob, ...(r.artifacts ?? []).map((a) => a.sha256)].filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase());
}

async function insertResult(
  trx: Kysely<Database>,
  job: JobRow,
  attemptId: number | null,
  workerId: number | null,
  r: Partial<ValidReport> & { verdict: Verdict },
  final: boolean,
  now: number,
  contentHash = '',
): Promise<Selectable<ResultTable>> {
  const previous = await trx.selectFrom('results').select('id').where('job_id', '=', job.id).orderBy('id', 'desc').limit(1).executeTakeFirst();
  return trx
    .insertInto('results')
    .values({
      job_id: job.id,
      attempt_id: attemptId,
      source_package_id: job.source_package_id,
      worker_id: workerId,
      verdict: r.verdict,
      final: final ? 1 : 0,
      failure_class: r.failureClass ?? null,
      previous_result_id: previous?.id ?? null,
      ignored: r.ignored ?? '[]',
      issues: r.issues ?? '[]',
      timings: r.timings ?? '{}',
      log_blob: r.logBlob ?? null,
      report_json_blob: r.reportJsonBlob ?? null,
      report_html_blob: r.reportHtmlBlob ?? null,
      artifacts: r.artifacts ?? '[]',
      message: r.message ?? null,
      environment: r.environment ?? null,
      content_hash: contentHash,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

async function finishJob(trx: Kysely<Database>, job: JobRow, result: Selectable<ResultTable>, counters: Partial<Record<(typeof ATTEMPT_COLUMN)[FailureClass], number>>, now: number): Promise<void> {
  await trx
    .updateTable('jobs')
    .set({ status: 'done', result_id: result.id, lease_token: null, lease_expires_at: null, updated_at: now, ...counters })
    .where('id', '=', job.id)
    .execute();
  // The newest final result's known causes beside its verdict: the list's cause filter reads no results.
  await trx.updateTable('source_packages').set({ latest_verdict: result.verdict, latest_result_id: result.id, latest_issues: result.issues }).where('id', '=', job.source_package_id).execute();
  await writeLatestCauses(trx, job.source_package_id, result.issues);
  await recordVerdictChange(trx, result);
}

/**
 * Records the outcome of the attempt holding `leaseToken`. See the header for who
 * may report; a failure with retries left of its class sends the job back to the
 * queue after that class's delay, and the report is kept as a non-final result.
 */
export async function report(ctx: StoreContext, jobId: number, leaseToken: string, input: ReportInput): Promise<ReportOutcome> {
  checkId('job', jobId);
  if (typeof leaseToken !== 'string' || leaseToken.length === 0 || leaseToken.length > 200) throw new InvalidInputError(`Cannot accept the report of job ${jobId}: malformed lease token`);
  const r = validateReport(jobId, input);
  const contentHash = createHash('sha256').update(canonicalJson(r)).digest('hex');

  const outcome = await ctx.h.write(async (trx) => {
    const now = ctx.now();
    const job = await lockJob(ctx, trx, jobId);
    if (!job) throw new NotFoundError(`Cannot accept the report of job ${jobId}: no such job`);
    const attempt = await trx.selectFrom('build_attempts').selectAll().where('lease_token', '=', leaseToken).where('job_id', '=', jobId).executeTakeFirst();
    if (!attempt) throw new ConflictError(`Cannot accept the report of job ${jobId}: the lease token is not one this job gave out`);
    const stored = await trx.selectFrom('results').selectAll().where('attempt_id', '=', attempt.id).executeTakeFirst();
    if (stored) {
      if (stored.content_hash === contentHash) return { resultId: stored.id, duplicate: true };
      throw new ConflictError(`Cannot accept the report of job ${jobId}: a different result (${stored.id}) was already reported for this lease`);
    }
    if (job.status === 'dropped' || job.status === 'superseded') throw new ConflictError(`Cannot accept the report of job ${jobId}: the job was ${job.status}`);
    if (job.result_id !== null) throw new ConflictError(`Cannot accept the report of job ${jobId}: it already has its result (${job.result_id})`);

    const holder = job.status === 'running' && job.lease_token === leaseToken;
    const cls = r.failureClass;
    const next = nextRun(ctx, job, cls, now);
    const counters = cls === null ? {} : { [ATTEMPT_COLUMN[cls]]: job[ATTEMPT_COLUMN[cls]] + 1 };
    const result = await insertResult(trx, job, attempt.id, attempt.worker_id, r, next === null, now, contentHash);
    await trx
      .updateTable('build_attempts')
      .set({ ended_at: now, exit_code: r.exitCode, signal: r.signal, failure_class: cls, message: r.message })
      .where('id', '=', attempt.id)
      .execute();
    if (attempt.worker_id !== null) await trx.updateTable('workers').set({ current_job_id: null, last_seen_at: now }).where('id', '=', attempt.worker_id).where('current_job_id', '=', jobId).execute();

    if (next === null) {
      await finishJob(trx, job, result, counters, now);
    } else if (holder || job.status === 'queued') {
      // Back to the queue after this class's delay (a late reporter's job may already be waiting there).
      await trx
        .updateTable('jobs')
        .set({ status: 'queued', run_after: Math.max(next.runAfter, job.status === 'queued' ? job.run_after : 0), lease_token: null, lease_expires_at: null, worker_id: null, updated_at: now, ...counters })
        .where('id', '=', jobId)
        .execute();
    } else {
      // A late report while another worker holds the job: that worker's build is the retry.
      await trx.updateTable('jobs').set({ updated_at: now, ...counters }).where('id', '=', jobId).execute();
    }
    return { resultId: result.id, duplicate: false };
  });
  if (!outcome.duplicate) packagesChanged(ctx, 'verdicts');
  const [row, job] = await Promise.all([ctx.h.db.selectFrom('results').selectAll().where('id', '=', outcome.resultId).executeTakeFirstOrThrow(), jobInfo(ctx.h.db, jobId)]);
  return { result: toResultInfo(row), job, duplicate: outcome.duplicate };
}

/** Enqueues a package version by hand (the newest in the archive when no version is given). A queued job of it gets the higher priority instead. */
export async function push(ctx: StoreContext, input: PushInput): Promise<JobInfo> {
  const distribution = identifier('distribution', input.distribution);
  const suite = identifier('suite', input.suite);
  const architecture = identifier('architecture', input.architecture);
  const name = packageName(input.name);
  const version = input.version === undefined ? undefined : packageVersion(input.version);
  const priority = input.priority === undefined ? 10 : integer('priority', input.priority, -1_000_000, 1_000_000);
  const what = `${distribution}/${suite}/${architecture} ${name}${version === undefined ? '' : ` ${version}`}`;
  const jobId = await ctx.h.write(async (trx) => {
    const now = ctx.now();
    let q = trx.selectFrom('source_packages').selectAll().where('distribution', '=', distribution).where('suite', '=', suite).where('architecture', '=', architecture).where('name', '=', name);
    q = version === undefined ? q.where('left_archive_at', 'is', null).orderBy('id', 'desc').limit(1) : q.where('version', '=', version);
    const pkg = await q.executeTakeFirst();
    if (!pkg) throw new NotFoundError(`Cannot push ${what}: no such package version`);
    const input = await trx.selectFrom('build_inputs').selectAll().where('source_package_id', '=', pkg.id).executeTakeFirst();
    if (!input) throw new ConflictError(`Cannot push ${what}: it has no build input`);
    const pending = await trx.selectFrom('jobs').selectAll().where('source_package_id', '=', pkg.id).where('status', 'in', ['queued', 'running']).orderBy('id').executeTakeFirst();
    if (pending?.status === 'running') throw new ConflictError(`Cannot push ${what}: job ${pending.id} of it is running`);
    if (pending) {
      await trx.updateTable('jobs').set({ priority: Math.max(pending.priority, priority), updated_at: now }).where('id', '=', pending.id).execute();
      return pending.id;
    }
    await enqueueJobs(trx, now, pkg.architecture, [{ id: pkg.id, p: { backend: input.backend, minMemoryMb: input.min_memory_mb } }], priority);
    const job = await trx.selectFrom('jobs').select('id').where('source_package_id', '=', pkg.id).where('status', '=', 'queued').orderBy('id', 'desc').executeTakeFirstOrThrow();
    return job.id;
  });
  return jobInfo(ctx.h.db, jobId);
}

/** Queues a finished, dropped or superseded job's package version again, as a new job (the old job keeps its result). */
export async function retry(ctx: StoreContext, jobId: number, priority?: number): Promise<JobInfo> {
  checkId('job', jobId);
  const p = priority === undefined ? undefined : integer('priority', priority, -1_000_000, 1_000_000);
  const newId = await ctx.h.write(async (trx) => {
    const now = ctx.now();
    const job = await lockJob(ctx, trx, jobId);
    if (!job) throw new NotFoundError(`Cannot retry job ${jobId}: no such job`);
    if (job.status === 'queued' || job.status === 'running') throw new ConflictError(`Cannot retry job ${jobId}: it is ${job.status}`);
    const pending = await trx.selectFrom('jobs').select(['id', 'status']).where('source_package_id', '=', job.source_package_id).where('status', 'in', ['queued', 'running']).executeTakeFirst();
    if (pending) throw new ConflictError(`Cannot retry job ${jobId}: job ${pending.id} of the same package version is ${pending.status}`);
    await enqueueJobs(trx, now, job.architecture, [{ id: job.source_package_id, p: { backend: job.backend, minMemoryMb: job.min_memory_mb } }], p ?? job.priority);
    return (await trx.selectFrom('jobs').select('id').where('source_package_id', '=', job.source_package_id).where('status', '=', 'queued').orderBy('id', 'desc').executeTakeFirstOrThrow()).id;
  });
  return jobInfo(ctx.h.db, newId);
}

/** Takes a queued or running job out of the queue; a running job's worker is told to stop at its next heartbeat. */
export async function drop(ctx: StoreContext, jobId: number): Promise<JobInfo> {
  checkId('job', jobId);
  await ctx.h.write(async (trx) => {
    const now = ctx.now();
    const job = await lockJob(ctx, trx, jobId);
    if (!job) throw new NotFoundError(`Cannot drop job ${jobId}: no such job`);
    if (job.status !== 'queued' && job.status !== 'running') throw new ConflictError(`Cannot drop job ${jobId}: it is ${job.status}`);
    if (job.lease_token !== null) {
      await trx.updateTable('build_attempts').set({ ended_at: now, message: 'dropped by an operator' }).where('lease_token', '=', job.lease_token).where('ended_at', 'is', null).execute();
    }
    await trx.updateTable('jobs').set({ status: 'dropped', lease_token: null, lease_expires_at: null, updated_at: now }).where('id', '=', jobId).execute();
    if (job.worker_id !== null) await trx.updateTable('workers').set({ current_job_id: null }).where('id', '=', job.worker_id).where('current_job_id', '=', jobId).execute();
  });
  return jobInfo(ctx.h.db, jobId);
}

export async function getJob(ctx: StoreContext, jobId: number): Promise<JobInfo> {
  return jobInfo(ctx.h.db, checkId('job', jobId));
}

/** The queue: running jobs first, then queued ones in claim order (or the statuses asked for). */
export async function listQueue(ctx: StoreContext, filter: QueueFilter = {}, page: Page = {}): Promise<{ total: number; items: JobInfo[] }> {
  const { limit, offset } = pageOf(page);
  const statuses = filter.statuses ?? ['running', 'queued'];
  for (const s of statuses) if (!(JOB_STATUSES as readonly string[]).includes(s)) throw new InvalidInputError(`Cannot list the queue: ${JSON.stringify(s)} is not a job status`);
  if (statuses.length === 0) return { total: 0, items: [] };
  let q = jobSelect(ctx.h.db).where('j.status', 'in', statuses);
  if (filter.architecture !== undefined) q = q.where('j.architecture', '=', identifier('architecture', filter.architecture));
  if (filter.distribution !== undefined) {
    const d = identifier('distribution', filter.distribution);
    q = q.where('j.source_package_id', 'in', (eb) => eb.selectFrom('source_packages').select('id').where('distribution', '=', d));
  }
  const count = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const page_ = q
    .orderBy((eb) => eb.case().when('j.status', '=', 'running').then(0).else(1).end())
    .orderBy('j.priority', 'desc')
    .orderBy('j.run_after')
    .orderBy('j.id')
    .limit(limit)
    .offset(offset);
  return { total: Number(count.n), items: await jobInfos(page_) };
}

export async function listAttempts(ctx: StoreContext, jobId: number): Promise<AttemptInfo[]> {
  const rows = await ctx.h.db.selectFrom('build_attempts').selectAll().where('job_id', '=', checkId('job', jobId)).orderBy('id').execute();
  return rows.map((a) => ({
    id: a.id,
    jobId: a.job_id,
    workerId: a.worker_id,
    workerName: a.worker_name,
    backend: a.backend,
    startedAt: a.started_at,
    endedAt: a.ended_at,
    exitCode: a.exit_code,
    signal: a.signal,
    failureClass: a.failure_class,
    message: a.message,
  }));
}

export async function getResult(ctx: StoreContext, resultId: number): Promise<ResultInfo> {
  const row = await ctx.h.db.selectFrom('results').selectAll().where('id', '=', checkId('result', resultId)).executeTakeFirst();
  if (!row) throw new NotFoundError(`Cannot find result ${resultId}: no such result`);
  return toResultInfo(row);
}

/** Every result of a package version, newest first (final and intermediate). */
export async function listResults(ctx: StoreContext, packageId: number): Promise<ResultInfo[]> {
  const rows = await ctx.h.db.selectFrom('results').selectAll().where('source_package_id', '=', checkId('package', packageId)).orderBy('id', 'desc').execute();
  return rows.map(toResultInfo);
}
