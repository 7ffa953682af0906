// The server side of the benchmarks: the deployment of apps/server/diandan.config.ts
// (built: dist/diandan.config.js), served like `pnpm start` does, with bench-only
// changes chosen on the command line:
//
//   node bench/server.mjs [--with=<name>[,<name>…]] [--pglite-image=off] [--pool=<n>] [--limits=off]
//
//   --with           adds the bench-only plugins of that name from bench/plugins.mjs
//   --pglite-image   off: an empty PGlite folder runs initdb instead of starting from
//                    the prepared image (the start-up benchmark's baseline)
//   --pool           postgres.js pool size (default: the deployment's)
//   --limits         off: no load shedding (`http.underPressure: false`) — the baseline of
//                    "the limits cost nothing measurable"
//
// The environment is read as by the demo server (PORT, HOST, DATABASE_URL,
// DIANDAN_DATA_DIR, DIANDAN_JWT_SECRET, LOG_LEVEL…). SIGTERM shuts it down (exit 0).
import { parseArgs } from 'node:util';
import { serve } from '@diandan/kernel';
import deployment from '../dist/diandan.config.js';
import { benchPlugins } from './plugins.mjs';

const { values } = parseArgs({
  options: {
    with: { type: 'string', default: '' },
    'pglite-image': { type: 'string' },
    pool: { type: 'string' },
    limits: { type: 'string' },
  },
});

const names = values.with.split(',').filter(Boolean);
const unknown = names.filter((n) => !Object.hasOwn(benchPlugins, n));
if (unknown.length) {
  const known = Object.keys(benchPlugins);
  console.error(`unknown bench plugin ${unknown.join(', ')}; bench/plugins.mjs has ${known.length ? known.join(', ') : 'none yet'}`);
  process.exit(2);
}
if (values['pglite-image'] !== undefined && values['pglite-image'] !== 'off') {
  console.error('--pglite-image takes only "off"');
  process.exit(2);
}

const database = { ...deployment.database };
if (values['pglite-image'] === 'off') database.pgliteImage = false;
if (values.pool) database.maxConnections = Number(values.pool);

const http = values.limits === 'off' ? { ...deployment.http, underPressure: false } : deployment.http;

await serve(
  { ...deployment, database, http, plugins: [...(deployment.plugins ?? []), ...names.map((n) => benchPlugins[n]())] },
  { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' },
);
