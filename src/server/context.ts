// What every route module is handed: the store, the auth checks and the server's
// configuration, plus the Fastify instance typed with the TypeBox provider so a
// route's schemas type its request and reply.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../api/schemas.js';
import type { Store } from '../store/index.js';
import type { SourceRunner } from '../rebuild/sources/runner.js';
import type { Auth } from './auth.js';

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface RouteDeps {
  store: Store;
  auth: Auth;
  /** Largest blob upload accepted, bytes. */
  uploadLimitBytes: number;
  /** Largest sync body accepted, bytes. */
  syncLimitBytes: number;
  /** A worker seen within this long counts as online. */
  onlineMs: number;
  now: () => number;
  /** The daemon's configured sources (none when the app is built without them). */
  sources?: SourceRunner | undefined;
}

/** The error answers a route documents (every one has the shape `{error, message}`). */
export const errorsOf = (...codes: (400 | 401 | 403 | 404 | 409 | 413 | 415)[]) => Object.fromEntries(codes.map((c) => [c, ErrorBody])) as Record<number, typeof ErrorBody>;

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
