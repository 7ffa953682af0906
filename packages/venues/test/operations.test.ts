/** Reminders before a session (once per ticket), signed lists of revoked tickets for offline doors, and opening-hour proposals from utilisation. */
import { client, createTestServer, expectStatus, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { definePlugin, filter, kernel } from '@diandan/kernel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkTicketOffline, hoursProposals, venues, venuesPlugin, verifyRevocations, type Reminder, type RevocationList } from '../src/index.js';
import { WEEKLY, citizen, phone, session, setClock, useRecorder, venue, venuesOf } from './support.js';

const { streetOperator, otherStreetOperator } = testActors;
const NOW = new Date('2027-06-01T10:00:00+08:00');
const MIN = 60_000;
const HOUR = 60 * MIN;
let app: FastifyInstance;
let call: Call;
let sender: ReturnType<typeof useRecorder>;
let venueId: string;
let n = 0;
const nextCitizen = () => citizen(call, sender, phone(9100 + ++n));
const book = async (s: { id: string }, who: Awaited<ReturnType<typeof nextCitizen>>, quantity = 1) => expectStatus(await call(null, 'POST', `/v1/venue-sessions/${s.id}/reservations`, { quantity }, who), 201, 'book');
const cancel = async (r: { id: string }, who: Awaited<ReturnType<typeof nextCitizen>>) => expectStatus(await call(null, 'POST', `/v1/venue-reservations/${r.id}/cancel`, undefined, who), 200, 'cancel');

// A region plugin that replaces the built-in proposals when told to (Hangzhou's would use its own model).
let replaceProposals = false;
const regionPlugin = definePlugin({
  name: 'region-hours',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel, venues: venuesPlugin },
  hooks: () => [
    filter(hoursProposals, (drafts, ctx) =>
      replaceProposals ? [{ weekly: ctx.weekly.map((w) => ({ ...w, closes: '20:00' })), reason: 'region model: evenings are busy', basis: { sessions: ctx.totals.sessions }, proposedBy: 'region-hours' }] : drafts,
    ),
  ],
});

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues({ reminders: { minutesBefore: 24 * 60 } }), regionPlugin.configure()] });
  await seedRegions(app);
  call = client(app);
  sender = useRecorder(app);
  setClock(app, NOW);
  venueId = (await venue(call, '440103001', 300)).id;
});
afterAll(() => app?.close());
// A failed test must not leave the clock moved for the next.
afterEach(() => setClock(app, NOW));

describe('reminders', () => {
  it('reminds each confirmed ticket holder once, a configured time before the session, through the plugged-in sender', async () => {
    const sent: Reminder[] = [];
    venuesOf(app).reminders.useSender({ send: async (r: Reminder) => void sent.push(r) });
    const s = await session(call, venueId, { startsInMinutes: 48 * 60 }, NOW);
    const [a, b, c] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
    const ra = await book(s, a, 2);
    const rb = await book(s, b);
    await cancel(await book(s, c), c);
    const job = async () => {
      const v = venuesOf(app);
      const done = await v.context.jobs.wait((await v.context.jobs.send(v.sendReminders, {}))!, { timeoutMs: 20_000 });
      expect(done.state).toBe('completed');
      return (done.result as { sent: number }).sent;
    };
    // Two days ahead: not yet.
    expect(await job()).toBe(0);
    const start = Date.parse(s.startsAt);
    setClock(app, new Date(start - 24 * HOUR + MIN));
    expect(await job()).toBe(2);
    expect(sent.map((r) => [r.reservationId, r.seats, r.phone, r.title]).sort()).toEqual(
      [
        [ra.id, 2, phone(9100 + n - 2), s.title],
        [rb.id, 1, phone(9100 + n - 1), s.title],
      ].sort(),
    );
    expect(sent[0]!.phoneMasked).toMatch(/\*/);
    // Once per ticket, however often the job runs, also when sweeps race.
    expect(await job()).toBe(0);
    const d = await nextCitizen();
    const rd = await book(s, d);
    const raced = await Promise.all([venuesOf(app).reminders.sendDue(), venuesOf(app).reminders.sendDue(), job()]);
    expect(raced.reduce((x, y) => x + y, 0)).toBe(1);
    expect(sent.filter((r) => r.reservationId === rd.id)).toHaveLength(1);
    expect(await venuesOf(app).reminders.remindedCount(s.id)).toBe(3);
    // After the start nobody is reminded any more.
    const e = await nextCitizen();
    await book(s, e);
    setClock(app, new Date(start + MIN));
    expect(await job()).toBe(0);
    setClock(app, NOW);
  });
});

describe('revoked tickets for offline doors', () => {
  it('lists the session’s cancelled tickets since a time, signed; offline, the door refuses them and accepts the others', async () => {
    const s = await session(call, venueId, { startsInMinutes: 24 * 60 }, NOW);
    const other = await session(call, venueId, { startsInMinutes: 24 * 60 }, NOW);
    const [a, b, c] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
    const ra = await book(s, a);
    const rb = await book(s, b);
    const rc = await book(s, c);
    const ro = await book(other, a);
    const t1 = new Date(NOW.getTime() + MIN);
    setClock(app, t1);
    await cancel(rb, b);
    setClock(app, new Date(NOW.getTime() + 2 * MIN));
    await cancel(rc, c);
    setClock(app, new Date(NOW.getTime() + 3 * MIN));
    const { publicKey } = expectStatus(await call(null, 'GET', '/v1/venue-checkin-key'), 200, 'key');
    const all: RevocationList = expectStatus(await call(streetOperator, 'GET', `/v1/venue-sessions/${s.id}/revoked-tickets`), 200, 'revoked');
    expect(all).toMatchObject({ sessionId: s.id, since: null, until: new Date(NOW.getTime() + 3 * MIN).toISOString() });
    expect(all.tickets.map((t) => [t.reservationId, t.status])).toEqual([
      [rb.id, 'cancelled'],
      [rc.id, 'cancelled'],
    ]);
    expect(verifyRevocations(all, publicKey)).toBe(true);
    const since: RevocationList = expectStatus(await call(streetOperator, 'GET', `/v1/venue-sessions/${s.id}/revoked-tickets?since=${encodeURIComponent(t1.toISOString())}`), 200, 'since');
    expect(since.tickets.map((t) => t.reservationId)).toEqual([rc.id]);
    // Offline: signatures good, yet the cancelled tickets are refused with the list.
    expect(checkTicketOffline(ra.ticket, publicKey, s.id, [all])).toMatchObject({ ok: true });
    expect(checkTicketOffline(rb.ticket, publicKey, s.id, [all])).toMatchObject({ ok: false, reason: 'revoked', revoked: { reservationId: rb.id, status: 'cancelled' } });
    expect(checkTicketOffline(rc.ticket, publicKey, s.id, [since])).toMatchObject({ ok: false, reason: 'revoked' });
    expect(checkTicketOffline(ro.ticket, publicKey, s.id, [all])).toMatchObject({ ok: false, reason: 'wrong-session' });
    // A list that was tampered with (an entry dropped) does not verify, and is not trusted.
    const tampered = { ...all, tickets: all.tickets.slice(1) };
    expect(verifyRevocations(tampered, publicKey)).toBe(false);
    expect(verifyRevocations({ ...all, sessionId: other.id }, publicKey)).toBe(false);
    // Other regions' staff do not see it.
    expect(problem(await call(otherStreetOperator, 'GET', `/v1/venue-sessions/${s.id}/revoked-tickets`))).toMatchObject({ status: 404 });
    setClock(app, NOW);
  });
});

describe('opening-hour proposals', () => {
  it('proposes hours from utilisation; staff list, accept (through the hours history) or dismiss; a region plugin can replace the proposals', async () => {
    const v = (await venue(call, '440103001', 300)).id;
    let version = Number(expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${v}/hours`, { weekly: WEEKLY, reason: '初始' }, { 'if-match': '"v0"' }), 200, 'hours').version);
    // Saturdays (09:00–21:00): the 20:00 session full with a waiting list; the 09:00 one booked but nobody came.
    const sat = '2027-06-05';
    const late = await session(call, v, { capacity: 2, startsAt: `${sat}T20:00:00+08:00`, endsAt: `${sat}T20:50:00+08:00` }, NOW);
    const early = await session(call, v, { capacity: 10, startsAt: `${sat}T09:00:00+08:00`, endsAt: `${sat}T10:00:00+08:00` }, NOW);
    const [a, b, c] = [await nextCitizen(), await nextCitizen(), await nextCitizen()];
    await book(late, a, 2);
    expectStatus(await call(null, 'POST', `/v1/venue-sessions/${late.id}/waitlist`, { quantity: 1 }, b), 201, 'join');
    await book(early, c, 1);
    const window = { from: `${sat}T00:00:00+08:00`, to: `2027-06-06T00:00:00+08:00` };
    const made = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/hours-proposals`, window), 201, 'propose').items;
    expect(made).toHaveLength(1);
    const [p] = made;
    expect(p).toMatchObject({ venueId: v, status: 'open', proposedBy: 'venues' });
    expect(p.weekly.filter((w: { weekday: number }) => w.weekday === 6)).toEqual([{ weekday: 6, opens: '10:00', closes: '22:00' }]);
    expect(p.weekly.filter((w: { weekday: number }) => w.weekday !== 6)).toEqual(WEEKLY.filter((w) => w.weekday !== 6));
    expect(p.reason).toMatch(/weekday 6 close at 22:00; weekday 6 open at 10:00/);
    expect(expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v}/hours-proposals?status=open`), 200, 'list').items.map((x: { id: number }) => x.id)).toEqual([p.id]);
    expect(problem(await call(otherStreetOperator, 'GET', `/v1/venues/${v}/hours-proposals`))).toMatchObject({ status: 404 });
    // Accepting goes through the hours change (If-Match the profile's version) and its history.
    expect(problem(await call(streetOperator, 'POST', `/v1/venue-hours-proposals/${p.id}/accept`, undefined, { 'if-match': `"v${version + 5}"` }))).toMatchObject({ status: 412 });
    const accepted = expectStatus(await call(streetOperator, 'POST', `/v1/venue-hours-proposals/${p.id}/accept`, undefined, { 'if-match': `"v${version}"` }), 200, 'accept');
    version++;
    expect(accepted).toMatchObject({ status: 'accepted', decidedBy: streetOperator.sub });
    const history = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v}/hour-changes`), 200, 'history').items;
    expect(history[0]).toMatchObject({ id: accepted.hourChangeId, reason: expect.stringContaining(`Hours proposal #${p.id}`) });
    expect(history[0].after.weekly).toContainEqual({ weekday: 6, opens: '10:00', closes: '22:00' });
    expect(problem(await call(streetOperator, 'POST', `/v1/venue-hours-proposals/${p.id}/accept`, undefined, { 'if-match': `"v${version}"` }))).toMatchObject({ status: 409, code: 'VENUES_PROPOSAL_DECIDED' });
    // A region plugin's filter replaces them; a new round supersedes the open ones; dismissing leaves the hours.
    replaceProposals = true;
    const [q1] = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/hours-proposals`, window), 201, 'propose').items;
    const [q2] = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v}/hours-proposals`, window), 201, 'propose').items;
    replaceProposals = false;
    expect(q2).toMatchObject({ proposedBy: 'region-hours', reason: 'region model: evenings are busy' });
    expect(q2.weekly.every((w: { closes: string }) => w.closes === '20:00')).toBe(true);
    const listed = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v}/hours-proposals`), 200, 'list').items;
    expect(listed.find((x: { id: number }) => x.id === q1.id)).toMatchObject({ status: 'dismissed', decidedBy: 'superseded' });
    expect(expectStatus(await call(streetOperator, 'POST', `/v1/venue-hours-proposals/${q2.id}/dismiss`), 200, 'dismiss')).toMatchObject({ status: 'dismissed' });
    const hours = expectStatus(await call(null, 'GET', `/v1/venues/${v}/details`), 200, 'details').weekly;
    expect(hours).toContainEqual({ weekday: 6, opens: '10:00', closes: '22:00' });
    expect(problem(await call(streetOperator, 'POST', '/v1/venue-hours-proposals/99999/dismiss'))).toMatchObject({ status: 404, code: 'VENUES_PROPOSAL_NOT_FOUND' });
  });
});
