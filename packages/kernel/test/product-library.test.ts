/**
 * The product library (产品库) through HTTP: the review workflow and who may drive
 * it, content versions, what each caller sees, every search filter (Chinese text
 * included, on both drivers), pagination, and the checks on product content.
 */
import { kernelTables } from '@diandan/kernel';
import {
  addSupplier,
  addUnit,
  addVenue,
  client,
  createTestServer,
  draftProduct,
  ifMatch,
  listedProduct,
  orderBody,
  productContent,
  reviewProduct,
  seedRegions,
  testActors,
  type Call,
  type Reply,
  type Who,
} from '@diandan/testing';
import { asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from './support.js';

const { cityAdmin, communityOperator, reviewer } = testActors;

const { productVersions } = kernelTables;

let app: FastifyInstance;
let call: Call;
let supplier: Who;
let otherSupplier: Who;
let unit: { id: string; operator: Who };

beforeAll(async () => {
  app = await createTestServer();
  await seedRegions(app);
  call = client(app);
  supplier = await addSupplier(call, '示范粤剧团（虚构）', 'troupe-a');
  otherSupplier = await addSupplier(call, '示范剪纸工作室（虚构）', 'troupe-b');
  unit = await addUnit(call, '440103001001', '测试社区文化室', 'unit-op-a');
});
afterAll(() => app?.close());

const transition = (who: Who, product: { id: string; version: number }, step: string, body?: object) =>
  call(who, 'POST', `/v1/products/${product.id}/${step}`, body, ifMatch(product));
const update = (who: Who, product: { id: string; version: number }, overrides: Record<string, unknown> = {}) =>
  call(who, 'PUT', `/v1/products/${product.id}`, productContent(overrides), ifMatch(product));
const ids = (reply: Reply) => (reply.body.items as { id: string }[]).map((p) => p.id);

describe('the review workflow', () => {
  it('only the product’s supplier submits; only reviewers take into review, list and reject', async () => {
    const draft = await draftProduct(call, supplier);
    expectProblem(await transition(otherSupplier, draft, 'submit'), 404, 'PRODUCT_NOT_FOUND');
    expectProblem(await transition(unit.operator, draft, 'submit'), 404, 'PRODUCT_NOT_FOUND');
    expectProblem(await transition(reviewer, draft, 'submit'), 403, 'FORBIDDEN');
    expectProblem(await transition(cityAdmin, draft, 'submit'), 403, 'FORBIDDEN');
    const submitted = (await transition(supplier, draft, 'submit')).body;
    expect(submitted).toMatchObject({ status: 'submitted', version: draft.version + 1, contentVersion: 1 });

    expectProblem(await transition(supplier, submitted, 'start-review'), 403, 'FORBIDDEN');
    expectProblem(await transition(cityAdmin, submitted, 'start-review'), 403, 'FORBIDDEN');
    const inReview = (await transition(reviewer, submitted, 'start-review')).body;
    expect(inReview.status).toBe('in_review');

    expectProblem(await transition(supplier, inReview, 'list'), 403, 'FORBIDDEN');
    expectProblem(await transition(cityAdmin, inReview, 'list'), 403, 'FORBIDDEN');
    expectProblem(await transition(supplier, inReview, 'reject', { reasons: ['自己驳回'] }), 403, 'FORBIDDEN');
    const listed = (await transition(reviewer, inReview, 'list')).body;
    expect(listed.status).toBe('listed');

    // Curators delist; so may the product's own supplier (withdrawing it), no other supplier.
    expectProblem(await transition(otherSupplier, listed, 'delist'), 403, 'FORBIDDEN');
    expectProblem(await transition(unit.operator, listed, 'delist'), 403, 'FORBIDDEN');
    expect((await transition(cityAdmin, listed, 'delist')).body.status).toBe('delisted');
  });

  it('a supplier withdraws its own listed product; listing it again needs a new review', async () => {
    const listed = await listedProduct(call, supplier);
    const withdrawn = (await transition(supplier, listed, 'delist')).body;
    expect(withdrawn).toMatchObject({ status: 'delisted', version: listed.version + 1 });
    expect(ids(await call(unit.operator, 'GET', '/v1/products?limit=200'))).not.toContain(listed.id);
    const again = (await transition(supplier, withdrawn, 'submit')).body;
    expect(again.status).toBe('submitted');
    expectProblem(await transition(supplier, again, 'start-review'), 403, 'FORBIDDEN');
  });

  it('refuses transitions the workflow does not have: 409 INVALID_TRANSITION', async () => {
    const draft = await draftProduct(call, supplier);
    expectProblem(await transition(reviewer, draft, 'start-review'), 409, 'INVALID_TRANSITION');
    expectProblem(await transition(reviewer, draft, 'list'), 409, 'INVALID_TRANSITION');
    const submitted = (await transition(supplier, draft, 'submit')).body;
    expectProblem(await transition(supplier, submitted, 'submit'), 409, 'INVALID_TRANSITION');
    expectProblem(await transition(reviewer, submitted, 'list'), 409, 'INVALID_TRANSITION');
    expectProblem(await transition(reviewer, submitted, 'reject', { reasons: ['未审先拒'] }), 409, 'INVALID_TRANSITION');
    const listed = await reviewProduct(call, supplier, submitted, ['start-review', 'list']);
    expectProblem(await transition(reviewer, listed, 'list'), 409, 'INVALID_TRANSITION');
    expectProblem(await transition(supplier, listed, 'submit'), 409, 'INVALID_TRANSITION');
  });

  it('a rejection needs reasons', async () => {
    const inReview = await reviewProduct(call, supplier, await draftProduct(call, supplier), ['submit', 'start-review']);
    expectProblem(await transition(reviewer, inReview, 'reject'), 400, 'VALIDATION_FAILED');
    const none = await transition(reviewer, inReview, 'reject', { reasons: [] });
    expectProblem(none, 400, 'VALIDATION_FAILED');
    expect(none.body.errors).toEqual([expect.objectContaining({ field: 'body.reasons' })]);
    expectProblem(await transition(reviewer, inReview, 'reject', { reasons: ['  '] }), 422, 'REJECTION_REASONS_REQUIRED');
    const now = await call(reviewer, 'GET', `/v1/products/${inReview.id}`);
    expect(now.body).toMatchObject({ status: 'in_review', version: inReview.version, rejectionReasons: null });
  });

  it('a rejected product is changed (If-Match), resubmitted, reviewed again and listed; every version is kept', async () => {
    const draft = await draftProduct(call, supplier, { title: '初版标题' });
    expect(draft).toMatchObject({ status: 'draft', version: 1, contentVersion: 1 });
    // Drafts can be edited as often as needed; each edit is a new content version.
    const edited = (await update(supplier, draft, { title: '第二版标题' })).body;
    expect(edited).toMatchObject({ title: '第二版标题', version: 2, contentVersion: 2 });

    const inReview = await reviewProduct(call, supplier, edited, ['submit', 'start-review']);
    expect(inReview.contentVersion).toBe(2);
    const rejected = (await transition(reviewer, inReview, 'reject', { reasons: ['宣传材料不全', '演出时长不符'] })).body;
    expect(rejected).toMatchObject({ status: 'rejected', rejectionReasons: ['宣传材料不全', '演出时长不符'] });
    // The supplier reads why.
    expect((await call(supplier, 'GET', `/v1/products/${draft.id}`)).body.rejectionReasons).toEqual(['宣传材料不全', '演出时长不符']);

    expectProblem(await call(supplier, 'PUT', `/v1/products/${draft.id}`, productContent({ title: '第三版标题' })), 428, 'PRECONDITION_REQUIRED');
    expectProblem(await update(supplier, edited, { title: '第三版标题' }), 412, 'PRECONDITION_FAILED');
    const fixed = (await update(supplier, rejected, { title: '第三版标题', durationMinutes: 120 })).body;
    expect(fixed).toMatchObject({ status: 'rejected', title: '第三版标题', durationMinutes: 120, contentVersion: 3, version: rejected.version + 1 });

    const resubmitted = (await transition(supplier, fixed, 'submit')).body;
    expect(resubmitted).toMatchObject({ status: 'submitted', rejectionReasons: null, contentVersion: 3 });
    const listed = await reviewProduct(call, supplier, resubmitted, ['start-review', 'list']);
    expect(listed).toMatchObject({ status: 'listed', title: '第三版标题', contentVersion: 3 });

    const versions = await app.diandan.database.db
      .select()
      .from(productVersions)
      .where(eq(productVersions.productId, draft.id))
      .orderBy(asc(productVersions.contentVersion));
    expect(versions.map((v) => [v.contentVersion, (v.content as { title: string }).title, v.savedBy])).toEqual([
      [1, '初版标题', 'troupe-a'],
      [2, '第二版标题', 'troupe-a'],
      [3, '第三版标题', 'troupe-a'],
    ]);
    expect((versions[2]!.content as { durationMinutes: number }).durationMinutes).toBe(120);
  });

  it('a submitted, in-review or listed product cannot be edited: 409 PRODUCT_NOT_EDITABLE; a delisted one can', async () => {
    const submitted = await reviewProduct(call, supplier, await draftProduct(call, supplier), ['submit']);
    expectProblem(await update(supplier, submitted), 409, 'PRODUCT_NOT_EDITABLE');
    const inReview = await reviewProduct(call, supplier, submitted, ['start-review']);
    expectProblem(await update(supplier, inReview), 409, 'PRODUCT_NOT_EDITABLE');
    const listed = await reviewProduct(call, supplier, inReview, ['list']);
    expectProblem(await update(supplier, listed), 409, 'PRODUCT_NOT_EDITABLE');
    expect((await call(supplier, 'GET', `/v1/products/${listed.id}`)).body).toMatchObject({ contentVersion: 1, version: listed.version });

    const delisted = await reviewProduct(call, supplier, listed, ['delist']);
    const edited = await update(supplier, delisted, { title: '改版后重新上架' });
    expect(edited.body).toMatchObject({ status: 'delisted', contentVersion: 2 });
    const relisted = await reviewProduct(call, supplier, edited.body, ['submit', 'start-review', 'list']);
    expect(relisted).toMatchObject({ status: 'listed', title: '改版后重新上架' });
  });

  it('only the product’s supplier edits it', async () => {
    const draft = await draftProduct(call, supplier);
    expectProblem(await update(otherSupplier, draft), 404, 'PRODUCT_NOT_FOUND');
    expectProblem(await update(reviewer, draft), 403, 'FORBIDDEN');
    expectProblem(await update(cityAdmin, draft), 403, 'FORBIDDEN');
    const listed = await listedProduct(call, supplier);
    // Another supplier sees a listed product, but may not change it.
    expectProblem(await update(otherSupplier, listed), 403, 'FORBIDDEN');
    // A supplier token without a supplier id writes nothing.
    expectProblem(await call({ roles: ['supplier'], region: '440100', sub: 'nobody' }, 'POST', '/v1/products', productContent()), 403, 'FORBIDDEN');
  });

  it('transitions need If-Match too', async () => {
    const draft = await draftProduct(call, supplier);
    expectProblem(await call(supplier, 'POST', `/v1/products/${draft.id}/submit`), 428, 'PRECONDITION_REQUIRED');
    expectProblem(await call(supplier, 'POST', `/v1/products/${draft.id}/submit`, undefined, { 'if-match': '"v9"' }), 412, 'PRECONDITION_FAILED');
    const read = await call(supplier, 'GET', `/v1/products/${draft.id}`);
    expect(read.etag).toBe('"v1"');
    expect((await call(supplier, 'POST', `/v1/products/${draft.id}/submit`, undefined, { 'if-match': read.etag! })).status).toBe(200);
  });
});

describe('visibility', () => {
  it('a draft is 404 to other suppliers and units, visible to its supplier, reviewers and city admins', async () => {
    const draft = await draftProduct(call, supplier);
    for (const who of [otherSupplier, unit.operator, communityOperator, { roles: ['district-admin'], region: '440103' } as Who]) {
      expectProblem(await call(who, 'GET', `/v1/products/${draft.id}`), 404, 'PRODUCT_NOT_FOUND');
    }
    for (const who of [supplier, reviewer, cityAdmin]) {
      const res = await call(who, 'GET', `/v1/products/${draft.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: draft.id, description: expect.any(String), media: [] });
    }
    expectProblem(await call(null, 'GET', `/v1/products/${draft.id}`), 401, 'UNAUTHENTICATED');
  });

  it('lists show listed products only, unless a curator or the owner asks for another state', async () => {
    const draft = await draftProduct(call, supplier, { title: '可见性草稿' });
    const others = await draftProduct(call, otherSupplier, { title: '别家的草稿' });
    const listed = await listedProduct(call, supplier, { title: '可见性上架' });
    for (const who of [supplier, reviewer, cityAdmin, unit.operator]) {
      const res = await call(who, 'GET', '/v1/products?limit=200');
      expect(res.body.items.every((p: { status: string }) => p.status === 'listed')).toBe(true);
      expect(ids(res)).toContain(listed.id);
      expect(ids(res)).not.toContain(draft.id);
    }
    const curated = await call(reviewer, 'GET', '/v1/products?status=draft&limit=200');
    expect(ids(curated)).toEqual(expect.arrayContaining([draft.id, others.id]));
    const own = await call(supplier, 'GET', '/v1/products?status=draft&limit=200');
    expect(ids(own)).toContain(draft.id);
    expect(own.body.items.every((p: { supplierId: string }) => p.supplierId === supplier.supplier)).toBe(true);
    expect(ids(await call(supplier, 'GET', `/v1/products?status=draft&supplierId=${otherSupplier.supplier}`))).toEqual([]);
    expect(ids(await call(unit.operator, 'GET', '/v1/products?status=draft'))).toEqual([]);
    // Lists show summaries, not the long text.
    expect(curated.body.items[0]).not.toHaveProperty('description');
  });

  it('a delisted product leaves the default list at once and cannot be ordered', async () => {
    const venueId = await addVenue(call, '440103001001', 200);
    const product = await listedProduct(call, supplier, { title: '即将下架的讲座', category: 'lecture' });
    const before = await call(unit.operator, 'GET', '/v1/products?category=lecture&limit=200');
    expect(ids(before)).toContain(product.id);
    // The order can be placed while it is listed…
    expect((await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId }))).status).toBe(201);

    const delisted = (await transition(reviewer, product, 'delist')).body;
    expect(delisted.status).toBe('delisted');
    // …the same (cached) search no longer shows it…
    expect(ids(await call(unit.operator, 'GET', '/v1/products?category=lecture&limit=200'))).not.toContain(product.id);
    expect(ids(await call(reviewer, 'GET', '/v1/products?limit=200'))).not.toContain(product.id);
    expect(ids(await call(reviewer, 'GET', '/v1/products?status=delisted&limit=200'))).toContain(product.id);
    // …nobody but its supplier and curators can read it…
    expectProblem(await call(unit.operator, 'GET', `/v1/products/${product.id}`), 404, 'PRODUCT_NOT_FOUND');
    // …and it cannot be ordered.
    expectProblem(
      await call(unit.operator, 'POST', '/v1/orders', orderBody({ unitId: unit.id, productId: product.id, venueId })),
      404,
      'PRODUCT_NOT_FOUND',
    );
  });
});

describe('content checks', () => {
  it.each([
    ['an unknown category', { category: 'cooking' }, 'category "cooking" does not exist'],
    ['an unknown population group', { targetGroups: ['elderly', 'astronauts'] }, 'population groups astronauts do not exist'],
    ['an unknown region', { serviceableRegions: ['440103', '999999'] }, 'region 999999 does not exist'],
    ['audienceMin above audienceMax', { audienceMin: 300, audienceMax: 50 }, 'audienceMin is larger than audienceMax'],
  ])('refuses %s: 422 PRODUCT_INVALID', async (_name, overrides, problem) => {
    const created = await call(supplier, 'POST', '/v1/products', productContent(overrides));
    expectProblem(created, 422, 'PRODUCT_INVALID');
    expect(created.body.details.problems).toEqual([problem]);
    const draft = await draftProduct(call, supplier);
    const updated = await update(supplier, draft, overrides);
    expectProblem(updated, 422, 'PRODUCT_INVALID');
    expect((await call(supplier, 'GET', `/v1/products/${draft.id}`)).body).toMatchObject({ version: 1, contentVersion: 1 });
  });

  it('names every problem at once', async () => {
    const res = await call(supplier, 'POST', '/v1/products', productContent({ category: 'cooking', audienceMin: 10, audienceMax: 5, serviceableRegions: ['000000'] }));
    expectProblem(res, 422, 'PRODUCT_INVALID');
    expect(res.body.details.problems).toHaveLength(3);
  });

  it('refuses malformed content with 400 naming the fields', async () => {
    const res = await call(supplier, 'POST', '/v1/products', productContent({ category: 'Not A Key', costPerSession: -1, targetGroups: [] }));
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.category', 'body.costPerSession', 'body.targetGroups']);
  });

  it('only suppliers draft products', async () => {
    for (const who of [cityAdmin, reviewer, unit.operator]) {
      expectProblem(await call(who, 'POST', '/v1/products', productContent()), 403, 'FORBIDDEN');
    }
  });
});

describe('pagination', () => {
  it('walks more than one page without gaps or repeats', async () => {
    const walker = await addSupplier(call, '分页测试供应商（虚构）', 'walker');
    const made: string[] = [];
    for (let i = 0; i < 23; i++) made.push((await listedProduct(call, walker, { title: `分页产品${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Reply = await call(unit.operator, 'GET', `/v1/products?supplierId=${walker.supplier}&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(10);
      seen.push(...ids(res));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(23);
    expect(new Set(seen)).toEqual(new Set(made));
    expect([...seen].sort()).toEqual(seen);
  });

  it('refuses a tampered cursor or one from another list: 400 INVALID_CURSOR', async () => {
    expectProblem(await call(unit.operator, 'GET', '/v1/products?cursor=not-a-cursor'), 400, 'INVALID_CURSOR');
    const orders = Buffer.from(JSON.stringify(['orders.by-id', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    expectProblem(await call(unit.operator, 'GET', `/v1/products?cursor=${orders}`), 400, 'INVALID_CURSOR');
  });
});

describe('search filters', () => {
  // A library of its own, so that every expected result is exact.
  let lib: FastifyInstance;
  let search: Call;
  let a: Who;
  let b: Who;
  const p: Record<string, string> = {};

  beforeAll(async () => {
    lib = await createTestServer();
    await seedRegions(lib);
    search = client(lib);
    a = await addSupplier(search, '示范粤剧团（虚构）', 'lib-a');
    b = await addSupplier(search, '示范剪纸工作室（虚构）', 'lib-b');
    const add = async (key: string, who: Who, overrides: Record<string, unknown>) => {
      p[key] = (await listedProduct(search, who, overrides)).id;
    };
    await add('opera', a, {
      title: '粤剧折子戏专场',
      summary: '经典剧目选段，适合长者观赏',
      category: 'performance',
      targetGroups: ['elderly', 'general-public'],
      serviceableRegions: ['440103'],
      costPerSession: 3000,
    });
    await add('picturebooks', a, {
      title: '少儿绘本阅读会',
      summary: '亲子共读与绘本 DIY 手工',
      category: 'reading-promotion',
      targetGroups: ['children'],
      serviceableRegions: ['440104'],
      costPerSession: 800,
    });
    await add('papercut', b, {
      title: '非遗剪纸体验课',
      summary: '广府剪纸传承人现场教学',
      category: 'intangible-heritage',
      targetGroups: ['children', 'elderly'],
      serviceableRegions: ['440100'],
      costPerSession: 1500,
    });
    await add('choir', b, {
      title: '社区合唱培训',
      summary: '声乐基础、合唱排练与粤剧唱腔入门',
      category: 'training',
      targetGroups: ['young-adults'],
      serviceableRegions: ['440103001'],
      costPerSession: 5000,
    });
    // Matching words, but not listed: never found by the default search.
    const delisted = await listedProduct(search, a, { title: '粤剧经典唱段（已下架）', category: 'performance', targetGroups: ['elderly'] });
    await reviewProduct(search, a, delisted, ['delist']);
    await draftProduct(search, a, { title: '粤剧新编（草稿）', category: 'performance' });
    await reviewProduct(search, b, await draftProduct(search, b, { title: '剪纸进阶（审核中）', category: 'intangible-heritage' }), ['submit']);
  });
  afterAll(() => lib?.close());

  const find = async (query: string): Promise<string[]> => {
    const res = await search(communityOperator, 'GET', `/v1/products?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const names = Object.fromEntries(Object.entries(p).map(([k, v]) => [v, k]));
    return (res.body.items as { id: string }[]).map((x) => names[x.id] ?? x.id).sort();
  };
  const q = (text: string) => `q=${encodeURIComponent(text)}`;

  it.each([
    ['nothing', '', ['choir', 'opera', 'papercut', 'picturebooks']],
    ['category', 'category=performance', ['opera']],
    ['category', 'category=training', ['choir']],
    ['category', 'category=exhibition', []],
    ['group', 'group=children', ['papercut', 'picturebooks']],
    ['group', 'group=elderly', ['opera', 'papercut']],
    ['group', 'group=soldiers', []],
    // Deliverable to a region: the product serves it or one of its ancestors.
    ['region', 'region=440103001001', ['choir', 'opera', 'papercut']],
    ['region', 'region=440103002', ['opera', 'papercut']],
    ['region', 'region=440103', ['opera', 'papercut']],
    ['region', 'region=440104', ['papercut', 'picturebooks']],
    ['region', 'region=440100', ['papercut']],
    ['region', 'region=999999', []],
    ['q in the title', q('粤剧'), ['choir', 'opera']],
    ['q in the summary', q('传承人'), ['papercut']],
    ['q in the title', q('剪纸'), ['papercut']],
    ['q, two characters of a word', q('绘本'), ['picturebooks']],
    ['q, case-insensitive Latin', q('diy'), ['picturebooks']],
    ['q, nowhere', q('交响乐'), []],
    ['q, LIKE wildcards taken literally', q('%'), []],
    ['q, LIKE wildcards taken literally', q('_'), []],
    ['costMin', 'costMin=1500', ['choir', 'opera', 'papercut']],
    ['costMax', 'costMax=1500', ['papercut', 'picturebooks']],
    ['cost range', 'costMin=1000&costMax=3000', ['opera', 'papercut']],
    ['cost range', 'costMin=6000', []],
    ['supplierId', 'supplierId=B', ['choir', 'papercut']],
    ['supplierId', 'supplierId=A', ['opera', 'picturebooks']],
    ['combined', `${q('粤剧')}&region=440104`, []],
    ['combined', 'group=children&region=440104', ['papercut', 'picturebooks']],
    ['combined', `${q('粤剧')}&group=elderly&region=440103001001&costMax=4000`, ['opera']],
  ])('%s: ?%s', async (_filter, query, expected) => {
    const resolved = query.replace('supplierId=A', `supplierId=${a.supplier}`).replace('supplierId=B', `supplierId=${b.supplier}`);
    expect(await find(resolved)).toEqual(expected);
  });

  it('curators search other states with the same filters', async () => {
    const res = await search(reviewer, 'GET', `/v1/products?status=draft&${q('粤剧')}`);
    expect(res.body.items.map((x: { title: string }) => x.title)).toEqual(['粤剧新编（草稿）']);
    const submitted = await search(reviewer, 'GET', '/v1/products?status=submitted&category=intangible-heritage');
    expect(submitted.body.items.map((x: { title: string }) => x.title)).toEqual(['剪纸进阶（审核中）']);
    const delisted = await search(reviewer, 'GET', `/v1/products?status=delisted&group=elderly`);
    expect(delisted.body.items.map((x: { title: string }) => x.title)).toEqual(['粤剧经典唱段（已下架）']);
  });

  it('refuses malformed filters with 400', async () => {
    for (const query of ['category=Not%20A%20Key', 'costMin=-1', 'costMax=abc', 'supplierId=not-a-uuid', 'q=', 'limit=0', 'limit=201', 'status=archived']) {
      expectProblem(await search(communityOperator, 'GET', `/v1/products?${query}`), 400, 'VALIDATION_FAILED');
    }
  });
});
