/**
 * Shared set-up for the tests of the ordering loop: who is calling, a tiny HTTP
 * client over `app.inject`, and helpers that put suppliers, units, venues, listed
 * products, budgets and orders in place through the API, as ordering-loop.test.ts does.
 */
import type { Role } from '@diandan/kernel';
import { authHeader } from '@diandan/testing';
import { count, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/** The claims of a test user's token. */
export interface Who {
  roles: Role[];
  region: string;
  unit?: string;
  supplier?: string;
  sub?: string;
}

export const cityAdmin: Who = { roles: ['city-admin'], region: '440100', sub: 'city-admin-1' };
export const districtAdmin: Who = { roles: ['district-admin'], region: '440103', sub: 'liwan-admin' };
export const otherDistrictAdmin: Who = { roles: ['district-admin'], region: '440104', sub: 'yuexiu-admin' };
export const streetOperator: Who = { roles: ['street-operator'], region: '440103001', sub: 'street-op' };
export const otherStreetOperator: Who = { roles: ['street-operator'], region: '440103002', sub: 'street-op-2' };
export const communityOperator: Who = { roles: ['community-operator'], region: '440103001001', sub: 'community-op' };
export const otherCommunityOperator: Who = { roles: ['community-operator'], region: '440103001002', sub: 'community-op-2' };
export const reviewer: Who = { roles: ['reviewer'], region: '440100', sub: 'reviewer-1' };

/** What a call answers, with the JSON body parsed. */
export interface Reply {
  status: number;
  body: any;
  etag: string | undefined;
  contentType: string | undefined;
}

type Method = 'GET' | 'POST' | 'PUT';

/** Calls the app as `who` (anonymous with null). Tokens are signed once per user. */
export type Call = (who: Who | null, method: Method, url: string, payload?: object | string, headers?: Record<string, string>) => Promise<Reply>;

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
    return { status: res.statusCode, body, etag: res.headers.etag as string | undefined, contentType: res.headers['content-type'] as string | undefined };
  };
}

/** The `If-Match` header for a record read at `version`. */
export function ifMatch(record: { version: number }): { 'if-match': string } {
  return { 'if-match': `"v${record.version}"` };
}

/** Expects `reply` to be a problem with `status` and `code`. */
export function expectProblem(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.code }, JSON.stringify(reply.body)).toEqual({ status, code });
  expect(reply.contentType).toContain('application/problem+json');
}

/** A supplier record and a token for it. */
export async function addSupplier(call: Call, name: string, sub: string): Promise<Who> {
  const res = await call(cityAdmin, 'POST', '/v1/suppliers', { name, kind: 'troupe' });
  expect(res.status).toBe(201);
  return { roles: ['supplier'], region: '440100', supplier: res.body.id, sub };
}

/** A unit in `regionCode` (created by the city admin) and a token for its operator. */
export async function addUnit(call: Call, regionCode: string, name: string, sub: string): Promise<{ id: string; operator: Who }> {
  const res = await call(cityAdmin, 'POST', '/v1/units', { regionCode, name, kind: 'cultural-station' });
  expect(res.status).toBe(201);
  return { id: res.body.id, operator: { roles: ['unit-operator'], region: regionCode, unit: res.body.id, sub } };
}

/** A venue in `regionCode`. */
export async function addVenue(call: Call, regionCode: string, capacity: number): Promise<string> {
  const res = await call(cityAdmin, 'POST', '/v1/venues', { regionCode, name: `活动室${capacity}`, kind: 'community-room', capacity, address: '测试路1号' });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** Valid product content; override what a test cares about. */
export function productContent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: '粤剧折子戏专场',
    summary: '经典粤剧折子戏，适合长者观赏',
    description: '由示范粤剧团演出《帝女花》选段，演后设互动环节。',
    category: 'performance',
    form: '现场演出',
    targetGroups: ['elderly', 'general-public'],
    audienceMin: 20,
    audienceMax: 300,
    durationMinutes: 90,
    costPerSession: 1000,
    serviceableRegions: ['440103'],
    tags: ['粤剧'],
    ...overrides,
  };
}

/** A draft product of `supplier`. */
export async function draftProduct(call: Call, supplier: Who, overrides: Record<string, unknown> = {}): Promise<any> {
  const res = await call(supplier, 'POST', '/v1/products', productContent(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Moves a product through `steps` of its review workflow, each by its usual actor; returns it after the last. */
export async function reviewProduct(call: Call, supplier: Who, product: any, steps: readonly ('submit' | 'start-review' | 'list' | 'delist')[]): Promise<any> {
  let current = product;
  for (const step of steps) {
    const res = await call(step === 'submit' ? supplier : reviewer, 'POST', `/v1/products/${current.id}/${step}`, undefined, ifMatch(current));
    expect(res.status, `${step}: ${JSON.stringify(res.body)}`).toBe(200);
    current = res.body;
  }
  return current;
}

/** A listed product of `supplier`. */
export async function listedProduct(call: Call, supplier: Who, overrides: Record<string, unknown> = {}): Promise<any> {
  return reviewProduct(call, supplier, await draftProduct(call, supplier, overrides), ['submit', 'start-review', 'list']);
}

/**
 * Creates budgets for `year` by the city admin, parents before children:
 * `[['440100', 1_000_000], ['440103', 500_000], …]`.
 */
export async function allocate(call: Call, year: number, amounts: readonly (readonly [string, number])[]): Promise<void> {
  for (const [region, amount] of amounts) {
    const res = await call(cityAdmin, 'PUT', `/v1/budgets/${year}/${region}`, { allocated: amount });
    expect(res.status, `${region}: ${JSON.stringify(res.body)}`).toBe(200);
  }
}

/** What an order is placed with. */
export interface OrderSpec {
  unitId: string;
  productId: string;
  venueId: string;
  windowStart?: string;
  windowEnd?: string;
  expectedAudience?: number;
}

export function orderBody(spec: OrderSpec) {
  return {
    unitId: spec.unitId,
    productId: spec.productId,
    venueId: spec.venueId,
    windowStart: spec.windowStart ?? '2027-03-01',
    windowEnd: spec.windowEnd ?? '2027-03-31',
    expectedAudience: spec.expectedAudience ?? 100,
  };
}

/** A draft order placed by `who`. */
export async function placeOrder(call: Call, who: Who, spec: OrderSpec): Promise<any> {
  const res = await call(who, 'POST', '/v1/orders', orderBody(spec));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Fires an order action with the order's current ETag. */
export function act(call: Call, who: Who, order: { id: string; version: number }, action: string, body?: object): Promise<Reply> {
  return call(who, 'POST', `/v1/orders/${order.id}/${action}`, body, ifMatch(order));
}

/** Rows of a kernel table, optionally filtered, counted straight in the database. */
export async function countRows(app: FastifyInstance, table: PgTable, where?: SQL): Promise<number> {
  const [row] = await app.diandan.database.db.select({ n: count() }).from(table).where(where);
  return Number(row!.n);
}
