/** @diandan/testing — boot a Diandan kernel with chosen plugins on a throw-away database. */
export { createTestDatabase, testDriver } from './database.js';
export type { TestDatabase } from './database.js';
export { createTestServer, TEST_LEVELS } from './server.js';
export type { TestDeployment } from './server.js';
export { seedRegions, TEST_REGIONS } from './regions.js';
export { authHeader, testToken, TEST_AUTH_SECRET } from './auth.js';
export { startTemporaryPostgres, postgresBinDir, freePort } from './postgres-server.js';
export type { TemporaryPostgres } from './postgres-server.js';
export {
  captureLogger,
  scanLogText,
  scanLogDirectory,
  logScanGlobalSetup,
  validIdNumber,
  DEFAULT_LOG_PATTERNS,
  LOG_CAPTURE_ENV,
  MAX_LOG_LINE,
} from './log-capture.js';
export type { LogPattern, LogScanOptions, LogViolation } from './log-capture.js';
