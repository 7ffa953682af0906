/** Shared test data and helpers. Every phone here is synthetic. */
import { expectStatus, testActors, type Call } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import type { VenueDetails } from '../src/index.js';

/** Personal data the tests store: none of it may ever appear in a response or a log line. */
export const PHONES = ['13800138000', '13912345678', '13700001111', '13600002222', '13500003333'] as const;

/** Weekdays 09:00–17:00, weekends 09:00–21:00. */
export const WEEKLY = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, opens: '09:00', closes: '17:00' })).concat([6, 7].map((weekday) => ({ weekday, opens: '09:00', closes: '21:00' })));

let serial = 0;
/** A kernel venue in `regionCode` (city admin), through the kernel's own route. */
export async function venue(call: Call, regionCode = '440103001', capacity = 200, kind = 'culture-centre'): Promise<any> {
  serial++;
  return expectStatus(await call(testActors.cityAdmin, 'POST', '/v1/venues', { regionCode, name: `测试文化馆${serial}（虚构）`, kind, capacity, address: `测试路${serial}号` }), 201, 'venue');
}

/** The plugin's services, for the clock and jobs. */
export function venuesOf(app: FastifyInstance) {
  const plugin = app.diandan.plugins.find((p) => p.definition.name === 'venues')!;
  return { ...(plugin.services as { details: VenueDetails } & Record<string, any>), context: plugin.context };
}

/** Waits until `check` holds (a durable delivery is a job). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
