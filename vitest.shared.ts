import { defineConfig } from 'vitest/config';

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
  },
});

