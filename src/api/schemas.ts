// The rebuilder's HTTP API as TypeBox schemas: one schema per type drives the
// server's validation, the OpenAPI document and the TypeScript types that the
// server, the worker, `reprove ctl` and the tests share through client.ts, so the
// protocol cannot drift between them.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** Milliseconds since the epoch. */
const Time = Type.Integer({ minimum: 0, description: 'milliseconds since the epoch' });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex' });
/** Names and versions come from untrusted archives: bounded, printable, never a path. */
const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9+._~:@-]*$' });
const Version = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9][A-Za-z0-9+._~:-]*$' });
const Arch = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]*$' });
const Url = Type.String({ minLength: 1, maxLength: 4096 });

export const VerdictSchema = Type.Union(
  [Type.Literal('BIT_IDENTICAL'), Type.Literal('IDENTICAL_EXCEPT_SIGNATURE'), Type.Literal('REPRODUCIBLE'), Type.Literal('UNREPRODUCIBLE'), Type.Literal('FTBFS'), Type.Literal('ERROR')],
  { $id: 'Verdict' },
);
export type ApiVerdict = Static<typeof VerdictSchema>;
export const VERDICTS: readonly ApiVerdict[] = ['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE', 'UNREPRODUCIBLE', 'FTBFS', 'ERROR'];

export const FailureClassSchema = Type.Union([Type.Literal('ftbfs'), Type.Literal('unreproducible'), Type.Literal('infrastructure')]);
export type FailureClass = Static<typeof FailureClassSchema>;

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { $id: 'Error' });
export type ErrorBody = Static<typeof ErrorBody>;

// ---- packages

export const ArtifactRef = Type.Object({ name: Name, url: Url, sha256: Sha256, size: Type.Optional(Type.Integer({ minimum: 0 })) });
export type ArtifactRef = Static<typeof ArtifactRef>;

export const PackageSummary = Type.Object(
  {
    id: Type.Integer(),
    distribution: Type.String(),
    suite: Type.String(),
    architecture: Type.String(),
    name: Type.String(),
    version: Type.String(),
    inArchive: Type.Boolean({ description: 'false once a sync no longer lists this version; its history is kept' }),
    verdict: Nullable(Type.String({ description: 'the newest final verdict; null while none' })),
    resultId: Nullable(Type.Integer()),
    firstSeenAt: Time,
    lastSeenAt: Time,
    maintainer: Type.Optional(Nullable(Type.String({ description: 'who maintains it, as the sync said' }))),
  },
  { $id: 'PackageSummary' },
);
export type PackageSummary = Static<typeof PackageSummary>;

export const PackageQuery = Type.Object({
  distribution: Type.Optional(Type.String({ maxLength: 255 })),
  suite: Type.Optional(Type.String({ maxLength: 255 })),
  architecture: Type.Optional(Type.String({ maxLength: 64 })),
  name: Type.Optional(Type.String({ maxLength: 255, description: 'substring of the name' })),
  verdict: Type.Optional(Type.String({ maxLength: 32, description: 'a verdict, or UNKNOWN for none yet' })),
  inArchive: Type.Optional(Type.Boolean()),
  cause: Type.Optional(Type.String({ maxLength: 128, description: 'a known-cause id named by the latest result' })),
  maintainer: Type.Optional(Type.String({ maxLength: 512, description: 'the maintainer, exactly as synced' })),
  sort: Type.Optional(Type.Union([Type.Literal('name'), Type.Literal('-name'), Type.Literal('recent'), Type.Literal('verdict')], { description: 'order (default name)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  after: Type.Optional(Type.String({ maxLength: 1024, description: 'the `next` cursor of the previous page: the page after it (keyset paging, fast however deep); offset then counts from there' })),
});
export type PackageQuery = Static<typeof PackageQuery>;

export const PackageList = Type.Object(
  {
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    items: Type.Array(PackageSummary),
    next: Type.Optional(Nullable(Type.String({ description: 'pass as `after` for the next page; null after a short page' }))),
  },
  { $id: 'PackageList' },
);
export type PackageList = Static<typeof PackageList>;

export const ResultSummary = Type.Object(
  {
    id: Type.Integer(),
    jobId: Type.Integer(),
    packageId: Type.Integer(),
    name: Type.String(),
    version: Type.String(),
    verdict: Type.String(),
    final: Type.Boolean({ description: 'false for a result whose job went back to the queue (a retry or a confirmation rebuild)' }),
    failureClass: Nullable(FailureClassSchema),
    worker: Nullable(Type.String()),
    issues: Type.Array(Type.String(), { description: 'ids of the known causes found' }),
    createdAt: Time,
  },
  { $id: 'ResultSummary' },
);
export type ResultSummary = Static<typeof ResultSummary>;

export const PackageDetail = Type.Object(
  {
    package: PackageSummary,
    artifacts: Type.Array(ArtifactRef),
    backend: Nullable(Type.String()),
    /** Every result of every version of this package in this distribution, suite and architecture, newest first. */
    history: Type.Array(ResultSummary),
  },
  { $id: 'PackageDetail' },
);
export type PackageDetail = Static<typeof PackageDetail>;

/** A source's package for a sync: one version of one source package with what rebuilding it needs. */
export const SyncPackage = Type.Object({
  name: Name,
  version: Version,
  backend: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9-]*$' }),
  recipe: Type.Optional(Type.Unknown({ description: "the backend's parameters (the command backend: {script, source?})" })),
  buildinfo: Type.Optional(Type.Object({ url: Url, sha256: Sha256 })),
  artifacts: Type.Array(ArtifactRef, { maxItems: 10_000 }),
  minMemoryMb: Type.Optional(Type.Integer({ minimum: 0 })),
  maintainer: Type.Optional(Type.String({ maxLength: 512, description: '"Name <address>": mailed on a regression or a fix, and a feed of its own' })),
});
export type SyncPackage = Static<typeof SyncPackage>;

export const SyncRequest = Type.Object({
  distribution: Name,
  suite: Name,
  architecture: Arch,
  packages: Type.Array(SyncPackage, { maxItems: 500_000 }),
});
export type SyncRequest = Static<typeof SyncRequest>;

export const SyncResponse = Type.Object({ added: Type.Integer(), unchanged: Type.Integer(), leftArchive: Type.Integer(), queued: Type.Integer(), superseded: Type.Integer() });
export type SyncResponse = Static<typeof SyncResponse>;

// ---- results

export const ResultDetail = Type.Object(
  {
    result: ResultSummary,
    distribution: Type.String(),
    suite: Type.String(),
    architecture: Type.String(),
    exitCode: Nullable(Type.Integer()),
    signal: Nullable(Type.String()),
    message: Nullable(Type.String()),
    /** The differences the policy allowed, each with its reason. */
    ignored: Type.Array(Type.Unknown()),
    /** The known causes with their evidence and fixes. */
    causes: Type.Array(Type.Unknown()),
    timings: Type.Record(Type.String(), Type.Number()),
    environment: Type.Object({ reproduced: Type.Array(Type.String()), notReproduced: Type.Array(Type.String()) }),
    log: Nullable(Sha256),
    reportJson: Nullable(Sha256),
    reportHtml: Nullable(Sha256),
    artifacts: Type.Array(Type.Object({ name: Type.String(), sha256: Sha256 })),
    previousResultId: Nullable(Type.Integer()),
  },
  { $id: 'ResultDetail' },
);
export type ResultDetail = Static<typeof ResultDetail>;

// ---- queue

export const QueueEntry = Type.Object(
  {
    jobId: Type.Integer(),
    packageId: Type.Integer(),
    distribution: Type.String(),
    suite: Type.String(),
    architecture: Type.String(),
    name: Type.String(),
    version: Type.String(),
    backend: Type.String(),
    status: Type.String({ description: 'queued, running, done, dropped or superseded' }),
    priority: Type.Integer(),
    runAfter: Time,
    attempts: Type.Object({ ftbfs: Type.Integer(), unreproducible: Type.Integer(), infrastructure: Type.Integer() }),
    worker: Nullable(Type.String()),
    leaseExpiresAt: Nullable(Time),
  },
  { $id: 'QueueEntry' },
);
export type QueueEntry = Static<typeof QueueEntry>;

export const QueueList = Type.Object({ total: Type.Integer(), items: Type.Array(QueueEntry) });
export type QueueList = Static<typeof QueueList>;

export const PushRequest = Type.Object({
  distribution: Name,
  suite: Name,
  architecture: Arch,
  name: Name,
  version: Type.Optional(Version),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
});
export type PushRequest = Static<typeof PushRequest>;

export const JobRef = Type.Object({ jobId: Type.Integer({ minimum: 1 }) });
export type JobRef = Static<typeof JobRef>;

// ---- workers

export const WorkerTags = Type.Object({
  architectures: Type.Array(Arch, { maxItems: 64 }),
  backends: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  memoryMb: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type WorkerTags = Static<typeof WorkerTags>;

export const WorkerInfo = Type.Object(
  {
    name: Type.String(),
    tags: WorkerTags,
    version: Nullable(Type.String()),
    lastHeartbeatAt: Nullable(Time),
    online: Type.Boolean(),
    currentJobId: Nullable(Type.Integer()),
    freeDiskBytes: Nullable(Type.Integer()),
  },
  { $id: 'WorkerInfo' },
);
export type WorkerInfo = Static<typeof WorkerInfo>;

export const AddWorkerRequest = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) });
export type AddWorkerRequest = Static<typeof AddWorkerRequest>;
export const AddWorkerResponse = Type.Object({ name: Type.String(), token: Type.String({ description: 'shown once; the daemon keeps only its hash' }) });
export type AddWorkerResponse = Static<typeof AddWorkerResponse>;

/** A worker announcing itself (at start and after reconnecting). */
export const RegisterRequest = Type.Object({ version: Type.String({ maxLength: 64 }), tags: WorkerTags, freeDiskBytes: Type.Optional(Type.Integer({ minimum: 0 })) });
export type RegisterRequest = Static<typeof RegisterRequest>;

export const ClaimedJob = Type.Object(
  {
    jobId: Type.Integer(),
    leaseToken: Type.String(),
    leaseExpiresAt: Time,
    heartbeatSeconds: Type.Number({ description: 'how often to heartbeat' }),
    distribution: Type.String(),
    suite: Type.String(),
    architecture: Type.String(),
    name: Type.String(),
    version: Type.String(),
    backend: Type.String(),
    recipe: Type.Unknown(),
    buildinfo: Nullable(Type.Object({ url: Url, sha256: Sha256 })),
    artifacts: Type.Array(ArtifactRef),
    /** How many builds of this job ended UNREPRODUCIBLE before (a confirmation rebuild has 1). */
    previousUnreproducible: Type.Integer(),
  },
  { $id: 'ClaimedJob' },
);
export type ClaimedJob = Static<typeof ClaimedJob>;

export const HeartbeatRequest = Type.Object({ leaseToken: Type.String({ maxLength: 128 }), freeDiskBytes: Type.Optional(Type.Integer({ minimum: 0 })) });
export type HeartbeatRequest = Static<typeof HeartbeatRequest>;
export const HeartbeatResponse = Type.Object({ continue: Type.Boolean({ description: 'false: stop this build (lease taken, job dropped or already reported)' }), leaseExpiresAt: Nullable(Time) });
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;

export const ReportRequest = Type.Object({
  leaseToken: Type.String({ maxLength: 128 }),
  verdict: VerdictSchema,
  /** What kind of failure, for FTBFS and ERROR (infrastructure: fetch failed, backend missing...). */
  failureClass: Type.Optional(FailureClassSchema),
  exitCode: Type.Optional(Nullable(Type.Integer())),
  signal: Type.Optional(Nullable(Type.String({ maxLength: 32 }))),
  message: Type.Optional(Type.String({ maxLength: 16_384 })),
  ignored: Type.Array(Type.Unknown(), { maxItems: 100_000 }),
  causes: Type.Array(Type.Unknown(), { maxItems: 10_000 }),
  timings: Type.Record(Type.String({ maxLength: 64 }), Type.Number()),
  environment: Type.Optional(Type.Object({ reproduced: Type.Array(Type.String({ maxLength: 1024 })), notReproduced: Type.Array(Type.String({ maxLength: 1024 })) })),
  log: Type.Optional(Sha256),
  reportJson: Type.Optional(Sha256),
  reportHtml: Type.Optional(Sha256),
  artifacts: Type.Array(Type.Object({ name: Name, sha256: Sha256 }), { maxItems: 10_000 }),
});
export type ReportRequest = Static<typeof ReportRequest>;
export const ReportResponse = Type.Object({ resultId: Type.Integer(), final: Type.Boolean(), requeued: Type.Boolean() });
export type ReportResponse = Static<typeof ReportResponse>;

export const BlobStored = Type.Object({ sha256: Sha256, size: Type.Integer() });
export type BlobStored = Static<typeof BlobStored>;

// ---- statistics

export const StatusResponse = Type.Object(
  {
    packages: Type.Integer({ description: 'package versions in the archive' }),
    verdicts: Type.Record(Type.String(), Type.Integer(), { description: 'per verdict, and UNKNOWN for none yet' }),
    queue: Type.Object({ queued: Type.Integer(), running: Type.Integer() }),
    workers: Type.Object({ total: Type.Integer(), online: Type.Integer() }),
    distributions: Type.Array(
      Type.Object({ distribution: Type.String(), suite: Type.String(), architecture: Type.String(), packages: Type.Integer(), verdicts: Type.Record(Type.String(), Type.Integer()) }),
    ),
  },
  { $id: 'Status' },
);
export type StatusResponse = Static<typeof StatusResponse>;

/** rebuilderd's /api/v0/pkgs/list entry (its PkgRelease: one per published artifact), read by arch-repro-status and ismypackagereproducibleyet. */
export const RebuilderdPackage = Type.Object({
  name: Type.String(),
  version: Type.String(),
  status: Type.String({ description: 'GOOD, BAD or UNKWN' }),
  distro: Type.String(),
  suite: Type.String(),
  architecture: Type.String(),
  artifact_url: Type.String(),
  build_id: Nullable(Type.Integer()),
  built_at: Nullable(Type.String({ description: 'UTC, without a zone (chrono NaiveDateTime)' })),
  has_diffoscope: Type.Boolean(),
  has_attestation: Type.Boolean(),
});
export type RebuilderdPackage = Static<typeof RebuilderdPackage>;

// ---- website (each page's data as JSON)

const VerdictCounts = Type.Object({
  BIT_IDENTICAL: Type.Integer(),
  IDENTICAL_EXCEPT_SIGNATURE: Type.Integer(),
  REPRODUCIBLE: Type.Integer(),
  UNREPRODUCIBLE: Type.Integer(),
  FTBFS: Type.Integer(),
  ERROR: Type.Integer(),
  UNKNOWN: Type.Integer({ description: 'no final result yet' }),
});

export const OverviewResponse = Type.Object(
  {
    generatedAt: Time,
    groups: Type.Array(
      Type.Object({
        distribution: Type.String(),
        suite: Type.String(),
        architecture: Type.String(),
        packages: Type.Integer({ description: 'versions in the archive' }),
        verdicts: VerdictCounts,
        queued: Type.Integer({ description: 'jobs waiting' }),
        running: Type.Integer(),
      }),
    ),
    history: Type.Array(
      Type.Object({
        distribution: Type.String(),
        day: Type.String({ description: 'YYYY-MM-DD, UTC' }),
        results: Type.Integer({ description: 'final results of the day' }),
        reproducible: Type.Integer({ description: 'of which BIT_IDENTICAL, IDENTICAL_EXCEPT_SIGNATURE or REPRODUCIBLE' }),
      }),
      { description: 'the last 90 days' },
    ),
  },
  { $id: 'Overview' },
);
export type OverviewResponse = Static<typeof OverviewResponse>;

export const CauseSummary = Type.Object({
  id: Type.String(),
  title: Type.String(),
  fix: Type.String(),
  packages: Type.Integer({ description: 'package versions in the archive whose latest result names it' }),
});
export type CauseSummary = Static<typeof CauseSummary>;
export const CauseList = Type.Array(CauseSummary, { $id: 'CauseList' });
export type CauseList = Static<typeof CauseList>;
export const CauseDetail = Type.Object({ cause: CauseSummary, packages: PackageList });
export type CauseDetail = Static<typeof CauseDetail>;

export const FeedEvent = Type.Object({
  kind: Type.Union([Type.Literal('regression'), Type.Literal('fix')]),
  resultId: Type.Integer(),
  previousResultId: Type.Integer(),
  package: PackageSummary,
  verdict: Type.String(),
  previousVerdict: Type.String(),
  previousVersion: Type.String(),
  at: Time,
});
export type FeedEvent = Static<typeof FeedEvent>;
export const FeedEventQuery = Type.Object({
  kind: Type.Optional(Type.Union([Type.Literal('regression'), Type.Literal('fix')])),
  distribution: Type.Optional(Type.String({ maxLength: 64 })),
  maintainer: Type.Optional(Type.String({ maxLength: 512 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'only changes made by results older than this result id: the next page (the last resultId of a page)' })),
});
export type FeedEventQuery = Static<typeof FeedEventQuery>;
export const FeedEventList = Type.Array(FeedEvent, { $id: 'FeedEventList' });
export type FeedEventList = Static<typeof FeedEventList>;
// ---- sources

export const SourceSyncOutcome = Type.Object({
  packages: Type.Integer(),
  skipped: Type.Integer({ description: 'entries refused as malformed or hostile, each logged with its name' }),
  added: Type.Integer(),
  leftArchive: Type.Integer(),
  queued: Type.Integer(),
  ms: Type.Integer(),
});
export type SourceSyncOutcome = Static<typeof SourceSyncOutcome>;

export const SourceInfo = Type.Object(
  {
    name: Type.String(),
    kind: Type.String(),
    distribution: Type.String(),
    suite: Type.String(),
    architecture: Type.String(),
    intervalSeconds: Type.Number(),
    listening: Type.Boolean({ description: 'a listener (fedora-messaging) connected or trying to' }),
    running: Type.Boolean({ description: 'a sync is running now' }),
    lastSyncAt: Nullable(Time),
    lastOutcome: Nullable(SourceSyncOutcome),
    lastError: Nullable(Type.String()),
  },
  { $id: 'SourceInfo' },
);
export type SourceInfo = Static<typeof SourceInfo>;

export const SourceName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }) });

/** Builds handed in by hand or by another build system: added to what is known, nothing else leaves. */
export const SubmitRequest = Type.Object({
  distribution: Name,
  suite: Name,
  architecture: Arch,
  packages: Type.Array(SyncPackage, { minItems: 1, maxItems: 1000 }),
  priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000 })),
});
export type SubmitRequest = Static<typeof SubmitRequest>;

/** A webhook's body: builds of the webhook's (distribution, suite, architecture). */
export const WebhookBody = Type.Object({ packages: Type.Array(SyncPackage, { minItems: 1, maxItems: 1000 }) });
export type WebhookBody = Static<typeof WebhookBody>;

export const SubmitResponse = Type.Object({ added: Type.Integer(), queued: Type.Integer(), superseded: Type.Integer() });
export type SubmitResponse = Static<typeof SubmitResponse>;
