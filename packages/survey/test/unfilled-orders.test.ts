/**
 * Rejected kernel orders become demand records (source `unfilled-orders`) through a
 * durable subscription: once per rejection, for the product's category and groups, in
 * the order's month; cancellations and deliveries leave none.
 */
import { client, createTestServer, expectStatus, ifMatch, seedOrderingLoop, type LoopFixture } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { survey, UNFILLED_ORDER_SOURCE } from '../src/index.js';
import { eventually } from './support.js';

let app: FastifyInstance;
let f: LoopFixture;

beforeAll(async () => {
  app = await createTestServer({ plugins: [survey()] });
  // One rejected order (the opera product: performance, for the elderly and the general
  // public; the community unit in 440103001001; March 2027; 100 expected) and one cancelled.
  f = await seedOrderingLoop(app, { year: 2027 });
});
afterAll(() => app?.close());

type Row = { source: string; regionCode: string; group: string; category: string; period: string; weight: number; tags: string[] };
const unfilled = async (): Promise<Row[]> => {
  const res = expectStatus(await client(app)(f.staff.cityAdmin, 'GET', '/v1/demand-records?limit=200'), 200, 'records');
  return (res.items as Row[]).filter((r) => r.source === UNFILLED_ORDER_SOURCE);
};

describe('unfilled orders', () => {
  it('turns the rejected order into demand for its category and groups, weighted like a request for its audience', async () => {
    const rows = await eventually(async () => ((await unfilled()).length >= 2 ? unfilled() : undefined), 'the rejected order’s demand');
    // 100 expected / 10 per weight unit = 10, shared by the product's two groups.
    expect(rows.map(({ regionCode, group, category, period, weight }) => ({ regionCode, group, category, period, weight })).sort((a, b) => a.group.localeCompare(b.group))).toEqual([
      { regionCode: '440103001001', group: 'elderly', category: 'performance', period: '2027-03', weight: 5 },
      { regionCode: '440103001001', group: 'general-public', category: 'performance', period: '2027-03', weight: 5 },
    ]);
    expect(rows[0]!.tags).toEqual(f.products.opera.tags);
  });

  it('adds demand once per rejection, and none for a cancellation', async () => {
    const call = client(app);
    await eventually(async () => (await unfilled()).length >= 2, 'the seeded rejection');
    const cancelled = await call(f.units.community.user, 'POST', `/v1/orders/${f.orders.draft.id}/cancel`, { reason: '测试：改期' }, ifMatch(f.orders.draft));
    expectStatus(cancelled, 200, 'cancel');
    const rejected = await call(f.staff.streetOperator, 'POST', `/v1/orders/${f.orders.submitted.id}/reject`, { reason: '测试：预算不足' }, ifMatch(f.orders.submitted));
    expectStatus(rejected, 200, 'reject');
    const rows = await eventually(async () => ((await unfilled()).length >= 4 ? unfilled() : undefined), 'the second rejection’s demand');
    expect(rows).toHaveLength(4);
    // The cancellation was in the same queue before the rejection: had it counted, it would be here too.
    expect((await unfilled()).length).toBe(4);
  });
});
