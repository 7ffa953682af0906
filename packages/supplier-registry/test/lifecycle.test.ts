/**
 * The two walks of the issue, over HTTP: an application through review to an approved
 * supplier whose delivered orders are rated by the unit and by citizens, giving a
 * score and the quality tier; and a qualification that expires, suspends the supplier
 * by the daily job, and is renewed.
 */
import { definePlugin, on } from '@diandan/kernel';
import {
  act,
  actors,
  addUnit,
  addVenue,
  allocate,
  client,
  createTestServer,
  expectStatus,
  ifMatch,
  listedProduct,
  placeOrder,
  problem,
  seedRegions,
  testActors,
  type Call,
  type Who,
} from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  qualificationExpiring,
  supplierApplied,
  supplierApproved,
  supplierBlacklisted,
  supplierReinstated,
  supplierRegistry,
  supplierRegistryPlugin,
  supplierSuspended,
} from '../src/index.js';
import { applicant, approve, eventually, orgApplication, registryOf } from './support.js';

const events: { hook: string; id: string; extra?: unknown }[] = [];
const spy = definePlugin({
  name: 'registry-spy',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { registry: supplierRegistryPlugin },
  hooks: () => [
    ...[supplierApplied, supplierApproved, supplierSuspended, supplierReinstated, supplierBlacklisted].map((hook) =>
      on(hook, ({ application }) => void events.push({ hook: hook.id, id: application.id })),
    ),
    on(qualificationExpiring, ({ applicationId, qualification, daysLeft }) => void events.push({ hook: qualificationExpiring.id, id: applicationId, extra: { type: qualification.type, daysLeft } })),
  ],
});

let app: FastifyInstance;
let call: Call;
const reviewer = actors.reviewer('440103', 'liwan-reviewer');
const { cityAdmin, districtAdmin, streetOperator } = testActors;
let unit: { id: string; operator: Who };
let venue: string;

beforeAll(async () => {
  app = await createTestServer({ plugins: [supplierRegistry({ score: { minRatings: 2 } }), spy.configure({})], kernel: { feedbackPerMinute: 10_000 } });
  await seedRegions(app);
  call = client(app);
  unit = await addUnit(call, '440103001001', '测试社区文化室（虚构）', 'unit-op');
  venue = await addVenue(call, '440103001001', 300);
  await allocate(call, 2027, [
    ['440100', 1_000_000],
    ['440103', 500_000],
    ['440103001', 200_000],
    ['440103001001', 100_000],
  ]);
});
afterAll(() => app?.close());

/** Places an order for `productId` and takes it to delivered. */
async function deliveredOrder(productId: string, supplier: Who): Promise<any> {
  let order = await placeOrder(call, unit.operator, { unitId: unit.id, productId, venueId: venue });
  for (const [who, action, body] of [
    [unit.operator, 'submit', undefined],
    [streetOperator, 'approve', undefined],
    [districtAdmin, 'approve', undefined],
    [supplier, 'schedule', { scheduledOn: '2027-03-15' }],
    [supplier, 'deliver', { deliveredOn: '2027-03-15', actualAudience: 120, notes: '测试演出（虚构）' }],
  ] as const) {
    order = expectStatus(await act(call, who, order, action, body), 200, `order ${action}`);
  }
  return order;
}

describe('application → review → approved supplier → ratings → score and tier', () => {
  it('walks the whole way', async () => {
    const user = applicant('troupe-owner');
    // 1. Apply.
    const applied = await call(user, 'POST', '/v1/supplier-applications', orgApplication({ kind: 'troupe', name: '示范粤剧团（虚构）' }));
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    expect(applied.body).toMatchObject({ status: 'applied', contacts: [{ name: '陈**', phone: '138****8000' }], supplierId: null, createdBy: 'troupe-owner' });
    let application = applied.body;

    // 2. Review: changes requested, changed, resubmitted, approved.
    const step = async (who: Who, action: string, body?: object) => {
      const res = await call(who, 'POST', `/v1/supplier-applications/${application.id}/${action}`, body, ifMatch(application));
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200);
      application = res.body;
      return res.body;
    };
    await step(reviewer, 'start-review');
    expect(application.status).toBe('in_review');
    await step(reviewer, 'request-changes', { reasons: ['请补充演出团队简介'] });
    expect(application).toMatchObject({ status: 'changes_requested', reasons: ['请补充演出团队简介'] });
    const changed = await call(user, 'PATCH', `/v1/supplier-applications/${application.id}`, { description: '成立于2001年的虚构粤剧团，常年演出折子戏。' }, ifMatch(application));
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    application = changed.body;
    await step(user, 'resubmit');
    expect(application).toMatchObject({ status: 'resubmitted', reasons: [] });
    await step(reviewer, 'start-review');
    await step(reviewer, 'approve');
    expect(application).toMatchObject({ status: 'approved', supplierId: application.id });
    expect(application.qualifications.every((q: { status: string }) => q.status === 'accepted')).toBe(true);

    // The kernel supplier exists, with the registry's (empty) extension data.
    const kernelSupplier = await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`);
    expect(kernelSupplier.body).toMatchObject({ id: application.id, name: '示范粤剧团（虚构）', kind: 'troupe', status: 'active', extensions: { 'supplier-registry': null } });
    await app.diandan.hooks.settled();
    expect(events.filter((e) => e.id === application.id).map((e) => e.hook)).toEqual(['supplier.applied', 'supplier.approved']);

    // 3. The supplier's own token (its supplier id) submits a product into the kernel's review: listed.
    const supplier = actors.supplier(application.id, '440100', 'troupe-owner');
    const mine = await call(supplier, 'GET', `/v1/supplier-applications/${application.id}`);
    expect(mine.status).toBe(200);
    const product = await listedProduct(call, supplier, { title: '粤剧《帝女花》选段（虚构）', serviceableRegions: ['440103'] });
    expect(product.status).toBe('listed');

    // 4. Orders delivered, rated by the ordering unit.
    const orders = [await deliveredOrder(product.id, supplier), await deliveredOrder(product.id, supplier)];
    for (const order of orders) {
      const rated = await call(unit.operator, 'POST', '/v1/supplier-ratings', { orderId: order.id, punctuality: 5, quality: 5, cooperation: 4 });
      expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    }
    expect(problem(await call(unit.operator, 'POST', '/v1/supplier-ratings', { orderId: orders[0].id, punctuality: 1, quality: 1, cooperation: 1 }))).toEqual({
      status: 409,
      code: 'REGISTRY_ALREADY_RATED',
      problem: true,
    });
    // Only the ordering unit's operator rates.
    const other = await addUnit(call, '440103001002', '另一个测试文化室（虚构）', 'other-unit-op');
    const foreign = await call(other.operator, 'POST', '/v1/supplier-ratings', { orderId: orders[1].id, punctuality: 1, quality: 1, cooperation: 1 });
    expect([403, 404]).toContain(foreign.status);
    expect((await call(streetOperator, 'POST', '/v1/supplier-ratings', { orderId: orders[1].id, punctuality: 1, quality: 1, cooperation: 1 })).status).toBe(403);
    // A draft order is not rated.
    const draft = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    expect(problem(await call(unit.operator, 'POST', '/v1/supplier-ratings', { orderId: draft.id, punctuality: 5, quality: 5, cooperation: 5 })).code).toBe('REGISTRY_ORDER_NOT_DELIVERED');

    // 5. Citizens' feedback, through the kernel, reaches the registry by a durable subscription.
    const minted = expectStatus(await call(unit.operator, 'POST', `/v1/orders/${orders[0].id}/feedback-tokens`, { count: 2 }), 201, 'tokens');
    for (const token of minted.tokens) expect((await call(null, 'POST', `/v1/feedback/${token}`, { rating: 5 })).status).toBe(204);
    const { run } = registryOf(app);
    const quality = await eventually(async () => {
      await run('recomputeScores');
      const read = await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`);
      const ext = read.body.extensions['supplier-registry'];
      return ext?.citizenRatings === 2 ? ext : undefined;
    }, 'citizen feedback to count');
    // unit mean = (1·5 + 2·5 + 1·4)/4 = 4.75; citizens 5; score = 0.7·4.75 + 0.3·5 ≈ 4.82 (decay: all equally fresh).
    expect(quality).toMatchObject({ score: expect.closeTo(4.825, 1), tier: 'quality', unitRatings: 2, citizenRatings: 2 });

    // 6. Score and tier on product reads (list and full form) and in the public directory.
    const listedRead = await call(unit.operator, 'GET', `/v1/products?limit=50`);
    const listedItem = listedRead.body.items.find((p: { id: string }) => p.id === product.id);
    expect(listedItem?.extensions?.['supplier-registry']).toMatchObject({ score: expect.closeTo(4.825, 1), tier: 'quality' });
    expect((await call(supplier, 'GET', `/v1/products/${product.id}`)).body.extensions['supplier-registry']).toMatchObject({ tier: 'quality' });
    const directory = await call(null, 'GET', '/v1/supplier-directory?tier=quality&region=440103001001&category=performance');
    expect(directory.body.items).toEqual([
      expect.objectContaining({ id: application.id, name: '示范粤剧团（虚构）', tier: 'quality', score: expect.closeTo(4.825, 1), unitRatings: 2 }),
    ]);
    // The supplier sees its own ratings.
    const ratings = await call(supplier, 'GET', `/v1/supplier-applications/${application.id}/ratings`);
    expect(ratings.body.items).toHaveLength(2);
  });
});

describe('qualification expiring → warned → expired → suspended → new orders refused → renewed → reinstated', () => {
  it('is driven by the daily job and by reviewing a renewed document', async () => {
    const user = applicant('studio-owner');
    const body = orgApplication({
      name: '示范手作工坊（虚构）',
      categories: ['handcraft-workshop'],
      qualifications: [{ type: '营业执照', number: 'TEST-LIC-W', issuer: '测试市场监管局', validFrom: '2020-01-01', validUntil: '2027-06-30', mandatory: true }],
    });
    let application = await approve(call, reviewer, expectStatus(await call(user, 'POST', '/v1/supplier-applications', body), 201, 'apply'));
    const supplier = actors.supplier(application.id, '440100', 'studio-owner');
    const product = await listedProduct(call, supplier, { title: '广绣体验课（虚构）', category: 'handcraft-workshop', serviceableRegions: ['440103'] });
    const { registry, run } = registryOf(app);
    try {
      // Twenty days before: warned, once.
      registry.now = () => new Date('2027-06-10T09:00:00Z');
      expect(await run('checkQualifications')).toMatchObject({ warned: 1, suspended: 0 });
      expect(await run('checkQualifications')).toMatchObject({ warned: 0, suspended: 0 });
      await app.diandan.hooks.settled();
      expect(events.filter((e) => e.hook === 'qualification.expiring' && e.id === application.id)).toEqual([
        { hook: 'qualification.expiring', id: application.id, extra: { type: '营业执照', daysLeft: 20 } },
      ]);

      // The day after it ends: suspended by the job, as the registry's system actor.
      registry.now = () => new Date('2027-07-01T09:00:00Z');
      expect(await run('checkQualifications')).toMatchObject({ suspended: 1 });
      application = (await call(reviewer, 'GET', `/v1/supplier-applications/${application.id}`)).body;
      expect(application).toMatchObject({ status: 'suspended', suspendedFor: 'expired' });
      const kernelSupplier = (await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body;
      expect(kernelSupplier).toMatchObject({ status: 'suspended', statusCode: 'REGISTRY_QUALIFICATION_EXPIRED' });
      const audit = await call(cityAdmin, 'GET', `/v1/audit-log?entityType=supplier-application&entityId=${application.id}`);
      expect(audit.body.items.map((a: { action: string; actorId: string }) => `${a.action} by ${a.actorId}`)).toContain('supplier-application.suspend by system:supplier-registry');

      // New orders are refused with the registry's code; the product is hidden from the library.
      const refused = await call(unit.operator, 'POST', '/v1/orders', { unitId: unit.id, productId: product.id, venueId: venue, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 50 });
      expect(problem(refused).code).toBe('REGISTRY_QUALIFICATION_EXPIRED');
      const library = await call(unit.operator, 'GET', '/v1/products?category=handcraft-workshop');
      expect(library.body.items.map((p: { id: string }) => p.id)).not.toContain(product.id);

      // The kernel's own reinstate route is refused by the registry's guard; so is the registry's.
      const manual = await call(cityAdmin, 'POST', `/v1/suppliers/${application.id}/reinstate`, { reason: '手工恢复' }, ifMatch(kernelSupplier));
      expect(problem(manual)).toEqual({ status: 409, code: 'REGISTRY_QUALIFICATION_EXPIRED', problem: true });
      expect(problem(await call(districtAdmin, 'POST', `/v1/supplier-applications/${application.id}/reinstate`, {}, ifMatch(application))).code).toBe('REGISTRY_QUALIFICATION_EXPIRED');

      // The supplier uploads a renewed licence; a reviewer accepts it; the supplier is reinstated.
      const added = await call(supplier, 'POST', `/v1/supplier-applications/${application.id}/qualifications`, {
        type: '营业执照',
        number: 'TEST-LIC-W2',
        issuer: '测试市场监管局',
        validFrom: '2027-07-01',
        validUntil: '2032-06-30',
        mandatory: true,
      });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      const renewed = added.body.qualifications.find((q: { number: string }) => q.number === 'TEST-LIC-W2');
      expect(renewed.status).toBe('pending');
      const accepted = await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/qualifications/${renewed.id}/accept`, {});
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      expect(accepted.body).toMatchObject({ status: 'approved', suspendedFor: null });
      expect((await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body).toMatchObject({ status: 'active', statusCode: null });
      const placed = await call(unit.operator, 'POST', '/v1/orders', { unitId: unit.id, productId: product.id, venueId: venue, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 50 });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      await app.diandan.hooks.settled();
      expect(events.filter((e) => e.id === application.id).map((e) => e.hook)).toEqual(['supplier.applied', 'supplier.approved', 'qualification.expiring', 'supplier.suspended', 'supplier.reinstated']);
    } finally {
      registry.now = () => new Date();
    }
  });
});

describe('suspension and blacklisting by administrators', () => {
  it('suspends and blacklists with the registry’s codes, keeps approved orders, and lifts a blacklisting when its time is up', async () => {
    const user = applicant('hall-owner');
    let application = await approve(call, reviewer, expectStatus(await call(user, 'POST', '/v1/supplier-applications', orgApplication({ name: '示范曲艺社（虚构）' })), 201, 'apply'));
    const supplier = actors.supplier(application.id, '440100', 'hall-owner');
    const product = await listedProduct(call, supplier, { title: '曲艺专场（虚构）', serviceableRegions: ['440103'] });
    // An order approved before the suspension continues to delivery.
    let approvedOrder = await placeOrder(call, unit.operator, { unitId: unit.id, productId: product.id, venueId: venue });
    for (const [who, action] of [[unit.operator, 'submit'], [streetOperator, 'approve'], [districtAdmin, 'approve']] as const) {
      approvedOrder = expectStatus(await act(call, who, approvedOrder, action), 200, action);
    }
    const act2 = async (who: Who, action: string, body?: object) => {
      const res = await call(who, 'POST', `/v1/supplier-applications/${application.id}/${action}`, body, ifMatch(application));
      if (res.status === 200) application = res.body;
      return res;
    };
    // A reviewer may not suspend: administrators do.
    expect((await act2(reviewer, 'suspend', { reason: '投诉核查中' })).status).toBe(403);
    expect((await act2(districtAdmin, 'suspend', { reason: '投诉核查中' })).status).toBe(200);
    expect((await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body).toMatchObject({ status: 'suspended', statusCode: 'REGISTRY_SUSPENDED' });
    const order = { unitId: unit.id, productId: product.id, venueId: venue, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 50 };
    expect(problem(await call(unit.operator, 'POST', '/v1/orders', order)).code).toBe('REGISTRY_SUSPENDED');
    const suspendedInKernel = (await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body;
    expect(problem(await call(cityAdmin, 'POST', `/v1/suppliers/${application.id}/reinstate`, { reason: '手工恢复' }, ifMatch(suspendedInKernel)))).toEqual({ status: 409, code: 'REGISTRY_SUSPENDED', problem: true });
    const scheduled = await act(call, supplier, approvedOrder, 'schedule', { scheduledOn: '2027-03-20' });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(200);

    // Blacklisted until a date: the code changes to SUPPLIER_BLACKLISTED; the kernel route cannot reinstate it.
    expect((await act2(districtAdmin, 'blacklist', { reason: '虚假材料', until: '2027-01-01' })).status).toBe(200);
    expect(application).toMatchObject({ status: 'blacklisted', blacklistedUntil: '2027-01-01', statusReason: '虚假材料' });
    expect(problem(await call(unit.operator, 'POST', '/v1/orders', order)).code).toBe('SUPPLIER_BLACKLISTED');
    const kernelSupplier = (await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body;
    expect(problem(await call(cityAdmin, 'POST', `/v1/suppliers/${application.id}/reinstate`, { reason: 'x' }, ifMatch(kernelSupplier))).code).toBe('SUPPLIER_BLACKLISTED');
    expect((await call(null, 'GET', `/v1/supplier-directory/${application.id}`)).status).toBe(404);

    // The job lifts it on its last day.
    const { registry, run } = registryOf(app);
    registry.now = () => new Date('2027-01-01T09:00:00Z');
    try {
      expect(await run('checkQualifications')).toMatchObject({ lifted: 1 });
    } finally {
      registry.now = () => new Date();
    }
    expect((await call(cityAdmin, 'GET', `/v1/suppliers/${application.id}`)).body).toMatchObject({ status: 'active' });
    expect((await call(null, 'GET', `/v1/supplier-directory/${application.id}`)).status).toBe(200);
    await app.diandan.hooks.settled();
    expect(events.filter((e) => e.id === application.id).map((e) => e.hook)).toEqual(['supplier.applied', 'supplier.approved', 'supplier.suspended', 'supplier.blacklisted', 'supplier.reinstated']);
  });

  it('rejects with reasons, refuses transitions the workflow does not allow, and stale versions', async () => {
    const user = applicant('rejected-owner');
    let application = expectStatus(await call(user, 'POST', '/v1/supplier-applications', orgApplication()), 201, 'apply');
    expect(problem(await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/approve`, undefined, ifMatch(application)))).toEqual({ status: 409, code: 'INVALID_TRANSITION', problem: true });
    application = expectStatus(await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/start-review`, undefined, ifMatch(application)), 200, 'start');
    expect(problem(await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/reject`, { reasons: ['x'] }, { 'if-match': '"v1"' })).code).toBe('PRECONDITION_FAILED');
    expect((await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/reject`, { reasons: ['  '] }, ifMatch(application))).body.code).toBe('REGISTRY_REASONS_REQUIRED');
    const rejected = await call(reviewer, 'POST', `/v1/supplier-applications/${application.id}/reject`, { reasons: ['资质不符'] }, ifMatch(application));
    expect(rejected.body).toMatchObject({ status: 'rejected', reasons: ['资质不符'] });
    // The applicant cannot approve itself, nor change a rejected application.
    expect((await call(user, 'POST', `/v1/supplier-applications/${application.id}/approve`, undefined, ifMatch(rejected.body))).status).toBe(403);
    expect(problem(await call(user, 'PATCH', `/v1/supplier-applications/${application.id}`, { description: 'x' }, ifMatch(rejected.body))).code).toBe('REGISTRY_NOT_EDITABLE');
    const audit = await call(cityAdmin, 'GET', `/v1/audit-log?entityType=supplier-application&entityId=${application.id}`);
    expect(audit.body.items.map((a: { action: string }) => a.action).sort()).toEqual(['supplier-application.apply', 'supplier-application.reject', 'supplier-application.start-review']);
  });
});
