import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Test files that touch no database are named `*.no-db.test.ts`. The PostgreSQL pass
 * (`DATABASE_URL` set) leaves them out: they ran on the PGlite pass, and a second run
 * would test the same code on the same input.
 */
const NO_DB_TESTS = '**/*.no-db.test.ts';

/**
 * Shared vitest settings: resolve workspace packages to their TypeScript sources.
 *
 * Type tests (`test/**\/*.test-d.ts`) are not run by vitest: they are part of each package's
 * tsconfig, so `pnpm check` (and `pnpm typecheck`) already fail on them, and vitest's
 * typecheck mode would only repeat the same tsc pass.
 */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['@diandan/source'] },
  ssr: { resolve: { conditions: ['@diandan/source'] } },
  test: {
    testTimeout: 30_000,
    // A suite's beforeAll boots servers and seeds data; on two busy cores that took over 60 s.
    hookTimeout: 120_000,
    exclude: process.env.DATABASE_URL ? [...configDefaults.exclude, NO_DB_TESTS] : configDefaults.exclude,
    // Test files share their worker's module cache instead of each getting a fresh process
    // that imports Fastify, TypeBox, pg-boss and the kernel again (~2 s of CPU a file) and
    // decompresses the PGlite image again: the kernel's PGlite pass took 118 s of CPU
    // instead of 259 s. Every test builds its own server and database, so no state is shared
    // that a test relies on being fresh; a test that changes process-wide state (NODE_ENV)
    // restores it.
    isolate: false,
  },
});

