// Writes dist/pglite-image.tar.gz: this deployment's PGlite image, the kernel's blank
// cluster with every plugin's migrations already applied, so that a first `pnpm start`
// on an empty data folder does not spend seconds migrating in WebAssembly. Runs after
// tsc in `pnpm build`; skips the work when the image there already holds exactly
// these migrations for this PGlite version. diandan.config.ts points
// `database.pgliteImage` at it; a start whose migrations it does not fit uses the
// kernel's blank image instead (see packages/kernel/src/db/pglite-image.ts).
import { fileURLToPath } from 'node:url';
import { deploymentMigrations } from '@diandan/kernel';
import { buildPgliteImage, checkPgliteImage, migrationHashes } from '@diandan/kernel/pglite-image';
import deployment from '../dist/diandan.config.js';

const file = fileURLToPath(new URL('../dist/pglite-image.tar.gz', import.meta.url));
const migrations = deploymentMigrations(deployment);
const wanted = JSON.stringify(migrationHashes(migrations));
const check = await checkPgliteImage(file);
if (check.usable && JSON.stringify(check.manifest.migrations) === wanted && !process.argv.includes('--force')) {
  console.log(`deployment pglite image up to date (${migrations.length} plugins' migrations)`);
} else {
  const started = performance.now();
  const manifest = await buildPgliteImage(file, { migrations });
  const count = Object.values(manifest.migrations ?? {}).reduce((n, hashes) => n + hashes.length, 0);
  console.log(`deployment pglite image written: ${file} (${count} migrations, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
