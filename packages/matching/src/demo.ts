import type { KernelServices, PluginContext } from '@diandan/kernel';
import type { Services } from './plugin.js';

/** What the demo needs from the plugin's context. */
export type DemoContext = Pick<PluginContext<unknown, { kernel: KernelServices }>, 'deps' | 'systemActor' | 'log'>;

/**
 * Seeds, once, into a deployment with units and listed products but no run yet (the
 * Guangzhou demo): a city-wide run over this year's months with orders (solved by the
 * worker job in the background), and a residents' ballot for the street of the first
 * street-level unit, with twelve synthetic votes, closed so that both rules' results
 * show. Everything is fictitious (虚构); voters are made-up identifiers.
 */
export async function seedMatchingDemo(ctx: DemoContext, s: Services): Promise<void> {
  const k = ctx.deps.kernel;
  const city = await ctx.systemActor({ roles: ['city-admin'] });
  if ((await s.matching.listRuns({ page: { limit: 1 } }, { actor: city })).items.length > 0) return;
  const top = (await k.regions.root())?.code;
  const units = (await k.units.list({ page: { limit: 100 } }, { actor: city })).items;
  if (!units.length) {
    ctx.log.info('matching demo skipped: it needs units');
    return;
  }
  const orders = (await k.orders.list({ page: { limit: 200 } }, { actor: city })).items;
  const year = new Date().getUTCFullYear();
  const periods = [...new Set(orders.map((o) => o.windowStart.slice(0, 7)).filter((p) => p.startsWith(String(year))))].sort();
  const regionCode = top ?? city.region;
  const run = await s.matching.startRun({ regionCode, periods: periods.length ? periods : [`${year}-01`], year }, { actor: city });
  ctx.log.info({ runId: run.id }, 'matching demo: a run was started');

  const located = await Promise.all(units.map(async (u) => ({ unit: u, level: (await k.regions.locate(u.regionCode))?.level })));
  const street = located.find((x) => x.level === 'street')?.unit.regionCode;
  if (!street) return;
  const products = (await k.products.list({ status: 'listed', region: street, page: { limit: 6 } }, { actor: city })).items;
  if (products.length < 2) return;
  const budget = Math.round(products.reduce((sum, p) => sum + p.costPerSession, 0) * 0.5);
  let ballot = await s.ballots.create({ regionCode: street, title: `${year}年街道居民点单（演示，虚构）`, budget, options: products.map((p) => ({ productId: p.id })) }, { actor: city });
  ballot = await s.ballots.act({ id: ballot.id, action: 'open', expectedVersion: ballot.version }, { actor: city });
  const keys = ballot.options.map((o) => o.key);
  const groups = ['general-public', 'elderly', 'youth'];
  for (let i = 0; i < 12; i++) {
    // A majority approving the first options, a minority the last: where equal shares differs.
    const approvals = i < 8 ? keys.slice(0, Math.max(1, keys.length - 1)) : keys.slice(-1);
    await s.ballots.vote({ id: ballot.id, voter: `demo-voter-${i}`, group: groups[i < 8 ? i % 2 : 2]!, approvals }, { actor: city });
  }
  await s.ballots.act({ id: ballot.id, action: 'close', expectedVersion: ballot.version }, { actor: city });
  ctx.log.info({ ballotId: ballot.id }, 'matching demo: a residents’ ballot was seeded');
}
