// Every failure the API answers, as one JSON shape `{error, message}` with one
// status per kind: the store's typed errors (not-found 404, conflict 409,
// invalid-input 400, too-large 413), Fastify's own request errors (malformed
// JSON, schema failures, body limits, media types: all 4xx) and the server's
// auth errors. Only a fault of the daemon itself is a 500, and its message
// names no internals (rebuilderd #164: a bad id must never be a 500).
import type { FastifyError, FastifyInstance } from 'fastify';
import { StoreError, type StoreErrorKind } from '../store/index.js';

/** An error the server answers with a given status (auth, unknown routes). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STORE_STATUS: Record<StoreErrorKind, { status: number; error: string }> = {
  'not-found': { status: 404, error: 'not-found' },
  conflict: { status: 409, error: 'conflict' },
  'invalid-input': { status: 400, error: 'bad-request' },
  'too-large': { status: 413, error: 'too-large' },
};

/** Short names of Fastify's client-error statuses. */
const CLIENT_ERROR: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  411: 'length-required',
  413: 'too-large',
  415: 'unsupported-media-type',
  422: 'bad-request',
};

export interface ErrorAnswer {
  status: number;
  body: { error: string; message: string };
}

/** The status and body answering `err`. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) return { status: err.statusCode, body: { error: err.error, message: err.message } };
  if (err instanceof StoreError) {
    const m = STORE_STATUS[err.kind];
    return { status: m.status, body: { error: m.error, message: err.message } };
  }
  const fe = err as Partial<FastifyError> | null;
  if (fe && typeof fe === 'object' && fe.validation) {
    return { status: 400, body: { error: 'bad-request', message: `Cannot accept the request: ${fe.message ?? 'it does not match the schema'}` } };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, body: { error: CLIENT_ERROR[status] ?? 'bad-request', message: `Cannot accept the request: ${fe?.message ?? 'refused'}` } };
  }
  return { status: 500, body: { error: 'internal', message: 'Cannot answer the request: internal error (see the daemon log)' } };
}

/** Installs the JSON error handler and the JSON 404 for unknown routes. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.status >= 500) request.log.error({ err }, 'request failed');
    // A refused upload may not have been read to its end: close the connection after answering.
    if (answer.status === 413 || (request.method === 'PUT' && answer.status >= 400 && !request.raw.readableEnded)) reply.header('connection', 'close');
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: 'not-found', message: `Cannot ${request.method} ${request.url.split('?')[0]}: no such endpoint` });
  });
}
