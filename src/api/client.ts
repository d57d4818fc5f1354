// The typed client of the rebuilder's HTTP API, used by the worker, `reprove ctl`
// and the tests alike: every path, method and body type is written here once,
// against the schemas the server validates with.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type {
  AddWorkerResponse,
  CauseDetail,
  CauseList,
  FeedEventList,
  FeedEventQuery,
  OverviewResponse,
  BlobStored,
  ClaimedJob,
  HeartbeatRequest,
  HeartbeatResponse,
  PackageDetail,
  PackageList,
  PackageQuery,
  PushRequest,
  QueueList,
  RebuilderdPackage,
  RegisterRequest,
  ReportRequest,
  ReportResponse,
  ResultDetail,
  SourceInfo,
  SourceSyncOutcome,
  StatusResponse,
  SubmitRequest,
  SubmitResponse,
  SyncRequest,
  SyncResponse,
  WorkerInfo,
} from './schemas.js';

/** An answer of the API other than success: its HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The daemon could not be reached at all (refused, reset, DNS): worth retrying later. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Cannot reach the reprove daemon at ${url}: ${cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)}`);
    this.name = 'ApiUnreachableError';
  }
}

export interface ClientOptions {
  /** A worker's token (worker endpoints) or the admin token (admin endpoints). */
  token?: string;
  /** Milliseconds one request may take (uploads excepted). */
  timeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

export class ReproveClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly options: ClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async request<T>(method: string, path: string, body?: unknown, query?: Query, init: { raw?: boolean; timeoutMs?: number | null; stream?: Readable; contentType?: string } = {}): Promise<T> {
    const qs = query ? Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`) : [];
    const url = `${this.baseUrl}${path}${qs.length ? `?${qs.join('&')}` : ''}`;
    const headers: Record<string, string> = {};
    if (this.options.token) headers['authorization'] = `Bearer ${this.options.token}`;
    let payload: BodyInit | undefined;
    if (init.stream) {
      headers['content-type'] = init.contentType ?? 'application/octet-stream';
      payload = Readable.toWeb(init.stream) as unknown as BodyInit;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const timeout = init.timeoutMs === null ? undefined : (init.timeoutMs ?? this.options.timeoutMs ?? 60_000);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        ...(init.stream ? { duplex: 'half' } : {}),
        ...(timeout !== undefined ? { signal: AbortSignal.timeout(timeout) } : {}),
      } as RequestInit);
    } catch (e) {
      throw new ApiUnreachableError(url, e);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let parsed: { error?: string; message?: string } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: keep the text
      }
      throw new ApiError(res.status, parsed.error ?? res.statusText, parsed.message ?? (text.slice(0, 500) || res.statusText), path);
    }
    if (init.raw) return res as unknown as T;
    if (res.status === 204) return null as T;
    return (await res.json()) as T;
  }

  // ---- read endpoints (no token)
  status(): Promise<StatusResponse> {
    return this.request('GET', '/api/v1/status');
  }
  packages(query: PackageQuery = {}): Promise<PackageList> {
    return this.request('GET', '/api/v1/packages', undefined, query as Query);
  }
  package(id: number): Promise<PackageDetail> {
    return this.request('GET', `/api/v1/packages/${id}`);
  }
  result(id: number): Promise<ResultDetail> {
    return this.request('GET', `/api/v1/results/${id}`);
  }
  queue(query: { limit?: number; offset?: number; all?: boolean } = {}): Promise<QueueList> {
    return this.request('GET', '/api/v1/queue', undefined, query);
  }
  workers(): Promise<WorkerInfo[]> {
    return this.request('GET', '/api/v1/workers');
  }
  /** A stored blob (log, report, artifact, build input), decompressed. */
  async blob(sha256: string): Promise<Response> {
    return this.request<Response>('GET', `/api/v1/blobs/${sha256}`, undefined, undefined, { raw: true, timeoutMs: null });
  }
  /** The website's overview: counts per distribution, suite and architecture, and the daily history. */
  overview(): Promise<OverviewResponse> {
    return this.request('GET', '/api/v1/overview');
  }
  /** The known causes, ranked by the packages they are found in. */
  causes(): Promise<CauseList> {
    return this.request('GET', '/api/v1/causes');
  }
  cause(id: string, query: { limit?: number; offset?: number } = {}): Promise<CauseDetail> {
    return this.request('GET', `/api/v1/causes/${encodeURIComponent(id)}`, undefined, query);
  }
  /** Regressions (reproduced before, not now) and fixes, newest first. */
  events(query: FeedEventQuery = {}): Promise<FeedEventList> {
    return this.request('GET', '/api/v1/events', undefined, query as Query);
  }
  rebuilderdList(query: { distro?: string; suite?: string; architecture?: string; name?: string; status?: 'GOOD' | 'BAD' | 'UNKWN' } = {}): Promise<RebuilderdPackage[]> {
    return this.request('GET', '/api/v0/pkgs/list', undefined, query);
  }

  // ---- admin endpoints (admin token)
  sync(request: SyncRequest): Promise<SyncResponse> {
    return this.request('POST', '/api/v1/packages/sync', request, undefined, { timeoutMs: 600_000 });
  }
  push(request: PushRequest): Promise<{ jobId: number }> {
    return this.request('POST', '/api/v1/queue/push', request);
  }
  retry(jobId: number): Promise<{ jobId: number }> {
    return this.request('POST', '/api/v1/queue/retry', { jobId });
  }
  drop(jobId: number): Promise<{ jobId: number }> {
    return this.request('POST', '/api/v1/queue/drop', { jobId });
  }
  /** The configured sources and their last sync. */
  sources(): Promise<SourceInfo[]> {
    return this.request('GET', '/api/v1/sources');
  }
  /** Runs one sync (or catch-up) of a source now and answers its figures. */
  syncSource(name: string): Promise<SourceSyncOutcome> {
    return this.request('POST', `/api/v1/sources/${encodeURIComponent(name)}/sync`, {}, undefined, { timeoutMs: 1_800_000 });
  }
  /** Adds builds (nothing else leaves the archive) and queues the new ones. */
  submit(request: SubmitRequest): Promise<SubmitResponse> {
    return this.request('POST', '/api/v1/submit', request);
  }
  addWorker(name: string): Promise<AddWorkerResponse> {
    return this.request('POST', '/api/v1/workers', { name });
  }
  removeWorker(name: string): Promise<void> {
    return this.request('DELETE', `/api/v1/workers/${encodeURIComponent(name)}`);
  }

  // ---- worker endpoints (the worker's token)
  register(request: RegisterRequest): Promise<WorkerInfo> {
    return this.request('POST', '/api/v1/worker/register', request);
  }
  /** The next job matching this worker's tags, or null when there is none. */
  claim(): Promise<ClaimedJob | null> {
    return this.request('POST', '/api/v1/worker/claim', {});
  }
  heartbeat(jobId: number, request: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.request('POST', `/api/v1/worker/jobs/${jobId}/heartbeat`, request);
  }
  report(jobId: number, request: ReportRequest): Promise<ReportResponse> {
    return this.request('POST', `/api/v1/worker/jobs/${jobId}/report`, request);
  }
  /** Uploads a file as a blob (a worker's or the admin token); the daemon checks the bytes against `sha256` before keeping anything. */
  uploadFile(path: string, sha256: string): Promise<BlobStored> {
    return this.request('PUT', `/api/v1/blobs/${sha256}`, undefined, undefined, { stream: createReadStream(path), timeoutMs: null });
  }
}
