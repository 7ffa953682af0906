/**
 * Global setup of the survey's suite: every test server logs at trace level to a capture
 * folder, and the run fails if any line holds respondents' free text or an invitation or
 * resume token (the default patterns catch phones and identity numbers), or is too long.
 */
import { logScanGlobalSetup } from '@diandan/testing';
import { FREE_TEXTS } from './support.js';

export default logScanGlobalSetup({ literals: [...FREE_TEXTS] });
