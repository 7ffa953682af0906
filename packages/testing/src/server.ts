import { createServer, type Deployment } from '@diandan/kernel';
import type { FastifyInstance } from 'fastify';
import { TEST_AUTH_SECRET } from './auth.js';
import { TEST_PERSONAL_DATA_KEY } from './personal-data.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { captureLogger } from './log-capture.js';

/** A deployment for tests; everything but `plugins` has a default (`personalData` uses `TEST_PERSONAL_DATA_KEY`). */
export type TestDeployment = Partial<Deployment>;

/** Levels of the default test deployment (Guangzhou's four). */
export const TEST_LEVELS = ['city', 'district', 'street', 'community'] as const;

/**
 * Boots a server with the given plugins on a fresh database (see
 * `createTestDatabase`). It logs nothing, unless log capture is on
 * (`DIANDAN_TEST_LOG_DIR`, see `logScanGlobalSetup`). Closing the server drops the database, unless one was passed
 * in `deployment.database` — then the caller owns it.
 *
 * ```ts
 * const app = await createTestServer({ plugins: [survey()] });
 * const res = await app.inject({ method: 'GET', url: '/v1/surveys' });
 * await app.close();
 * ```
 */
export async function createTestServer(deployment: TestDeployment = {}): Promise<FastifyInstance> {
  let owned: TestDatabase | undefined;
  const database = deployment.database ?? (owned = await createTestDatabase()).config;
  // With DIANDAN_TEST_LOG_DIR set (see logScanGlobalSetup), a server that would log
  // nothing logs everything, to a file that the end of the run scans for personal data.
  const logger = deployment.logger === undefined || deployment.logger === false ? (captureLogger() ?? false) : deployment.logger;
  try {
    return await createServer(
      {
        city: 'Test City',
        levels: TEST_LEVELS,
        auth: { secret: TEST_AUTH_SECRET },
        personalData: { key: TEST_PERSONAL_DATA_KEY },
        ...deployment,
        logger,
        database,
      },
      {
        // Fastify runs onClose hooks last-added first, so this one runs before the kernel's: it
        // closes the kernel itself (safe twice) before dropping the database. Dropped first, the
        // database's `with (force)` cut the job runner's connections while pg-boss was stopping,
        // which then hung in a fresh-clone CI run.
        beforeReady: (app) =>
          void (
            owned &&
            app.addHook('onClose', async () => {
              await app.diandan.close();
              await owned!.drop();
            })
          ),
      },
    );
  } catch (error) {
    await owned?.drop();
    throw error;
  }
}
