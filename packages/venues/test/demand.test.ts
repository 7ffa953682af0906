/** Waiting-list demand: a closed session's unserved waiting list becomes demand signals for the survey package when it is installed, and nothing breaks without it. */
import { client, createTestServer, expectStatus, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import { survey } from '@diandan/survey';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { venues } from '../src/index.js';
import { citizen, eventually, phone, session, setClock, useRecorder, venue, venuesOf } from './support.js';

const NOW = new Date('2027-05-03T10:00:00+08:00');
const MIN = 60_000;

/** A 2-seat session in `category` for `groups`, full, with a waiting list of 3 entries (1 + 2 + 1 seats), one of which leaves. */
async function fullSession(app: FastifyInstance, call: Call, base: number, body: Record<string, unknown>) {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 2, startsInMinutes: 120, ...body }, NOW);
  const people = [];
  for (let i = 0; i < 5; i++) people.push(await citizen(call, sender, phone(base + i)));
  expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 2 }, people[0]), 201, 'book');
  const entries = [];
  for (const [i, q] of [1, 2, 1, 3].entries()) entries.push(expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/waitlist`, { quantity: q }, people[i + 1]), 201, 'join'));
  expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${entries[3].id}/leave`, undefined, people[4]), 200, 'leave');
  return s;
}

const signalJob = async (app: FastifyInstance) => {
  const v = venuesOf(app);
  const done = await v.context.jobs.wait((await v.context.jobs.send(v.signalDemand, {}))!, { timeoutMs: 20_000 });
  expect(done.state).toBe('completed');
  return done.result as { sessions: number };
};

describe('with the survey plugin', () => {
  let app: FastifyInstance;
  let call: Call;
  beforeAll(async () => {
    app = await createTestServer({ plugins: [survey(), venues()] });
    await seedRegions(app);
    call = client(app);
    setClock(app, NOW);
  });
  afterAll(() => app?.close());
  afterEach(() => setClock(app, NOW));

  it('signals the seats a closed session’s waiting list left unserved, once, split over its audience groups', async () => {
    const s = await fullSession(app, call, 8100, { category: 'lecture', audienceGroups: ['elderly', 'children'] });
    expect(s.category).toBe('lecture');
    // Booking still open: nothing yet.
    await signalJob(app);
    expect(await venuesOf(app).demand.signal(s.id)).toBeNull();
    setClock(app, new Date(Date.parse(s.startsAt) + MIN));
    const demand = venuesOf(app).demand;
    const first = await demand.signal(s.id);
    // 1 + 2 + 1 seats were asked for; the entry that left does not count.
    expect(first).toMatchObject({ entries: 3, seats: 4 });
    expect(first!.signals).toEqual([
      { regionCode: '440103001', group: 'elderly', category: 'lecture', tags: ['venue-waitlist'], period: '2027-05', weight: 2 },
      { regionCode: '440103001', group: 'children', category: 'lecture', tags: ['venue-waitlist'], period: '2027-05', weight: 2 },
    ]);
    expect(await demand.signal(s.id)).toBeNull();
    await signalJob(app);
    const records = await eventually(async () => {
      const body = expectStatus(await call(testActors.cityAdmin, 'GET', '/v1/demand-records?category=lecture&limit=50'), 200, 'records');
      const mine = (body.items as { source: string; group: string; weight: number; tags: string[] }[]).filter((r) => r.source === 'venues');
      return mine.length >= 2 && mine;
    }, 'the survey to store the signals');
    expect(records.map((r) => [r.group, r.weight, r.tags]).sort()).toEqual([
      ['children', 2, ['venue-waitlist']],
      ['elderly', 2, ['venue-waitlist']],
    ]);
    setClock(app, NOW);
  });

  it('a session without a category signals nothing; staff can give it one (a kernel category), and only a known one', async () => {
    const s = await fullSession(app, call, 8200, {});
    expect(s.category).toBeNull();
    expect(problem(await call(testActors.streetOperator, 'PUT', `/v1/venue-sessions/${s.id}/category`, { category: 'no-such-category' }))).toMatchObject({ status: 422, code: 'VENUES_SESSION_INVALID' });
    expect(problem(await call(testActors.otherStreetOperator, 'PUT', `/v1/venue-sessions/${s.id}/category`, { category: 'performance' }))).toMatchObject({ status: 404 });
    const other = await fullSession(app, call, 8300, {});
    const set = expectStatus(await call(testActors.streetOperator, 'PUT', `/v1/venue-sessions/${other.id}/category`, { category: 'performance' }), 200, 'category');
    expect(set.category).toBe('performance');
    setClock(app, new Date(Date.parse(s.startsAt) + MIN));
    expect(await venuesOf(app).demand.signal(s.id)).toMatchObject({ seats: 4, signals: [] });
    expect(await venuesOf(app).demand.signal(other.id)).toMatchObject({ seats: 4, signals: [{ group: 'general-public', category: 'performance', weight: 4 }] });
    setClock(app, NOW);
  });
});

describe('without the survey plugin', () => {
  let app: FastifyInstance;
  let call: Call;
  beforeAll(async () => {
    app = await createTestServer({ plugins: [venues()] });
    await seedRegions(app);
    call = client(app);
    setClock(app, NOW);
  });
  afterAll(() => app?.close());
  afterEach(() => setClock(app, NOW));

  it('starts, counts the unserved waiting list once and sends no signal', async () => {
    const s = await fullSession(app, call, 8400, { category: 'lecture' });
    setClock(app, new Date(Date.parse(s.startsAt) + MIN));
    expect(await signalJob(app)).toEqual({ sessions: 1 });
    expect(await signalJob(app)).toEqual({ sessions: 0 });
    expect(problem(await call(testActors.cityAdmin, 'GET', '/v1/demand-records'))).toMatchObject({ status: 404 });
    setClock(app, NOW);
  });
});
