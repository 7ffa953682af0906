import { client, createTestDatabase, createTestServer, seedOrderingLoop, seedRegions, testDriver, TEST_REGIONS } from '@diandan/testing';
import { definePlugin } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';

describe('createTestServer', () => {
  it('boots the kernel on the suite’s driver, with the default test levels', async () => {
    const app = await createTestServer();
    try {
      expect(app.diandan.database.driver).toBe(testDriver());
      const res = await app.inject('/v1/deployment');
      expect(res.json().levels).toEqual(['city', 'district', 'street', 'community']);
      await seedRegions(app);
      expect(await app.diandan.services.regions.count()).toBe(TEST_REGIONS.length);
    } finally {
      await app.close();
    }
  });

  it('gives every server a database of its own', async () => {
    const [a, b] = await Promise.all([createTestServer(), createTestServer()]);
    try {
      await seedRegions(a);
      expect(await a.diandan.services.regions.count()).toBe(TEST_REGIONS.length);
      expect(await b.diandan.services.regions.count()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('drops its database only after the kernel has closed (plugins and job runner still reach it while closing)', async () => {
    // On PostgreSQL the drop (`with (force)`) cuts every connection: done first, the job
    // runner's stop lost its connections (and once hung) and plugins closed on a dead database.
    const seen: string[] = [];
    const probe = definePlugin({
      name: 'close-probe',
      version: '1.0.0',
      kernel: '^0.1.0',
      init: (ctx) => ({ db: ctx.db }),
      close: async (_ctx, { db }) => {
        try {
          await db.execute(sql`select 1`);
          seen.push('reached');
        } catch (error) {
          seen.push(`failed: ${(error as Error).message}`);
        }
      },
    });
    const app = await createTestServer({ plugins: [probe.configure()] });
    await app.close();
    expect(seen).toEqual(['reached']);
  });
});

describe('createTestDatabase', () => {
  it('keeps data across servers when persistent, and drop() removes it', async () => {
    const database = await createTestDatabase({ persistent: true });
    try {
      const first = await createTestServer({ database: database.config });
      await seedRegions(first);
      await first.close();
      const second = await createTestServer({ database: database.config });
      expect(await second.diandan.services.regions.count()).toBe(TEST_REGIONS.length);
      await second.close();
    } finally {
      await database.drop();
    }
  });

  it.runIf(testDriver() === 'postgres')('creates a fresh Postgres database and drops it', async () => {
    const database = await createTestDatabase();
    const name = new URL(database.config.url!).pathname.slice(1);
    const admin = postgres(process.env.DATABASE_URL!, { max: 1 });
    try {
      expect(await admin`select 1 from pg_database where datname = ${name}`).toHaveLength(1);
      await database.drop();
      expect(await admin`select 1 from pg_database where datname = ${name}`).toHaveLength(0);
    } finally {
      await admin.end();
    }
  });
});

describe('seedOrderingLoop', () => {
  it('puts an ordering loop in place through the services: one order in each state, audited as system:testing', async () => {
    const app = await createTestServer();
    try {
      const fixture = await seedOrderingLoop(app);
      const call = client(app);
      expect(Object.fromEntries(Object.entries(fixture.orders).map(([state, o]) => [state, o.status]))).toEqual({
        draft: 'draft',
        submitted: 'submitted',
        approving: 'approving',
        approved: 'approved',
        scheduled: 'scheduled',
        delivered: 'delivered',
        closed: 'closed',
        rejected: 'rejected',
        cancelled: 'cancelled',
      });
      // The unit's operator sees its orders over HTTP; the other district's admin does not.
      const own = await call(fixture.units.community.user, 'GET', '/v1/orders?limit=50');
      expect(own.body.items).toHaveLength(9);
      expect((await call(fixture.staff.otherDistrictAdmin, 'GET', `/v1/orders/${fixture.orders.approved.id}`)).status).toBe(404);
      const budget = await call(fixture.staff.streetOperator, 'GET', `/v1/budgets/${fixture.year}/440103001001`);
      // approving, approved and scheduled hold their cost; delivered and closed spent it.
      expect(budget.body).toMatchObject({ allocated: 100_000, reserved: 3000, spent: 2000 });
      const audit = await call(fixture.staff.cityAdmin, 'GET', '/v1/audit-log?actorId=system:testing&limit=5');
      expect(audit.body.items[0]).toMatchObject({ actorId: 'system:testing', actorRoles: expect.arrayContaining(['system']) });
    } finally {
      await app.close();
    }
  });
});
