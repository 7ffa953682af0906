import { createTestDatabase, createTestServer, seedRegions, testDriver, TEST_REGIONS } from '@diandan/testing';
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
