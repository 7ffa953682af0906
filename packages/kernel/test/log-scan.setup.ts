/**
 * Global setup of the kernel's suite: every test server logs at trace level to a
 * capture folder, and the run fails if any line holds personal data or is too long.
 */
import { logScanGlobalSetup } from '../../testing/src/log-capture.js';

// The contact phones and other personal data the tests store.
export default logScanGlobalSetup({ literals: ['020-12345678', '13800138000', '11010519491231002X', '13912340001'] });
