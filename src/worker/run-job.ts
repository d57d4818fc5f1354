// One job's body after its inputs are on disk, shared by the service's worker and
// `reprove check`: build with the backend, verify the rebuilt artifacts against the
// published ones in process (judged under the policies, the strict RPM check
// included), explain what differs, and write the JSON and HTML reports. The worker
// adds fetching, heartbeats and uploads around it; `reprove check` adds finding the
// inputs on disk and printing.
import { join } from 'node:path';
import type { FailureClass, ReportRequest } from '../api/schemas.js';
import { AbortError, verifySet, writeReport, type Difference, type SetVerdict, type VerifyOptions } from '../index.js';
import type { BuildEnvironment, BuildOutcome } from '../rebuild/backend.js';
import type { LogSink } from '../rebuild/log-sink.js';
import { STRICT_RPM_VERDICT } from '../verdict/rpm-strict.js';

/** What a job comes to before uploads: the report's fields that do not name blobs. */
export interface JobResult {
  verdict: ReportRequest['verdict'];
  failureClass?: FailureClass;
  exitCode?: number | null;
  signal?: string | null;
  message: string;
  ignored: unknown[];
  causes: unknown[];
  environment?: BuildEnvironment;
  /** Files to upload: rebuilt artifacts by name. */
  rebuilt: string[];
  difference?: Difference;
  /** The verdict of each artifact, when the comparison ran. */
  verdicts?: SetVerdict;
}

/** Times a named stage of the job. */
export type Stage = <T>(name: string, fn: () => Promise<T>) => Promise<T>;
const untimed: Stage = (_name, fn) => fn();

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** An ERROR result, noted in the log. */
export function errorResult(log: LogSink, failureClass: FailureClass, message: string, extra: Partial<JobResult> = {}): JobResult {
  log.note(message);
  return { verdict: 'ERROR', failureClass, message, ignored: [], causes: [], rebuilt: [], ...extra };
}

export interface BuildAndVerifyInput {
  /** The package as messages name it ("hello 2.12-1 (job 7)"). */
  pkg: string;
  backendName: string;
  /** The published artifacts, on disk. */
  published: string[];
  /** Runs the backend's build (into its output directory). */
  build: () => Promise<BuildOutcome>;
  log: LogSink;
  signal: AbortSignal;
  /** The comparison's temporary directory. */
  tmpDir: string;
  verify?: Omit<VerifyOptions, 'signal' | 'tmpDir'>;
  stage?: Stage;
}

/** Build, verify and explain: the job's result, or 'aborted' when its signal stopped it. */
export async function buildAndVerify(input: BuildAndVerifyInput): Promise<JobResult | 'aborted'> {
  const { pkg, log, signal } = input;
  const stage = input.stage ?? untimed;
  let outcome: BuildOutcome;
  try {
    outcome = await stage('build', input.build);
  } catch (e) {
    if (signal.aborted) return 'aborted';
    return errorResult(log, 'infrastructure', `Cannot build ${pkg} with backend ${input.backendName}: ${errorText(e)}`);
  }
  const env = { environment: outcome.environment, exitCode: outcome.exitCode, signal: outcome.signal };
  if (outcome.status === 'aborted' || signal.aborted) return 'aborted';
  if (outcome.status === 'failed') {
    if (outcome.failureClass === 'infrastructure') return errorResult(log, 'infrastructure', outcome.message, env);
    log.note(outcome.message);
    return { verdict: 'FTBFS', failureClass: 'ftbfs', message: outcome.message, ignored: [], causes: [], rebuilt: [], ...env };
  }

  let verdict: SetVerdict;
  try {
    verdict = await stage('verify', () => verifySet(input.published, outcome.artifacts, { ...input.verify, signal, tmpDir: input.tmpDir }));
  } catch (e) {
    if (e instanceof AbortError || signal.aborted) return 'aborted';
    return errorResult(log, 'infrastructure', `Cannot verify ${pkg}: ${errorText(e)}`, { ...env, rebuilt: outcome.artifacts });
  }
  const differing = verdict.artifacts.filter((a) => a.difference);
  const difference: Difference | undefined =
    differing.length === 1
      ? differing[0]!.difference
      : differing.length > 1
        ? { source1: 'published', source2: 'rebuilt', comments: [`${differing.length} artifacts differ`], details: differing.map((a) => a.difference!) }
        : undefined;
  const lines = [
    `${verdict.verdict}: ${verdict.artifacts.length} compared (${verdict.artifacts.map((a) => `${a.name} ${a.verdict}`).join(', ') || 'none'})`,
    ...(verdict.missing.length ? [`published but not rebuilt: ${verdict.missing.join(', ')}`] : []),
    ...(verdict.extra.length ? [`rebuilt but not published: ${verdict.extra.join(', ')}`] : []),
    ...verdict.artifacts.filter((a) => a.error).map((a) => `${a.name}: ${a.error}`),
    ...verdict.artifacts.filter((a) => a.unexplained.length).map((a) => `${a.name}: ${a.unexplained.length} unexplained difference(s), e.g. ${a.unexplained[0]}`),
    ...verdict.artifacts
      .filter((a) => a.strict)
      .map((a) => `${a.name}: not ${STRICT_RPM_VERDICT}: ${a.strict!.error ?? `differs in ${a.strict!.differingFields.join(', ')} with the published signature header transplanted`}`),
  ];
  const failureClass: FailureClass | undefined = verdict.verdict === 'UNREPRODUCIBLE' ? 'unreproducible' : verdict.verdict === 'ERROR' ? 'infrastructure' : undefined;
  return {
    verdict: verdict.verdict,
    ...(failureClass ? { failureClass } : {}),
    message: lines.join('\n'),
    ignored: verdict.artifacts.flatMap((a) => a.ignored.map((e) => ({ artifact: a.name, ...e }))),
    causes: verdict.artifacts.flatMap((a) => a.issues.map((i) => ({ artifact: a.name, ...i }))),
    rebuilt: outcome.artifacts,
    ...env,
    ...(difference ? { difference } : {}),
    verdicts: verdict,
  };
}

/** Writes report.json and report.html of the result's differences into `dir`; nothing when there are none. */
export async function writeJobReports(result: JobResult, dir: string): Promise<{ json?: string; html?: string }> {
  if (!result.difference) return {};
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  await writeReport(result.difference, 'json', json);
  await writeReport(result.difference, 'html', html);
  return { json, html };
}
