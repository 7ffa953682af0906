/**
 * The deployment: one file a city's IT team edits. This one is the Guangzhou demo —
 * four region levels, the embedded PGlite database under ./data (or PostgreSQL when
 * DATABASE_URL is set), the demo-data plugin that seeds the region tree, and the
 * supplier registry with its demo applications, and procurement with one demo project
 * per method.
 */
import { fileURLToPath } from 'node:url';
import { defineDeployment } from '@diandan/kernel';
import { matching } from '@diandan/matching';
import { procurement } from '@diandan/procurement';
import { reporting } from '@diandan/reporting';
import { supplierRegistry } from '@diandan/supplier-registry';
import { survey } from '@diandan/survey';
import { venues } from '@diandan/venues';
import { demoData } from './src/demo/plugin.js';
import { registryDemo } from './src/demo/registry.js';

/** Only for trying the demo: set DIANDAN_JWT_SECRET or DIANDAN_JWKS_URL in any real deployment. */
export const DEVELOPMENT_SECRET = 'diandan-development-secret-not-for-production';

export default defineDeployment({
  city: '广州市',
  levels: ['city', 'district', 'street', 'community'],
  database: {
    url: process.env.DATABASE_URL || undefined,
    dataDir: process.env.DIANDAN_DATA_DIR ?? './data',
    // A first start copies this deployment's image (every migration applied, made by
    // `pnpm build`: scripts/build-pglite-image.mjs) instead of migrating a blank cluster.
    pgliteImage: fileURLToPath(new URL('./pglite-image.tar.gz', import.meta.url)),
  },
  // Bearer tokens: an identity provider's keys in production (DIANDAN_JWKS_URL), a
  // shared secret in development (`pnpm tokens` prints tokens for the demo users).
  auth: process.env.DIANDAN_JWKS_URL
    ? { jwksUrl: process.env.DIANDAN_JWKS_URL }
    : { secret: process.env.DIANDAN_JWT_SECRET ?? DEVELOPMENT_SECRET },
  // The key personal data (phones, identity numbers) is hashed and encrypted with;
  // required in production, the kernel's development key (with a warning) elsewhere.
  personalData: process.env.DIANDAN_PERSONAL_DATA_KEY
    ? {
        key: process.env.DIANDAN_PERSONAL_DATA_KEY,
        previousKeys: (process.env.DIANDAN_PERSONAL_DATA_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean),
      }
    : undefined,
  kernel: {
    // Deployments can add their own population groups and categories:
    populationGroups: [{ key: 'cantonese-opera-fans', name: '粤剧爱好者', nameEn: 'Cantonese opera lovers' }],
  },
  plugins: [
    demoData({ seed: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    // Supplier onboarding, review, qualifications, ratings and the public directory (文化供应商库).
    supplierRegistry({ expiryWarningDays: 30 }),
    registryDemo({ seed: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    // Demand surveys, units' demand requests, the cultural needs map and demand-supply gaps (群众点单: 需求采集), with a synthetic demo survey.
    survey({ demo: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    // Venue hours, sessions and reservations without overbooking, with demo sessions in the demo venues.
    venues({ demo: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    // Government procurement of cultural services with sealed bids and an OCDS 1.1 export (政府购买公共文化服务).
    procurement({ demo: process.env.DIANDAN_DEMO_SEED !== 'off', ocds: { publicUrl: process.env.DIANDAN_PUBLIC_URL ?? 'http://localhost:3000' } }),
    // Fair, explainable allocation of products to demand (精准配送) and residents' ballots, with a demo run and ballot.
    matching({ demo: process.env.DIANDAN_DEMO_SEED !== 'off' }),
    // KPIs, equity, efficiency evaluation and the annual service report (服务年报), over whatever the deployment holds.
    reporting(),
  ],
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
