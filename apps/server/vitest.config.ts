import { mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default mergeConfig(sharedTestConfig, {
  // Scans every test server's log for personal data at the end of the run.
  test: { globalSetup: ['./test/log-scan.setup.ts'] },
});
