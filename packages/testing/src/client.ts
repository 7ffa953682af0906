import type { FastifyInstance } from 'fastify';
import { authHeader, type Who } from './auth.js';

/** What a call answered, with the JSON body parsed (the raw text when it is not JSON). */
export interface Reply<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>;
  readonly etag: string | undefined;
  readonly contentType: string | undefined;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Calls the app as `who` (anonymous with `null`); tokens are signed once per user. */
export type Call = <T = any>(
  who: Who | null,
  method: Method,
  url: string,
  payload?: object | string,
  headers?: Record<string, string>,
) => Promise<Reply<T>>;

/** A small HTTP client over `app.inject` for tests. */
export function client(app: FastifyInstance): Call {
  const tokens = new Map<string, Promise<{ authorization: string }>>();
  const auth = (who: Who) => {
    const key = JSON.stringify(who);
    let header = tokens.get(key);
    if (!header) tokens.set(key, (header = authHeader(who)));
    return header;
  };
  return async (who, method, url, payload, headers = {}) => {
    const res = await app.inject({ method, url, payload, headers: { ...(who ? await auth(who) : {}), ...headers } });
    let body: unknown;
    try {
      body = res.body ? res.json() : undefined;
    } catch {
      body = res.body;
    }
    return {
      status: res.statusCode,
      body: body as never,
      headers: res.headers,
      etag: res.headers.etag as string | undefined,
      contentType: res.headers['content-type'] as string | undefined,
    };
  };
}

/** The `If-Match` header for a record read at `version`. */
export function ifMatch(record: { version: number }): { 'if-match': string } {
  return { 'if-match': `"v${record.version}"` };
}

/** What to compare a problem answer with: `expect(problem(reply)).toEqual({ status: 404, code: 'ORDER_NOT_FOUND', problem: true })`. */
export function problem(reply: Reply): { status: number; code: unknown; problem: boolean } {
  return {
    status: reply.status,
    code: (reply.body as { code?: unknown } | undefined)?.code,
    problem: reply.contentType?.includes('application/problem+json') ?? false,
  };
}

/** Throws (with the body) unless `reply` has `status`; returns the body. */
export function expectStatus<T>(reply: Reply<T>, status: number, what: string): T {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}
