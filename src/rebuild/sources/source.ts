// What every package source is: something that turns a distribution's own record
// of its builds (a repository database, an archive index, a build notification, a
// webhook) into the API's SyncPackage records for one (distribution, suite,
// architecture), and hands them to the store, which queues the new versions.
// A repository source syncs the whole list ('full': what is not listed left the
// archive); a notification source adds builds one by one ('partial'). The daemon
// runs each configured source on start and on its interval (sync), and keeps the
// listeners (listen) running until it stops.
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { SyncPackage } from '../../api/schemas.js';
import type { Store, SyncSummary } from '../../store/index.js';

export interface SyncTarget {
  distribution: string;
  suite: string;
  architecture: string;
}

/** One configured source, as in the config file's `sources` list. */
export interface SourceConfig extends SyncTarget {
  name: string;
  kind: string;
  /** Seconds between syncs (repository sources; 0: only on start and on demand). */
  intervalSeconds?: number;
  [option: string]: unknown;
}

export interface SourceContext {
  store: Store;
  /** One line per event; offending entries are named in it. */
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface SourceSyncOutcome {
  /** Packages handed to the store. */
  packages: number;
  /** Entries skipped as malformed or hostile (each logged with its name). */
  skipped: number;
  summary: SyncSummary | null;
  /** Milliseconds the sync took. */
  ms: number;
}

export interface Source {
  readonly name: string;
  readonly kind: string;
  readonly target: SyncTarget;
  readonly intervalSeconds: number;
  /** A full sync (repositories) or a catch-up (notification listeners). */
  sync(ctx: SourceContext): Promise<SourceSyncOutcome>;
  /** Listeners: runs until ctx.signal aborts; resolves then. */
  listen?(ctx: SourceContext): Promise<void>;
}

export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

/** A source's own options from its configuration entry (all but the common keys), checked against `schema`. */
export function sourceOptions<S extends TSchema>(config: SourceConfig, schema: S): Static<S> {
  const { name, kind: _k, distribution: _d, suite: _s, architecture: _a, intervalSeconds: _i, ...rest } = config;
  if (!Value.Check(schema, rest)) {
    const first = Value.Errors(schema, rest).First();
    throw new SourceError(`Cannot configure source ${name}: ${first?.path || '/'} ${first?.message ?? 'invalid'}`);
  }
  return rest as Static<S>;
}

/** The API's package record into the store's input. */
export function packageInput(p: SyncPackage) {
  return {
    name: p.name,
    version: p.version,
    backend: p.backend,
    recipe: p.recipe,
    buildinfoUrl: p.buildinfo?.url,
    buildinfoSha256: p.buildinfo?.sha256,
    minMemoryMb: p.minMemoryMb,
    artifacts: p.artifacts.map((a) => ({ name: a.name, url: a.url, sha256: a.sha256, size: a.size })),
    maintainer: p.maintainer,
  };
}

/**
 * A maintainer as a source read it (Arch's PACKAGER, Debian's Maintainer), kept
 * when it fits the store's field: one too long or with control characters is
 * dropped rather than failing the package (it only addresses mail and feeds).
 */
export function maintainerOf(text: string | undefined): string | undefined {
  const m = text?.trim();
  return m && m.length <= 512 && !/[\u0000-\u001f\u007f]/.test(m) ? m : undefined;
}

/** The store's inputs of some packages, made one at a time as the store reads them. */
export function* packageInputs(packages: Iterable<SyncPackage>): Generator<ReturnType<typeof packageInput>> {
  for (const p of packages) yield packageInput(p);
}

/** Fetches a URL with a timeout, as a stream; http(s) and file: only. */
export async function fetchStream(url: string, what: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<AsyncIterable<Uint8Array>> {
  if (url.startsWith('file://')) {
    const { createReadStream } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    return createReadStream(fileURLToPath(url));
  }
  if (!/^https?:\/\//.test(url)) throw new SourceError(`Cannot fetch ${what}: ${JSON.stringify(url.slice(0, 200))} is not an http(s) or file URL`);
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 120_000), ...(options.signal ? [options.signal] : [])];
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any(signals) });
  } catch (e) {
    throw new SourceError(`Cannot fetch ${what} from ${url}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new SourceError(`Cannot fetch ${what} from ${url}: HTTP ${res.status}`);
  }
  return res.body as unknown as AsyncIterable<Uint8Array>;
}

/** Fetches a URL whole, at most `maxBytes`. */
export async function fetchBytes(url: string, what: string, maxBytes: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of await fetchStream(url, what, options)) {
    n += c.length;
    if (n > maxBytes) throw new SourceError(`Cannot fetch ${what} from ${url}: more than ${maxBytes} bytes`);
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}

/** A glob (`*`, `?`) as an anchored regular expression. */
export function globRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** rebuilderd's profile filters: a name passes when it matches an include (or there are none) and no exclude. */
export function nameFilter(include: readonly string[] | undefined, exclude: readonly string[] | undefined): (name: string) => boolean {
  const inc = (include ?? []).map(globRegExp);
  const exc = (exclude ?? []).map(globRegExp);
  return (name) => (inc.length === 0 || inc.some((r) => r.test(name))) && !exc.some((r) => r.test(name));
}
