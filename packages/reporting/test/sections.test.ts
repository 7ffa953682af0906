/** The venues and matching sections, with both plugins present (their absence: reporting.test.ts and report.test.ts). */
import { matching } from '@diandan/matching';
import { actors, client, createTestServer, expectStatus, type Call } from '@diandan/testing';
import { venues } from '@diandan/venues';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reporting } from '../src/index.js';
import { seedDataset } from './dataset.js';

let app: FastifyInstance;
let call: Call;
const city = actors.cityAdmin('440100');
const street = actors.streetOperator('440103001');
/** The venues plugin's clock, inside the report's year. */
const NOW = new Date('2026-03-02T10:00:00+08:00');
const MIN = 60_000;

const venuesServices = () => app.diandan.plugins.find((p) => p.definition.name === 'venues')!.services as any;
const setClock = (at: Date) => (venuesServices().clock.now = () => new Date(at));

async function finishedRun(id: string) {
  for (let i = 0; i < 600; i++) {
    const run = expectStatus(await call(city, 'GET', `/v1/matching/runs/${id}`), 200, 'run');
    if (run.status !== 'solving') return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not finish`);
}

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues(), matching(), reporting()] });
  await seedDataset(app);
  call = client(app);
});
afterAll(() => app?.close());

const sections = async (who = city, query = 'year=2026&locale=en') => {
  const res = await call(who, 'GET', `/v1/reporting/sections?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return Object.fromEntries(res.body.items.map((s: any) => [s.key, s]));
};

describe('sections of the venues and matching plugins', () => {
  it('reads the sessions the venues plugin made of the scheduled orders; no solved run yet is said, not zeroed', async () => {
    // The venues plugin turns each scheduled order into a session (a durable event, so it may lag): the four of 2026, 500 seats each, nobody booked.
    let s: Record<string, any> = {};
    for (let i = 0; i < 200 && s['venues.utilisation']?.figures?.Sessions !== 4; i++) {
      s = await sections();
      if (s['venues.utilisation']?.figures?.Sessions !== 4) await new Promise((r) => setTimeout(r, 100));
    }
    expect(s['venues.utilisation']).toMatchObject({ available: true });
    expect(s['venues.utilisation'].figures).toEqual({ 'Venues with sessions': 3, Sessions: 4, 'Seats offered': 2000, 'Seats checked in': 0, Utilisation: 0, 'No-show rate': null });
    expect(s['matching.fairness']).toMatchObject({ available: false, note: 'no solved matching runs for the period' });
  });

  it('computes venue utilisation and the no-show rate from the venues plugin (by hand: 5 of 10 seats checked in, 1 of 6 a no-show)', async () => {
    const kernel = app.diandan.services;
    const admin = await kernel.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
    const venue = await kernel.venues.create({ regionCode: '440103001', name: '测试小剧场（虚构）', kind: 'theatre', capacity: 10, address: '测试路2号', location: null }, { actor: admin });
    setClock(NOW);
    const startsAt = new Date(NOW.getTime() + 24 * 60 * MIN);
    const session = expectStatus(
      await call(street, 'POST', `/v1/venues/${venue.id}/sessions`, {
        title: '粤剧欣赏（测试）',
        startsAt: startsAt.toISOString(),
        endsAt: new Date(startsAt.getTime() + 90 * MIN).toISOString(),
        bookingOpensAt: new Date(NOW.getTime() - MIN).toISOString(),
      }),
      201,
      'session',
    );
    const codes = new Map<string, string>();
    venuesServices().citizens.useSender({ send: async ({ phone, code }: { phone: string; code: string }) => void codes.set(phone, code) });
    const citizen = async (phone: string) => {
      const challenge = expectStatus(await call(null, 'POST', '/v1/citizen-codes', { phone }), 201, 'code');
      const verified = expectStatus(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: codes.get(phone) }), 200, 'verify');
      return { 'x-citizen-token': verified.token as string };
    };
    const book = async (phone: string, quantity: number) => expectStatus(await call(null, 'POST', `/v1/venue-sessions/${session.id}/reservations`, { quantity }, await citizen(phone)), 201, 'book');
    const a = await book('17000000101', 3);
    const b = await book('17000000102', 2);
    await book('17000000103', 1);
    setClock(new Date(startsAt.getTime() - 30 * MIN));
    for (const r of [a, b]) expectStatus(await call(street, 'POST', `/v1/venue-sessions/${session.id}/check-ins`, { code: r.code }), 200, 'check in');
    setClock(new Date(startsAt.getTime() + 3 * 60 * MIN));
    expect(await venuesServices().noShows.releaseDue()).toBeGreaterThan(0);

    const s = (await sections())['venues.utilisation'];
    expect(s).toMatchObject({ available: true });
    // With the four order sessions (2000 seats, nobody came): 5 of 2010 seats checked in; 1 no-show of 6 seats with an outcome.
    expect(s.figures).toMatchObject({ 'Venues with sessions': 4, Sessions: 5, 'Seats offered': 2010, 'Seats checked in': 5 });
    expect(s.figures.Utilisation).toBeCloseTo(5 / 2010, 4);
    expect(s.figures['No-show rate']).toBeCloseTo(1 / 6, 4);
    expect(s.table.rows.find((r: unknown[]) => r[0] === '测试小剧场（虚构）')).toEqual(['测试小剧场（虚构）', 1, 10, 5, 0.5, expect.closeTo(1 / 6, 4)]);
    // District B's subtree: only o4's session (B1a), nobody booked.
    const other = (await sections(actors.districtAdmin('440104'), 'regionCode=440104&year=2026&locale=en'))['venues.utilisation'];
    expect(other.figures).toMatchObject({ 'Venues with sessions': 1, Sessions: 1, 'Seats offered': 500, 'Seats checked in': 0 });
  });

  it('reports the floors met and the price of fairness of the solved matching runs of the period, for planners only', async () => {
    // No demand (no survey plugin): the plan is empty, so a floor of 0 sessions is met and one of 1 is not.
    const run = expectStatus(
      await call(city, 'POST', '/v1/matching/runs', {
        regionCode: '440103',
        periods: ['2026-09'],
        year: 2026,
        withoutPolicyFloors: true,
        floors: [
          { id: 'zero', kind: 'region-sessions', regionCode: '440103001', min: 0 },
          { id: 'one', kind: 'region-sessions', regionCode: '440103002', min: 1 },
        ],
      }),
      202,
      'run',
    );
    const solved = await finishedRun(run.id);
    expect(solved.status, JSON.stringify(solved)).toBe('solved');
    const floors = solved.summary.floors as { met: boolean }[];
    const s = (await sections())['matching.fairness'];
    expect(s).toMatchObject({ available: true });
    expect(floors.map((f) => f.met)).toEqual([true, false]);
    expect(s.figures).toMatchObject({ 'Solved runs': 1, 'Floors met': '1 / 2', 'Share of floors met': 0.5 });
    expect(s.figures['Price of fairness (mean)']).toBe(solved.summary.priceOfFairness?.ratio ?? null);
    expect(s.table.rows).toHaveLength(1);
    expect(s.table.rows[0].slice(1, 3)).toEqual(['440103', '2026-09']);
    // A run of another year is not this period's.
    expect((await sections(city, 'year=2025&locale=en'))['matching.fairness']).toMatchObject({ available: false, note: 'no solved matching runs for the period' });
    // A street operator is no planner: the section says so.
    expect((await sections(street))['matching.fairness']).toMatchObject({ available: false, note: 'matching runs are for city and district administrators' });
  });
});
