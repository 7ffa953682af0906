import { and, eq, gte, inArray, isNotNull, lt } from 'drizzle-orm';
import { ADMIN_ROLES, forbidden, hasRole, kernelTables, withinScope, type Actor, type Database } from '@diandan/kernel';
import { METHODS, type ProcurementMethod } from './lifecycle.js';
import { bids, contracts, awards, projects } from './schema.js';

/** Red-flag indicators (风险指标) of one buyer over a period. */
export interface BuyerIndicators {
  buyerUnitId: string;
  buyerName: string;
  /** Tenders published in the period. */
  tenders: number;
  /** Of those, tenders whose bids were opened. */
  openedTenders: number;
  singleBidTenders: number;
  /** singleBidTenders / openedTenders (0 without opened tenders). */
  singleBidShare: number;
  /** Published tenders with an OCDS `direct` method (single source, targeted commission). */
  directTenders: number;
  /** directTenders / tenders. */
  directShare: number;
  /** Distinct bidders per opened tender, on average. */
  averageBidders: number;
  /** Sum of the estimated values of the contracted lots. */
  contractedEstimate: number;
  /** Sum of the contract values. */
  contractValue: number;
  /** contractedEstimate − contractValue. */
  savings: number;
}

/** Red-flag indicators for the reporting package: per buyer, for tenders published in [from, to). */
export class IndicatorService {
  constructor(private readonly db: Database) {}

  async byBuyer(query: { from: string; to: string; buyerUnitId?: string | undefined }, ctx: { actor: Actor }): Promise<{ from: string; to: string; items: BuyerIndicators[] }> {
    if (!hasRole(ctx.actor, ADMIN_ROLES)) throw forbidden('Only city or district administrators read procurement indicators');
    const from = new Date(query.from);
    const to = new Date(query.to);
    const rows = await this.db
      .select({ p: projects, buyerName: kernelTables.units.name })
      .from(projects)
      .innerJoin(kernelTables.units, eq(kernelTables.units.id, projects.buyerUnitId))
      .where(
        and(
          withinScope(projects.regionPath, ctx.actor),
          isNotNull(projects.publishedAt),
          gte(projects.publishedAt, from),
          lt(projects.publishedAt, to),
          query.buyerUnitId ? eq(projects.buyerUnitId, query.buyerUnitId) : undefined,
        ),
      )
      .limit(10_000);
    const ids = rows.map((r) => r.p.id);
    const bidRows = ids.length ? await this.db.select({ projectId: bids.projectId, supplierId: bids.supplierId, status: bids.status }).from(bids).where(inArray(bids.projectId, ids)) : [];
    const contractRows = ids.length
      ? await this.db.select({ projectId: contracts.projectId, value: contracts.value, lotId: awards.lotId }).from(contracts).innerJoin(awards, eq(awards.id, contracts.awardId)).where(inArray(contracts.projectId, ids))
      : [];
    const byBuyer = new Map<string, BuyerIndicators & { bidders: number }>();
    for (const { p, buyerName } of rows) {
      const b = byBuyer.get(p.buyerUnitId) ?? {
        buyerUnitId: p.buyerUnitId,
        buyerName,
        tenders: 0,
        openedTenders: 0,
        singleBidTenders: 0,
        singleBidShare: 0,
        directTenders: 0,
        directShare: 0,
        averageBidders: 0,
        contractedEstimate: 0,
        contractValue: 0,
        savings: 0,
        bidders: 0,
      };
      b.tenders += 1;
      if (METHODS[p.method as ProcurementMethod].ocds === 'direct') b.directTenders += 1;
      if (p.openedAt) {
        const bidders = new Set(bidRows.filter((x) => x.projectId === p.id && (x.status === 'valid' || x.status === 'disqualified')).map((x) => x.supplierId)).size;
        b.openedTenders += 1;
        b.bidders += bidders;
        if (bidders === 1) b.singleBidTenders += 1;
      }
      for (const c of contractRows.filter((x) => x.projectId === p.id)) {
        b.contractValue += c.value;
        b.contractedEstimate += p.lots.find((l) => l.id === c.lotId)?.value ?? 0;
      }
      byBuyer.set(p.buyerUnitId, b);
    }
    const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 10_000) / 10_000);
    const items = [...byBuyer.values()].map(({ bidders, ...b }) => ({
      ...b,
      singleBidShare: ratio(b.singleBidTenders, b.openedTenders),
      directShare: ratio(b.directTenders, b.tenders),
      averageBidders: ratio(bidders, b.openedTenders),
      savings: b.contractedEstimate - b.contractValue,
    }));
    return { from: from.toISOString(), to: to.toISOString(), items };
  }
}
