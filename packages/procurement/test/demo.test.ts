/** The demo seed: one synthetic project per method, moving through the stages by itself. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedProcurementDemo, type Services } from '../src/index.js';
import { boot, type World } from './support.js';

let w: World;
beforeAll(async () => {
  w = await boot();
});
afterAll(() => w?.app.close());

describe('the procurement demo', () => {
  it('seeds a project per method and advances the short tenders to contracts, a call-off and completion', async () => {
    // The plugin's own context and services, as its kernel.ready handler uses them.
    const started = w.app.diandan.plugins.find((p) => p.definition.name === 'procurement')!;
    const ctx = started.context;
    const services = started.services as Services;
    // The demo's pauses move the procurement clock instead of waiting.
    const pause = async (ms: number) => services.clock.advance(ms);
    const seeded = await seedProcurementDemo(ctx, services, { pause });
    const list = async () => (await w.call(w.admin, 'GET', '/v1/procurement/projects?limit=50')).body.items as any[];
    const first = await list();
    expect(first.map((p) => p.method).sort()).toEqual(['competitive-consultation', 'competitive-negotiation', 'inquiry', 'open-tender', 'open-tender', 'single-source', 'targeted-commission']);
    // Seeding again changes nothing.
    expect(await seedProcurementDemo(ctx, services, { pause })).toBeUndefined();
    expect(await list()).toHaveLength(7);
    await seeded!.advanced;
    const statuses = Object.fromEntries((await list()).map((p) => [p.title, p.status]));
    expect(statuses).toEqual({
      '社区粤剧巡演服务（虚构）': 'complete',
      '非遗展演服务（虚构）': 'awarded',
      '全民阅读推广活动（虚构）': 'evaluation',
      '年度点单演出框架协议（虚构）': 'awarded',
      '文化站音响设备维护服务（虚构）': 'published',
      '非遗传承人专场演出（虚构）': 'published',
      '暑期少儿艺术培训（虚构）': 'draft',
    });
    const framework = (await list()).find((p) => p.framework);
    const contracts = (await w.call(null, 'GET', `/v1/procurement/projects/${framework.id}/contracts`)).body.items;
    expect(contracts[0].calledOff).toBeGreaterThan(0);
  });
});
