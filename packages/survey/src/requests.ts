import { and, asc, eq, gt, sql } from 'drizzle-orm';
import {
  DomainError,
  REGION_STAFF,
  decodeCursor,
  forbidden,
  hasRole,
  notFound,
  toPage,
  withTransaction,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
  type HookBus,
  type KernelServices,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { demandUpdated } from './hooks.js';
import { demandRecords, demandRequests } from './schema.js';

export const DemandRequestProblems = {
  NOT_FOUND: 'SURVEY_DEMAND_REQUEST_NOT_FOUND',
  INVALID: 'SURVEY_INVALID_DEMAND_REQUEST',
} as const;

/** The `source` of demand records that come from units' direct requests. */
export const REQUEST_SOURCE = 'unit-request';

/** A unit's direct demand request (直接点单需求). */
export interface DemandRequest {
  id: string;
  unitId: string;
  regionCode: string;
  title: string;
  description: string;
  group: string;
  category: string;
  tags: string[];
  /** `YYYY-MM`: the month it is wanted in. */
  period: string;
  expectedAudience: number;
  /** The weight of its demand record: `expectedAudience / audiencePerWeight` (see the README). */
  weight: number;
  createdBy: string;
  createdAt: string;
  /** `withdrawn`: the unit (or staff) took it back, and its demand record is gone. */
  status: 'active' | 'withdrawn';
  withdrawnAt: string | null;
}

export interface DemandRequestInput {
  unitId: string;
  title: string;
  description?: string | undefined;
  group: string;
  category: string;
  tags?: string[] | undefined;
  period: string;
  expectedAudience: number;
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
const LIST = 'survey.demand-requests';
/** How far ahead a request may ask (months). */
const HORIZON_MONTHS = 24;

const monthIndex = (period: string) => Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1;

/**
 * The weight of a request: its expected audience over `audiencePerWeight`, so a request
 * for 120 people weighs as much as 12 respondents who each chose the category as their
 * only wish (with the default 10). A unit speaks for many residents, but its audience is
 * an estimate, hence the discount.
 */
export const requestWeight = (expectedAudience: number, audiencePerWeight: number) => Math.round((expectedAudience / audiencePerWeight) * 1000) / 1000;

const toRequest = (r: typeof demandRequests.$inferSelect): DemandRequest => ({
  id: r.id,
  unitId: r.unitId,
  regionCode: r.regionCode,
  title: r.title,
  description: r.description,
  group: r.groupKey,
  category: r.category,
  tags: r.tags,
  period: r.period,
  expectedAudience: r.expectedAudience,
  weight: r.weight,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  status: r.withdrawnAt ? 'withdrawn' : 'active',
  withdrawnAt: r.withdrawnAt?.toISOString() ?? null,
});

/** Units' direct demand requests: each becomes a demand record; no HTTP. */
export class DemandRequestService {
  /** The clock (tests may set it): requests for months already past are refused. */
  now: () => Date = () => new Date();

  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly audiencePerWeight: number,
  ) {}

  /** A unit's operator for their own unit, or region staff for a unit of their subtree. */
  private mayActFor(actor: Actor, unitId: string): boolean {
    return (hasRole(actor, ['unit-operator']) && actor.unitId === unitId) || hasRole(actor, REGION_STAFF);
  }

  /**
   * Records a direct demand request and its demand record, audits it and publishes
   * `survey.demand-updated` — in one transaction.
   */
  async create(input: DemandRequestInput, { actor, tx, requestId }: CallContext): Promise<DemandRequest> {
    if (!hasRole(actor, ['unit-operator', ...REGION_STAFF])) throw forbidden('Only unit operators and region staff post demand requests');
    const invalid = (field: string, message: string) => new DomainError('invalid', DemandRequestProblems.INVALID, `${field}: ${message}`, { field });
    if (!PERIOD.test(input.period)) throw invalid('period', 'YYYY-MM');
    const current = monthIndex(new Date(this.now().getTime() + 8 * 3_600_000).toISOString().slice(0, 7));
    const wanted = monthIndex(input.period);
    if (wanted < current) throw invalid('period', 'a month already past');
    if (wanted > current + HORIZON_MONTHS) throw invalid('period', `at most ${HORIZON_MONTHS} months ahead`);
    if (!Number.isInteger(input.expectedAudience) || input.expectedAudience < 1 || input.expectedAudience > 100_000) throw invalid('expectedAudience', 'a whole number from 1 to 100000');
    if (!input.title.trim()) throw invalid('title', 'must not be blank');
    return withTransaction(this.db, tx, async (tx) => {
      // Out of scope, or another unit's operator: the unit does not exist for this actor.
      const unit = await this.kernel.units.get(input.unitId, { actor, tx }).catch((e: unknown) => {
        if (e instanceof DomainError && e.kind === 'not_found') return undefined;
        throw e;
      });
      if (!unit || !this.mayActFor(actor, unit.id)) throw notFound('UNIT_NOT_FOUND', `Unit ${input.unitId} does not exist`);
      if ((await this.kernel.populationGroups.missing([input.group], { tx })).length) throw invalid('group', 'no such population group');
      if ((await this.kernel.categories.missing([input.category], { tx })).length) throw invalid('category', 'no such category');
      const path = (await this.kernel.regions.path(unit.regionCode, { tx }))!;
      const weight = requestWeight(input.expectedAudience, this.audiencePerWeight);
      const tags = [...new Set(input.tags ?? [])];
      const [row] = await tx
        .insert(demandRequests)
        .values({
          unitId: unit.id,
          regionCode: unit.regionCode,
          regionPath: path,
          title: input.title.trim(),
          description: input.description?.trim() ?? '',
          groupKey: input.group,
          category: input.category,
          tags,
          period: input.period,
          expectedAudience: input.expectedAudience,
          weight,
          createdBy: actor.userId,
        })
        .returning();
      await tx.insert(demandRecords).values({ source: REQUEST_SOURCE, requestId: row!.id, unitId: unit.id, regionCode: unit.regionCode, regionPath: path, groupKey: input.group, category: input.category, tags, period: input.period, weight });
      await this.kernel.audit.record(
        { actor, entityType: 'survey-demand-request', entityId: row!.id, action: 'survey.demand-request.create', region: { code: unit.regionCode, path }, after: { unitId: unit.id, group: input.group, category: input.category, period: input.period, expectedAudience: input.expectedAudience, weight }, requestId },
        { tx },
      );
      await this.hooks.publish(tx, demandUpdated, { source: REQUEST_SOURCE, questionnaireId: null, regions: [unit.regionCode], categories: [input.category], periods: [input.period], records: 1 });
      return toRequest(row!);
    });
  }

  /**
   * Withdraws a request (撤回): its demand record is removed — so the needs map, the gaps
   * and `recordsIn` no longer count it — the request is kept, marked withdrawn, audited,
   * and `survey.demand-updated` is published with `withdrawn: 1`; all in one transaction.
   * Idempotent: withdrawing a withdrawn request answers it as it is, with no second audit
   * record or event. Who may: as for `create` (the unit's operator, or staff of its subtree).
   */
  async withdraw(id: string, { actor, tx, requestId }: CallContext): Promise<DemandRequest> {
    if (!hasRole(actor, ['unit-operator', ...REGION_STAFF])) throw forbidden('Only unit operators and region staff withdraw demand requests');
    return withTransaction(this.db, tx, async (tx) => {
      // Locked: of two concurrent withdrawals, the second finds it withdrawn.
      const [row] = await tx.select().from(demandRequests).where(and(eq(demandRequests.id, id), withinScope(demandRequests.regionPath, actor))).for('update');
      if (!row || !this.mayActFor(actor, row.unitId)) throw notFound(DemandRequestProblems.NOT_FOUND, `No demand request ${id}`);
      if (row.withdrawnAt) return toRequest(row);
      const removed = await tx.delete(demandRecords).where(eq(demandRecords.requestId, row.id)).returning({ id: demandRecords.id });
      const [withdrawn] = await tx.update(demandRequests).set({ withdrawnAt: sql`now()`, withdrawnBy: actor.userId }).where(eq(demandRequests.id, row.id)).returning();
      await this.kernel.audit.record(
        {
          actor,
          entityType: 'survey-demand-request',
          entityId: row.id,
          action: 'survey.demand-request.withdraw',
          region: { code: row.regionCode, path: row.regionPath },
          before: { status: 'active', weight: row.weight },
          after: { status: 'withdrawn', removedRecords: removed.length },
          requestId,
        },
        { tx },
      );
      await this.hooks.publish(tx, demandUpdated, { source: REQUEST_SOURCE, questionnaireId: null, regions: [row.regionCode], categories: [row.category], periods: [row.period], records: 0, withdrawn: removed.length });
      return toRequest(withdrawn!);
    });
  }

  /** A request the actor may see: staff of its subtree, or the operator of its unit. */
  async get(id: string, { actor }: CallContext): Promise<DemandRequest> {
    const [row] = await this.db.select().from(demandRequests).where(and(eq(demandRequests.id, id), withinScope(demandRequests.regionPath, actor)));
    if (!row || !this.mayActFor(actor, row.unitId)) throw notFound(DemandRequestProblems.NOT_FOUND, `No demand request ${id}`);
    return toRequest(row);
  }

  /** Requests in the actor's subtree (a unit operator: their unit's), oldest first. */
  async list(query: { unitId?: string | undefined; period?: string | undefined; page: PageRequest }, { actor }: CallContext): Promise<PageOf<DemandRequest>> {
    if (!hasRole(actor, ['unit-operator', ...REGION_STAFF])) throw forbidden('Only unit operators and region staff read demand requests');
    const staff = hasRole(actor, REGION_STAFF);
    const after = query.page.cursor ? (decodeCursor(query.page.cursor, LIST, ['uuid']) as [string]) : undefined;
    const rows = await this.db
      .select()
      .from(demandRequests)
      .where(
        and(
          withinScope(demandRequests.regionPath, actor),
          staff ? undefined : eq(demandRequests.unitId, actor.unitId ?? '00000000-0000-0000-0000-000000000000'),
          query.unitId ? eq(demandRequests.unitId, query.unitId) : undefined,
          query.period ? eq(demandRequests.period, query.period) : undefined,
          after ? gt(demandRequests.id, after[0]) : undefined,
        ),
      )
      .orderBy(asc(demandRequests.id))
      .limit(query.page.limit + 1);
    return toPage(rows, query.page.limit, LIST, (r) => [r.id], toRequest);
  }
}
