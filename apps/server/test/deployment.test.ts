import { createTestServer } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@diandan/kernel';
import deployment, { DEVELOPMENT_SECRET } from '../diandan.config.js';
import { DEMO_PRODUCTS, DEMO_UNITS, DEMO_USERS, DEMO_VENUES } from '../src/demo/catalogue.js';
import { DELIVERY_UNITS } from '../src/demo/deliveries.js';

// The real deployment file, on a throw-away database.
let app: FastifyInstance;
beforeAll(async () => {
  const { database: _ignored, ...rest } = deployment;
  app = await createTestServer({ ...rest, logger: false });
  // The demo year of deliveries is seeded by a job ~10 s after start (seed-deliveries, one
  // transaction: its units and deliveries appear together). Wait for it, so every test sees
  // the deployment as a visitor would a minute after start.
  const u = DEMO_USERS.find((x) => x.sub === 'demo-city-admin')!;
  const headers = { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...u, roles: [...u.roles] })}` };
  const units = async () => (await app.inject({ url: '/v1/units?limit=100', headers })).json().items.length as number;
  for (let i = 0; i < 200 && (await units()) < DEMO_UNITS.length + DELIVERY_UNITS.length; i++) await new Promise((r) => setTimeout(r, 250));
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
    });
    expect(res.json().plugins.map((p: { name: string }) => p.name).sort()).toEqual(['demo-data', 'kernel', 'matching', 'procurement', 'registry-demo', 'reporting', 'supplier-registry', 'survey', 'venues']);
  });
});

describe('demo users', () => {
  const tokenOf = async (sub: string) => {
    const user = DEMO_USERS.find((u) => u.sub === sub)!;
    return `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...user, roles: [...user.roles] })}`;
  };

  it('see the demo units of their own subtree only', async () => {
    const street = await app.inject({ url: '/v1/units', headers: { authorization: await tokenOf('demo-street-operator') } });
    expect(street.statusCode).toBe(200);
    expect(street.json().items.map((u: { regionCode: string }) => u.regionCode).sort()).toEqual(['440103001', '440103001001']);
    const city = await app.inject({ url: '/v1/units', headers: { authorization: await tokenOf('demo-city-admin') } });
    // The four ordering demo units and the reporting demo's delivering unit in every district.
    expect(city.json().items).toHaveLength(DEMO_UNITS.length + DELIVERY_UNITS.length);
  });

  it('can read the supplier directory and venues', async () => {
    const auth = { authorization: await tokenOf('demo-community-operator') };
    // The three kernel demo suppliers, and the registry's approved, suspended and blacklisted ones.
    expect((await app.inject({ url: '/v1/suppliers', headers: auth })).json().items).toHaveLength(6);
    const venues = (await app.inject({ url: '/v1/venues', headers: auth })).json().items;
    expect(venues.map((v: { regionCode: string }) => v.regionCode)).toEqual(['440103001001']);
  });
});

describe('the supplier registry demo', () => {
  it('has one application in each state, and only approved suppliers in the public directory', async () => {
    const admin = DEMO_USERS.find((u) => u.sub === 'demo-city-admin')!;
    const auth = { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...admin, roles: [...admin.roles] })}` };
    const list = (await app.inject({ url: '/v1/supplier-applications?limit=50', headers: auth })).json().items;
    expect(list.map((a: { status: string }) => a.status).sort()).toEqual(['applied', 'approved', 'blacklisted', 'changes_requested', 'in_review', 'suspended']);
    expect(list.every((a: { contacts: { phone: string }[] }) => a.contacts.every((c) => c.phone.includes('****')))).toBe(true);
    const directory = (await app.inject('/v1/supplier-directory')).json().items;
    expect(directory.map((d: { name: string }) => d.name)).toEqual(['示范舞蹈团（虚构）']);
  });

  it('shows a product with a poster, uploaded through the registry and reviewed again, to anyone', async () => {
    const media = (await app.inject(`/v1/products/${DEMO_PRODUCTS[0].id}/media`)).json().items;
    expect(media).toEqual([expect.objectContaining({ kind: 'image', contentType: 'image/png', caption: expect.stringContaining('海报') })]);
    const poster = await app.inject(media[0].url);
    expect(poster.statusCode).toBe(200);
    expect(poster.headers['content-type']).toBe('image/png');
    expect(poster.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    const u = DEMO_USERS.find((x) => x.sub === 'demo-community-operator')!;
    const auth = { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...u, roles: [...u.roles] })}` };
    const product = (await app.inject({ url: `/v1/products/${DEMO_PRODUCTS[0].id}`, headers: auth })).json();
    expect(product.status).toBe('listed');
    expect(product.extensions['supplier-registry'].media).toEqual({ count: 1, cover: media[0] });
  });

  it('does not seed twice', async () => {
    const demo = app.diandan.plugins.find((p) => p.definition.name === 'registry-demo')!;
    await demo.definition.ready!(demo.context, demo.services);
    expect((await app.inject('/v1/supplier-directory')).json().items).toHaveLength(1);
  });
});

describe('demo ordering', () => {
  it('lets the demo users place an order and approve the waiting one', async () => {
    const user = async (sub: string) => {
      const u = DEMO_USERS.find((x) => x.sub === sub)!;
      return { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...u, roles: [...u.roles] })}` };
    };
    const unitOperator = await user('demo-unit-operator');
    const products = await app.inject({ url: `/v1/products?q=${encodeURIComponent('粤剧')}`, headers: unitOperator });
    expect(products.json().items).toHaveLength(1);
    const year = new Date().getFullYear();
    const placed = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: unitOperator,
      payload: {
        unitId: DEMO_UNITS[0].id,
        productId: products.json().items[0].id,
        venueId: DEMO_VENUES[0].id,
        windowStart: `${year}-12-01`,
        windowEnd: `${year}-12-20`,
        expectedAudience: 70,
      },
    });
    expect(placed.statusCode).toBe(201);

    const street = await user('demo-street-operator');
    const waiting = await app.inject({ url: '/v1/orders?awaitingMyApproval=true', headers: street });
    expect(waiting.json().items.map((o: { id: string }) => o.id)).toEqual(['00000000-0000-4000-8000-00000000e001']);
    const order = await app.inject({ url: '/v1/orders/00000000-0000-4000-8000-00000000e001', headers: street });
    const approved = await app.inject({
      method: 'POST',
      url: '/v1/orders/00000000-0000-4000-8000-00000000e001/approve',
      headers: { ...street, 'if-match': order.headers.etag as string },
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approving', awaitingApprovalBy: '440103' });
  });
});

describe('the survey demo', () => {
  it('shows its synthetic responses in the public needs map and its demand requests as demand records', async () => {
    const map = (await app.inject('/v1/public/needs-map?parent=440100')).json();
    expect(map.respondents).toBeGreaterThanOrEqual(300);
    const records = await app.diandan.plugins.find((p) => p.definition.name === 'survey')!.services as { demand: { recordsIn(q: { regionCode: string }): Promise<{ source: string }[]> } };
    expect((await records.demand.recordsIn({ regionCode: '440100' })).some((r) => r.source === 'unit-request')).toBe(true);
  });
});

describe('the reporting demo', () => {
  it('shows a year of deliveries and feedback across every district in the KPIs and equity', async () => {
    const u = DEMO_USERS.find((x) => x.sub === 'demo-city-admin')!;
    const headers = { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...u, roles: [...u.roles] })}` };
    const year = new Date().getFullYear();
    const kpis = await app.inject({ url: `/v1/reporting/kpis?year=${year}`, headers });
    expect(kpis.statusCode, kpis.body).toBe(200);
    const k = kpis.json();
    expect(k.deliveries).toBe(22);
    expect(k.responses).toBeGreaterThanOrEqual(2 * 22);
    expect(k.satisfactionRate).toBeGreaterThan(0.5);
    expect(k.byDistrict).toHaveLength(11);
    expect(k.byDistrict.every((d: { deliveries: number }) => d.deliveries > 0)).toBe(true);
    // Street two of each district, and Liwan's and Tianhe's street one.
    expect(k.coverage.streets.covered).toBe(13);
    expect(k.budget.spent).toBeGreaterThan(0);
    const equity = await app.inject({ url: `/v1/reporting/equity?year=${year}`, headers });
    expect(equity.json().measures.deliveries.giniDistricts).toBeGreaterThan(0);
  });
});


describe('the matching demo', () => {
  it('has started a city-wide run and closed a residents’ ballot with both rules’ results', async () => {
    const u = DEMO_USERS.find((x) => x.sub === 'demo-city-admin')!;
    const headers = { authorization: `Bearer ${await signDevelopmentToken(DEVELOPMENT_SECRET, { ...u, roles: [...u.roles] })}` };
    const runs = (await app.inject({ url: '/v1/matching/runs', headers })).json().items;
    expect(runs).toHaveLength(1);
    expect(runs[0].regionCode).toBe('440100');
    const ballots = (await app.inject({ url: '/v1/matching/ballots', headers })).json().items;
    expect(ballots.map((b: { status: string }) => b.status)).toEqual(['closed']);
    const ballot = (await app.inject({ url: `/v1/matching/ballots/${ballots[0].id}`, headers })).json();
    expect(ballot.votes).toBe(12);
    expect(ballot.result.equalShares.funded.length).toBeGreaterThan(0);
    expect(ballot.result.mostVotes.funded.length).toBeGreaterThan(0);
  });
});
