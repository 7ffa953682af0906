/**
 * A project for each procurement method walks from creation through enquiries, sealed
 * bids, the opening, evaluation, award, standstill, contract and milestones; the
 * framework agreement's contract is called off into kernel orders that climb the
 * normal approval chain.
 */
import { on } from '@diandan/kernel';
import { act } from '@diandan/testing';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { recordPackageSchema, releasePackageSchema } from './ocds-schema.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenderAwarded, tenderPublished, contractSigned, bidSubmitted, projectCancelled } from '../src/index.js';
import { DAY, HOUR, boot, dbNow, expert, ifMatch, ok, projectBody, passDeadline, type World } from './support.js';

let w: World;
const events: { hook: string; payload: any }[] = [];
let deadlines: { enquiryEnd: Date; tenderEnd: Date };
const projects: Record<string, any> = {};
const bids: Record<string, any[]> = {};

const METHOD_SPECS = {
  open: { method: 'open-tender', lots: [{ id: 'L1', title: '粤剧巡演', value: 60_000 }, { id: 'L2', title: '广绣体验', value: 40_000 }], items: [
    { id: 'I1', description: '粤剧折子戏专场', category: 'performance', quantity: 10, unit: '场', relatedLot: 'L1' },
    { id: 'I2', description: '广绣手作体验课', category: 'handcraft-workshop', quantity: 8, unit: '节', relatedLot: 'L2' },
  ], panel: ['expert-a', 'expert-b', 'expert-c'] },
  negotiation: { method: 'competitive-negotiation', invited: [0, 1, 2] },
  consultation: { method: 'competitive-consultation', invited: [0, 1, 3] },
  inquiry: { method: 'inquiry', invited: [0, 1, 2], priceWeight: 100, qualityWeight: 0, panel: [] },
  single: { method: 'single-source', invited: [0], rationale: '非遗传承人独家表演，只能从唯一供应商处采购', priceWeight: 100, qualityWeight: 0, panel: [] },
  framework: { method: 'targeted-commission', invited: [0], rationale: '定向委托本地专业院团提供全年点单演出', priceWeight: 100, qualityWeight: 0, panel: [], framework: true },
} as const;

beforeAll(async () => {
  w = await boot();
  w.app.diandan.hooks.register(
    'test-listener',
    [tenderPublished, tenderAwarded, contractSigned, bidSubmitted, projectCancelled].map((hook: any) => on(hook, (payload: any) => void events.push({ hook: hook.id, payload }))),
  );
  const now = await dbNow(w.app);
  deadlines = { enquiryEnd: new Date(now.getTime() + DAY), tenderEnd: new Date(now.getTime() + 2 * DAY) };
  for (const [key, spec] of Object.entries(METHOD_SPECS)) {
    const { invited, ...rest } = spec as any;
    const body = projectBody(w, { ...rest, ...(invited ? { invitedSupplierIds: invited.map((i: number) => w.suppliers[i]!.id) } : {}) }, deadlines);
    const draft = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', body), 201, `create ${key}`);
    expect(draft.status).toBe('draft');
    projects[key] = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${draft.id}/publish`, undefined, ifMatch(draft)), 200, `publish ${key}`);
    expect(projects[key].status).toBe('published');
  }
}, 60_000);
afterAll(() => w?.app.close());

const url = (key: string, rest = '') => `/v1/procurement/projects/${projects[key].id}${rest}`;

describe('procurement methods', () => {
  it('maps each method to its OCDS procurementMethod', () => {
    expect(Object.fromEntries(Object.entries(projects).map(([k, p]) => [k, [p.procurementMethod, p.procurementMethodDetails]]))).toEqual({
      open: ['open', '公开招标'],
      negotiation: ['limited', '竞争性谈判'],
      consultation: ['limited', '竞争性磋商'],
      inquiry: ['selective', '询价'],
      single: ['direct', '单一来源采购'],
      framework: ['direct', '定向委托'],
    });
  });

  it('takes questions during the enquiry period and answers them publicly', async () => {
    const [troupe] = w.suppliers;
    for (const key of Object.keys(projects)) {
      const q = ok(await w.call(troupe!.user, 'POST', url(key, '/enquiries'), { question: '演出场地是否提供音响？' }), 201, `ask ${key}`);
      ok(await w.call(w.admin, 'POST', url(key, `/enquiries/${q.id}/answer`), { answer: '提供基础音响设备。' }), 200, `answer ${key}`);
    }
    // Not invited to a restricted procurement: refused.
    const outsider = await w.call(w.suppliers[3]!.user, 'POST', url('negotiation', '/enquiries'), { question: '可以参加吗？' });
    expect([outsider.status, outsider.body.code]).toEqual([403, 'PROCUREMENT_NOT_INVITED']);
    const list = ok(await w.call(null, 'GET', url('open', '/enquiries')), 200, 'enquiries');
    expect(list.items).toEqual([expect.objectContaining({ question: '演出场地是否提供音响？', answer: '提供基础音响设备。' })]);
    expect(JSON.stringify(list)).not.toContain(troupe!.id);
  });

  it('amends a published tender with a rationale (kept for OCDS)', async () => {
    const p = projects.open;
    const refused = await w.call(w.admin, 'PATCH', url('open'), { title: '新标题' }, ifMatch(p));
    expect(refused.body.code).toBe('PROCUREMENT_AMENDMENT_RATIONALE_REQUIRED');
    const amended = ok(
      await w.call(w.admin, 'PATCH', url('open'), { description: '为街道各社区采购粤剧巡演与广绣体验服务（测试数据，虚构）', amendmentRationale: '补充采购内容说明' }, ifMatch(p)),
      200,
      'amend',
    );
    projects.open = amended;
    const list = ok(await w.call(null, 'GET', url('open', '/amendments')), 200, 'amendments');
    expect(list.items).toEqual([expect.objectContaining({ rationale: '补充采购内容说明', changes: [expect.objectContaining({ field: 'description' })] })]);
  });

  it('takes sealed bids per lot; a supplier may replace or withdraw its bid before the deadline', async () => {
    const [troupe, studio, third, fourth] = w.suppliers as [any, any, any, any];
    const bid = async (key: string, who: any, lotId: string, price: number) =>
      ok(await w.call(who.user, 'POST', url(key, '/bids'), { lotId, price, proposal: `${key} 方案：${price}` }), 201, `bid ${key}`);
    bids.open = [await bid('open', troupe, 'L1', 58_000), await bid('open', studio, 'L1', 50_000), await bid('open', third, 'L1', 55_000), await bid('open', studio, 'L2', 39_000)];
    // The troupe replaces its bid; the third supplier's withdraw-and-rebid.
    const replacement = await bid('open', troupe, 'L1', 52_000);
    bids.open[0] = replacement;
    const withdrawn = ok(await w.call(third.user, 'POST', url('open', `/bids/${bids.open[2].id}/withdraw`)), 200, 'withdraw');
    expect(withdrawn.status).toBe('withdrawn');
    bids.open[2] = await bid('open', third, 'L1', 54_000);
    bids.negotiation = [await bid('negotiation', troupe, 'L1', 90_000), await bid('negotiation', studio, 'L1', 95_000)];
    bids.consultation = [await bid('consultation', troupe, 'L1', 80_000), await bid('consultation', fourth, 'L1', 85_000)];
    bids.inquiry = [await bid('inquiry', troupe, 'L1', 70_000), await bid('inquiry', studio, 'L1', 65_000), await bid('inquiry', third, 'L1', 68_000)];
    bids.single = [await bid('single', troupe, 'L1', 99_000)];
    bids.framework = [await bid('framework', troupe, 'L1', 100_000)];
    expect(replacement).toMatchObject({ status: 'sealed', sealed: true, price: null, proposal: null, commitment: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const mine = ok(await w.call(troupe.user, 'GET', url('open', '/bids')), 200, 'own bids');
    expect(mine.items.map((b: any) => b.status)).toEqual(['replaced', 'sealed']);
    expect(mine.items.every((b: any) => b.supplierId === troupe.id && b.price === null)).toBe(true);
    await w.app.diandan.hooks.settled();
    expect(events.filter((e) => e.hook === 'procurement.bid.submitted').length).toBeGreaterThanOrEqual(15);
    expect(JSON.stringify(events.filter((e) => e.hook === 'procurement.bid.submitted'))).not.toContain('方案');
  });

  it('closes the enquiry period and refuses to open the bids before the tender deadline', async () => {
    await passDeadline(w.app, deadlines.enquiryEnd);
    const late = await w.call(w.suppliers[0]!.user, 'POST', url('open', '/enquiries'), { question: '还能提问吗？' });
    expect(late.body.code).toBe('PROCUREMENT_ENQUIRY_PERIOD_CLOSED');
    const current = ok(await w.call(w.admin, 'GET', url('open')), 200, 'get');
    expect(current.status).toBe('tendering');
    const early = await w.call(w.admin, 'POST', url('open', '/open'), undefined, ifMatch(current));
    expect([early.status, early.body.code]).toEqual([409, 'PROCUREMENT_TENDER_PERIOD_OPEN']);
  });

  it('opens the bids after the deadline, and refuses late bids', async () => {
    await passDeadline(w.app, deadlines.tenderEnd);
    const late = await w.call(w.suppliers[1]!.user, 'POST', url('open', '/bids'), { lotId: 'L1', price: 1, proposal: 'late' });
    expect(late.body.code).toBe('PROCUREMENT_TENDER_PERIOD_CLOSED');
    for (const key of Object.keys(projects)) {
      const current = ok(await w.call(w.admin, 'GET', url(key)), 200, 'get');
      projects[key] = ok(await w.call(w.admin, 'POST', url(key, '/open'), undefined, ifMatch(current)), 200, `open ${key}`);
      expect(projects[key].status).toBe('evaluation');
    }
    const all = ok(await w.call(w.admin, 'GET', url('open', '/bids')), 200, 'bids after opening');
    const live = all.items.filter((b: any) => b.status === 'valid');
    expect(live.map((b: any) => b.price).sort()).toEqual([39_000, 50_000, 52_000, 54_000]);
    expect(live.every((b: any) => b.sealed === false && typeof b.nonce === 'string')).toBe(true);
  });

  it('evaluates with a panel that declares conflicts of interest first', async () => {
    const p = projects.open;
    const early = await w.call(expert('expert-a'), 'POST', url('open', `/bids/${bids.open[0].id}/score`), { score: 80, comment: '' });
    expect(early.body.code).toBe('PROCUREMENT_DECLARATION_REQUIRED');
    ok(await w.call(expert('expert-a'), 'POST', url('open', '/declarations'), { conflict: false, statement: '本人与各投标人无利害关系' }), 201, 'declare a');
    ok(await w.call(expert('expert-b'), 'POST', url('open', '/declarations'), { conflict: false, statement: '无利害关系' }), 201, 'declare b');
    ok(await w.call(expert('expert-c'), 'POST', url('open', '/declarations'), { conflict: true, statement: '本人曾在测试手作工坊任职' }), 201, 'declare c');
    const conflicted = await w.call(expert('expert-c'), 'POST', url('open', `/bids/${bids.open[0].id}/score`), { score: 99, comment: '' });
    expect([conflicted.status, conflicted.body.code]).toEqual([403, 'PROCUREMENT_CONFLICT_OF_INTEREST']);
    const notMember = await w.call(expert('expert-z'), 'POST', url('open', '/declarations'), { conflict: false, statement: 'x' });
    expect(notMember.body.code).toBe('PROCUREMENT_NOT_PANEL_MEMBER');
    const incomplete = await w.call(w.admin, 'POST', url('open', '/award'), undefined, ifMatch(p));
    expect(incomplete.body.code).toBe('PROCUREMENT_SCORES_MISSING');
    // Quality scores: the troupe (52 000) is best on quality, the studio (50 000) cheapest.
    const quality: Record<string, [number, number]> = { [bids.open[0].id]: [90, 94], [bids.open[1].id]: [60, 64], [bids.open[2].id]: [70, 70], [bids.open[3].id]: [80, 80] };
    for (const [bidId, [a, b]] of Object.entries(quality)) {
      ok(await w.call(expert('expert-a'), 'POST', url('open', `/bids/${bidId}/score`), { score: a, comment: '良' }), 200, 'score a');
      ok(await w.call(expert('expert-b'), 'POST', url('open', `/bids/${bidId}/score`), { score: b, comment: '良' }), 200, 'score b');
    }
    const ranking = ok(await w.call(w.admin, 'GET', url('open', '/ranking')), 200, 'ranking');
    const l1 = ranking.lots.find((l: any) => l.lotId === 'L1');
    // troupe: 50000/52000×60 = 57.69 + 92/100×40 = 36.8 → 94.49; studio: 60 + 24.8 = 84.8; third: 55.56 + 28 = 83.56
    expect(l1.bids.map((b: any) => [b.price, b.priceScore, b.qualityScore, b.total, b.rank])).toEqual([
      [52_000, 57.69, 36.8, 94.49, 1],
      [50_000, 60, 24.8, 84.8, 2],
      [54_000, 55.56, 28, 83.56, 3],
    ]);
    expect(l1.complete).toBe(true);
    for (const key of ['negotiation', 'consultation']) {
      for (const m of ['expert-a', 'expert-b']) ok(await w.call(expert(m), 'POST', url(key, '/declarations'), { conflict: false, statement: '无' }), 201, 'declare');
      for (const b of bids[key]!) for (const m of ['expert-a', 'expert-b']) ok(await w.call(expert(m), 'POST', url(key, `/bids/${b.id}/score`), { score: 80, comment: '' }), 200, 'score');
    }
  });

  it('awards each lot to the best-ranked bid, with a standstill before the contract', async () => {
    for (const key of Object.keys(projects)) {
      projects[key] = ok(await w.call(w.admin, 'POST', url(key, '/award'), undefined, ifMatch(projects[key])), 200, `award ${key}`);
      expect(projects[key].status).toBe('awarded');
    }
    const awards = ok(await w.call(null, 'GET', url('open', '/awards')), 200, 'awards');
    const byLot = [...awards.items].sort((x: any, y: any) => String(x.lotId).localeCompare(String(y.lotId)));
    expect(byLot.map((a: any) => [a.lotId, a.supplierId, a.status, a.value])).toEqual([
      ['L1', w.suppliers[0]!.id, 'pending', 52_000],
      ['L2', w.suppliers[1]!.id, 'pending', 39_000],
    ]);
    const first = awards.items.find((a: any) => a.lotId === 'L1');
    const tooEarly = await w.call(w.admin, 'POST', `/v1/procurement/awards/${first.id}/contract`, contractBody(52_000), ifMatch(first));
    expect([tooEarly.status, tooEarly.body.code]).toEqual([409, 'PROCUREMENT_STANDSTILL']);
    const inquiry = ok(await w.call(null, 'GET', url('inquiry', '/awards')), 200, 'inquiry awards');
    expect(inquiry.items[0]).toMatchObject({ supplierId: w.suppliers[1]!.id, value: 65_000 });
    await w.app.diandan.hooks.settled();
    expect(events.filter((e) => e.hook === 'procurement.tender.awarded')).toHaveLength(6);
  });

  it('moves a rejected award to the next-ranked bid', async () => {
    const awards = ok(await w.call(null, 'GET', url('negotiation', '/awards')), 200, 'awards');
    const winner = awards.items[0];
    const res = ok(await w.call(w.admin, 'POST', `/v1/procurement/awards/${winner.id}/reject`, { reason: '中标人放弃中标' }, ifMatch(winner)), 200, 'reject');
    expect(res.rejected.status).toBe('cancelled');
    expect(res.next).toMatchObject({ status: 'pending', rank: 2, supplierId: bids.negotiation![1 - bids.negotiation!.findIndex((b: any) => b.id === winner.bidId)]!.supplierId });
  });

  it('signs contracts after the standstill, completes milestones and the project', async () => {
    const all = [];
    for (const key of Object.keys(projects)) {
      const awards = ok(await w.call(null, 'GET', url(key, '/awards')), 200, 'awards');
      for (const a of awards.items.filter((x: any) => x.status === 'pending')) all.push({ key, award: a });
    }
    await passDeadline(w.app, all.map((x) => x.award.standstillEnd).sort().at(-1));
    for (const { key, award } of all) {
      const contract = ok(await w.call(w.admin, 'POST', `/v1/procurement/awards/${award.id}/contract`, contractBody(award.value), ifMatch(award)), 201, `contract ${key}`);
      expect(contract).toMatchObject({ status: 'active', value: award.value, milestones: [{ status: 'scheduled' }, { status: 'scheduled' }] });
      if (key === 'framework') {
        projects.frameworkContract = contract;
        continue;
      }
      let current = contract;
      for (const m of contract.milestones) {
        current = ok(await w.call(w.admin, 'POST', `/v1/procurement/contracts/${current.id}/milestones/${m.id}/complete`, undefined, ifMatch(current)), 200, 'milestone');
      }
      expect(current.status).toBe('terminated');
    }
    for (const key of ['open', 'negotiation', 'consultation', 'inquiry', 'single']) {
      expect((ok(await w.call(null, 'GET', url(key)), 200, 'get') as any).status, key).toBe('complete');
    }
    await w.app.diandan.hooks.settled();
    expect(events.filter((e) => e.hook === 'procurement.contract.signed').length).toBe(all.length);
  });

  it('calls off the framework contract into kernel orders that climb the approval chain', async () => {
    const contract = projects.frameworkContract;
    const unit = w.fx.units.community;
    const body = { unitId: unit.id, productId: w.fx.products.opera.id, venueId: w.fx.venues.community, windowStart: '2027-04-01', windowEnd: '2027-04-30', expectedAudience: 100 };
    const placed = ok(await w.call(unit.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, body), 201, 'call-off');
    expect(placed.orderStatus).toBe('submitted');
    const order = ok(await w.call(unit.user, 'GET', `/v1/orders/${placed.orderId}`), 200, 'order');
    expect(order).toMatchObject({ status: 'submitted', approvalChain: ['440103001', '440103'], cost: 1000 });
    const approved = await act(w.call, w.fx.staff.streetOperator, order, 'approve');
    expect(approved.body.status).toBe('approving');
    // Another supplier's product is refused.
    const wrong = await w.call(unit.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, { ...body, productId: w.fx.products.workshop.id });
    expect(wrong.body.code).toBe('PROCUREMENT_CALL_OFF_SUPPLIER');
    // A unit outside the buyer's region is refused.
    const outside = await w.call(w.fx.units.otherDistrict.user, 'POST', `/v1/procurement/contracts/${contract.id}/call-offs`, { ...body, unitId: w.fx.units.otherDistrict.id, venueId: w.fx.venues.otherDistrict });
    expect(outside.body.code).toBe('PROCUREMENT_CALL_OFF_OUTSIDE_REGION');
    const list = ok(await w.call(w.admin, 'GET', `/v1/procurement/contracts/${contract.id}/call-offs`), 200, 'call-offs');
    expect(list.items).toEqual([expect.objectContaining({ orderId: placed.orderId, cost: 1000 })]);
    expect((ok(await w.call(null, 'GET', `/v1/procurement/contracts/${contract.id}`), 200, 'contract') as any).calledOff).toBe(1000);
    // Call-offs of a non-framework contract are refused.
    const others = ok(await w.call(null, 'GET', url('single', '/contracts')), 200, 'contracts');
    const notFramework = await w.call(unit.user, 'POST', `/v1/procurement/contracts/${others.items[0].id}/call-offs`, body);
    expect(notFramework.body.code).toBe('PROCUREMENT_NOT_FRAMEWORK');
  });

  it('fails a tender without bids, and cancels a project', async () => {
    const now = await dbNow(w.app);
    const at = { enquiryEnd: new Date(now.getTime() + HOUR), tenderEnd: new Date(now.getTime() + 2 * HOUR) };
    const empty = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '无人投标的项目（测试）' }, at)), 201, 'create');
    const published = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${empty.id}/publish`, undefined, ifMatch(empty)), 200, 'publish');
    await passDeadline(w.app, at.tenderEnd);
    const opened = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${empty.id}/open`, undefined, ifMatch(published)), 200, 'open');
    expect([opened.status, opened.statusReason]).toEqual(['unsuccessful', 'No valid bid was received']);

    const later = { enquiryEnd: new Date(now.getTime() + 30 * DAY), tenderEnd: new Date(now.getTime() + 60 * DAY) };
    const doomed = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, { title: '将被取消的项目（测试）' }, later)), 201, 'create');
    const pub = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${doomed.id}/publish`, undefined, ifMatch(doomed)), 200, 'publish');
    const noReason = await w.call(w.admin, 'POST', `/v1/procurement/projects/${doomed.id}/cancel`, { reason: ' ' }, ifMatch(pub));
    expect(noReason.body.code).toBe('PROCUREMENT_REASON_REQUIRED');
    const cancelled = ok(await w.call(w.admin, 'POST', `/v1/procurement/projects/${doomed.id}/cancel`, { reason: '预算调整' }, ifMatch(pub)), 200, 'cancel');
    expect(cancelled.status).toBe('cancelled');
    await w.app.diandan.hooks.settled();
    expect(events.some((e) => e.hook === 'procurement.project.cancelled' && e.payload.projectId === doomed.id && e.payload.reason === '预算调整')).toBe(true);
    const audit = ok(await w.call(w.cityAdmin, 'GET', `/v1/audit-log?entityType=procurement-project&entityId=${doomed.id}`), 200, 'audit');
    expect(audit.items.map((a: any) => a.action)).toEqual(['procurement.project.cancel', 'procurement.project.publish', 'procurement.project.create']);
  });

  it('reports red-flag indicators per buyer', async () => {
    const res = ok(await w.call(w.admin, 'GET', `/v1/procurement/indicators?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`), 200, 'indicators');
    const [row] = res.items;
    expect(row).toMatchObject({ buyerUnitId: w.buyerUnitId, tenders: 8, openedTenders: 7, directTenders: 2 });
    // Single-bid tenders: single source, framework (targeted commission); the empty tender had none.
    expect(row.singleBidTenders).toBe(2);
    expect(row.singleBidShare).toBeCloseTo(2 / 7, 3);
    expect(row.directShare).toBe(0.25);
    expect(row.savings).toBe(row.contractedEstimate - row.contractValue);
    expect(row.savings).toBeGreaterThan(0);
    const outside = ok(await w.call(w.otherAdmin, 'GET', `/v1/procurement/indicators?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`), 200, 'other district');
    expect(outside.items).toEqual([]);
  });
});

describe('OCDS 1.1 export', () => {
  // CommonJS modules: their classes are the `default` of the module.
  const ajv = new Ajv04Module.default({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  const validRelease = ajv.compile(releasePackageSchema);
  const validRecord = ajv.compile(recordPackageSchema);

  it('serves each project as a release package and a record package that validate against the schema of every emitted field', async () => {
    for (const key of ['open', 'negotiation', 'consultation', 'inquiry', 'single', 'framework']) {
      const rp = ok(await w.call(null, 'GET', url(key, '/ocds/releases')), 200, `releases ${key}`);
      const rec = ok(await w.call(null, 'GET', url(key, '/ocds/record')), 200, `record ${key}`);
      if (process.env.DUMP_OCDS) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`${process.env.DUMP_OCDS}/${key}-releases.json`, JSON.stringify(rp, null, 1));
        writeFileSync(`${process.env.DUMP_OCDS}/${key}-record.json`, JSON.stringify(rec, null, 1));
      }
      expect(validRelease(rp), `${key} release package: ${JSON.stringify(validRelease.errors)}`).toBe(true);
      expect(validRecord(rec), `${key} record package: ${JSON.stringify(validRecord.errors)}`).toBe(true);
      expect(rp.version).toBe('1.1');
      const ids = rp.releases.map((r: any) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      const own = rp.releases.filter((r: any) => r.ocid === `ocds-213czf-${projects[key].id}`);
      // Only a framework's package holds other processes: its call-offs.
      expect(rp.releases.length - own.length, key).toBe(key === 'framework' ? 1 : 0);
      const tags = own.map((r: any) => r.tag[0]);
      expect(tags.slice(0, 2)).toEqual(['planning', 'tender']);
      expect(tags).toEqual(expect.arrayContaining(['tenderUpdate', 'award', 'contract']));
      const compiled = rec.records[0].compiledRelease;
      expect(compiled.tag).toEqual(['compiled']);
      expect(rec.records.flatMap((r: any) => r.releases.map((x: any) => x.url.split('#')[1]))).toEqual(ids);
      expect(rec.records).toHaveLength(key === 'framework' ? 2 : 1);
      expect(compiled.tender).toMatchObject({ procurementMethod: projects[key].procurementMethod, procurementMethodDetails: projects[key].procurementMethodDetails, hasEnquiries: true });
      expect(compiled.parties.find((p: any) => p.roles.includes('buyer')).roles).toEqual(['buyer', 'procuringEntity']);
      expect(compiled.contracts.length).toBeGreaterThan(0);
    }
  });

  it('carries the stages: amendments, tenderers, bid statistics, awards, contracts with milestones and transactions', async () => {
    const rp = ok(await w.call(null, 'GET', url('open', '/ocds/releases')), 200, 'releases');
    expect(rp.releases.map((r: any) => r.tag[0])).toEqual(['planning', 'tender', 'tenderAmendment', 'tenderUpdate', 'award', 'contract', 'implementation', 'implementation', 'contract', 'implementation', 'implementation']);
    const tender = rp.releases[1].tender;
    expect(tender.numberOfTenderers).toBeUndefined(); // unknown until the opening
    const amendment = rp.releases[2].tender.amendments[0];
    expect(amendment).toMatchObject({ rationale: '补充采购内容说明', amendsReleaseID: rp.releases[1].id, releaseID: rp.releases[2].id });
    const compiled = (ok(await w.call(null, 'GET', url('open', '/ocds/record')), 200, 'record') as any).records[0].compiledRelease;
    expect(compiled.tender.numberOfTenderers).toBe(3);
    expect(compiled.tender.tenderers).toHaveLength(3);
    expect(compiled.tender.techniques).toBeUndefined();
    expect(compiled.bids.statistics).toEqual(expect.arrayContaining([{ id: 'L1-bids', measure: 'bids', value: 3, relatedLot: 'L1' }, { id: 'L2-bids', measure: 'bids', value: 1, relatedLot: 'L2' }]));
    expect(compiled.awards.map((a: any) => [a.relatedLots[0], a.status]).sort()).toEqual([['L1', 'active'], ['L2', 'active']]);
    expect(compiled.contracts[0].milestones.map((m: any) => m.status)).toEqual(['met', 'met']);
    expect(compiled.contracts[0].implementation.transactions).toHaveLength(2);
    expect(compiled.contracts.map((c: any) => c.status)).toEqual(['terminated', 'terminated']);
    expect(compiled.parties.filter((p: any) => p.roles.includes('supplier'))).toHaveLength(2);
    const single = (ok(await w.call(null, 'GET', url('single', '/ocds/record')), 200, 'record') as any).records[0].compiledRelease;
    expect(single.tender).toMatchObject({ procurementMethod: 'direct', procurementMethodRationale: '非遗传承人独家表演，只能从唯一供应商处采购', numberOfTenderers: 1 });
    const framework = (ok(await w.call(null, 'GET', url('framework', '/ocds/record')), 200, 'record') as any).records[0].compiledRelease;
    expect(framework.tender.techniques).toEqual({ hasFrameworkAgreement: true });
    expect(framework.awards.every((a: any) => a.relatedLots?.length === 1)).toBe(true);
    // The call-off: a contracting process of its own, related to the framework agreement.
    const frameworkRecord = ok(await w.call(null, 'GET', url('framework', '/ocds/record')), 200, 'record') as any;
    const callOff = frameworkRecord.records[1].compiledRelease;
    const [placed] = (ok(await w.call(w.admin, 'GET', `/v1/procurement/contracts/${projects.frameworkContract.id}/call-offs`), 200, 'call-offs') as any).items;
    expect(callOff.ocid).toBe(`ocds-213czf-${placed.id}`);
    expect(callOff.relatedProcesses).toEqual([expect.objectContaining({ relationship: ['framework'], scheme: 'ocid', identifier: `ocds-213czf-${projects.framework.id}` })]);
    expect(callOff.buyer.id).toBe(`DIANDAN-UNIT-${w.fx.units.community.id}`);
    expect(callOff.tender).toMatchObject({ procurementMethod: 'direct', status: 'complete' });
    expect(callOff.awards[0]).toMatchObject({ status: 'active', value: { amount: 1000, currency: 'CNY' }, suppliers: [{ id: `DIANDAN-SUPPLIER-${projects.frameworkContract.supplierId}` }] });
    expect(callOff.contracts[0]).toMatchObject({ id: placed.id, awardID: callOff.awards[0].id, description: `Diandan order ${placed.orderId}`, value: { amount: 1000 } });
    const negotiation = (ok(await w.call(null, 'GET', url('negotiation', '/ocds/releases')), 200, 'releases') as any).releases;
    expect(negotiation.map((r: any) => r.tag[0])).toContain('awardUpdate');
  });

  it('is public only after publication', async () => {
    const now = await dbNow(w.app);
    const draft = ok(await w.call(w.admin, 'POST', '/v1/procurement/projects', projectBody(w, {}, { enquiryEnd: new Date(now.getTime() + 30 * DAY), tenderEnd: new Date(now.getTime() + 60 * DAY) })), 201, 'draft');
    for (const path of ['/ocds/releases', '/ocds/record']) {
      const res = await w.call(null, 'GET', `/v1/procurement/projects/${draft.id}${path}`);
      expect([res.status, res.body.code]).toEqual([404, 'PROCUREMENT_PROJECT_NOT_FOUND']);
      expect((await w.call(w.admin, 'GET', `/v1/procurement/projects/${draft.id}${path}`)).status).toBe(404);
    }
  });
});

function contractBody(value: number) {
  return {
    title: '服务合同（测试）',
    value,
    periodStart: '2027-01-01T00:00:00Z',
    periodEnd: '2027-12-31T00:00:00Z',
    milestones: [
      { id: 'M1', title: '上半年演出', dueDate: '2027-06-30T00:00:00Z', value: Math.floor(value / 2) },
      { id: 'M2', title: '下半年演出', dueDate: '2027-12-31T00:00:00Z', value: Math.floor(value / 2) },
    ],
  };
}
