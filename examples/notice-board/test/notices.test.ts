import { createTestServer, seedRegions } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from '../src/index.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await createTestServer({ plugins: [noticeBoard({ greeting: '各位居民', hideCategories: ['screening'] })] });
  await seedRegions(app); // TEST_REGIONS: 440100 → 440103 → …
});
afterAll(() => app?.close());

describe('notices', () => {
  it('posts and lists a notice', async () => {
    const posted = await app.inject({ method: 'POST', url: '/v1/notices', payload: { regionCode: '440103', body: '周六粤剧进社区' } });
    expect(posted.statusCode).toBe(201);
    expect(posted.json().body).toBe('各位居民 周六粤剧进社区');

    const list = await app.inject('/v1/notices?regionCode=440103&limit=1');
    expect(list.json()).toMatchObject({ items: [{ regionCode: '440103' }], nextCursor: null });
  });

  it('answers an unknown region with a problem', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notices', payload: { regionCode: '999999', body: 'x' } });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('REGION_NOT_FOUND');
  });

  it('rejects a blank notice with 422', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notices', payload: { regionCode: '440103', body: '  ' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('NOTICE_EMPTY');
  });

  it('hides configured categories', async () => {
    const res = await app.inject('/v1/categories?limit=200');
    expect(res.json().items.map((c: { key: string }) => c.key)).not.toContain('screening');
  });
});
