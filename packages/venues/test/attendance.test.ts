/** At the door and after: check-in with its refusals, signed tickets offline, no-shows and blocks, calendars, utilisation. */
import { kernelTables, type Actor } from '@diandan/kernel';
import { eq } from 'drizzle-orm';
import { client, createTestServer, expectStatus, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import ical, { type VEvent } from 'node-ical';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venues, verifyTicket } from '../src/index.js';
import { citizen, phone, session, setClock, useRecorder, venue, venuesOf } from './support.js';

const { streetOperator, otherStreetOperator } = testActors;
const NOW = new Date('2027-03-01T10:00:00+08:00');
const MIN = 60_000;
const DAY = 86_400_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
let app: FastifyInstance;
let call: Call;
let sender: ReturnType<typeof useRecorder>;
let venueId: string;
let n = 0;
const nextCitizen = () => citizen(call, sender, phone(7000 + ++n));
type Who = Awaited<ReturnType<typeof nextCitizen>>;

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues({ noShows: { graceMinutes: 15, blockAfter: 2, periodDays: 30, blockDays: 7 }, otp: { tokenTtlHours: 720 } })] });
  await seedRegions(app);
  call = client(app);
  sender = useRecorder(app);
  setClock(app, NOW);
  venueId = (await venue(call, '440103001', 300)).id;
});
afterAll(() => app?.close());

const book = async (s: { id: string }, who: Who, quantity = 1) => expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity }, who), 201, 'book');
const checkIn = (s: { id: string }, body: { code: string } | { ticket: string }, who = streetOperator) => call(who, 'POST', `/v1/venue-sessions/${s.id}/check-ins`, body);
const releaseJob = async () => {
  const v = venuesOf(app);
  const done = await v.context.jobs.wait((await v.context.jobs.send(v.releaseNoShows, {}))!, { timeoutMs: 20_000 });
  expect(done.state).toBe('completed');
  return done.result as { released: number };
};
const mine = async (who: Who, id: string) => expectStatus(await call(null, 'GET', `/v1/venue-reservations/${id}`, undefined, who), 200, 'mine').reservation;

describe('check-in at the door', () => {
  it('checks in by code or ticket, and refuses with a reason: unknown, forged, wrong session, cancelled, already, outside the window', async () => {
    const s = await session(call, venueId, { startsInMinutes: 24 * 60 }, NOW);
    const other = await session(call, venueId, { startsInMinutes: 24 * 60 }, NOW);
    const c = await nextCitizen();
    const r1 = await book(s, c, 2);
    const r2 = await book(s, await nextCitizen());
    const c2 = await nextCitizen();
    const r2b = await book(s, c2);
    expectStatus(await call(null, 'POST', `/v1/venue-reservations/${r2b.id}/cancel`, undefined, c2), 200, 'cancel');
    const r3 = await book(other, await nextCitizen());
    const start = Date.parse(s.startsAt);
    setClock(app, new Date(start - 90 * MIN));
    expect(problem(await checkIn(s, { code: r1.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_OUTSIDE_WINDOW' });
    setClock(app, new Date(start - 30 * MIN));
    expect(problem(await checkIn(s, { code: 'no-such-code' }))).toMatchObject({ status: 422, code: 'VENUES_CHECKIN_UNKNOWN_CODE' });
    expect(problem(await checkIn(s, { code: r3.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_WRONG_SESSION' });
    expect(problem(await checkIn(s, { code: r2b.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_CANCELLED' });
    const forged = r1.ticket.slice(0, -3) + (r1.ticket.endsWith('AAA') ? 'BBB' : 'AAA');
    expect(problem(await checkIn(s, { ticket: forged }))).toMatchObject({ status: 422, code: 'VENUES_CHECKIN_BAD_TICKET' });
    expect(problem(await checkIn(s, { code: r1.code }, otherStreetOperator)).status).toBe(404);
    const ok = expectStatus(await checkIn(s, { ticket: r1.ticket }), 200, 'check in');
    expect(ok).toMatchObject({ id: r1.id, status: 'checked-in', checkedInVia: 'online', quantity: 2 });
    expect(ok.phone).toMatch(/^170\*\*\*\*\d{4}$/);
    expect(problem(await checkIn(s, { code: r1.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_ALREADY' });
    setClock(app, new Date(start + 31 * MIN));
    expect(problem(await checkIn(s, { code: r2.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_OUTSIDE_WINDOW' });
    setClock(app, NOW);
  });

  it('the QR code is an SVG carrying a ticket that the public key verifies without the database', async () => {
    const s = await session(call, venueId, {}, NOW);
    const c = await nextCitizen();
    const r = await book(s, c, 3);
    const qr = await call(null, 'GET', `/v1/venue-reservations/${r.id}/qr`, undefined, c);
    expect(qr.status).toBe(200);
    expect(qr.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(qr.body).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect((await call(null, 'GET', `/v1/venue-reservations/${r.id}/qr`, undefined, await nextCitizen())).status).toBe(404);
    const key = expectStatus(await call(null, 'GET', '/v1/venue-checkin-key'), 200, 'key');
    expect(key.alg).toBe('Ed25519');
    expect(verifyTicket(r.ticket, key.publicKey)).toEqual({ ok: true, claims: { reservationId: r.id, sessionId: s.id, seats: 3 } });
    // One character of the signed part changed (not the last one: base64url's last character
    // may carry unused bits, and changing only those leaves the bytes as they were).
    const tampered = `${r.ticket.slice(0, 4)}${r.ticket[4] === 'A' ? 'B' : 'A'}${r.ticket.slice(5)}`;
    expect(verifyTicket(tampered, key.publicKey).ok).toBe(false);
    expect(verifyTicket('DV1.short', key.publicKey)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('offline check-in', () => {
  it('reconciles uploaded scans in scan order; double entry, cancelled and forged tickets are reported; re-uploads change nothing', async () => {
    const s = await session(call, venueId, { startsInMinutes: 24 * 60 }, NOW);
    const who = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
    const [a, b, c] = [await book(s, who[0]!), await book(s, who[1]!, 2), await book(s, who[2]!)];
    expectStatus(await call(null, 'POST', `/v1/venue-reservations/${c.id}/cancel`, undefined, who[2]), 200, 'cancel');
    const start = Date.parse(s.startsAt);
    const t = (m: number) => new Date(start + m * MIN).toISOString();
    setClock(app, new Date(start - 20 * MIN));
    // b was checked in online at the main door before the side door's connection dropped.
    expectStatus(await checkIn(s, { code: b.code }), 200, 'online');
    setClock(app, new Date(start + 40 * MIN));
    const forged = a.ticket.slice(0, -2) + (a.ticket.endsWith('AA') ? 'BB' : 'AA');
    const upload = { deviceId: 'side-door', scans: [{ ticket: b.ticket, scannedAt: t(-10) }, { ticket: a.ticket, scannedAt: t(-15) }, { ticket: c.ticket, scannedAt: t(-14) }, { ticket: forged, scannedAt: t(-13) }] };
    const first = expectStatus(await call(streetOperator, 'POST', `/v1/venue-sessions/${s.id}/offline-check-ins`, upload), 200, 'reconcile');
    expect(first).toMatchObject({ checkedIn: 1, conflicts: 2, refused: 1 });
    expect(first.results.map((r: { outcome: string; code: string | null }) => [r.outcome, r.code])).toEqual([
      ['conflict', 'VENUES_CHECKIN_ALREADY'],
      ['checked-in', null],
      ['conflict', 'VENUES_CHECKIN_CANCELLED'],
      ['refused', 'VENUES_CHECKIN_BAD_TICKET'],
    ]);
    expect(await mine(who[0]!, a.id)).toMatchObject({ status: 'checked-in', checkedInVia: 'offline', checkedInAt: t(-15) });
    // The same upload again: each scan keeps its first outcome.
    const again = expectStatus(await call(streetOperator, 'POST', `/v1/venue-sessions/${s.id}/offline-check-ins`, upload), 200, 'again');
    expect(again.results.filter((r: { outcome: string }) => r.outcome === 'duplicate-upload')).toHaveLength(3);
    expect(again.checkedIn).toBe(0);
    // Another device let a in too, later: a conflict, and a is still in once.
    const other = expectStatus(await call(streetOperator, 'POST', `/v1/venue-sessions/${s.id}/offline-check-ins`, { deviceId: 'front-door', scans: [{ ticket: a.ticket, scannedAt: t(-5) }] }), 200, 'second device');
    expect(other.results[0]).toMatchObject({ outcome: 'conflict', code: 'VENUES_CHECKIN_ALREADY', reservationId: a.id });
    // Once synced, the online door refuses it as well.
    expect(problem(await checkIn(s, { ticket: a.ticket }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_ALREADY' });
    // A scan outside the window is refused; one from another session too.
    const late = await session(call, venueId, { startsInMinutes: 3 * 24 * 60 }, NOW);
    const d = await book(late, await nextCitizen());
    const refused = expectStatus(await call(streetOperator, 'POST', `/v1/venue-sessions/${s.id}/offline-check-ins`, { deviceId: 'side-door', scans: [{ ticket: d.ticket, scannedAt: t(-1) }] }), 200, 'wrong session');
    expect(refused.results[0]).toMatchObject({ outcome: 'refused', code: 'VENUES_CHECKIN_WRONG_SESSION' });
    expect(problem(await call(otherStreetOperator, 'POST', `/v1/venue-sessions/${s.id}/offline-check-ins`, upload)).status).toBe(404);
    setClock(app, NOW);
  });
});

describe('no-shows', () => {
  it('after the window plus grace, unclaimed seats go to the waiting list; repeated no-shows block booking, and the citizen sees why', async () => {
    const start = at(DAY).getTime();
    const s = await session(call, venueId, { capacity: 2, startsInMinutes: 24 * 60, bookingClosesAt: new Date(start + 90 * MIN).toISOString() }, NOW);
    const [present, absent, waiting] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
    const rp = await book(s, present);
    const ra = await book(s, absent);
    const entry = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/waitlist`, {}, waiting), 201, 'join');
    setClock(app, new Date(start - 10 * MIN));
    expectStatus(await checkIn(s, { code: rp.code }), 200, 'present');
    // The window closes at +30 min; with 15 minutes' grace nothing is released at +44.
    setClock(app, new Date(start + 44 * MIN));
    await releaseJob();
    expect((await mine(absent, ra.id)).status).toBe('confirmed');
    setClock(app, new Date(start + 46 * MIN));
    expect((await releaseJob()).released).toBeGreaterThanOrEqual(1);
    expect(await mine(absent, ra.id)).toMatchObject({ status: 'no-show', noShowAt: new Date(start + 46 * MIN).toISOString() });
    expect(await mine(present, rp.id)).toMatchObject({ status: 'checked-in' });
    // The released seat is offered to the waiting list; accepted late, it may still check in until the end.
    const late = expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${entry.id}/accept`, undefined, waiting), 200, 'accept');
    expect(problem(await checkIn(s, { code: ra.code }))).toMatchObject({ status: 409, code: 'VENUES_CHECKIN_RELEASED' });
    expectStatus(await checkIn(s, { code: late.code }), 200, 'late check-in');
    // Twice released once: the sweep does a session once.
    await releaseJob();
    expect(expectStatus(await call(null, 'GET', `/v1/venue-sessions/${s.id}`), 200, 's')).toMatchObject({ confirmed: 2, held: 0 });
    expect(expectStatus(await call(null, 'GET', '/v1/venue-citizen/standing', undefined, absent), 200, 'standing')).toMatchObject({ blocked: false, noShows: [{ reservationId: ra.id }] });

    // A second no-show within 30 days blocks booking for 7 days.
    const s2 = await session(call, venueId, { startsInMinutes: 2 * 24 * 60 }, NOW);
    const ra2 = await book(s2, absent);
    const s3 = await session(call, venueId, { startsInMinutes: 20 * 24 * 60 }, NOW);
    const release2 = at(2 * DAY + 46 * MIN);
    setClock(app, release2);
    await releaseJob();
    expect((await mine(absent, ra2.id)).status).toBe('no-show');
    const refusal = problem(await call(null, 'POST', `/v1/venue-sessions/${s3.id}/reservations`, {}, absent));
    expect(refusal).toMatchObject({ status: 409, code: 'VENUES_BOOKING_BLOCKED' });
    expect(problem(await call(null, 'POST', `/v1/venue-sessions/${s3.id}/waitlist`, {}, absent)).code).toBe('VENUES_BOOKING_BLOCKED');
    const standing = expectStatus(await call(null, 'GET', '/v1/venue-citizen/standing', undefined, absent), 200, 'standing');
    expect(standing).toMatchObject({ blocked: true, block: { endsAt: new Date(release2.getTime() + 7 * DAY).toISOString(), reason: '2 no-shows within 30 days' }, rule: { blockAfter: 2, periodDays: 30, blockDays: 7 } });
    expect(standing.block.noShows.map((x: { reservationId: string }) => x.reservationId).sort()).toEqual([ra.id, ra2.id].sort());
    // Others book as usual; after the block the citizen does too.
    await book(s3, present);
    setClock(app, new Date(release2.getTime() + 7 * DAY + MIN));
    await book(s3, absent);
    expect(expectStatus(await call(null, 'GET', '/v1/venue-citizen/standing', undefined, absent), 200, 'standing').blocked).toBe(false);
    setClock(app, NOW);
  });
});

describe('calendars', () => {
  it('a venue’s sessions and a citizen’s reservations as iCalendar feeds in Asia/Shanghai, parsed back', async () => {
    const v = (await venue(call, '440103001', 100)).id;
    const s = await session(call, v, { title: '少儿绘本共读（测试）', startsInMinutes: 5 * 24 * 60 }, NOW);
    const res = await call(null, 'GET', `/v1/venues/${v}/sessions.ics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    expect(res.body).toContain('TZID:Asia/Shanghai');
    const events = Object.values(ical.sync.parseICS(res.body)).filter((e) => e?.type === 'VEVENT') as VEvent[];
    expect(events).toHaveLength(1);
    expect(events[0]!.summary).toBe('少儿绘本共读（测试）');
    expect(new Date(events[0]!.start).toISOString()).toBe(s.startsAt);
    expect(new Date(events[0]!.end as unknown as Date).toISOString()).toBe(s.endsAt);
    expect(res.body).toMatch(/DTSTART;TZID=Asia\/Shanghai:\d{8}T\d{6}/);
    const c = await nextCitizen();
    const r = await book(s, c, 2);
    const { path } = expectStatus(await call(null, 'GET', '/v1/venue-reservations/calendar', undefined, c), 200, 'feed');
    const feed = await call(null, 'GET', path);
    expect(feed.status).toBe(200);
    const mineEvents = Object.values(ical.sync.parseICS(feed.body)).filter((e) => e?.type === 'VEVENT') as VEvent[];
    expect(mineEvents.map((e) => [e.uid, e.summary, new Date(e.start).toISOString()])).toEqual([[`reservation-${r.id}@diandan`, '少儿绘本共读（测试）（2 位）', s.startsAt]]);
    expect(feed.body).not.toContain(r.code);
    expect(problem(await call(null, 'GET', path.replace(/\.[A-Za-z0-9_-]{32}\.ics$/, `.${'x'.repeat(32)}.ics`))).status).toBe(404);
    expect((await call(null, 'GET', `/v1/venues/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/sessions.ics`)).status).toBe(404);
  });
});

describe('utilisation', () => {
  it('per venue, room and weekday × hour, as computed by hand on a fixture', async () => {
    const v = (await venue(call, '440103001', 50)).id;
    const roomA = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/rooms`, { name: 'A 阅览室', capacity: 10 }), 201, 'room A');
    const roomB = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/rooms`, { name: 'B 多功能厅', capacity: 20 }), 201, 'room B');
    const sA = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/sessions`, { title: '讲座 A（测试）', roomId: roomA.id, capacity: 5, startsAt: '2027-03-08T10:00:00+08:00', endsAt: '2027-03-08T11:00:00+08:00', bookingOpensAt: new Date(NOW.getTime() - MIN).toISOString() }), 201, 'A');
    const sB = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/sessions`, { title: '讲座 B（测试）', roomId: roomB.id, capacity: 20, startsAt: '2027-03-09T19:00:00+08:00', endsAt: '2027-03-09T20:00:00+08:00', bookingOpensAt: new Date(NOW.getTime() - MIN).toISOString() }), 201, 'B');
    const c = [] as Who[];
    for (let i = 0; i < 6; i++) c.push(await nextCitizen());
    // A (5 seats): 3 + 1 + 1 booked; the last cancels, the waiting entry gets and accepts the seat.
    const a1 = await book(sA, c[0]!, 3);
    await book(sA, c[1]!, 1);
    const a3 = await book(sA, c[2]!, 1);
    const e = expectStatus(await call(null, 'POST', `/v1/venue-sessions/${sA.id}/waitlist`, {}, c[3]), 201, 'join');
    expectStatus(await call(null, 'POST', `/v1/venue-reservations/${a3.id}/cancel`, undefined, c[2]), 200, 'cancel');
    const a4 = expectStatus(await call(null, 'POST', `/v1/venue-waitlist/${e.id}/accept`, undefined, c[3]), 200, 'accept');
    // B (20 seats): 4 checked in, 2 no-show.
    const b1 = await book(sB, c[4]!, 4);
    await book(sB, c[5]!, 2);
    setClock(app, new Date('2027-03-08T09:30:00+08:00'));
    for (const r of [a1, a4]) expectStatus(await checkIn(sA, { code: r.code }), 200, 'A in');
    setClock(app, new Date('2027-03-08T10:46:00+08:00'));
    await releaseJob();
    setClock(app, new Date('2027-03-09T18:40:00+08:00'));
    expectStatus(await checkIn(sB, { code: b1.code }), 200, 'B in');
    setClock(app, new Date('2027-03-09T19:46:00+08:00'));
    await releaseJob();
    const u = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v}/utilisation?from=${encodeURIComponent('2027-03-08T00:00:00+08:00')}&to=${encodeURIComponent('2027-03-10T00:00:00+08:00')}`), 200, 'utilisation');
    // By hand: A 5 offered, 5 reserved (3 + 1 + 1 from the waiting list; the cancelled seat not), 4 in, 1 no-show;
    // B 20 offered, 6 reserved, 4 in, 2 no-shows. Together 25, 11, 8, 3.
    const fig = (sessions: number, capacityOffered: number, seatsReserved: number, seatsCheckedIn: number, seatsNoShow: number, waitlistJoined: number, waitlistAccepted: number, bookingRate: number | null, reservationUtilisation: number | null, noShowRate: number | null, waitlistConversion: number | null) => ({ sessions, capacityOffered, seatsReserved, seatsCheckedIn, seatsNoShow, waitlistJoined, waitlistAccepted, bookingRate, reservationUtilisation, noShowRate, waitlistConversion });
    expect(u.totals).toEqual(fig(2, 25, 11, 8, 3, 1, 1, 0.44, 0.32, 0.2727, 1));
    expect(u.rooms).toEqual([
      { roomId: roomA.id, name: 'A 阅览室', ...fig(1, 5, 5, 4, 1, 1, 1, 1, 0.8, 0.2, 1) },
      { roomId: roomB.id, name: 'B 多功能厅', ...fig(1, 20, 6, 4, 2, 0, 0, 0.3, 0.2, 0.3333, null) },
    ]);
    expect(u.slots).toEqual([
      { weekday: 1, hour: 10, ...fig(1, 5, 5, 4, 1, 1, 1, 1, 0.8, 0.2, 1) },
      { weekday: 2, hour: 19, ...fig(1, 20, 6, 4, 2, 0, 0, 0.3, 0.2, 0.3333, null) },
    ]);
    const onlyB = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v}/utilisation?from=2027-03-01T00:00:00Z&to=2027-04-01T00:00:00Z&roomId=${roomB.id}`), 200, 'room B');
    expect(onlyB.totals.capacityOffered).toBe(20);
    expect(problem(await call(streetOperator, 'GET', `/v1/venues/${v}/utilisation?from=2027-04-01T00:00:00Z&to=2027-03-01T00:00:00Z`)).code).toBe('VENUES_REPORT_INVALID');
    expect(problem(await call(otherStreetOperator, 'GET', `/v1/venues/${v}/utilisation?from=2027-03-01T00:00:00Z&to=2027-04-01T00:00:00Z`)).status).toBe(404);

    // A region's venues in one statement (what the reporting package reads): this venue's
    // figures as above, the totals the sum over the subtree's venues, nothing from outside it.
    const pathOf = async (code: string) => (await app.diandan.database.db.select({ path: kernelTables.regions.path }).from(kernelTables.regions).where(eq(kernelTables.regions.code, code)))[0]!.path;
    const staff = async (region: string): Promise<Actor> => ({ userId: `staff@${region}`, roles: ['street-operator'], region, regionPath: await pathOf(region) });
    const range = { from: '2027-03-08T00:00:00+08:00', to: '2027-03-10T00:00:00+08:00' };
    const { utilisation } = venuesOf(app);
    const street = await utilisation.ofRegion({ regionPath: await pathOf('440103001'), ...range }, { actor: await staff('440103001') });
    expect(street.venues.find((x: { venueId: string }) => x.venueId === v)).toMatchObject({ regionCode: '440103001', figures: u.totals });
    const sum = (key: 'sessions' | 'capacityOffered' | 'seatsCheckedIn') => street.venues.reduce((n: number, x: { figures: Record<string, number> }) => n + x.figures[key]!, 0);
    expect([street.totals.sessions, street.totals.capacityOffered, street.totals.seatsCheckedIn]).toEqual([sum('sessions'), sum('capacityOffered'), sum('seatsCheckedIn')]);
    const other = await utilisation.ofRegion({ regionPath: await pathOf('440103002'), ...range }, { actor: await staff('440103') });
    expect(other.venues.map((x: { venueId: string }) => x.venueId)).not.toContain(v);
    await expect(utilisation.ofRegion({ regionPath: await pathOf('440103001'), ...range }, { actor: await staff('440103002') })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    setClock(app, NOW);
  });
});
