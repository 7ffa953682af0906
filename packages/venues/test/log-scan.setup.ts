/**
 * Global setup of the venues suite: every test server logs at trace level to a capture
 * folder, and the run fails if any line holds a test phone number.
 */
import { logScanGlobalSetup } from '@diandan/testing';
import { PHONES } from './support.js';

export default logScanGlobalSetup({ literals: [...PHONES] });
