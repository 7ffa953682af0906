import { procurement } from '@diandan/procurement';
import { actors, client, createTestServer, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reporting } from '../src/index.js';
import { seedDataset, type Dataset } from './dataset.js';

let app: FastifyInstance;
let call: Call;
let data: Dataset;
const city = actors.cityAdmin('440100');
const districtA = actors.districtAdmin('440103');
const ln = Math.log;

beforeAll(async () => {
  app = await createTestServer({ plugins: [procurement(), reporting({ minRatingsForBottom: 3 })] });
  data = await seedDataset(app);
  call = client(app);
});
afterAll(() => app?.close());

const kpis = async (who = city, query = 'year=2026') => {
  const res = await call(who, 'GET', `/v1/reporting/kpis?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

describe('KPIs of the whole city, 2026 (computed by hand from the dataset table)', () => {
  it('counts deliveries, participants, orders by status, feedback and satisfaction', async () => {
    const k = await kpis();
    expect(k.region).toMatchObject({ code: '440100', population: 300_000 });
    expect([k.deliveries, k.participants, k.expectedAudience]).toEqual([4, 100 + 50 + 200 + 30, 120 + 50 + 150 + 60]);
    expect(k.ordersByStatus).toEqual({ cancelled: 1, delivered: 4, submitted: 1 });
    expect(k.responses).toBe(10);
    expect(k.meanRating).toBeCloseTo((5 + 4 + 3 + 2 + 5 + 4 + 4 + 5 + 1 + 3) / 10, 10);
    expect(k.satisfactionRate).toBeCloseTo(6 / 10, 10);
  });

  it('measures coverage and rates per 10,000 residents', async () => {
    const k = await kpis();
    expect(k.coverage.streets).toEqual({ covered: 3, total: 3, share: 1 });
    // A1a and B1a have deliveries; A1b and A2a do not (o3 is ordered by street A2 itself).
    expect(k.coverage.communities).toEqual({ covered: 2, total: 4, share: 0.5 });
    expect(k.per10k.population).toBe(300_000);
    expect(k.per10k.deliveries).toBeCloseTo((4 * 10_000) / 300_000, 10);
    expect(k.per10k.participants).toBeCloseTo((380 * 10_000) / 300_000, 10);
  });

  it('breaks down by district, street, category, month, supplier and product', async () => {
    const k = await kpis();
    expect(k.byDistrict.map((d: any) => [d.code, d.deliveries, d.participants, d.population])).toEqual([
      ['440103', 3, 350, 200_000],
      ['440104', 1, 30, 100_000],
    ]);
    expect(k.byDistrict[0].deliveriesPer10k).toBeCloseTo(0.15, 10);
    expect(k.byStreet.map((d: any) => [d.code, d.deliveries, d.participants])).toEqual([
      ['440103001', 2, 150],
      ['440103002', 1, 200],
      ['440104001', 1, 30],
    ]);
    expect(k.byStreet[0].meanRating).toBeCloseTo((5 + 4 + 3 + 2 + 5) / 5, 10);
    expect(k.byCategory.map((c: any) => [c.key, c.deliveries, c.participants])).toEqual([
      ['lecture', 2, 80],
      ['performance', 2, 300],
    ]);
    expect(k.byMonth).toHaveLength(12);
    expect(k.byMonth.filter((m: any) => m.deliveries > 0).map((m: any) => [m.month, m.deliveries, m.participants])).toEqual([
      ['2026-03', 2, 150],
      ['2026-05', 2, 230],
    ]);
    const s1 = k.suppliers.find((s: any) => s.id === data.suppliers.s1);
    expect([s1.deliveries, s1.participants, s1.responses]).toEqual([2, 300, 7]);
    expect(s1.meanRating).toBeCloseTo((5 + 4 + 3 + 4 + 4 + 5 + 1) / 7, 10);
    expect(k.products.top.map((p: any) => [p.id, p.deliveries])).toEqual([
      [data.products.p1, 2],
      [data.products.p2, 2],
    ]);
    // Lowest rated with at least 3 responses: P2 (2, 5, 3 → 3.33) before P1 (3.71).
    expect(k.products.bottom.map((p: any) => p.id)).toEqual([data.products.p2, data.products.p1]);
    expect(k.products.bottom[0].meanRating).toBeCloseTo(10 / 3, 10);
  });

  it('reports special-group reach, budget execution and catalogue utilisation', async () => {
    const k = await kpis();
    const group = (key: string) => k.groups.find((g: any) => g.key === key);
    expect(group('elderly')).toMatchObject({ deliveries: 4, participants: 380, respondents: 3 });
    expect(group('elderly').meanRating).toBeCloseTo((5 + 4 + 3) / 3, 10);
    expect(group('children')).toMatchObject({ deliveries: 2, participants: 80, respondents: 1, meanRating: 2 });
    expect(group('disabled')).toMatchObject({ deliveries: 0, participants: 0, respondents: 0, meanRating: null });
    // Four delivered orders settled: 2 × 1000 + 2 × 500 of the city's 100,000.
    expect(k.budget).toMatchObject({ year: 2026, allocated: 100_000, spent: 3000 });
    expect(k.budget.execution).toBeCloseTo(0.03, 10);
    expect(k.catalogue).toMatchObject({ listed: 3, ordered: 2, unusedTotal: 1, unused: [{ id: data.products.p3, category: 'exhibition' }] });
    expect(k.catalogue.utilisation).toBeCloseTo(2 / 3, 10);
    // Units A1a, A1b, A2 and B1a, each with a venue; A1b's never hosted a delivery. P1 is s1's, P2 and P3 s2's.
    expect(k.participation).toEqual({ venues: { total: 4, used: 3 }, units: { total: 4, active: 3 }, suppliers: { total: 2, active: 2 } });
  });

  it('measures approval lead time from the audit log', async () => {
    const k = await kpis();
    // By hand, from the kernel's own audit records: last submission → final approval.
    const hours: number[] = [];
    for (const o of [data.orders.o1, data.orders.o2, data.orders.o3, data.orders.o4, data.orders.earlier]) {
      const res = await call(city, 'GET', `/v1/audit-log?entityType=order&entityId=${o.id}&limit=50`);
      const items = res.body.items as { action: string; at: string; after: { status: string } }[];
      const submitted = Math.max(...items.filter((i) => i.action === 'order.submit').map((i) => Date.parse(i.at)));
      const approved = Math.max(...items.filter((i) => i.action === 'order.approve' && i.after.status === 'approved').map((i) => Date.parse(i.at)));
      hours.push((approved - submitted) / 3_600_000);
    }
    // All approvals happened today (2026 or later): the period 2026 counts none; a period around now counts all five.
    expect(k.approvalLeadTime.approved).toBe(new Date().getUTCFullYear() === 2026 ? 5 : 0);
    const now = new Date();
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const around = await kpis(city, `from=${day(new Date(now.getTime() - 86_400_000))}&to=${day(new Date(now.getTime() + 2 * 86_400_000))}`);
    expect(around.approvalLeadTime.approved).toBe(5);
    expect(around.approvalLeadTime.meanHours).toBeCloseTo(hours.reduce((a, b) => a + b, 0) / 5, 3);
    expect(around.approvalLeadTime.medianHours).toBeCloseTo([...hours].sort((a, b) => a - b)[2]!, 3);
  });

  it('compares with the same period a year earlier', async () => {
    const k = await kpis();
    expect(k.yearEarlier).toMatchObject({ period: { from: '2025-01-01', to: '2026-01-01' }, deliveries: 1, participants: 80, responses: 1, satisfactionRate: 1, meanRating: 5 });
    expect(k.yearEarlier.streetCoverage).toBeCloseTo(1 / 3, 10);
    expect(k.yearEarlier.change.deliveries).toBeCloseTo((4 - 1) / 1, 10);
    expect(k.yearEarlier.change.participants).toBeCloseTo((380 - 80) / 80, 10);
  });
});

describe('KPIs of a year without deliveries', () => {
  it('still counts the venues, units and suppliers there are, none of them taking part', async () => {
    const k = await kpis(city, 'year=2024');
    expect(k.deliveries).toBe(0);
    expect(k.participation).toEqual({ venues: { total: 4, used: 0 }, units: { total: 4, active: 0 }, suppliers: { total: 2, active: 0 } });
  });
});

describe('KPIs of a subtree (district A, 440103)', () => {
  it('keeps to the subtree, for its own admin', async () => {
    const k = await kpis(districtA, 'regionCode=440103&year=2026');
    expect([k.deliveries, k.participants, k.responses]).toEqual([3, 350, 9]);
    expect(k.meanRating).toBeCloseTo((5 + 4 + 3 + 2 + 5 + 4 + 4 + 5 + 1) / 9, 10);
    expect(k.satisfactionRate).toBeCloseTo(6 / 9, 10);
    expect(k.coverage.streets).toEqual({ covered: 2, total: 2, share: 1 });
    expect(k.coverage.communities.covered).toBe(1);
    expect(k.coverage.communities.total).toBe(3);
    expect(k.per10k.deliveries).toBeCloseTo((3 * 10_000) / 200_000, 10);
    expect(k.byDistrict.map((d: any) => d.code)).toEqual(['440103']);
    expect(k.ordersByStatus).toEqual({ cancelled: 1, delivered: 3 });
    // Budget: district A's own 40,000; spent below it: o1 1000 + o2 500 + o3 1000.
    expect(k.budget).toMatchObject({ allocated: 40_000, spent: 2500 });
    expect(k.groups.find((g: any) => g.key === 'children')).toMatchObject({ deliveries: 1, participants: 50 });
    // A1a, A1b and A2 with their venues, A1a and A2 delivered to; both suppliers delivered here (o1, o3 s1's; o2 s2's).
    expect(k.participation).toEqual({ venues: { total: 3, used: 2 }, units: { total: 3, active: 2 }, suppliers: { total: 2, active: 2 } });
  });

  it('answers a region outside the caller’s subtree as not found, refuses non-staff and bad periods', async () => {
    const outside = await call(districtA, 'GET', '/v1/reporting/kpis?regionCode=440104&year=2026');
    expect([outside.status, outside.body.code]).toEqual([404, 'REGION_NOT_FOUND']);
    const supplier = await call(actors.supplier(data.suppliers.s1), 'GET', '/v1/reporting/kpis?year=2026');
    expect(supplier.status).toBe(403);
    const anonymous = await call(null, 'GET', '/v1/reporting/kpis?year=2026');
    expect(anonymous.status).toBe(401);
    const both = await call(city, 'GET', '/v1/reporting/kpis?year=2026&from=2026-01-01&to=2026-02-01');
    expect([both.status, both.body.code]).toEqual([400, 'REPORTING_PERIOD_INVALID']);
    const backwards = await call(city, 'GET', '/v1/reporting/kpis?from=2026-02-01&to=2026-01-01');
    expect([backwards.status, backwards.body.code]).toEqual([400, 'REPORTING_PERIOD_INVALID']);
  });
});

describe('equity', () => {
  it('computes population-weighted Gini and the Theil decomposition for the city', async () => {
    const res = await call(city, 'GET', '/v1/reporting/equity?year=2026');
    expect(res.status).toBe(200);
    const d = res.body.measures.deliveries;
    // Districts: y_A = 3/200000, y_B = 1/100000, μ = 4/300000.
    const gD = (2 * 200_000 * 100_000 * Math.abs(3 / 200_000 - 1 / 100_000)) / (2 * 300_000 ** 2 * (4 / 300_000));
    expect(d.giniDistricts).toBeCloseTo(gD, 10);
    expect(d.giniDistricts).toBeCloseTo(1 / 12, 10);
    // Streets: A1 2/120000, A2 1/80000, B1 1/100000.
    const y = [2 / 120_000, 1 / 80_000, 1 / 100_000];
    const p = [120_000, 80_000, 100_000];
    let pairs = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) pairs += p[i]! * p[j]! * Math.abs(y[i]! - y[j]!);
    expect(d.giniStreets).toBeCloseTo(pairs / (2 * 300_000 ** 2 * (4 / 300_000)), 10);
    expect(d.giniStreets).toBeCloseTo(0.116667, 5);
    // Theil T over streets: shares of deliveries s = (.5, .25, .25), of population w = (.4, 4/15, 1/3).
    const T = 0.5 * ln(0.5 / 0.4) + 0.25 * ln(0.25 / (80 / 300)) + 0.25 * ln(0.25 / (100 / 300));
    const between = 0.75 * ln(0.75 / (200 / 300)) + 0.25 * ln(0.25 / (100 / 300));
    const within = 0.75 * ((2 / 3) * ln(2 / 3 / 0.6) + (1 / 3) * ln(1 / 3 / 0.4)) + 0.25 * 0;
    expect(d.theil.total).toBeCloseTo(T, 10);
    expect(d.theil.between).toBeCloseTo(between, 10);
    expect(d.theil.within).toBeCloseTo(within, 10);
    expect(d.theil.between + d.theil.within).toBeCloseTo(d.theil.total, 12);
    expect(d.theil.betweenShare).toBeCloseTo(between / T, 10);
    // Participants: A1 150, A2 200, B1 30 of 380.
    const s = [150 / 380, 200 / 380, 30 / 380];
    const w = [0.4, 80 / 300, 100 / 300];
    expect(res.body.measures.participants.theil.total).toBeCloseTo(s.reduce((t, si, i) => t + si * ln(si / w[i]!), 0), 10);
  });

  it('computes the balance index with its default weights, and ranks the gaps', async () => {
    const { body } = await call(city, 'GET', '/v1/reporting/equity?year=2026');
    const c = body.balance.components;
    expect(c.streetCoverage).toBe(1);
    expect(c.communityCoverage).toBe(0.5);
    expect(c.groupReach).toBeCloseTo(2 / 15, 10); // elderly and children of the 15 built-in groups
    expect(c.satisfaction).toBeCloseTo(0.6, 10);
    const index = 100 * (0.3 * (1 - 0.1166667) + 0.1 * (1 - 1 / 12) + 0.2 * 1 + 0.2 * 0.5 + 0.1 * (2 / 15) + 0.1 * 0.6);
    expect(body.balance.index).toBeCloseTo(index, 3);
    // Groups: mean deliveries over the 15 groups is 6/15 = 0.4; the 13 unreached groups each fall 0.4 short.
    expect(body.gaps.filter((g: any) => g.kind === 'group')).toHaveLength(13);
    expect(body.gaps[0]).toMatchObject({ kind: 'group', deliveries: 0 });
    expect(body.gaps[0].shortfall).toBeCloseTo(0.4, 10);
    // Streets at the city's rate 4/300000: B1 expects 1.333 (has 1), A2 1.0667 (has 1), A1 1.6 (has 2, not a gap).
    const streets = body.gaps.filter((g: any) => g.kind === 'street');
    expect(streets.map((g: any) => g.code)).toEqual(['440104001', '440103002']);
    expect(streets[0].shortfall).toBeCloseTo(4 / 3 - 1, 10);
    expect(streets[1].shortfall).toBeCloseTo(16 / 15 - 1, 10);
  });

  it('decomposes within a subtree: one district, so the whole gap is within it', async () => {
    const { body } = await call(districtA, 'GET', '/v1/reporting/equity?regionCode=440103&year=2026');
    const d = body.measures.deliveries;
    expect(d.giniStreets).toBeCloseTo((2 * 120_000 * 80_000 * (2 / 120_000 - 1 / 80_000)) / (2 * 200_000 ** 2 * (3 / 200_000)), 10);
    expect(d.theil.between).toBeCloseTo(0, 12);
    expect(d.theil.within).toBeCloseTo((2 / 3) * ln(2 / 3 / 0.6) + (1 / 3) * ln(1 / 3 / 0.4), 10);
    expect(d.giniDistricts).toBe(0);
  });
});

describe('efficiency', () => {
  it('evaluates Changning’s indicators and the composite score', async () => {
    const { status, body } = await call(city, 'GET', '/v1/reporting/efficiency?year=2026');
    expect(status).toBe(200);
    const v = Object.fromEntries(body.indicators.map((i: any) => [i.key, i]));
    expect(v['audience-pleasure'].value).toBeCloseTo(0.6, 10);
    expect(v['team-participation'].value).toBeCloseTo(3 / 4, 10); // units A1a, A2, B1a of 4
    expect(v['equipment-use']).toMatchObject({ value: null, score: null });
    expect(v['audience-count'].value).toBeCloseTo(380 / 30, 10);
    expect(v['venue-use'].value).toBeCloseTo(3 / 4, 10);
    expect(v['activity-effect'].value).toBeCloseTo(380 / 380, 10);
    expect(v['resource-use'].value).toBeCloseTo(0.03, 10);
    expect(v['influence'].value).toBeCloseTo((100 * 10) / 380, 10);
    const scored = [
      [0.2, 0.6 / 0.95],
      [0.1, 0.75 / 0.8],
      [0.15, 380 / 30 / 2000],
      [0.1, 0.75 / 0.9],
      [0.15, 1],
      [0.1, 0.03 / 0.9],
      [0.1, (1000 / 380) / 10],
    ];
    const composite = (100 * scored.reduce((s, [w, x]) => s + w! * x!, 0)) / scored.reduce((s, [w]) => s + w!, 0);
    expect(body.composite).toBeCloseTo(composite, 10);
    expect(body.leftOut).toEqual(['equipment-use']);
  });
});

describe('sections of other plugins', () => {
  it('reads procurement’s red flags when it is present, and says which plugins are absent', async () => {
    const { body } = await call(city, 'GET', '/v1/reporting/sections?year=2026&locale=en');
    const byKey = Object.fromEntries(body.items.map((s: any) => [s.key, s]));
    expect(byKey['procurement.red-flags']).toMatchObject({ available: true, figures: { Tenders: 0, 'Single-bid share': null } });
    expect(byKey['survey.demand-met']).toMatchObject({ available: false, note: 'plugin @diandan/survey is not part of this deployment' });
    expect(byKey['venues.utilisation']).toMatchObject({ available: false, note: 'plugin @diandan/venues is not part of this deployment' });
    expect(byKey['matching.fairness']).toMatchObject({ available: false, note: 'plugin @diandan/matching is not part of this deployment' });
    expect(byKey['venues.utilisation'].figures).toBeUndefined();
    // A street operator is not a procurement reader: the section says so rather than showing zeros.
    const street = await call(actors.streetOperator('440103001'), 'GET', '/v1/reporting/sections?year=2026');
    expect(street.body.items.find((s: any) => s.key === 'procurement.red-flags')).toMatchObject({ available: false });
  });
});
