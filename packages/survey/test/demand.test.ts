/** Demand records, the durable hook, the needs map with suppression, and paper imports, over HTTP. */
import { definePlugin, on } from '@diandan/kernel';
import { client, createTestServer, expectStatus, problem, seedRegions, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demandUpdated, suppress, survey, surveyPlugin } from '../src/index.js';
import { eventually, publishedSurvey, surveyOf } from './support.js';

const seen: { regions: readonly string[]; records: number }[] = [];
const matching = definePlugin({
  name: 'matching-spy',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { survey: surveyPlugin },
  hooks: () => [on(demandUpdated, (e) => void seen.push({ regions: e.regions, records: e.records }), { durable: true })],
});

let app: FastifyInstance;
let call: Call;
const { cityAdmin, districtAdmin } = testActors;

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey({ submissionsPerMinute: 1000, minCellSize: 3 }), matching.configure({})] });
  await seedRegions(app);
  call = client(app);
});
afterAll(() => app?.close());

describe('suppression', () => {
  it('hides small cells and one more when a single hidden cell could be recovered from the total', () => {
    expect(suppress({ a: 10, b: 2, c: 7 }, 3).shown).toEqual({ a: 10, b: null, c: null });
    expect(suppress({ a: 10, b: 2, c: 1 }, 3).shown).toEqual({ a: 10, b: null, c: null });
    expect(suppress({ a: 10, b: 0 }, 3).shown).toEqual({ a: 10, b: 0 });
  });
});

describe('demand records and the needs map', () => {
  it('rolls responses up by hand-checked weights, notifies durably, and suppresses small cells', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const url = `/v1/public/surveys/${s.slug}/responses`;
    // Liwan (440103): 4 respondents; Yuexiu (440104): 1.
    const liwan = [
      { wants: ['opera'], ageBand: '60-74' },
      { wants: ['opera', 'reading'], ageBand: '60-74' },
      { wants: ['opera'], ageBand: '60-74' },
      { wants: ['reading'], ageBand: '18-34' },
    ];
    for (const r of liwan) expectStatus(await call(null, 'POST', url, { answers: { attends: 'yes', wants: r.wants }, respondent: { regionCode: '440103001', ageBand: r.ageBand, group: 'elderly' } }), 201, 'liwan');
    expectStatus(await call(null, 'POST', url, { answers: { attends: 'yes', wants: ['craft'] }, respondent: { regionCode: '440104', group: 'youth' } }), 201, 'yuexiu');

    const records = expectStatus(await call(cityAdmin, 'GET', `/v1/demand-records?limit=200&category=performance`), 200, 'records');
    // opera: 1 + 0.5 + 1 = 2.5 in Liwan.
    expect(records.items.reduce((a: number, r: { weight: number }) => a + r.weight, 0)).toBeCloseTo(2.5);
    expect(records.items[0]).toMatchObject({ source: 'survey', regionCode: '440103001', group: 'elderly', category: 'performance', tags: ['cantonese-opera'] });
    await eventually(async () => seen.length >= 5, 'demand.updated deliveries');

    const map = expectStatus(await call(cityAdmin, 'GET', `/v1/needs-map?parent=440100&questionnaireId=${s.id}`), 200, 'map');
    expect(map.k).toBe(3);
    const byCode = Object.fromEntries(map.regions.map((r: { regionCode: string }) => [r.regionCode, r]));
    // Yuexiu has 1 respondent: hidden; with one region hidden, the next smallest is hidden too (complementary).
    expect(byCode['440104']).toMatchObject({ respondents: null, suppressed: true, categories: {} });
    expect(byCode['440103']).toMatchObject({ respondents: null, suppressed: true });
    // One level down, inside Liwan: street 1 has 4 respondents; age band 18-34 (1) is hidden and so is 60-74 (complementary).
    const street = expectStatus(await call(districtAdmin, 'GET', `/v1/needs-map?parent=440103&questionnaireId=${s.id}`), 200, 'liwan map');
    const s1 = street.regions.find((r: { regionCode: string }) => r.regionCode === '440103001');
    expect(s1).toMatchObject({ respondents: 4, suppressed: false, ageBands: { '60-74': null, '18-34': null }, groups: { elderly: 4 }, categories: { performance: null, 'reading-promotion': null } });
    // reading-promotion was chosen by 2 (< k = 3): hidden, and performance with it (complementary).
    // Out of scope: 404.
    expect(problem(await call(districtAdmin, 'GET', '/v1/needs-map?parent=440104')).status).toBe(404);
    const geo = await call(cityAdmin, 'GET', `/v1/needs-map/geojson?parent=440103&questionnaireId=${s.id}`);
    expect(geo.status).toBe(200);
    expect(geo.body.type).toBe('FeatureCollection');
    expect(geo.body.features[0]).toMatchObject({ type: 'Feature', properties: { regionCode: '440103001' } });
  });

  it('stores signals other packages contribute, once per event', async () => {
    const { demand } = surveyOf(app);
    const event = { source: 'venues', signals: [{ regionCode: '440104', group: 'children', category: 'training', period: '2027-11', weight: 12 }] };
    expect(await demand.contribute('evt-1', event)).toBe(1);
    expect(await demand.contribute('evt-1', event)).toBe(0);
    const records = expectStatus(await call(cityAdmin, 'GET', '/v1/demand-records?category=training'), 200, 'records');
    expect(records.items).toEqual([expect.objectContaining({ source: 'venues', regionCode: '440104', weight: 12, period: '2027-11' })]);
  });
});

describe('paper imports', () => {
  it('reports bad rows by line and stores nothing; a clean file is imported whole', async () => {
    const s = await publishedSurvey(call, cityAdmin);
    const { context } = surveyOf(app);
    const bad = ['region,age_band,attends,wants,visits', '440103001,60-74,yes,opera|reading,3', '440103001,60-74,maybe,opera,3', '440103002,200+,yes,craft,1', '440103001,18-34,yes,opera'].join('\n');
    const started = expectStatus(await call(cityAdmin, 'POST', `/v1/surveys/${s.id}/imports`, { csv: bad }), 202, 'import');
    await context.jobs.wait(started.jobId, { timeoutMs: 20_000 });
    const failed = expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/imports/${started.id}`), 200, 'status');
    expect(failed).toMatchObject({ status: 'failed', imported: 0, rows: 4 });
    expect(failed.errors.map((e: { line: number; question: string | null }) => [e.line, e.question])).toEqual([
      [3, 'attends'],
      [4, 'respondent.ageBand'],
      [5, null],
    ]);
    const good = ['region,age_band,attends,wants,visits', '440103001,60-74,yes,opera|reading,3', '"440103002",18-34,no,craft,1'].join('\r\n');
    const ok = expectStatus(await call(cityAdmin, 'POST', `/v1/surveys/${s.id}/imports`, { csv: good }), 202, 'import 2');
    await context.jobs.wait(ok.jobId, { timeoutMs: 20_000 });
    expect(expectStatus(await call(cityAdmin, 'GET', `/v1/surveys/${s.id}/imports/${ok.id}`), 200, 'status 2')).toMatchObject({ status: 'completed', imported: 2, errors: [] });
    const { responses } = surveyOf(app);
    expect(await responses.countCompleted([s.id])).toBe(2);
  });
});
