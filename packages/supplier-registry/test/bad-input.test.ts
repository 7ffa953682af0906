/**
 * Bad input never yields a 5xx, on any of the registry's routes (taken from the OpenAPI
 * document): unknown-but-valid ids, malformed ids, NUL characters, malformed, empty,
 * wrongly typed, oversize and foreign-typed bodies, forged cursors — as a city admin, a
 * reviewer, a supplier applicant and a unit operator. Afterwards nothing has been
 * written. (The same checks as the kernel's own bad-input suite.)
 */
import { kernelTables } from '@diandan/kernel';
import { actors, client, createTestServer, expectStatus, seedRegions, testActors, type Call, type Reply, type Who } from '@diandan/testing';
import { count, max } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supplierRegistry } from '../src/index.js';
import * as tables from '../src/schema.js';
import { applicant, approve, orgApplication } from './support.js';

const { cityAdmin } = testActors;

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema: { type?: string; format?: string; pattern?: string; minLength?: number; maxLength?: number; minimum?: number; maximum?: number };
}
interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  operationId: string;
  parameters: Parameter[];
  body: { properties?: Record<string, { type?: string | string[]; anyOf?: unknown[] }>; required?: string[] } | undefined;
  /** The statuses the OpenAPI document says the operation can answer. */
  responses: string[];
}

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let reviewer: Who;
let knownId: string;
let operations: Operation[];
let before: Record<string, number>;
let lastAuditId: number;

/** A request body that passes validation for each operation that takes one; references point at nothing. */
const VALID_BODIES: Record<string, object> = {
  createSupplierApplication: orgApplication({ regionCode: '999999' }),
  updateSupplierApplication: { description: '改过的简介' },
  rejectSupplierApplication: { reasons: ['理由'] },
  requestSupplierChanges: { reasons: ['理由'] },
  suspendRegisteredSupplier: { reason: '理由' },
  reinstateRegisteredSupplier: { reason: '理由' },
  blacklistSupplier: { reason: '理由', until: '2099-01-01' },
  liftSupplierBlacklist: { reason: '理由' },
  addSupplierQualification: { type: '营业执照', number: 'X-1', issuer: '测试局', validFrom: '2026-01-01', validUntil: '2030-01-01', mandatory: true },
  acceptSupplierQualification: { reason: '理由' },
  rejectSupplierQualification: { reason: '理由' },
  rateSupplier: { orderId: '7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4d', punctuality: 5, quality: 5, cooperation: 5 },
};
/** Valid bodies that would really write: never sent. */
const WRITES_WHEN_VALID = new Set<string>();

const UNKNOWN_UUID = '7b0c9a5e-3f1d-4e2a-8b6c-000000000000';

/** A value of the parameter's schema that names no record. */
function unknownValue(p: Parameter): string {
  const s = p.schema;
  if (s.format === 'uuid') return UNKNOWN_UUID;
  if (s.type === 'integer') return String(Math.floor(((s.minimum ?? 0) + (s.maximum ?? 2 * (s.minimum ?? 0) + 100)) / 2));
  const text = 'ZZ9999';
  return s.minLength && s.minLength > text.length ? text.padEnd(s.minLength + 5, 'z') : text;
}

/** A value the parameter's schema refuses, or undefined if it accepts anything. */
function malformedValue(p: Parameter): string | undefined {
  const s = p.schema;
  if (s.format === 'uuid') return 'not-a-uuid';
  if (s.type === 'integer') return 'abc';
  if (s.pattern) return encodeURIComponent('no such code!');
  if (s.maxLength) return 'x'.repeat(s.maxLength + 1);
  if (s.minLength && s.minLength > 1) return 'x';
  return undefined;
}

function urlOf(op: Operation, values: (p: Parameter) => string | undefined = unknownValue): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => values(op.parameters.find((p) => p.in === 'path' && p.name === name)!)!);
}

const pathParams = (op: Operation) => op.parameters.filter((p) => p.in === 'path');
const needsIfMatch = (op: Operation) => op.parameters.some((p) => p.in === 'header' && p.name === 'if-match');
const headersOf = (op: Operation): Record<string, string> => (needsIfMatch(op) ? { 'if-match': '"v1"' } : {});
const writes = (op: Operation) => op.method !== 'GET';

/** Every property of the body schema given a value of the wrong type. */
function wronglyTyped(op: Operation): Record<string, unknown> {
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

function expectClientError(res: Reply, what: string, allowed: readonly number[], op?: Operation): void {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
  expect(allowed, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
  // Whatever a route answers, its OpenAPI responses say it can.
  if (op) expect(op.responses, `${what} answered ${res.status}, which ${op.operationId}'s OpenAPI responses do not list`).toContain(String(res.status));
  if (res.status >= 400) {
    expect(res.contentType, what).toContain('application/problem+json');
    expect(res.body, what).toMatchObject({ status: res.status, code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/) });
  }
}

const TABLES: Record<string, PgTable> = {
  applications: tables.applications,
  contacts: tables.contacts,
  qualifications: tables.qualifications,
  ratings: tables.ratings,
  citizenFeedback: tables.citizenFeedback,
  scores: tables.scores,
  applicationFiles: tables.applicationFiles,
  suppliers: kernelTables.suppliers,
  files: kernelTables.files,
};

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, table] of Object.entries(TABLES)) {
    const [row] = await app.diandan.database.db.select({ n: count() }).from(table);
    out[name] = Number(row!.n);
  }
  return out;
}

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry()] });
  await seedRegions(app);
  call = client(app);
  reviewer = actors.reviewer('440100', 'bad-input-reviewer');
  // Some real data, two of each list at least, so that lookups and cursors run over real rows.
  supplier = applicant('bad-input-applicant');
  const first = expectStatus(await call(supplier, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'application');
  expectStatus(await call(supplier, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'application 2');
  await approve(call, reviewer, first);
  knownId = first.id;

  const doc = (await call(null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, any>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase() as Operation['method'],
      path,
      operationId: op.operationId as string,
      parameters: (op.parameters ?? []) as Parameter[],
      body: op.requestBody?.content?.['application/json']?.schema,
      responses: Object.keys(op.responses ?? {}),
    })),
  ).filter((op) => op.path.startsWith('/v1/supplier-'));
  before = await counts();
  const [row] = await app.diandan.database.db.select({ id: max(kernelTables.auditLog.id) }).from(kernelTables.auditLog);
  lastAuditId = Number(row!.id);
});
afterAll(() => app?.close());

describe('the OpenAPI document', () => {
  it('lists the registry’s routes, and each body-taking route has a sample here', () => {
    expect(operations.length).toBeGreaterThanOrEqual(21);
    expect(operations.filter((op) => pathParams(op).length > 0).length).toBeGreaterThan(12);
    for (const op of operations.filter((o) => o.body)) expect(Object.keys(VALID_BODIES), `a valid body for ${op.operationId}`).toContain(op.operationId);
    for (const op of operations) {
      for (const p of pathParams(op)) expect(malformedValue(p), `${op.operationId}: ${p.name} accepts any value`).toBeDefined();
    }
  });
});

describe.each([
  ['a city admin', () => cityAdmin],
  ['a reviewer', () => reviewer],
  ['a supplier applicant', () => supplier],
  ['a unit operator', () => actors.unitOperator('7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4c', '440103001001', 'bad-input-unit')],
])('as %s', (_name, who) => {
  // Routes whose role check refuses this caller outright. That check runs before
  // validation (an anonymous or unentitled caller learns nothing from a 400), so on
  // these routes a bad request answers 403 too.
  const gated = new Set<string>();

  beforeAll(async () => {
    for (const op of operations) {
      if (writes(op) && WRITES_WHEN_VALID.has(op.operationId)) {
        // Probe with an invalid body instead: a 403 then can only be the role check.
        if ((await call(who(), op.method, urlOf(op), {}, headersOf(op))).status === 403) gated.add(op.operationId);
        continue;
      }
      const res = await call(who(), op.method, urlOf(op), VALID_BODIES[op.operationId], headersOf(op));
      if (res.status === 403) gated.add(op.operationId);
    }
  });
  const unlessGated = (op: Operation, statuses: readonly number[]) => (gated.has(op.operationId) ? [403] : statuses);

  it('unknown but well-formed ids and codes answer 404 (or 403), never 5xx', async () => {
    for (const op of operations.filter((o) => pathParams(o).length > 0)) {
      const res = await call(who(), op.method, urlOf(op), VALID_BODIES[op.operationId], headersOf(op));
      // A list under a path parameter (a year's budgets) may simply be empty.
      const allowed = op.method === 'GET' && op.operationId.startsWith('list') ? [200, 404] : [404];
      expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, allowed), op);
    }
  });

  it('unknown references in the body of a create answer 404, 422 or 403, never 5xx', async () => {
    for (const op of operations.filter((o) => o.method === 'POST' && pathParams(o).length === 0 && o.body && !WRITES_WHEN_VALID.has(o.operationId))) {
      const res = await call(who(), op.method, urlOf(op), VALID_BODIES[op.operationId]);
      expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, [404, 422]), op);
    }
  });

  it('malformed ids answer 400 VALIDATION_FAILED naming the parameter', async () => {
    for (const op of operations) {
      for (const param of pathParams(op)) {
        const url = urlOf(op, (p) => (p === param ? malformedValue(p) : unknownValue(p)));
        const res = await call(who(), op.method, url, VALID_BODIES[op.operationId], headersOf(op));
        expectClientError(res, `${op.method} ${url}`, unlessGated(op, [400]), op);
        // A parameter longer than the router takes (100 characters) is refused before routing.
        if (res.status === 403 || res.body.code === 'MALFORMED_URL') continue;
        expect(res.body.code, url).toBe('VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(`params.${param.name}`);
      }
    }
  });

  it('NUL characters in a path parameter or a body answer 400, not a database error', async () => {
    for (const op of operations) {
      for (const param of pathParams(op).filter((p) => p.schema.type === 'string' && !p.schema.format && !p.schema.pattern)) {
        const url = urlOf(op, (p) => (p === param ? `${unknownValue(p)}%00` : unknownValue(p)));
        const res = await call(who(), op.method, url, VALID_BODIES[op.operationId], headersOf(op));
        expectClientError(res, `${op.method} ${url}`, [400], op);
      }
      const sample = VALID_BODIES[op.operationId];
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
      const what = (kind: string) => `${op.method} ${op.path} with ${kind}`;
      // Without a body schema the route ignores a well-formed body and looks the record up.
      const ignored = unlessGated(op, op.body ? [400] : [404]);

      const broken = await call(who(), op.method, url, '{"title": "粤剧', { ...headers, 'content-type': 'application/json' });
      expectClientError(broken, what('malformed JSON'), [400], op);
      expect(broken.body.code).toBe('MALFORMED_BODY');

      const empty = await call(who(), op.method, url, '', { ...headers, 'content-type': 'application/json' });
      expectClientError(empty, what('an empty JSON body'), [400], op);
      expect(empty.body.code).toBe('MALFORMED_BODY');

      const absent = await call(who(), op.method, url, undefined, headers);
      expectClientError(absent, what('no body at all'), ignored, op);

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
        expectClientError(await call(who(), op.method, url, payload, { ...headers, 'content-type': 'application/json' }), what(kind), ignored, op);
      }
      if (op.body) {
        const extra = await call(who(), op.method, url, { ...VALID_BODIES[op.operationId], surprise: true }, headers);
        expectClientError(extra, what('an unknown property'), unlessGated(op, [400]), op);
      }

      const xml = await call(who(), op.method, url, '<order/>', { ...headers, 'content-type': 'application/xml' });
      expectClientError(xml, what('an XML body'), [415], op);
      expect(xml.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');

      const oversize = await call(who(), op.method, url, huge, { ...headers, 'content-type': 'application/json' });
      expectClientError(oversize, what('a 2 MiB body'), [413], op);
      expect(oversize.body.code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('forged cursors answer 400 INVALID_CURSOR (or are read as a position), never 5xx', async () => {
    const known: Record<string, string> = { code: '440100', id: knownId };
    const lists = operations.filter((op) => op.method === 'GET' && op.parameters.some((p) => p.in === 'query' && p.name === 'cursor'));
    expect(lists.length).toBeGreaterThanOrEqual(3);
    for (const op of lists) {
      const url = urlOf(op, (p) => known[p.name] ?? unknownValue(p));
      const sep = url.includes('?') ? '&' : '?';
      const first = await call(who(), 'GET', `${url}${sep}limit=1`);
      if (gated.has(op.operationId)) {
        expectClientError(await call(who(), 'GET', `${url}${sep}cursor=garbage`), op.path, [403], op);
        continue;
      }
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
    for (const op of operations.filter((o) => o.body?.required?.length && VALID_BODIES[o.operationId] && !WRITES_WHEN_VALID.has(o.operationId))) {
      for (const field of op.body!.required!) {
        const { [field]: _left, ...rest } = VALID_BODIES[op.operationId] as Record<string, unknown>;
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
    const [row] = await app.diandan.database.db.select({ id: max(kernelTables.auditLog.id) }).from(kernelTables.auditLog);
    expect(Number(row!.id)).toBe(lastAuditId);
  });
});
