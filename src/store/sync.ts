// Syncing what a (distribution, suite, architecture) lists now into the store.
// Every version ever seen keeps its row: a version the archive no longer lists is
// marked as left (rebuilderd deletes it, and with it the evidence that it once
// reproduced). A sync enqueues a job for each new version and supersedes the
// queued jobs of versions that left.
//
// One sync is one transaction, so a failing sync (an invalid package, a broken
// stream) leaves the store as it was. The packages are read from the caller's
// list or stream a batch at a time: each batch is validated and hashed, its
// stored versions looked up, and only what is new or changed is written. An
// unchanged version costs a lookup and a hash; versions that left are found and
// every listed one stamped in set-based statements at the end. Nothing holds the
// whole list, nor the stored table: memory is one batch plus the ids listed.
// The dialects' statements are in sync-sqlite.ts and sync-postgres.ts.
import crypto from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { StoreContext } from './context.js';
import { InvalidInputError } from './errors.js';
import { type ArtifactInfo, type PackageInput, type SyncInput, type SyncSummary, packagesChanged, versionKey } from './packages.js';
import type { Database } from './schema.js';
import { postgresSyncWriter } from './sync-postgres.js';
import { sqliteSyncWriter } from './sync-sqlite.js';
import { identifier, integer, json, location, packageName, packageVersion, sha256Hex, text } from './validate.js';

/** A listed package version, validated, with the hash of its build input. */
export interface ValidPackage {
  name: string;
  version: string;
  backend: string;
  recipe: string;
  buildinfoUrl: string | null;
  buildinfoSha256: string | null;
  minMemoryMb: number | null;
  artifacts: ArtifactInfo[];
  maintainer: string | null;
  inputHash: string;
}

/** What the store holds of a listed version. */
export interface StoredVersion {
  id: number;
  leftArchiveAt: number | null;
  maintainer: string | null;
  /** Null when it has no build input (never, after a sync wrote it). */
  inputHash: string | null;
}

export interface SyncTarget {
  distribution: string;
  suite: string;
  architecture: string;
}

/** A version with its row id. */
export interface Versioned {
  id: number;
  p: ValidPackage;
}

/** The statements of a sync, in one dialect, inside its transaction, for one target at one time (`now`). */
export interface SyncWriter {
  /** The stored versions of these packages, by versionKey. */
  lookup(batch: readonly ValidPackage[]): Promise<Map<string, StoredVersion>>;
  /** Inserts new versions (listed now, not left), with their build inputs and artifacts. */
  insertVersions(batch: readonly ValidPackage[]): Promise<Versioned[]>;
  /** Replaces the build inputs and artifacts of known versions, and the requirements their queued jobs copied. */
  replaceInputs(rows: readonly Versioned[]): Promise<void>;
  setMaintainers(rows: readonly { id: number; maintainer: string | null }[]): Promise<void>;
  /** last_seen_at = now and no longer left, for these versions. */
  stamp(ids: readonly number[]): Promise<void>;
  /** Of these versions, those without a job that is queued, running or done. */
  withoutActiveJob(ids: readonly number[]): Promise<number[]>;
  enqueue(rows: readonly Versioned[], priority: number): Promise<void>;
  /** Ids of the versions in the archive (of these names only, when given). */
  inArchive(names: readonly string[] | null): Promise<number[]>;
  /** Marks these versions as left and supersedes their queued jobs: how many it superseded. */
  markLeft(ids: readonly number[]): Promise<number>;
  /** last_seen_at = now for every version in the archive (once those that left are marked). */
  stampInArchive(): Promise<void>;
}

/** Package versions per batch: a lookup, and each write, is one statement per batch on PostgreSQL. */
const BATCH = 2000;

/** SHA-256 hex of a text: crypto.hash where Node has it (20.12+), one call instead of three objects. */
const sha256Of: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

export function validatePackage(p: PackageInput, architecture: string): ValidPackage {
  if (p === null || typeof p !== 'object') throw new InvalidInputError('Cannot accept package: not an object');
  const name = packageName(p.name);
  const version = packageVersion(p.version);
  const where = `${name} ${version}`;
  const artifacts: ArtifactInfo[] = [];
  for (const a of p.artifacts ?? []) {
    artifacts.push({
      name: packageName(a.name),
      version: a.version === undefined ? version : packageVersion(a.version),
      architecture: a.architecture === undefined ? architecture : identifier('artifact architecture', a.architecture),
      url: location(`artifact URL of ${where}`, a.url),
      sha256: sha256Hex(`artifact digest of ${where}`, a.sha256),
      size: a.size === undefined || a.size === null ? null : integer(`artifact size of ${where}`, a.size),
    });
  }
  if (artifacts.length > 10_000) throw new InvalidInputError(`Cannot accept package ${where}: more than 10000 artifacts`);
  const valid: ValidPackage = {
    name,
    version,
    backend: identifier(`backend of ${where}`, p.backend),
    recipe: json(`recipe of ${where}`, p.recipe ?? {}, 256 << 10),
    buildinfoUrl: p.buildinfoUrl === undefined || p.buildinfoUrl === null ? null : location(`build-info reference of ${where}`, p.buildinfoUrl),
    buildinfoSha256: p.buildinfoSha256 === undefined || p.buildinfoSha256 === null ? null : sha256Hex(`build-info digest of ${where}`, p.buildinfoSha256),
    minMemoryMb: p.minMemoryMb === undefined || p.minMemoryMb === null ? null : integer(`memory requirement of ${where}`, p.minMemoryMb, 0, 1 << 30),
    artifacts,
    maintainer: p.maintainer === undefined || p.maintainer === null || p.maintainer === '' ? null : text(`maintainer of ${where}`, p.maintainer, 512),
    inputHash: '',
  };
  valid.inputHash = sha256Of(inputText(valid));
  return valid;
}

/**
 * The text an input hash is taken of: exactly canonicalJson of the build input
 * without its name and version (keys sorted, the recipe already JSON text), but
 * written out field by field, which is several times quicker than the generic
 * sort of every object's keys on 100 000 packages. A test holds the two equal.
 */
export function inputText(v: Pick<ValidPackage, 'backend' | 'recipe' | 'buildinfoUrl' | 'buildinfoSha256' | 'minMemoryMb' | 'artifacts'>): string {
  const j = JSON.stringify;
  let s = '{"artifacts":[';
  for (let i = 0; i < v.artifacts.length; i++) {
    const a = v.artifacts[i]!;
    s += `${i === 0 ? '' : ','}{"architecture":${j(a.architecture)},"name":${j(a.name)},"sha256":${j(a.sha256)},"size":${j(a.size)},"url":${j(a.url)},"version":${j(a.version)}}`;
  }
  return `${s}],"backend":${j(v.backend)},"buildinfoSha256":${j(v.buildinfoSha256)},"buildinfoUrl":${j(v.buildinfoUrl)},"minMemoryMb":${j(v.minMemoryMb)},"recipe":${j(v.recipe)}}`;
}

/** Registers a distribution, suite and architecture (idempotent). */
async function ensureNames(trx: Kysely<Database>, now: number, { distribution, suite, architecture }: SyncTarget): Promise<void> {
  await trx.insertInto('distributions').values({ name: distribution, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
  await trx.insertInto('suites').values({ distribution, name: suite, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
  await trx.insertInto('architectures').values({ name: architecture, created_at: now }).onConflict((oc) => oc.doNothing()).execute();
}

function isIterable(v: unknown): v is Iterable<PackageInput> | AsyncIterable<PackageInput> {
  return v !== null && typeof v === 'object' && (Symbol.iterator in v || Symbol.asyncIterator in v) && typeof v !== 'string';
}

/** The packages, validated, BATCH at a time. */
async function* validBatches(packages: Iterable<PackageInput> | AsyncIterable<PackageInput>, architecture: string): AsyncGenerator<ValidPackage[]> {
  let batch: ValidPackage[] = [];
  for await (const raw of packages) {
    batch.push(validatePackage(raw, architecture));
    if (batch.length === BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

export async function syncPackages(ctx: StoreContext, input: SyncInput): Promise<SyncSummary> {
  const target = { distribution: identifier('distribution', input.distribution), suite: identifier('suite', input.suite), architecture: identifier('architecture', input.architecture) };
  const priority = input.priority === undefined ? 0 : integer('priority', input.priority, -1_000_000, 1_000_000);
  if (!isIterable(input.packages)) throw new InvalidInputError('Cannot sync packages: "packages" is not a list');
  if (input.mode !== undefined && input.mode !== 'full' && input.mode !== 'partial') throw new InvalidInputError(`Cannot sync packages: mode must be full or partial, not ${JSON.stringify(input.mode)}`);
  const partial = input.mode === 'partial';

  const summary = await ctx.h.write(async (trx) => {
    const now = ctx.now();
    await ensureNames(trx, now, target);
    const w = ctx.h.dialect === 'sqlite' ? sqliteSyncWriter(ctx.h.statement!, target, now) : await postgresSyncWriter(trx, target, now);
    const s: SyncSummary = { listed: 0, added: 0, changed: 0, returned: 0, left: 0, enqueued: 0, superseded: 0 };
    /** Ids of the versions listed so far: a version listed twice is refused, and the rest of the archive has left. */
    const listed = new Set<number>();
    /** Partial syncs: the names listed, whose other versions leave. */
    const names = partial ? new Set<string>() : null;
    let known = 0;
    const batches = validBatches(input.packages, target.architecture);
    let next = await batches.next();
    while (!next.done) {
      const batch = next.value;
      s.listed += batch.length;
      const lookup = w.lookup(batch);
      // The next batch is validated and hashed while the database answers this one's lookup.
      const following = batches.next();
      following.catch(() => undefined); // its error is thrown where it is awaited, below
      const stored = await lookup;
      const fresh: ValidPackage[] = [];
      const freshKeys = new Set<string>();
      const seen: number[] = [];
      const returned: Versioned[] = [];
      const changed: Versioned[] = [];
      const maintainers: { id: number; maintainer: string | null }[] = [];
      for (const p of batch) {
        names?.add(p.name);
        const k = versionKey(p.name, p.version);
        const row = stored.get(k);
        if (row ? listed.has(row.id) : freshKeys.has(k)) throw new InvalidInputError(`Cannot sync packages: ${p.name} ${p.version} is listed twice`);
        if (!row) {
          freshKeys.add(k);
          fresh.push(p);
          continue;
        }
        listed.add(row.id);
        seen.push(row.id);
        if (row.leftArchiveAt !== null) returned.push({ id: row.id, p });
        if (row.inputHash !== p.inputHash) changed.push({ id: row.id, p });
        if (row.maintainer !== p.maintainer) maintainers.push({ id: row.id, maintainer: p.maintainer });
      }
      known += seen.length;
      const added = await w.insertVersions(fresh);
      for (const a of added) listed.add(a.id);
      // A full sync stamps every listed version in one statement at the end; here only the
      // returning ones, which that statement would not pass.
      await w.stamp(partial ? seen : returned.map((r) => r.id));
      await w.replaceInputs(changed);
      await w.setMaintainers(maintainers);
      // A returning version is rebuilt unless it has a job that is pending or done.
      const rebuilt = new Set(await w.withoutActiveJob(returned.map((r) => r.id)));
      const back = returned.filter((r) => rebuilt.has(r.id));
      await w.enqueue([...added, ...back], priority);
      s.added += added.length;
      s.changed += changed.length;
      s.returned += returned.length;
      s.enqueued += added.length + back.length;
      next = await following;
    }
    // Versions that left: marked, never deleted; their queued jobs will not run.
    const gone = (await w.inArchive(names ? [...names] : null)).filter((id) => !listed.has(id));
    s.left = gone.length;
    s.superseded = await w.markLeft(gone);
    // Every version still in the archive is listed now (the rest were just marked as left).
    if (!partial && known > 0) await w.stampInArchive();
    return s;
  });
  packagesChanged(ctx);
  // PostgreSQL plans by its statistics: after a large sync they are stale until autovacuum
  // comes by, and the claim would sort the whole queue instead of walking its index. A
  // sync that changed a tenth of the versions or less leaves them about right (autovacuum's
  // own threshold is a tenth), and analysing 100 000 rows of four tables is not free.
  const moved = summary.added + summary.left + summary.changed;
  if (ctx.h.dialect === 'postgres' && moved >= 1000 && moved * 10 > summary.listed) {
    await sql`analyze source_packages, build_inputs, binary_packages, jobs`.execute(ctx.h.db);
  }
  return summary;
}
