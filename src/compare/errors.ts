// Typed errors of the engine. Every one carries the member path it happened in,
// so a report (or a crash message) says where inside a nested artifact it failed.

export type ErrorKind =
  | 'malformed' // the bytes do not follow the format
  | 'truncated' // the bytes end before the format says they do
  | 'limit' // a configured limit was reached
  | 'unsupported' // a valid feature reprove does not read
  | 'tool' // an external tool failed or is missing
  | 'io' // reading the input failed
  | 'aborted' // the caller's AbortSignal stopped the comparison
  | 'invalid-policy'; // a policy file that cannot be used

export class ReproveError extends Error {
  /** The error that reached the engine untyped (a RangeError from a Buffer, a TypeError): a parser bug, however well it is reported. */
  untyped?: unknown;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly memberPath: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ReproveError';
  }

  /** The same error, located at `path` when it was raised without a location. */
  at(path: readonly string[]): ReproveError {
    if (this.memberPath.length > 0) return this;
    const located = new ReproveError(this.kind, this.message, path);
    located.stack = this.stack;
    if (this.untyped !== undefined) located.untyped = this.untyped;
    return located;
  }

  describe(): string {
    // The first element is the top-level input, which the message already names.
    const inner = this.memberPath.slice(1);
    const where = inner.length > 0 ? ` (in ${inner.join(' -> ')})` : '';
    return `${this.message}${where}`;
  }
}

export function malformed(message: string): ReproveError {
  return new ReproveError('malformed', message);
}

export function truncated(message: string): ReproveError {
  return new ReproveError('truncated', message);
}

export class LimitError extends ReproveError {
  constructor(
    readonly limit: string,
    message: string,
    memberPath: readonly string[] = [],
  ) {
    super('limit', message, memberPath);
    this.name = 'LimitError';
  }
  override at(path: readonly string[]): ReproveError {
    if (this.memberPath.length > 0) return this;
    return new LimitError(this.limit, this.message, path);
  }
}

/** The comparison was stopped by its AbortSignal: everything it started has been released. */
export class AbortError extends ReproveError {
  constructor(reason: unknown, memberPath: readonly string[] = []) {
    super('aborted', `Cannot finish the comparison: aborted${reason instanceof Error ? ` (${reason.message})` : typeof reason === 'string' ? ` (${reason})` : ''}`, memberPath);
    this.name = 'AbortError';
  }
  override at(): ReproveError {
    return this;
  }
}

/**
 * Any thrown value as a ReproveError located at `path`. A value that was not one
 * keeps the original as `untyped`: the run reports it to its diagnostics callback.
 */
export function asReproveError(err: unknown, path: readonly string[]): ReproveError {
  if (err instanceof ReproveError) return err.at(path);
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const kind: ErrorKind =
    err instanceof RangeError ? 'malformed' : typeof code === 'string' && code.startsWith('E') ? 'io' : 'malformed';
  const e = new ReproveError(kind, message, path);
  e.untyped = err;
  return e;
}
