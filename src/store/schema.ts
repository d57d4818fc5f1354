// The store's tables as Kysely types. Both dialects hold the same columns:
// times are integer milliseconds since the epoch (bigint), flags are absent or
// present values (a nullable time) rather than booleans, JSON is text. PostgreSQL's
// int8 values are parsed to numbers by the pool (db.ts), so one type serves both.
import type { ColumnType, Generated } from 'kysely';

/** An integer id, generated on insert. */
type Id = Generated<number>;
/** A JSON document stored as text. */
type JsonText = string;

export const VERDICTS = ['BIT_IDENTICAL', 'IDENTICAL_EXCEPT_SIGNATURE', 'REPRODUCIBLE', 'UNREPRODUCIBLE', 'FTBFS', 'ERROR'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const FAILURE_CLASSES = ['ftbfs', 'unreproducible', 'infrastructure'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const JOB_STATUSES = ['queued', 'running', 'done', 'dropped', 'superseded'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface DistributionTable {
  name: string;
  created_at: number;
}

export interface SuiteTable {
  distribution: string;
  name: string;
  created_at: number;
}

export interface ArchitectureTable {
  name: string;
  created_at: number;
}

/** One version of one source package for one (distribution, suite, architecture): the unit that is rebuilt. Never deleted. */
export interface SourcePackageTable {
  id: Id;
  distribution: string;
  suite: string;
  architecture: string;
  name: string;
  version: string;
  first_seen_at: number;
  last_seen_at: number;
  /** When a sync first no longer listed it; null while it is in the archive. */
  left_archive_at: number | null;
  /** The verdict and id of the newest final result, for listing and filtering without a join. */
  latest_verdict: Verdict | null;
  latest_result_id: number | null;
  /** Who maintains it ("Name <address>" as the archive says), when the sync tells; null otherwise. */
  maintainer: string | null;
  /** The known-cause ids of the newest final result (JSON list), copied with latest_verdict. */
  latest_issues: string | null;
}

/**
 * One known cause that a package version's newest final result names (its
 * latest_issues, one row per id), with the package's name so the list's cause
 * filter walks an index in the list's order (store/causes.ts).
 */
export interface SourcePackageCauseTable {
  source_package_id: number;
  cause: string;
  package_name: string;
}

/** What a rebuild of a source package version needs, besides its published artifacts (binary_packages). */
export interface BuildInputTable {
  source_package_id: number;
  backend: string;
  /** Backend recipe or parameters (JSON). */
  recipe: JsonText;
  buildinfo_url: string | null;
  buildinfo_sha256: string | null;
  min_memory_mb: number | null;
  /** SHA-256 of the canonical input, so a sync rewrites only what changed. */
  input_hash: string;
}

/** A published binary artifact of a source package version, with its digest. */
export interface BinaryPackageTable {
  id: Id;
  source_package_id: number;
  name: string;
  version: string;
  architecture: string;
  url: string;
  sha256: string;
  size: number | null;
}

export interface JobTable {
  id: Id;
  source_package_id: number;
  status: JobStatus;
  priority: number;
  run_after: number;
  /** Requirements copied from the package and its build input, matched against a worker's tags on claim. */
  architecture: string;
  backend: string;
  min_memory_mb: number | null;
  attempts_ftbfs: number;
  attempts_unreproducible: number;
  attempts_infrastructure: number;
  lease_token: string | null;
  lease_expires_at: number | null;
  worker_id: number | null;
  /** The job's one final result. */
  result_id: number | null;
  created_at: number;
  updated_at: number;
}

/** Every build attempt: one per claim. */
export interface BuildAttemptTable {
  id: Id;
  job_id: number;
  worker_id: number | null;
  worker_name: string | null;
  backend: string;
  lease_token: string;
  started_at: number;
  ended_at: number | null;
  exit_code: number | null;
  signal: string | null;
  failure_class: FailureClass | null;
  message: string | null;
}

/** A reported outcome of one attempt. At most one per attempt, and exactly one final per finished job. */
export interface ResultTable {
  id: Id;
  job_id: number;
  attempt_id: number | null;
  source_package_id: number;
  worker_id: number | null;
  verdict: Verdict;
  /** 1 when this result ends its job; 0 when the job went back to the queue for a retry or a confirmation rebuild. */
  final: number;
  failure_class: FailureClass | null;
  /** The earlier result of the same job this one follows (an UNREPRODUCIBLE first rebuild before its confirmation). */
  previous_result_id: number | null;
  ignored: JsonText;
  issues: JsonText;
  timings: JsonText;
  log_blob: string | null;
  report_json_blob: string | null;
  report_html_blob: string | null;
  /** [{name, sha256}] of the rebuilt artifacts (JSON). */
  artifacts: JsonText;
  message: string | null;
  /** {reproduced, notReproduced} of the build environment (JSON), when the worker reported it. */
  environment: JsonText | null;
  /** SHA-256 of the canonical report: the same report sent twice is recognised by it. */
  content_hash: string;
  created_at: number;
}

export interface WorkerTable {
  id: Id;
  name: string;
  token_hash: string;
  /** WorkerTags as JSON. */
  tags: JsonText;
  version: string | null;
  free_disk_bytes: number | null;
  current_job_id: number | null;
  last_seen_at: number | null;
  created_at: number;
}

/**
 * A final result whose verdict crossed between reproducing and not, against the
 * final result before it of the same package (any version) in the same
 * distribution, suite and architecture; ERROR counts neither way.
 */
export interface VerdictChangeTable {
  result_id: number;
  previous_result_id: number;
  source_package_id: number;
  kind: VerdictChangeKind;
  created_at: number;
  /** When the notifier took it (mailed, or skipped: no address, unsubscribed, too old); null until then. */
  notified_at: number | null;
}

export type VerdictChangeKind = 'regression' | 'fix';

/** An address that asked for no more mail from the website's notifier. */
export interface MailUnsubscribeTable {
  address: string;
  created_at: number;
}

export interface Database {
  distributions: DistributionTable;
  suites: SuiteTable;
  architectures: ArchitectureTable;
  source_packages: SourcePackageTable;
  source_package_causes: SourcePackageCauseTable;
  build_inputs: BuildInputTable;
  binary_packages: BinaryPackageTable;
  jobs: JobTable;
  build_attempts: BuildAttemptTable;
  results: ResultTable;
  workers: WorkerTable;
  mail_unsubscribes: MailUnsubscribeTable;
  verdict_changes: VerdictChangeTable;
}

/** A count as returned by either dialect (numbers here; kept wide for aggregate expressions). */
export type Count = ColumnType<number, never, never>;
