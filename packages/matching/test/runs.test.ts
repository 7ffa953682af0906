/**
 * A plan as a job: start a run over HTTP, poll its progress, read the report (gap to the
 * LP bound, floors with dual prices, price of fairness), explanations and "why not",
 * export and re-verify it independently, approve it and turn it into draft kernel
 * orders that carry the plan id; the score and constraint filters of a region plugin.
 */
import { actors } from '@diandan/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTS, relevanceOf, valueOf, verify, type Instance, type Plan } from '../src/index.js';
import { boot, ok, settle, THEME_TAG, type World } from './support.js';

let w: World;
const admin = actors.districtAdmin('440103');
const otherAdmin = actors.districtAdmin('440104');
let run: any;
let seen: any[];

beforeAll(async () => {
  w = await boot({ floors: [{ id: 'street-440103001', kind: 'region-sessions', regionCode: '440103001', min: 1 }] }, { theme: true, survey: true });
  // The survey's demand records (as its responses, imports or other packages' signals give them).
  const survey = w.app.diandan.plugins.find((p) => p.definition.name === 'survey')!.services as { demand: { contribute(id: string, e: object): Promise<number> } };
  await survey.demand.contribute('test-signal-1', {
    source: 'waiting-list',
    signals: [
      { regionCode: '440103002', group: 'general-public', category: 'performance', tags: ['舞蹈'], period: '2027-03', weight: 3 },
      { regionCode: '440103001001', group: 'elderly', category: 'performance', tags: ['粤剧'], period: '2027-03', weight: 2 },
    ],
  });
  const started = await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027 }, { 'idempotency-key': 'run-1' });
  run = ok(started, 202, 'start run');
  ({ run, seen } = await settle(w, admin, run.id));
}, 120_000);
afterAll(() => w?.app.close());

describe('a run as a job', () => {
  it('starts solving, answers a retry with the same run, and reports progress until solved', async () => {
    expect(seen[0]!.status === 'solving' || seen.length === 1).toBe(true);
    for (const s of seen) expect(s.progress).toBeGreaterThanOrEqual(0);
    expect(run.status).toBe('solved');
    expect(run.progress).toBe(100);
    const again = await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027 }, { 'idempotency-key': 'run-1' });
    expect([again.status, again.body.id, again.headers['idempotent-replayed']]).toEqual([202, run.id, 'true']);
    // The kernel's job shows the same run: the solve ran in the `matching.solve` queue.
    const job = ok(await w.call(admin, 'GET', `/v1/jobs/${run.jobId}`), 200, 'job');
    expect([job.queue, job.state, job.progress]).toEqual(['matching.solve', 'completed', 100]);
  });

  it('reports the certificate, the floors with their dual prices and the price of fairness', () => {
    const s = run.summary;
    expect(s.verification).toEqual({ ok: true, violations: [] });
    expect(s.bound).toBeGreaterThan(0);
    expect(s.gap).toBeGreaterThanOrEqual(0);
    expect(s.welfare).toBeLessThanOrEqual(s.bound + 1e-6);
    const ids = s.floors.map((f: any) => f.id).sort();
    // The deployment's street floor and the region plugin's group share (matching.constraints).
    expect(ids).toEqual(['street-440103001', 'theme-elderly-share']);
    for (const f of s.floors) {
      expect(typeof f.dual).toBe('number');
      expect(f.met).toBe(true);
    }
    expect(s.priceOfFairness).toMatchObject({ unconstrained: expect.any(Number), fair: expect.any(Number), ratio: expect.any(Number) });
    expect(s.priceOfFairness.ratio).toBeGreaterThanOrEqual(0);
    expect(s.feasibility).toEqual({ feasible: true, relaxations: [] });
  });

  it('records a finished solve (report and plan) without anyone reading the run', async () => {
    const started = ok(await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027 }), 202, 'start');
    // Watch the kernel's job, not the run: reading the run would record it.
    for (let i = 0; i < 600; i++) {
      const job = ok(await w.call(admin, 'GET', `/v1/jobs/${started.jobId}`), 200, 'job');
      if (job.state === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const listed = async () => ok(await w.call(admin, 'GET', '/v1/matching/runs?limit=100'), 200, 'runs').items.find((r: any) => r.id === started.id);
    // What the every-minute `record-finished-runs` job runs (whose tick may have come first).
    await w.services.matching.recordFinishedRuns();
    expect((await listed()).status).toBe('solved');
    expect(ok(await w.call(admin, 'GET', `/v1/matching/runs/${started.id}`), 200, 'run').planId).toEqual(expect.any(String));
  });

  it('says which floors cannot be met, and by how much', async () => {
    const started = ok(await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027, floors: [{ id: 'too-many', kind: 'region-sessions', regionCode: '440103002', min: 50 }] }), 202, 'start');
    const { run: done } = await settle(w, admin, started.id);
    expect(done.status).toBe('solved');
    expect(done.summary.feasibility.feasible).toBe(false);
    const [relaxed] = done.summary.feasibility.relaxations;
    expect(relaxed.floorId).toBe('too-many');
    expect(relaxed.shortfall).toBeGreaterThan(0);
    expect(done.summary.verification.ok).toBe(true);
  });

  it('keeps a level band: a cap per 10,000 residents on every district caps the plan, the export carries it', async () => {
    const sessions = (r: any) => r.summary.evaluation.sessions as number;
    expect(sessions(run)).toBeGreaterThan(1);
    // 荔湾区 has 1,238,300 residents: 0.01 per 10,000 allows one session.
    const started = ok(await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027, withoutPolicyFloors: true, bands: [{ level: 'district', capPerTenThousand: 0.01 }] }), 202, 'start');
    const { run: done } = await settle(w, admin, started.id);
    expect(done.status).toBe('solved');
    expect(sessions(done)).toBe(1);
    expect(done.summary.verification.ok).toBe(true);
    expect(done.summary.priceOfFairness.ratio).toBeGreaterThan(0);
    const exported = ok(await w.call(admin, 'GET', `/v1/matching/runs/${done.id}/export`), 200, 'export');
    expect(exported.instance.caps).toEqual([{ id: 'band-district-cap-440103', regionCode: '440103', perTenThousand: 0.01 }]);
    const plan = exported.plan as Plan;
    const more: Plan = { ...plan, allocations: plan.allocations.map((a) => ({ ...a, sessions: a.sessions + 1 })) };
    expect(verify(exported.instance as Instance, more).violations.map((v) => v.constraint)).toContain('cap');
  });

  it('explains every allocation: the demand, the score parts, the floors, what limited it', async () => {
    const page = ok(await w.call(admin, 'GET', `/v1/matching/runs/${run.id}/explanations?limit=100`), 200, 'explanations');
    expect(page.items.length).toBeGreaterThan(0);
    for (const e of page.items) {
      expect(e.sessions).toBeGreaterThan(0);
      expect(e.relevance.total).toBeGreaterThanOrEqual(DEFAULT_WEIGHTS.minRelevance);
      expect(['order', 'survey:waiting-list']).toContain(e.source);
      expect(e.limitedBy === null || /^(demand|repeat|capacity|budget:\d+)$/.test(e.limitedBy)).toBe(true);
    }
    const mine = ok(await w.call(admin, 'GET', `/v1/matching/runs/${run.id}/explanations?unitId=${w.fx.units.street.id}`), 200, 'of one unit');
    expect(mine.items.every((e: any) => e.unitId === w.fx.units.street.id)).toBe(true);
    expect(mine.items.length).toBeGreaterThan(0);
  });

  it('answers "why not product P for unit U"', async () => {
    const why = ok(await w.call(admin, 'GET', `/v1/matching/runs/${run.id}/why-not?unitId=${w.fx.units.community.id}&productId=${w.fx.products.workshop.id}`), 200, 'why not');
    expect(why.allocated).toBe(0);
    expect(why.reasons.length).toBeGreaterThan(0);
    // A handcraft workshop does not serve demand for performances.
    expect(new Set(why.reasons.map((r: any) => r.reason))).toEqual(new Set(['not-relevant']));
    const none = ok(await w.call(admin, 'GET', `/v1/matching/runs/${run.id}/why-not?unitId=${w.fx.units.otherDistrict.id}&productId=${w.fx.products.opera.id}`), 200, 'no demand');
    expect(none.reasons).toEqual([{ demandId: null, reason: 'no-demand', detail: expect.any(String) }]);
  });

  it('exports the instance and plan in their versioned schemas, which verify re-checks', async () => {
    const exported = ok(await w.call(admin, 'GET', `/v1/matching/runs/${run.id}/export`), 200, 'export');
    expect(exported.schema).toEqual({ instance: 'diandan.matching.instance/2', plan: 'diandan.matching.plan/1' });
    const instance = exported.instance as Instance;
    const plan = exported.plan as Plan;
    expect(verify(instance, plan).ok).toBe(true);
    expect(instance.demands.map((d) => d.source).sort()).toEqual(['order', 'order', 'order', 'order', 'order', 'order', 'order', 'survey:waiting-list', 'survey:waiting-list']);
    // The theme filter tripled the themed product's value on every candidate.
    const themed = instance.candidates.filter((c) => instance.products[c.product]!.tags.includes(THEME_TAG));
    expect(themed.length).toBeGreaterThan(0);
    for (const c of themed) {
      const d = instance.demands[c.demand]!;
      const p = instance.products[c.product]!;
      const base = valueOf(d, p, relevanceOf(d, p, instance.weights).relevance, instance.weights);
      expect(c.value).toBeCloseTo(3 * base, 5);
    }
    // A plan mutated past a repeat cap is refused by the same check.
    const broken: Plan = { ...plan, allocations: plan.allocations.map((a, i) => (i === 0 ? { ...a, sessions: a.sessions + 50 } : a)) };
    expect(verify(instance, broken).ok).toBe(false);
  });

  it('keeps runs inside the region: another district sees no such run', async () => {
    const res = await w.call(otherAdmin, 'GET', `/v1/matching/runs/${run.id}`);
    expect([res.status, res.body.code]).toEqual([404, 'RUN_NOT_FOUND']);
    const refused = await w.call(otherAdmin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027 });
    expect(refused.status).toBe(404);
    const street = await w.call(actors.streetOperator(), 'POST', '/v1/matching/runs', { regionCode: '440103001', periods: ['2027-03'], year: 2027 });
    expect(street.status).toBe(403);
    const bad = await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-13'], year: 2027 });
    expect(bad.status).toBe(400);
  });
});

describe('a plan becomes draft orders', () => {
  it('needs If-Match, is approved once, and turns into draft kernel orders carrying the plan id', async () => {
    const plan = ok(await w.call(admin, 'GET', `/v1/matching/plans/${run.planId}`), 200, 'plan');
    expect(plan.status).toBe('draft');
    const sessions = plan.allocations.reduce((n: number, a: any) => n + a.sessions, 0);
    expect(sessions).toBeGreaterThan(0);
    const early = await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/orders`, undefined, { 'if-match': `"v${plan.version}"` });
    expect([early.status, early.body.code]).toEqual([409, 'INVALID_TRANSITION']);
    const noMatch = await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/approve`);
    expect(noMatch.status).toBe(428);
    const approved = ok(await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/approve`, undefined, { 'if-match': `"v${plan.version}"` }), 200, 'approve');
    expect(approved.status).toBe('approved');
    const stale = await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/orders`, undefined, { 'if-match': `"v${plan.version}"` });
    expect(stale.status).toBe(409);
    const ordered = ok(await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/orders`, undefined, { 'if-match': `"v${approved.version}"`, 'idempotency-key': 'order-plan-1' }), 200, 'to orders');
    expect(ordered.status).toBe('ordered');
    // Survey demand has no unit or venue: those allocations are kept back, with why.
    const skippedSessions = ordered.skipped.length;
    expect(ordered.orderIds.length + skippedSessions).toBeGreaterThan(0);
    for (const s of ordered.skipped) expect(s.reason).toBe('no unit on the demand');
    expect(ordered.orderIds.length).toBeGreaterThan(0);
    for (const id of ordered.orderIds) {
      const order = ok(await w.call(admin, 'GET', `/v1/orders/${id}`), 200, 'order');
      expect(order.status).toBe('draft');
      expect(order.extensions.matching).toEqual({ planId: plan.id, demandId: expect.stringMatching(/^order:/) });
    }
    // Once: a second conversion is refused, and the replay of the first answers the same.
    const again = await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/orders`, undefined, { 'if-match': `"v${ordered.version}"` });
    expect([again.status, again.body.code]).toEqual([409, 'INVALID_TRANSITION']);
    const replay = await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/orders`, undefined, { 'if-match': `"v${approved.version}"`, 'idempotency-key': 'order-plan-1' });
    expect([replay.status, replay.body.orderIds]).toEqual([200, ordered.orderIds]);
    // The draft orders climb the normal approval chain: the unit submits, the street approves first.
    const first = ok(await w.call(admin, 'GET', `/v1/orders/${ordered.orderIds[0]}`), 200, 'order');
    const submitted = ok(await w.call(admin, 'POST', `/v1/orders/${first.id}/submit`, undefined, { 'if-match': `"v${first.version}"` }), 200, 'submit');
    expect(submitted.status).toBe('submitted');
  });

  it('refuses an order that names a plan it was not converted from', async () => {
    const res = await w.call(w.fx.units.street.user, 'POST', '/v1/orders', {
      unitId: w.fx.units.street.id,
      productId: w.fx.products.opera.id,
      venueId: w.fx.venues.street,
      windowStart: '2027-03-01',
      windowEnd: '2027-03-31',
      expectedAudience: 100,
      extensions: { matching: { planId: run.planId, demandId: 'order:x' } },
    });
    expect([res.status, res.body.code]).toEqual([422, 'PLAN_NOT_ORDERABLE']);
  });

  it('discards a plan of another run, and cancels a run that is still solving', async () => {
    // Scheduled for an hour from now, the solve is queued until it is cancelled: no race with the worker.
    const startAfter = new Date(Date.now() + 3_600_000).toISOString();
    const started = ok(await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027, solver: 'heuristic', startAfter }), 202, 'start');
    const queued = ok(await w.call(admin, 'GET', `/v1/matching/runs/${started.id}`), 200, 'queued run');
    expect([queued.status, queued.progress]).toEqual(['solving', 0]);
    expect(ok(await w.call(admin, 'GET', `/v1/jobs/${started.jobId}`), 200, 'job').state).toBe('queued');
    const cancelled = ok(await w.call(admin, 'POST', `/v1/matching/runs/${started.id}/cancel`), 200, 'cancel');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.planId).toBeNull();
    expect(ok(await w.call(admin, 'GET', `/v1/jobs/${started.jobId}`), 200, 'job').state).toBe('cancelled');
    const twice = await w.call(admin, 'POST', `/v1/matching/runs/${started.id}/cancel`);
    expect([twice.status, twice.body.code]).toEqual([409, 'INVALID_TRANSITION']);
    const other = ok(await w.call(admin, 'POST', '/v1/matching/runs', { regionCode: '440103', periods: ['2027-03'], year: 2027, alpha: 1 }), 202, 'start');
    const { run: done } = await settle(w, admin, other.id);
    expect(done.summary.alpha).toBe(1);
    const plan = ok(await w.call(admin, 'GET', `/v1/matching/plans/${done.planId}`), 200, 'plan');
    const discarded = ok(await w.call(admin, 'POST', `/v1/matching/plans/${plan.id}/discard`, undefined, { 'if-match': `"v${plan.version}"` }), 200, 'discard');
    expect(discarded.status).toBe('discarded');
  });
});
