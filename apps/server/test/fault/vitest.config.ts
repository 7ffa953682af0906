import { mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../../../vitest.shared.js';

/**
 * The fault tests (`pnpm --filter @diandan/server test:fault`): the built demo server
 * in a child process against a throw-away PostgreSQL that they kill and restart. Run
 * after `pnpm build`; one file at a time, they need the machine to themselves.
 */
export default mergeConfig(sharedTestConfig, {
  test: {
    include: ['test/fault/**/*.fault.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    typecheck: { enabled: false },
  },
});
