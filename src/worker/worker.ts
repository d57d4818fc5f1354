// The worker loop: register, claim a job, heartbeat while it runs, fetch the
// published artifacts (digests checked), rebuild with the job's backend, verify
// and explain in process, write the reports, upload log, reports and rebuilt
// artifacts, report the result. One job at a time per loop (`jobs` loops run
// side by side), so a job is never built twice by one worker while its lease is
// alive (rebuilderd #234). When the daemon is down at the start or goes away
// mid-job, the worker waits with backoff and tries again, forever (#247, #182);
// a report is retried unchanged (same lease token: the daemon stores it once)
// until it is accepted or refused with 409. A heartbeat answering `continue:
// false` aborts the build and the comparison, and nothing is reported.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApiError, ApiUnreachableError, type ReproveClient } from '../api/client.js';
import type { ClaimedJob, FailureClass, ReportRequest, WorkerTags } from '../api/schemas.js';
import type { VerifyOptions } from '../index.js';
import type { Backend, BuildLimits } from '../rebuild/backend.js';
import { LogSink } from '../rebuild/log-sink.js';
import { Backoff, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.js';
import { FetchError, fetchVerified } from './fetch.js';
import { buildAndVerify, errorResult, writeJobReports, type JobResult, type Stage } from './run-job.js';

export const WORKER_VERSION = '0.1.0';

export interface WorkerOptions {
  client: ReproveClient;
  /** Where each job gets a fresh directory (removed when the job ends). */
  workDir: string;
  architectures: string[];
  /** The backends this worker offers (the ones installed; a job naming another is an infrastructure error). */
  backends: readonly Backend[];
  /** Memory advertised to the daemon, in MiB (default: this host's). */
  memoryMb?: number;
  limits: BuildLimits;
  maxLogBytes: number;
  allowFileUrls?: boolean;
  maxFetchBytes?: number;
  /** Independent loops, each running one job at a time. */
  jobs?: number;
  /** Aborted to stop: no more claims, the running build is aborted and reported as an infrastructure failure. */
  signal: AbortSignal;
  log?: (line: string) => void;
  backoff?: BackoffOptions;
  /** Wait after a claim found no job, in milliseconds (jittered). */
  idlePollMs?: number;
  /** Options of the comparison (policies, limits); signal and tmpDir are the worker's. */
  verify?: Omit<VerifyOptions, 'signal' | 'tmpDir'>;
  /** How long a report may take while the worker is stopping, in milliseconds. */
  stopReportMs?: number;
}

/** The daemon refused this worker (wrong token, removed): retrying cannot help. */
export class WorkerFatalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerFatalError';
  }
}

/** Thrown out of a retry loop when the worker's stop signal aborts it. */
class Stopped extends Error {}

const isTransient = (e: unknown) => e instanceof ApiUnreachableError || (e instanceof ApiError && (e.status >= 500 || e.status === 408 || e.status === 429));
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

const MAX_MESSAGE = 16_000;
const SAFE_ARTIFACT_NAME = /^(?!\.{1,2}$)[^/\0]{1,255}$/;

export class Worker {
  private readonly log: (line: string) => void;
  private readonly backoffOptions: BackoffOptions;
  private needsRegister = true;
  private registering: Promise<void> | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${new Date().toISOString()} reprove worker: ${line}\n`));
    this.backoffOptions = options.backoff ?? DEFAULT_BACKOFF;
    this.stopSignal = AbortSignal.any([options.signal, this.halt.signal]);
  }

  /** Runs until the stop signal: registers, then `jobs` loops claim and run jobs. Rejects with WorkerFatalError when the daemon refuses the token. */
  async run(): Promise<void> {
    await mkdir(this.options.workDir, { recursive: true });
    const loops = Math.max(1, this.options.jobs ?? 1);
    // Each loop ends on the stop signal; a fatal error in one stops the others, and all are waited for.
    const guarded = async (body: () => Promise<void>) => {
      try {
        await body();
      } catch (e) {
        if (e instanceof Stopped) return;
        this.halt.abort(e);
        throw e;
      }
    };
    const results = await Promise.allSettled([guarded(() => this.ensureRegistered())]);
    if (results[0]!.status === 'fulfilled' && !this.stop.aborted)
      results.push(...(await Promise.allSettled(Array.from({ length: loops }, (_, i) => guarded(() => this.loop(loops > 1 ? `[${i + 1}] ` : ''))))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.log('stopped');
  }

  /** Aborted by a fatal error of one loop, to end the others. */
  private readonly halt = new AbortController();
  private readonly stopSignal: AbortSignal;

  private get stop(): AbortSignal {
    return this.stopSignal;
  }

  private async freeDisk(): Promise<number | undefined> {
    try {
      const s = await statfs(this.options.workDir);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      return undefined;
    }
  }

  private tags(): WorkerTags {
    return {
      architectures: this.options.architectures,
      backends: this.options.backends.map((b) => b.name),
      memoryMb: this.options.memoryMb ?? Math.floor(totalmem() / 1024 / 1024),
    };
  }

  /** Calls the daemon until it answers: transient failures (unreachable, 5xx) are waited out with backoff; the stop signal ends the wait. */
  private async retrying<T>(what: string, call: () => Promise<T>, signal: AbortSignal = this.stop): Promise<T> {
    const backoff = new Backoff(this.backoffOptions);
    for (;;) {
      if (signal.aborted) throw new Stopped();
      try {
        return await call();
      } catch (e) {
        if (!isTransient(e)) throw e;
        if (e instanceof ApiUnreachableError) this.needsRegister = true;
        const wait = backoff.next();
        this.log(`Cannot ${what}: ${errorText(e)}; trying again in ${(wait / 1000).toFixed(1)} s`);
        if (!(await sleep(wait, signal))) throw new Stopped();
      }
    }
  }

  /** Registers (at the start and after the daemon was unreachable), once for all loops. */
  private async ensureRegistered(): Promise<void> {
    if (!this.needsRegister) return;
    this.registering ??= (async () => {
      try {
        const request = { version: WORKER_VERSION, tags: this.tags() };
        const free = await this.freeDisk();
        const info = await this.retrying('register with the daemon', () => this.options.client.register({ ...request, ...(free !== undefined ? { freeDiskBytes: free } : {}) }));
        this.needsRegister = false;
        this.log(`registered as ${info.name} at ${this.options.client.baseUrl} (architectures ${request.tags.architectures.join(', ')}; backends ${request.tags.backends.join(', ') || 'none'})`);
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new WorkerFatalError(`Cannot register with the daemon at ${this.options.client.baseUrl}: it refused the token (${e.status}: ${e.message})`);
        throw e;
      } finally {
        this.registering = undefined;
      }
    })();
    return this.registering;
  }

  private async loop(prefix: string): Promise<void> {
    const idle = new Backoff({ initialMs: this.options.idlePollMs ?? 5000, maxMs: this.options.idlePollMs ?? 5000 });
    while (!this.stop.aborted) {
      await this.ensureRegistered();
      let job: ClaimedJob | null;
      try {
        job = await this.retrying('claim a job', () => this.options.client.claim());
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new WorkerFatalError(`Cannot claim a job from ${this.options.client.baseUrl}: the daemon refused the token (${e.status}: ${e.message})`);
        if (e instanceof ApiError) {
          // A 4xx other than auth (a daemon of another version?): wait and ask again rather than spin.
          this.log(`${prefix}Cannot claim a job: the daemon answered ${e.status}: ${e.message}`);
          if (!(await sleep(this.backoffOptions.maxMs, this.stop))) return;
          continue;
        }
        throw e;
      }
      if (!job) {
        // Half to all of the poll interval, so idle workers do not poll in step.
        if (!(await sleep(idle.next(), this.stop))) return;
        continue;
      }
      await this.runJob(job, prefix);
    }
  }

  /** Runs one claimed job to its report (or to its abandonment when the lease is lost). Never throws but Stopped. */
  private async runJob(job: ClaimedJob, prefix: string): Promise<void> {
    const { client } = this.options;
    const pkg = `${job.name} ${job.version} (job ${job.jobId})`;
    const say = (line: string) => this.log(`${prefix}${line}`);
    say(`claimed ${pkg} for ${job.architecture} in ${job.distribution}/${job.suite}, backend ${job.backend}`);
    const started = performance.now();
    const timings: Record<string, number> = {};
    const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await fn();
      } finally {
        timings[name] = Math.round(performance.now() - t) / 1000;
      }
    };

    const dir = await mkdtemp(join(this.options.workDir, `job-${job.jobId}-`));
    const paths = { published: join(dir, 'published'), out: join(dir, 'out'), work: join(dir, 'work'), tmp: join(dir, 'tmp'), reports: join(dir, 'reports') };
    for (const p of Object.values(paths)) await mkdir(p, { recursive: true });
    const log = new LogSink(join(dir, 'build.log'), this.options.maxLogBytes);
    log.note(`job ${job.jobId}: ${job.name} ${job.version} ${job.architecture} (${job.distribution}/${job.suite}), backend ${job.backend}, reprove worker ${WORKER_VERSION}`);

    // The job's abort: the daemon said stop (lease lost, job dropped), or the worker is stopping.
    const jobAbort = new AbortController();
    let leaseLost = false;
    const onStop = () => jobAbort.abort(new Error('the worker is stopping'));
    this.stop.addEventListener('abort', onStop, { once: true });
    if (this.stop.aborted) onStop();

    let beating = false;
    const heartbeat = async () => {
      if (beating || leaseLost) return;
      beating = true;
      try {
        const free = await this.freeDisk();
        const answer = await client.heartbeat(job.jobId, { leaseToken: job.leaseToken, ...(free !== undefined ? { freeDiskBytes: free } : {}) });
        if (!answer.continue) {
          leaseLost = true;
          say(`the daemon said to stop ${pkg} (lease taken, job dropped or already reported): aborting it`);
          jobAbort.abort(new Error('the daemon said to stop this job (lease lost)'));
        }
      } catch (e) {
        if (e instanceof ApiUnreachableError || (e instanceof ApiError && e.status >= 500)) {
          this.needsRegister ||= e instanceof ApiUnreachableError;
          say(`Cannot send the heartbeat of ${pkg}: ${errorText(e)}; the job goes on`);
        } else if (e instanceof ApiError && (e.status === 404 || e.status === 409)) {
          leaseLost = true;
          say(`the daemon no longer knows the lease of ${pkg} (${e.status}: ${e.message}): aborting it`);
          jobAbort.abort(new Error(`the daemon refused the heartbeat (${e.status})`));
        } else say(`Cannot send the heartbeat of ${pkg}: ${errorText(e)}`);
      } finally {
        beating = false;
      }
    };
    const timer = setInterval(() => void heartbeat(), Math.max(50, job.heartbeatSeconds * 1000));

    try {
      const result = await this.fetchBuildAndVerify(job, pkg, paths, log, jobAbort.signal, stage);
      if (result === 'aborted' && leaseLost) {
        say(`${pkg} abandoned: nothing reported`);
        return;
      }
      const final: JobResult =
        result === 'aborted'
          ? { verdict: 'ERROR', failureClass: 'infrastructure', message: `Cannot finish ${pkg}: ${errorText(jobAbort.signal.reason)}`, ignored: [], causes: [], rebuilt: [] }
          : result;
      log.note(`verdict ${final.verdict}${final.failureClass ? ` (${final.failureClass})` : ''}: ${final.message.split('\n')[0]}`);

      // Reports of the differences.
      let reportJson: string | undefined;
      let reportHtml: string | undefined;
      if (final.difference && !jobAbort.signal.aborted) {
        await stage('reports', async () => {
          ({ json: reportJson, html: reportHtml } = await writeJobReports(final, paths.reports));
        });
      }
      const summary = await log.close();
      if (summary.cut) say(`the log of ${pkg} was over its cap: ${summary.cut} of ${summary.bytes} bytes cut`);

      // Uploads: aborted with the job when the lease is lost; after a stop only the report is tried.
      const request: Omit<ReportRequest, 'timings'> = {
        leaseToken: job.leaseToken,
        verdict: final.verdict,
        ...(final.failureClass ? { failureClass: final.failureClass } : {}),
        ...(final.exitCode !== undefined ? { exitCode: final.exitCode } : {}),
        ...(final.signal !== undefined ? { signal: final.signal } : {}),
        message: final.message.length > MAX_MESSAGE ? `${final.message.slice(0, MAX_MESSAGE)}...` : final.message,
        ignored: final.ignored.slice(0, 100_000),
        causes: final.causes.slice(0, 10_000),
        ...(final.environment ? { environment: final.environment } : {}),
        artifacts: [],
      };
      if (!this.stop.aborted) {
        try {
          await stage('upload', async () => {
            request.log = await this.upload(join(dir, 'build.log'), `the log of ${pkg}`, jobAbort.signal, say);
            if (reportJson) request.reportJson = await this.upload(reportJson, `the JSON report of ${pkg}`, jobAbort.signal, say);
            if (reportHtml) request.reportHtml = await this.upload(reportHtml, `the HTML report of ${pkg}`, jobAbort.signal, say);
            for (const path of final.rebuilt) {
              const name = basename(path);
              const sha256 = await this.upload(path, `rebuilt artifact ${name} of ${pkg}`, jobAbort.signal, say);
              if (sha256) request.artifacts.push({ name, sha256 });
            }
          });
        } catch (e) {
          if (!(e instanceof Stopped)) throw e;
          if (leaseLost) {
            say(`${pkg} abandoned during the uploads: nothing reported`);
            return;
          }
        }
      }
      timings['total'] = Math.round(performance.now() - started) / 1000;
      await this.sendReport(job, pkg, { ...request, timings }, say);
    } catch (e) {
      if (e instanceof Stopped) return;
      say(`Cannot run ${pkg}: ${errorText(e)}`);
    } finally {
      clearInterval(timer);
      this.stop.removeEventListener('abort', onStop);
      await log.close().catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  /** Fetch, then build, verify and explain (run-job.ts, shared with `reprove check`): the job's result, or 'aborted' when its signal stopped it. */
  private async fetchBuildAndVerify(
    job: ClaimedJob,
    pkg: string,
    paths: { published: string; out: string; work: string; tmp: string },
    log: LogSink,
    signal: AbortSignal,
    stage: Stage,
  ): Promise<JobResult | 'aborted'> {
    const error = (failureClass: FailureClass, message: string, extra: Partial<JobResult> = {}): JobResult => errorResult(log, failureClass, message, extra);
    const backend = this.options.backends.find((b) => b.name === job.backend);
    if (!backend) return error('infrastructure', `Cannot build ${pkg}: backend ${job.backend} is not installed on this worker (it offers ${this.options.backends.map((b) => b.name).join(', ') || 'none'})`);
    const available = await backend.available();
    if (available !== true) return error('infrastructure', `Cannot build ${pkg}: backend ${job.backend} is not usable on this worker: ${available}`);

    const fetchInput = (url: string, sha256: string, dest: string, what: string) =>
      fetchVerified(url, sha256, dest, what, {
        client: this.options.client,
        ...(this.options.allowFileUrls ? { allowFileUrls: true } : {}),
        ...(this.options.maxFetchBytes !== undefined ? { maxBytes: this.options.maxFetchBytes } : {}),
        signal,
      }).then(() => undefined);

    // Published artifacts, named as the daemon names them.
    const published: string[] = [];
    try {
      await stage('fetch', async () => {
        const seen = new Set<string>();
        for (const a of job.artifacts) {
          if (!SAFE_ARTIFACT_NAME.test(a.name) || seen.has(a.name)) throw new FetchError(`published artifact ${JSON.stringify(a.name)} of ${pkg}`, a.url, 'the name is not a plain, unique file name');
          seen.add(a.name);
          const dest = join(paths.published, a.name);
          await fetchInput(a.url, a.sha256, dest, `published artifact ${a.name} of ${pkg}`);
          published.push(dest);
        }
      });
    } catch (e) {
      if (signal.aborted) return 'aborted';
      return error('infrastructure', e instanceof FetchError ? e.message : `Cannot fetch the published artifacts of ${pkg}: ${errorText(e)}`);
    }
    if (published.length === 0) return error('infrastructure', `Cannot verify ${pkg}: the job lists no published artifact`);
    log.note(`fetched ${published.length} published artifact(s), digests checked`);

    return buildAndVerify({
      pkg,
      backendName: backend.name,
      published,
      build: () => backend.build({ job, workDir: paths.work, outDir: paths.out, log, signal, limits: this.options.limits, fetch: fetchInput }),
      log,
      signal,
      tmpDir: paths.tmp,
      ...(this.options.verify ? { verify: this.options.verify } : {}),
      stage,
    });
  }

  /** Uploads a file as a blob (its SHA-256 computed first), waiting out a daemon that is away; undefined when the daemon refuses it. */
  private async upload(path: string, what: string, signal: AbortSignal, say: (line: string) => void): Promise<string | undefined> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(path), hash);
    const sha256 = hash.digest('hex');
    try {
      await this.retrying(`upload ${what}`, () => this.options.client.uploadFile(path, sha256), AbortSignal.any([signal, this.stop]));
      return sha256;
    } catch (e) {
      if (e instanceof ApiError) {
        say(`Cannot upload ${what}: the daemon answered ${e.status}: ${e.message}; reported without it`);
        return undefined;
      }
      throw e;
    }
  }

  /** Sends the report until the daemon accepts it or refuses it with 409 (or any other 4xx); after a stop, only briefly. */
  private async sendReport(job: ClaimedJob, pkg: string, request: ReportRequest, say: (line: string) => void): Promise<void> {
    const { client } = this.options;
    if (this.stop.aborted) {
      // Stopping: one short try; otherwise the lease expires and the daemon requeues the job.
      const limit = this.options.stopReportMs ?? 2000;
      try {
        await Promise.race([client.report(job.jobId, request), sleep(limit).then(() => Promise.reject(new Error(`no answer within ${limit} ms`)))]);
        say(`${pkg}: reported ${request.verdict} (${request.failureClass ?? 'no failure class'}) on stopping`);
      } catch (e) {
        say(`Cannot report ${pkg} while stopping: ${errorText(e)}; its lease will expire and the daemon will requeue it`);
      }
      return;
    }
    try {
      const answer = await this.retrying(`report ${pkg}`, () => client.report(job.jobId, request));
      say(`${pkg}: reported ${request.verdict}${request.failureClass ? ` (${request.failureClass})` : ''}, result ${answer.resultId}${answer.requeued ? ', requeued' : ''}`);
    } catch (e) {
      if (e instanceof ApiError) {
        say(
          e.status === 409
            ? `the daemon refused the report of ${pkg} (409: ${e.message}): another result stands; dropped`
            : `the daemon refused the report of ${pkg} (${e.status}: ${e.message}); dropped`,
        );
        return;
      }
      if (e instanceof Stopped) {
        say(`stopped before the report of ${pkg} was accepted; its lease will expire and the daemon will requeue it`);
        return;
      }
      throw e;
    }
  }
}

/** Runs a worker until `options.signal` aborts. */
export function runWorker(options: WorkerOptions): Promise<void> {
  return new Worker(options).run();
}
