/**
 * `fuzzRoutes`: the bad-input suite every package runs over its own routes. The routes
 * come from the OpenAPI document, so a new route is fuzzed without anyone listing it.
 * Each is called, as each of the given callers, with unknown-but-valid ids, malformed
 * ids, NUL characters, malformed, empty, wrongly typed, foreign-typed and oversize
 * bodies, bodies missing a required field and forged cursors. Every answer must be a
 * 4xx problem+json with a stable code that the route's OpenAPI responses list — never
 * a 5xx — and afterwards no table has gained or lost a row and the audit log has no
 * new record.
 *
 * It registers vitest suites, so call it at the top level of a test file.
 */
import { kernelTables } from '@diandan/kernel';
import { count, max } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Who } from './auth.js';
import { client, type Call, type Method, type Reply } from './client.js';

/** A parameter as the OpenAPI document describes it. */
export interface FuzzParameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema: { type?: string; format?: string; pattern?: string; minLength?: number; maxLength?: number; minimum?: number; maximum?: number };
}

/** An operation as the OpenAPI document describes it. */
export interface FuzzOperation {
  method: Method;
  path: string;
  operationId: string;
  parameters: FuzzParameter[];
  /** The JSON request body's schema, when the operation takes one. */
  body: { properties?: Record<string, { type?: string | string[] }>; required?: string[] } | undefined;
  /** The statuses the OpenAPI document says the operation can answer. */
  responses: string[];
}

/** What `setup` hands back: the booted app (closed afterwards) and whatever the callers need. */
export interface FuzzTarget {
  readonly app: FastifyInstance;
  /** Values for path parameters in cursor checks, by parameter name (e.g. `{ id: <a real record> }`): lists are paged over real rows. */
  readonly known?: Readonly<Record<string, string>>;
}

export interface FuzzOptions<S extends FuzzTarget> {
  /** Boots the server and seeds a little real data (two rows of each list at least, so cursors run over rows). */
  setup: () => Promise<S>;
  /** Which of the document's operations are this package's. */
  operations: (op: FuzzOperation) => boolean;
  /** Who calls, by name: each caller runs every check, so that authorisation does not hide one. */
  callers: Record<string, (target: S) => Who | null>;
  /**
   * A body that passes validation for each operation that takes one, by operationId;
   * its references point at nothing, so it is refused after validation and writes nothing.
   */
  validBodies: Record<string, object>;
  /**
   * A query string each call of an operation carries, by operationId — for required
   * query parameters (e.g. `{ listNotices: 'regionCode=440103' }`).
   */
  query?: Record<string, string>;
  /** Operations whose valid body would really write: never sent (probed with an invalid body instead). */
  writesWhenValid?: readonly string[];
  /** The tables whose row counts must not change (the audit log is always checked). */
  tables: Record<string, PgTable>;
  /** At least this many operations must be found, so a filter that matches nothing fails. */
  minOperations: number;
  /** At least this many cursor-paged lists must be found (default 0). */
  minLists?: number;
}

/** An id no record has. */
export const UNKNOWN_UUID = '7b0c9a5e-3f1d-4e2a-8b6c-000000000000';

/** A value of the parameter's schema that names no record. */
function unknownValue(p: FuzzParameter): string {
  const s = p.schema;
  if (s.format === 'uuid') return UNKNOWN_UUID;
  if (s.type === 'integer') return String(Math.floor(((s.minimum ?? 0) + (s.maximum ?? 2 * (s.minimum ?? 0) + 100)) / 2));
  const text = 'ZZ9999';
  return s.minLength && s.minLength > text.length ? text.padEnd(s.minLength + 5, 'z') : text;
}

/** A value the parameter's schema refuses, or undefined if it accepts anything. */
function malformedValue(p: FuzzParameter): string | undefined {
  const s = p.schema;
  if (s.format === 'uuid') return 'not-a-uuid';
  if (s.type === 'integer') return 'abc';
  if (s.pattern) return encodeURIComponent('no such code!');
  if (s.maxLength) return 'x'.repeat(s.maxLength + 1);
  if (s.minLength && s.minLength > 1) return 'x';
  return undefined;
}


const pathParams = (op: FuzzOperation) => op.parameters.filter((p) => p.in === 'path');
const headersOf = (op: FuzzOperation): Record<string, string> =>
  op.parameters.some((p) => p.in === 'header' && p.name === 'if-match') ? { 'if-match': '"v1"' } : {};
const writes = (op: FuzzOperation) => op.method !== 'GET';

/** Every property of the body schema given a value of the wrong type. */
function wronglyTyped(op: FuzzOperation): Record<string, unknown> {
  // Values Ajv cannot coerce (it turns 12345 into "12345" and "x" into ["x"]).
  const wrong = (schema: { type?: string | string[] }) => {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    return type === 'object' ? [1, 2] : type === 'integer' || type === 'number' ? 'twelve' : { not: 'this' };
  };
  return Object.fromEntries(Object.entries(op.body?.properties ?? {}).map(([name, schema]) => [name, wrong(schema)]));
}

/** `body` with `\u0000` put into every string it holds. */
function withNul(body: unknown): unknown {
  if (typeof body === 'string') return `${body}\u0000`;
  if (Array.isArray(body)) return body.map(withNul);
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, withNul(v)]));
  return body;
}

/** A 4xx problem with a stable code, among `allowed`, and one the operation's OpenAPI responses list. */
export function expectClientError(res: Reply, what: string, allowed: readonly number[], op?: FuzzOperation): void {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
  expect(allowed, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
  if (op) expect(op.responses, `${what} answered ${res.status}, which ${op.operationId}'s OpenAPI responses do not list`).toContain(String(res.status));
  if (res.status >= 400) {
    expect(res.contentType, what).toContain('application/problem+json');
    expect(res.body, what).toMatchObject({ status: res.status, code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/) });
  }
}

/** The operations of an app's OpenAPI document. */
export async function openApiOperations(call: Call): Promise<FuzzOperation[]> {
  const doc = (await call(null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, any>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase() as Method,
      path,
      operationId: op.operationId as string,
      parameters: (op.parameters ?? []) as FuzzParameter[],
      body: op.requestBody?.content?.['application/json']?.schema,
      responses: Object.keys(op.responses ?? {}),
    })),
  );
}

/** What `fuzzRoutes` hands back, for a file's own further checks (read inside tests, after set-up). */
export interface FuzzSuite<S extends FuzzTarget> {
  /** What `setup` returned. */
  readonly target: S;
  /** A client over the target's app. */
  readonly call: Call;
}

/**
 * Registers the bad-input suite for the operations `options.operations` selects. The
 * target's app is closed after the file's tests; the "nothing was written" check runs
 * after the suite's own tests, so checks a file adds below must not write either.
 */
export function fuzzRoutes<S extends FuzzTarget>(options: FuzzOptions<S>): FuzzSuite<S> {
  const writesWhenValid = new Set(options.writesWhenValid ?? []);
  const urlOf = (op: FuzzOperation, values: (p: FuzzParameter) => string | undefined = unknownValue): string => {
    const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => values(op.parameters.find((p) => p.in === 'path' && p.name === name)!)!);
    const query = options.query?.[op.operationId];
    return query ? `${path}?${query}` : path;
  };
  let target: S;
  let call: Call;
  let operations: FuzzOperation[];
  let before: Record<string, number>;
  let lastAuditId: number;

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, table] of Object.entries(options.tables)) {
      const [row] = await target.app.diandan.database.db.select({ n: count() }).from(table);
      out[name] = Number(row!.n);
    }
    return out;
  }
  async function lastAudit(): Promise<number> {
    const [row] = await target.app.diandan.database.db.select({ id: max(kernelTables.auditLog.id) }).from(kernelTables.auditLog);
    return Number(row?.id ?? 0);
  }

  beforeAll(async () => {
    target = await options.setup();
    call = client(target.app);
    operations = (await openApiOperations(call)).filter(options.operations);
    before = await counts();
    lastAuditId = await lastAudit();
  });
  afterAll(() => target?.app.close());

  describe('the OpenAPI document', () => {
    it('lists the routes, and each body-taking route has a valid sample', () => {
      expect(operations.length).toBeGreaterThanOrEqual(options.minOperations);
      for (const op of operations.filter((o) => o.body)) expect(Object.keys(options.validBodies), `a valid body for ${op.operationId}`).toContain(op.operationId);
      for (const op of operations) {
        for (const p of pathParams(op)) expect(malformedValue(p), `${op.operationId}: ${p.name} accepts any value`).toBeDefined();
      }
    });
  });

  describe.each(Object.entries(options.callers))('as %s', (_name, callerOf) => {
    const who = () => callerOf(target);
    const bodyOf = (op: FuzzOperation) => options.validBodies[op.operationId];
    // Routes that refuse this caller outright: 401 without a token, 403 from the role
    // check. Both run before validation (an unentitled caller learns nothing from a
    // 400), so on these routes a bad request answers the same status.
    const gated = new Map<string, number>();

    beforeAll(async () => {
      for (const op of operations) {
        // A body that would really write is never sent: probe with an invalid one, whose 403 can only be the role check.
        const probe = writes(op) && writesWhenValid.has(op.operationId) ? {} : bodyOf(op);
        const { status } = await call(who(), op.method, urlOf(op), probe, headersOf(op));
        if (status === 401 || status === 403) gated.set(op.operationId, status);
      }
    });
    const unlessGated = (op: FuzzOperation, statuses: readonly number[]) => {
      const refused = gated.get(op.operationId);
      return refused ? [refused] : statuses;
    };

    it('unknown but well-formed ids and codes answer 404 (or 403), never 5xx', async () => {
      for (const op of operations.filter((o) => pathParams(o).length > 0)) {
        const res = await call(who(), op.method, urlOf(op), bodyOf(op), headersOf(op));
        // A list under a path parameter may simply be empty.
        const allowed = op.method === 'GET' && op.operationId.startsWith('list') ? [200, 404] : [404];
        expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, allowed), op);
      }
    });

    it('unknown references in the body of a create answer 404, 422 or 403, never 5xx', async () => {
      for (const op of operations.filter((o) => o.method === 'POST' && pathParams(o).length === 0 && o.body && !writesWhenValid.has(o.operationId))) {
        const res = await call(who(), op.method, urlOf(op), bodyOf(op));
        expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, [404, 422]), op);
      }
    });

    it('malformed ids answer 400 VALIDATION_FAILED naming the parameter', async () => {
      for (const op of operations) {
        for (const param of pathParams(op)) {
          const url = urlOf(op, (p) => (p === param ? malformedValue(p) : unknownValue(p)));
          const res = await call(who(), op.method, url, bodyOf(op), headersOf(op));
          expectClientError(res, `${op.method} ${url}`, unlessGated(op, [400]), op);
          // A parameter longer than the router takes (100 characters) is refused before routing.
          if (gated.has(op.operationId) || res.body.code === 'MALFORMED_URL') continue;
          expect(res.body.code, url).toBe('VALIDATION_FAILED');
          expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(`params.${param.name}`);
        }
      }
    });

    it('NUL characters in a path parameter or a body answer 400, not a database error', async () => {
      for (const op of operations) {
        for (const param of pathParams(op).filter((p) => p.schema.type === 'string' && !p.schema.format && !p.schema.pattern)) {
          const url = urlOf(op, (p) => (p === param ? `${unknownValue(p)}%00` : unknownValue(p)));
          const res = await call(who(), op.method, url, bodyOf(op), headersOf(op));
          expectClientError(res, `${op.method} ${url}`, [400], op);
        }
        const sample = bodyOf(op);
        if (sample && JSON.stringify(withNul(sample)) !== JSON.stringify(sample)) {
          const res = await call(who(), op.method, urlOf(op), withNul(sample) as object, headersOf(op));
          expectClientError(res, `${op.method} ${op.path} with NUL in its strings`, [400], op);
          expect(res.body.code).toBe('VALIDATION_FAILED');
        }
      }
    });

    it('malformed, empty, wrongly typed, foreign and oversize bodies answer 400/413/415 (or reach the 404), never 5xx', async () => {
      const huge = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
      for (const op of operations.filter(writes)) {
        const url = urlOf(op);
        const headers = headersOf(op);
        const json = { ...headers, 'content-type': 'application/json' };
        const what = (kind: string) => `${op.method} ${op.path} with ${kind}`;
        // Without a body schema the route ignores a well-formed body and looks the record up.
        const ignored = unlessGated(op, op.body ? [400] : [404]);

        const broken = await call(who(), op.method, url, '{"title": "粤剧', json);
        expectClientError(broken, what('malformed JSON'), [400], op);
        expect(broken.body.code).toBe('MALFORMED_BODY');

        const empty = await call(who(), op.method, url, '', json);
        expectClientError(empty, what('an empty JSON body'), [400], op);
        expect(empty.body.code).toBe('MALFORMED_BODY');

        expectClientError(await call(who(), op.method, url, undefined, headers), what('no body at all'), ignored, op);

        const typed = await call(who(), op.method, url, wronglyTyped(op), headers);
        expectClientError(typed, what('wrong types'), ignored, op);
        if (op.body && typed.status === 400) {
          const fields = typed.body.errors.map((e: { field: string }) => e.field);
          for (const name of Object.keys(op.body.properties ?? {})) expect(fields, what(`a wrong ${name}`)).toContain(`body.${name}`);
        }
        for (const [kind, payload] of [
          ['an array', '[1, 2, 3]'],
          ['a bare string', '"粤剧"'],
          ['a number', '42'],
          ['null', 'null'],
        ] as const) {
          expectClientError(await call(who(), op.method, url, payload, json), what(kind), ignored, op);
        }
        if (op.body && bodyOf(op)) {
          const extra = await call(who(), op.method, url, { ...bodyOf(op), surprise: true }, headers);
          expectClientError(extra, what('an unknown property'), unlessGated(op, [400]), op);
        }

        const xml = await call(who(), op.method, url, '<order/>', { ...headers, 'content-type': 'application/xml' });
        expectClientError(xml, what('an XML body'), [415], op);
        expect(xml.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

        const oversize = await call(who(), op.method, url, huge, json);
        expectClientError(oversize, what('a 2 MiB body'), [413], op);
        expect(oversize.body.code).toBe('PAYLOAD_TOO_LARGE');
      }
    });

    it('forged cursors answer 400 INVALID_CURSOR (or are read as a position), never 5xx', async () => {
      const lists = operations.filter((op) => op.method === 'GET' && op.parameters.some((p) => p.in === 'query' && p.name === 'cursor'));
      expect(lists.length).toBeGreaterThanOrEqual(options.minLists ?? 0);
      for (const op of lists) {
        const url = urlOf(op, (p) => target.known?.[p.name] ?? unknownValue(p));
        const sep = url.includes('?') ? '&' : '?';
        if (gated.has(op.operationId)) {
          expectClientError(await call(who(), 'GET', `${url}${sep}cursor=garbage`), op.path, unlessGated(op, []), op);
          continue;
        }
        const first = await call(who(), 'GET', `${url}${sep}limit=1`);
        expect(first.status, `${op.path}: ${JSON.stringify(first.body)}`).toBe(200);
        const cursor = first.body.nextCursor as string | null;
        const [tag, ...key] = cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]) : ['unknown-list', 'x'];
        const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
        const refused = [
          'garbage!',
          Buffer.from('not json').toString('base64url'),
          forge('someone.elses-list', ...key),
          forge(tag),
          forge(tag, ...key, 'one too many'),
          forge(tag, ...key.map(() => ({ an: 'object' }))),
          forge(tag, ...key.map(() => 'nul\u0000byte')),
        ];
        for (const c of refused) {
          const res = await call(who(), 'GET', `${url}${sep}cursor=${encodeURIComponent(c)}`);
          expectClientError(res, `${op.path} with cursor ${Buffer.from(c, 'base64url').toString('utf8')}`, [400], op);
          expect(res.body.code, op.path).toMatch(/^(INVALID_CURSOR|VALIDATION_FAILED)$/);
        }
        // Right list, wrong kind of key: refused where the key is an id or a number, a mere position where it is text.
        for (const c of [forge(tag, ...key.map(() => 'not-a-uuid')), forge(tag, ...key.map(() => 1e300)), forge(tag, ...key.map(() => -1.5))]) {
          expectClientError(await call(who(), 'GET', `${url}${sep}cursor=${encodeURIComponent(c)}`), `${op.path} with a forged key`, [200, 400], op);
        }
      }
    });

    it('marks a body field required only when leaving it out is refused (400)', async () => {
      for (const op of operations.filter((o) => o.body?.required?.length && bodyOf(o) && !writesWhenValid.has(o.operationId))) {
        for (const field of op.body!.required!) {
          const { [field]: _left, ...rest } = bodyOf(op) as Record<string, unknown>;
          const res = await call(who(), op.method, urlOf(op), rest, headersOf(op));
          expectClientError(res, `${op.operationId} without its required ${field}`, unlessGated(op, [400]), op);
          if (res.status === 400) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(`body.${field}`);
        }
      }
    });
  });

  describe('afterwards', () => {
    it('nothing was written: every table has as many rows as before, the audit log has no new record', async () => {
      expect(await counts()).toEqual(before);
      expect(await lastAudit()).toBe(lastAuditId);
    });
  });

  return {
    get target() {
      return target;
    },
    get call() {
      return call;
    },
  };
}
