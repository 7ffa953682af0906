/**
 * Residents' choice over a street's budget, over HTTP: a ballot over four library
 * products, the rule locked once voting opens, twelve... no: four residents' votes, and
 * the result of the Method of Equal Shares checked against a hand computation (and the
 * "most votes that still fit" baseline beside it).
 *
 * Hand computation (budget 1000 yuan, 4 voters → 250 each; P1, P2, P3 cost 300 and are
 * approved by voters 1–3 (general public), Q costs 250 and is approved by voter 4 (elderly)):
 * - MES round 1: P1, P2, P3 each cost 100 per approver, Q 250: P1 (first in the ballot) is funded,
 *   voters 1–3 keep 150. Round 2: P2 at 100 each; voters 1–3 keep 50. Round 3: P3 would need
 *   300 of 3 × 50 = 150: unaffordable; Q at 250 (voter 4 has 250): funded. Cost 850.
 * - Add1: at a share of s per voter, P3 becomes affordable once 3(s − 200) ≥ 300, s ≥ 300, when
 *   the outcome {P1, P2, P3, Q} costs 1150 > 1000: so the last share that fits is 299 and the
 *   outcome stays {P1, P2, Q}; the 150 left fund nothing more (P3 costs 300).
 * - Most votes: P1, P2, P3 (3 approvals each) fit (900); Q (250) no longer fits: {P1, P2, P3}.
 * The elderly voter (25% of voters) gets 25% of the budget under equal shares, 0 under most votes.
 */
import { actors, listedProduct } from '@diandan/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, ok, type World } from './support.js';

let w: World;
const street = actors.streetOperator('440103001');
let p: Record<'P1' | 'P2' | 'P3' | 'Q', string>;
let ballot: any;

beforeAll(async () => {
  w = await boot();
  const make = async (title: string, cost: number) => (await listedProduct(w.call, w.fx.suppliers.studio.user, { title, costPerSession: cost, serviceableRegions: ['440103001'], category: 'performance' })).id as string;
  p = { P1: await make('街舞展演（测试）', 300), P2: await make('合唱音乐会（测试）', 300), P3: await make('话剧专场（测试）', 300), Q: await make('粤曲茶座（测试）', 250) };
}, 120_000);
afterAll(() => w?.app.close());

const url = (rest = '') => `/v1/matching/ballots/${ballot.id}${rest}`;

describe("a residents' ballot", () => {
  it('is drafted for a street budget over listed products, the rule editable until voting opens', async () => {
    const res = await w.call(street, 'POST', '/v1/matching/ballots', { regionCode: '440103001', title: '2027年街道居民点单（测试）', budget: 1000, options: [p.P1, p.P2, p.P3, p.Q].map((productId) => ({ productId })), rule: { completion: 'greedy' } }, { 'idempotency-key': 'ballot-1' });
    ballot = ok(res, 201, 'create ballot');
    expect(ballot.options.map((o: any) => o.cost)).toEqual([300, 300, 300, 250]);
    expect(ballot.rule).toEqual({ rule: 'equal-shares', completion: 'greedy', increment: 1 });
    ballot = ok(await w.call(street, 'PATCH', url(), { rule: { completion: 'add1-greedy' } }, { 'if-match': `"v${ballot.version}"` }), 200, 'change rule');
    expect(ballot.rule.completion).toBe('add1-greedy');
    // Not a street, or a product that does not serve it: refused.
    const district = await w.call(actors.districtAdmin(), 'POST', '/v1/matching/ballots', { regionCode: '440103', title: 'x', budget: 1000, options: [{ productId: w.fx.products.opera.id }] });
    expect([district.status, district.body.code]).toEqual([422, 'BALLOT_NOT_A_STREET']);
    const elsewhere = await w.call(actors.streetOperator('440103002'), 'POST', '/v1/matching/ballots', { regionCode: '440103002', title: 'x', budget: 1000, options: [{ productId: p.P1 }] });
    expect([elsewhere.status, elsewhere.body.code]).toEqual([422, 'BALLOT_PRODUCT_NOT_SERVING']);
    // Another street's operator does not see it.
    const other = await w.call(actors.streetOperator('440103002'), 'GET', url());
    expect(other.status).toBe(404);
  });

  it('locks the rule once voting opens and takes one vote per resident', async () => {
    const early = await w.call(street, 'POST', url('/votes'), { voter: '440103199001011234', group: 'general-public', approvals: [p.P1] });
    expect([early.status, early.body.code]).toEqual([409, 'BALLOT_NOT_OPEN']);
    ballot = ok(await w.call(street, 'POST', url('/open'), undefined, { 'if-match': `"v${ballot.version}"` }), 200, 'open');
    expect(ballot.status).toBe('open');
    const locked = await w.call(street, 'PATCH', url(), { rule: { completion: 'none' } }, { 'if-match': `"v${ballot.version}"` });
    expect([locked.status, locked.body.code]).toEqual([409, 'BALLOT_LOCKED']);
    for (const [i, group, approvals] of [
      [1, 'general-public', [p.P1, p.P2, p.P3]],
      [2, 'general-public', [p.P1, p.P2, p.P3]],
      [3, 'general-public', [p.P1, p.P2, p.P3]],
      [4, 'elderly', [p.Q]],
    ] as const) {
      const voted = ok(await w.call(street, 'POST', url('/votes'), { voter: `1380000000${i}`, group, approvals }), 201, `vote ${i}`);
      expect(voted.votes).toBe(i);
      expect(JSON.stringify(voted)).not.toContain(`1380000000${i}`);
    }
    const twice = await w.call(street, 'POST', url('/votes'), { voter: '138 0000 0001', group: 'elderly', approvals: [p.Q] });
    expect([twice.status, twice.body.code]).toEqual([409, 'BALLOT_ALREADY_VOTED']);
    const unknown = await w.call(street, 'POST', url('/votes'), { voter: '13800000009', group: 'elderly', approvals: [w.fx.products.opera.id] });
    expect([unknown.status, unknown.body.code]).toEqual([422, 'BALLOT_UNKNOWN_OPTION']);
    const badGroup = await w.call(street, 'POST', url('/votes'), { voter: '13800000009', group: 'martians', approvals: [p.Q] });
    expect([badGroup.status, badGroup.body.code]).toEqual([422, 'BALLOT_UNKNOWN_GROUP']);
  });

  it('closes with the equal-shares result computed by hand, the baseline beside it, explained per voter group', async () => {
    const current = ok(await w.call(street, 'GET', url()), 200, 'read');
    ballot = ok(await w.call(street, 'POST', url('/close'), undefined, { 'if-match': `"v${current.version}"` }), 200, 'close');
    expect(ballot.status).toBe('closed');
    const { equalShares: es, mostVotes: mv, difference } = ballot.result;
    expect(es.funded.map((f: any) => [f.key, f.by, f.pricePerVoter])).toEqual([
      [p.P1, 'mes', 100],
      [p.P2, 'mes', 100],
      [p.Q, 'mes', 250],
    ]);
    expect([es.cost, es.leftover, es.perVoter]).toEqual([850, 150, 299]);
    expect(mv.funded.map((f: any) => f.key)).toEqual([p.P1, p.P2, p.P3]);
    expect([mv.cost, mv.leftover]).toEqual([900, 100]);
    expect(difference).toEqual({ onlyEqualShares: [p.Q], onlyMostVotes: [p.P3] });
    const byGroup = (o: any) => Object.fromEntries(o.groups.map((g: any) => [g.group, [g.voters, g.share, g.satisfied, g.spent, g.budgetShare]]));
    expect(byGroup(es)).toEqual({ elderly: [1, 0.25, 1, 250, 0.25], 'general-public': [3, 0.75, 3, 600, 0.6] });
    expect(byGroup(mv)).toEqual({ elderly: [1, 0.25, 0, 0, 0], 'general-public': [3, 0.75, 3, 900, 0.9] });
    const again = await w.call(street, 'POST', url('/votes'), { voter: '13800000008', group: 'elderly', approvals: [p.Q] });
    expect([again.status, again.body.code]).toEqual([409, 'BALLOT_NOT_OPEN']);
  });
});
