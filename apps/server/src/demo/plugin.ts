import { definePlugin, kernel, transaction, Type, type Actor, type PluginOptions, type SystemGrant } from '@diandan/kernel';
import { demoBudgets, demoOrders, DEMO_PRODUCTS, DEMO_SUPPLIERS, DEMO_UNITS, DEMO_VENUES } from './catalogue.js';
import { seedDemoDeliveries } from './deliveries.js';
import { guangzhouDemoRegions } from './guangzhou.js';

const config = Type.Object({
  /** Seed the demo data into an empty database on start. */
  seed: Type.Boolean({ default: true }),
});

/**
 * Seeds Guangzhou's demo region tree, units, venues, suppliers, listed products,
 * budgets and orders the first time the server starts on an empty database — through
 * the kernel's services, by system actors holding the roles a person would need, as
 * any region plugin would (the audit log shows `system:demo-data`).
 */
export const demoDataPlugin = definePlugin({
  name: 'demo-data',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel },
  config,
  // The deliveries and feedback of the demo year: a job, so the server is up while they are written.
  init: (ctx) => ({
    seedDeliveries: ctx.jobs.define<{ year: number }>(
      'seed-deliveries',
      async (job) => {
        const seeded = await seedDemoDeliveries(ctx, ctx.deps.kernel, job.data.year);
        ctx.log.info(seeded, 'seeded the demo year of deliveries and feedback');
        return seeded;
      },
      { retryLimit: 2 },
    ),
  }),
  async ready(ctx, { seedDeliveries }) {
    if (!ctx.config.seed) return;
    const { regions, suppliers, units, venues, products, budgets, orders } = ctx.deps.kernel;
    if ((await regions.count()) > 0) return;
    const result = await regions.import(guangzhouDemoRegions());
    // Every actor first (granting one reads the region tree, outside any transaction)…
    const city = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
    const reviewer = await ctx.systemActor({ roles: ['reviewer'], region: '440100' });
    const supplierActors = new Map<string, Actor>();
    for (const { supplierId } of DEMO_PRODUCTS) {
      if (!supplierActors.has(supplierId)) supplierActors.set(supplierId, await ctx.systemActor({ roles: ['supplier'], supplier: supplierId }));
    }
    // Each budget is allocated by the staff of the region above it (the city's own by a city admin).
    const allocators: Record<string, SystemGrant> = {
      '440100': { roles: ['city-admin'], region: '440100' },
      '440103': { roles: ['city-admin'], region: '440100' },
      '440103001': { roles: ['district-admin'], region: '440103' },
      '440103001001': { roles: ['street-operator'], region: '440103001' },
    };
    const allocatorActors = new Map<string, Actor>();
    for (const [code, grant] of Object.entries(allocators)) allocatorActors.set(code, await ctx.systemActor(grant));
    const operator = await ctx.systemActor({ roles: ['unit-operator'], region: DEMO_UNITS[0].regionCode, unit: DEMO_UNITS[0].id });
    const year = new Date().getFullYear();
    // …then the rest of the seed in one transaction: all of it or none of it, and one
    // commit instead of ~60 (what most of the seed's time went to on PGlite).
    await transaction(ctx.db, async (tx) => {
      for (const supplier of DEMO_SUPPLIERS) await suppliers.create(supplier, { actor: city, tx });
      for (const unit of DEMO_UNITS) await units.create(unit, { actor: city, tx });
      for (const venue of DEMO_VENUES) await venues.create({ ...venue, location: null }, { actor: city, tx });
      for (const { supplierId, ...content } of DEMO_PRODUCTS) {
        const actor = supplierActors.get(supplierId)!;
        let product = await products.create(
          { ...content, targetGroups: [...content.targetGroups], serviceableRegions: [...content.serviceableRegions], tags: [...content.tags], media: [] },
          { actor, tx },
        );
        for (const [action, by] of [['submit', actor], ['startReview', reviewer], ['list', reviewer]] as const) {
          product = await products.transition({ id: product.id, action, expectedVersion: product.version }, { actor: by, tx });
        }
      }
      for (const budget of demoBudgets(year)) {
        await budgets.allocate(budget, { actor: allocatorActors.get(budget.regionCode)!, tx });
      }
      for (const { submit, ...order } of demoOrders(year)) {
        const placed = await orders.place(order, { actor: operator, tx });
        if (submit && 'order' in placed) await orders.act({ id: placed.order.id, action: 'submit', expectedVersion: placed.order.version }, { actor: operator, tx });
      }
    });
    ctx.log.info(
      { regions: result.created, units: DEMO_UNITS.length, venues: DEMO_VENUES.length, suppliers: DEMO_SUPPLIERS.length, products: DEMO_PRODUCTS.length },
      'seeded the Guangzhou demo data (everything below district level is synthetic)',
    );
    // Delivered orders with feedback across the districts, so the report (服务年报) has a year
    // to show: a few hundred service calls in one transaction (~2 s on PGlite), so not on
    // the start-up path — 10 s later, when the server is listening (on PGlite it would
    // otherwise hold the one connection while the other plugins seed). GET /v1/jobs shows it.
    await ctx.jobs.send(seedDeliveries, { year }, { singletonKey: `demo-deliveries-${year}`, startAfter: 10 });
  },
});

/** Factory for diandan.config.ts. */
export const demoData = (options: PluginOptions<typeof config> = {}) => demoDataPlugin.configure(options);
