// Store types to API types (src/api/schemas.ts): the one place where the
// database's vocabulary (latestVerdict, leftArchiveAt, logBlob…) becomes the
// protocol's, so either can change without the other noticing.
import type * as api from '../api/schemas.js';
import type { ArtifactInfo, ClaimedJob, JobInfo, PackageSummary, ResultInfo, WorkerInfo } from '../store/index.js';

export function packageSummary(p: PackageSummary): api.PackageSummary {
  return {
    id: p.id,
    distribution: p.distribution,
    suite: p.suite,
    architecture: p.architecture,
    name: p.name,
    version: p.version,
    inArchive: p.leftArchiveAt === null,
    verdict: p.latestVerdict,
    resultId: p.latestResultId,
    firstSeenAt: Number(p.firstSeenAt),
    lastSeenAt: Number(p.lastSeenAt),
    maintainer: p.maintainer,
  };
}

export function artifactRef(a: ArtifactInfo): api.ArtifactRef {
  return { name: a.name, url: a.url, sha256: a.sha256, ...(a.size === null ? {} : { size: Number(a.size) }) };
}

export function resultSummary(r: ResultInfo, pkg: { name: string; version: string }, workerName: string | null): api.ResultSummary {
  return {
    id: r.id,
    jobId: r.jobId,
    packageId: r.packageId,
    name: pkg.name,
    version: pkg.version,
    verdict: r.verdict,
    final: r.final,
    failureClass: r.failureClass,
    worker: workerName,
    issues: r.issues,
    createdAt: Number(r.createdAt),
  };
}

export function queueEntry(j: JobInfo): api.QueueEntry {
  return {
    jobId: j.id,
    packageId: j.package.id,
    distribution: j.package.distribution,
    suite: j.package.suite,
    architecture: j.package.architecture,
    name: j.package.name,
    version: j.package.version,
    backend: j.backend,
    status: j.status,
    priority: j.priority,
    runAfter: Number(j.runAfter),
    attempts: j.attempts,
    worker: j.workerName,
    leaseExpiresAt: j.leaseExpiresAt === null ? null : Number(j.leaseExpiresAt),
  };
}

/** A worker counts as online while it was seen within `onlineMs`. */
export function workerInfo(w: WorkerInfo, now: number, onlineMs: number): api.WorkerInfo {
  const last = w.lastSeenAt === null ? null : Number(w.lastSeenAt);
  return {
    name: w.name,
    tags: { architectures: w.tags.architectures, backends: w.tags.backends, ...(w.tags.memoryMb === undefined || w.tags.memoryMb === null ? {} : { memoryMb: w.tags.memoryMb }) },
    version: w.version,
    lastHeartbeatAt: last,
    online: last !== null && now - last <= onlineMs,
    currentJobId: w.currentJobId,
    freeDiskBytes: w.freeDiskBytes === null ? null : Number(w.freeDiskBytes),
  };
}

export function claimedJob(c: ClaimedJob): api.ClaimedJob {
  return {
    jobId: c.job.id,
    leaseToken: c.leaseToken,
    leaseExpiresAt: Number(c.leaseExpiresAt),
    heartbeatSeconds: c.heartbeatIntervalMs / 1000,
    distribution: c.job.package.distribution,
    suite: c.job.package.suite,
    architecture: c.job.package.architecture,
    name: c.job.package.name,
    version: c.job.package.version,
    backend: c.input.backend,
    recipe: c.input.recipe,
    buildinfo: c.input.buildinfoUrl !== null && c.input.buildinfoSha256 !== null ? { url: c.input.buildinfoUrl, sha256: c.input.buildinfoSha256 } : null,
    artifacts: c.input.artifacts.map(artifactRef),
    previousUnreproducible: c.job.attempts.unreproducible,
  };
}
