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
  orderBody,
  placeOrder,
  seedRegions,
  testActors,
  type Call,
} from '@diandan/testing';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './support.js';

const { districtAdmin, streetOperator } = testActors;

let app: FastifyInstance;
let call: Call;
beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

describe('ordering edge cases', () => {
  it('refuses orders for a suspended supplier’s products, and accepts them again once it is active', async () => {
    const supplier = await addSupplier(call, '暂停供应商', 'paused-supplier');
    const product = await listedProduct(call, supplier);
    const unit = await addUnit(call, '440103001001', '暂停测试单位', 'paused-unit-op');
    const venueId = await addVenue(call, '440103001001', 200);
    const setStatus = (status: string) =>
      app.diandan.database.db.update(kernelTables.suppliers).set({ status }).where(eq(kernelTables.suppliers.id, supplier.supplier!));
    await setStatus('suspended');
    const refused = await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId }));
    expectProblem(refused, 409, 'SUPPLIER_SUSPENDED');
    await setStatus('active');
    await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId });
  });

  it('mints feedback tokens once per Idempotency-Key', async () => {
    const supplier = await addSupplier(call, '反馈供应商', 'feedback-supplier');
    const product = await listedProduct(call, supplier, { costPerSession: 100 });
    const unit = await addUnit(call, '440103001001', '反馈测试单位', 'feedback-unit-op');
    const venueId = await addVenue(call, '440103001001', 200);
    await allocate(call, 2027, [
      ['440100', 10_000],
      ['440103', 5_000],
      ['440103001', 2_000],
      ['440103001001', 1_000],
    ]);
    let order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId });
    for (const [who, action, body] of [
      [unit.operator, 'submit', undefined],
      [streetOperator, 'approve', undefined],
      [districtAdmin, 'approve', undefined],
      [supplier, 'schedule', { scheduledOn: '2027-03-10' }],
      [supplier, 'deliver', { deliveredOn: '2027-03-10', actualAudience: 50 }],
    ] as const) {
      const res = await act(call, who, order, action, body);
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
      order = res.body;
    }
    const mint = () => call(unit.operator, 'POST', `/v1/orders/${order.id}/feedback-tokens`, { count: 2 }, { 'idempotency-key': 'mint-once' });
    const first = await mint();
    const again = await mint();
    expect(first.status).toBe(201);
    expect(again.body.tokens).toEqual(first.body.tokens);
    const stored = await app.diandan.database.db
      .select()
      .from(kernelTables.feedbackTokens)
      .where(eq(kernelTables.feedbackTokens.orderId, order.id));
    expect(stored).toHaveLength(2);
  });

  it('tells a client without a token how to authenticate', async () => {
    const res = await app.inject({ url: '/v1/orders' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});
