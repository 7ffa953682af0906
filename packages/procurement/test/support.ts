import { actors, client, createTestServer, ifMatch, seedOrderingLoop, type Call, type LoopFixture, type Who } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { procurement, type Services } from '../src/index.js';

/** The standstill of test projects: tests move the clock past it. */
export const STANDSTILL_DAYS = 7;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface World {
  app: FastifyInstance;
  call: Call;
  fx: LoopFixture;
  /** Four active suppliers: the fixture's troupe and studio, and two more. */
  suppliers: { id: string; user: Who }[];
  admin: Who;
  otherAdmin: Who;
  cityAdmin: Who;
  buyerUnitId: string;
}

export async function boot(options: Parameters<typeof procurement>[0] = {}): Promise<World> {
  const app = await createTestServer({ plugins: [procurement({ standstillDays: STANDSTILL_DAYS, ...options })], ...(process.env.TEST_LOG ? { logger: { level: 'error' } } : {}) });
  const fx = await seedOrderingLoop(app);
  const kernel = app.diandan.services;
  const city = await kernel.access.systemActor('testing', { roles: ['city-admin'], region: '440100' });
  const more = [];
  for (const name of ['测试民乐团（虚构）', '测试书画社（虚构）']) {
    const s = await kernel.suppliers.create({ name, kind: 'troupe' }, { actor: city });
    more.push({ id: s.id, user: actors.supplier(s.id, '440100', `user-of-${name}`) });
  }
  return {
    app,
    call: client(app),
    fx,
    suppliers: [fx.suppliers.troupe, fx.suppliers.studio, ...more],
    admin: actors.districtAdmin('440103'),
    otherAdmin: actors.districtAdmin('440104'),
    cityAdmin: actors.cityAdmin(),
    buyerUnitId: fx.units.street.id,
  };
}

/** The plugin's started services (its clock among them). */
export function services(app: FastifyInstance): Services {
  return app.diandan.plugins.find((p) => p.definition.name === 'procurement')!.services as Services;
}

/** The procurement clock's time (the database's, plus what the tests moved it forward). */
export async function dbNow(app: FastifyInstance): Promise<Date> {
  return services(app).clock.now();
}

/** Moves the procurement clock past `at`: a deadline passes without waiting for it. */
export async function passDeadline(app: FastifyInstance, at: string | Date): Promise<void> {
  await services(app).clock.advancePast(at);
}

/** A valid project body; override what a test cares about. */
export function projectBody(w: World, overrides: Record<string, unknown> = {}, at: { enquiryEnd: Date; tenderEnd: Date }): Record<string, unknown> {
  return {
    buyerUnitId: w.buyerUnitId,
    method: 'open-tender',
    title: '2027年社区粤剧巡演服务采购（测试）',
    description: '为街道各社区采购粤剧巡演服务（测试数据，虚构）',
    category: 'performance',
    estimate: 100_000,
    lots: [{ id: 'L1', title: '粤剧巡演', value: 100_000 }],
    items: [{ id: 'I1', description: '粤剧折子戏专场', category: 'performance', quantity: 10, unit: '场', relatedLot: 'L1' }],
    documents: [{ id: 'D1', documentType: 'tenderNotice', title: '招标公告', url: 'https://example.org/notice.pdf' }],
    panel: ['expert-a', 'expert-b'],
    priceWeight: 60,
    qualityWeight: 40,
    enquiryPeriodEnd: at.enquiryEnd.toISOString(),
    tenderPeriodEnd: at.tenderEnd.toISOString(),
    ...overrides,
  };
}

/** An evaluation panel member's token (any signed-in user whose `sub` is on the panel). */
export const expert = (sub: string): Who => actors.as(['reviewer'], '440100', { sub });

export function ok<T = any>(res: { status: number; body: T }, status: number, what: string): T {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(status);
  return res.body;
}

export { ifMatch };
