import { mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

// Scans every test server's log for personal data at the end of the run.
export default mergeConfig(sharedTestConfig, { test: { globalSetup: ['./test/log-scan.setup.ts'] } });
