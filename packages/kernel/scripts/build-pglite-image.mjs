// Writes dist/pglite-image.tar.gz: the blank PGlite cluster an empty data folder
// starts from (see src/db/pglite-image.ts). Runs after tsc in `pnpm build`; skips
// the work (initdb takes seconds and ~900 MiB) when the image there is already the
// one this PGlite version and recipe would make.
import { buildPgliteImage, checkPgliteImage, EMBEDDED_SETTINGS, SHIPPED_PGLITE_IMAGE } from '../dist/db/pglite-image.js';

const check = await checkPgliteImage(SHIPPED_PGLITE_IMAGE);
const current = check.usable && JSON.stringify(check.manifest.settings) === JSON.stringify(EMBEDDED_SETTINGS);
if (current && !process.argv.includes('--force')) {
  console.log(`pglite image up to date (PGlite ${check.manifest.pglite}, Postgres ${check.manifest.postgres})`);
} else {
  const started = performance.now();
  const manifest = await buildPgliteImage(SHIPPED_PGLITE_IMAGE);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`pglite image written: ${SHIPPED_PGLITE_IMAGE} (PGlite ${manifest.pglite}, Postgres ${manifest.postgres}, ${seconds} s)`);
}
