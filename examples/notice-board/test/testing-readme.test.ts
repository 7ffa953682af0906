import { actors, client, createTestServer, seedRegions, testDriver } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from '../src/index.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestServer({ plugins: [noticeBoard({ greeting: '各位居民' })] });
  await seedRegions(app);
});
afterAll(() => app?.close());

describe('notices', () => {
  it('posts a notice for a region, as its district admin', async () => {
    const call = client(app);
    const res = await call(actors.districtAdmin('440103'), 'POST', '/v1/notices', { regionCode: '440103', body: '周六粤剧进社区' });
    expect(res.status).toBe(201);
    expect(res.body.body).toBe('各位居民 周六粤剧进社区');
  });

  it('lists the districts of the test city', async () => {
    const res = await app.inject('/v1/regions/440100/children');
    expect(res.json().items.map((r: { code: string }) => r.code)).toEqual(['440103', '440104']);
  });

  it('is ready on the driver under test', async () => {
    expect((await app.inject('/ready')).json().database).toBe(testDriver());
  });
});
