/**
 * Bad input never yields a 5xx. The shared `fuzzRoutes` suite takes every procurement
 * route from the OpenAPI document and calls it with unknown-but-valid ids, malformed
 * ids, NUL characters, malformed, empty, wrongly typed, foreign and oversize bodies,
 * bodies missing a required field and forged cursors — as a district admin and as a
 * supplier. Afterwards nothing has been written. Below it, the checks the shared suite
 * lacks: every table of the `procurement` schema is watched, forged cursor keys of the
 * wrong kind and bad query values are refused outright.
 */
import { kernelTables, queryRows } from '@diandan/kernel';
import { expectClientError, fuzzRoutes, UNKNOWN_UUID } from '@diandan/testing/fuzz';
import { getTableName, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as schema from '../src/schema.js';
import { boot, dbNow, ifMatch, ok, projectBody, type World } from './support.js';

/** Every table of the plugin's schema, by name: the suite checks none gains or loses a row. */
const TABLES = {
  projects: schema.projects,
  amendments: schema.amendments,
  enquiries: schema.enquiries,
  bids: schema.bids,
  declarations: schema.declarations,
  scores: schema.scores,
  awards: schema.awards,
  contracts: schema.contracts,
  callOffs: schema.callOffs,
  releases: schema.releases,
  project_files: schema.projectFiles,
  'kernel.orders': kernelTables.orders,
  'kernel.files': kernelTables.files,
};

const validBodies: Record<string, object> = {
  updateProcurementProject: { title: '改名' },
  cancelProcurementProject: { reason: '理由' },
  askProcurementEnquiry: { question: '问题' },
  answerProcurementEnquiry: { answer: '回答' },
  submitProcurementBid: { lotId: 'L1', price: 100, proposal: '方案' },
  declareProcurementInterests: { conflict: false, statement: '无' },
  scoreProcurementBid: { score: 50, comment: '' },
  disqualifyProcurementBid: { reason: '理由' },
  rejectProcurementAward: { reason: '理由' },
  signProcurementContract: { title: '合同', value: 100, periodStart: '2027-01-01T00:00:00Z', periodEnd: '2027-12-31T00:00:00Z', milestones: [{ id: 'M1', title: '交付', dueDate: '2027-06-30T00:00:00Z', value: 100 }] },
  callOffProcurementContract: { unitId: UNKNOWN_UUID, productId: UNKNOWN_UUID, venueId: UNKNOWN_UUID, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 10 },
};

const suite = fuzzRoutes<World>({
  async setup() {
    const w = await boot();
    // Real data: a published project with a bid, and a draft, so lookups and cursors run over real rows.
    const now = await dbNow(w.app);
    const at = { enquiryEnd: new Date(now.getTime() + 3_600_000), tenderEnd: new Date(now.getTime() + 7_200_000) };
    const p = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, {}, at)), 201, 'create');
    ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${p.id}/publish`, undefined, ifMatch(p)), 200, 'publish');
    ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '第二个' }, at)), 201, 'create 2');
    ok(await w.call(w.suppliers[0]!.user, 'POST', `/v1/procurement/projects/${p.id}/bids`, { lotId: 'L1', price: 100, proposal: 'x' }), 201, 'bid');
    // Valid, but for a buyer unit that does not exist: refused after validation.
    validBodies.createProcurementProject = { ...projectBody(w, {}, at), buyerUnitId: UNKNOWN_UUID };
    return w;
  },
  operations: (op) => op.path.startsWith('/v1/procurement/'),
  callers: { 'a district admin': (w) => w.admin, 'a supplier': (w) => w.suppliers[1]!.user },
  validBodies,
  query: { getProcurementIndicators: 'from=2027-01-01T00:00:00Z&to=2028-01-01T00:00:00Z' },
  tables: TABLES,
  minOperations: 30,
  minLists: 1,
});

describe('beyond the shared suite', () => {
  it('watches every table of the procurement schema (a new table cannot be left out)', async () => {
    const rows = await queryRows<{ name: string }>(suite.target.app.diandan.database.db, sql`select table_name as name from information_schema.tables where table_schema = 'procurement'`);
    const watched = Object.values(TABLES).map((t) => getTableName(t));
    for (const { name } of rows) expect(watched, `procurement.${name}`).toContain(name);
  });

  it('refuses a project-list cursor whose key is of the wrong kind, and bad query values, with a 400', async () => {
    const call = suite.call;
    for (const who of [suite.target.admin, suite.target.suppliers[1]!.user]) {
      const first = ok(await call(who, 'GET', '/v1/procurement/projects?limit=1'), 200, 'list');
      const [tag] = JSON.parse(Buffer.from(first.nextCursor ?? Buffer.from('["x"]').toString('base64url'), 'base64url').toString('utf8')) as unknown[];
      const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      for (const c of [forge(tag, 'not-a-date', UNKNOWN_UUID), forge(tag, '2027-01-01T00:00:00Z', 'not-a-uuid')]) {
        expectClientError(await call(who, 'GET', `/v1/procurement/projects?cursor=${encodeURIComponent(c)}`), `cursor ${c}`, [400]);
      }
      for (const q of ['status=nope', 'limit=1e9', 'buyerUnitId=x']) expectClientError(await call(who, 'GET', `/v1/procurement/projects?${q}`), q, [400]);
    }
    // The indicators' period bounds are dates: a word is refused (or the route is the admin's alone).
    expectClientError(await call(suite.target.admin, 'GET', '/v1/procurement/indicators?from=yesterday&to=2100-01-01T00:00:00Z'), 'indicators', [400]);
    expectClientError(await call(suite.target.suppliers[1]!.user, 'GET', '/v1/procurement/indicators?from=yesterday&to=2100-01-01T00:00:00Z'), 'indicators', [400, 403]);
  });
});
