import { ROLES, type Role } from '@diandan/kernel';
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
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const { cityAdmin, districtAdmin, otherDistrictAdmin, streetOperator } = testActors;
const HOME = '440103001001';

// ---------------------------------------------------------------------------------
// Authorization matrix of the ordering loop: products, budgets, orders, feedback.
// Every staff role signs in at its own level above community 440103001001 ("home"):
// the district admin at 440103, the street operator at 440103001, the community operator
// at 440103001001, the city admin at 440100 (which covers both districts); the unit
// operator at its unit's community; "other" is district 440104.
//
// - Orders and feedback: the place is the region of the ordering unit (a unit in
//   440103001001 or in 440104; both order the same listed product of the matrix
//   supplier). The home unit's approval chain is its street, then its district.
//   The unit operator's token names the home unit; the supplier's token names the
//   product's supplier, so a supplier follows its own orders wherever they are.
// - Budgets: the place is the region read or written (440103001001 against 440104).
// - Products are not region-scoped: a product belongs to a supplier and the library is
//   city-wide. There "home" is a product of the matrix supplier (the supplier role's
//   own) and "other" a product of another supplier.
//
// Every write cell builds its record fresh, in the state where the action is valid.
// ---------------------------------------------------------------------------------

let app: FastifyInstance;
let call: Call;

type Place = 'home' | 'other';
type Outcome = 200 | 201 | 403 | 404 | 'listed' | 'hidden';
type Cell = Outcome | readonly [home: Outcome, other: Outcome];

const YEAR = 2027;
const seeded = {
  supplier: { home: '', other: '' },
  supplierWho: { home: null as unknown as Who, other: null as unknown as Who },
  unit: { home: '', other: '' },
  unitOperator: null as unknown as Who,
  venue: { home: '', other: '' },
  /** Listed product of the matrix supplier, serving both districts: what orders are for. */
  orderable: '',
  listed: { home: '', other: '' },
  draft: { home: '', other: '' },
  order: { home: '', other: '' },
  delivered: { home: '', other: '' },
};

/** Who approves an order of each place, level by level. */
const approversOf = { home: [streetOperator, districtAdmin], other: [otherDistrictAdmin] } as const;

beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  call = client(app);
  seeded.supplierWho.home = await addSupplier(call, '矩阵供应商甲', 'matrix-supplier');
  seeded.supplierWho.other = await addSupplier(call, '矩阵供应商乙', 'matrix-other-supplier');
  seeded.supplier = { home: seeded.supplierWho.home.supplier!, other: seeded.supplierWho.other.supplier! };
  const home = await addUnit(call, HOME, '矩阵单位荔湾', 'matrix-unit-op');
  const other = await addUnit(call, '440104', '矩阵单位越秀', 'matrix-other-unit-op');
  seeded.unit = { home: home.id, other: other.id };
  seeded.unitOperator = home.operator;
  seeded.venue = { home: await addVenue(call, HOME, 200), other: await addVenue(call, '440104', 200) };
  seeded.orderable = (await listedProduct(call, seeded.supplierWho.home, { serviceableRegions: ['440103', '440104'], costPerSession: 100 })).id;
  seeded.listed = {
    home: (await listedProduct(call, seeded.supplierWho.home)).id,
    other: (await listedProduct(call, seeded.supplierWho.other)).id,
  };
  seeded.draft = {
    home: (await draftProduct(call, seeded.supplierWho.home)).id,
    other: (await draftProduct(call, seeded.supplierWho.other)).id,
  };
  await allocate(call, YEAR, [
    ['440100', 10_000_000],
    ['440103', 1_000_000],
    ['440104', 1_000_000],
    ['440103001', 500_000],
    [HOME, 200_000],
  ]);
  seeded.order = { home: (await orderIn('home', 'draft')).id, other: (await orderIn('other', 'draft')).id };
  seeded.delivered = { home: (await orderIn('home', 'delivered')).id, other: (await orderIn('other', 'delivered')).id };
});
afterAll(() => app?.close());

// --- Factories: a fresh record of `place`, in the state an action needs. ---------------

type OrderStage = 'draft' | 'submitted' | 'approved' | 'scheduled' | 'delivered';
const ORDER_STEPS: { to: OrderStage; by: (place: Place) => readonly Who[]; action: string; body?: object }[] = [
  { to: 'submitted', by: () => [cityAdmin], action: 'submit' },
  { to: 'approved', by: (place) => approversOf[place], action: 'approve' },
  { to: 'scheduled', by: () => [seeded.supplierWho.home], action: 'schedule', body: { scheduledOn: `${YEAR}-03-15` } },
  { to: 'delivered', by: () => [seeded.supplierWho.home], action: 'deliver', body: { deliveredOn: `${YEAR}-03-15`, actualAudience: 80, notes: '', photos: [] } },
];

/** A new order of the unit of `place`, moved to `stage` by the usual actors (each approver of the chain in turn). */
async function orderIn(place: Place, stage: OrderStage): Promise<{ id: string; version: number }> {
  let order = await placeOrder(call, cityAdmin, { unitId: seeded.unit[place], productId: seeded.orderable, venueId: seeded.venue[place] });
  for (const step of ORDER_STEPS.slice(0, ['draft', 'submitted', 'approved', 'scheduled', 'delivered'].indexOf(stage))) {
    for (const who of step.by(place)) {
      const res = await act(call, who, order, step.action, step.body);
      expect(res.status, `${step.action}: ${JSON.stringify(res.body)}`).toBe(200);
      order = res.body;
    }
    expect((order as { status?: string }).status).toBe(step.to);
  }
  return order;
}

type ProductStage = 'draft' | 'submitted' | 'in_review' | 'listed';
const PRODUCT_STEPS = ['submit', 'start-review', 'list'] as const;

/** A new product of the supplier of `place`, moved to `stage`. */
async function productIn(place: Place, stage: ProductStage): Promise<{ id: string; version: number }> {
  const supplier = seeded.supplierWho[place];
  const steps = PRODUCT_STEPS.slice(0, ['draft', 'submitted', 'in_review', 'listed'].indexOf(stage));
  return reviewProduct(call, supplier, await draftProduct(call, supplier), steps);
}

let nextYear = 2040;
/** The region a budget PUT writes to, and a fresh year whose parent budgets exist. */
async function budgetTarget(place: Place): Promise<{ year: number; region: string }> {
  const year = nextYear++;
  await allocate(call, year, place === 'home' ? [['440100', 100_000], ['440103', 50_000], ['440103001', 20_000]] : [['440100', 100_000]]);
  return { year, region: place === 'home' ? HOME : '440104' };
}

// --- Routes ---------------------------------------------------------------------------

interface RouteCase {
  /** Sets up what the cell needs (fresh for writes) and sends the request for `place`. */
  send(who: Who | null, place: Place): Promise<Reply>;
  /** The problem code of a 404 on this route. */
  notFound?: string;
  /** For lists: the key whose presence `listed` / `hidden` is about, and how items are keyed. */
  recordOf?(place: Place): string;
  keyOf?(item: any): string;
  /** For a 2xx: what the body must show (e.g. the state the action led to). */
  expectBody?: Record<string, unknown>;
}

const budgetRegion = { home: HOME, other: '440104' } as const;

const productTransition = (path: string, stage: ProductStage, to: string, body?: object): RouteCase => ({
  send: async (who, place) => {
    const product = await productIn(place, stage);
    return call(who, 'POST', `/v1/products/${product.id}/${path}`, body, ifMatch(product));
  },
  notFound: 'PRODUCT_NOT_FOUND',
  expectBody: { status: to },
});

const orderAction = (action: string, stage: OrderStage, expectBody: Record<string, unknown>, body?: object): RouteCase => ({
  send: async (who, place) => {
    const order = await orderIn(place, stage);
    return call(who, 'POST', `/v1/orders/${order.id}/${action}`, body, ifMatch(order));
  },
  notFound: 'ORDER_NOT_FOUND',
  expectBody,
});

const ROUTES = {
  'GET /v1/products': {
    send: (who, place) => call(who, 'GET', `/v1/products?limit=100&supplierId=${seeded.supplier[place]}`),
    recordOf: (place) => seeded.listed[place],
  },
  'GET /v1/products?status=draft': {
    send: (who, place) => call(who, 'GET', `/v1/products?status=draft&limit=100&supplierId=${seeded.supplier[place]}`),
    recordOf: (place) => seeded.draft[place],
  },
  'GET /v1/products/:id (listed)': { send: (who, place) => call(who, 'GET', `/v1/products/${seeded.listed[place]}`), notFound: 'PRODUCT_NOT_FOUND' },
  'GET /v1/products/:id (draft)': { send: (who, place) => call(who, 'GET', `/v1/products/${seeded.draft[place]}`), notFound: 'PRODUCT_NOT_FOUND' },
  'POST /v1/products': {
    send: (who) => call(who, 'POST', '/v1/products', productBody()),
    expectBody: { status: 'draft' },
  },
  'PUT /v1/products/:id (draft)': {
    send: async (who, place) => {
      const product = await productIn(place, 'draft');
      return call(who, 'PUT', `/v1/products/${product.id}`, productBody({ title: '改过的标题' }), ifMatch(product));
    },
    notFound: 'PRODUCT_NOT_FOUND',
    expectBody: { title: '改过的标题', contentVersion: 2 },
  },
  'POST /v1/products/:id/submit (draft)': productTransition('submit', 'draft', 'submitted'),
  'POST /v1/products/:id/start-review (submitted)': productTransition('start-review', 'submitted', 'in_review'),
  'POST /v1/products/:id/list (in_review)': productTransition('list', 'in_review', 'listed'),
  'POST /v1/products/:id/reject (in_review)': productTransition('reject', 'in_review', 'rejected', { reasons: ['资料不全'] }),
  'POST /v1/products/:id/delist (listed)': productTransition('delist', 'listed', 'delisted'),

  'GET /v1/budgets/:year': {
    send: (who) => call(who, 'GET', `/v1/budgets/${YEAR}`),
    recordOf: (place) => budgetRegion[place],
    keyOf: (item: { regionCode: string }) => item.regionCode,
  },
  'GET /v1/budgets/:year/:region': {
    send: (who, place) => call(who, 'GET', `/v1/budgets/${YEAR}/${budgetRegion[place]}`),
    notFound: 'REGION_NOT_FOUND',
  },
  'PUT /v1/budgets/:year/:region (new)': {
    send: async (who, place) => {
      const { year, region } = await budgetTarget(place);
      return call(who, 'PUT', `/v1/budgets/${year}/${region}`, { allocated: 10_000 });
    },
    notFound: 'REGION_NOT_FOUND',
    expectBody: { allocated: 10_000, version: 1 },
  },

  'POST /v1/orders': {
    send: (who, place) => call(who, 'POST', '/v1/orders', orderBody({ unitId: seeded.unit[place], productId: seeded.orderable, venueId: seeded.venue[place] })),
    notFound: 'UNIT_NOT_FOUND',
    expectBody: { status: 'draft' },
  },
  'GET /v1/orders/:id': { send: (who, place) => call(who, 'GET', `/v1/orders/${seeded.order[place]}`), notFound: 'ORDER_NOT_FOUND' },
  'POST /v1/orders/:id/submit (draft)': orderAction('submit', 'draft', { status: 'submitted' }),
  'POST /v1/orders/:id/approve (submitted)': orderAction('approve', 'submitted', { approvedSteps: 1 }),
  'POST /v1/orders/:id/reject (submitted)': orderAction('reject', 'submitted', { status: 'rejected' }, { reason: '预算优先其他项目' }),
  'POST /v1/orders/:id/schedule (approved)': orderAction('schedule', 'approved', { status: 'scheduled' }, { scheduledOn: `${YEAR}-03-20` }),
  'POST /v1/orders/:id/deliver (scheduled)': orderAction('deliver', 'scheduled', { status: 'delivered' }, {
    deliveredOn: `${YEAR}-03-15`,
    actualAudience: 90,
    notes: '',
    photos: [],
  }),
  'POST /v1/orders/:id/close (delivered)': orderAction('close', 'delivered', { status: 'closed' }),
  'POST /v1/orders/:id/cancel (approved)': orderAction('cancel', 'approved', { status: 'cancelled' }, { reason: '场地维修' }),

  'POST /v1/orders/:id/feedback-tokens (delivered)': {
    send: (who, place) => call(who, 'POST', `/v1/orders/${seeded.delivered[place]}/feedback-tokens`, { count: 1 }),
    notFound: 'ORDER_NOT_FOUND',
  },
  'GET /v1/orders/:id/feedback-summary': {
    send: (who, place) => call(who, 'GET', `/v1/orders/${seeded.delivered[place]}/feedback-summary`),
    notFound: 'ORDER_NOT_FOUND',
  },
} satisfies Record<string, RouteCase>;
type RouteName = keyof typeof ROUTES;

function productBody(overrides: Record<string, unknown> = {}) {
  return {
    title: '矩阵产品',
    summary: '授权矩阵测试用',
    description: '',
    category: 'performance',
    form: '现场演出',
    targetGroups: ['elderly'],
    audienceMin: 10,
    audienceMax: 100,
    durationMinutes: 60,
    costPerSession: 100,
    serviceableRegions: ['440103'],
    ...overrides,
  };
}

// Columns follow ROLES: city-admin, district-admin, street-operator, community-operator, unit-operator, supplier, reviewer.
const SEEN = ['listed', 'listed'] as const;
const MATRIX: Record<RouteName, readonly Cell[]> = {
  // Products: home = the matrix supplier's product, other = another supplier's.
  'GET /v1/products': [SEEN, SEEN, SEEN, SEEN, SEEN, SEEN, SEEN],
  'GET /v1/products?status=draft': [SEEN, ['hidden', 'hidden'], ['hidden', 'hidden'], ['hidden', 'hidden'], ['hidden', 'hidden'], ['listed', 'hidden'], SEEN],
  'GET /v1/products/:id (listed)': [[200, 200], [200, 200], [200, 200], [200, 200], [200, 200], [200, 200], [200, 200]],
  'GET /v1/products/:id (draft)': [[200, 200], [404, 404], [404, 404], [404, 404], [404, 404], [200, 404], [200, 200]],
  'POST /v1/products': [403, 403, 403, 403, 403, 201, 403],
  'PUT /v1/products/:id (draft)': [403, 403, 403, 403, 403, [200, 404], 403],
  'POST /v1/products/:id/submit (draft)': [[403, 403], [404, 404], [404, 404], [404, 404], [404, 404], [200, 404], [403, 403]],
  'POST /v1/products/:id/start-review (submitted)': [[403, 403], [404, 404], [404, 404], [404, 404], [404, 404], [403, 404], [200, 200]],
  'POST /v1/products/:id/list (in_review)': [[403, 403], [404, 404], [404, 404], [404, 404], [404, 404], [403, 404], [200, 200]],
  'POST /v1/products/:id/reject (in_review)': [[403, 403], [404, 404], [404, 404], [404, 404], [404, 404], [403, 404], [200, 200]],
  'POST /v1/products/:id/delist (listed)': [[200, 200], [403, 403], [403, 403], [403, 403], [403, 403], [200, 403], [200, 200]],

  // Budgets: region staff only, within their subtree.
  'GET /v1/budgets/:year': [SEEN, ['listed', 'hidden'], ['listed', 'hidden'], ['listed', 'hidden'], 403, 403, 403],
  'GET /v1/budgets/:year/:region': [[200, 200], [200, 404], [200, 404], [200, 404], 403, 403, 403],
  // Staff of the parent allocate: the community operator sees its own budget but may not set it.
  'PUT /v1/budgets/:year/:region (new)': [[200, 200], [200, 404], [200, 404], [403, 404], 403, 403, 403],

  // Orders: staff over the unit's region, the unit's operator, the product's supplier.
  'POST /v1/orders': [[201, 201], [201, 404], [201, 404], [201, 404], [201, 404], 403, 403],
  'GET /v1/orders/:id': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [200, 200], [404, 404]],
  'POST /v1/orders/:id/submit (draft)': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [403, 403], [404, 404]],
  // The home unit's chain starts at its street; the other district's unit's chain is that district alone.
  'POST /v1/orders/:id/approve (submitted)': [[403, 403], [403, 404], [200, 404], [403, 404], [403, 404], [403, 403], [404, 404]],
  'POST /v1/orders/:id/reject (submitted)': [[403, 403], [403, 404], [200, 404], [403, 404], [403, 404], [403, 403], [404, 404]],
  'POST /v1/orders/:id/schedule (approved)': [[403, 403], [403, 404], [403, 404], [403, 404], [403, 404], [200, 200], [404, 404]],
  'POST /v1/orders/:id/deliver (scheduled)': [[403, 403], [403, 404], [403, 404], [403, 404], [200, 404], [200, 200], [404, 404]],
  'POST /v1/orders/:id/close (delivered)': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [403, 403], [404, 404]],
  'POST /v1/orders/:id/cancel (approved)': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [403, 403], [404, 404]],

  // Feedback: whoever may see the order.
  'POST /v1/orders/:id/feedback-tokens (delivered)': [[201, 201], [201, 404], [201, 404], [201, 404], [201, 404], [403, 403], [404, 404]],
  'GET /v1/orders/:id/feedback-summary': [[200, 200], [200, 404], [200, 404], [200, 404], [200, 404], [200, 200], [404, 404]],
};

const STAFF_REGION: Partial<Record<Role, string>> = {
  'city-admin': '440100',
  'district-admin': '440103',
  'street-operator': '440103001',
  'community-operator': HOME,
  reviewer: '440100',
};

function actorOf(role: Role): Who {
  if (role === 'unit-operator') return seeded.unitOperator;
  if (role === 'supplier') return seeded.supplierWho.home;
  return { roles: [role], region: STAFF_REGION[role]!, sub: `loop-matrix-${role}` };
}

const isSuccess = (o: Outcome) => o === 200 || o === 201 || o === 'listed';

const cases = (Object.keys(MATRIX) as RouteName[]).flatMap((route) =>
  ROLES.flatMap((role, i) => {
    const cell = MATRIX[route][i]!;
    return Array.isArray(cell)
      ? (['home', 'other'] as const).map((place, j) => ({ route, role, place: place as Place | '-', outcome: cell[j] as Outcome }))
      : [{ route, role, place: '-' as Place | '-', outcome: cell as Outcome }];
  }),
);

describe('authorization matrix of the ordering loop', () => {
  it('covers every route for every role', () => {
    for (const cells of Object.values(MATRIX)) expect(cells).toHaveLength(ROLES.length);
  });

  it('lets no region-bound role succeed outside its region (the supplier follows its own records; products are city-wide)', () => {
    const regionScoped = (route: string) => !route.includes('/v1/products');
    const crossing = cases.filter(
      (c) => regionScoped(c.route) && c.place === 'other' && c.role !== 'city-admin' && c.role !== 'supplier' && isSuccess(c.outcome),
    );
    expect(crossing).toEqual([]);
  });

  it.each(cases.map((c) => [`${c.route} as ${c.role}${c.place === '-' ? '' : ` (${c.place})`} → ${c.outcome}`, c] as const))(
    '%s',
    async (_name, { route, role, place, outcome }) => {
      const spec: RouteCase = ROUTES[route];
      const where = place === '-' ? 'home' : place;
      const res = await spec.send(actorOf(role), where);
      if (outcome === 'listed' || outcome === 'hidden') {
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const keys = (res.body.items as any[]).map(spec.keyOf ?? ((item: { id: string }) => item.id));
        if (outcome === 'listed') expect(keys).toContain(spec.recordOf!(where));
        else expect(keys).not.toContain(spec.recordOf!(where));
        return;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(outcome);
      if (outcome === 403) expect(res.body.code).toBe('FORBIDDEN');
      if (outcome === 404) expect(res.body.code).toBe(spec.notFound);
      if ((outcome === 200 || outcome === 201) && spec.expectBody) expect(res.body).toMatchObject(spec.expectBody);
    },
  );

  it.each(Object.keys(ROUTES) as RouteName[])('%s without a token → 401 UNAUTHENTICATED', async (route) => {
    const res = await ROUTES[route].send(null, 'home');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('hides an order from a supplier whose product it is not, wherever the order is', async () => {
    const stranger = seeded.supplierWho.other;
    for (const place of ['home', 'other'] as const) {
      for (const url of [`/v1/orders/${seeded.order[place]}`, `/v1/orders/${seeded.delivered[place]}/feedback-summary`]) {
        const res = await call(stranger, 'GET', url);
        expect(res.status, url).toBe(404);
        expect(res.body.code).toBe('ORDER_NOT_FOUND');
      }
      const order = await orderIn(place, 'approved');
      const res = await act(call, stranger, order, 'schedule', { scheduledOn: `${YEAR}-03-20` });
      expect(res.status).toBe(404);
    }
  });
});

describe('a unit operator whose home region is not its unit’s', () => {
  it('cannot read, list, submit or cancel that unit’s orders — as on every other route, the home region decides', async () => {
    // The token names the home unit (in 440103001001) but a home region in the other district.
    const misfiled: Who = { ...seeded.unitOperator, region: '440104', sub: 'misfiled-unit-op' };
    const order = await orderIn('home', 'draft');
    expect((await call(misfiled, 'GET', `/v1/units/${seeded.unit.home}`)).status).toBe(404);
    for (const res of [
      await call(misfiled, 'GET', `/v1/orders/${order.id}`),
      await act(call, misfiled, order, 'submit'),
      await act(call, misfiled, order, 'cancel', { reason: '不该能取消' }),
      await call(misfiled, 'POST', '/v1/orders', orderBody({ unitId: seeded.unit.home, productId: seeded.orderable, venueId: seeded.venue.home })),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(404);
    }
    expect((await call(misfiled, 'GET', '/v1/orders?limit=200')).body.items).toEqual([]);
    // The right token still does all of it.
    expect((await call(seeded.unitOperator, 'GET', `/v1/orders/${order.id}`)).status).toBe(200);
    expect((await call(seeded.unitOperator, 'GET', '/v1/orders?limit=200')).body.items.map((o: { id: string }) => o.id)).toContain(order.id);
  });
});
