// Blobs over HTTP. An upload (a worker's or the admin token) is streamed through
// the store's hash and size checks into a temporary file and kept only when its
// SHA-256 is the one in the path; a refused upload leaves nothing. The path's
// hash is validated as 64 hex digits before anything touches the disk, so no
// name can walk out of the blob directory. A download streams the decompressed
// blob, typed by what the results say it is (logs as text, reports as JSON or
// sandboxed HTML).
import { PassThrough, Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { BlobStored } from '../api/schemas.js';
import { StoreError } from '../store/index.js';
import { HttpError } from './errors.js';
import { type App, type RouteDeps, errorsOf } from './context.js';
import { type BlobKind, blobKind } from './store-reads.js';

const BlobParams = Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the content, lower-case hex' }) });

const CONTENT_TYPE: Record<BlobKind, string> = {
  log: 'text/plain; charset=utf-8',
  'report-json': 'application/json; charset=utf-8',
  'report-html': 'text/html; charset=utf-8',
  other: 'application/octet-stream',
};

export function blobRoutes(app: App, { store, auth, uploadLimitBytes }: RouteDeps): void {
  app.put(
    '/api/v1/blobs/:sha256',
    {
      schema: {
        tags: ['blobs', 'worker protocol'],
        summary: 'Upload a blob (application/octet-stream); kept only if its SHA-256 matches (a worker or the admin)',
        security: [{ bearer: [] }],
        params: BlobParams,
        response: { 200: BlobStored, 201: BlobStored, ...errorsOf(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      await auth.caller(request, 'upload a blob');
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > uploadLimitBytes) {
        throw new HttpError(413, 'too-large', `Cannot store blob ${request.params.sha256}: ${declared} bytes is over the upload limit of ${uploadLimitBytes}`);
      }
      // The store destroys what it reads on a refusal; it reads a pass-through, so the request
      // itself survives to be answered (413, 400) instead of having its connection reset.
      const body = request.body;
      if (!(body instanceof Readable)) throw new HttpError(415, 'unsupported-media-type', `Cannot store blob ${request.params.sha256}: send its bytes as application/octet-stream`);
      const through = new PassThrough();
      body.on('error', (e) => through.destroy(e));
      body.pipe(through);
      try {
        const stored = await store.putBlob(through, { expectedSha256: request.params.sha256, maxBytes: uploadLimitBytes });
        return await reply.code(stored.created ? 201 : 200).send({ sha256: stored.sha256, size: stored.size });
      } catch (e) {
        body.unpipe(through);
        body.resume();
        // The uploader went away mid-body: nothing was kept, and it is no fault of the daemon's.
        if (request.raw.destroyed && !(e instanceof StoreError)) throw new HttpError(400, 'bad-request', `Cannot store blob ${request.params.sha256}: the upload was interrupted`);
        throw e;
      }
    },
  );

  app.get('/api/v1/blobs/:sha256', { schema: { tags: ['blobs'], summary: 'A stored blob, decompressed', params: BlobParams, response: errorsOf(400, 404) } }, async (request, reply) => {
    const h = request.params.sha256;
    const stream = await store.blobs.get(h);
    const kind = await blobKind(store, h);
    reply.header('content-type', CONTENT_TYPE[kind]);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'public, max-age=31536000, immutable');
    reply.header('etag', `"${h}"`);
    // Everything in a report comes from untrusted packages: no script, no network, a sandbox.
    if (kind === 'report-html') reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox");
    return reply.send(stream as never);
  });
}
