/** Many citizens (500) booking a few seats (50) at once never oversell; racing cancellations and acceptances promote each entry once (real races on PostgreSQL; serialised on PGlite). */
import { client, createTestServer, expectStatus, seedRegions, testActors, testDriver, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { queryRows } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { venues } from '../src/index.js';
import { citizen, phone, session, useRecorder, venue } from './support.js';

let app: FastifyInstance;
let call: Call;
beforeAll(async () => {
  app = await createTestServer({ plugins: [venues({ reservations: { monthlyLimit: 100 } })] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

/** The session's `waiting` counter (what a booking reads) and its entries still waiting, counted. */
const waitingOf = async (sessionId: string) => {
  const [row] = await queryRows<{ counter: number; rows: number }>(
    app.diandan.database.db,
    sql`select s.waiting as counter, (select count(*)::int from venues.waitlist w where w.session_id = s.id and w.status = 'waiting') as rows from venues.sessions s where s.id = ${sessionId}::uuid`,
  );
  return row!;
};

it('500 concurrent reservations for a 50-seat session confirm exactly 50, and waitlist the other 450 in arrival order', { timeout: 240_000 }, async () => {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 50 });
  const citizens = [];
  for (let i = 0; i < 500; i++) citizens.push(await citizen(call, sender, phone(5000 + i)));
  const replies = await Promise.all(citizens.map((c) => call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { waitlist: true }, c)));
  expect(replies.filter((r) => r.status >= 500)).toEqual([]);
  expect(replies.filter((r) => r.status === 201)).toHaveLength(50);
  expect(replies.filter((r) => r.status === 202)).toHaveLength(450);
  const after = (await call(null, 'GET', `/v1/venue-sessions/${s.id}`)).body;
  expect(after).toMatchObject({ confirmed: 50, available: 0 });
  const booked = expectStatus(await call(testActors.streetOperator, 'GET', `/v1/venue-sessions/${s.id}/reservations?limit=1000`), 200, 'reservations').items as { quantity: number; status: string }[];
  expect(booked.filter((r) => r.status === 'confirmed').reduce((n, r) => n + r.quantity, 0)).toBe(50);
  // Arrival order: the order in which the bookings got the session's lock is the entry id order,
  // each entry's position is its rank in it, and entries were made one after another.
  const list = expectStatus(await call(testActors.streetOperator, 'GET', `/v1/venue-sessions/${s.id}/waitlist?limit=1000`), 200, 'waitlist').items as { id: number; position: number; createdAt: string }[];
  expect(list).toHaveLength(450);
  expect(list.map((e) => e.position)).toEqual(list.map((_, i) => i + 1));
  const times = list.map((e) => Date.parse(e.createdAt));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  const replied = replies.filter((r) => r.status === 202).map((r) => r.body as { id: number; position: number });
  expect(new Set(replied.map((e) => e.id)).size).toBe(450);
  // The position each booking was told is the one it has: nobody was told a place another got.
  for (const e of replied) expect(list[e.position - 1]!.id).toBe(e.id);
  expect(await waitingOf(s.id)).toEqual({ counter: 450, rows: 450 });
});

it('bookings of one session that arrive together share its lock: fewer transactions than bookings, each booked or waitlisted once', async () => {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 10 });
  const citizens = [];
  for (let i = 0; i < 60; i++) citizens.push(await citizen(call, sender, phone(7000 + i)));
  const replies = await Promise.all(citizens.map((c) => call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { waitlist: true }, c)));
  expect(replies.filter((r) => r.status === 201)).toHaveLength(10);
  expect(replies.filter((r) => r.status === 202)).toHaveLength(50);
  // The rows one transaction made carry its id (xmin): bookings that waited for one under
  // way went together, in fewer transactions (and locks of the session) than bookings.
  const [made] = await queryRows<{ rows: number; transactions: number }>(
    app.diandan.database.db,
    sql`select count(*)::int as rows, count(distinct x)::int as transactions from (
          select xmin::text as x from venues.reservations where session_id = ${s.id}::uuid
          union all select xmin::text from venues.waitlist where session_id = ${s.id}::uuid) r`,
  );
  expect(made!.rows).toBe(60);
  // PGlite runs one statement at a time, so there each booking reaches the session after the
  // one before it is done: none wait together.
  if (testDriver() === 'postgres') expect(made!.transactions).toBeLessThan(30);
  expect(await waitingOf(s.id)).toEqual({ counter: 50, rows: 50 });
});

it('one citizen’s bookings sent together keep the per-person limit', async () => {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 20, perCitizenLimit: 2 });
  const who = await citizen(call, sender, phone(7900));
  const replies = await Promise.all(Array.from({ length: 6 }, () => call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, who)));
  expect(replies.filter((r) => r.status === 201)).toHaveLength(2);
  expect(replies.filter((r) => r.status !== 201).map((r) => (r.body as { code: string }).code)).toEqual(Array(4).fill('VENUES_LIMIT_PER_SESSION'));
  expect((await call(null, 'GET', `/v1/venue-sessions/${s.id}`)).body).toMatchObject({ confirmed: 2 });
});

it('20 cancellations racing 20 offer acceptances promote exactly as many entries as seats freed, each once, in arrival order', async () => {
  const sender = useRecorder(app);
  const s = await session(call, (await venue(call, '440103001', 100)).id, { capacity: 40, perCitizenLimit: 20 });
  const [h1, h2] = [await citizen(call, sender, phone(2001)), await citizen(call, sender, phone(2002))];
  const held: { id: string; who: typeof h1 }[] = [];
  for (const who of [h1, h2]) for (let i = 0; i < 20; i++) held.push({ id: expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, who), 201, 'hold').id, who });
  // 20 entries for one seat, then 10 families for two: a family is offered only once two seats are free,
  // which two racing single-seat cancellations see only if they take turns (the session row lock).
  const waiters: Awaited<ReturnType<typeof citizen>>[] = [];
  for (let i = 0; i < 30; i++) waiters.push(await citizen(call, sender, phone(2100 + i)));
  const entries: number[] = [];
  for (const [i, w] of waiters.entries()) entries.push(expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/waitlist`, { quantity: i < 20 ? 1 : 2 }, w), 201, 'join').id);
  // The first holder's 20 seats go to the first 20 entries.
  for (const r of held.slice(0, 20)) expectStatus(await call(null, 'POST', `/v1/venue-reservations/${r.id}/cancel`, undefined, r.who), 200, 'cancel');
  // Now all at once: those 20 accept while the second holder cancels 20 more seats.
  const replies = await Promise.all([
    ...entries.slice(0, 20).map((id, i) => call(null, 'POST', `/v1/venue-waitlist/${id}/accept`, undefined, waiters[i])),
    ...held.slice(20).map((r) => call(null, 'POST', `/v1/venue-reservations/${r.id}/cancel`, undefined, r.who)),
  ]);
  expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
  const after = (await call(null, 'GET', `/v1/venue-sessions/${s.id}`)).body;
  expect(after).toMatchObject({ confirmed: 20, held: 20, available: 0 });
  const list = expectStatus(await call(testActors.streetOperator, 'GET', `/v1/venue-sessions/${s.id}/waitlist`), 200, 'waitlist').items as { id: number; status: string; reservationId: string | null }[];
  expect(list.map((e) => e.id)).toEqual(entries);
  // 40 seats freed, 30 entries promoted (20 of one seat, 10 of two), each once; nobody is left waiting.
  expect(list.slice(0, 20).map((e) => e.status)).toEqual(Array(20).fill('accepted'));
  expect(list.slice(20).map((e) => e.status)).toEqual(Array(10).fill('offered'));
  expect(await waitingOf(s.id)).toEqual({ counter: 0, rows: 0 });
  const booked = expectStatus(await call(testActors.streetOperator, 'GET', `/v1/venue-sessions/${s.id}/reservations`), 200, 'reservations').items as { status: string; waitlistEntryId: number | null }[];
  const fromOffers = booked.filter((r) => r.waitlistEntryId !== null && r.status === 'confirmed').map((r) => r.waitlistEntryId);
  expect(new Set(fromOffers).size).toBe(20);
  expect(fromOffers.sort((a, b) => a! - b!)).toEqual(entries.slice(0, 20));
});
