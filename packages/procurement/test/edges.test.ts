/**
 * Edges of the walk: a supplier suspended before the opening, disqualification, every
 * award rejected, a framework call-off beyond the contract's value, cancelling after a
 * contract, withdrawing after the deadline.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../src/index.js';
import { projects } from '../src/schema.js';
import { DAY, HOUR, boot, dbNow, expert, ifMatch, ok, projectBody, passDeadline, type World } from './support.js';

let w: World;
let deadlines: { enquiryEnd: Date; tenderEnd: Date };
const p: Record<string, any> = {};
const b: Record<string, any[]> = {};

beforeAll(async () => {
  w = await boot();
  const now = await dbNow(w.app);
  deadlines = { enquiryEnd: new Date(now.getTime() + DAY), tenderEnd: new Date(now.getTime() + 2 * DAY) };
  const make = async (key: string, overrides: Record<string, unknown>) => {
    const d = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, overrides, deadlines)), 201, key);
    p[key] = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${d.id}/publish`, undefined, ifMatch(d)), 200, key);
  };
  await make('rejected', { priceWeight: 100, qualityWeight: 0, panel: [] });
  await make('framework', { method: 'single-source', rationale: '唯一', invitedSupplierIds: [w.suppliers[0]!.id], framework: true, priceWeight: 100, qualityWeight: 0, panel: [], estimate: 2500, lots: [{ id: 'L1', title: '框架', value: 2500 }] });
  await make('disqualified', { panel: ['expert-a'] });
  const bid = async (key: string, i: number, price: number) => ok(await w.call(w.suppliers[i]!.user, 'POST', `/v1/procurement/projects/${p[key].id}/bids`, { lotId: 'L1', price, proposal: '方案' }), 201, 'bid');
  b.rejected = [await bid('rejected', 0, 100), await bid('rejected', 1, 200)];
  b.framework = [await bid('framework', 0, 2500)];
  b.disqualified = [await bid('disqualified', 0, 100), await bid('disqualified', 1, 200), await bid('disqualified', 3, 300)];
  // The fourth supplier is suspended after bidding: its bid is disqualified at the opening.
  const kernel = w.app.diandan.services;
  const city = await kernel.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
  const s = await kernel.suppliers.get(w.suppliers[3]!.id);
  await kernel.suppliers.setStatus({ id: s.id, status: 'suspended', reason: '测试', expectedVersion: s.version }, { actor: city });
  await passDeadline(w.app, deadlines.tenderEnd);
  for (const key of Object.keys(p)) {
    const current = ok(await w.call(w.admin, 'GET', `/v1/procurement/projects/${p[key].id}`), 200, 'get');
    p[key] = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${p[key].id}/open`, undefined, ifMatch(current)), 200, `open ${key}`);
  }
}, 60_000);
afterAll(() => w?.app.close());

const url = (key: string, rest = '') => `/v1/procurement/projects/${p[key].id}${rest}`;

describe('edges', () => {
  it('persists published → tendering with the scheduled job, audited as the plugin', async () => {
    const now = await dbNow(w.app);
    const at = { enquiryEnd: new Date(now.getTime() + HOUR), tenderEnd: new Date(now.getTime() + 30 * DAY) };
    const d = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '定时推进（测试）' }, at)), 201, 'create');
    ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${d.id}/publish`, undefined, ifMatch(d)), 200, 'publish');
    await passDeadline(w.app, at.enquiryEnd);
    const started = w.app.diandan.plugins.find((x) => x.definition.name === 'procurement')!;
    const job = await started.context.jobs.send((started.services as Services).advancePeriods, {});
    await started.context.jobs.wait(job!);
    const [row] = await w.app.diandan.database.db.select({ status: projects.status }).from(projects).where(eq(projects.id, d.id));
    expect(row!.status).toBe('tendering');
    const audit = ok(await w.call(w.cityAdmin, 'GET', `/v1/audit-log?entityType=procurement-project&entityId=${d.id}`), 200, 'audit');
    expect(audit.items[0]).toMatchObject({ action: 'procurement.project.startTendering', actorId: 'system:procurement' });
  });

  it('refuses withdrawing after the deadline', async () => {
    const res = await w.call(w.suppliers[0]!.user, 'POST', url('rejected', `/bids/${b.rejected![0].id}/withdraw`));
    expect(res.body.code).toBe('PROCUREMENT_TENDER_PERIOD_CLOSED');
  });

  it('disqualifies the bid of a supplier suspended before the opening, and by the admins’ decision', async () => {
    const bids = ok(await w.call(w.admin, 'GET', url('disqualified', '/bids')), 200, 'bids');
    expect(bids.items.find((x: any) => x.supplierId === w.suppliers[3]!.id)).toMatchObject({ status: 'disqualified', statusReason: 'The supplier was not active at the opening' });
    ok(await w.call(w.admin, 'POST', url('disqualified', `/bids/${b.disqualified![1].id}/disqualify`), { reason: '未实质性响应' }), 200, 'disqualify');
    ok(await w.call(expert('expert-a'), 'POST', url('disqualified', '/declarations'), { conflict: false, statement: '无' }), 201, 'declare');
    const notValid = await w.call(expert('expert-a'), 'POST', url('disqualified', `/bids/${b.disqualified![1].id}/score`), { score: 90, comment: '' });
    expect(notValid.body.code).toBe('PROCUREMENT_BID_NOT_VALID');
    ok(await w.call(expert('expert-a'), 'POST', url('disqualified', `/bids/${b.disqualified![0].id}/score`), { score: 90, comment: '' }), 200, 'score');
    const ranking = ok(await w.call(expert('expert-a'), 'GET', url('disqualified', '/ranking')), 200, 'ranking');
    expect(ranking.lots[0].bids.map((x: any) => x.bidId)).toEqual([b.disqualified![0].id]);
    // Competitors of the panel cannot read the ranking.
    expect((await w.call(w.suppliers[0]!.user, 'GET', url('disqualified', '/ranking'))).status).toBe(403);
  });

  it('makes the project unsuccessful when every award has been rejected', async () => {
    p.rejected = ok(await w.call(w.admin, 'POST', url('rejected', '/award'), undefined, ifMatch(p.rejected)), 200, 'award');
    let award = (ok(await w.call(null, 'GET', url('rejected', '/awards')), 200, 'awards') as any).items[0];
    expect(award.supplierId).toBe(w.suppliers[0]!.id);
    const first = ok(await w.call(w.admin, 'POST', `/v1/procurement/awards/${award.id}/reject`, { reason: '放弃' }, ifMatch(award)), 200, 'reject 1');
    expect(first.next.supplierId).toBe(w.suppliers[1]!.id);
    award = first.next;
    const stale = await w.call(w.admin, 'POST', `/v1/procurement/awards/${first.rejected.id}/reject`, { reason: '再次' }, ifMatch(first.rejected));
    expect(stale.body.code).toBe('PROCUREMENT_AWARD_NOT_PENDING');
    const second = ok(await w.call(w.admin, 'POST', `/v1/procurement/awards/${award.id}/reject`, { reason: '资格不符' }, ifMatch(award)), 200, 'reject 2');
    expect(second.next).toMatchObject({ status: 'unsuccessful', supplierId: null });
    expect((ok(await w.call(null, 'GET', url('rejected')), 200, 'get') as any).status).toBe('unsuccessful');
  });

  it('bounds framework call-offs by the contract value, and refuses cancelling after a contract', async () => {
    p.framework = ok(await w.call(w.admin, 'POST', url('framework', '/award'), undefined, ifMatch(p.framework)), 200, 'award');
    const award = (ok(await w.call(null, 'GET', url('framework', '/awards')), 200, 'awards') as any).items[0];
    await passDeadline(w.app, award.standstillEnd);
    const tooMuch = await w.call(w.admin, 'POST', `/v1/procurement/awards/${award.id}/contract`, { title: '框架协议', value: 9999, periodStart: '2027-01-01T00:00:00Z', periodEnd: '2027-12-31T00:00:00Z', milestones: [{ id: 'M1', title: '年度', dueDate: '2027-12-31T00:00:00Z', value: 0 }] }, ifMatch(award));
    expect(tooMuch.body.code).toBe('PROCUREMENT_CONTRACT_EXCEEDS_AWARD');
    const contract = ok(
      await w.call(w.admin, 'POST', `/v1/procurement/awards/${award.id}/contract`, { title: '框架协议', value: 2500, periodStart: '2027-01-01T00:00:00Z', periodEnd: '2027-12-31T00:00:00Z', milestones: [{ id: 'M1', title: '年度', dueDate: '2027-12-31T00:00:00Z', value: 0 }] }, ifMatch(award)),
      201,
      'contract',
    );
    const unit = w.fx.units.community;
    const body = { unitId: unit.id, productId: w.fx.products.opera.id, venueId: w.fx.venues.community, windowStart: '2027-05-01', windowEnd: '2027-05-31', expectedAudience: 50 };
    ok(await w.call(unit.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, body), 201, 'call-off 1');
    ok(await w.call(unit.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, body), 201, 'call-off 2');
    const third = await w.call(unit.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, body);
    expect([third.status, third.body.code, third.body.details?.remaining]).toEqual([409, 'PROCUREMENT_CALL_OFF_EXCEEDS_CONTRACT', 500]);
    // Another supplier cannot read the call-offs; the framework supplier can.
    expect((await w.call(w.suppliers[1]!.user, 'GET', `/v1/procurement/contracts/${contract.id}/call-offs`)).status).toBe(403);
    expect((ok(await w.call(w.suppliers[0]!.user, 'GET', `/v1/procurement/contracts/${contract.id}/call-offs`), 200, 'list') as any).items).toHaveLength(2);
    const current = ok(await w.call(w.admin, 'GET', url('framework')), 200, 'get');
    const cancel = await w.call(w.admin, 'POST', url('framework', '/cancel'), { reason: '取消' }, ifMatch(current));
    expect(cancel.body.code).toBe('PROCUREMENT_CONTRACT_SIGNED');
  });
});
