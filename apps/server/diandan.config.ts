/**
 * The deployment: one file a city's IT team edits. This one is the Guangzhou demo —
 * four region levels, the embedded PGlite database under ./data (or PostgreSQL when
 * DATABASE_URL is set), and the demo-data plugin that seeds the region tree.
 */
import { defineDeployment } from '@diandan/kernel';
import { demoData } from './src/demo/plugin.js';
import { procurement } from '@diandan/procurement';

/** Only for trying the demo: set DIANDAN_JWT_SECRET or DIANDAN_JWKS_URL in any real deployment. */
export const DEVELOPMENT_SECRET = 'diandan-development-secret-not-for-production';

export default defineDeployment({
  city: '广州市',
  levels: ['city', 'district', 'street', 'community'],
  database: {
    url: process.env.DATABASE_URL || undefined,
    dataDir: process.env.DIANDAN_DATA_DIR ?? './data',
  },
  // Bearer tokens: an identity provider's keys in production (DIANDAN_JWKS_URL), a
  // shared secret in development (`pnpm tokens` prints tokens for the demo users).
  auth: process.env.DIANDAN_JWKS_URL
    ? { jwksUrl: process.env.DIANDAN_JWKS_URL }
    : { secret: process.env.DIANDAN_JWT_SECRET ?? DEVELOPMENT_SECRET },
  kernel: {
    // Deployments can add their own population groups and categories:
    populationGroups: [{ key: 'cantonese-opera-fans', name: '粤剧爱好者', nameEn: 'Cantonese opera lovers' }],
  },
  plugins: [
    demoData({ seed: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    procurement({ demo: process.env.DIANDAN_DEMO_SEED !== 'off', ocds: { publicUrl: process.env.DIANDAN_PUBLIC_URL ?? 'http://localhost:3000' } }),
  ],
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
