// The server side of the supplier registry's HTTP benchmark: a deployment with the
// registry (or, with --registry=off, the same deployment without it) on DATABASE_URL,
// served on PORT, seeded through the services before /health answers:
//
//   node bench/server.mjs [--registry=on|off] [--suppliers=<n>] [--products=<n>]
//
//   --registry    off: the kernel alone (the baseline of "what the extension data costs")
//   --suppliers   how many synthetic suppliers (default 2000): with the registry, applications
//                 applied, reviewed and approved through its service (and the scores
//                 recomputed once); without it, kernel suppliers created through the kernel's
//   --products    listed products of the first supplier, through the kernel's product service (default 200)
//
// Nothing is written to kernel tables directly. SIGTERM shuts it down (exit 0).
import { parseArgs } from 'node:util';
import { definePlugin, kernel, withTransaction } from '@diandan/kernel';
import { supplierRegistry, supplierRegistryPlugin, usccCheckCharacter } from '@diandan/supplier-registry';
import { TEST_REGIONS } from '@diandan/testing';
import { serveBench } from '../../../apps/server/bench/serve.mjs';
import { BENCH_SECRET, CATEGORIES, KINDS, SERVED, supplierName } from './fixture.mjs';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'on' },
    suppliers: { type: 'string', default: '2000' },
    products: { type: 'string', default: '200' },
  },
});
const withRegistry = values.registry !== 'off';
const supplierCount = Number(values.suppliers);
const productCount = Number(values.products);

/** Runs `task(i)` for i < n, `width` at a time. */
async function pool(n, width, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

const creditCode = (i) => {
  const first17 = `9144010${3 + (i % 2)}B${String(i).padStart(8, '0')}`;
  return first17 + usccCheckCharacter(first17);
};

/** Seeds regions, suppliers and products through the services (the registry's, or the kernel's without it). */
const seed = (withRegistryDep) =>
  definePlugin({
    name: 'bench-seed',
    version: '0.0.0',
    kernel: '^0.1.0',
    deps: withRegistryDep ? { kernel, registry: supplierRegistryPlugin } : { kernel },
    async ready(ctx) {
      const k = ctx.deps.kernel;
      if ((await k.regions.count()) > 0) return;
      const t0 = performance.now();
      await k.regions.import(TEST_REGIONS);
      const city = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
      const reviewer = await ctx.systemActor({ roles: ['reviewer'], region: '440100' });
      const ids = new Array(supplierCount);
      if (withRegistryDep) {
        const { registry, quality } = ctx.deps.registry;
        const applicant = await ctx.systemActor({ roles: ['supplier'] });
        // Ten suppliers per transaction: the seeding is not what is measured, commits are most of its time.
        await pool(Math.ceil(supplierCount / 10), 4, (batch) =>
          withTransaction(ctx.db, undefined, async (tx) => {
            for (let i = batch * 10; i < Math.min(supplierCount, batch * 10 + 10); i++) {
              let a = await registry.apply(
                {
                  name: supplierName(i),
                  kind: KINDS[i % KINDS.length],
                  regionCode: i % 2 ? '440104' : '440103',
                  creditCode: creditCode(i),
                  description: '基准测试用的虚构供应商。',
                  categories: [CATEGORIES[i % CATEGORIES.length], CATEGORIES[(i + 1) % CATEGORIES.length]],
                  regionsServed: SERVED[i % SERVED.length],
                  contacts: [{ name: '基准联系人', phone: `020-${String(1000000 + i).slice(-7)}`, title: '联络人' }],
                  qualifications: [{ type: '营业执照', number: `BENCH-${i}`, issuer: '基准市场监管局（虚构）', validFrom: '2020-01-01', validUntil: null, mandatory: true }],
                },
                { actor: applicant, tx },
              );
              for (const action of ['start-review', 'approve']) a = await registry.act({ id: a.id, action, expectedVersion: a.version }, { actor: reviewer, tx });
              ids[i] = a.supplierId;
            }
          }),
        );
        await quality.recompute();
        ctx.log.warn({ ms: Math.round(performance.now() - t0) }, 'bench suppliers seeded');
      } else {
        await pool(Math.ceil(supplierCount / 10), 4, (batch) =>
          withTransaction(ctx.db, undefined, async (tx) => {
            for (let i = batch * 10; i < Math.min(supplierCount, batch * 10 + 10); i++) {
              ids[i] = (await k.suppliers.create({ name: supplierName(i), kind: KINDS[i % KINDS.length] }, { actor: city, tx })).id;
            }
          }),
        );
      }
      const owner = await ctx.systemActor({ roles: ['supplier'], supplier: ids[0] });
      await pool(productCount, 4, async (i) => {
        let p = await k.products.create(
          {
            title: `基准产品 ${i} 粤剧折子戏`,
            summary: `第 ${i} 个基准产品的简介，适合长者与青少年`,
            description: '虚构的基准产品。',
            category: CATEGORIES[i % CATEGORIES.length],
            form: '现场演出',
            targetGroups: i % 2 ? ['elderly', 'general-public'] : ['youth'],
            audienceMin: 20,
            audienceMax: 300,
            durationMinutes: 90,
            costPerSession: 1000 + i,
            serviceableRegions: ['440100'],
            tags: ['基准'],
            media: [],
          },
          { actor: owner },
        );
        for (const [action, by] of [['submit', owner], ['startReview', reviewer], ['list', reviewer]]) {
          p = await k.products.transition({ id: p.id, action, expectedVersion: p.version }, { actor: by });
        }
      });
      ctx.log.warn({ suppliers: supplierCount, products: productCount, registry: withRegistryDep, ms: Math.round(performance.now() - t0) }, 'bench data seeded');
    },
  });

await serveBench([...(withRegistry ? [supplierRegistry()] : []), seed(withRegistry).configure({})], { authSecret: BENCH_SECRET });
