import { definePlugin, kernel, kernelTables, transaction, Type, type PluginOptions } from '@diandan/kernel';
import { demoBudgets, demoOrders, DEMO_PRODUCTS, DEMO_SUPPLIERS, DEMO_UNITS, DEMO_VENUES } from './catalogue.js';
import { guangzhouDemoRegions } from './guangzhou.js';

const config = Type.Object({
  /** Seed the demo region tree into an empty database on start. */
  seed: Type.Boolean({ default: true }),
});

/**
 * Seeds Guangzhou's demo region tree, units, venues, suppliers, listed products and
 * budgets and orders the first time the server starts on an empty database. Written against the plugin contract like any region plugin would be.
 */
export const demoDataPlugin = definePlugin({
  name: 'demo-data',
  version: '0.1.0',
  kernel: '^0.1.0',
  config,
  async ready(ctx) {
    if (!ctx.config.seed) return;
    const regions = ctx.services.get(kernel).regions;
    if ((await regions.count()) > 0) return;
    const result = await regions.import(guangzhouDemoRegions());
    await transaction(ctx.db, async (tx) => {
      await tx.insert(kernelTables.suppliers).values([...DEMO_SUPPLIERS]);
      await tx.insert(kernelTables.units).values([...DEMO_UNITS]);
      await tx.insert(kernelTables.venues).values([...DEMO_VENUES]);
      await tx.insert(kernelTables.products).values(DEMO_PRODUCTS.map((p) => ({ ...p, targetGroups: [...p.targetGroups], serviceableRegions: [...p.serviceableRegions], tags: [...p.tags] })));
      const year = new Date().getFullYear();
      await tx.insert(kernelTables.budgets).values(demoBudgets(year));
      await tx.insert(kernelTables.orders).values(demoOrders(year));
    });
    ctx.log.info(
      { regions: result.created, units: DEMO_UNITS.length, venues: DEMO_VENUES.length, suppliers: DEMO_SUPPLIERS.length, products: DEMO_PRODUCTS.length },
      'seeded the Guangzhou demo data (everything below district level is synthetic)',
    );
  },
});

/** Factory for diandan.config.ts. */
export const demoData = (options: PluginOptions<typeof config> = {}) => demoDataPlugin.configure(options);
