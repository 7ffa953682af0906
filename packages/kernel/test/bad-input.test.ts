/**
 * Bad input never yields a 5xx. Every kernel route is taken from the OpenAPI
 * document and called with unknown-but-valid ids, malformed ids, NUL characters,
 * malformed, empty, wrongly typed, oversize and foreign-typed bodies, and forged
 * cursors — as a city admin and as a supplier, so that authorisation does not hide
 * the checks (`fuzzRoutes` from @diandan/testing). Afterwards nothing has been written.
 */
import { kernelTables } from '@diandan/kernel';
import {
  act,
  addSupplier,
  addUnit,
  addVenue,
  allocate,
  client,
  createTestServer,
  listedProduct,
  placeOrder,
  productContent,
  seedRegions,
  testActors,
  type Who,
} from '@diandan/testing';
import { expectClientError, fuzzRoutes, UNKNOWN_UUID } from '@diandan/testing/fuzz';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';

const { cityAdmin } = testActors;

/** A request body that passes validation for each operation that takes one; references point at nothing. */
const VALID_BODIES: Record<string, object> = {
  createUnit: { regionCode: '999999', name: '不存在的单位', kind: 'other' },
  createVenue: { regionCode: '999999', name: '不存在的场馆', kind: 'other', capacity: 10, address: '无' },
  createSupplier: { name: '不会被创建的供应商', kind: 'troupe' },
  updateUnit: { name: '改名的单位' },
  updateVenue: { capacity: 20 },
  updateSupplier: { name: '改名的供应商' },
  suspendSupplier: { reason: '理由' },
  reinstateSupplier: { reason: '理由' },
  createProduct: productContent({ category: 'no-such-category' }),
  updateProduct: productContent(),
  rejectProduct: { reasons: ['理由'] },
  allocateBudget: { allocated: 1 },
  createOrder: {
    unitId: '7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4c',
    productId: '7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4d',
    venueId: '7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4e',
    windowStart: '2027-03-01',
    windowEnd: '2027-03-31',
    expectedAudience: 10,
  },
  rejectOrder: { reason: '理由' },
  cancelOrder: { reason: '理由' },
  scheduleOrder: { scheduledOn: '2027-03-15' },
  deliverOrder: { deliveredOn: '2027-03-15', actualAudience: 10 },
  mintFeedbackTokens: { count: 1 },
  giveFeedback: { rating: 5 },
};

const suite = fuzzRoutes({
  async setup() {
    const app = await createTestServer({ kernel: { feedbackPerMinute: 100_000 } });
    await seedRegions(app);
    const call = client(app);
    // Some real data, two of each list at least, so that lookups and cursors run over real rows.
    const supplier = await addSupplier(call, '坏输入测试剧团（虚构）', 'bad-input-troupe');
    await addSupplier(call, '坏输入测试剧团二（虚构）', 'bad-input-troupe-2');
    const unit = await addUnit(call, '440103001001', '坏输入测试文化室', 'bad-input-unit');
    await addUnit(call, '440103001002', '坏输入测试文化室二', 'bad-input-unit-2');
    const venue = await addVenue(call, '440103001001', 200);
    await addVenue(call, '440103001001', 300);
    const product = await listedProduct(call, supplier);
    await listedProduct(call, supplier, { title: '第二个产品' });
    await allocate(call, 2027, [
      ['440100', 100_000],
      ['440103', 100_000],
      ['440103001', 100_000],
      ['440103001001', 100_000],
    ]);
    const order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    await act(call, unit.operator, order, 'submit');
    await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    return { app, supplier, known: { code: '440100' } };
  },
  operations: () => true,
  callers: { 'a city admin': () => cityAdmin, 'a supplier': (t) => t.supplier },
  validBodies: VALID_BODIES,
  writesWhenValid: ['createSupplier'],
  tables: Object.fromEntries(Object.entries(kernelTables).filter(([name]) => name !== 'kernelSchema')) as Record<string, PgTable>,
  minOperations: 41,
  minLists: 9,
});

describe('filters', () => {
  it('out-of-range numbers in filters answer 400, as each caller', async () => {
    const urls = ['/v1/products?costMin=99999999999999', '/v1/products?costMax=1e20', '/v1/venues?minCapacity=99999999999', '/v1/orders?limit=1e9', '/v1/regions/440100/subtree?depth=99'];
    for (const who of [cityAdmin, suite.target.supplier]) {
      for (const url of urls) expectClientError(await suite.call(who, 'GET', url), url, [400]);
    }
  });
});

describe('tokens whose claims no record can have', () => {
  it.each([
    ['a supplier claim that is not a UUID', { roles: ['supplier'], region: '440100', supplier: 'troupe-7' }, '/v1/products?status=draft'],
    ['a unit claim that is not a UUID', { roles: ['unit-operator'], region: '440103001001', unit: 'unit-7' }, '/v1/orders'],
    ['a region claim with a NUL character', { roles: ['city-admin'], region: '440100\u0000' }, '/v1/units'],
    ['a subject with a NUL character', { roles: ['city-admin'], region: '440100', sub: 'admin\u0000' }, '/v1/units'],
  ] as [string, Who, string][])('refuses %s: 401 INVALID_TOKEN', async (_name, claims, url) => {
    const res = await suite.call(claims, 'GET', url);
    expectClientError(res, url, [401]);
    expect(res.body.code).toBe('INVALID_TOKEN');
  });

  it('a supplier token for a supplier not in the directory cannot draft products: 403', async () => {
    const ghost: Who = { roles: ['supplier'], region: '440100', supplier: UNKNOWN_UUID, sub: 'ghost' };
    const res = await suite.call(ghost, 'POST', '/v1/products', productContent());
    expectClientError(res, 'POST /v1/products as a ghost supplier', [403]);
  });
});

