/**
 * The kernel as a package author meets it: a plugin outside the kernel
 * (fixtures/community-stage) uses every facility through the public exports — its own
 * role and supplier kind, guards that refuse with their own codes, extension data
 * accepted on writes and shown on reads (and in the OpenAPI document), a job with
 * progress polled over HTTP, a scheduled job, a durable subscription and writes by its
 * system actor. Everything through HTTP, on PGlite and on PostgreSQL.
 */
import {
  budgetAllocationGuard,
  DomainError,
  definePlugin,
  filter,
  guard,
  kernelTables,
  on,
  orderApprovalChain,
  orderSubmitted,
  orderTransitionGuard,
} from '@diandan/kernel';
import {
  act,
  addSupplier,
  addUnit,
  addVenue,
  allocate,
  client,
  createTestServer,
  ifMatch,
  listedProduct,
  draftProduct,
  reviewProduct,
  orderBody,
  placeOrder,
  seedRegions,
  testActors,
  type Call,
  type Who,
} from '@diandan/testing';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { communityStage } from './fixtures/community-stage/plugin.js';
import { heard } from './fixtures/community-stage/schema.js';
import { countRows, expectProblem } from './support.js';

const { cityAdmin, streetOperator, districtAdmin } = testActors;
const stageManager: Who = { roles: ['stage-manager'], region: '440103', sub: 'stage-manager-1' };
const EXT = 'community-stage';

/** A plugin whose approval-chain filter refuses orders of one product with its own code. */
const chainKeeper = (refusedProduct: () => string) =>
  definePlugin({
    name: 'chain-keeper',
    version: '1.0.0',
    kernel: '^0.1.0',
    hooks: () => [
      filter(orderApprovalChain, (chain, { order }) => {
        if (order.productId === refusedProduct()) throw new DomainError('conflict', 'CHAIN_KEEPER_REFUSES', 'Not this product');
        return chain;
      }),
    ],
  }).configure();

/** Guards on budgets and order actions, and a slow, meddling in-request listener. */
const slowHandled: string[] = [];
const treasurer = definePlugin({
  name: 'treasurer',
  version: '1.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    guard(budgetAllocationGuard, ({ allocated, regionCode }) => {
      if (allocated > 5_000_000) throw new DomainError('conflict', 'TREASURER_LIMIT', `No region gets more than 5,000,000 (${regionCode})`);
    }),
    guard(orderTransitionGuard, ({ action, before, after, input }) => {
      if (action === 'cancel' && input.reason?.includes('随便')) throw new DomainError('invalid', 'TREASURER_NEEDS_A_REASON', 'Give a real reason');
      if (before.status === after.status && action !== 'approve') throw new Error('a transition that changes nothing');
    }),
    on(orderSubmitted, async ({ order }) => {
      (order as { status: string }).status = 'meddled'; // frozen: throws, and is logged
    }),
    on(orderSubmitted, async ({ order }) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      slowHandled.push(order.id);
    }),
  ],
}).configure();

let app: FastifyInstance;
let call: Call;
let troupe: Who;
let unit: { id: string; operator: Who };
let venue: string;
let product: { id: string; version: number };
let refused = '';

beforeAll(async () => {
  app = await createTestServer({ plugins: [communityStage({ maxAudience: 250 }), chainKeeper(() => refused), treasurer] });
  await seedRegions(app);
  call = client(app);
  troupe = await addSupplier(call, '社区舞台测试剧团（虚构）', 'stage-troupe');
  unit = await addUnit(call, '440103001001', '社区舞台测试文化室', 'stage-unit-op');
  venue = await addVenue(call, '440103001001', 400);
  product = await listedProduct(call, troupe, { audienceMax: 400 });
  await allocate(call, 2027, [
    ['440100', 100_000],
    ['440103', 50_000],
    ['440103001', 20_000],
    ['440103001001', 10_000],
  ]);
});
afterAll(() => app?.close());

/** The community stage's services, as the tests read them. */
const stage = () => app.diandan.plugins.find((p) => p.definition.name === 'community-stage')!.services as { placementBatches: number[] };

const waitFor = async <T>(check: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('a role and a supplier kind contributed by a plugin', () => {
  it('lists them in /v1/deployment with where they come from', async () => {
    const deployment = (await call(null, 'GET', '/v1/deployment')).body;
    expect(deployment.roles).toContainEqual(expect.objectContaining({ key: 'stage-manager', level: 'district', source: 'plugin community-stage' }));
    expect(deployment.supplierKinds).toContainEqual(expect.objectContaining({ key: 'community-choir', source: 'plugin community-stage' }));
  });

  it('lets the plugin’s role use the plugin’s routes, at the level it asked for', async () => {
    expect((await call(stageManager, 'POST', '/v1/stage/rebuilds', { steps: 1 })).status).toBe(202);
    expectProblem(await call(streetOperator, 'POST', '/v1/stage/rebuilds', { steps: 1 }), 403, 'FORBIDDEN');
    expectProblem(await call({ ...stageManager, region: '440103001' }, 'GET', '/v1/suppliers'), 401, 'INVALID_TOKEN');
  });

  it('accepts the new kind on the kernel’s own routes, and refuses kinds nobody defined', async () => {
    expect((await call(cityAdmin, 'POST', '/v1/suppliers', { name: '社区合唱团（虚构）', kind: 'community-choir' })).status).toBe(201);
    expect((await call(cityAdmin, 'POST', '/v1/suppliers', { name: '乐队（虚构）', kind: 'rock-band' })).status).toBe(400);
  });
});

describe('guards', () => {
  it('refuse an order with the plugin’s own 4xx code, writing nothing', async () => {
    const orders = await countRows(app, kernelTables.orders);
    const audits = await countRows(app, kernelTables.auditLog);
    const res = await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: venue, expectedAudience: 300 }), {
      'idempotency-key': 'too-many-people',
    });
    expectProblem(res, 422, 'STAGE_AUDIENCE_TOO_LARGE');
    expect(res.body.details).toEqual({ maxAudience: 250 });
    expect(await countRows(app, kernelTables.orders)).toBe(orders);
    expect(await countRows(app, kernelTables.auditLog)).toBe(audits);
    // The key was not used up: the same key with an acceptable order places it.
    const retry = await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: venue, expectedAudience: 200 }), {
      'idempotency-key': 'too-many-people',
    });
    expect(retry.status).toBe(201);
  });

  it('refuse only the orders they refuse when orders are placed at the same moment (one batch)', async () => {
    const audiences = [100, 260, 120, 900, 80];
    const replies = await Promise.all(
      audiences.map((expectedAudience) => call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: venue, expectedAudience }))),
    );
    expect(replies.map((r) => [r.status, r.body.code])).toEqual([
      [201, undefined],
      [422, 'STAGE_AUDIENCE_TOO_LARGE'],
      [201, undefined],
      [422, 'VENUE_TOO_SMALL'], // the kernel's own rules come first
      [201, undefined],
    ]);
  });

  it('run a batch guard once for the orders placed together, each refused or passed on its own', async () => {
    const { placementBatches } = stage();
    placementBatches.length = 0;
    const audiences = [13, 40, 60, 13, 90, 260];
    const replies = await Promise.all(
      audiences.map((expectedAudience) => call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId: venue, expectedAudience }))),
    );
    expect(replies.map((r) => [r.status, r.body.code])).toEqual([
      [422, 'STAGE_UNLUCKY_AUDIENCE'],
      [201, undefined],
      [201, undefined],
      [422, 'STAGE_UNLUCKY_AUDIENCE'],
      [201, undefined],
      [422, 'STAGE_AUDIENCE_TOO_LARGE'], // the per-order guard registered first refused it
    ]);
    // Every order that passed the per-order guard was checked exactly once, in batches.
    expect(placementBatches.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('refuse a product transition inside its transaction, leaving the product as it was', async () => {
    const banned = await reviewProduct(call, troupe, await draftProduct(call, troupe, { title: '禁演剧目（测试）' }), ['submit', 'start-review']);
    expectProblem(await call(testActors.reviewer, 'POST', `/v1/products/${banned.id}/list`, undefined, ifMatch(banned)), 409, 'STAGE_TITLE_BANNED');
    expect((await call(testActors.reviewer, 'GET', `/v1/products/${banned.id}`)).body).toMatchObject({ status: 'in_review', version: banned.version });
  });

  it('let a DomainError thrown in a filter (the approval chain) reach the client as itself, not as a 500', async () => {
    const other = await listedProduct(call, troupe, { title: '链条守门员测试' });
    refused = other.id;
    const order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: other.id, venueId: venue });
    expectProblem(await act(call, unit.operator, order, 'submit'), 409, 'CHAIN_KEEPER_REFUSES');
    expect((await call(unit.operator, 'GET', `/v1/orders/${order.id}`)).body.status).toBe('draft');
  });
});

describe('guards on budgets and order actions', () => {
  it('refuse a budget allocation with the plugin’s code, leaving the budget as it was', async () => {
    const budget = (await call(cityAdmin, 'GET', '/v1/budgets/2027/440100')).body;
    expectProblem(await call(cityAdmin, 'PUT', '/v1/budgets/2027/440100', { allocated: 6_000_000 }, ifMatch(budget)), 409, 'TREASURER_LIMIT');
    expect((await call(cityAdmin, 'GET', '/v1/budgets/2027/440100')).body).toEqual(budget);
    expect((await call(cityAdmin, 'PUT', '/v1/budgets/2027/440100', { allocated: 200_000 }, ifMatch(budget))).status).toBe(200);
  });

  it('refuse an order action with the plugin’s code and see the action’s input; the order is unchanged', async () => {
    const order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    expectProblem(await act(call, unit.operator, order, 'cancel', { reason: '随便取消' }), 422, 'TREASURER_NEEDS_A_REASON');
    expect((await call(unit.operator, 'GET', `/v1/orders/${order.id}`)).body).toMatchObject({ status: 'draft', version: order.version });
    expect((await act(call, unit.operator, order, 'cancel', { reason: '场地维修' })).status).toBe(200);
  });
});

describe('in-request event handlers', () => {
  it('do not hold the response, and cannot change it', async () => {
    const order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    const started = performance.now();
    const res = await act(call, unit.operator, order, 'submit');
    const took = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('submitted');
    expect(took).toBeLessThan(1000); // the slow handler takes 1.5 s
    expect(slowHandled).not.toContain(order.id);
    await app.diandan.hooks.settled();
    expect(slowHandled).toContain(order.id);
    expect((await call(unit.operator, 'GET', `/v1/orders/${order.id}`)).body.status).toBe('submitted');
  });
});

describe('extension data', () => {
  it('is accepted on a kernel write under the plugin’s name, written in the same transaction, and shown on reads', async () => {
    const created = await call(cityAdmin, 'POST', '/v1/suppliers', { name: '有徽章的剧团（虚构）', kind: 'troupe', extensions: { [EXT]: { badge: '优秀' } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.extensions).toEqual({ [EXT]: { badge: '优秀' } });
    expect((await call(streetOperator, 'GET', `/v1/suppliers/${created.body.id}`)).body.extensions).toEqual({ [EXT]: { badge: '优秀' } });
    // Suppliers without a badge show null under the plugin's name.
    expect((await call(streetOperator, 'GET', `/v1/suppliers/${troupe.supplier}`)).body.extensions).toEqual({ [EXT]: null });
    const page = (await call(streetOperator, 'GET', '/v1/suppliers?limit=200')).body.items as { id: string; extensions: unknown }[];
    expect(page.find((s) => s.id === created.body.id)?.extensions).toEqual({ [EXT]: { badge: '优秀' } });
    expect(page.every((s) => s.extensions && typeof s.extensions === 'object')).toBe(true);
  });

  it('is validated by the plugin’s schema, and the plugin’s refusal rolls the whole write back', async () => {
    const suppliers = await countRows(app, kernelTables.suppliers);
    const invalid = await call(cityAdmin, 'POST', '/v1/suppliers', { name: 'x', kind: 'troupe', extensions: { [EXT]: { badge: '' } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: { field: string }) => e.field)).toContain(`body.extensions.${EXT}.badge`);
    expect((await call(cityAdmin, 'POST', '/v1/suppliers', { name: 'x', kind: 'troupe', extensions: { stranger: {} } })).status).toBe(400);
    expectProblem(await call(cityAdmin, 'POST', '/v1/suppliers', { name: '差评剧团', kind: 'troupe', extensions: { [EXT]: { badge: '差评' } } }), 422, 'STAGE_BADGE_REFUSED');
    expect(await countRows(app, kernelTables.suppliers)).toBe(suppliers);
  });

  it('can change on an update, under If-Match like the rest of the record', async () => {
    const supplier = (await call(cityAdmin, 'GET', `/v1/suppliers/${troupe.supplier}`)).body;
    const res = await call(cityAdmin, 'PATCH', `/v1/suppliers/${supplier.id}`, { extensions: { [EXT]: { badge: '进步' } } }, ifMatch(supplier));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ version: supplier.version + 1, extensions: { [EXT]: { badge: '进步' } } });
  });

  it('is written with an order when it is placed, and shown on the order', async () => {
    const res = await call(unit.operator, 'POST', '/v1/orders', { ...orderBody({ unitId: unit.id, productId: product.id, venueId: venue }), extensions: { [EXT]: { note: '请安排在周末' } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.extensions).toEqual({ [EXT]: { note: '请安排在周末' } });
    expect((await call(unit.operator, 'GET', `/v1/orders/${res.body.id}`)).body.extensions).toEqual({ [EXT]: { note: '请安排在周末' } });
    const plain = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    expect(plain.extensions).toEqual({ [EXT]: null });
  });

  it('stays correct in the cached product list when the plugin says it changed', async () => {
    const shown = async () => {
      const items = (await call(streetOperator, 'GET', `/v1/products?supplierId=${troupe.supplier}&limit=50`)).body.items as { id: string; extensions: Record<string, unknown> }[];
      return items.find((p) => p.id === product.id)?.extensions;
    };
    expect(await shown()).toEqual({ [EXT]: null });
    expect(await shown()).toEqual({ [EXT]: null }); // served from the cache now
    expect((await call(stageManager, 'POST', `/v1/stage/spotlights/${product.id}`)).status).toBe(204);
    expect(await shown()).toEqual({ [EXT]: { spotlight: true } });
  });

  it('is described in the OpenAPI document: on the models and on the write bodies', async () => {
    const doc = (await call(null, 'GET', '/openapi.json')).body;
    const supplier = doc.components.schemas.Supplier;
    expect(supplier.required).toContain('extensions');
    expect(supplier.properties.extensions.properties[EXT]).toMatchObject({ anyOf: [{ properties: { badge: { type: 'string' } } }, { type: 'null' }] });
    expect(doc.components.schemas.ProductSummary.properties.extensions.properties[EXT]).toBeDefined();
    expect(doc.components.schemas.Order.properties.extensions.properties[EXT]).toBeDefined();
    const body = doc.paths['/v1/suppliers'].post.requestBody.content['application/json'].schema;
    expect(body.properties.extensions.properties[EXT].properties.badge).toMatchObject({ type: 'string', minLength: 1 });
    expect(body.required ?? []).not.toContain('extensions');
    // Records nobody extends carry no extensions property.
    expect(doc.components.schemas.Unit.properties.extensions).toBeUndefined();
  });
});

describe('jobs', () => {
  it('show their progress over HTTP to their owner while they run, then their result', async () => {
    const started = await call(stageManager, 'POST', '/v1/stage/rebuilds', { steps: 4 });
    expect(started.status).toBe(202);
    const url = `/v1/jobs/${started.body.jobId}`;
    const running = await waitFor(async () => {
      const res = await call(stageManager, 'GET', url);
      return res.body.state === 'active' && res.body.progress > 0 && res.body.progress < 100 ? res.body : undefined;
    }, 'the rebuild to report progress');
    expect(running).toMatchObject({ queue: 'community-stage.rebuild', plugin: 'community-stage', message: expect.stringMatching(/^step \d of 4$/) });
    const done = await waitFor(async () => {
      const res = await call(stageManager, 'GET', url);
      return res.body.state === 'completed' ? res.body : undefined;
    }, 'the rebuild to complete');
    expect(done).toMatchObject({ progress: 100, result: { rebuilt: 4 }, ownerId: 'stage-manager-1', error: null });
    // Another district's admin does not see it; this district's does.
    expectProblem(await call(testActors.otherDistrictAdmin, 'GET', url), 404, 'JOB_NOT_FOUND');
    expect((await call(districtAdmin, 'GET', url)).status).toBe(200);
  });

  it('write as the plugin’s system actor, audited under the plugin’s name', async () => {
    const plugin = app.diandan.plugins.find((p) => p.definition.name === 'community-stage')!;
    const jobs = plugin.services as { openStage: Parameters<typeof plugin.context.jobs.send>[0] };
    const id = (await plugin.context.jobs.send(jobs.openStage, { regionCode: '440103' }))!;
    const status = await plugin.context.jobs.wait(id, { timeoutMs: 15_000 });
    expect(status.state, JSON.stringify(status)).toBe('completed');
    const venueId = (status.result as { venueId: string }).venueId;
    const audit = (await call(districtAdmin, 'GET', `/v1/audit-log?entityType=venue&entityId=${venueId}`)).body.items;
    expect(audit).toEqual([
      expect.objectContaining({ action: 'venue.create', actorId: 'system:community-stage', actorRoles: ['system', 'district-admin'], actorRegion: '440103' }),
    ]);
  });
});

describe('a durable subscription', () => {
  it('hears each submitted order once, with the event id', async () => {
    const order = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    const submitted = await act(call, unit.operator, order, 'submit');
    expect(submitted.status).toBe(200);
    const rows = await waitFor(async () => {
      const found = await app.diandan.database.db.select().from(heard).where(eq(heard.orderId, order.id));
      return found.length ? found : undefined;
    }, 'the durable subscriber to hear the order');
    expect(rows).toEqual([{ eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), hookId: 'order.submitted', orderId: order.id, deliveries: 1 }]);
  });
});
