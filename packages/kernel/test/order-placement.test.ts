/**
 * Order placement is the hot write (see src/orders/placement.ts): the facts its rules
 * read are remembered between orders, and orders drafted at the same moment are
 * written by one statement. These tests pin down what must not change because of
 * that: a remembered fact is never used once the database says otherwise, and orders
 * written together still succeed or fail one by one.
 */
import { kernelTables, queryRows, transaction, withTransaction } from '@diandan/kernel';
import {
  addSupplier,
  addUnit,
  addVenue,
  client,
  createTestServer,
  ifMatch,
  listedProduct,
  orderBody,
  placeOrder,
  reviewProduct,
  seedRegions,
  testDriver,
  type Call,
  type Reply,
  type Who,
} from '@diandan/testing';
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, expectProblem } from './support.js';

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let unit: { id: string; operator: Who };
let venueId: string;
let product: any;

const { orders, auditLog, suppliers, venues, units } = kernelTables;

beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  call = client(app);
  supplier = await addSupplier(call, '下单测试剧团（虚构）', 'placement-troupe');
  unit = await addUnit(call, '440103001001', '下单测试文化室', 'placement-unit-op');
  venueId = await addVenue(call, '440103001001', 200);
  product = await listedProduct(call, supplier, { costPerSession: 1000 });
});
afterAll(() => app?.close());

const db = () => app.diandan.database.db;
const ordersOf = (productId: string) => countRows(app, orders, eq(orders.productId, productId));
const place = (body: object, headers: Record<string, string> = {}) => call(unit.operator, 'POST', '/v1/orders', body, headers);

describe(`placing an order inside a caller's transaction (${testDriver()})`, () => {
  it('reads facts it does not remember through the caller’s transaction, and rolls back with it', async () => {
    // A unit and venue never ordered for: their facts are read, not remembered.
    const fresh = await addUnit(call, '440103001001', '事务内下单文化室', 'tx-unit-op');
    const freshVenue = await addVenue(call, '440103001001', 120);
    const services = app.diandan.services;
    const actor = await services.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
    const input = orderBody({ unitId: fresh.id, productId: product.id, venueId: freshVenue });
    const before = await ordersOf(product.id);
    // Without the transaction passed down, the read would use the outer handle (refused) or wait for it (PGlite).
    await expect(
      withTransaction(db(), undefined, async (tx) => {
        const placed = await services.orders.place(input, { actor, tx });
        expect('order' in placed && placed.order.status).toBe('draft');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await ordersOf(product.id)).toBe(before);
  });
});

describe(`remembered facts never outlive the data (${testDriver()})`, () => {
  it('a supplier suspended after its product was ordered: the next order is refused, none is written', async () => {
    const spec = { unitId: unit.id, productId: product.id, venueId };
    await placeOrder(call, unit.operator, spec); // the product's facts are now remembered
    const before = await ordersOf(product.id);
    const setStatus = (status: string) => db().update(suppliers).set({ status }).where(eq(suppliers.id, supplier.supplier!));
    await setStatus('suspended');
    try {
      expectProblem(await place(orderBody(spec)), 409, 'SUPPLIER_SUSPENDED');
      expect(await ordersOf(product.id)).toBe(before);
    } finally {
      await setStatus('active');
    }
    await placeOrder(call, unit.operator, spec);
  });

  it('a product delisted, changed and listed again is ordered at its new content and cost', async () => {
    const own = await listedProduct(call, supplier, { costPerSession: 800 });
    const spec = { unitId: unit.id, productId: own.id, venueId };
    expect(await placeOrder(call, unit.operator, spec)).toMatchObject({ cost: 800, productContentVersion: 1 });

    const delisted = await reviewProduct(call, supplier, own, ['delist']);
    expectProblem(await place(orderBody(spec)), 404, 'PRODUCT_NOT_FOUND');

    const edited = await call(supplier, 'PUT', `/v1/products/${own.id}`, { ...contentOf(delisted), costPerSession: 1200 }, ifMatch(delisted));
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    await reviewProduct(call, supplier, edited.body, ['submit', 'start-review', 'list']);
    expect(await placeOrder(call, unit.operator, spec)).toMatchObject({ cost: 1200, productContentVersion: 2 });
  });

  it('a venue’s capacity changed in the database: the new capacity decides', async () => {
    const spec = { unitId: unit.id, productId: product.id, venueId };
    await placeOrder(call, unit.operator, spec); // capacity 200 remembered
    const setCapacity = (capacity: number) => db().update(venues).set({ capacity }).where(eq(venues.id, venueId));
    try {
      await setCapacity(50);
      expectProblem(await place(orderBody({ ...spec, expectedAudience: 100 })), 422, 'VENUE_TOO_SMALL');
      await setCapacity(500);
      expect(await placeOrder(call, unit.operator, { ...spec, expectedAudience: 400 })).toMatchObject({ expectedAudience: 400 });
    } finally {
      await setCapacity(200);
    }
  });

  it('a unit moved out of its operator’s region no longer exists for that operator', async () => {
    const moving = await addUnit(call, '440103001001', '搬迁测试文化室', 'moving-unit-op');
    const spec = { unitId: moving.id, productId: product.id, venueId };
    await placeOrder(call, moving.operator, spec);
    await db().update(units).set({ regionCode: '440103001002' }).where(eq(units.id, moving.id));
    expectProblem(await call(moving.operator, 'POST', '/v1/orders', orderBody(spec)), 404, 'UNIT_NOT_FOUND');
  });
});

describe(`orders placed at the same moment (${testDriver()})`, () => {
  it('each gets its own answer: placed, replayed, refused for a reused key, refused for a delisted product', async () => {
    const gone = await listedProduct(call, supplier, { costPerSession: 700 });
    const spec = { unitId: unit.id, productId: product.id, venueId };
    await placeOrder(call, unit.operator, { ...spec, productId: gone.id }); // remembered as listed …
    await reviewProduct(call, supplier, gone, ['delist']); // … and delisted since
    const ordersBefore = await countRows(app, orders);

    const key = (k: string) => ({ 'idempotency-key': `same-moment-${k}` });
    const replies = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => place(orderBody({ ...spec, expectedAudience: 10 + i }), key(`fresh-${i}`))),
      place(orderBody({ ...spec, expectedAudience: 77 }), key('twice')),
      place(orderBody({ ...spec, expectedAudience: 77 }), key('twice')),
      place(orderBody({ ...spec, expectedAudience: 88 }), key('reused')),
      place(orderBody({ ...spec, expectedAudience: 99 }), key('reused')),
      place(orderBody({ ...spec, productId: gone.id }), key('delisted')),
    ]);

    const fresh = replies.slice(0, 10);
    expect(fresh.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(fresh.map((r) => r.body.expectedAudience)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    expect(new Set(fresh.map((r) => r.body.id)).size).toBe(10);

    const [twiceA, twiceB] = replies.slice(10, 12) as [Reply, Reply];
    expect([twiceA.status, twiceB.status].sort()).toEqual([201, 201]);
    expect(twiceA.body.id).toBe(twiceB.body.id);

    const reused = replies.slice(12, 14);
    expect(reused.map((r) => r.status).sort()).toEqual([201, 422]);
    expectProblem(reused.find((r) => r.status === 422)!, 422, 'IDEMPOTENCY_KEY_REUSED');

    expectProblem(replies[14]!, 404, 'PRODUCT_NOT_FOUND');

    // 10 fresh + 1 for "twice" + 1 for "reused": each with one audit record and one stored response.
    expect(await countRows(app, orders)).toBe(ordersBefore + 12);
    for (const r of replies.filter((r) => r.status === 201)) {
      const audit = await countRows(app, auditLog, and(eq(auditLog.entityId, r.body.id), eq(auditLog.action, 'order.create')));
      expect(audit).toBe(1);
      const [row] = await db().select().from(orders).where(eq(orders.id, r.body.id));
      expect(row).toMatchObject({ expectedAudience: r.body.expectedAudience, cost: 1000, status: 'draft', version: 1 });
    }
    const stored = await queryRows(db(), sql`select 1 from kernel.idempotency_keys where key = 'same-moment-delisted'`);
    expect(stored).toEqual([]);
  });

  it('one order the database refuses does not take the others with it, and leaves nothing behind', async () => {
    const spec = { unitId: unit.id, productId: product.id, venueId };
    await placeOrder(call, unit.operator, spec);
    // A constraint only this test has: the database refuses an audience of 177 after the rules passed it.
    await db().execute(sql`alter table kernel.orders add constraint test_refuses_177 check (expected_audience <> 177)`);
    const ordersBefore = await countRows(app, orders);
    const auditBefore = await countRows(app, auditLog);
    let replies: Reply[];
    try {
      replies = await Promise.all(
        [101, 102, 177, 103, 104].map((expectedAudience) =>
          place(orderBody({ ...spec, expectedAudience }), { 'idempotency-key': `one-bad-${expectedAudience}` }),
        ),
      );
    } finally {
      await db().execute(sql`alter table kernel.orders drop constraint test_refuses_177`);
    }
    expect(replies.map((r) => r.status)).toEqual([201, 201, 500, 201, 201]);
    expectProblem(replies[2]!, 500, 'INTERNAL_ERROR');
    expect(await countRows(app, orders)).toBe(ordersBefore + 4);
    expect(await countRows(app, auditLog)).toBe(auditBefore + 4);
    // Nothing was stored under the failed request's key: a retry runs afresh and succeeds.
    const retry = await place(orderBody({ ...spec, expectedAudience: 177 }), { 'idempotency-key': 'one-bad-177' });
    expect(retry.status).toBe(201);
    expect(retry.body.expectedAudience).toBe(177);
  });
});

/** The editable content of a product, as PUT /v1/products/{id} takes it. */
function contentOf(p: any): Record<string, unknown> {
  const { title, summary, description, category, form, targetGroups, audienceMin, audienceMax, durationMinutes, costPerSession, serviceableRegions, tags, media } = p;
  return { title, summary, description, category, form, targetGroups, audienceMin, audienceMax, durationMinutes, costPerSession, serviceableRegions, tags, media };
}

describe(`placing inside a caller's transaction (${testDriver()})`, () => {
  it('reads facts it has not seen in that transaction, and the order is rolled back with it', async () => {
    // Fresh unit, venue and product: nothing remembered, so placement must read them — in the caller's transaction.
    const own = await listedProduct(call, supplier, { costPerSession: 700 });
    const freshUnit = await addUnit(call, '440103001001', '事务内下单文化室', 'placement-tx-op');
    const freshVenue = await addVenue(call, '440103001001', 150);
    const kernel = app.diandan.services;
    const actor = await kernel.access.systemActor('testing', { roles: ['district-admin'], region: '440103' });
    const spec = { unitId: freshUnit.id, productId: own.id, venueId: freshVenue, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 100 };
    const rollback = new Error('roll back');
    await expect(
      transaction(db(), async (tx) => {
        const placed = await kernel.orders.place(spec, { actor, tx });
        expect('order' in placed && placed.order.status).toBe('draft');
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    expect(await ordersOf(own.id)).toBe(0);
    const placed = await transaction(db(), (tx) => kernel.orders.place(spec, { actor, tx }));
    expect('order' in placed && placed.order.productId).toBe(own.id);
    expect(await ordersOf(own.id)).toBe(1);
  });
});
