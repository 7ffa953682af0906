import type { Actor, KernelServices, Order, RegionInput } from '@diandan/kernel';
import type { FastifyInstance } from 'fastify';

/** A square boundary (GeoJSON Polygon) for a synthetic street. */
const square = (x: number, y: number) => ({ type: 'Polygon', coordinates: [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]] });

/**
 * A small hand-built city (all synthetic): district A (440103, 200,000 residents) with
 * streets A1 (120,000; communities A1a, A1b) and A2 (80,000; community A2a), district B
 * (440104, 100,000) with street B1 (100,000; community B1a). City: 300,000.
 */
export const REGIONS: RegionInput[] = [
  { code: '440100', level: 'city', name: '测试市', population: 300_000, synthetic: true },
  { code: '440103', parentCode: '440100', level: 'district', name: '甲区', population: 200_000, synthetic: true },
  { code: '440104', parentCode: '440100', level: 'district', name: '乙区', population: 100_000, synthetic: true },
  { code: '440103001', parentCode: '440103', level: 'street', name: '甲一街', population: 120_000, synthetic: true, geometry: square(0, 0) } as RegionInput,
  { code: '440103002', parentCode: '440103', level: 'street', name: '甲二街', population: 80_000, synthetic: true, geometry: square(1, 0) } as RegionInput,
  { code: '440104001', parentCode: '440104', level: 'street', name: '乙一街', population: 100_000, synthetic: true, geometry: square(0, 1) } as RegionInput,
  { code: '440103001001', parentCode: '440103001', level: 'community', name: '甲一甲社区', synthetic: true },
  { code: '440103001002', parentCode: '440103001', level: 'community', name: '甲一乙社区', synthetic: true },
  { code: '440103002001', parentCode: '440103002', level: 'community', name: '甲二甲社区', synthetic: true },
  { code: '440104001001', parentCode: '440104001', level: 'community', name: '乙一甲社区', synthetic: true },
];

const ROLE_AT: Record<string, string> = { city: 'city-admin', district: 'district-admin', street: 'street-operator', community: 'community-operator' };

export interface Dataset {
  orders: { o1: Order; o2: Order; o3: Order; o4: Order; earlier: Order; submitted: Order; cancelled: Order };
  products: { p1: string; p2: string; p3: string };
  suppliers: { s1: string; s2: string };
}

/**
 * Seeds the dataset through the kernel's services (never its tables):
 *
 * | order | unit (region) | product | delivered | expected → actual | ratings (group) |
 * | o1 | A1a | P1 performance, 1000 | 2026-03-10 | 120 → 100 | 5 (elderly), 4 (elderly), 3 |
 * | o2 | A1a | P2 lecture, 500 | 2026-03-20 | 50 → 50 | 2 (children), 5 |
 * | o3 | A2 (street) | P1 | 2026-05-05 | 150 → 200 | 4, 4, 5, 1 |
 * | o4 | B1a | P2 | 2026-05-15 | 60 → 30 | 3 (elderly) |
 * | earlier | A1a | P1 | 2025-04-01 | 80 → 80 | 5 |
 * | submitted | B1a | P1 | — (window 2026-06) | | |
 * | cancelled | A2 | P2 | — (window 2026-07) | | |
 *
 * P1 aims at the elderly, P2 at children and the elderly; P3 (exhibition, disabled) is
 * listed and never ordered. Units: A1a, A1b (orders nothing), A2, B1a, each with a venue.
 */
export async function seedDataset(app: FastifyInstance): Promise<Dataset> {
  const kernel: KernelServices = app.diandan.services;
  await kernel.regions.import(REGIONS);
  const as = (roles: string[], extra: { region?: string; unit?: string; supplier?: string } = {}): Promise<Actor> => kernel.access.systemActor('testing', { roles, ...extra });
  const city = await as(['city-admin'], { region: '440100' });
  const reviewer = await as(['reviewer'], { region: '440100' });
  const level = (code: string) => REGIONS.find((r) => r.code === code)!.level;
  const staff = (code: string) => as([ROLE_AT[level(code)]!], { region: code });

  const s1 = (await kernel.suppliers.create({ name: '测试剧团（虚构）', kind: 'troupe' }, { actor: city })).id;
  const s2 = (await kernel.suppliers.create({ name: '测试讲堂（虚构）', kind: 'enterprise' }, { actor: city })).id;
  const product = async (supplier: string, title: string, category: string, targetGroups: string[], cost: number) => {
    const actor = await as(['supplier'], { supplier });
    let p = await kernel.products.create(
      { title, summary: `${title}（虚构）`, description: '测试数据，虚构。', category, form: '现场', targetGroups, audienceMin: 10, audienceMax: 500, durationMinutes: 60, costPerSession: cost, serviceableRegions: ['440100'], tags: [], media: [] },
      { actor },
    );
    for (const [action, by] of [['submit', actor], ['startReview', reviewer], ['list', reviewer]] as const) p = await kernel.products.transition({ id: p.id, action, expectedVersion: p.version }, { actor: by });
    return p.id;
  };
  const p1 = await product(s1, '粤剧专场（测试）', 'performance', ['elderly'], 1000);
  const p2 = await product(s2, '非遗讲座（测试）', 'lecture', ['children', 'elderly'], 500);
  const p3 = await product(s2, '无障碍展览（测试）', 'exhibition', ['disabled'], 800);

  const unit = async (regionCode: string) => {
    const id = (await kernel.units.create({ regionCode, name: `文化室${regionCode}`, kind: 'cultural-station' }, { actor: city })).id;
    const venue = (await kernel.venues.create({ regionCode, name: `活动室${regionCode}`, kind: 'community-room', capacity: 500, address: '测试路1号', location: null }, { actor: city })).id;
    return { id, venue, regionCode };
  };
  const uA1a = await unit('440103001001');
  await unit('440103001002');
  const uA2 = await unit('440103002');
  const uB1a = await unit('440104001001');

  for (const year of [2025, 2026]) {
    for (const [code, amount] of [
      ['440100', 100_000],
      ['440103', 40_000],
      ['440104', 20_000],
      ['440103001', 20_000],
      ['440103002', 10_000],
      ['440104001', 10_000],
      ['440103001001', 10_000],
      ['440104001001', 10_000],
    ] as const) {
      const parent = REGIONS.find((r) => r.code === code)!.parentCode;
      await kernel.budgets.allocate({ regionCode: code, year, amount }, { actor: parent ? await staff(parent) : city });
    }
  }

  const order = async (u: { id: string; venue: string; regionCode: string }, productId: string, supplier: string, window: [string, string], expected: number, until: 'submitted' | 'cancelled' | { on: string; audience: number }) => {
    const unitActor = await as(['unit-operator'], { region: u.regionCode, unit: u.id });
    const placed = await kernel.orders.place({ unitId: u.id, productId, venueId: u.venue, windowStart: window[0], windowEnd: window[1], expectedAudience: expected }, { actor: unitActor });
    if (!('order' in placed)) throw new Error('not placed');
    let o = placed.order;
    const fire = async (action: 'submit' | 'approve' | 'schedule' | 'deliver' | 'cancel', actor: Actor, extra: object = {}) => {
      o = await kernel.orders.act({ id: o.id, action, expectedVersion: o.version, ...extra }, { actor });
    };
    if (until === 'cancelled') {
      await fire('cancel', unitActor, { reason: '测试' });
      return o;
    }
    await fire('submit', unitActor);
    if (until === 'submitted') return o;
    for (const code of o.approvalChain) await fire('approve', await staff(code));
    const supplierActor = await as(['supplier'], { supplier });
    await fire('schedule', supplierActor, { scheduledOn: until.on });
    await fire('deliver', supplierActor, { delivery: { deliveredOn: until.on, actualAudience: until.audience, notes: '测试', photos: [] } });
    return o;
  };
  const rate = async (o: Order, answers: [number, string?][]) => {
    const tokens = await kernel.feedback.mintTokens({ orderId: o.id, count: answers.length }, { actor: city });
    for (const [i, [rating, group]] of answers.entries()) await kernel.feedback.submit({ token: tokens[i]!, rating, respondentGroup: group });
  };

  const o1 = await order(uA1a, p1, s1, ['2026-03-01', '2026-03-31'], 120, { on: '2026-03-10', audience: 100 });
  const o2 = await order(uA1a, p2, s2, ['2026-03-01', '2026-03-31'], 50, { on: '2026-03-20', audience: 50 });
  const o3 = await order(uA2, p1, s1, ['2026-05-01', '2026-05-31'], 150, { on: '2026-05-05', audience: 200 });
  const o4 = await order(uB1a, p2, s2, ['2026-05-01', '2026-05-31'], 60, { on: '2026-05-15', audience: 30 });
  const earlier = await order(uA1a, p1, s1, ['2025-04-01', '2025-04-30'], 80, { on: '2025-04-01', audience: 80 });
  const submitted = await order(uB1a, p1, s1, ['2026-06-01', '2026-06-30'], 40, 'submitted');
  const cancelled = await order(uA2, p2, s2, ['2026-07-01', '2026-07-31'], 40, 'cancelled');
  await rate(o1, [[5, 'elderly'], [4, 'elderly'], [3]]);
  await rate(o2, [[2, 'children'], [5]]);
  await rate(o3, [[4], [4], [5], [1]]);
  await rate(o4, [[3, 'elderly']]);
  await rate(earlier, [[5]]);
  return { orders: { o1, o2, o3, o4, earlier, submitted, cancelled }, products: { p1, p2, p3 }, suppliers: { s1, s2 } };
}
