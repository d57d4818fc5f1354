// What a rebuild backend is: a named way to turn a claimed job into rebuilt
// artifacts (command, and next mock, makerepropkg, debrebuild...). The worker
// hands it a fresh directory, an output directory, a capped log, limits and an
// AbortSignal; it answers with what it built or why it could not, and which parts
// of the recorded build environment it recreated exactly and which it could not.
// Adding a backend = one file in backends/ and one line in backends/registry.ts.
import type { ClaimedJob } from '../api/schemas.js';
import type { LogSink } from './log-sink.js';

export interface BuildLimits {
  /** Wall-clock limit of the build, in milliseconds. */
  timeoutMs?: number;
  /** Address-space limit of each process of the build, in bytes. */
  memoryBytes?: number;
}

/** Fetches `url` to `dest` with its SHA-256 checked while streaming (blob:, file:// where allowed, http(s)); `what` names the input in errors. */
export type InputFetcher = (url: string, sha256: string, dest: string, what: string) => Promise<void>;

export interface BuildRequest {
  job: ClaimedJob;
  /** A fresh, empty directory the backend owns for this build. */
  workDir: string;
  /** An empty directory: the rebuilt artifacts go here. */
  outDir: string;
  /** The build's log (capped, head and tail kept). */
  log: LogSink;
  /** Aborted when the lease is lost or the worker stops: the build must end at once. */
  signal: AbortSignal;
  limits: BuildLimits;
  fetch: InputFetcher;
}

/** ftbfs: the build itself failed; infrastructure: the worker could not run it (fetch failed, program missing). */
export type BuildFailureClass = 'ftbfs' | 'infrastructure';

export interface BuildEnvironment {
  /** Parts of the recorded build environment recreated exactly (packages, paths, variables). */
  reproduced: string[];
  /** Parts it could not recreate, each saying what and why. */
  notReproduced: string[];
}

interface OutcomeBase {
  exitCode: number | null;
  signal: string | null;
  environment: BuildEnvironment;
}

export type BuildOutcome =
  | (OutcomeBase & { status: 'built'; /** Paths of the rebuilt artifacts (regular files in outDir). */ artifacts: string[] })
  | (OutcomeBase & { status: 'failed'; failureClass: BuildFailureClass; message: string })
  /** Stopped by the request's AbortSignal. */
  | (OutcomeBase & { status: 'aborted'; message: string });

export interface Backend {
  readonly name: string;
  /** true when this host can run it, else what is missing ("bash is not installed"). */
  available(): Promise<true | string>;
  build(request: BuildRequest): Promise<BuildOutcome>;
}

/** A build that failed before running anything. */
export function failedBeforeBuild(failureClass: BuildFailureClass, message: string, environment: BuildEnvironment): BuildOutcome {
  return { status: 'failed', failureClass, message, exitCode: null, signal: null, environment };
}
