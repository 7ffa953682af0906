/** Waiting lists: offers in arrival order that hold seats, lapse through a job, and can be accepted, declined or left. */
import { client, createTestServer, expectStatus, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { venues } from '../src/index.js';
import { citizen, phone, session, setClock, useRecorder, venue, venuesOf } from './support.js';

const NOW = new Date('2027-03-01T10:00:00+08:00');
const MIN = 60_000;
let app: FastifyInstance;
let call: Call;
let sender: ReturnType<typeof useRecorder>;
let venueId: string;
let n = 0;
const nextCitizen = () => citizen(call, sender, phone(5000 + ++n));
type Who = Awaited<ReturnType<typeof nextCitizen>>;

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues({ reservations: { offerHoldMinutes: 120, offerCloseMinutesBeforeStart: 30, minOfferMinutes: 10 } })] });
  await seedRegions(app);
  call = client(app);
  sender = useRecorder(app);
  setClock(app, NOW);
  venueId = (await venue(call, '440103001', 300)).id;
});
afterAll(() => app?.close());

const book = async (s: { id: string }, who: Who, quantity = 1) => expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity }, who), 201, 'book');
const join = async (s: { id: string }, who: Who, quantity = 1) => expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/waitlist`, { quantity }, who), 201, 'join');
const entryOf = async (who: Who, id: number) => (expectStatus(await call(null, 'GET', '/v1/venue-waitlist', undefined, who), 200, 'mine').items as { id: number }[]).find((e) => e.id === id) as any;
const seats = async (s: { id: string }) => expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 'session');
const cancel = async (r: { id: string }, who: Who) => expectStatus(await call(null, 'POST', `/v1/venue-reservations/${r.id}/cancel`, undefined, who), 200, 'cancel');
const runJob = async (name: 'sweepOffers' | 'releaseNoShows') => {
  const v = venuesOf(app);
  const id = await v.context.jobs.send(v[name], {});
  return v.context.jobs.wait(id!, { timeoutMs: 20_000 });
};

it('freed seats go to the first entry in arrival order whose whole quantity fits; the offer holds them until accepted', async () => {
  const s = await session(call, venueId, { capacity: 2 }, NOW);
  const holder = await nextCitizen();
  const r = await book(s, holder, 2);
  const [w1, w2, w3] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
  const e1 = await join(s, w1, 1);
  const e2 = await join(s, w2, 2);
  const e3 = await join(s, w3, 1);
  expect([e1.position, e2.position, e3.position]).toEqual([1, 2, 3]);
  expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s.id}/waitlist`, { quantity: 1 }, w1)).code).toBe('VENUES_WAITLIST_DUPLICATE');
  // Booking with `waitlist: true` while on the list already joins it no second time either.
  expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 1, waitlist: true }, w1))).toMatchObject({ status: 409, code: 'VENUES_WAITLIST_DUPLICATE' });
  await cancel(r, holder);
  // w1 (1 seat) is offered; w2 wants 2 of the 1 left, and nobody overtakes it.
  expect(await entryOf(w1, e1.id)).toMatchObject({ status: 'offered', offerExpiresAt: new Date(NOW.getTime() + 120 * MIN).toISOString() });
  expect(await entryOf(w3, e3.id)).toMatchObject({ status: 'waiting', position: 2 });
  expect(await seats(s)).toMatchObject({ confirmed: 0, held: 1, available: 1 });
  // The free seat is not for a newcomer while others wait.
  expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, await nextCitizen()))).toMatchObject({ status: 409, code: 'VENUES_SESSION_FULL' });
  const accepted = expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e1.id}/accept`, undefined, w1), 200, 'accept');
  expect(accepted).toMatchObject({ quantity: 1, status: 'confirmed', waitlistEntryId: e1.id });
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e1.id}/accept`, undefined, w1))).toMatchObject({ status: 409, code: 'VENUES_OFFER_NOT_OPEN' });
  // Only its citizen may accept an offer.
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e2.id}/accept`, undefined, w1)).status).toBe(404);
  expect(await seats(s)).toMatchObject({ confirmed: 1, held: 0, available: 1 });
  const staffView = expectStatus(await call(testActors.streetOperator, 'GET', `/v1/venue-sessions/${s.id}/waitlist`), 200, 'staff').items;
  expect(staffView.map((e: { id: number; status: string }) => [e.id, e.status])).toEqual([
    [e1.id, 'accepted'],
    [e2.id, 'waiting'],
    [e3.id, 'waiting'],
  ]);
});

it('an offer not accepted lapses to the next entry (the sweep job); close to the start it is shorter', async () => {
  const s = await session(call, venueId, { capacity: 1, startsInMinutes: 180 }, NOW);
  const holder = await nextCitizen();
  const r = await book(s, holder);
  const [w1, w2] = [await nextCitizen(), await nextCitizen()];
  const e1 = await join(s, w1);
  const e2 = await join(s, w2);
  await cancel(r, holder);
  // Three hours before the start: the full two hours (the start − 30 min is later).
  expect((await entryOf(w1, e1.id)).offerExpiresAt).toBe(new Date(NOW.getTime() + 120 * MIN).toISOString());
  // Not yet due: the sweep leaves it.
  setClock(app, new Date(NOW.getTime() + 119 * MIN));
  expect((await runJob('sweepOffers')).result).toMatchObject({ lapsed: 0 });
  setClock(app, new Date(NOW.getTime() + 121 * MIN));
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e1.id}/accept`, undefined, w1))).toMatchObject({ status: 409, code: 'VENUES_OFFER_NOT_OPEN' });
  const done = await runJob('sweepOffers');
  expect(done.state).toBe('completed');
  expect((done.result as { lapsed: number }).lapsed).toBeGreaterThanOrEqual(1);
  expect((await entryOf(w1, e1.id)).status).toBe('lapsed');
  // 59 minutes before the start: the offer ends 30 minutes before it, not two hours later.
  expect(await entryOf(w2, e2.id)).toMatchObject({ status: 'offered', offerExpiresAt: new Date(NOW.getTime() + 150 * MIN).toISOString() });
  expect(await seats(s)).toMatchObject({ confirmed: 0, held: 1, available: 0 });
  expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e2.id}/accept`, undefined, w2), 200, 'accept');
  expect(await seats(s)).toMatchObject({ confirmed: 1, held: 0 });
  setClock(app, NOW);
});

it('leaving: a waiting entry just goes; declining an offer passes its seats on at once', async () => {
  const s = await session(call, venueId, { capacity: 1 }, NOW);
  const holder = await nextCitizen();
  const r = await book(s, holder);
  const [w1, w2, w3] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
  const e1 = await join(s, w1);
  const e2 = await join(s, w2);
  const e3 = await join(s, w3);
  expect(expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e2.id}/leave`, undefined, w2), 200, 'leave')).toMatchObject({ status: 'left', position: null });
  expect((await entryOf(w3, e3.id)).position).toBe(2);
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e3.id}/decline`, undefined, w3))).toMatchObject({ status: 409, code: 'VENUES_OFFER_NOT_OPEN' });
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e3.id}/leave`, undefined, w1)).status).toBe(404);
  await cancel(r, holder);
  expect((await entryOf(w1, e1.id)).status).toBe('offered');
  expect(expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e1.id}/decline`, undefined, w1), 200, 'decline').status).toBe('left');
  expect((await entryOf(w3, e3.id)).status).toBe('offered');
  // The last one leaves with its offer: nobody waits, the seat is free for anyone.
  expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e3.id}/leave`, undefined, w3), 200, 'leave offered');
  expect(await seats(s)).toMatchObject({ confirmed: 0, held: 0, available: 1 });
  expect(problem(await call(null, 'POST', `/v1/venue-waitlist/${e3.id}/leave`, undefined, w3)).code).toBe('VENUES_OFFER_NOT_OPEN');
  await book(s, await nextCitizen());
});
