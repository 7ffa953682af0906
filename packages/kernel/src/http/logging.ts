import type { FastifyServerOptions } from 'fastify';

/**
 * Logs fit for a government system: no SQL parameters, request bodies, tokens or
 * personal data (phones, identity numbers, contact hashes) in any line at any level,
 * and no line longer than `LOG_LINE_LIMIT`. The server configures pino with these
 * serializers, formatters and hooks, so every plugin's `ctx.log` and `request.log`
 * inherit them.
 */

/**
 * The longest log line written, in characters (UTF-16 code units), counting its
 * newline: one line is one JSON object and a `\n`, at most this long.
 */
export const LOG_LINE_LIMIT = 2048;

const MAX_MESSAGE = 300;
const MAX_STRING = 200;
const MAX_FRAMES = 6;
const MAX_DEPTH = 3;

// Whole-token matches only: a phone or id number is never part of a longer run of
// letters or digits (timestamps, UUIDs and hashes are not mistaken for one).
const MOBILE = /(?<![0-9A-Za-z.])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9A-Za-z])/g;
const LANDLINE = /(?<![0-9A-Za-z-])0\d{2,3}-\d{7,8}(?![0-9A-Za-z-])/g;
const ID_NUMBER = /(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g;
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const AUTH_SCHEME = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const HASH = /(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])/g;

/** Keys whose values are never logged, at any depth of a logged object. */
const SECRET_KEY = /phone|mobile|^tel$|idnumber|id_number|identity|idcard|password|passwd|secret|token|authorization|cookie|contact|email|^body$|payload|^params$|parameters|fingerprint|idempotency/i;

/** Masks personal data and secrets in free text, and bounds it to `max` characters. */
export function scrubText(text: string, max = MAX_MESSAGE): string {
  const masked = maskPatterns(text);
  return masked.length > max ? `${masked.slice(0, max)}…` : masked;
}

function maskPatterns(text: string): string {
  return text
    .replace(JWT, '[token]')
    .replace(AUTH_SCHEME, '$1 [token]')
    .replace(ID_NUMBER, '[id-number]')
    .replace(MOBILE, '[phone]')
    .replace(LANDLINE, '[phone]')
    .replace(HASH, '[hash]');
}

/**
 * An error's message without the data in it: drizzle's "Failed query: <sql>\nparams:
 * <values>" keeps only the statement's first line (bounded), never the parameters.
 */
function safeMessage(message: string): string {
  const failed = /^Failed query: ([^\n]*)/.exec(message);
  if (failed) return `Failed query: ${scrubText(failed[1]!, 160)}`;
  return scrubText(message.split('\nparams:')[0]!);
}

// PostgreSQL error fields that name things rather than hold values (postgres.js's
// names, then PGlite's).
const PG_FIELDS = [
  ['severity', 'severity'],
  ['schema_name', 'schema'],
  ['schema', 'schema'],
  ['table_name', 'table'],
  ['table', 'table'],
  ['column_name', 'column'],
  ['column', 'column'],
  ['constraint_name', 'constraint'],
  ['constraint', 'constraint'],
  ['routine', 'routine'],
] as const;

/**
 * The `err` serializer: type, code, a scrubbed and bounded message, a few stack frames,
 * a statement's first line, and the cause chain — never `params`, a PostgreSQL error's
 * `detail` (`Key (phone)=(…)`), `where` or `internal_query`, or any other property.
 */
export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (!error || typeof error !== 'object') return { message: scrubText(String(error)) };
  const e = error as Record<string, unknown> & Partial<Error>;
  const type = typeof e.name === 'string' ? e.name : (e.constructor?.name ?? 'Error');
  const message = typeof e.message === 'string' ? safeMessage(e.message) : '';
  const out: Record<string, unknown> = { type, message };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = String(e.code).slice(0, 60);
  if (typeof e.statusCode === 'number') out.statusCode = e.statusCode;
  for (const [from, to] of PG_FIELDS) if (typeof e[from] === 'string') out[to] = scrubText(e[from] as string, 80);
  if (typeof e.query === 'string') out.statement = scrubText(e.query.split('\n')[0]!, 160);
  if (typeof e.stack === 'string') {
    // Causes get fewer frames: the line must stay under the limit with its whole chain.
    const frames = e.stack.split('\n').filter((line) => /^\s+at /.test(line)).slice(0, depth === 0 ? MAX_FRAMES : 2);
    out.stack = scrubText([`${type}: ${message}`, ...frames].join('\n'), depth === 0 ? 900 : 300);
  }
  if (depth < MAX_DEPTH) {
    if (e.cause !== undefined && e.cause !== error) out.cause = serializeError(e.cause, depth + 1);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) out.errors = errors.slice(0, 3).map((inner) => serializeError(inner, depth + 1));
  } else if (e.cause !== undefined) {
    out.cause = '…';
  }
  return out;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
  routeOptions?: { url?: string };
}

/**
 * The `req` serializer: the method, the route's *pattern* (`/v1/feedback/:token`, so
 * neither a feedback token nor any other path value is written) and the names of the
 * query parameters, never their values; the client address.
 */
export function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  const raw = typeof request.url === 'string' ? request.url : '';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const keys = q === -1 ? [] : [...new Set([...new URLSearchParams(raw.slice(q + 1)).keys()])].slice(0, 10);
  const pattern = request.routeOptions?.url;
  const url = (pattern && pattern !== '*' ? pattern : unmatchedPath(path)) + (keys.length ? `?${keys.map((k) => scrubText(k, 40)).join('&')}` : '');
  return { method: request.method, url, remoteAddress: request.ip };
}

/** A path no route matched: masked, long opaque segments (tokens) elided, bounded. */
function unmatchedPath(path: string): string {
  const segments = path.split('/').map((s) => (/^[A-Za-z0-9_-]{20,}$/.test(s) && !/^[0-9a-f-]{36}$/i.test(s) ? '…' : s));
  return scrubText(segments.join('/'), MAX_STRING);
}

/** Bounds and scrubs a value a plugin logs: depth, keys, array items, string lengths, secret keys. */
function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, MAX_STRING);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return serializeError(value, 1);
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, 10).map((v) => boundValue(v, depth + 1));
    return value.length > 10 ? [...items, `…${value.length - 10} more`] : items;
  }
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [key, v] of Object.entries(value)) {
    if (n++ >= 20) {
      out['…'] = 'more keys';
      break;
    }
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : boundValue(v, depth + 1);
  }
  return out;
}

/** Keys pino serializes itself (with the serializers above), or that are plain numbers. */
const SERIALIZED = new Set(['req', 'res', 'err', 'error', 'responseTime']);

function formatLog(object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (SERIALIZED.has(key)) continue;
    const bounded = SECRET_KEY.test(key) ? '[redacted]' : boundValue(value, 0);
    if (bounded !== value) (out ??= { ...object })[key] = bounded;
  }
  return out ?? object;
}

/**
 * The last word before a line is written: masks what slipped through (a child
 * logger's bindings, a plugin's own serializer) and shrinks a line over the limit.
 */
export function finishLine(line: string): string {
  const masked = maskPatterns(line);
  return masked.length <= LOG_LINE_LIMIT ? masked : shrink(masked);
}

function shrink(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${JSON.stringify({ level: 50, time: Date.now(), msg: 'log line dropped: too long and not JSON', length: line.length })}\n`;
  }
  const cut = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return value.length > 120 ? `${value.slice(0, 120)}…` : value;
    if (!value || typeof value !== 'object') return value;
    if (depth >= 4) return '{…}';
    if (Array.isArray(value)) return value.slice(0, 3).map((v) => cut(v, depth + 1));
    return Object.fromEntries(Object.entries(value).slice(0, 12).map(([k, v]) => [k, k === 'stack' ? undefined : cut(v, depth + 1)]));
  };
  const smaller = { ...(cut(entry, 0) as object), truncated: line.length };
  const text = JSON.stringify(smaller);
  if (text.length < LOG_LINE_LIMIT) return `${text}\n`;
  const { level, time, pid, hostname, reqId, msg } = entry;
  return `${JSON.stringify({ level, time, pid, hostname, reqId, msg: typeof msg === 'string' ? msg.slice(0, 200) : undefined, truncated: line.length })}\n`;
}

type LoggerOption = FastifyServerOptions['logger'];
type PinoLike = {
  level?: string;
  serializers?: Record<string, (value: any) => unknown>;
  formatters?: { log?: (object: Record<string, unknown>) => Record<string, unknown> } & Record<string, unknown>;
  hooks?: { streamWrite?: (line: string) => string } & Record<string, unknown>;
} & Record<string, unknown>;

/**
 * The deployment's logger options with the kernel's serializers, formatter and line
 * hook added. Ours win over a deployment's own for `err`, `req`, `res` and the message;
 * a deployment's formatter and hook still run, before ours.
 */
export function safeLoggerOptions(given: LoggerOption): LoggerOption {
  if (given === false) return false;
  const options: PinoLike = given === true || given === undefined || given === null ? { level: 'info' } : { ...(given as PinoLike) };
  const ownLog = options.formatters?.log;
  const ownWrite = options.hooks?.streamWrite;
  return {
    ...options,
    serializers: {
      ...options.serializers,
      err: serializeError,
      error: serializeError,
      req: serializeRequest,
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      msg: (msg: unknown) => (typeof msg === 'string' ? safeMessage(msg) : msg),
    },
    formatters: { ...options.formatters, log: (object: Record<string, unknown>) => formatLog(ownLog ? ownLog(object) : object) },
    hooks: { ...options.hooks, streamWrite: (line: string) => finishLine(ownWrite ? ownWrite(line) : line) },
  } as unknown as LoggerOption;
}
