/**
 * Starts the deployment in ../diandan.config.ts: `pnpm start` (after a build) or
 * `pnpm dev` (from sources, restarting on change).
 */
import { DiandanStartupError, serve } from '@diandan/kernel';
import deployment from '../diandan.config.js';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '0.0.0.0';

try {
  const started = performance.now();
  const app = await serve(deployment, { port, host });
  const base = `http://localhost:${port}`;
  app.log.info(
    { startupMs: Math.round(performance.now() - started), database: app.diandan.database.driver },
    `Diandan for ${deployment.city} is up — API reference: ${base}/docs, OpenAPI: ${base}/openapi.json`,
  );
} catch (error) {
  if (error instanceof DiandanStartupError) {
    // A configuration problem: say what and where, without a stack trace.
    console.error(`\nDiandan could not start.\n  ${error.message}\n${error.plugin ? `  (plugin: ${error.plugin})\n` : ''}`);
    process.exit(1);
  }
  throw error;
}
