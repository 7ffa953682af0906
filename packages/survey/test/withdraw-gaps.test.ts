/**
 * Withdrawing a unit's direct demand request, and gap-table suppression that holds
 * across the region dimension — over HTTP, on small fixtures computed by hand.
 */
import { sql } from 'drizzle-orm';
import { definePlugin, on, queryRows } from '@diandan/kernel';
import { client, createTestServer, expectStatus, problem, seedOrderingLoop, type Call, type LoopFixture } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demandUpdated, gapSuppression, survey, surveyPlugin, type DemandRequestService, type GapCell } from '../src/index.js';
import { publishedSurvey, surveyOf } from './support.js';

const seen: { source: string; records: number; withdrawn: number | undefined }[] = [];
const spy = definePlugin({
  name: 'withdraw-spy',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { survey: surveyPlugin },
  hooks: () => [on(demandUpdated, (e) => void seen.push({ source: e.source, records: e.records, withdrawn: e.withdrawn }), { durable: true })],
});

let app: FastifyInstance;
let call: Call;
let f: LoopFixture;

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey({ submissionsPerMinute: 1000, minCellSize: 3, unfilledOrders: false }), spy.configure({})] });
  f = await seedOrderingLoop(app, { year: 2027 });
  call = client(app);
  const s = surveyOf(app) as ReturnType<typeof surveyOf> & { requests: DemandRequestService };
  s.requests.now = () => new Date('2027-02-10T02:00:00Z');
  s.responses.now = () => new Date('2027-05-05T02:00:00Z');
});
afterAll(() => app?.close());

const services = () => surveyOf(app) as ReturnType<typeof surveyOf> & { requests: DemandRequestService };
const request = (over: Record<string, unknown> = {}) => ({
  unitId: f.units.community.id,
  title: '三月为长者安排一场粤剧专场（测试）',
  group: 'elderly',
  category: 'performance',
  period: '2027-03',
  expectedAudience: 120,
  ...over,
});
const recordsOf = async (requestId: string) => (await services().demand.recordsIn({ regionCode: '440100' })).filter((r) => r.requestId === requestId);
const auditOf = async (id: string) =>
  (await queryRows<{ action: string }>(app.diandan.database.db, sql`select action from kernel.audit_log where entity_id = ${id} order by id`)).map((a) => a.action);

describe('withdrawing a direct demand request', () => {
  it('removes its demand record, audits and announces it once, and answers a repeat as it is', async () => {
    const created = expectStatus(await call(f.units.community.user, 'POST', '/v1/demand-requests', request()), 201, 'request');
    expect(created).toMatchObject({ status: 'active', withdrawnAt: null });
    expect(await recordsOf(created.id)).toHaveLength(1);
    const before = expectStatus(await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440103&from=2027-03&to=2027-03'), 200, 'gaps before');
    expect(before.cells.find((c: GapCell) => c.regionCode === '440103001' && c.category === 'performance' && c.group === 'elderly')).toMatchObject({ demandWeight: 12 });
    await app.diandan.hooks.settled();
    const announced = seen.length;

    const url = `/v1/demand-requests/${created.id}/withdraw`;
    // Another unit's operator, staff of another district: it does not exist for them; a supplier may not; nobody anonymous.
    expect(problem(await call(f.units.street.user, 'POST', url))).toEqual({ status: 404, code: 'SURVEY_DEMAND_REQUEST_NOT_FOUND', problem: true });
    expect(problem(await call(f.staff.otherDistrictAdmin, 'POST', url)).code).toBe('SURVEY_DEMAND_REQUEST_NOT_FOUND');
    expect(problem(await call(f.suppliers.troupe.user, 'POST', url)).status).toBe(403);
    expect(problem(await call(null, 'POST', url)).status).toBe(401);
    expect(problem(await call(f.units.community.user, 'POST', '/v1/demand-requests/00000000-0000-4000-8000-000000000000/withdraw')).code).toBe('SURVEY_DEMAND_REQUEST_NOT_FOUND');
    expect(await recordsOf(created.id)).toHaveLength(1);

    const withdrawn = expectStatus(await call(f.units.community.user, 'POST', url, undefined, { 'idempotency-key': 'withdraw-1' }), 200, 'withdraw');
    expect(withdrawn).toMatchObject({ id: created.id, status: 'withdrawn', weight: 12 });
    expect(withdrawn.withdrawnAt).toEqual(expect.any(String));
    // Its demand is gone: no record, no gap-table demand (the delivered supply stays).
    expect(await recordsOf(created.id)).toEqual([]);
    const after = expectStatus(await call(f.staff.districtAdmin, 'GET', '/v1/demand-gaps?parent=440103&from=2027-03&to=2027-03'), 200, 'gaps after');
    expect(after.cells.find((c: GapCell) => c.regionCode === '440103001' && c.category === 'performance' && c.group === 'elderly')).toMatchObject({ demandWeight: 0, deliveries: 2 });
    await app.diandan.hooks.settled();
    expect(seen.slice(announced)).toEqual([{ source: 'unit-request', records: 0, withdrawn: 1 }]);
    expect(await auditOf(created.id)).toEqual(['survey.demand-request.create', 'survey.demand-request.withdraw']);

    // Again (a replay with the same key, or a new call): the same answer, no second audit record or event.
    expect(expectStatus(await call(f.units.community.user, 'POST', url, undefined, { 'idempotency-key': 'withdraw-1' }), 200, 'replay')).toEqual(withdrawn);
    expect(expectStatus(await call(f.units.community.user, 'POST', url), 200, 'again')).toEqual(withdrawn);
    await app.diandan.hooks.settled();
    expect(seen.slice(announced)).toHaveLength(1);
    expect(await auditOf(created.id)).toHaveLength(2);
    expect(expectStatus(await call(f.units.community.user, 'GET', `/v1/demand-requests/${created.id}`), 200, 'read').status).toBe('withdrawn');
  });

  it('lets staff of the unit’s subtree withdraw it', async () => {
    const created = expectStatus(await call(f.units.street.user, 'POST', '/v1/demand-requests', request({ unitId: f.units.street.id })), 201, 'request');
    expect(expectStatus(await call(f.staff.districtAdmin, 'POST', `/v1/demand-requests/${created.id}/withdraw`), 200, 'staff withdraw').status).toBe('withdrawn');
    expect(await recordsOf(created.id)).toEqual([]);
  });
});

describe('gap suppression across regions', () => {
  it('hides a second region’s cell of the same category × group × month, so the parent’s total gives nothing away', async () => {
    const s = await publishedSurvey(call, f.staff.cityAdmin);
    const respond = async (regionCode: string, n: number) => {
      for (let i = 0; i < n; i++) {
        expectStatus(await call(null, 'POST', `/v1/public/surveys/${s.slug}/responses`, { answers: { attends: 'yes', wants: ['reading'] }, respondent: { regionCode, group: 'children' } }), 201, 'response');
      }
    };
    // Reading for children in May 2027: 4 respondents in street 440103001, 2 in street 440103002 (k = 3).
    await respond('440103001001', 4);
    await respond('440103002', 2);
    const gaps = async (parent: string) => expectStatus(await call(f.staff.cityAdmin, 'GET', `/v1/demand-gaps?parent=${parent}&from=2027-05&to=2027-05&group=children`), 200, `gaps of ${parent}`).cells as GapCell[];
    const cell = (cells: GapCell[], region: string) => cells.find((c) => c.regionCode === region && c.category === 'reading-promotion' && c.group === 'children');
    // One level up, the district's cell is shown: 6 respondents, weight 6.
    expect(cell(await gaps('440100'), '440103')).toMatchObject({ demandWeight: 6, respondents: 6, suppressed: false });
    // The streets: 440103002 (2 < 3) is hidden, and 440103001 (4) too — else 6 − 4 = 2 would give it away.
    const streets = await gaps('440103');
    expect(cell(streets, '440103002')).toMatchObject({ demandWeight: null, respondents: null, suppressed: true });
    expect(cell(streets, '440103001')).toMatchObject({ demandWeight: null, respondents: null, suppressed: true });
  });

  it('never leaves exactly one hidden cell in a row or a column that has other demand', () => {
    const c = (regionCode: string, category: string, respondents: number, demandWeight = respondents): GapCell => ({
      regionCode, category, group: 'elderly', period: '2027-05', demandWeight, respondents, deliveries: 0, audience: 0, demandShare: 0, deliveryShare: 0, gap: 0, suppressed: false,
    });
    // A grid of two regions × three categories; only a1 is small. Column complement b1, whose row then needs b2.
    const cells = [c('a', '1', 2), c('a', '2', 9), c('b', '1', 5), c('b', '2', 7), c('a', '3', 20), c('b', '3', 30)];
    const hidden = gapSuppression(cells, () => true, 3);
    expect([...hidden].map((x) => `${x.regionCode}${x.category}`).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    for (const of of [(x: GapCell) => x.regionCode, (x: GapCell) => x.category]) {
      for (const key of new Set(cells.map(of))) expect(cells.filter((x) => of(x) === key && hidden.has(x)).length).not.toBe(1);
    }
  });
});
