/**
 * Is an error the database being unavailable (down, restarting, unreachable, its
 * connection lost) rather than a failure of the query itself? The HTTP layer answers
 * the first with `503 DATABASE_UNAVAILABLE` and `Retry-After`; a retry later, with the
 * same `Idempotency-Key`, is the right move for the client. Query errors (a constraint,
 * a syntax error, a serialization failure) are not classified here.
 */

/** Raised by the kernel itself when it knows the database is down and does not try. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DATABASE_UNAVAILABLE';
  constructor(message = 'The database is unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * SQLSTATEs of a server that is going away or cannot take the connection:
 * 57P01 admin_shutdown (also "terminating connection due to unexpected postmaster exit"),
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, in
 * recovery), 53300 too_many_connections; class 08 is connection exceptions.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** postgres.js's own connection errors, and the operating system's. */
const UNAVAILABLE_CODES = new Set([
  'DATABASE_UNAVAILABLE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
]);

/** Failures of a *new* connection: the server cannot be reached at all right now. */
const CONNECT_CODES = new Set(['CONNECT_TIMEOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', '57P03', '53300']);

/** PGlite's message once closed (during shutdown). */
const PGLITE_CLOSED = /^PGlite is closed/;

/** Walks an error, its `cause` chain (drizzle wraps driver errors) and AggregateErrors. */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (!error || typeof error !== 'object' || depth > 8) return;
  const e = error as Record<string, unknown>;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
  if (e.cause !== error) yield* chain(e.cause, depth + 1);
}

/** The first error code found through the wrapping: a SQLSTATE, a postgres.js or a system code. */
export function databaseErrorCode(error: unknown): string | undefined {
  for (const e of chain(error)) if (typeof e.code === 'string' && e.code) return e.code;
  return undefined;
}

/**
 * True when `error` (or anything it wraps) says the database cannot be reached or its
 * connection went away: connection refused/reset/closed/timed out, the server shutting
 * down, crashing or starting up (57P01, 57P02, 57P03), SQLSTATE class 08, too many
 * connections, or the pool already ended.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof e.message === 'string' && PGLITE_CLOSED.test(e.message)) return true;
  }
  return false;
}

/** True when a new connection could not be made at all (as opposed to an open one lost). */
export function isConnectFailure(error: unknown): boolean {
  for (const e of chain(error)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (CONNECT_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  }
  return false;
}
