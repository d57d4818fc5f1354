// Typed errors of the store. The HTTP server maps each kind to one status
// (not-found 404, conflict 409, invalid-input 400, too-large 413), so no bad id
// or late report ever surfaces as an untyped 500 (rebuilderd #164). Messages read
// "Cannot X: Y" and carry the offending id or value.

export type StoreErrorKind = 'not-found' | 'conflict' | 'invalid-input' | 'too-large';

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The job, package, worker or blob named does not exist. */
export class NotFoundError extends StoreError {
  constructor(message: string) {
    super('not-found', message);
    this.name = 'NotFoundError';
  }
}

/** The request is valid but contradicts the state (a second result, dropping a finished job). */
export class ConflictError extends StoreError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'ConflictError';
  }
}

/** A name, version, hash or value that the store refuses (hostile or malformed). */
export class InvalidInputError extends StoreError {
  constructor(message: string) {
    super('invalid-input', message);
    this.name = 'InvalidInputError';
  }
}

/** An upload over its size cap; nothing of it was kept. */
export class TooLargeError extends StoreError {
  constructor(message: string) {
    super('too-large', message);
    this.name = 'TooLargeError';
  }
}

/** True for a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
