import type { PluginContext } from '@diandan/kernel';
import type { Services } from './plugin.js';

/** Seeds one synthetic project per method (filled in below). */
export async function seedProcurementDemo(_ctx: PluginContext<any, any>, _services: Services): Promise<void> {}
