import { definePlugin, kernel, Type, type PluginOptions } from '@diandan/kernel';

import { guangzhouDemoRegions } from './guangzhou.js';

const config = Type.Object({
  /** Seed the demo region tree into an empty database on start. */
  seed: Type.Boolean({ default: true }),
});

/**
 * Seeds Guangzhou's demo region tree the first time the server starts on an empty
 * database. Written against the plugin contract like any region plugin would be.
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
    ctx.log.info({ regions: result.created }, 'seeded the Guangzhou demo region tree (streets and communities are synthetic)');
  },
});

/** Factory for diandan.config.ts. */
export const demoData = (options: PluginOptions<typeof config> = {}) => demoDataPlugin.configure(options);
