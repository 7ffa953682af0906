/** @diandan/testing — boot a Diandan kernel with chosen plugins on a throw-away database, and drive it as its users would. */
export { createTestDatabase, testDriver } from './database.js';
export type { TestDatabase } from './database.js';
export { createTestServer, TEST_LEVELS } from './server.js';
export type { TestDeployment } from './server.js';
export { GUANGZHOU_DISTRICTS, guangzhouBenchRegions, seedRegions, TEST_REGIONS } from './regions.js';
export { authHeader, testToken, TEST_AUTH_SECRET } from './auth.js';
export { TEST_PERSONAL_DATA_KEY } from './personal-data.js';
export type { Who } from './auth.js';
export { actors, testActors } from './actors.js';
export { client, ifMatch, problem, expectStatus } from './client.js';
export type { Call, Method, Reply } from './client.js';
export { addSupplier, addUnit, addVenue, productContent, draftProduct, reviewProduct, listedProduct, allocate, orderBody, placeOrder, act } from './api.js';
export type { OrderSpec } from './api.js';
export { seedOrderingLoop } from './fixture.js';
export type { LoopFixture, WithUser } from './fixture.js';
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
