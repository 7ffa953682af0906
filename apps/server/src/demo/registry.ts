import { definePlugin, kernel, transaction, Type, type Actor, type PluginOptions } from '@diandan/kernel';
import { supplierRegistryPlugin, usccCheckCharacter, idNumberCheckCharacter, type ApplicationAction } from '@diandan/supplier-registry';
import { DEMO_PRODUCTS } from './catalogue.js';
import { demoDataPlugin } from './plugin.js';
import { demoPoster } from './poster.js';

const config = Type.Object({
  /** Seed the registry's demo applications when the registry is empty. */
  seed: Type.Boolean({ default: true }),
});

/** A synthetic credit code: the check character is computed, the rest invented. */
const creditCode = (first17: string) => first17 + usccCheckCharacter(first17);

/**
 * Demo applications to the Guangzhou supplier library, one in each state of the review
 * workflow. All invented: names, codes (division 990000 for the one individual), and
 * landline numbers of the form 020-0000000x, which no one has.
 */
export const DEMO_APPLICATIONS: readonly { id: string; path: readonly ApplicationAction[]; body: Record<string, unknown>; extra?: Record<string, unknown> }[] = [
  { id: '00000000-0000-4000-8000-00000000f001', path: [], body: { name: '示范戏曲文化传播有限公司（虚构）', kind: 'enterprise', creditCode: creditCode('91440103MA5000001') } },
  { id: '00000000-0000-4000-8000-00000000f002', path: ['start-review'], body: { name: '示范民族乐团（虚构）', kind: 'troupe', creditCode: creditCode('12440100MB0000002') } },
  {
    id: '00000000-0000-4000-8000-00000000f003',
    path: ['start-review', 'request-changes'],
    body: { name: '示范剪纸艺术家（虚构）', kind: 'individual-artist', idNumber: `99000019800101001${idNumberCheckCharacter('99000019800101001')}`, categories: ['handcraft-workshop'] },
  },
  { id: '00000000-0000-4000-8000-00000000f004', path: ['start-review', 'approve'], body: { name: '示范舞蹈团（虚构）', kind: 'troupe', creditCode: creditCode('12440103MB0000004') } },
  { id: '00000000-0000-4000-8000-00000000f005', path: ['start-review', 'approve', 'suspend'], body: { name: '示范书画院（虚构）', kind: 'folk-institution', creditCode: creditCode('52440103MJ0000005') } },
  {
    id: '00000000-0000-4000-8000-00000000f006',
    path: ['start-review', 'approve', 'blacklist'],
    body: { name: '示范演艺有限公司（虚构）', kind: 'enterprise', creditCode: creditCode('91440106MA0000006') },
  },
];

/**
 * Seeds the supplier registry's demo applications through its services, by system
 * actors holding the roles a person would need: the applicant (a supplier account),
 * a reviewer and a city administrator. Runs after the kernel demo data (regions).
 */
export const registryDemoPlugin = definePlugin({
  name: 'registry-demo',
  version: '0.1.0',
  kernel: '^0.1.0',
  deps: { kernel, registry: supplierRegistryPlugin, demo: demoDataPlugin },
  config,
  async ready(ctx) {
    if (!ctx.config.seed || (await ctx.deps.kernel.regions.count()) === 0) return;
    const { registry } = ctx.deps.registry;
    const admin = await ctx.systemActor({ roles: ['city-admin'], region: '440100' });
    if ((await registry.list({ page: { limit: 1 } }, { actor: admin })).items.length > 0) return;
    const reviewer = await ctx.systemActor({ roles: ['reviewer'], region: '440100' });
    // Every actor first (granting one reads the region tree, outside any transaction)…
    const applicants: Actor[] = [];
    for (const { id } of DEMO_APPLICATIONS) applicants.push(await ctx.systemActor({ roles: ['supplier'], supplier: id }));
    // …then the applications and their reviews in one transaction: one commit instead of
    // ~20, which is what most of this seed's time went to on PGlite (as in demo-data).
    await transaction(ctx.db, async (tx) => {
      for (const [i, { id, path, body }] of DEMO_APPLICATIONS.entries()) {
        const applicant = applicants[i]!;
        let application = await registry.apply(
          {
            regionCode: '440103',
            description: '虚构的示范供应商，仅用于演示。',
            categories: ['performance'],
            regionsServed: ['440103'],
            contacts: [{ name: '示范联系人', phone: `020-0000000${i + 1}`, title: '联络人' }],
            qualifications: [{ type: '营业执照', number: `DEMO-LIC-${i + 1}`, issuer: '示范市场监管局（虚构）', validFrom: '2020-01-01', validUntil: null, mandatory: true }],
            ...(body as { name: string; kind: string }),
            id,
          },
          { actor: applicant, tx },
        );
        for (const action of path) {
          const by = action === 'suspend' || action === 'blacklist' ? admin : reviewer;
          application = await registry.act(
            {
              id: application.id,
              action,
              expectedVersion: application.version,
              reasons: action === 'request-changes' ? ['请补充作品集（示范）'] : undefined,
              reason: action === 'suspend' ? '投诉核查中（示范）' : action === 'blacklist' ? '提供虚假材料（示范）' : undefined,
            },
            { actor: by, tx },
          );
        }
      }
    });
    // A poster for the first demo product, the way a supplier adds one to a listed
    // product: a curator delists it, the supplier uploads, and it goes through review again.
    const { products } = ctx.deps.kernel;
    const poster = DEMO_PRODUCTS[0];
    const supplier = await ctx.systemActor({ roles: ['supplier'], supplier: poster.supplierId });
    let product = await products.get(poster.id, { actor: admin });
    if (product.status === 'listed') product = await products.transition({ id: product.id, action: 'delist', expectedVersion: product.version, reasons: ['补充展示素材（示范）'] }, { actor: admin });
    await ctx.deps.registry.media.upload(
      { productId: product.id, data: demoPoster(640, 360, [178, 34, 34], [60, 10, 20]), name: '粤剧折子戏专场-海报.png', caption: '演出海报（示范，程序生成的图片）' },
      { actor: supplier },
    );
    for (const [action, by] of [['submit', supplier], ['startReview', reviewer], ['list', reviewer]] as const) {
      product = await products.transition({ id: product.id, action, expectedVersion: product.version }, { actor: by });
    }
    ctx.log.info({ applications: DEMO_APPLICATIONS.length, productMedia: 1 }, 'seeded the supplier registry demo (all invented)');
  },
});

/** Factory for diandan.config.ts. */
export const registryDemo = (options: PluginOptions<typeof config> = {}) => registryDemoPlugin.configure(options);
