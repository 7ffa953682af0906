/**
 * The personal-data key `createTestServer` configures unless a test passes its own
 * `personalData` (64 hex characters; public, so only for tests).
 */
export const TEST_PERSONAL_DATA_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0';
