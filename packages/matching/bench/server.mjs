// The server side of the matching HTTP bench: a deployment with the matching plugin on
// DATABASE_URL (apps/server/bench/serve.mjs), the testing ordering loop seeded through the
// services (regions, units, listed products: the product list the bench reads), and one
// bench-only route, POST /bench/large-run, that starts a run of the large synthetic
// instance (src/generate.ts LARGE_SIZE: 2,000 products × 10,000 demand records) through
// the plugin's own service — a job solved in its worker thread, as a city-wide run is.
//
// The instance is built once when the server starts: a real run builds its instance from
// the database in the request that starts it (`prepareRun`, on the event loop), and the
// bench prints how long that took here. SIGTERM shuts it down (exit 0).
//
//   node bench/server.mjs      (started by bench/http.mjs)
import { definePlugin, kernel } from '@diandan/kernel';
import { buildInstance, generateInput, LARGE_SIZE, matching, matchingPlugin } from '@diandan/matching';
import { seedOrderingLoop } from '@diandan/testing';
import { serveBench } from '../../../apps/server/bench/serve.mjs';

const t0 = performance.now();
const instance = buildInstance(generateInput({ ...LARGE_SIZE, seed: 1 }));
const buildMs = performance.now() - t0;

const largeRun = definePlugin({
  name: 'bench-large-run',
  version: '0.0.0',
  kernel: '^0.1.0',
  deps: { kernel, matching: matchingPlugin },
  routes: (app, ctx) => {
    app.post('/bench/large-run', async () => {
      const actor = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
      const path = await ctx.deps.kernel.regions.pathInScope('440100', actor);
      const run = await ctx.deps.matching.matching.startRun({ regionCode: '440100', periods: ['2026-01'], year: 2026, solver: 'heuristic' }, { actor }, { path, instance });
      return { id: run.id, buildMs: Math.round(buildMs), demands: instance.demands.length, products: instance.products.length };
    });
  },
});

const app = await serveBench([matching(), largeRun.configure({})]);
await seedOrderingLoop(app);
