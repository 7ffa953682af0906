// The server side of the procurement benchmarks: a deployment with procurement on
// DATABASE_URL, served on PORT, seeded through the kernel's services before /health
// answers — the test region tree, the buyer unit (bench/fixture.mjs) and synthetic
// active suppliers:
//
//   node bench/server.mjs [--suppliers=<n>]        (default 1000)
//
// Nothing is written to kernel tables directly. SIGTERM shuts it down (exit 0).
import { parseArgs } from 'node:util';
import { definePlugin, kernel } from '@diandan/kernel';
import { procurement } from '@diandan/procurement';
import { TEST_REGIONS } from '@diandan/testing';
import { serveBench } from '../../../apps/server/bench/serve.mjs';
import { BENCH_SEALING_KEY, BENCH_SECRET, BUYER_REGION, BUYER_UNIT } from './fixture.mjs';

const { values } = parseArgs({ options: { suppliers: { type: 'string', default: '1000' } } });
const supplierCount = Number(values.suppliers);

const seed = definePlugin({
  name: 'bench-seed',
  version: '0.0.0',
  kernel: '^0.1.0',
  deps: { kernel },
  async ready(ctx) {
    const k = ctx.deps.kernel;
    if ((await k.regions.count()) > 0) return;
    await k.regions.import(TEST_REGIONS);
    const city = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
    await k.units.create({ id: BUYER_UNIT, regionCode: BUYER_REGION, name: '基准街道文化站（虚构）', kind: 'cultural-station' }, { actor: city });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < supplierCount) {
          const i = next++;
          await k.suppliers.create({ name: `基准供应商${i}（虚构）`, kind: 'troupe' }, { actor: city });
        }
      }),
    );
    ctx.log.warn({ suppliers: supplierCount }, 'bench data seeded');
  },
});

await serveBench([procurement({ sealingKey: BENCH_SEALING_KEY }), seed.configure({})], { authSecret: BENCH_SECRET });
