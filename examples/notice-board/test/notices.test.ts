import { actors, client, createTestServer, ifMatch, seedRegions, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from '../src/index.js';

let app: FastifyInstance;
let call: Call;
const street = actors.streetOperator('440103001');
beforeAll(async () => {
  app = await createTestServer({ plugins: [noticeBoard({ greeting: '各位居民', hideCategories: ['screening'] })] });
  await seedRegions(app); // TEST_REGIONS: 440100 → 440103 → 440103001 → …
  call = client(app);
});
afterAll(() => app?.close());

describe('notices', () => {
  it('lets region staff post a notice in their subtree, and anyone read them', async () => {
    const posted = await call(street, 'POST', '/v1/notices', { regionCode: '440103001', body: '周六粤剧进社区' });
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ body: '各位居民 周六粤剧进社区', postedBy: street.sub });
    const list = await call(null, 'GET', '/v1/notices?regionCode=440103001&limit=1');
    expect(list.body).toMatchObject({ items: [{ regionCode: '440103001' }], nextCursor: null });
  });

  it('answers a region outside the poster’s subtree as if it did not exist, and refuses non-staff', async () => {
    const outside = await call(street, 'POST', '/v1/notices', { regionCode: '440104', body: 'x' });
    expect([outside.status, outside.body.code]).toEqual([404, 'REGION_NOT_FOUND']);
    const supplier = await call(actors.supplier('7b0c9a5e-3f1d-4e2a-8b6c-9d0e1f2a3b4c'), 'POST', '/v1/notices', { regionCode: '440103001', body: 'x' });
    expect(supplier.status).toBe(403);
  });

  it('rejects a blank notice with 422, and replays a retried post', async () => {
    expect((await call(street, 'POST', '/v1/notices', { regionCode: '440103001', body: '  ' })).body.code).toBe('NOTICE_EMPTY');
    const headers = { 'idempotency-key': 'notice-once' };
    const first = await call(street, 'POST', '/v1/notices', { regionCode: '440103001', body: '停水通知' }, headers);
    const again = await call(street, 'POST', '/v1/notices', { regionCode: '440103001', body: '停水通知' }, headers);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('shows each unit its region’s newest notice, as extension data', async () => {
    const city = actors.cityAdmin();
    const unit = await call(city, 'POST', '/v1/units', { regionCode: '440103001', name: '示范文化站（虚构）', kind: 'cultural-station' });
    expect(unit.body.extensions).toEqual({ 'notice-board': { latest: '各位居民 停水通知', count: 2 } });
    const quiet = await call(city, 'POST', '/v1/units', { regionCode: '440104', name: '越秀文化站（虚构）', kind: 'cultural-station' });
    expect(quiet.body.extensions).toEqual({ 'notice-board': null });
    const renamed = await call(city, 'PATCH', `/v1/units/${quiet.body.id}`, { name: '越秀新文化站（虚构）' }, ifMatch(quiet.body));
    expect(renamed.body.extensions).toEqual({ 'notice-board': null });
  });

  it('audits each notice, and hides configured categories', async () => {
    const audit = await call(actors.districtAdmin('440103'), 'GET', '/v1/audit-log?entityType=notice');
    expect(audit.body.items[0]).toMatchObject({ action: 'notice.post', actorId: street.sub, regionCode: '440103001' });
    const categories = await call(null, 'GET', '/v1/categories?limit=200');
    expect(categories.body.items.map((c: { key: string }) => c.key)).not.toContain('screening');
  });
});
