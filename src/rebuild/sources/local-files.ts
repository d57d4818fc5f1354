// A source of packages whose files are on this host: a sync request (the API's
// SyncRequest) whose artifact, source and build-info URLs are file:// paths, as
// examples/publish.sh writes for the bundled example distribution. Each file is
// uploaded to the daemon's blob store (once: blobs are content-addressed) and its
// URL rewritten to blob:<sha256>, so workers on any host can fetch it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ReproveClient } from '../../api/client.js';
import type { SyncRequest, SyncResponse } from '../../api/schemas.js';

/** A file this source cannot hand to the daemon. */
export class LocalSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalSourceError';
  }
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

/** Uploads the file behind a file:// URL (checking its digest) and returns its blob: URL; other URLs pass unchanged. */
async function uploaded(client: ReproveClient, url: string, sha256: string, what: string): Promise<string> {
  if (!url.startsWith('file://')) return url;
  const path = fileURLToPath(url);
  const actual = await sha256Of(path).catch((e: Error) => {
    throw new LocalSourceError(`Cannot read ${what} at ${path}: ${e.message}`);
  });
  if (actual !== sha256) throw new LocalSourceError(`Cannot upload ${what}: ${path} has SHA-256 ${actual}, the list says ${sha256}`);
  await client.uploadFile(path, sha256);
  return `blob:${sha256}`;
}

const RECIPE_FILES = ['source', 'pkgbuild', 'srpm'] as const;

/** The request with every local file uploaded and named by its blob. */
export async function uploadLocalFiles(client: ReproveClient, request: SyncRequest): Promise<SyncRequest> {
  const packages = [];
  for (const p of request.packages) {
    const where = `${p.name} ${p.version}`;
    const artifacts = [];
    for (const a of p.artifacts) artifacts.push({ ...a, url: await uploaded(client, a.url, a.sha256, `artifact ${a.name} of ${where}`) });
    let recipe = p.recipe;
    // The recipe's input files: the command backend's source, the archlinux backend's PKGBUILD tarball, the fedora backend's SRPM.
    for (const key of RECIPE_FILES) {
      const file = (recipe as Record<string, { url?: unknown; sha256?: unknown } | undefined> | undefined)?.[key];
      if (file && typeof file === 'object' && typeof file.url === 'string' && typeof file.sha256 === 'string')
        recipe = { ...(recipe as object), [key]: { ...file, url: await uploaded(client, file.url, file.sha256, `${key} of ${where}`) } };
    }
    const buildinfo = p.buildinfo ? { ...p.buildinfo, url: await uploaded(client, p.buildinfo.url, p.buildinfo.sha256, `build info of ${where}`) } : undefined;
    packages.push({ ...p, artifacts, ...(recipe !== undefined ? { recipe } : {}), ...(buildinfo ? { buildinfo } : {}) });
  }
  return { ...request, packages };
}

/** Reads a sync request from `path`, uploads its local files and syncs it. */
export async function syncLocalFile(client: ReproveClient, path: string): Promise<SyncResponse> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new LocalSourceError(`Cannot read the package list ${path}: ${e.message}`);
  });
  let request: SyncRequest;
  try {
    request = JSON.parse(text) as SyncRequest;
  } catch (e) {
    throw new LocalSourceError(`Cannot read the package list ${path}: not JSON (${(e as Error).message})`);
  }
  return client.sync(await uploadLocalFiles(client, request));
}
