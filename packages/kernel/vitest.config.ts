import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(sharedTestConfig, {
  resolve: {
    // @diandan/testing depends on the kernel, so the kernel's own tests reach it by
    // path rather than as a dependency (which would make the workspace graph cyclic).
    alias: [
      { find: /^@diandan\/testing$/, replacement: fileURLToPath(new URL('../testing/src/index.ts', import.meta.url)) },
      { find: /^@diandan\/testing\/(.+)$/, replacement: `${fileURLToPath(new URL('../testing/src/', import.meta.url))}$1.ts` },
    ],
  },
  // Scans every test server's log for personal data at the end of the run.
  test: { globalSetup: ['./test/log-scan.setup.ts'] },
});
