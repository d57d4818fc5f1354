// Validation of what comes from packages and workers before it reaches the
// database or a path: names, versions, architectures, hashes. Everything here is
// untrusted (a package can be named anything its archive accepts), so lengths are
// capped, control characters and whitespace refused, and nothing that could
// become a path component may contain '/', '\' or '..'.
import { InvalidInputError } from './errors.js';

// Control characters (C0, DEL, C1) and every kind of whitespace or line separator.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Z}\s]/u;
const IDENT = /^[A-Za-z0-9][A-Za-z0-9._+~-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;

function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return shown;
}

/** A name that may end up in a path or a URL: printable, no separators, no '..'. */
function pathSafe(what: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is empty or not a string`);
  if (value.length > max) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is longer than ${max} characters`);
  if (UNPRINTABLE.test(value)) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} contains whitespace or control characters`);
  if (value.includes('/') || value.includes('\\') || value.includes('..')) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} contains '/', '\\' or '..'`);
  return value;
}

/** A distribution, suite, architecture, backend or worker name: a short identifier. */
export function identifier(what: string, value: unknown, max = 64): string {
  pathSafe(what, value, max);
  if (!IDENT.test(value as string)) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} must start with a letter or digit and hold only letters, digits and . _ + ~ -`);
  return value as string;
}

/** A package name (Debian, RPM, Arch, or any custom name): printable, path-safe. */
export function packageName(value: unknown): string {
  return pathSafe('package name', value, 200);
}

/** A package version (epoch:upstream-release, ~ ^ + allowed): printable, path-safe. */
export function packageVersion(value: unknown): string {
  return pathSafe('package version', value, 200);
}

/** A lower-case SHA-256 hex digest (upper case is accepted and lowered). */
export function sha256Hex(what: string, value: unknown): string {
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof v !== 'string' || !HEX64.test(v)) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is not a SHA-256 digest (64 hex characters)`);
  return v;
}

/** A URL or location string: printable, capped. */
export function location(what: string, value: unknown, max = 4096): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is empty or not a string`);
  if (value.length > max) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is longer than ${max} characters`);
  if (/[\p{Cc}\s]/u.test(value)) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} contains whitespace or control characters`);
  return value;
}

/** Free text shown to people (a failure message): capped, control characters other than newline and tab refused. */
export function text(what: string, value: unknown, max = 4096): string {
  if (typeof value !== 'string') throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is not a string`);
  if (value.length > max) throw new InvalidInputError(`Cannot accept ${what}: longer than ${max} characters`);
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(value)) throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} contains control characters`);
  return value;
}

/** A safe non-negative integer (a count, size, priority or time), optionally capped. */
export function integer(what: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidInputError(`Cannot accept ${what}: ${describe(value)} is not an integer between ${min} and ${max}`);
  }
  return value;
}

/** JSON that will be stored as text: serialisable and no longer than `max` characters. */
export function json(what: string, value: unknown, max = 1 << 20): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(value ?? null);
  } catch (err) {
    throw new InvalidInputError(`Cannot accept ${what}: not serialisable as JSON (${(err as Error).message})`);
  }
  if (s === undefined) throw new InvalidInputError(`Cannot accept ${what}: not serialisable as JSON`);
  if (s.length > max) throw new InvalidInputError(`Cannot accept ${what}: ${s.length} characters of JSON, more than ${max}`);
  return s;
}
