import { client, createTestServer, expectStatus, ifMatch, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venues } from '../src/index.js';
import { WEEKLY, venue } from './support.js';

const { cityAdmin, streetOperator, otherStreetOperator } = testActors;
let app: FastifyInstance;
let call: Call;

beforeAll(async () => {
  app = await createTestServer({ plugins: [venues()] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

describe('venue details', () => {
  it('adds the plugin’s venue kinds to the kernel’s open list', async () => {
    const kinds = (await call(cityAdmin, 'GET', '/v1/deployment')).body.venueKinds.map((k: { key: string }) => k.key);
    expect(kinds).toEqual(expect.arrayContaining(['main-library', 'branch-library', 'culture-centre', 'street-station', 'community-room', 'new-cultural-space']));
    expect((await venue(call, '440103001', 50, 'new-cultural-space')).kind).toBe('new-cultural-space');
  });

  it('keeps a main-and-branch network, shown on the kernel’s venue record as extension data', async () => {
    const main = await venue(call, '440103', 800, 'main-library');
    const branch = await venue(call, '440103001', 120, 'branch-library');
    expect((await call(cityAdmin, 'GET', `/v1/venues/${main.id}`)).body.extensions.venues).toBeNull();
    // A branch of a venue that is not (yet) a main venue is refused.
    expect(problem(await call(cityAdmin, 'PUT', `/v1/venues/${branch.id}/profile`, { networkRole: 'branch', mainVenueId: main.id }, { 'if-match': '"v0"' }))).toMatchObject({ status: 422, code: 'VENUES_NETWORK_INVALID' });
    expectStatus(await call(cityAdmin, 'PUT', `/v1/venues/${main.id}/profile`, { networkRole: 'main' }, { 'if-match': '"v0"' }), 200, 'main');
    const p = expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${branch.id}/profile`, { networkRole: 'branch', mainVenueId: main.id }, { 'if-match': '"v0"' }), 200, 'branch');
    expect(p).toMatchObject({ networkRole: 'branch', mainVenueId: main.id, version: 1 });
    // A stale version and a missing If-Match are refused.
    expect(problem(await call(cityAdmin, 'PUT', `/v1/venues/${branch.id}/profile`, { description: 'x' }, { 'if-match': '"v0"' })).status).toBe(412);
    expect(problem(await call(cityAdmin, 'PUT', `/v1/venues/${branch.id}/profile`, { description: 'x' })).status).toBe(428);
    // Out of the caller's subtree: not found.
    expect(problem(await call(otherStreetOperator, 'PUT', `/v1/venues/${branch.id}/profile`, { description: 'x' }, ifMatch(p)))).toMatchObject({ status: 404, code: 'VENUES_VENUE_NOT_FOUND' });
    expect((await call(cityAdmin, 'GET', `/v1/venues/${branch.id}`)).body.extensions.venues).toEqual({ networkRole: 'branch', mainVenueId: main.id, rooms: 0 });
  });

  it('keeps rooms with capacity, equipment and an equipment-use record', async () => {
    const v = await venue(call, '440103001', 300);
    const hall = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v.id}/rooms`, { name: '多功能厅', capacity: 200 }), 201, 'room');
    expect(problem(await call(streetOperator, 'POST', `/v1/venues/${v.id}/rooms`, { name: '太大', capacity: 301 }))).toMatchObject({ status: 422, code: 'VENUES_ROOM_INVALID' });
    const piano = expectStatus(await call(streetOperator, 'POST', `/v1/venues/${v.id}/equipment`, { name: '立式钢琴', kind: 'piano', roomId: hall.id }), 201, 'equipment');
    expectStatus(await call(streetOperator, 'POST', `/v1/venue-equipment/${piano.id}/uses`, { usedOn: '2026-03-01', hours: 2, purpose: '少儿钢琴课' }), 201, 'use');
    expectStatus(await call(streetOperator, 'POST', `/v1/venue-equipment/${piano.id}/uses`, { usedOn: '2026-03-02', hours: 3, purpose: '合唱排练' }), 201, 'use 2');
    const uses = expectStatus(await call(streetOperator, 'GET', `/v1/venue-equipment/${piano.id}/uses`), 200, 'uses');
    expect(uses.total).toEqual({ uses: 2, hours: 5 });
    expect(uses.items.map((u: { purpose: string }) => u.purpose)).toEqual(['合唱排练', '少儿钢琴课']);
    expect(problem(await call(otherStreetOperator, 'GET', `/v1/venue-equipment/${piano.id}/uses`)).status).toBe(404);
    const details = expectStatus(await call(null, 'GET', `/v1/venues/${v.id}/details`), 200, 'details');
    expect(details.rooms).toEqual([expect.objectContaining({ name: '多功能厅', capacity: 200 })]);
    expect(details.equipment).toEqual([expect.objectContaining({ name: '立式钢琴', roomId: hall.id })]);
  });
});

describe('opening hours', () => {
  let v: any;
  beforeAll(async () => {
    v = await venue(call);
    expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/hours`, { weekly: WEEKLY, reason: '开馆' }, { 'if-match': '"v0"' }), 200, 'hours');
    expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/hour-exceptions/2026-03-03`, { intervals: [], reason: '设备检修闭馆' }), 200, 'closure');
    expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/hour-exceptions/2026-03-08`, { intervals: [['08:00', '12:00'], ['14:00', '22:00']], reason: '妇女节特别开放' }), 200, 'special');
  });
  const opening = async (at: string, days = 1) => expectStatus(await call(null, 'GET', `/v1/venues/${v.id}/opening?at=${encodeURIComponent(at)}&days=${days}`), 200, `opening at ${at}`);

  it('is open within the weekly hours, and names the next change in Asia/Shanghai time', async () => {
    const monday = await opening('2026-03-02T10:00:00+08:00');
    expect(monday).toMatchObject({ open: true, nextChange: { at: '2026-03-02T09:00:00.000Z', to: 'closed' }, today: { rule: 'weekly', intervals: [['09:00', '17:00']] } });
    // After closing on Monday: Tuesday is closed (an exception), so it opens on Wednesday.
    expect(await opening('2026-03-02T18:00:00+08:00')).toMatchObject({ open: false, nextChange: { at: '2026-03-04T01:00:00.000Z', to: 'open' } });
    // 23:30 UTC on Monday is Tuesday 07:30 in Shanghai.
    expect((await opening('2026-03-02T23:30:00Z')).today).toMatchObject({ day: '2026-03-03', rule: 'exception', intervals: [], note: '设备检修闭馆' });
    const special = await opening('2026-03-08T13:00:00+08:00');
    expect(special).toMatchObject({ open: false, nextChange: { at: '2026-03-08T06:00:00.000Z', to: 'open' }, today: { rule: 'exception', intervals: [['08:00', '12:00'], ['14:00', '22:00']] } });
  });

  it('follows the holiday calendar: Sunday hours on a public holiday, weekday hours on a make-up working day (调休)', async () => {
    const week = await opening('2026-02-13T12:00:00+08:00', 5);
    expect(week.days.map((d: { day: string; rule: string; intervals: string[][] }) => [d.day, d.rule, d.intervals])).toEqual([
      ['2026-02-13', 'weekly', [['09:00', '17:00']]],
      // Saturday 14 February 2026 is worked (春节调休): Monday's hours, not Saturday's.
      ['2026-02-14', 'make-up-day', [['09:00', '17:00']]],
      ['2026-02-15', 'holiday', [['09:00', '21:00']]],
      // Monday 16 February is 春节: Sunday's hours.
      ['2026-02-16', 'holiday', [['09:00', '21:00']]],
      ['2026-02-17', 'holiday', [['09:00', '21:00']]],
    ]);
    expect(await opening('2026-02-14T18:00:00+08:00')).toMatchObject({ open: false, nextChange: { at: '2026-02-15T01:00:00.000Z', to: 'open' } });
    // A venue that closes on holidays and keeps its own weekday on make-up days.
    const profile = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v.id}/details`), 200, 'details').profile;
    expectStatus(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/profile`, { onHoliday: 'closed', onMakeUpDay: 'weekly' }, ifMatch(profile)), 200, 'rules');
    const after = await opening('2026-02-14T12:00:00+08:00', 2);
    expect(after.days.map((d: { intervals: string[][] }) => d.intervals)).toEqual([[['09:00', '21:00']], []]);
    expect(after.nextChange).toEqual({ at: '2026-02-14T13:00:00.000Z', to: 'closed' });
  });

  it('keeps the history of hour changes, newest first', async () => {
    const history = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v.id}/hour-changes`), 200, 'history').items;
    expect(history.map((h: { reason: string }) => h.reason)).toEqual(['妇女节特别开放', '设备检修闭馆', '开馆']);
    expect(history[2]).toMatchObject({ changedBy: 'street-op', before: { weekly: [] }, after: { weekly: expect.arrayContaining([{ weekday: 6, opens: '09:00', closes: '21:00' }]) } });
  });

  it('refuses bad hours', async () => {
    const profile = expectStatus(await call(streetOperator, 'GET', `/v1/venues/${v.id}/details`), 200, 'details').profile;
    const bad = [[{ weekday: 1, opens: '17:00', closes: '09:00' }], [{ weekday: 2, opens: '09:00', closes: '13:00' }, { weekday: 2, opens: '12:00', closes: '18:00' }]];
    for (const weekly of bad) expect(problem(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/hours`, { weekly, reason: 'x' }, ifMatch(profile)))).toMatchObject({ status: 422, code: 'VENUES_HOURS_INVALID' });
    expect(problem(await call(streetOperator, 'PUT', `/v1/venues/${v.id}/hour-exceptions/2026-03-09`, { intervals: [['24:00', '24:00']], reason: 'x' })).status).toBe(422);
  });
});

describe('the holiday calendar', () => {
  it('ships 2026 and 2027 with their sources, and a city admin may replace a year', async () => {
    const y2026 = expectStatus(await call(null, 'GET', '/v1/venue-holidays/2026'), 200, '2026');
    expect(y2026.source).toMatch(/^国务院办公厅关于2026年部分节假日安排的通知/);
    // The notice: 33 days off in seven holidays, six make-up working days.
    expect(y2026.days.filter((d: { kind: string }) => d.kind === 'holiday')).toHaveLength(33);
    expect(y2026.days.filter((d: { kind: string }) => d.kind === 'workday').map((d: { day: string }) => d.day)).toEqual([
      '2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10',
    ]);
    expect(y2026.days).toEqual(expect.arrayContaining([{ day: '2026-02-14', kind: 'workday', name: '春节调休' }, { day: '2026-10-01', kind: 'holiday', name: '国庆节' }]));
    expect(expectStatus(await call(null, 'GET', '/v1/venue-holidays/2027'), 200, '2027').source).toMatch(/^synthetic/);
    expect(problem(await call(null, 'GET', '/v1/venue-holidays/2031'))).toMatchObject({ status: 404, code: 'VENUES_CALENDAR_NOT_FOUND' });
    const days = [{ day: '2031-01-01', kind: 'holiday', name: '元旦' }, { day: '2031-01-05', kind: 'workday', name: '元旦调休', asWeekday: 3 }];
    expect(problem(await call(streetOperator, 'PUT', '/v1/venue-holidays/2031', { source: 'test', days })).status).toBe(403);
    // A make-up working day on a weekday is refused.
    expect(problem(await call(cityAdmin, 'PUT', '/v1/venue-holidays/2031', { source: 'test', days: [{ day: '2031-01-06', kind: 'workday', name: 'x' }] }))).toMatchObject({ status: 422, code: 'VENUES_CALENDAR_INVALID' });
    expectStatus(await call(cityAdmin, 'PUT', '/v1/venue-holidays/2031', { source: 'test', days }), 200, 'set 2031');
    expect(expectStatus(await call(null, 'GET', '/v1/venue-holidays/2031'), 200, '2031').days).toEqual(days);
  });
});
