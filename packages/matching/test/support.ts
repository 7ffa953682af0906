import { definePlugin, filter, kernel } from '@diandan/kernel';
import { client, createTestServer, expectStatus, listedProduct, seedOrderingLoop, type Call, type LoopFixture } from '@diandan/testing';
import { survey } from '@diandan/survey';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { matching, matchingConstraints, matchingPlugin, matchingScore, type Services } from '../src/index.js';

/** A region plugin as a city would write one: a monthly theme boost and a sub-brand share, through matching's filters. */
export const THEME_TAG = '主题月';
export const themePlugin = definePlugin({
  name: 'theme-month',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel, matching: matchingPlugin },
  hooks: () => [
    // This month's theme: products tagged with it are worth three times as much.
    filter(matchingScore, (candidates) => candidates.map((c) => (c.product.tags.includes(THEME_TAG) ? { ...c, value: c.value * 3 } : c))),
    filter(matchingConstraints, (floors, context) => (context.purpose === 'run' ? [...floors, { id: 'theme-elderly-share', kind: 'group-share' as const, group: 'elderly', share: 0.2 }] : floors)),
  ],
});

export interface World {
  app: FastifyInstance;
  call: Call;
  fx: LoopFixture;
  services: Services;
  /** Listed products beside the fixture's opera and workshop. */
  themed: { id: string };
  dance: { id: string };
}

export async function boot(options: Parameters<typeof matching>[0] = {}, extra: { survey?: boolean; theme?: boolean } = {}): Promise<World> {
  const app = await createTestServer({
    // Without the survey's unfilled-order demand: the fixture's rejected order would add
    // records whenever its durable delivery happens to land, and the tests count sources.
    plugins: [...(extra.survey ? [survey({ unfilledOrders: false })] : []), matching({ mipTimeLimitSeconds: 2, ...options }), ...(extra.theme ? [themePlugin.configure({})] : [])],
    ...(process.env.TEST_LOG ? { logger: { level: 'error' } } : {}),
  });
  const fx = await seedOrderingLoop(app);
  const call = client(app);
  // Two more performances for district 440103: one of this month's theme, one dance show.
  const themed = await listedProduct(call, fx.suppliers.troupe.user, { title: '主题月粤剧专场（测试）', tags: ['粤剧', THEME_TAG], costPerSession: 1500, targetGroups: ['elderly'] });
  const dance = await listedProduct(call, fx.suppliers.studio.user, { title: '广场舞展演（测试）', tags: ['舞蹈'], costPerSession: 900, targetGroups: ['general-public'], serviceableRegions: ['440100'] });
  // The street unit ordered too (revealed demand in a second region).
  const placed = expectStatus(
    await call(fx.units.street.user, 'POST', '/v1/orders', { unitId: fx.units.street.id, productId: fx.products.opera.id, venueId: fx.venues.street, windowStart: '2027-03-01', windowEnd: '2027-03-31', expectedAudience: 150 }),
    201,
    'street order',
  );
  expectStatus(await call(fx.units.street.user, 'POST', `/v1/orders/${placed.id}/submit`, undefined, { 'if-match': `"v${placed.version}"` }), 200, 'submit street order');
  const services = app.diandan.plugins.find((p) => p.definition.name === 'matching')!.services as Services;
  return { app, call, fx, services, themed, dance };
}

/** Polls a run until it is no longer solving (short sleeps), returning every state seen. */
export async function settle(w: World, who: Parameters<Call>[0], runId: string, timeoutMs = 60_000): Promise<{ run: any; seen: any[] }> {
  const seen: any[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const run = expectStatus(await w.call(who, 'GET', `/v1/matching/runs/${runId}`), 200, 'poll run');
    seen.push({ status: run.status, progress: run.progress, message: run.message });
    if (run.status !== 'solving') return { run, seen };
    if (Date.now() > end) throw new Error(`run ${runId} still solving after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function ok<T = any>(res: { status: number; body: T }, status: number, what: string): T {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}
