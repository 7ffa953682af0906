/**
 * The database going away under a running process: on a throw-away PostgreSQL server
 * of the test's own (never the shared one), killed with SIGKILL or stopped with
 * `pg_ctl stop -m immediate`, then started again.
 */
import {
  isDatabaseUnavailable,
  openDatabase,
  queryRows,
  transaction,
  DatabaseUnavailableError,
  type DatabaseConnection,
} from '@diandan/kernel';
import { createTestServer, postgresBinDir, seedRegions, startTemporaryPostgres, type TemporaryPostgres } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const hasPostgres = postgresBinDir() !== undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` until it resolves, up to `ms`; returns how long that took. */
async function until(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await fn();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > ms) throw error;
      await sleep(20);
    }
  }
}

// Errors thrown outside any promise (the postgres.js defect this guards against)
// would end a real server; here they are collected and fail the test.
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => void uncaught.push(error);

describe.skipIf(!hasPostgres)('the database going away', () => {
  let pg: TemporaryPostgres;
  beforeAll(async () => {
    pg = await startTemporaryPostgres();
  });
  afterAll(async () => {
    await pg?.destroy();
  });
  beforeEach(() => {
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    if (!pg.pid) await pg.start();
  });

  describe('the connection', () => {
    let connection: DatabaseConnection;
    beforeAll(async () => {
      connection = await openDatabase({ url: pg.url, maxConnections: 6 });
    });
    afterAll(async () => {
      await connection?.close();
    });

    for (const [how, stop] of [
      ['SIGKILL of the postmaster', () => pg.kill()],
      ['pg_ctl stop -m immediate', () => pg.stopImmediate()],
    ] as const) {
      it(`survives transactions losing their connection (${how}), fails them as unavailable, and recovers`, async () => {
        for (let round = 0; round < 3; round++) {
          const running = Array.from({ length: 6 }, (_, i) =>
            transaction(connection.db, async (tx) => {
              await tx.execute(sql`select ${i}::int`);
              await tx.execute(sql`select pg_sleep(10)`);
            }).then(
              () => 'committed',
              (error: unknown) => error,
            ),
          );
          await sleep(200);
          await stop();
          const outcomes = await Promise.all(running);
          for (const outcome of outcomes) expect(isDatabaseUnavailable(outcome), String(outcome)).toBe(true);
          // Let the driver's deferred writes (the transactions' own ROLLBACKs) run.
          await sleep(100);
          expect(uncaught).toEqual([]);

          // While it is down, queries fail at once and ping answers within a second.
          const started = Date.now();
          await expect(queryRows(connection.db, sql`select 1`)).rejects.toSatisfy(isDatabaseUnavailable);
          await expect(connection.ping({ timeoutMs: 1000 })).rejects.toSatisfy(isDatabaseUnavailable);
          expect(Date.now() - started).toBeLessThan(2000);

          await pg.start();
          const back = await until(() => connection.ping(), 3000);
          expect(back).toBeLessThan(1000);
          expect(await queryRows(connection.db, sql`select 2 as two`)).toEqual([{ two: 2 }]);
          expect(connection.available).toBe(true);
        }
        expect(uncaught).toEqual([]);
      });
    }

    it('fails at once, without trying, while it knows the database is down', async () => {
      await pg.kill();
      // The first failures may be connections lost while open; the next connection
      // attempt is refused, and from then on the process knows.
      await until(async () => {
        await expect(queryRows(connection.db, sql`select 1`)).rejects.toSatisfy(isDatabaseUnavailable);
        if (connection.available) throw new Error('not known to be down yet');
      }, 2000);
      const started = performance.now();
      const failures = await Promise.all(Array.from({ length: 50 }, () => queryRows(connection.db, sql`select 1`).catch((e: unknown) => e)));
      expect(performance.now() - started).toBeLessThan(200);
      expect(failures.every((e) => isDatabaseUnavailable(e))).toBe(true);
      expect(failures.some((e) => (e as Error).cause instanceof DatabaseUnavailableError)).toBe(true);
      await pg.start();
      expect(await until(() => queryRows(connection.db, sql`select 1`), 3000)).toBeLessThan(1000);
    });

    it('listens again by itself after the database comes back, and says so', async () => {
      const heard: string[] = [];
      let listens = 0;
      const unlisten = await connection.listen('diandan_fault_test', (payload) => heard.push(payload), () => listens++);
      expect(listens).toBe(1);
      await pg.kill();
      await sleep(300);
      await pg.start();
      await until(async () => {
        if (listens < 2) throw new Error('not listening again yet');
      }, 3000);
      const other = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        await other`select pg_notify('diandan_fault_test', 'after the outage')`;
      } finally {
        await other.end();
      }
      await until(async () => {
        if (!heard.includes('after the outage')) throw new Error('not heard yet');
      }, 2000);
      await unlisten();
      expect(uncaught).toEqual([]);
    });
  });

  describe('over HTTP', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await createTestServer({ database: { url: pg.url, maxConnections: 4 } });
      await seedRegions(app).catch(() => {}); // already there on a second run against the same server
    });
    afterAll(async () => {
      await app?.close();
    });

    it('answers 503 DATABASE_UNAVAILABLE with Retry-After, /ready within a second, and is ready again within a second', async () => {
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
      await pg.stopImmediate();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await app.inject({ method: 'GET', url: '/v1/regions/440100/children' });
        expect(Date.now() - started).toBeLessThan(3000);
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.json()).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', requestId: expect.any(String) });

        const readyStarted = Date.now();
        const ready = await app.inject({ method: 'GET', url: '/ready' });
        expect(Date.now() - readyStarted).toBeLessThan(1000);
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      }
      await pg.start();
      const back = await until(async () => {
        const res = await app.inject({ method: 'GET', url: '/ready' });
        if (res.statusCode !== 200) throw new Error(`ready: ${res.statusCode}`);
      }, 3000);
      expect(back).toBeLessThan(1000);
      expect((await app.inject({ method: 'GET', url: '/v1/regions/440100/children' })).statusCode).toBe(200);
      expect(uncaught).toEqual([]);
    });
  });
});
