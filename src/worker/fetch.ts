// Fetching a build input by URL into a file with its SHA-256 checked while it
// streams: `blob:<sha256>` from the daemon's blob store, `file://` from a local
// path (only where the worker's configuration allows it), `http(s)://`. A wrong
// digest or a size over the cap leaves nothing behind: the partial file is
// deleted and the error says which input of which job could not be fetched.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ApiError, ApiUnreachableError, type ReproveClient } from '../api/client.js';
import { DigestMeter, OverCapError } from '../compare/digest-meter.js';

export const DEFAULT_MAX_FETCH_BYTES = 16 * 1024 ** 3;

export interface FetchOptions {
  /** The daemon, for blob: URLs. */
  client?: ReproveClient;
  /** Whether file:// URLs may be read (a worker on the daemon's host; tests). */
  allowFileUrls?: boolean;
  /** Largest input accepted, in bytes. */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** An input that could not be fetched: "Cannot fetch <what> from <url>: <why>". */
export class FetchError extends Error {
  constructor(
    readonly what: string,
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Cannot fetch ${what} from ${url}: ${reason}`);
    this.name = 'FetchError';
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

async function open(url: string, what: string, options: FetchOptions): Promise<Readable> {
  const fail = (reason: string) => new FetchError(what, url, reason);
  const max = options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES;
  if (url.startsWith('blob:')) {
    const sha = url.slice('blob:'.length);
    if (!SHA256.test(sha)) throw fail('a blob: URL names a lower-case hex SHA-256');
    if (!options.client) throw fail('no daemon to fetch blobs from');
    let res: Response;
    try {
      res = await options.client.blob(sha);
    } catch (e) {
      if (e instanceof ApiError) throw fail(e.status === 404 ? "not in the daemon's blob store" : `the daemon answered ${e.status}: ${e.message}`);
      if (e instanceof ApiUnreachableError) throw fail(e.message);
      throw e;
    }
    if (!res.body) throw fail('the daemon sent no body');
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail('not a URL');
  }
  if (parsed.protocol === 'file:') {
    if (!options.allowFileUrls) throw fail('file:// URLs are not allowed on this worker (reprove worker --allow-file-urls)');
    const path = fileURLToPath(parsed);
    const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
      throw fail(e.code === 'ENOENT' ? 'no such file' : e.message);
    });
    if (!st.isFile()) throw fail('not a regular file');
    if (st.size > max) throw fail(`${st.size} bytes, larger than the cap of ${max} bytes`);
    return createReadStream(path);
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    let res: Response;
    try {
      res = await fetch(parsed, { redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
    } catch (e) {
      const err = e as Error & { cause?: Error };
      throw fail(err.cause?.message ?? err.message);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw fail(`HTTP ${res.status} ${res.statusText}`);
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    if (length > max) {
      await res.body?.cancel().catch(() => {});
      throw fail(`${length} bytes, larger than the cap of ${max} bytes`);
    }
    if (!res.body) throw fail('empty answer');
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  throw fail(`unsupported URL scheme ${parsed.protocol} (blob:, file://, http:// and https:// are)`);
}

/** Fetches `url` to `dest`, checking its SHA-256 against `sha256`; on any failure nothing is left at `dest`. */
export async function fetchVerified(url: string, sha256: string, dest: string, what: string, options: FetchOptions = {}): Promise<{ bytes: number }> {
  if (!SHA256.test(sha256)) throw new FetchError(what, url, `the expected digest ${JSON.stringify(sha256)} is not a lower-case hex SHA-256`);
  const part = `${dest}.part`;
  try {
    const source = await open(url, what, options);
    const digest = new DigestMeter(what, options.maxBytes ?? DEFAULT_MAX_FETCH_BYTES);
    await pipeline(source, digest, createWriteStream(part, { flags: 'wx' }), ...(options.signal ? [{ signal: options.signal }] : []));
    const got = digest.sha256();
    if (got !== sha256) throw new FetchError(what, url, `SHA-256 mismatch: expected ${sha256}, got ${got} (${digest.bytes} bytes); not kept`);
    await rename(part, dest);
    return { bytes: digest.bytes };
  } catch (e) {
    await rm(part, { force: true });
    if (e instanceof FetchError) throw e;
    if (e instanceof OverCapError) throw new FetchError(what, url, `larger than the cap of ${e.maxBytes} bytes`);
    const err = e as Error;
    throw new FetchError(what, url, err.name === 'AbortError' ? 'aborted' : err.message);
  }
}
