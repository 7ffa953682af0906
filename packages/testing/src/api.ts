import { actors, testActors } from './actors.js';
import type { Who } from './auth.js';
import { expectStatus, ifMatch, type Call, type Reply } from './client.js';

/*
 * Helpers that put records in place through the HTTP API, as an integrator would:
 * each fails loudly (with the response body) when the API does not answer as expected.
 */

const { cityAdmin, reviewer } = testActors;

/** A supplier record (created by the city admin) and a token for its user. */
export async function addSupplier(call: Call, name: string, sub: string, kind = 'troupe'): Promise<Who> {
  const body = expectStatus(await call(cityAdmin, 'POST', '/v1/suppliers', { name, kind }), 201, `supplier ${name}`);
  return actors.supplier(body.id, '440100', sub);
}

/** A unit in `regionCode` (created by the city admin) and a token for its operator. */
export async function addUnit(call: Call, regionCode: string, name: string, sub: string): Promise<{ id: string; operator: Who }> {
  const body = expectStatus(await call(cityAdmin, 'POST', '/v1/units', { regionCode, name, kind: 'cultural-station' }), 201, `unit ${name}`);
  return { id: body.id, operator: actors.unitOperator(body.id, regionCode, sub) };
}

/** A venue in `regionCode` with room for `capacity`. */
export async function addVenue(call: Call, regionCode: string, capacity: number): Promise<string> {
  const payload = { regionCode, name: `活动室${capacity}`, kind: 'community-room', capacity, address: '测试路1号' };
  return expectStatus(await call(cityAdmin, 'POST', '/v1/venues', payload), 201, `venue in ${regionCode}`).id;
}

/** Valid product content (synthetic); override what a test cares about. */
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
  return expectStatus(await call(supplier, 'POST', '/v1/products', productContent(overrides)), 201, 'draft product');
}

/** Moves a product through `steps` of its review workflow, each by its usual actor; returns it after the last. */
export async function reviewProduct(
  call: Call,
  supplier: Who,
  product: { id: string; version: number },
  steps: readonly ('submit' | 'start-review' | 'list' | 'delist')[],
): Promise<any> {
  let current = product;
  for (const step of steps) {
    const res = await call(step === 'submit' ? supplier : reviewer, 'POST', `/v1/products/${current.id}/${step}`, undefined, ifMatch(current));
    current = expectStatus(res, 200, `product ${step}`);
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
    expectStatus(await call(cityAdmin, 'PUT', `/v1/budgets/${year}/${region}`, { allocated: amount }), 200, `budget of ${region}`);
  }
}

/** What an order is placed with; the window defaults to March 2027 and the audience to 100. */
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
  return expectStatus(await call(who, 'POST', '/v1/orders', orderBody(spec)), 201, 'order');
}

/** Fires an order action with the order's current ETag. */
export function act(call: Call, who: Who, order: { id: string; version: number }, action: string, body?: object, headers: Record<string, string> = {}): Promise<Reply> {
  return call(who, 'POST', `/v1/orders/${order.id}/${action}`, body, { ...ifMatch(order), ...headers });
}
