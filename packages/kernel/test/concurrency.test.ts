/**
 * Racing writers. On PGlite every transaction runs alone, so these pass trivially;
 * the interesting run is on Postgres (DATABASE_URL), where the requests really
 * interleave over a pool of connections and only row locks and version checks
 * keep the data right.
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
  draftProduct,
  ifMatch,
  listedProduct,
  orderBody,
  placeOrder,
  productContent,
  seedRegions,
  testActors,
  testDriver,
  type Call,
  type Reply,
  type Who,
} from '@diandan/testing';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, expectProblem } from './support.js';

const { cityAdmin, streetOperator } = testActors;

const { orders, budgets, auditLog, feedback, productVersions } = kernelTables;

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let unit: { id: string; operator: Who };
let venueId: string;
let product: any;

const COST = 1000;

beforeAll(async () => {
  // One approval (the street's) is final, so a single request both approves and reserves.
  app = await createTestServer({ kernel: { approvalTopLevel: 'street' } });
  await seedRegions(app);
  call = client(app);
  supplier = await addSupplier(call, '并发测试剧团（虚构）', 'troupe-c');
  unit = await addUnit(call, '440103001001', '并发测试文化室', 'unit-op-c');
  venueId = await addVenue(call, '440103001001', 500);
  product = await listedProduct(call, supplier, { costPerSession: COST });
});
afterAll(() => app?.close());

/** Runs `n` requests at once. */
function all(n: number, request: (i: number) => Promise<Reply>): Promise<Reply[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => request(i)));
}

function tally(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) {
    const key = r.status >= 400 ? `${r.status} ${r.body?.code}` : String(r.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

describe(`concurrent writes (${testDriver()})`, () => {
  it('100 identical POST /v1/orders with one Idempotency-Key create one order', async () => {
    const before = await countRows(app, orders);
    const key = 'order-retry-7f3a';
    const replies = await all(100, () =>
      call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId }), { 'idempotency-key': key }),
    );
    expect(tally(replies)).toEqual({ 201: 100 });
    const ids = new Set(replies.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(await countRows(app, orders)).toBe(before + 1);
    const [id] = [...ids];
    expect(await countRows(app, auditLog, and(eq(auditLog.entityId, id!), eq(auditLog.action, 'order.create')))).toBe(1);
    // The API agrees: the unit sees exactly one order more.
    const listed = await call(unit.operator, 'GET', '/v1/orders?limit=200');
    expect(listed.body.items.filter((o: { id: string }) => o.id === id)).toHaveLength(1);
  });

  it('200 concurrent approvals against a budget for 50 approve exactly 50 and leave no order half-approved', async () => {
    const year = 2030;
    await allocate(call, year, [
      ['440100', 1_000_000],
      ['440103', 500_000],
      ['440103001', 200_000],
      ['440103001001', COST * 50],
    ]);
    // 200 submitted orders, set up in batches (sequential on PGlite anyway).
    const submitted: any[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const drafts = await Promise.all(
        Array.from({ length: 20 }, () =>
          placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId, windowStart: `${year}-05-01`, windowEnd: `${year}-05-31` }),
        ),
      );
      const replies = await Promise.all(drafts.map((o) => act(call, unit.operator, o, 'submit')));
      for (const r of replies) {
        expect(r.status).toBe(200);
        expect(r.body.approvalChain).toEqual(['440103001']);
        submitted.push(r.body);
      }
    }
    const auditBefore = await countRows(app, auditLog, eq(auditLog.action, 'order.approve'));

    const replies = await Promise.all(submitted.map((o) => act(call, streetOperator, o, 'approve')));

    expect(tally(replies)).toEqual({ 200: 50, '409 BUDGET_EXCEEDED': 150 });
    for (const r of replies.filter((x) => x.status === 200)) expect(r.body).toMatchObject({ status: 'approved', approvedSteps: 1 });

    const budget = await call(streetOperator, 'GET', `/v1/budgets/${year}/440103001001`);
    expect(budget.body).toMatchObject({ allocated: COST * 50, reserved: COST * 50, spent: 0, available: 0 });

    const rows = await app.diandan.database.db
      .select({ status: orders.status, approvedSteps: orders.approvedSteps, reservedAmount: orders.reservedAmount })
      .from(orders)
      .where(eq(orders.budgetYear, year));
    expect(rows).toHaveLength(200);
    const approved = rows.filter((r) => r.status === 'approved');
    const rest = rows.filter((r) => r.status !== 'approved');
    expect(approved).toHaveLength(50);
    expect(approved.every((r) => r.approvedSteps === 1 && r.reservedAmount === COST)).toBe(true);
    expect(rest).toHaveLength(150);
    expect(rest.every((r) => r.status === 'submitted' && r.approvedSteps === 0 && r.reservedAmount === 0)).toBe(true);
    // Refused approvals left no trace in the audit log either.
    expect((await countRows(app, auditLog, eq(auditLog.action, 'order.approve'))) - auditBefore).toBe(50);
    const [stored] = await app.diandan.database.db
      .select({ reserved: budgets.reserved })
      .from(budgets)
      .where(and(eq(budgets.regionCode, '440103001001'), eq(budgets.year, year)));
    expect(stored!.reserved).toBe(COST * 50);
  });

  it('20 concurrent PUT /v1/products/{id} with the same If-Match: one wins, the rest are 412', async () => {
    const draft = await draftProduct(call, supplier);
    const replies = await all(20, (i) =>
      call(supplier, 'PUT', `/v1/products/${draft.id}`, productContent({ title: `并发修改${i}` }), ifMatch(draft)),
    );
    expect(tally(replies)).toEqual({ 200: 1, '412 PRECONDITION_FAILED': 19 });
    for (const r of replies.filter((x) => x.status === 412)) expectProblem(r, 412, 'PRECONDITION_FAILED');
    const winner = replies.find((r) => r.status === 200)!.body;
    const now = await call(supplier, 'GET', `/v1/products/${draft.id}`);
    expect(now.body).toMatchObject({ title: winner.title, version: draft.version + 1, contentVersion: 2 });
    expect(await countRows(app, productVersions, eq(productVersions.productId, draft.id))).toBe(2);
  });

  it('20 concurrent PUT /v1/budgets/{year}/{region} with the same If-Match: one wins, the rest are 412', async () => {
    const year = 2031;
    await allocate(call, year, [
      ['440100', 1_000_000],
      ['440103', 500_000],
    ]);
    const current = await call(cityAdmin, 'GET', `/v1/budgets/${year}/440103`);
    const replies = await all(20, (i) => call(cityAdmin, 'PUT', `/v1/budgets/${year}/440103`, { allocated: 400_000 + i }, ifMatch(current.body)));
    expect(tally(replies)).toEqual({ 200: 1, '412 PRECONDITION_FAILED': 19 });
    const winner = replies.find((r) => r.status === 200)!.body;
    const now = await call(cityAdmin, 'GET', `/v1/budgets/${year}/440103`);
    expect(now.body).toMatchObject({ allocated: winner.allocated, version: current.body.version + 1 });
    expect(await countRows(app, auditLog, and(eq(auditLog.entityId, `440103/${year}`), eq(auditLog.action, 'budget.allocate')))).toBe(2);
  });

  it('20 concurrent answers on one feedback token: exactly one counts', async () => {
    const year = 2032;
    await allocate(call, year, [
      ['440100', 100_000],
      ['440103', 100_000],
      ['440103001', 100_000],
      ['440103001001', 100_000],
    ]);
    let order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId, windowStart: `${year}-06-01`, windowEnd: `${year}-06-30` });
    for (const [who, action, body] of [
      [unit.operator, 'submit', undefined],
      [streetOperator, 'approve', undefined],
      [supplier, 'schedule', { scheduledOn: `${year}-06-10` }],
      [supplier, 'deliver', { deliveredOn: `${year}-06-10`, actualAudience: 80 }],
    ] as const) {
      const res = await act(call, who, order, action, body);
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
      order = res.body;
    }
    const minted = await call(unit.operator, 'POST', `/v1/orders/${order.id}/feedback-tokens`, { count: 1 });
    expect(minted.status).toBe(201);
    const [token] = minted.body.tokens as string[];

    const replies = await all(20, (i) => call(null, 'POST', `/v1/feedback/${token}`, { rating: (i % 5) + 1 }));

    expect(tally(replies)).toEqual({ 204: 1, '404 FEEDBACK_TOKEN_INVALID': 19 });
    expect(await countRows(app, feedback, eq(feedback.orderId, order.id))).toBe(1);
    const summary = await call(unit.operator, 'GET', `/v1/orders/${order.id}/feedback-summary`);
    expect(summary.body.responses).toBe(1);
  });
});
