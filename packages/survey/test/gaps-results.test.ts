/**
 * Units' direct demand requests, the demand-supply gaps against the kernel's deliveries,
 * the needs map as CSV and in public, results statistics (exact and suppressed), the
 * open-data export and the retention of uploaded CSV text — over HTTP, on a small
 * fixture whose values are computed by hand in the comments.
 */
import { sql } from 'drizzle-orm';
import { definePlugin, on, queryRows } from '@diandan/kernel';
import { client, createTestServer, expectStatus, problem, seedOrderingLoop, type Call, type LoopFixture } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearImportedCsv, demandUpdated, survey, surveyPlugin, type DemandRequestService, type GapCell, type ResultService } from '../src/index.js';
import { demandSurvey, publishedSurvey, surveyOf } from './support.js';

const seen: { source: string; regions: readonly string[]; records: number }[] = [];
const spy = definePlugin({
  name: 'demand-spy',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { survey: surveyPlugin },
  hooks: () => [on(demandUpdated, (e) => void seen.push({ source: e.source, regions: e.regions, records: e.records }))],
});

let app: FastifyInstance;
let call: Call;
let f: LoopFixture;
const MARCH = new Date('2027-03-05T02:00:00Z');

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey({ submissionsPerMinute: 1000, minCellSize: 3, unfilledOrders: false }), spy.configure({})] });
  // Two delivered orders (delivered, closed) of the opera product (performance; elderly and
  // general public) for the community unit in 440103001001, delivered 2027-03-15, 90 people each.
  f = await seedOrderingLoop(app, { year: 2027 });
  call = client(app);
  const s = surveyOf(app) as ReturnType<typeof surveyOf> & { requests: DemandRequestService; results: ResultService };
  s.requests.now = () => new Date('2027-02-10T02:00:00Z');
  s.responses.now = () => MARCH;
});
afterAll(() => app?.close());

const services = () => surveyOf(app) as ReturnType<typeof surveyOf> & { requests: DemandRequestService };
const request = (over: Record<string, unknown> = {}) => ({
  unitId: f.units.community.id,
  title: '十一月为长者安排一场粤剧专场（测试）',
  group: 'elderly',
  category: 'performance',
  tags: ['cantonese-opera'],
  period: '2027-03',
  expectedAudience: 120,
  ...over,
});

describe('direct demand requests', () => {
  it('turns a unit operator request into a weighted demand record, audited and announced', async () => {
    const before = seen.length;
    const headers = { 'idempotency-key': 'request-opera-1' };
    const created = expectStatus(await call(f.units.community.user, 'POST', '/v1/demand-requests', request(), headers), 201, 'request');
    // Weight: 120 expected / 10 per weight unit = 12.
    expect(created).toMatchObject({ unitId: f.units.community.id, regionCode: '440103001001', group: 'elderly', category: 'performance', period: '2027-03', expectedAudience: 120, weight: 12 });
    // The same key again: the same request, no second record.
    expect(expectStatus(await call(f.units.community.user, 'POST', '/v1/demand-requests', request(), headers), 201, 'replay').id).toBe(created.id);
    const records = await services().demand.recordsIn({ regionCode: '440103', from: '2027-01', to: '2027-12' });
    expect(records).toEqual([expect.objectContaining({ source: 'unit-request', regionCode: '440103001001', group: 'elderly', category: 'performance', period: '2027-03', weight: 12, unitId: f.units.community.id, requestId: created.id })]);
    expect(await services().demand.recordsIn({ regionCode: '440104', from: '2027-01', to: '2027-12' })).toEqual([]);
    expect(await services().demand.recordsIn({ regionCode: '440103', periods: ['2027-04'] })).toEqual([]);
    await app.diandan.hooks.settled();
    expect(seen.slice(before)).toEqual([{ source: 'unit-request', regions: ['440103001001'], records: 1 }]);
    const audit = await queryRows<{ action: string; actor: string }>(app.diandan.database.db, sql`select action, actor_id as actor from kernel.audit_log where entity_id = ${created.id}`);
    expect(audit.map((a) => a.action)).toEqual(['survey.demand-request.create']);
    // Staff of the subtree read it; the operator lists their unit's.
    expect(expectStatus(await call(f.staff.districtAdmin, 'GET', `/v1/demand-requests/${created.id}`), 200, 'get').title).toBe(created.title);
    expect(expectStatus(await call(f.units.community.user, 'GET', '/v1/demand-requests'), 200, 'list').items).toHaveLength(1);
    expect(expectStatus(await call(f.units.street.user, 'GET', '/v1/demand-requests'), 200, 'other unit').items).toHaveLength(0);
  });

  it('refuses requests outside the actor’s unit or region and bad values, storing nothing', async () => {
    const count = async () => (await services().demand.recordsIn({ regionCode: '440100' })).length;
    const before = await count();
    expect(problem(await call(f.units.street.user, 'POST', '/v1/demand-requests', request())).code).toBe('UNIT_NOT_FOUND');
    expect(problem(await call(f.staff.otherDistrictAdmin, 'POST', '/v1/demand-requests', request())).code).toBe('UNIT_NOT_FOUND');
    expect(problem(await call(f.suppliers.troupe.user, 'POST', '/v1/demand-requests', request())).status).toBe(403);
    expect(problem(await call(null, 'POST', '/v1/demand-requests', request())).status).toBe(401);
    const past = await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ period: '2027-01' }));
    expect(past.body).toMatchObject({ status: 422, code: 'SURVEY_INVALID_DEMAND_REQUEST' });
    expect(past.body.detail).toContain('period');
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ period: '2030-01' }))).code).toBe('SURVEY_INVALID_DEMAND_REQUEST');
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ group: 'no-such-group' }))).code).toBe('SURVEY_INVALID_DEMAND_REQUEST');
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ category: 'no-such-category' }))).code).toBe('SURVEY_INVALID_DEMAND_REQUEST');
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ title: '   ' }))).code).toBe('SURVEY_INVALID_DEMAND_REQUEST');
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ expectedAudience: 0 }))).status).toBe(400);
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests', request({ period: '2027-13' }))).status).toBe(400);
    expect(await count()).toBe(before);
  });
});

describe('demand against supply', () => {
  it('compares demand weight with delivered orders per region × category × group × month, as computed by hand', async () => {
    // Demand: the request (440103001001, performance, elderly, 12) and a contributed signal.
    await services().demand.contribute('gap-signal-1', { source: 'venues', signals: [{ regionCode: '440103002', group: 'children', category: 'reading-promotion', period: '2027-03', weight: 6 }] });
    // Two respondents in 440103002 who want opera (youth): 2 < k = 3, so their cell is suppressed.
    const s = await publishedSurvey(call, f.staff.cityAdmin);
    for (let i = 0; i < 2; i++) {
      expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes', wants: ['opera'] }, respondent: { regionCode: '440103002', group: 'youth' } }), 201, 'response');
    }
    const table = expectStatus(await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440103&from=2027-03&to=2027-03'), 200, 'gaps');
    const cell = (region: string, category: string, group: string) => table.cells.find((c: GapCell) => c.regionCode === region && c.category === category && c.group === group);
    // Shown demand 12 + 6 = 18; deliveries 2 (elderly) + 2 (general public) = 4 (a product for two groups counts in each).
    expect(cell('440103001', 'performance', 'elderly')).toMatchObject({ demandWeight: 12, respondents: 0, deliveries: 2, audience: 180, demandShare: 0.6667, deliveryShare: 0.5, gap: 0.1667, suppressed: false });
    expect(cell('440103001', 'performance', 'general-public')).toMatchObject({ demandWeight: 0, deliveries: 2, audience: 180, demandShare: 0, deliveryShare: 0.5, gap: -0.5 });
    expect(cell('440103002', 'reading-promotion', 'children')).toMatchObject({ demandWeight: 6, deliveries: 0, demandShare: 0.3333, deliveryShare: 0, gap: 0.3333 });
    // The respondents' cell is hidden, and the shares are over the shown cells, so it cannot be recovered from them.
    expect(cell('440103002', 'performance', 'youth')).toMatchObject({ demandWeight: null, respondents: null, demandShare: null, gap: null, suppressed: true });
    expect(table.cells).toHaveLength(4);

    const csv = await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440103&from=2027-03&to=2027-03&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('region_code,category,group,period,demand_weight,respondents,deliveries,audience,demand_share,delivery_share,gap,suppressed');
    expect(lines).toContain('440103001,performance,elderly,2027-03,12,0,2,180,0.6667,0.5,0.1667,false');
    expect(lines).toContain('440103002,performance,youth,2027-03,,,0,0,,0,,true');

    expect(problem(await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440103&from=2027-04&to=2027-03')).code).toBe('SURVEY_INVALID_MAP_QUERY');
    expect(problem(await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440104&from=2027-03&to=2027-03')).status).toBe(404);
    expect(problem(await call(f.units.community.user, 'GET', '/v1/demand-gaps?from=2027-03&to=2027-03')).status).toBe(403);
  });
});

describe('the needs map as CSV and in public', () => {
  it('serves the suppressed map without a token, and as CSV, with nothing recoverable from the total', async () => {
    const s = await publishedSurvey(call, f.staff.cityAdmin);
    // 4 respondents in street 440103001 (plus the 2 of 440103002 from before).
    for (let i = 0; i < 4; i++) {
      expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes', wants: ['reading'] }, respondent: { regionCode: '440103001001', group: 'elderly', ageBand: '60-74' } }), 201, 'response');
    }
    const map = expectStatus(await call(null, 'GET', '/v1/public/needs-map?parent=440103'), 200, 'public map');
    const by = Object.fromEntries(map.regions.map((r: { regionCode: string }) => [r.regionCode, r]));
    // 2 in 440103002: hidden; the only other street (4) is hidden too, or 6 − 4 would give it away.
    expect(map.respondents).toBe(6);
    expect(by['440103002']).toMatchObject({ respondents: null, suppressed: true });
    expect(by['440103001']).toMatchObject({ respondents: null, suppressed: true });
    const street = expectStatus(await call(null, 'GET', '/v1/public/needs-map?parent=440103001'), 200, 'street map');
    expect(street.regions.find((r: { regionCode: string }) => r.regionCode === '440103001001')).toMatchObject({ respondents: 4, groups: { elderly: 4 }, ageBands: { '60-74': 4 }, categories: { 'reading-promotion': 4 } });
    const csv = await call(null, 'GET', '/v1/public/needs-map/csv?parent=440103001');
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    // The unit's request (performance, 12) is in the community too: it has no respondents, so it shows.
    expect(lines[0]).toBe('region_code,name,level,population,respondents,per_10k,suppressed,age:60-74,group:elderly,language:unknown,category:performance,category:reading-promotion');
    expect(lines[1]).toBe('440103001001,测试社区甲,community,,4,,false,4,4,4,12,4');
    const geo = expectStatus(await call(null, 'GET', '/v1/public/needs-map/geojson?parent=440103001'), 200, 'geojson');
    expect(geo.type).toBe('FeatureCollection');
    const staffCsv = await call(f.staff.districtAdmin, 'GET', `/v1/needs-map/csv?parent=440103&questionnaireId=${s.id}`);
    expect(staffCsv.body.split('\r\n')[1]).toMatch(/^440103001,/);
    expect(problem(await call(null, 'GET', '/v1/public/needs-map?parent=999999')).status).toBe(404);
    expect(problem(await call(null, 'GET', '/v1/public/needs-map?period=2027-3')).status).toBe(400);
  });
});

describe('results', () => {
  const answers = [
    { answers: { attends: 'yes', wants: ['opera', 'reading'], visits: 10, interest: 5, rank: ['exhibition', 'screening'], satisfaction: { venues: 'high', events: 'low' } }, respondent: { group: 'elderly' } },
    { answers: { attends: 'yes', wants: ['opera'], visits: 20, interest: 3, rank: ['screening', 'exhibition'], satisfaction: { venues: 'high', events: 'high' } }, respondent: { group: 'elderly' } },
    { answers: { attends: 'yes', wants: ['reading'], visits: 0, interest: 4, rank: ['exhibition', 'screening'], satisfaction: { venues: 'high' } } },
    { answers: { attends: 'no', why_not: '太远了，私人备注测试', wants: ['opera'], interest: 1 } },
    { answers: { attends: 'yes', wants: ['craft'], interest: 2 } },
  ];

  it('computes counts, shares, means, medians, rank aggregates and matrices by hand; the public sees only chosen questions, suppressed', async () => {
    const refused = problem(await call(f.staff.cityAdmin, 'POST', '/v1/surveys', { regionCode: '440100', definition: demandSurvey(), publicResults: ['why_not'] }));
    expect(refused).toMatchObject({ status: 422, code: 'SURVEY_INVALID_PUBLIC_RESULTS' });
    const s = await publishedSurvey(call, f.staff.cityAdmin, { publicResults: ['attends', 'wants', 'interest', 'rank', 'satisfaction', 'visits'] });
    for (const a of answers) expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, a), 201, 'response');

    const staff = expectStatus(await call(f.staff.cityAdmin, 'GET', `/v1/surveys/${s.id}/results?by=group`), 200, 'results');
    const q = (r: { questions: { name: string }[] }, name: string): any => r.questions.find((x) => x.name === name);
    expect(staff.respondents).toBe(5);
    expect(q(staff, 'attends')).toMatchObject({ answered: 5, options: [{ value: 'yes', count: 4, share: 0.8 }, { value: 'no', count: 1, share: 0.2 }] });
    expect(q(staff, 'attends').crossTab.cells).toEqual([
      { key: 'elderly', answered: 2, options: [{ value: 'yes', count: 2, share: 1 }, { value: 'no', count: 0, share: 0 }] },
      { key: 'unknown', answered: 3, options: [{ value: 'yes', count: 2, share: 0.6667 }, { value: 'no', count: 1, share: 0.3333 }] },
    ]);
    expect(q(staff, 'wants').options).toEqual([{ value: 'opera', count: 3, share: 0.6 }, { value: 'reading', count: 2, share: 0.4 }, { value: 'craft', count: 1, share: 0.2 }]);
    expect(q(staff, 'interest')).toMatchObject({ answered: 5, mean: 3, median: 3, min: 1, max: 5 });
    expect(q(staff, 'interest').options.map((o: { count: number }) => o.count)).toEqual([1, 1, 1, 1, 1]);
    expect(q(staff, 'visits')).toMatchObject({ answered: 3, mean: 10, median: 10, min: 0, max: 20 });
    // Ranking of 2: exhibition at 1, 2, 1 → mean 1.3333, first twice, Borda 2 + 1 + 2 = 5.
    expect(q(staff, 'rank').ranks).toEqual([
      { value: 'exhibition', meanPosition: 1.3333, first: 2, points: 5 },
      { value: 'screening', meanPosition: 1.6667, first: 1, points: 4 },
    ]);
    expect(q(staff, 'satisfaction').matrix).toEqual([
      { row: 'venues', columns: [{ value: 'low', count: 0, share: 0 }, { value: 'high', count: 3, share: 1 }] },
      { row: 'events', columns: [{ value: 'low', count: 1, share: 0.5 }, { value: 'high', count: 1, share: 0.5 }] },
    ]);
    expect(q(staff, 'why_not')).toEqual({ name: 'why_not', type: 'comment', title: expect.any(Object), answered: 1 });

    const pub = expectStatus(await call(null, 'GET', `/v1/public/surveys/${s.slug}/results`), 200, 'public results');
    expect(pub.k).toBe(3);
    expect(pub.questions.map((x: { name: string }) => x.name)).toEqual(['attends', 'wants', 'visits', 'interest', 'rank', 'satisfaction']);
    // no (1) is hidden, and yes (4) with it, or 5 − 4 would give it away.
    expect(q(pub, 'attends').options).toEqual([{ value: 'yes', count: null, share: null }, { value: 'no', count: null, share: null }]);
    expect(q(pub, 'wants').options).toEqual([{ value: 'opera', count: 3, share: 0.6 }, { value: 'reading', count: null, share: null }, { value: 'craft', count: null, share: null }]);
    expect(q(pub, 'interest')).toMatchObject({ answered: 5, mean: 3 });
    expect(q(pub, 'interest').options.every((o: { count: null }) => o.count === null)).toBe(true);
    expect(q(pub, 'rank').ranks.map((r: { first: null }) => r.first)).toEqual([null, null]);
    expect(q(pub, 'satisfaction').matrix[1].columns.every((c: { count: null }) => c.count === null)).toBe(true);
    expect(q(pub, 'satisfaction').matrix[0].columns[1]).toEqual({ value: 'high', count: 3, share: 1 });
    expect(JSON.stringify(pub)).not.toContain('私人备注');

    // The open-data export: no id, no day, no free text.
    const json = expectStatus(await call(f.staff.cityAdmin, 'GET', `/v1/surveys/${s.id}/export?format=json`), 200, 'export');
    expect(json.columns).toEqual(['definition_version', 'source', 'month', 'respondent_region', 'respondent_group', 'respondent_age_band', 'respondent_language', 'attends', 'wants', 'visits', 'interest', 'rank', 'district', 'group', 'satisfaction.venues', 'satisfaction.events']);
    expect(json.rows).toHaveLength(5);
    expect(json.rows.every((r: { month: string }) => r.month === '2027-03')).toBe(true);
    const csv = await call(f.staff.cityAdmin, 'GET', `/v1/surveys/${s.id}/export`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe(json.columns.join(','));
    expect(csv.body).toContain('opera|reading');
    expect(csv.body + JSON.stringify(json)).not.toMatch(/私人备注|[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(problem(await call(f.staff.otherDistrictAdmin, 'GET', `/v1/surveys/${s.id}/results`)).status).toBe(404);
    expect(problem(await call(f.units.community.user, 'GET', `/v1/surveys/${s.id}/export`)).status).toBe(403);
  });

  it('has no public results until staff choose questions', async () => {
    const s = await publishedSurvey(call, f.staff.cityAdmin);
    expect(problem(await call(null, 'GET', `/v1/public/surveys/${s.slug}/results`)).code).toBe('SURVEY_NO_PUBLIC_RESULTS');
  });
});

describe('retention of uploaded CSV text', () => {
  it('clears the CSV of finished imports older than the retention, keeping the result', async () => {
    const s = await publishedSurvey(call, f.staff.cityAdmin);
    const started = expectStatus(await call(f.staff.cityAdmin, 'POST', `/v1/surveys/${s.id}/imports`, { csv: 'region,attends,wants\n440103001,yes,opera|reading\n' }), 202, 'import');
    await surveyOf(app).context.jobs.wait(started.jobId, { timeoutMs: 20_000 });
    const db = app.diandan.database.db;
    const csvOf = async () => (await queryRows<{ csv: string; cleared: string | null }>(db, sql`select csv, csv_cleared_at as cleared from survey.imports where id = ${started.id}`))[0]!;
    expect(await clearImportedCsv(db, 30)).toBe(0);
    expect((await csvOf()).csv).toContain('opera|reading');
    const later = new Date(Date.now() + 31 * 86_400_000);
    expect(await clearImportedCsv(db, 30, later)).toBeGreaterThanOrEqual(1);
    expect(await csvOf()).toMatchObject({ csv: '', cleared: expect.anything() });
    expect(await clearImportedCsv(db, 30, later)).toBe(0);
    expect(expectStatus(await call(f.staff.cityAdmin, 'GET', `/v1/surveys/${s.id}/imports/${started.id}`), 200, 'status')).toMatchObject({ status: 'completed', imported: 1 });
  });
});
