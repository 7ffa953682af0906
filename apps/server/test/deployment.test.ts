import { createTestServer } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import deployment from '../diandan.config.js';

// The real deployment file, on a throw-away database.
let app: FastifyInstance;
beforeAll(async () => {
  const { database: _ignored, ...rest } = deployment;
  app = await createTestServer({ ...rest, logger: false });
});
afterAll(() => app?.close());

describe('the Guangzhou demo deployment', () => {
  it('seeds the 11 real districts under Guangzhou on first start', async () => {
    const res = await app.inject('/v1/regions/440100/children?limit=50');
    expect(res.statusCode).toBe(200);
    const districts = res.json().items;
    expect(districts).toHaveLength(11);
    expect(districts.map((d: { name: string }) => d.name)).toContain('天河区');
    expect(districts.every((d: { synthetic: boolean; level: string }) => !d.synthetic && d.level === 'district')).toBe(true);
    const tianhe = districts.find((d: { code: string }) => d.code === '440106');
    expect(tianhe.population).toBe(2241800);
  });

  it('marks invented streets and communities as synthetic', async () => {
    const res = await app.inject('/v1/regions/440106/subtree?limit=200');
    const below = res.json().items.filter((r: { code: string }) => r.code !== '440106');
    expect(below.length).toBeGreaterThan(0);
    expect(below.every((r: { synthetic: boolean }) => r.synthetic)).toBe(true);
    expect(new Set(below.map((r: { level: string }) => r.level))).toEqual(new Set(['street', 'community']));
  });

  it('does not seed twice', async () => {
    const before = await app.diandan.services.regions.count();
    const demo = app.diandan.plugins.find((p) => p.definition.name === 'demo-data')!;
    await demo.definition.ready!(demo.context, demo.services);
    expect(await app.diandan.services.regions.count()).toBe(before);
  });

  it('lists the deployment’s own population group next to the built-in ones', async () => {
    const res = await app.inject('/v1/population-groups?limit=200');
    const keys = res.json().items.map((g: { key: string }) => g.key);
    expect(keys).toContain('elderly');
    expect(keys.at(-1)).toBe('cantonese-opera-fans');
  });

  it('describes itself with four levels and its plugins', async () => {
    const res = await app.inject('/v1/deployment');
    expect(res.json()).toMatchObject({
      city: '广州市',
      levels: ['city', 'district', 'street', 'community'],
      plugins: [{ name: 'kernel' }, { name: 'demo-data' }],
    });
  });
});
