import { definePlugin, on, orderApproved, orderClosed, orderDelivered, orderScheduled, orderSubmitted, productListed, productSubmitted, feedbackReceived, type EventHook } from '@diandan/kernel';
import { client, createTestServer, seedRegions, testActors, type Call, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A plugin that only listens: proves the loop's hooks fire, in order, after each change.
const heard: string[] = [];
const listener = definePlugin({
  name: 'loop-listener',
  version: '1.0.0',
  kernel: '^0.1.0',
  hooks: () => [
    ...[productSubmitted, productListed].map(listen),
    ...[orderSubmitted, orderApproved, orderScheduled, orderDelivered, orderClosed].map(listen),
    on(feedbackReceived, ({ rating }) => void heard.push(`feedback.received:${rating}`)),
  ],
});
function listen<T>(hook: EventHook<T>) {
  return on(hook, () => void heard.push(hook.id));
}

let app: FastifyInstance;
let call: Call;
const { cityAdmin, districtAdmin, streetOperator, communityOperator, reviewer } = testActors;

beforeAll(async () => {
  app = await createTestServer({ plugins: [listener.configure()] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

describe('the ordering loop (群众点单、政府配送)', () => {
  it('walks a product from draft to listed, an order from draft to closed, with feedback and a full audit trail', async () => {
    // The city registers a supplier; a community registers its unit and venue.
    const supplierRecord = await call(cityAdmin, 'POST', '/v1/suppliers', { name: '示范粤剧团（虚构）', kind: 'troupe' });
    expect(supplierRecord.status).toBe(201);
    const supplier: Who = { roles: ['supplier'], region: '440100', supplier: supplierRecord.body.id, sub: 'troupe-1' };
    const unit = await call(communityOperator, 'POST', '/v1/units', { regionCode: '440103001001', name: '测试社区文化室', kind: 'cultural-station' });
    expect(unit.status).toBe(201);
    const venue = await call(communityOperator, 'POST', '/v1/venues', {
      regionCode: '440103001001',
      name: '社区活动室',
      kind: 'community-room',
      capacity: 120,
      address: '测试路1号',
    });
    expect(venue.status).toBe(201);
    const unitOperator: Who = { roles: ['unit-operator'], region: '440103001001', unit: unit.body.id, sub: 'unit-op' };

    // The supplier drafts and submits a product; a reviewer lists it.
    let product = await call(supplier, 'POST', '/v1/products', {
      title: '粤剧折子戏专场',
      summary: '经典粤剧折子戏，适合长者观赏',
      description: '由示范粤剧团演出《帝女花》选段，演后设互动环节。',
      category: 'performance',
      form: '现场演出',
      targetGroups: ['elderly', 'general-public'],
      audienceMin: 50,
      audienceMax: 300,
      durationMinutes: 90,
      costPerSession: 3000,
      serviceableRegions: ['440103'],
      tags: ['粤剧', '非遗'],
    });
    expect(product.status).toBe(201);
    expect(product.body.status).toBe('draft');
    const productId = product.body.id;
    for (const [who, step, status] of [
      [supplier, 'submit', 'submitted'],
      [reviewer, 'start-review', 'in_review'],
      [reviewer, 'list', 'listed'],
    ] as const) {
      product = await call(who, 'POST', `/v1/products/${productId}/${step}`, undefined, { 'if-match': product.etag! });
      expect(product.status, step).toBe(200);
      expect(product.body.status).toBe(status);
    }

    // The unit finds it by Chinese text in the library.
    const found = await call(unitOperator, 'GET', `/v1/products?q=${encodeURIComponent('粤剧')}&region=440103001001&group=elderly`);
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([productId]);
    expect(found.body.items[0]).not.toHaveProperty('description');

    // Budgets flow down the tree: city → district → street → community.
    for (const [who, region, amount] of [
      [cityAdmin, '440100', 100_000],
      [cityAdmin, '440103', 50_000],
      [districtAdmin, '440103001', 20_000],
      [streetOperator, '440103001001', 10_000],
    ] as const) {
      const res = await call(who, 'PUT', `/v1/budgets/2027/${region}`, { allocated: amount });
      expect(res.status, region).toBe(200);
    }

    // The unit orders; the order climbs street → district.
    let order = await call(unitOperator, 'POST', '/v1/orders', {
      unitId: unit.body.id,
      productId,
      venueId: venue.body.id,
      windowStart: '2027-03-01',
      windowEnd: '2027-03-31',
      expectedAudience: 100,
    });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ status: 'draft', cost: 3000, budgetYear: 2027 });
    const orderId = order.body.id;
    order = await call(unitOperator, 'POST', `/v1/orders/${orderId}/submit`, undefined, { 'if-match': order.etag! });
    expect(order.body).toMatchObject({ status: 'submitted', approvalChain: ['440103001', '440103'], awaitingApprovalBy: '440103001' });

    // The district cannot skip the street.
    const early = await call(districtAdmin, 'POST', `/v1/orders/${orderId}/approve`, undefined, { 'if-match': order.etag! });
    expect(early.status).toBe(403);

    order = await call(streetOperator, 'POST', `/v1/orders/${orderId}/approve`, undefined, { 'if-match': order.etag! });
    expect(order.body).toMatchObject({ status: 'approving', awaitingApprovalBy: '440103' });
    const reserved = await call(communityOperator, 'GET', '/v1/budgets/2027/440103001001');
    expect(reserved.body).toMatchObject({ allocated: 10_000, reserved: 3000, spent: 0, available: 7000 });

    order = await call(districtAdmin, 'POST', `/v1/orders/${orderId}/approve`, undefined, { 'if-match': order.etag! });
    expect(order.body).toMatchObject({ status: 'approved', awaitingApprovalBy: null });

    order = await call(supplier, 'POST', `/v1/orders/${orderId}/schedule`, { scheduledOn: '2027-03-15' }, { 'if-match': order.etag! });
    expect(order.body).toMatchObject({ status: 'scheduled', scheduledOn: '2027-03-15' });

    order = await call(
      supplier,
      'POST',
      `/v1/orders/${orderId}/deliver`,
      { deliveredOn: '2027-03-15', actualAudience: 96, notes: '座无虚席', photos: ['https://example.org/photo1.jpg'] },
      { 'if-match': order.etag! },
    );
    expect(order.body).toMatchObject({ status: 'delivered', delivery: { actualAudience: 96, notes: '座无虚席' } });
    const settled = await call(communityOperator, 'GET', '/v1/budgets/2027/440103001001');
    expect(settled.body).toMatchObject({ reserved: 0, spent: 3000, available: 7000 });

    // Citizens answer anonymously, once per token.
    const minted = await call(unitOperator, 'POST', `/v1/orders/${orderId}/feedback-tokens`, { count: 3 });
    expect(minted.status).toBe(201);
    const [t1, t2, t3] = minted.body.tokens as string[];
    for (const [token, rating] of [[t1, 5], [t2, 4], [t3, 2]] as const) {
      const res = await call(null, 'POST', `/v1/feedback/${token}`, { rating, performance: rating, respondentGroup: 'elderly' });
      expect(res.status).toBe(204);
    }
    const reused = await call(null, 'POST', `/v1/feedback/${t1}`, { rating: 1 });
    expect(reused.status).toBe(404);
    expect(reused.body.code).toBe('FEEDBACK_TOKEN_INVALID');
    const summary = await call(unitOperator, 'GET', `/v1/orders/${orderId}/feedback-summary`);
    expect(summary.body).toMatchObject({ responses: 3, averageRating: 3.67, satisfactionRate: 0.67 });

    order = await call(unitOperator, 'POST', `/v1/orders/${orderId}/close`, undefined, { 'if-match': order.etag! });
    expect(order.body.status).toBe('closed');

    // Every step is in the audit log with its actor.
    const audit = await call(districtAdmin, 'GET', `/v1/audit-log?entityType=order&entityId=${orderId}`);
    expect(audit.status).toBe(200);
    const trail = (audit.body.items as { action: string; actorId: string }[]).reverse().map((r) => `${r.action} by ${r.actorId}`);
    expect(trail).toEqual([
      'order.create by unit-op',
      'order.submit by unit-op',
      'order.approve by street-op',
      'order.approve by liwan-admin',
      'order.schedule by troupe-1',
      'order.deliver by troupe-1',
      'feedback.mintTokens by unit-op',
      'order.close by unit-op',
    ]);
    const productTrail = await call(cityAdmin, 'GET', `/v1/audit-log?entityType=product&entityId=${productId}`);
    expect((productTrail.body.items as { action: string }[]).map((r) => r.action).reverse()).toEqual([
      'product.create',
      'product.submit',
      'product.startReview',
      'product.list',
    ]);

    await app.diandan.hooks.settled();
    expect(heard).toEqual([
      'product.submitted',
      'product.listed',
      'order.submitted',
      'order.approved',
      'order.scheduled',
      'order.delivered',
      'feedback.received:5',
      'feedback.received:4',
      'feedback.received:2',
      'order.closed',
    ]);
  });
});
