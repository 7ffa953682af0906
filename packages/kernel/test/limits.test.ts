/**
 * Protective limits: the feedback rate limit counted in the database (so it holds
 * across processes), load shedding, timeouts, and their validation.
 */
import { checkDeployment, isDatabaseUnavailable, pgErrorCode, queryRows } from '@diandan/kernel';
import { createTestDatabase, createTestServer, testDriver, type TestDatabase } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

const servers: FastifyInstance[] = [];
let shared: TestDatabase | undefined;
afterEach(async () => {
  for (const app of servers.splice(0)) await app.close();
  await shared?.drop();
  shared = undefined;
});
const serve = async (...args: Parameters<typeof createTestServer>) => {
  const app = await createTestServer(...args);
  servers.push(app);
  return app;
};
const feedback = (app: FastifyInstance) => app.inject({ method: 'POST', url: '/v1/feedback/no-such-token-123', payload: { rating: 5 } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the feedback rate limit', () => {
  it('counts in the database: a client over the limit gets 429 with Retry-After, and no address is stored', async () => {
    const app = await serve({ kernel: { feedbackPerMinute: 3 } });
    expect((await Promise.all([1, 2, 3].map(() => feedback(app)))).map((r) => r.statusCode)).toEqual([404, 404, 404]);
    const refused = await feedback(app);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const rows = await queryRows<{ key: string; hits: number }>(app.diandan.database.db, sql`select key, hits from kernel.rate_limits`);
    expect(rows).toEqual([{ key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), hits: 4 }]);
    expect(JSON.stringify(rows)).not.toContain('127.0.0.1');
  });

  it.skipIf(testDriver() !== 'postgres')('holds across processes sharing the database', async () => {
    shared = await createTestDatabase();
    const a = await serve({ database: shared.config, kernel: { feedbackPerMinute: 4 } });
    const b = await serve({ database: shared.config, kernel: { feedbackPerMinute: 4 } });
    const codes = [];
    for (const app of [a, b, a, b, a, b]) codes.push((await feedback(app)).statusCode);
    expect(codes).toEqual([404, 404, 404, 404, 429, 429]);
  });
});

describe('load shedding', () => {
  it('answers 503 SERVER_OVERLOADED with Retry-After while over a limit, but always serves /health', async () => {
    // A heap limit of one byte is always exceeded: the deterministic way to be "overloaded".
    const app = await serve({ http: { underPressure: { maxHeapUsedBytes: 1, sampleIntervalMs: 20, retryAfterSeconds: 7 } } });
    await sleep(150); // the grace after start-up (two sample intervals), and a sample
    const res = await app.inject({ method: 'GET', url: '/v1/regions/440100/children' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 503, code: 'SERVER_OVERLOADED', requestId: expect.any(String) });
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('does not shed load under the defaults, nor when turned off', async () => {
    for (const underPressure of [undefined, false as const]) {
      const app = await serve({ http: { underPressure } });
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    }
  });
});

describe('timeouts', () => {
  it('applies the request and connection timeouts (defaults 30 s and 60 s)', async () => {
    const byDefault = await serve();
    expect(byDefault.initialConfig).toMatchObject({ requestTimeout: 30_000, connectionTimeout: 60_000 });
    const custom = await serve({ http: { requestTimeoutMs: 5000, connectionTimeoutMs: 7000 } });
    expect(custom.initialConfig).toMatchObject({ requestTimeout: 5000, connectionTimeout: 7000 });
  });

  it.skipIf(testDriver() !== 'postgres')('cancels a statement over database.statementTimeoutMs (default 30 s)', async () => {
    shared = await createTestDatabase();
    const byDefault = await serve({ database: shared.config });
    expect(await queryRows(byDefault.diandan.database.db, sql`show statement_timeout`)).toEqual([{ statement_timeout: '30s' }]);
    const app = await serve({ database: { ...shared.config, statementTimeoutMs: 200 } });
    const failure = await queryRows(app.diandan.database.db, sql`select pg_sleep(2)`).catch((e: unknown) => e);
    expect(pgErrorCode(failure)).toBe('57014');
    expect(isDatabaseUnavailable(failure)).toBe(false); // a query error, not an outage: stays a 500
  });
});

describe('checkDeployment', () => {
  const base = { city: '广州市', levels: ['city'] };
  it.each([
    [{ database: { connectTimeoutMs: 5 } }, 'deployment.database.connectTimeoutMs: must be an integer from 100 to 60000'],
    [{ database: { statementTimeoutMs: -1 } }, 'deployment.database.statementTimeoutMs: must be an integer from 0 to 86400000'],
    [{ database: { maxConnections: 0 } }, 'deployment.database.maxConnections: must be an integer from 1 to 1000'],
    [{ auth: { secret: 'x'.repeat(32), tokenCacheSeconds: -1 } }, 'deployment.auth.tokenCacheSeconds: must be an integer from 0 to 3600'],
    [{ http: { requestTimeoutMs: 1.5 } }, 'deployment.http.requestTimeoutMs: must be an integer from 0 to 3600000'],
    [{ http: { underPressure: { maxEventLoopDelay: 10 } } }, 'deployment.http.underPressure.maxEventLoopDelay: is not a known limit'],
    [{ http: { underPressure: { maxEventLoopUtilization: 2 } } }, 'deployment.http.underPressure.maxEventLoopUtilization: must be a number from 0 to 1'],
  ])('refuses %j', (extra, message) => {
    let error: unknown;
    try {
      checkDeployment({ ...base, ...extra } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_DEPLOYMENT_INVALID', message: `DIANDAN_ERR_DEPLOYMENT_INVALID: ${message}` });
  });
  it('accepts the documented keys', () => {
    expect(() =>
      checkDeployment({
        ...base,
        database: { maxConnections: 20, statementTimeoutMs: 0, connectTimeoutMs: 1500 },
        http: { requestTimeoutMs: 10_000, connectionTimeoutMs: 0, underPressure: { maxEventLoopDelayMs: 500, maxEventLoopUtilization: 0.95 } },
      }),
    ).not.toThrow();
  });
});
