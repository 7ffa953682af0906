/**
 * Bad input never yields a 5xx. Every procurement route is taken from the OpenAPI
 * document and called with unknown-but-valid ids, malformed ids, NUL characters,
 * malformed, empty, wrongly typed, foreign and oversize bodies and forged cursors — as
 * a district admin and as a supplier. Afterwards nothing has been written.
 */
import { kernelTables, queryRows } from '@diandan/kernel';
import { type Reply, type Who } from '@diandan/testing';
import { max, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, dbNow, ifMatch, ok, projectBody, type World } from './support.js';

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema: { type?: string; format?: string; pattern?: string; minLength?: number; maxLength?: number };
}
interface Operation {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  operationId: string;
  parameters: Parameter[];
  body: { properties?: Record<string, { type?: string | string[] }>; required?: string[] } | undefined;
  responses: string[];
}

const UNKNOWN_UUID = '7b0c9a5e-3f1d-4e2a-8b6c-000000000000';
let w: World;
let operations: Operation[];
let before: Record<string, number>;
let lastAudit: number;

const VALID_BODIES: Record<string, object> = {
  createProcurementProject: {},
  updateProcurementProject: { title: '改名' },
  cancelProcurementProject: { reason: '理由' },
  askProcurementEnquiry: { question: '问题' },
  answerProcurementEnquiry: { answer: '回答' },
  submitProcurementBid: { lotId: 'L1', price: 100, proposal: '方案' },
  declareProcurementInterests: { conflict: false, statement: '无' },
  scoreProcurementBid: { score: 50, comment: '' },
  disqualifyProcurementBid: { reason: '理由' },
  rejectProcurementAward: { reason: '理由' },
  signProcurementContract: { title: '合同', value: 100, periodStart: '2027-01-01T00:00:00Z', periodEnd: '2027-12-31T00:00:00Z', milestones: [{ id: 'M1', title: '交付', dueDate: '2027-06-30T00:00:00Z', value: 100 }] },
  callOffProcurementContract: { unitId: UNKNOWN_UUID, productId: UNKNOWN_UUID, venueId: UNKNOWN_UUID, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 10 },
};

function unknownValue(p: Parameter): string {
  if (p.schema.format === 'uuid') return UNKNOWN_UUID;
  return 'ZZ9999';
}
function malformedValue(p: Parameter): string | undefined {
  if (p.schema.format === 'uuid') return 'not-a-uuid';
  if (p.schema.pattern) return encodeURIComponent('no such id!');
  return undefined;
}
const urlOf = (op: Operation, values: (p: Parameter) => string | undefined = unknownValue) =>
  op.path.replace(/\{(\w+)\}/g, (_, name: string) => values(op.parameters.find((p) => p.in === 'path' && p.name === name)!)!);
const pathParams = (op: Operation) => op.parameters.filter((p) => p.in === 'path');
const headersOf = (op: Operation): Record<string, string> => (op.parameters.some((p) => p.in === 'header' && p.name === 'if-match') ? { 'if-match': '"v1"' } : {});
const writes = (op: Operation) => op.method !== 'GET';

function wronglyTyped(op: Operation): Record<string, unknown> {
  const wrong = (schema: { type?: string | string[] }) => {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    return type === 'object' ? [1, 2] : type === 'integer' || type === 'number' ? 'twelve' : { not: 'this' };
  };
  return Object.fromEntries(Object.entries(op.body?.properties ?? {}).map(([name, schema]) => [name, wrong(schema)]));
}
function withNul(body: unknown): unknown {
  if (typeof body === 'string') return `${body}\u0000`;
  if (Array.isArray(body)) return body.map(withNul);
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, withNul(v)]));
  return body;
}

function expectClientError(res: Reply, what: string, allowed: readonly number[], op?: Operation): void {
  expect(res.status, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
  expect(allowed, `${what} → ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
  if (op) expect(op.responses, `${what} answered ${res.status}, not in ${op.operationId}'s OpenAPI responses`).toContain(String(res.status));
  if (res.status >= 400) {
    expect(res.contentType, what).toContain('application/problem+json');
    expect(res.body, what).toMatchObject({ status: res.status, code: expect.stringMatching(/^[A-Z][A-Z0-9_]+$/) });
  }
}

async function counts(): Promise<Record<string, number>> {
  const rows = await queryRows<{ name: string }>(w.app.diandan.database.db, sql`select table_name as name from information_schema.tables where table_schema = 'procurement'`);
  const out: Record<string, number> = {};
  for (const { name } of rows) {
    const [r] = await queryRows<{ n: number }>(w.app.diandan.database.db, sql`select count(*)::int as n from procurement.${sql.identifier(name)}`);
    out[name] = r!.n;
  }
  for (const [name, table] of [['orders', kernelTables.orders]] as const) {
    const [r] = await w.app.diandan.database.db.select({ n: sql<number>`count(*)::int` }).from(table);
    out[`kernel.${name}`] = r!.n;
  }
  return out;
}

beforeAll(async () => {
  w = await boot();
  // Real data: a published project with a bid, and a draft, so lookups run over real rows.
  const now = await dbNow(w.app);
  const at = { enquiryEnd: new Date(now.getTime() + 3_600_000), tenderEnd: new Date(now.getTime() + 7_200_000) };
  const p = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, {}, at)), 201, 'create');
  ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${p.id}/publish`, undefined, ifMatch(p)), 200, 'publish');
  ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '第二个' }, at)), 201, 'create 2');
  ok(await w.call(w.suppliers[0]!.user, 'POST', `/v1/procurement/projects/${p.id}/bids`, { lotId: 'L1', price: 100, proposal: 'x' }), 201, 'bid');
  VALID_BODIES.createProcurementProject = { ...projectBody(w, {}, at), buyerUnitId: UNKNOWN_UUID };
  const doc = (await w.call(null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, any>> };
  operations = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/v1/procurement/'))
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase() as Operation['method'],
        path,
        operationId: op.operationId as string,
        parameters: (op.parameters ?? []) as Parameter[],
        body: op.requestBody?.content?.['application/json']?.schema,
        responses: Object.keys(op.responses ?? {}),
      })),
    );
  before = await counts();
  const [row] = await w.app.diandan.database.db.select({ id: max(kernelTables.auditLog.id) }).from(kernelTables.auditLog);
  lastAudit = Number(row!.id);
});
afterAll(() => w?.app.close());

describe('the OpenAPI document', () => {
  it('lists every procurement route with a tag, an operationId and a sample body here', () => {
    expect(operations.length).toBeGreaterThanOrEqual(30);
    for (const op of operations.filter((o) => o.body)) expect(Object.keys(VALID_BODIES), op.operationId).toContain(op.operationId);
    for (const op of operations) for (const p of pathParams(op)) expect(malformedValue(p), `${op.operationId}: ${p.name}`).toBeDefined();
  });
});

describe.each([
  ['a district admin', () => w.admin],
  ['a supplier', () => w.suppliers[1]!.user],
])('as %s', (_name, who: () => Who) => {
  const gated = new Set<string>();
  beforeAll(async () => {
    for (const op of operations) {
      const res = await w.call(who(), op.method, urlOf(op), writes(op) ? {} : undefined, headersOf(op));
      if (res.status === 403 && res.body.detail?.startsWith('This action needs one of the roles')) gated.add(op.operationId);
    }
  });
  const unlessGated = (op: Operation, statuses: readonly number[]) => (gated.has(op.operationId) ? [403] : statuses);

  it('unknown but well-formed ids answer 404 (or 403), never 5xx', async () => {
    for (const op of operations.filter((o) => pathParams(o).length > 0)) {
      const res = await w.call(who(), op.method, urlOf(op), VALID_BODIES[op.operationId], headersOf(op));
      expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, [404]), op);
    }
  });

  it('unknown references in the body of a create answer 404 or 422 (or 403), never 5xx', async () => {
    for (const op of operations.filter((o) => o.method === 'POST' && pathParams(o).length === 0)) {
      const res = await w.call(who(), op.method, urlOf(op), VALID_BODIES[op.operationId]);
      expectClientError(res, `${op.method} ${op.path}`, unlessGated(op, [404, 422]), op);
    }
  });

  it('malformed ids answer 400 VALIDATION_FAILED naming the parameter', async () => {
    for (const op of operations) {
      for (const param of pathParams(op)) {
        const url = urlOf(op, (p) => (p === param ? malformedValue(p) : unknownValue(p)));
        const res = await w.call(who(), op.method, url, VALID_BODIES[op.operationId], headersOf(op));
        expectClientError(res, `${op.method} ${url}`, unlessGated(op, [400]), op);
        if (res.status === 403) continue;
        expect(res.body.code, url).toBe('VALIDATION_FAILED');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(`params.${param.name}`);
      }
    }
  });

  it('NUL characters in a body answer 400, not a database error', async () => {
    for (const op of operations.filter((o) => o.body)) {
      const res = await w.call(who(), op.method, urlOf(op), withNul(VALID_BODIES[op.operationId]) as object, headersOf(op));
      // NUL characters are refused before the role check, like the kernel's.
      expectClientError(res, `${op.method} ${op.path} with NUL`, [400], op);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('malformed, empty, wrongly typed, foreign and oversize bodies answer 400/413/415 (or reach the 404), never 5xx', async () => {
    const huge = JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) });
    for (const op of operations.filter(writes)) {
      const url = urlOf(op);
      const headers = headersOf(op);
      const what = (kind: string) => `${op.method} ${op.path} with ${kind}`;
      const ignored = unlessGated(op, op.body ? [400] : [404]);
      const json = { ...headers, 'content-type': 'application/json' };
      expectClientError(await w.call(who(), op.method, url, '{"title": "粤剧', json), what('malformed JSON'), [400], op);
      expectClientError(await w.call(who(), op.method, url, '', json), what('an empty JSON body'), [400], op);
      expectClientError(await w.call(who(), op.method, url, undefined, headers), what('no body'), ignored, op);
      const typed = await w.call(who(), op.method, url, wronglyTyped(op), headers);
      expectClientError(typed, what('wrong types'), ignored, op);
      if (op.body && typed.status === 400) {
        const fields = typed.body.errors.map((e: { field: string }) => e.field);
        for (const name of Object.keys(op.body.properties ?? {})) expect(fields, what(`a wrong ${name}`)).toContain(`body.${name}`);
      }
      for (const payload of ['[1, 2, 3]', '"粤剧"', '42', 'null']) expectClientError(await w.call(who(), op.method, url, payload, json), what(payload), ignored, op);
      if (op.body) expectClientError(await w.call(who(), op.method, url, { ...VALID_BODIES[op.operationId], surprise: true }, headers), what('an unknown property'), unlessGated(op, [400]), op);
      expectClientError(await w.call(who(), op.method, url, '<bid/>', { ...headers, 'content-type': 'application/xml' }), what('XML'), [415], op);
      expectClientError(await w.call(who(), op.method, url, huge, json), what('2 MiB'), [413], op);
    }
  });

  it('marks a body field required only when leaving it out is refused (400)', async () => {
    for (const op of operations.filter((o) => o.body?.required?.length)) {
      for (const field of op.body!.required!) {
        const { [field]: _left, ...rest } = VALID_BODIES[op.operationId] as Record<string, unknown>;
        const res = await w.call(who(), op.method, urlOf(op), rest, headersOf(op));
        expectClientError(res, `${op.operationId} without ${field}`, unlessGated(op, [400]), op);
      }
    }
  });

  it('forged cursors and bad query values answer 400, never 5xx', async () => {
    const first = ok(await w.call(who(), 'GET', '/v1/procurement/projects?limit=1'), 200, 'list');
    const [tag, ...key] = JSON.parse(Buffer.from(first.nextCursor ?? Buffer.from('["x","y","z"]').toString('base64url'), 'base64url').toString('utf8')) as unknown[];
    const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    for (const c of ['garbage!', forge('someone.elses-list', ...key), forge(tag), forge(tag, 'not-a-date', UNKNOWN_UUID), forge(tag, ...key, 'extra'), forge(tag, 'nul\u0000', UNKNOWN_UUID)]) {
      const res = await w.call(who(), 'GET', `/v1/procurement/projects?cursor=${encodeURIComponent(c)}`);
      expectClientError(res, `cursor ${c}`, [400]);
    }
    for (const q of ['status=nope', 'limit=1e9', 'buyerUnitId=x']) expectClientError(await w.call(who(), 'GET', `/v1/procurement/projects?${q}`), q, [400]);
    expectClientError(await w.call(who(), 'GET', '/v1/procurement/indicators?from=yesterday&to=2100-01-01T00:00:00Z'), 'indicators', gated.has('getProcurementIndicators') ? [403] : [400]);
  });
});

describe('afterwards', () => {
  it('nothing was written: no procurement row, no order, no audit record', async () => {
    expect(await counts()).toEqual(before);
    const [row] = await w.app.diandan.database.db.select({ id: max(kernelTables.auditLog.id) }).from(kernelTables.auditLog);
    expect(Number(row!.id)).toBe(lastAudit);
  });
});
