import type { Actor, KernelServices, PluginContext } from '@diandan/kernel';
import type { Services } from './plugin.js';
import type { ProjectInput } from './projects.js';

/** What the demo needs from the plugin's context. */
export type DemoContext = Pick<PluginContext<unknown, { kernel: KernelServices }>, 'deps' | 'systemActor' | 'log'>;

const SECOND = 1000;
const DAY = 86_400_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How the demo lets time pass: real time by default; a test moves the procurement clock instead. */
export interface DemoOptions {
  pause?: (ms: number) => Promise<void>;
}

/**
 * Seeds one synthetic project per procurement method, in various stages, through the
 * services and with system actors — once, into a deployment that has units and at least
 * three active suppliers but no procurement project yet (the Guangzhou demo). The
 * short-deadline projects move on by themselves over ~40 seconds after start-up: their
 * tender periods end, bids are opened, scored, awarded, and (after a few seconds of
 * standstill) contracted. Everything is fictitious (虚构). Resolves once seeded, with
 * `advanced`: the promise of those later steps.
 */
export async function seedProcurementDemo(ctx: DemoContext, s: Services, options: DemoOptions = {}): Promise<{ advanced: Promise<void> } | undefined> {
  const pause = options.pause ?? sleep;
  const k = ctx.deps.kernel;
  const city = await ctx.systemActor({ roles: ['city-admin'] });
  if ((await s.projects.list({ page: { limit: 1 } }, { actor: city })).items.length > 0) return undefined;
  const units = (await k.units.list({ page: { limit: 50 } }, { actor: city })).items;
  const located = await Promise.all(units.map(async (u) => ({ unit: u, level: (await k.regions.locate(u.regionCode))?.level })));
  const buyer = located.find((x) => x.level === 'street')?.unit ?? units[0];
  // Suppliers with a listed product for the buyer's region first: the framework's one
  // bidder (the first) later needs one for its call-off.
  const active = (await k.suppliers.list({ status: 'active', page: { limit: 50 } })).items;
  const offering = buyer ? new Set((await k.products.list({ status: 'listed', region: buyer.regionCode, page: { limit: 100 } }, { actor: city })).items.map((p) => p.supplierId)) : new Set<string>();
  const suppliers = [...active].sort((x, y) => Number(offering.has(y.id)) - Number(offering.has(x.id))).slice(0, 3);
  if (!buyer || suppliers.length < 3) {
    ctx.log.info('procurement demo skipped: it needs a unit and three active suppliers');
    return undefined;
  }
  const path = (await k.regions.path(buyer.regionCode))!;
  const district = path.split('/').filter(Boolean)[1] ?? path.split('/')[0]!;
  const admin = await ctx.systemActor({ roles: ['district-admin'], region: district });
  const as = (supplierId: string) => ctx.systemActor({ roles: ['supplier'], supplier: supplierId });
  const [a, b, c] = suppliers as [(typeof suppliers)[0], (typeof suppliers)[0], (typeof suppliers)[0]];
  const panel = [admin.userId];

  const now = (await s.clock.now()).getTime();
  // Real seconds, not the test's clock: the questions below are asked in the enquiry
  // period, after seven projects are created — which takes seconds on a busy machine.
  const short = { enquiryPeriodEnd: new Date(now + 20 * SECOND).toISOString(), tenderPeriodEnd: new Date(now + 30 * SECOND).toISOString(), standstillDays: 0.00005 };
  const long = { enquiryPeriodEnd: new Date(now + 14 * DAY).toISOString(), tenderPeriodEnd: new Date(now + 30 * DAY).toISOString() };
  const base = (title: string, estimate: number): Omit<ProjectInput, 'method' | 'enquiryPeriodEnd' | 'tenderPeriodEnd' | 'priceWeight' | 'qualityWeight'> => ({
    buyerUnitId: buyer.id,
    title: `${title}（虚构）`,
    description: `${title}：为辖区群众提供公共文化服务（演示数据，虚构）`,
    category: 'performance',
    estimate,
    lots: [{ id: 'L1', title, description: null, value: estimate }],
    items: [{ id: 'I1', description: title, category: 'performance', quantity: 12, unit: '场', relatedLot: 'L1' }],
    documents: [{ id: 'D1', documentType: 'tenderNotice', title: '采购公告（演示）', url: null, fileId: null, datePublished: null }],
  });
  const create = async (input: ProjectInput) => {
    const draft = await s.projects.create(input, { actor: admin });
    return s.projects.publish({ id: draft.id, expectedVersion: draft.version }, { actor: admin });
  };

  const open = await create({ ...base('社区粤剧巡演服务', 120_000), method: 'open-tender', priceWeight: 60, qualityWeight: 40, panel, ...short });
  const negotiation = await create({ ...base('非遗展演服务', 80_000), method: 'competitive-negotiation', invitedSupplierIds: [a.id, b.id, c.id], priceWeight: 50, qualityWeight: 50, panel, ...short });
  const consultation = await create({ ...base('全民阅读推广活动', 60_000), method: 'competitive-consultation', invitedSupplierIds: [a.id, b.id, c.id], priceWeight: 30, qualityWeight: 70, panel, ...short });
  const framework = await create({
    ...base('年度点单演出框架协议', 200_000),
    method: 'targeted-commission',
    rationale: '定向委托本地专业院团承担全年基层点单演出（演示）',
    framework: true,
    invitedSupplierIds: [a.id],
    priceWeight: 100,
    qualityWeight: 0,
    ...short,
  });
  const inquiry = await create({ ...base('文化站音响设备维护服务', 30_000), method: 'inquiry', invitedSupplierIds: [a.id, b.id, c.id], priceWeight: 100, qualityWeight: 0, ...long });
  const single = await create({ ...base('非遗传承人专场演出', 20_000), method: 'single-source', rationale: '该非遗项目仅有一位代表性传承人（演示）', invitedSupplierIds: [c.id], priceWeight: 100, qualityWeight: 0, ...long });
  await s.projects.create({ ...base('暑期少儿艺术培训', 50_000), method: 'open-tender', priceWeight: 40, qualityWeight: 60, panel, ...long }, { actor: admin });

  const bid = async (projectId: string, supplierId: string, price: number) =>
    s.bids.submit({ projectId, lotId: 'L1', price, proposal: `演示投标方案（虚构），报价 ${price} 元`, documents: [] }, { actor: await as(supplierId) });
  await s.projects.ask({ projectId: open.id, question: '演出是否需要自带音响设备？' }, { actor: await as(a.id) });
  await s.projects.ask({ projectId: single.id, question: '演出场次可否分两个季度完成？' }, { actor: await as(c.id) });
  for (const [p, prices] of [[open, [110_000, 98_000, 105_000]], [negotiation, [76_000, 79_000]], [consultation, [58_000, 55_000, 59_000]], [framework, [200_000]]] as const) {
    for (const [i, price] of prices.entries()) await bid(p.id, [a.id, b.id, c.id][i]!, price);
  }
  await bid(inquiry.id, a.id, 28_000);
  ctx.log.info({ projects: 7 }, 'seeded the procurement demo; its short tenders advance over the next seconds');

  // The rest happens as the deadlines pass, without holding the start-up.
  const advanced = (async () => {
    try {
      await pause(30.5 * SECOND);
      const opened: Record<string, number> = {};
      for (const p of [open, negotiation, consultation, framework]) {
        const current = await s.projects.get(p.id, { actor: admin });
        opened[p.id] = (await s.bids.open({ projectId: p.id, expectedVersion: current.version }, { actor: admin })).version;
      }
      const evaluate = async (projectId: string, scores: number[]) => {
        await s.evaluation.declare({ projectId, conflict: false, statement: '本人与各供应商无利害关系（演示）' }, { actor: admin });
        const bids = (await s.bids.list({ projectId }, { actor: admin })).items.filter((x) => x.status === 'valid');
        for (const [i, x] of bids.entries()) await s.evaluation.score({ projectId, bidId: x.id, score: scores[i] ?? 75, comment: '演示评分' }, { actor: admin });
      };
      await evaluate(open.id, [85, 80, 90]);
      await evaluate(negotiation.id, [88, 70]);
      await evaluate(consultation.id, [80, 82, 75]); // stays in evaluation
      const awarded = [];
      for (const p of [open, negotiation, framework]) awarded.push(await s.evaluation.award({ projectId: p.id, expectedVersion: opened[p.id]! }, { actor: admin }));
      await pause(5 * SECOND); // the standstill
      for (const p of [open, negotiation, framework]) {
        const award = (await s.evaluation.awards({ projectId: p.id }, { actor: admin })).items.find((x) => x.status === 'pending')!;
        const contract = await s.contracts.sign(
          {
            awardId: award.id,
            expectedVersion: award.version,
            title: `${p.title}合同`,
            value: award.value!,
            periodStart: new Date(now).toISOString(),
            periodEnd: new Date(now + 365 * DAY).toISOString(),
            milestones: [
              { id: 'M1', title: '上半年服务', dueDate: new Date(now + 180 * DAY).toISOString(), value: Math.floor(award.value! / 2) },
              { id: 'M2', title: '下半年服务', dueDate: new Date(now + 360 * DAY).toISOString(), value: Math.floor(award.value! / 2) },
            ],
          },
          { actor: admin },
        );
        if (p.id === open.id) {
          let current = contract;
          for (const m of contract.milestones) current = await s.contracts.completeMilestone({ contractId: current.id, milestoneId: m.id, expectedVersion: current.version }, { actor: admin });
        }
        if (p.id === framework.id) await callOff(ctx, k, s, contract.id, contract.supplierId, buyer.regionCode, admin);
      }
      ctx.log.info('the procurement demo has advanced: contracts signed, one project complete');
    } catch (error) {
      ctx.log.warn({ err: error }, 'the procurement demo stopped advancing');
    }
  })();
  return { advanced };
}

/** One call-off under the framework contract, for a unit and venue inside the buyer's region, if the supplier has a product that serves it. */
async function callOff(ctx: DemoContext, k: KernelServices, s: Services, contractId: string, supplierId: string, region: string, admin: Actor): Promise<void> {
  const products = (await k.products.list({ supplierId, region, page: { limit: 1 } }, { actor: admin })).items;
  // A unit with a venue in its own region: its operator can only order for venues it sees.
  let unit: { id: string; regionCode: string } | undefined;
  let venue: { id: string; capacity: number } | undefined;
  for (const u of (await k.units.list({ region, page: { limit: 50 } }, { actor: admin })).items) {
    venue = (await k.venues.list({ region: u.regionCode, page: { limit: 1 } }, { actor: admin })).items[0];
    unit = u;
    if (venue) break;
  }
  if (!products[0] || !venue || !unit) return;
  const year = new Date().getFullYear() + 1;
  const operator = await ctx.systemActor({ roles: ['unit-operator'], region: unit.regionCode, unit: unit.id });
  await s.contracts.callOff(
    { contractId, unitId: unit.id, productId: products[0].id, venueId: venue.id, windowStart: `${year}-03-01`, windowEnd: `${year}-03-31`, expectedAudience: Math.min(50, venue.capacity) },
    { actor: operator },
  );
}
