// The server side every package's HTTP bench shares: a deployment of the given plugins on
// DATABASE_URL, listening on PORT and HOST (what `startServer` in lib.mjs hands the script),
// with the test levels, a pool of 20 connections, the testing package's keys and warnings
// only. Kept apart from lib.mjs, so the load generator does not load the kernel.
import { serve } from '@diandan/kernel';
import { TEST_AUTH_SECRET, TEST_PERSONAL_DATA_KEY } from '@diandan/testing';

/** Serves `plugins` for a benchmark; `authSecret` when the load generator mints its own tokens. */
export function serveBench(plugins, { authSecret = TEST_AUTH_SECRET } = {}) {
  return serve(
    {
      city: 'Bench City',
      levels: ['city', 'district', 'street', 'community'],
      database: { url: process.env.DATABASE_URL, maxConnections: 20 },
      auth: { secret: authSecret },
      personalData: { key: TEST_PERSONAL_DATA_KEY },
      plugins,
      logger: { level: process.env.LOG_LEVEL ?? 'warn' },
    },
    { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' },
  );
}
