/**
 * The rules of orders and budgets, through HTTP: the lifecycle refuses what it does
 * not allow and changes nothing, only the right people act, reservations follow the
 * order, the approval chain can be changed by a plugin, lists show what each caller
 * may see, and budgets flow down the tree without ever exceeding the parent.
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
  reviewProduct,
  seedRegions,
  testActors,
  type Call,
  type Reply,
  type Who,
} from '@diandan/testing';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityApproval } from './fixtures/city-approval/plugin.js';
import { countRows, expectProblem } from './support.js';

const { cityAdmin, communityOperator, districtAdmin, otherCommunityOperator, otherDistrictAdmin, otherStreetOperator, reviewer, streetOperator } = testActors;

const { auditLog } = kernelTables;

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let otherSupplier: Who;
let unit: { id: string; operator: Who };
let otherUnit: { id: string; operator: Who };
let yuexiuUnit: { id: string; operator: Who };
let venue: string;
let otherVenue: string;
let yuexiuVenue: string;
let product: any;
let otherSuppliersProduct: any;
let bigProduct: any;
let yuexiuProduct: any;

const YEAR = 2027;
const COST = 1000;

beforeAll(async () => {
  // Orders costing 10,000 or more also need the city's approval (fixture plugin).
  app = await createTestServer({ plugins: [cityApproval({ fromCost: 10_000 })] });
  await seedRegions(app);
  call = client(app);
  supplier = await addSupplier(call, '示范粤剧团（虚构）', 'troupe-a');
  otherSupplier = await addSupplier(call, '示范话剧团（虚构）', 'troupe-b');
  unit = await addUnit(call, '440103001001', '测试社区文化室', 'unit-op-a');
  otherUnit = await addUnit(call, '440103001002', '测试社区乙文化室', 'unit-op-b');
  yuexiuUnit = await addUnit(call, '440104', '越秀文化站', 'unit-op-y');
  venue = await addVenue(call, '440103001001', 120);
  otherVenue = await addVenue(call, '440103001002', 120);
  yuexiuVenue = await addVenue(call, '440104', 300);
  product = await listedProduct(call, supplier, { costPerSession: COST });
  otherSuppliersProduct = await listedProduct(call, otherSupplier, { title: '话剧专场', costPerSession: COST });
  bigProduct = await listedProduct(call, supplier, { title: '大型交响音乐会', costPerSession: 20_000, serviceableRegions: ['440100'] });
  yuexiuProduct = await listedProduct(call, supplier, { title: '越秀专场', costPerSession: COST, serviceableRegions: ['440104'] });
  await allocate(call, YEAR, [
    ['440100', 2_000_000],
    ['440103', 1_000_000],
    ['440104', 100_000],
    ['440103001', 600_000],
    ['440103001001', 400_000],
    ['440103001002', 100_000],
  ]);
});
afterAll(() => app?.close());

type State = 'draft' | 'submitted' | 'approving' | 'approved' | 'scheduled' | 'delivered' | 'closed' | 'rejected' | 'cancelled';

/** The path to each state, each step by its usual actor. */
const PATHS: Record<State, readonly (readonly [() => Who, string, object?])[]> = {
  draft: [],
  submitted: [[() => unit.operator, 'submit']],
  approving: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
  ],
  approved: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => districtAdmin, 'approve'],
  ],
  scheduled: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => districtAdmin, 'approve'],
    [() => supplier, 'schedule', { scheduledOn: '2027-03-15' }],
  ],
  delivered: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => districtAdmin, 'approve'],
    [() => supplier, 'schedule', { scheduledOn: '2027-03-15' }],
    [() => supplier, 'deliver', { deliveredOn: '2027-03-15', actualAudience: 90 }],
  ],
  closed: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => districtAdmin, 'approve'],
    [() => supplier, 'schedule', { scheduledOn: '2027-03-15' }],
    [() => supplier, 'deliver', { deliveredOn: '2027-03-15', actualAudience: 90 }],
    [() => unit.operator, 'close'],
  ],
  rejected: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => districtAdmin, 'reject', { reason: '与辖区活动安排冲突' }],
  ],
  cancelled: [
    [() => unit.operator, 'submit'],
    [() => streetOperator, 'approve'],
    [() => unit.operator, 'cancel', { reason: '场地维修' }],
  ],
};

/** An order of `unit` for `product`, brought to `state`. */
async function orderIn(state: State, spec: { productId?: string; windowStart?: string; windowEnd?: string } = {}): Promise<any> {
  let order = await placeOrder(call, unit.operator, { unitId: unit.id, venueId: venue, productId: product.id, ...spec });
  for (const [who, action, body] of PATHS[state]) {
    const res = await act(call, who(), order, action, body);
    expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
    order = res.body;
  }
  expect(order.status).toBe(state);
  return order;
}

async function getOrder(id: string): Promise<any> {
  const res = await call(cityAdmin, 'GET', `/v1/orders/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function budget(region: string, year = YEAR): Promise<any> {
  const res = await call(cityAdmin, 'GET', `/v1/budgets/${year}/${region}`);
  expect(res.status).toBe(200);
  return res.body;
}

const auditOf = (id: string) => countRows(app, auditLog, eq(auditLog.entityId, id));

/** Every order `who` sees in `GET /v1/orders?<query>`, across pages. */
async function listAll(who: Who, query = ''): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res: Reply = await call(who, 'GET', `/v1/orders?limit=20${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

const delivery = { deliveredOn: '2027-03-15', actualAudience: 90 };

describe('the order lifecycle', () => {
  const invalid: [State, string, () => Who, object?][] = [
    ['draft', 'schedule', () => supplier, { scheduledOn: '2027-03-15' }],
    ['draft', 'approve', () => streetOperator],
    ['draft', 'reject', () => districtAdmin, { reason: '不符合要求' }],
    ['draft', 'deliver', () => supplier, delivery],
    ['draft', 'close', () => unit.operator],
    ['submitted', 'submit', () => unit.operator],
    ['submitted', 'schedule', () => supplier, { scheduledOn: '2027-03-15' }],
    ['approving', 'submit', () => unit.operator],
    ['approving', 'close', () => unit.operator],
    ['approved', 'deliver', () => supplier, delivery],
    ['approved', 'approve', () => districtAdmin],
    ['approved', 'reject', () => streetOperator, { reason: '太迟了' }],
    ['approved', 'close', () => unit.operator],
    ['scheduled', 'close', () => unit.operator],
    ['scheduled', 'schedule', () => supplier, { scheduledOn: '2027-03-16' }],
    ['delivered', 'cancel', () => unit.operator, { reason: '不想要了' }],
    ['delivered', 'deliver', () => supplier, delivery],
    ['closed', 'close', () => unit.operator],
    ['closed', 'cancel', () => districtAdmin, { reason: '撤销' }],
    ['rejected', 'submit', () => unit.operator],
    ['rejected', 'approve', () => streetOperator],
    ['rejected', 'cancel', () => unit.operator, { reason: '撤销' }],
    ['cancelled', 'cancel', () => unit.operator, { reason: '再撤销' }],
    ['cancelled', 'approve', () => streetOperator],
  ];

  it.each(invalid)('%s → %s: 409 INVALID_TRANSITION, nothing changes', async (state, action, who, body) => {
    const order = await orderIn(state);
    const before = { order: await getOrder(order.id), budget: await budget('440103001001'), audit: await auditOf(order.id) };
    const res = await act(call, who(), order, action, body);
    expectProblem(res, 409, 'INVALID_TRANSITION');
    expect(res.body.details).toMatchObject({ state });
    expect(await getOrder(order.id)).toEqual(before.order);
    expect(await budget('440103001001')).toEqual(before.budget);
    expect(await auditOf(order.id)).toBe(before.audit);
  });

  it('needs If-Match on every action: missing → 428, stale → 412, and nothing changes', async () => {
    const order = await orderIn('draft');
    const missing = await call(unit.operator, 'POST', `/v1/orders/${order.id}/submit`);
    expectProblem(missing, 428, 'PRECONDITION_REQUIRED');
    const garbage = await call(unit.operator, 'POST', `/v1/orders/${order.id}/submit`, undefined, { 'if-match': 'yesterday' });
    expectProblem(garbage, 412, 'PRECONDITION_FAILED');
    const submitted = await act(call, unit.operator, order, 'submit');
    expect(submitted.status).toBe(200);
    const stale = await act(call, unit.operator, order, 'cancel', { reason: '旧版本' });
    expectProblem(stale, 412, 'PRECONDITION_FAILED');
    expect(await getOrder(order.id)).toMatchObject({ status: 'submitted', version: submitted.body.version });
    // The ETag of a read is the one to send.
    const read = await call(unit.operator, 'GET', `/v1/orders/${order.id}`);
    expect(read.etag).toBe(`"v${submitted.body.version}"`);
    const fresh = await call(unit.operator, 'POST', `/v1/orders/${order.id}/cancel`, { reason: '改期' }, { 'if-match': read.etag! });
    expect(fresh.status).toBe(200);
  });
});

describe('who may act on an order', () => {
  // [state the order is in, action, who, expected status]
  const table: [State, string, string, () => Who, number][] = [
    ['draft', 'submit', 'its unit operator', () => unit.operator, 200],
    ['draft', 'submit', 'the community operator over it', () => communityOperator, 200],
    ['draft', 'submit', 'the district admin over it', () => districtAdmin, 200],
    ['draft', 'submit', 'another unit’s operator', () => otherUnit.operator, 404],
    ['draft', 'submit', 'the next community’s operator', () => otherCommunityOperator, 404],
    ['draft', 'submit', 'the product’s supplier', () => supplier, 403],
    ['draft', 'submit', 'a reviewer', () => reviewer, 404],
    ['submitted', 'approve', 'the street operator (first in the chain)', () => streetOperator, 200],
    ['submitted', 'approve', 'the district admin, before the street', () => districtAdmin, 403],
    ['submitted', 'approve', 'the city admin (not in the chain)', () => cityAdmin, 403],
    ['submitted', 'approve', 'the operator of another street', () => otherStreetOperator, 404],
    ['submitted', 'approve', 'the admin of another district', () => otherDistrictAdmin, 404],
    ['submitted', 'approve', 'the community operator', () => communityOperator, 403],
    ['submitted', 'approve', 'its unit operator', () => unit.operator, 403],
    ['submitted', 'approve', 'the product’s supplier', () => supplier, 403],
    ['draft', 'approve', 'its unit operator (never an approver)', () => unit.operator, 403],
    ['approved', 'approve', 'the product’s supplier (never an approver)', () => supplier, 403],
    ['approving', 'approve', 'the district admin (next in the chain)', () => districtAdmin, 200],
    ['approving', 'approve', 'the street operator again', () => streetOperator, 403],
    ['submitted', 'reject', 'the street operator', () => streetOperator, 200],
    ['submitted', 'reject', 'the district admin, before the street', () => districtAdmin, 403],
    ['approving', 'reject', 'the district admin', () => districtAdmin, 200],
    ['approving', 'reject', 'the street operator, who already approved', () => streetOperator, 403],
    ['approved', 'schedule', 'the product’s supplier', () => supplier, 200],
    ['approved', 'schedule', 'another supplier', () => otherSupplier, 404],
    ['approved', 'schedule', 'its unit operator', () => unit.operator, 403],
    ['approved', 'schedule', 'the district admin', () => districtAdmin, 403],
    ['scheduled', 'deliver', 'the product’s supplier', () => supplier, 200],
    ['scheduled', 'deliver', 'its unit operator', () => unit.operator, 200],
    ['scheduled', 'deliver', 'the street operator', () => streetOperator, 403],
    ['scheduled', 'deliver', 'another supplier', () => otherSupplier, 404],
    ['delivered', 'close', 'its unit operator', () => unit.operator, 200],
    ['delivered', 'close', 'the street operator over it', () => streetOperator, 200],
    ['delivered', 'close', 'the product’s supplier', () => supplier, 403],
    ['approved', 'cancel', 'its unit operator', () => unit.operator, 200],
    ['approved', 'cancel', 'the district admin over it', () => districtAdmin, 200],
    ['approved', 'cancel', 'the product’s supplier', () => supplier, 403],
    ['approved', 'cancel', 'another unit’s operator', () => otherUnit.operator, 404],
  ];
  const bodies: Record<string, object | undefined> = {
    reject: { reason: '预算安排调整' },
    cancel: { reason: '活动取消' },
    schedule: { scheduledOn: '2027-03-20' },
    deliver: delivery,
  };

  it.each(table)('a %s order: %s by %s → %i', async (state, action, _name, who, expected) => {
    const order = await orderIn(state);
    const res = await act(call, who(), order, action, bodies[action]);
    expect(res.status, JSON.stringify(res.body)).toBe(expected);
    if (expected === 403) expectProblem(res, 403, 'FORBIDDEN');
    if (expected === 404) expectProblem(res, 404, 'ORDER_NOT_FOUND');
    if (expected !== 200) expect(await getOrder(order.id)).toMatchObject({ status: state, version: order.version });
  });

  it('says whose approval is awaited when someone else tries', async () => {
    const order = await orderIn('submitted');
    const res = await act(call, districtAdmin, order, 'approve');
    expectProblem(res, 403, 'FORBIDDEN');
    expect(res.body.details).toEqual({ awaitingApprovalBy: '440103001' });
  });

  it('hides an order from whoever may not see it', async () => {
    const order = await orderIn('submitted');
    for (const who of [otherUnit.operator, otherSupplier, otherStreetOperator, otherDistrictAdmin, reviewer]) {
      expectProblem(await call(who, 'GET', `/v1/orders/${order.id}`), 404, 'ORDER_NOT_FOUND');
    }
    for (const who of [unit.operator, supplier, streetOperator, communityOperator, districtAdmin, cityAdmin]) {
      expect((await call(who, 'GET', `/v1/orders/${order.id}`)).status).toBe(200);
    }
  });

  it('lets units order only for themselves, and staff only within their subtree', async () => {
    const spec = orderBody({ unitId: unit.id, productId: product.id, venueId: venue });
    expectProblem(await call(otherUnit.operator, 'POST', '/v1/orders', spec), 404, 'UNIT_NOT_FOUND');
    expectProblem(await call(otherStreetOperator, 'POST', '/v1/orders', spec), 404, 'UNIT_NOT_FOUND');
    expectProblem(await call(supplier, 'POST', '/v1/orders', spec), 403, 'FORBIDDEN');
    // A unit's operator cannot use a venue outside its region.
    expectProblem(
      await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: otherVenue })),
      404,
      'VENUE_NOT_FOUND',
    );
    expect((await call(streetOperator, 'POST', '/v1/orders', spec)).status).toBe(201);
  });
});

describe('reservations and ordering rules', () => {
  it('reject needs a reason and releases the reservation', async () => {
    const before = await budget('440103001001');
    const order = await orderIn('approving');
    expect(await budget('440103001001')).toMatchObject({ reserved: before.reserved + COST, available: before.available - COST });

    const noBody = await act(call, districtAdmin, order, 'reject');
    expectProblem(noBody, 400, 'VALIDATION_FAILED');
    const empty = await act(call, districtAdmin, order, 'reject', {});
    expectProblem(empty, 400, 'VALIDATION_FAILED');
    expect(empty.body.errors).toEqual([expect.objectContaining({ field: 'body.reason' })]);
    const blank = await act(call, districtAdmin, order, 'reject', { reason: '   ' });
    expectProblem(blank, 422, 'REASON_REQUIRED');
    expect(await getOrder(order.id)).toMatchObject({ status: 'approving', version: order.version });

    const rejected = await act(call, districtAdmin, order, 'reject', { reason: '同期已有类似活动' });
    expect(rejected.body).toMatchObject({ status: 'rejected', rejectionReason: '同期已有类似活动', awaitingApprovalBy: null });
    expect(await budget('440103001001')).toMatchObject({ reserved: before.reserved, available: before.available });
    const [row] = await app.diandan.database.db.select().from(kernelTables.orders).where(eq(kernelTables.orders.id, order.id));
    expect(row!.reservedAmount).toBe(0);
  });

  it('reject before any approval releases nothing (nothing was reserved)', async () => {
    const before = await budget('440103001001');
    const order = await orderIn('submitted');
    const res = await act(call, streetOperator, order, 'reject', { reason: '需求不符' });
    expect(res.status).toBe(200);
    expect(await budget('440103001001')).toMatchObject({ reserved: before.reserved, available: before.available });
  });

  it('cancel after approval releases the reservation; cancel needs a reason too', async () => {
    const before = await budget('440103001001');
    const order = await orderIn('scheduled');
    expect((await budget('440103001001')).reserved).toBe(before.reserved + COST);
    expectProblem(await act(call, unit.operator, order, 'cancel'), 400, 'VALIDATION_FAILED');
    expectProblem(await act(call, unit.operator, order, 'cancel', { reason: ' ' }), 422, 'REASON_REQUIRED');
    const res = await act(call, unit.operator, order, 'cancel', { reason: '场地临时征用' });
    expect(res.body).toMatchObject({ status: 'cancelled', cancellationReason: '场地临时征用' });
    expect(await budget('440103001001')).toMatchObject({ reserved: before.reserved, spent: before.spent });
  });

  it('delivery settles the reservation as spending', async () => {
    const before = await budget('440103001001');
    await orderIn('delivered');
    expect(await budget('440103001001')).toMatchObject({ reserved: before.reserved, spent: before.spent + COST, available: before.available - COST });
  });

  it('schedules only inside the ordered window: 422 SCHEDULE_OUTSIDE_WINDOW', async () => {
    const order = await orderIn('approved');
    for (const day of ['2027-02-28', '2027-04-01', '2028-03-15']) {
      expectProblem(await act(call, supplier, order, 'schedule', { scheduledOn: day }), 422, 'SCHEDULE_OUTSIDE_WINDOW');
    }
    expectProblem(await act(call, supplier, order, 'schedule', { scheduledOn: '15/03/2027' }), 400, 'VALIDATION_FAILED');
    for (const day of ['2027-03-01', '2027-03-31']) {
      const fresh = await orderIn('approved');
      expect((await act(call, supplier, fresh, 'schedule', { scheduledOn: day })).status).toBe(200);
    }
    expect(await getOrder(order.id)).toMatchObject({ status: 'approved', scheduledOn: null });
  });

  it('refuses an audience larger than the venue: 422 VENUE_TOO_SMALL', async () => {
    const spec = { unitId: unit.id, productId: product.id, venueId: venue };
    expectProblem(await call(unit.operator, 'POST', '/v1/orders', orderBody({ ...spec, expectedAudience: 121 })), 422, 'VENUE_TOO_SMALL');
    expect((await call(unit.operator, 'POST', '/v1/orders', orderBody({ ...spec, expectedAudience: 120 }))).status).toBe(201);
  });

  it('refuses a product that does not serve the unit’s region: 422 PRODUCT_NOT_SERVED_HERE', async () => {
    expectProblem(
      await call(yuexiuUnit.operator, 'POST', '/v1/orders', orderBody({ unitId: yuexiuUnit.id, productId: product.id, venueId: yuexiuVenue })),
      422,
      'PRODUCT_NOT_SERVED_HERE',
    );
    expectProblem(
      await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: yuexiuProduct.id, venueId: venue })),
      422,
      'PRODUCT_NOT_SERVED_HERE',
    );
    // A product serving the whole city serves every community.
    expect((await call(yuexiuUnit.operator, 'POST', '/v1/orders', orderBody({ unitId: yuexiuUnit.id, productId: bigProduct.id, venueId: yuexiuVenue }))).status).toBe(201);
  });

  it('refuses a window that ends before it starts: 422 ORDER_INVALID', async () => {
    const res = await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: venue, windowStart: '2027-04-01', windowEnd: '2027-03-01' }));
    expectProblem(res, 422, 'ORDER_INVALID');
  });

  it('orders only listed products: 404 for drafts, products under review, delisted and unknown ones', async () => {
    const draft = await draftProduct(call, supplier);
    const inReview = await reviewProduct(call, supplier, await draftProduct(call, supplier), ['submit', 'start-review']);
    const delisted = await reviewProduct(call, supplier, await draftProduct(call, supplier), ['submit', 'start-review', 'list', 'delist']);
    for (const id of [draft.id, inReview.id, delisted.id, '00000000-0000-4000-8000-000000000000']) {
      expectProblem(await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: id, venueId: venue })), 404, 'PRODUCT_NOT_FOUND');
    }
  });

  it('approves only within an allocated budget: 409 BUDGET_NOT_ALLOCATED, and BUDGET_EXCEEDED when it does not fit', async () => {
    const unfunded = await orderIn('submitted', { windowStart: '2029-03-01', windowEnd: '2029-03-31' });
    expect(unfunded.budgetYear).toBe(2029);
    expectProblem(await act(call, streetOperator, unfunded, 'approve'), 409, 'BUDGET_NOT_ALLOCATED');
    expect(await getOrder(unfunded.id)).toMatchObject({ status: 'submitted', approvedSteps: 0, version: unfunded.version });

    // The other community has 100,000 — not enough for a 20,000 product six times.
    const spend: any[] = [];
    for (let i = 0; i < 6; i++) {
      let order = await placeOrder(call, otherUnit.operator, { unitId: otherUnit.id, productId: bigProduct.id, venueId: otherVenue });
      order = (await act(call, otherUnit.operator, order, 'submit')).body;
      spend.push(await act(call, streetOperator, order, 'approve'));
    }
    expect(spend.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 409]);
    expectProblem(spend[5], 409, 'BUDGET_EXCEEDED');
    expect(spend[5].body.details).toEqual({ available: 0, needed: 20_000 });
  });
});

describe('the order.approvalChain filter', () => {
  it('lets a plugin add the city to the chain of expensive orders, whose approval is then needed too', async () => {
    let order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: bigProduct.id, venueId: venue });
    order = (await act(call, unit.operator, order, 'submit')).body;
    expect(order).toMatchObject({ status: 'submitted', approvalChain: ['440103001', '440103', '440100'], awaitingApprovalBy: '440103001' });

    order = (await act(call, streetOperator, order, 'approve')).body;
    expectProblem(await act(call, cityAdmin, order, 'approve'), 403, 'FORBIDDEN');
    order = (await act(call, districtAdmin, order, 'approve')).body;
    expect(order).toMatchObject({ status: 'approving', approvedSteps: 2, awaitingApprovalBy: '440100' });
    // The district's approval is no longer final: the supplier cannot schedule yet.
    expectProblem(await act(call, supplier, order, 'schedule', { scheduledOn: '2027-03-15' }), 409, 'INVALID_TRANSITION');
    expectProblem(await act(call, districtAdmin, order, 'approve'), 403, 'FORBIDDEN');
    const awaiting = await listAll(cityAdmin, '&awaitingMyApproval=true');
    expect(awaiting.map((o) => o.id)).toContain(order.id);

    order = (await act(call, cityAdmin, order, 'approve')).body;
    expect(order).toMatchObject({ status: 'approved', approvedSteps: 3, awaitingApprovalBy: null });
  });

  it('leaves cheaper orders on the default chain', async () => {
    const order = await orderIn('submitted');
    expect(order.approvalChain).toEqual(['440103001', '440103']);
  });
});

describe('GET /v1/orders', () => {
  let mine: any;
  let theirs: any;
  let neighbours: any;
  let yuexiu: any;

  beforeAll(async () => {
    mine = await orderIn('submitted');
    theirs = await placeOrder(call, unit.operator, { unitId: unit.id, productId: otherSuppliersProduct.id, venueId: venue });
    neighbours = await placeOrder(call, otherUnit.operator, { unitId: otherUnit.id, productId: product.id, venueId: otherVenue });
    yuexiu = await placeOrder(call, yuexiuUnit.operator, { unitId: yuexiuUnit.id, productId: yuexiuProduct.id, venueId: yuexiuVenue });
  });

  const ids = (orders: any[]) => orders.map((o) => o.id);

  it('shows a supplier only its own orders', async () => {
    const a = await listAll(supplier);
    expect(a.every((o) => o.supplierId === supplier.supplier)).toBe(true);
    expect(ids(a)).toEqual(expect.arrayContaining([mine.id, neighbours.id, yuexiu.id]));
    expect(ids(a)).not.toContain(theirs.id);
    const b = await listAll(otherSupplier);
    expect(ids(b)).toEqual([theirs.id]);
  });

  it('shows a unit operator only its unit’s orders', async () => {
    const own = await listAll(unit.operator);
    expect(own.every((o) => o.unitId === unit.id)).toBe(true);
    expect(ids(own)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect(ids(await listAll(yuexiuUnit.operator))).toEqual(expect.arrayContaining([yuexiu.id]));
    expect((await listAll(yuexiuUnit.operator)).every((o) => o.unitId === yuexiuUnit.id)).toBe(true);
    // Asking for another unit's orders finds none.
    expect(await listAll(unit.operator, `&unitId=${otherUnit.id}`)).toEqual([]);
  });

  it('shows staff their subtree', async () => {
    const street = ids(await listAll(streetOperator));
    expect(street).toEqual(expect.arrayContaining([mine.id, theirs.id, neighbours.id]));
    expect(street).not.toContain(yuexiu.id);
    const community = ids(await listAll(communityOperator));
    expect(community).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    expect(community).not.toContain(neighbours.id);
    expect(ids(await listAll(otherDistrictAdmin))).toEqual(expect.arrayContaining([yuexiu.id]));
    expect((await listAll(otherDistrictAdmin)).every((o) => o.regionCode === '440104')).toBe(true);
    expect(await listAll(otherStreetOperator)).toEqual([]);
    const city = ids(await listAll(cityAdmin));
    expect(city).toEqual(expect.arrayContaining([mine.id, theirs.id, neighbours.id, yuexiu.id]));
    expect(await listAll(reviewer)).toEqual([]);
  });

  it('filters by status and unit', async () => {
    const drafts = await listAll(districtAdmin, '&status=draft');
    expect(drafts.every((o) => o.status === 'draft')).toBe(true);
    expect(ids(drafts)).toEqual(expect.arrayContaining([theirs.id, neighbours.id]));
    expect(ids(drafts)).not.toContain(mine.id);
    const byUnit = await listAll(districtAdmin, `&unitId=${otherUnit.id}`);
    expect(byUnit.every((o) => o.unitId === otherUnit.id)).toBe(true);
  });

  it('awaitingMyApproval=true lists what waits for the caller’s own region', async () => {
    const forStreet = await listAll(streetOperator, '&awaitingMyApproval=true');
    expect(forStreet.every((o) => o.awaitingApprovalBy === '440103001')).toBe(true);
    expect(ids(forStreet)).toContain(mine.id);
    let forDistrict = await listAll(districtAdmin, '&awaitingMyApproval=true');
    expect(forDistrict.every((o) => o.awaitingApprovalBy === '440103')).toBe(true);
    expect(ids(forDistrict)).not.toContain(mine.id);

    const approved = await act(call, streetOperator, mine, 'approve');
    expect(ids(await listAll(streetOperator, '&awaitingMyApproval=true'))).not.toContain(mine.id);
    forDistrict = await listAll(districtAdmin, '&awaitingMyApproval=true');
    expect(ids(forDistrict)).toContain(mine.id);
    await act(call, districtAdmin, approved.body, 'approve');
    expect(ids(await listAll(districtAdmin, '&awaitingMyApproval=true'))).not.toContain(mine.id);
    // Nothing waits for a unit operator or a supplier.
    expect(await listAll(unit.operator, '&awaitingMyApproval=true')).toEqual([]);
  });
});

describe('budget rules', () => {
  const Y = 2028;
  const put = (who: Who, region: string, allocated: number, headers: Record<string, string> = {}) =>
    call(who, 'PUT', `/v1/budgets/${Y}/${region}`, { allocated }, headers);

  beforeAll(async () => {
    await allocate(call, Y, [
      ['440100', 100_000],
      ['440103', 60_000],
      ['440104', 30_000],
    ]);
  });

  it('a child’s allocation cannot push the children’s total above the parent: 409 BUDGET_EXCEEDS_PARENT', async () => {
    const res = await put(districtAdmin, '440103001', 60_001);
    expectProblem(res, 409, 'BUDGET_EXCEEDS_PARENT');
    expect(res.body.details).toEqual({ available: 60_000 });
    expect((await put(districtAdmin, '440103001', 40_000)).status).toBe(200);
    expectProblem(await put(districtAdmin, '440103002', 20_001), 409, 'BUDGET_EXCEEDS_PARENT');
    expect((await put(districtAdmin, '440103002', 20_000)).status).toBe(200);
    // Raising a sibling that already has a budget is held to the same sum.
    const district = await budget('440104', Y);
    expectProblem(await put(cityAdmin, '440104', 40_001, ifMatch(district)), 409, 'BUDGET_EXCEEDS_PARENT');
    expect((await put(cityAdmin, '440104', 40_000, ifMatch(district))).status).toBe(200);
    expect(await budget('440100', Y)).toMatchObject({ allocated: 100_000, allocatedToChildren: 100_000, available: 0 });
    expect(await budget('440103', Y)).toMatchObject({ allocatedToChildren: 60_000, available: 0 });
  });

  it('a budget cannot be lowered below what it committed: 409 BUDGET_BELOW_COMMITMENTS', async () => {
    const district = await budget('440103', Y);
    const res = await put(cityAdmin, '440103', 59_999, ifMatch(district));
    expectProblem(res, 409, 'BUDGET_BELOW_COMMITMENTS');
    expect(res.body.details).toEqual({ committed: 60_000 });

    // Reservations count as commitments too.
    expect((await put(streetOperator, '440103001001', 5_000)).status).toBe(200);
    let order = await orderIn('submitted', { windowStart: `${Y}-03-01`, windowEnd: `${Y}-03-31` });
    order = (await act(call, streetOperator, order, 'approve')).body;
    expect(order.approvedSteps).toBe(1);
    const community = await budget('440103001001', Y);
    expect(community).toMatchObject({ allocated: 5_000, reserved: COST, available: 4_000 });
    expectProblem(await put(streetOperator, '440103001001', COST - 1, ifMatch(community)), 409, 'BUDGET_BELOW_COMMITMENTS');
    expect((await put(streetOperator, '440103001001', COST, ifMatch(community))).body).toMatchObject({ allocated: COST, available: 0 });
  });

  it('changing an existing budget needs If-Match: missing → 428, stale → 412', async () => {
    const before = await budget('440103', Y);
    expectProblem(await put(cityAdmin, '440103', 50_000), 428, 'PRECONDITION_REQUIRED');
    expectProblem(await put(cityAdmin, '440103', 50_000, { 'if-match': `"v${before.version - 1}"` }), 412, 'PRECONDITION_FAILED');
    expectProblem(await put(cityAdmin, '440103', 50_000, { 'if-match': 'W/"x"' }), 412, 'PRECONDITION_FAILED');
    expect(await budget('440103', Y)).toEqual(before);
  });

  it('only staff of the parent region allocate; out-of-scope budgets are not found', async () => {
    // Allocating to one's own region is the parent's job.
    expectProblem(await put(streetOperator, '440103001', 1), 403, 'FORBIDDEN');
    expectProblem(await put(districtAdmin, '440103', 1), 403, 'FORBIDDEN');
    expectProblem(await put(districtAdmin, '440100', 1), 404, 'REGION_NOT_FOUND');
    expectProblem(await put(communityOperator, '440103001001', 1), 403, 'FORBIDDEN');
    // Another district's budget is invisible.
    expectProblem(await call(districtAdmin, 'GET', `/v1/budgets/${Y}/440104`), 404, 'REGION_NOT_FOUND');
    expectProblem(await put(districtAdmin, '440104', 1), 404, 'REGION_NOT_FOUND');
    expectProblem(await put(otherStreetOperator, '440103001001', 1), 404, 'REGION_NOT_FOUND');
    expectProblem(await call(otherStreetOperator, 'GET', `/v1/budgets/${Y}/440103001`), 404, 'REGION_NOT_FOUND');
    expect((await call(districtAdmin, 'GET', `/v1/budgets/${Y}/440103001`)).status).toBe(200);
    // Units and suppliers do not handle budgets.
    expectProblem(await call(unit.operator, 'GET', `/v1/budgets/${Y}/440103001001`), 403, 'FORBIDDEN');
    expectProblem(await call(supplier, 'PUT', `/v1/budgets/${Y}/440103001002`, { allocated: 1 }), 403, 'FORBIDDEN');
    // A region whose parent has no budget that year has nothing to allocate from.
    expectProblem(await put(cityAdmin, '440103002001', 1), 404, 'REGION_NOT_FOUND');
    expectProblem(await call(cityAdmin, 'PUT', `/v1/budgets/2035/440103`, { allocated: 1 }), 409, 'BUDGET_NOT_ALLOCATED');
  });

  it('lists a subtree’s budgets for staff', async () => {
    const res = await call(districtAdmin, 'GET', `/v1/budgets/${Y}`);
    expect(res.status).toBe(200);
    const regions = res.body.items.map((b: { regionCode: string }) => b.regionCode);
    expect(regions).toEqual(['440103', '440103001', '440103001001', '440103002']);
  });
});
