/** The synthetic Guangzhou demo: seeded through the services, marked synthetic, once across restarts. */
import { sql } from 'drizzle-orm';
import { queryRows } from '@diandan/kernel';
import { createTestServer, seedRegions } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MARKER, DEMO_RESPONSES, seedSurveyDemo, survey } from '../src/index.js';
import { surveyOf } from './support.js';

let app: FastifyInstance;

beforeAll(async () => {
  // The demo is on: at start-up the tree is still empty, so it waits for a tree (skipped).
  app = await createTestServer({ plugins: [survey({ demo: true })] });
  await seedRegions(app);
});
afterAll(() => app?.close());

describe('the survey demo', () => {
  it('seeds a synthetic questionnaire with a few hundred responses across streets and groups, once', async () => {
    const s = surveyOf(app) as ReturnType<typeof surveyOf> & { requests: never };
    const ctx = s.context as unknown as Parameters<typeof seedSurveyDemo>[0];
    const db = app.diandan.database.db;
    const count = async () => (await queryRows<{ q: number; r: number; streets: number; groups: number }>(db, sql`select (select count(*)::int from survey.questionnaires) as q, (select count(*)::int from survey.responses where status = 'completed') as r, (select count(distinct region_code)::int from survey.responses) as streets, (select count(distinct group_key)::int from survey.responses) as groups`))[0]!;
    expect((await count()).q).toBe(0);
    await seedSurveyDemo(ctx, s as never);
    const first = await count();
    expect(first).toMatchObject({ q: 1, r: DEMO_RESPONSES });
    expect(first.streets).toBeGreaterThan(1);
    expect(first.groups).toBeGreaterThanOrEqual(5);
    const [def] = await queryRows<{ title: string }>(db, sql`select json->'title'->>'en' as title from survey.definitions`);
    expect(def!.title).toContain(DEMO_MARKER);
    const demand = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from survey.demand_records`);
    expect(demand[0]!.n).toBeGreaterThan(DEMO_RESPONSES);
    // A restart (the seed runs again): nothing more.
    await seedSurveyDemo(ctx, s as never);
    expect(await count()).toEqual(first);
  });
});
