/**
 * Global setup of the registry's suite: every test server logs at trace level to a
 * capture folder, and the run fails if any line holds personal data (the phones,
 * identity numbers and names the tests store) or is too long.
 */
import { logScanGlobalSetup } from '@diandan/testing';
import { ID_NUMBERS, NAMES, PHONES } from './support.js';

export default logScanGlobalSetup({ literals: [...PHONES, ...PHONES.map((p) => p.replace('-', '')), ...ID_NUMBERS, ...NAMES] });
