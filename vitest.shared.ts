import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: resolve workspace packages to their TypeScript sources.
 *
 * Type tests (`test/**\/*.test-d.ts`, checked by tsc) run only on PGlite, i.e. when
 * `DATABASE_URL` is unset: they do not touch a database, and CI runs every suite twice
 * (PGlite, then PostgreSQL), so the second run would only repeat the same tsc pass.
 */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['@diandan/source'] },
  ssr: { resolve: { conditions: ['@diandan/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: { enabled: !process.env.DATABASE_URL, include: ['test/**/*.test-d.ts'] },
  },
});

