import { act, client, createTestServer, expectStatus, problem, seedOrderingLoop, testActors, type Call, type LoopFixture } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { queryRows, transaction } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venues, type SessionService } from '../src/index.js';
import { PHONES, citizen, eventually, phone, session, setClock, useRecorder, venue, venuesOf } from './support.js';

const { streetOperator, otherStreetOperator } = testActors;
const NOW = new Date('2027-03-01T10:00:00+08:00');
let app: FastifyInstance;
let call: Call;
let sender: ReturnType<typeof useRecorder>;
let loop: LoopFixture;
let venueId: string;
let n = 0;
const nextCitizen = () => citizen(call, sender, phone(++n));

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues({ reservations: { monthlyLimit: 3 } })] });
  loop = await seedOrderingLoop(app);
  call = client(app);
  sender = useRecorder(app);
  setClock(app, NOW);
  venueId = (await venue(call, '440103001', 500)).id;
});
afterAll(() => app?.close());

describe('citizens: a phone verified by a one-time code', () => {
  it('gives a token for the right code, shows the phone masked, and counts wrong tries', async () => {
    const challenge = expectStatus(await call(null, 'POST', '/v1/citizen-codes', { phone: `+86 ${PHONES[0]}` }), 201, 'code');
    expect(challenge.phone).toBe('138****8000');
    expect(JSON.stringify(challenge)).not.toContain(PHONES[0]);
    expect(problem(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: sender.last(PHONES[0]) === '000000' ? '111111' : '000000' }))).toMatchObject({ status: 422, code: 'VENUES_OTP_WRONG' });
    const ok = expectStatus(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: sender.last(PHONES[0]) }), 200, 'verify');
    expect(ok.citizen.phone).toBe('138****8000');
    // A code works once.
    expect(problem(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: sender.last(PHONES[0]) })).code).toBe('VENUES_OTP_NOT_FOUND');
    // The same phone again is the same citizen.
    const again = await citizen(call, sender, PHONES[0]);
    expect(expectStatus(await call(null, 'GET', '/v1/venue-reservations', undefined, again), 200, 'mine').items).toEqual([]);
    expect(problem(await call(null, 'POST', '/v1/citizen-codes', { phone: '12345678901' })).code).toBe('VENUES_PHONE_INVALID');
    expect(problem(await call(null, 'GET', '/v1/venue-reservations', undefined, { 'x-citizen-token': 'forged' })).code).toBe('VENUES_CITIZEN_UNAUTHENTICATED');
  });

  it('refuses after too many wrong codes, and expired codes', async () => {
    const challenge = expectStatus(await call(null, 'POST', '/v1/citizen-codes', { phone: PHONES[1] }), 201, 'code');
    const wrong = sender.last(PHONES[1]) === '999999' ? '999998' : '999999';
    for (let i = 0; i < 5; i++) expect(problem(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: wrong })).code).toBe('VENUES_OTP_WRONG');
    expect(problem(await call(null, 'POST', `/v1/citizen-codes/${challenge.challengeId}/verify`, { code: sender.last(PHONES[1]) })).code).toBe('VENUES_OTP_TOO_MANY');
    const late = expectStatus(await call(null, 'POST', '/v1/citizen-codes', { phone: PHONES[2] }), 201, 'code');
    setClock(app, new Date(NOW.getTime() + 10 * 60_000));
    expect(problem(await call(null, 'POST', `/v1/citizen-codes/${late.challengeId}/verify`, { code: sender.last(PHONES[2]) })).code).toBe('VENUES_OTP_EXPIRED');
    setClock(app, NOW);
  });
});

describe('citizens: verified tokens remembered', () => {
  it('a verified token is believed for tokenCacheSeconds (30) without the database, never past its expiry', async () => {
    const token = await nextCitizen();
    const mine = () => call(null, 'GET', '/v1/venue-reservations', undefined, token);
    expectStatus(await mine(), 200, 'first use');
    // The token deleted behind the service's back (no route revokes tokens): still believed
    // for up to 30 s by this process, then refused.
    const { id } = await venuesOf(app).citizens.authenticate(token['x-citizen-token']);
    await queryRows(app.diandan.database.db, sql`delete from venues.citizen_tokens where citizen_id = ${id}::uuid`);
    try {
      setClock(app, new Date(NOW.getTime() + 29_000));
      expectStatus(await mine(), 200, 'remembered');
      setClock(app, new Date(NOW.getTime() + 31_000));
      expect(problem(await mine())).toMatchObject({ status: 401, code: 'VENUES_CITIZEN_UNAUTHENTICATED' });
    } finally {
      setClock(app, NOW);
    }
    // A token 10 s before its expiry (24 h) is remembered for those 10 s only.
    const late = await nextCitizen();
    try {
      setClock(app, new Date(NOW.getTime() + 24 * 3_600_000 - 10_000));
      expectStatus(await call(null, 'GET', '/v1/venue-reservations', undefined, late), 200, 'before expiry');
      setClock(app, new Date(NOW.getTime() + 24 * 3_600_000 + 1_000));
      expect(problem(await call(null, 'GET', '/v1/venue-reservations', undefined, late)).status).toBe(401);
    } finally {
      setClock(app, NOW);
    }
  });
});

describe('sessions', () => {
  it('a scheduled order becomes a session through a durable subscription, once', async () => {
    const { sessions } = venuesOf(app) as unknown as { sessions: SessionService };
    const seeded = await eventually(() => sessions.ofOrder(loop.orders.scheduled.id), 'the seeded scheduled order’s session');
    expect(seeded).toMatchObject({ source: 'order', venueId: loop.venues.community, title: loop.products.opera.title });
    const res = await act(call, loop.suppliers.troupe.user, loop.orders.approved, 'schedule', { scheduledOn: '2027-03-20' });
    expectStatus(res, 200, 'schedule');
    const made = await eventually(() => sessions.ofOrder(loop.orders.approved.id), 'the new session');
    expect(made).toMatchObject({ startsAt: '2027-03-20T11:30:00.000Z', endsAt: new Date(Date.parse('2027-03-20T11:30:00.000Z') + loop.products.opera.durationMinutes * 60_000).toISOString(), audienceGroups: loop.products.opera.targetGroups });
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${made.id}`), 200, 'public').available).toBe(made.capacity);
  });

  it('the venue’s own programme: capacity within the room, audience groups known, booking window sane', async () => {
    const room = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${venueId}/rooms`, { name: '小剧场', capacity: 80 }), 201, 'room');
    const s = await session(call, venueId, { roomId: room.id, audienceGroups: ['elderly'], checkInOpensMinutes: 30 }, NOW);
    expect(s).toMatchObject({ capacity: 80, available: 80, confirmed: 0, held: 0, source: 'programme', audienceGroups: ['elderly'] });
    expect(Date.parse(s.startsAt) - Date.parse(s.checkInOpensAt)).toBe(30 * 60_000);
    expect(problem(await call(streetOperator, 'POST', `/v1/venues/${venueId}/sessions`, { title: 'x', roomId: room.id, capacity: 81, startsAt: s.startsAt, endsAt: s.endsAt })).code).toBe('VENUES_SESSION_INVALID');
    expect(problem(await call(streetOperator, 'POST', `/v1/venues/${venueId}/sessions`, { title: 'x', startsAt: s.endsAt, endsAt: s.startsAt })).code).toBe('VENUES_SESSION_INVALID');
    expect(problem(await call(streetOperator, 'POST', `/v1/venues/${venueId}/sessions`, { title: 'x', startsAt: s.startsAt, endsAt: s.endsAt, audienceGroups: ['martians'] })).code).toBe('VENUES_SESSION_INVALID');
    expect(problem(await call(otherStreetOperator, 'POST', `/v1/venues/${venueId}/sessions`, { title: 'x', startsAt: s.startsAt, endsAt: s.endsAt })).status).toBe(404);
    const listed = expectStatus(await call(null, 'GET', `/v1/venues/${venueId}/sessions?from=${encodeURIComponent(NOW.toISOString())}`), 200, 'list').items;
    expect(listed.map((x: { id: string }) => x.id)).toContain(s.id);
  });
});

describe('reservations', () => {
  it('books within the booking window only', async () => {
    const later = await session(call, venueId, { bookingOpensAt: new Date(NOW.getTime() + 3_600_000).toISOString() }, NOW);
    const c = await nextCitizen();
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${later.id}/reservations`, {}, c))).toMatchObject({ status: 409, code: 'VENUES_BOOKING_NOT_OPEN' });
    const closing = await session(call, venueId, { bookingClosesAt: new Date(NOW.getTime() + 60_000).toISOString() }, NOW);
    setClock(app, new Date(NOW.getTime() + 120_000));
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${closing.id}/reservations`, {}, c))).toMatchObject({ status: 409, code: 'VENUES_BOOKING_CLOSED' });
    setClock(app, NOW);
    expect(expectStatus(await call(null, 'POST', `/v1/venue-sessions/${closing.id}/reservations`, {}, c), 201, 'in the window').status).toBe('confirmed');
  });

  it('per-person limits: seats per session, reservations per month', async () => {
    const s = await session(call, venueId, { perCitizenLimit: 2 }, NOW);
    const c = await nextCitizen();
    const first = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 2 }, c), 201, 'two');
    expect(first.phone).toMatch(/^170\*\*\*\*\d{4}$/);
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 1 }, c))).toMatchObject({ status: 422, code: 'VENUES_LIMIT_PER_SESSION' });
    // Monthly limit 3 (this deployment): the fourth reservation for sessions in March is refused, April is another month
    // (booked first: it does not count towards March's three).
    const april = await session(call, venueId, { startsInMinutes: 60 * 24 * 40 }, NOW);
    expectStatus(await call(null, 'POST', `/v1/venue-sessions/${april.id}/reservations`, {}, c), 201, 'april');
    for (let i = 0; i < 2; i++) expectStatus(await call(null, 'POST', `/v1/venue-sessions/${(await session(call, venueId, { startsInMinutes: 60 * 24 * (2 + i) }, NOW)).id}/reservations`, {}, c), 201, `more ${i}`);
    const fourth = await session(call, venueId, { startsInMinutes: 60 * 24 * 5 }, NOW);
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${fourth.id}/reservations`, {}, c))).toMatchObject({ status: 422, code: 'VENUES_LIMIT_PER_PERIOD' });
    const april2 = await session(call, venueId, { startsInMinutes: 60 * 24 * 41 }, NOW);
    expectStatus(await call(null, 'POST', `/v1/venue-sessions/${april2.id}/reservations`, {}, c), 201, 'april again');
  });

  it('group bookings are all or nothing; availability = capacity − confirmed − held', async () => {
    const s = await session(call, venueId, { capacity: 30 }, NOW);
    const teacher = await nextCitizen();
    const klass = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 25, groupName: '示范小学三年级二班' }, teacher), 201, 'class');
    expect(klass).toMatchObject({ quantity: 25, groupName: '示范小学三年级二班' });
    const other = await nextCitizen();
    // Six seats do not fit in the five left: none is taken.
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 6, groupName: '一家人' }, other))).toMatchObject({ status: 409, code: 'VENUES_SESSION_FULL' });
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 'session')).toMatchObject({ confirmed: 25, held: 0, available: 5 });
    expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 5, groupName: '一家人' }, other), 201, 'family');
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 'session')).toMatchObject({ confirmed: 30, available: 0 });
    const list = expectStatus(await call(streetOperator, 'GET', `/v1/venue-sessions/${s.id}/reservations`), 200, 'staff list').items;
    expect(list.map((r: { quantity: number }) => r.quantity).sort((a: number, b: number) => b - a)).toEqual([25, 5]);
    expect(JSON.stringify(list)).not.toMatch(/170\d{8}/);
    expect(problem(await call(otherStreetOperator, 'GET', `/v1/venue-sessions/${s.id}/reservations`)).status).toBe(404);
  });

  it('cancellation until the configured time before the start', async () => {
    const s = await session(call, venueId, { startsInMinutes: 180, cancelUntilMinutes: 120 }, NOW);
    const c = await nextCitizen();
    const a = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity: 2 }, c), 201, 'a');
    const cancelled = expectStatus(await call(null, 'POST', `/v1/venue-reservations/${a.id}/cancel`, undefined, c), 200, 'cancel');
    expect(cancelled.status).toBe('cancelled');
    expect(problem(await call(null, 'POST', `/v1/venue-reservations/${a.id}/cancel`, undefined, c)).code).toBe('VENUES_RESERVATION_NOT_ACTIVE');
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 's').confirmed).toBe(0);
    const b = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, c), 201, 'b');
    setClock(app, new Date(NOW.getTime() + 61 * 60_000));
    expect(problem(await call(null, 'POST', `/v1/venue-reservations/${b.id}/cancel`, undefined, c))).toMatchObject({ status: 409, code: 'VENUES_CANCEL_TOO_LATE' });
    setClock(app, NOW);
    // Someone else's reservation is not found.
    expect(problem(await call(null, 'POST', `/v1/venue-reservations/${b.id}/cancel`, undefined, await nextCitizen())).status).toBe(404);
  });

  it('an Idempotency-Key replays for its citizen only', async () => {
    const s = await session(call, venueId, {}, NOW);
    const [c1, c2] = [await nextCitizen(), await nextCitizen()];
    const key = { 'idempotency-key': 'same-key-1' };
    const r1 = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, { ...c1, ...key });
    const again = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, { ...c1, ...key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(r1.body.id);
    const r2 = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, { ...c2, ...key });
    expect(r2.status).toBe(201);
    expect(r2.body.id).not.toBe(r1.body.id);
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 's').confirmed).toBe(2);
  });

  it('a booking releases the session’s lock without waiting for the disk, and is answered only once its commit is flushed', async () => {
    const s = await session(call, venueId, { capacity: 1 }, NOW);
    const [c1, c2] = [await nextCitizen(), await nextCitizen()];
    const { reservations } = venuesOf(app);
    // The booking's own transaction commits asynchronously (its lock goes at once); others keep synchronous commits.
    const other = await session(call, venueId, { capacity: 5 }, NOW);
    const citizen = await venuesOf(app).citizens.authenticate((await nextCitizen())['x-citizen-token']);
    const settings = await transaction(app.diandan.database.db, async (tx) => {
      await reservations.reserve({ sessionId: other.id, quantity: 1 }, citizen, tx, { earlyLockRelease: true });
      return (await queryRows<{ commit: string }>(tx, sql`select current_setting('synchronous_commit') as commit`))[0]!.commit;
    });
    expect(settings).toBe('off');
    const plain = await transaction(app.diandan.database.db, async (tx) => (await queryRows<{ commit: string }>(tx, sql`select current_setting('synchronous_commit') as commit`))[0]!.commit);
    expect(plain).toBe('on');
    // Every answer of the route — booked, waitlisted, replayed — comes after a flush that began after its commit.
    const events: string[] = [];
    const flush = reservations.flushCommitted.bind(reservations);
    reservations.flushCommitted = async () => {
      events.push('flush started');
      await new Promise((r) => setTimeout(r, 50));
      await flush();
      events.push('flushed');
    };
    try {
      const key = { 'idempotency-key': 'flush-key-1' };
      const booked = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, { ...c1, ...key });
      events.push(`answered ${booked.status}`);
      const replayed = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, { ...c1, ...key });
      events.push(`answered ${replayed.status}`);
      const waitlisted = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { waitlist: true }, c2);
      events.push(`answered ${waitlisted.status}`);
      const full = await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, {}, await nextCitizen());
      events.push(`answered ${full.status}`);
    } finally {
      reservations.flushCommitted = flush;
    }
    // A refusal wrote nothing: it waits for no flush.
    expect(events).toEqual(['flush started', 'flushed', 'answered 201', 'flush started', 'flushed', 'answered 201', 'flush started', 'flushed', 'answered 202', 'answered 409']);
    // The flush itself: the WAL is on disk up to where it was before it (PostgreSQL; PGlite answers too).
    const [before] = await queryRows<{ lsn: string }>(app.diandan.database.db, sql`select pg_current_wal_insert_lsn()::text as lsn`);
    await reservations.flushCommitted();
    const [after] = await queryRows<{ done: boolean }>(app.diandan.database.db, sql`select pg_current_wal_flush_lsn() >= ${before!.lsn}::pg_lsn as done`);
    expect(after!.done).toBe(true);
  });

  it('bookings share flushes, each answered after one that began once it asked', async () => {
    const { reservations } = venuesOf(app);
    const flush = (reservations as any).flush;
    const started: (() => void)[] = [];
    (reservations as any).flush = () => new Promise<void>((resolve) => started.push(resolve));
    try {
      const done: string[] = [];
      const a = reservations.flushCommitted().then(() => done.push('a'));
      const b = reservations.flushCommitted().then(() => done.push('b'));
      const c = reservations.flushCommitted().then(() => done.push('c'));
      await new Promise((r) => setTimeout(r, 10));
      // One flush under way; b and c asked while it was (it may have begun before their commits).
      expect(started).toHaveLength(1);
      started[0]!();
      await a;
      await new Promise((r) => setTimeout(r, 10));
      expect(done).toEqual(['a']);
      // The next one serves both.
      expect(started).toHaveLength(2);
      started[1]!();
      await Promise.all([b, c]);
      expect(done).toEqual(['a', 'b', 'c']);
      expect(started).toHaveLength(2);
    } finally {
      (reservations as any).flush = flush;
    }
  });
});
