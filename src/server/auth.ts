// Who may call what. Read endpoints are public; admin endpoints (sync, push,
// retry, drop, workers add/remove) need the admin token, compared in constant
// time; worker endpoints (register, claim, heartbeat, report) need a worker's
// token, which the store finds by its hash; blob uploads take either. A missing
// or unknown token is 401, a valid token of the wrong kind 403.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Store, WorkerInfo } from '../store/index.js';
import { HttpError } from './errors.js';

export type Caller = { kind: 'admin' } | { kind: 'worker'; worker: WorkerInfo };

function bearer(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer[ \t]+(\S{1,512})[ \t]*$/i.exec(h);
  return m ? m[1]! : null;
}

/** Compares digests, so neither the length nor the content of the admin token leaks through timing. */
function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

export class Auth {
  constructor(
    private readonly store: Store,
    private readonly adminToken: string,
  ) {
    if (adminToken.length < 16) throw new Error('Cannot start the API: the admin token must have at least 16 characters');
  }

  /** The caller a request's token names, or a 401. */
  async caller(request: FastifyRequest, what: string): Promise<Caller> {
    const token = bearer(request);
    if (token === null) throw new HttpError(401, 'unauthorized', `Cannot ${what}: no token (send "Authorization: Bearer <token>")`);
    if (sameSecret(token, this.adminToken)) return { kind: 'admin' };
    const worker = await this.store.authenticateWorker(token);
    if (worker) return { kind: 'worker', worker };
    throw new HttpError(401, 'unauthorized', `Cannot ${what}: the token is not valid`);
  }

  async admin(request: FastifyRequest, what: string): Promise<void> {
    const c = await this.caller(request, what);
    if (c.kind !== 'admin') throw new HttpError(403, 'forbidden', `Cannot ${what}: this needs the admin token, not a worker's`);
  }

  async worker(request: FastifyRequest, what: string): Promise<WorkerInfo> {
    const c = await this.caller(request, what);
    if (c.kind !== 'worker') throw new HttpError(403, 'forbidden', `Cannot ${what}: this needs a worker's token, not the admin token`);
    return c.worker;
  }
}
