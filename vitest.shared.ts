import { defineConfig } from 'vitest/config';

/** Shared vitest settings: resolve workspace packages to their TypeScript sources. */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['@diandan/source'] },
  ssr: { resolve: { conditions: ['@diandan/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
});
