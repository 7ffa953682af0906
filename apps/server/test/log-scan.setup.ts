/** Every test server of this suite logs to a capture folder, scanned for personal data at the end. */
import { logScanGlobalSetup } from '@diandan/testing/log-capture';

export default logScanGlobalSetup();
