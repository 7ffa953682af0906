/**
 * Matching's domain services: demand (direct requests, kernel orders, and any other
 * `DemandSource`), runs (the instance built from kernel data, solved by a worker-thread
 * job), and plans (draft → approved → kernel draft orders, once).
 */
import {
  DomainError,
  createFilter,
  hasRole,
  inScope,
  nextState,
  withTransaction,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type HookBus,
  type JobDefinition,
  type Jobs,
  type KernelServices,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { planLifecycle, type PlanAction, type PlanState, type RunState } from './lifecycle.js';
import {
  DEFAULT_WEIGHTS,
  PLAN_VERSION,
  buildInstance,
  type Capacity,
  type DemandRecord,
  type Floor,
  type Instance,
  type ListedProduct,
  type Plan,
  type RegionNode,
  type Weights,
} from './problem.js';
import { demandRequests, planOrders, plans, runs } from './schema.js';
import type { SolveOptions, SolveReport } from './solve.js';

/** Who runs, approves and converts plans. */
export const PLANNER_ROLES = ['city-admin', 'district-admin'] as const;

/** Where a run's demand comes from. The survey package implements one for its demand signals. */
export interface DemandSource {
  readonly name: string;
  demands(query: { regionCode: string; regionPath: string; periods: readonly string[] }, ctx: { db: Executor }): Promise<DemandRecord[]>;
}

/** `matching.score`: a region plugin changes candidate values (e.g. a monthly theme boost). */
export interface ScoredCandidate {
  readonly demand: DemandRecord;
  readonly product: ListedProduct;
  readonly relevance: number;
  value: number;
}
export const matchingScore = createFilter<ScoredCandidate[], { regionCode: string; periods: readonly string[] }>('matching.score');
/** `matching.constraints`: a region plugin adds floors (e.g. a minimum share for a sub-brand's group). */
export const matchingConstraints = createFilter<Floor[], { regionCode: string; periods: readonly string[] }>('matching.constraints');

export interface DemandRequest {
  id: string;
  unitId: string;
  regionCode: string;
  venueId: string | null;
  group: string;
  category: string;
  tags: string[];
  period: string;
  weight: number;
  sessions: number;
  audience: number | null;
  createdAt: string;
}

export interface DemandRequestInput {
  unitId: string;
  venueId?: string | undefined;
  group: string;
  category: string;
  tags?: string[] | undefined;
  period: string;
  weight?: number | undefined;
  sessions?: number | undefined;
  audience?: number | undefined;
}

export interface RunInput {
  regionCode: string;
  /** `YYYY-MM` months. */
  periods: string[];
  /** The budget year whose available amounts bound the plan. */
  year: number;
  alpha?: number | undefined;
  solver?: 'heuristic' | 'mip' | 'auto' | undefined;
  /** Floors added to the deployment's for this run. */
  floors?: Floor[] | undefined;
  /** Leave out the deployment's floors (to see the unconstrained plan). */
  withoutPolicyFloors?: boolean | undefined;
}

export interface Run {
  id: string;
  regionCode: string;
  status: RunState;
  jobId: string | null;
  options: RunInput;
  /** While solving: the job's progress. */
  progress: number;
  message: string | null;
  planId: string | null;
  summary: RunSummary | null;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type RunSummary = Omit<SolveReport, 'plan' | 'explanations'>;

export interface PlanRecord {
  id: string;
  runId: string;
  regionCode: string;
  status: PlanState;
  allocations: Plan['allocations'];
  orderIds: string[];
  /** Allocations not turned into orders, with why (no unit or venue on the demand, a refused placement). */
  skipped: { demandId: string; productId: string; reason: string }[];
  version: number;
  createdAt: string;
  approvedBy: string | null;
  approvedAt: string | null;
}

export interface MatchingConfig {
  weights: Partial<Weights>;
  repeatCap: number;
  supplierCapacity: number;
  floors: Floor[];
  mipMaxEdges: number;
  mipTimeLimitSeconds: number;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const runNotFound = () => new DomainError('not_found', 'RUN_NOT_FOUND', 'No such run (or it is outside your region)');
const planNotFound = () => new DomainError('not_found', 'PLAN_NOT_FOUND', 'No such plan (or it is outside your region)');

async function all<T>(read: (page: PageRequest) => Promise<PageOf<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await read({ limit: 200, cursor });
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

const lastDay = (period: string) => {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return `${period}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, '0')}`;
};

export class MatchingService {
  readonly sources: DemandSource[];

  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly jobs: Jobs,
    private readonly config: MatchingConfig,
    private readonly options: {
      name: string;
      systemActor: () => Promise<Actor>;
      /** The supplier registry's scores (0–5) when it is deployed. */
      quality?: ((supplierIds: readonly string[], db: Executor) => Promise<Map<string, { score: number | null }>>) | undefined;
      extraSources?: DemandSource[];
    },
  ) {
    this.sources = [this.requestSource(), this.orderSource(), ...(options.extraSources ?? [])];
  }

  private solveJob!: JobDefinition<{ instance: Instance; options: SolveOptions }, SolveReport>;
  bindJob(job: JobDefinition<{ instance: Instance; options: SolveOptions }, SolveReport>) {
    this.solveJob = job;
  }

  // ---- demand ----

  /** A unit's operator (for its unit) or staff over the unit posts what it wants. */
  async postDemand(input: DemandRequestInput, ctx: CallContext): Promise<DemandRequest> {
    const { actor } = ctx;
    if (!MONTH.test(input.period)) throw new DomainError('invalid', 'INVALID_PERIOD', 'period must be YYYY-MM');
    if (hasRole(actor, ['unit-operator']) && !hasRole(actor, ['city-admin', 'district-admin', 'street-operator', 'community-operator']) && actor.unitId !== input.unitId) {
      throw new DomainError('forbidden', 'NOT_YOUR_UNIT', 'A unit operator posts demand for its own unit only');
    }
    const unit = await this.kernel.units.get(input.unitId, { actor });
    const path = await this.kernel.regions.pathInScope(unit.regionCode, actor);
    const groups = await all((page) => this.kernel.populationGroups.list({ page }));
    if (!groups.some((g) => g.key === input.group)) throw new DomainError('invalid', 'UNKNOWN_GROUP', `Unknown population group: ${input.group}`);
    const categories = await all((page) => this.kernel.categories.list({ page }));
    if (!categories.some((c) => c.key === input.category)) throw new DomainError('invalid', 'UNKNOWN_CATEGORY', `Unknown category: ${input.category}`);
    if (input.venueId) await this.kernel.venues.get(input.venueId, { actor });
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [row] = await tx
        .insert(demandRequests)
        .values({
          unitId: unit.id,
          regionCode: unit.regionCode,
          regionPath: path,
          venueId: input.venueId ?? null,
          groupKey: input.group,
          category: input.category,
          tags: input.tags ?? [],
          period: input.period,
          weight: input.weight ?? 1,
          sessions: input.sessions ?? 1,
          audience: input.audience ?? null,
          createdBy: actor.userId,
        })
        .returning();
      const request = toRequest(row!);
      await this.kernel.audit.record(
        { actor, entityType: 'matching-demand', entityId: request.id, action: 'matching-demand.post', region: { code: unit.regionCode, path }, after: request, requestId: ctx.requestId },
        { tx },
      );
      return request;
    });
  }

  async listDemands(query: { page: PageRequest; period?: string | undefined }, ctx: { actor: Actor }): Promise<PageOf<DemandRequest>> {
    const rows = await this.db
      .select()
      .from(demandRequests)
      .where(and(withinScope(demandRequests.regionPath, ctx.actor), query.period ? eq(demandRequests.period, query.period) : undefined, query.page.cursor ? gt(demandRequests.id, query.page.cursor) : undefined))
      .orderBy(asc(demandRequests.id))
      .limit(query.page.limit + 1);
    const items = rows.slice(0, query.page.limit).map(toRequest);
    return { items, nextCursor: rows.length > query.page.limit ? items.at(-1)!.id : null };
  }

  private requestSource(): DemandSource {
    return {
      name: 'request',
      demands: async ({ regionPath, periods }, { db }) => {
        const rows = await db
          .select()
          .from(demandRequests)
          .where(and(withinScope(demandRequests.regionPath, { regionPath }), inArray(demandRequests.period, [...periods])));
        return rows.map((r) => ({
          id: `request:${r.id}`,
          unitId: r.unitId,
          venueId: r.venueId,
          regionCode: r.regionCode,
          group: r.groupKey,
          category: r.category,
          tags: r.tags,
          period: r.period,
          weight: r.weight,
          sessions: r.sessions,
          audience: r.audience,
          source: 'request',
        }));
      },
    };
  }

  /** Revealed demand: the kernel's live orders in the periods (what units already ordered says what they want). */
  private orderSource(): DemandSource {
    return {
      name: 'order',
      demands: async ({ regionPath, periods }) => {
        const system = await this.options.systemActor();
        const orders = (await all((page) => this.kernel.orders.list({ page }, { actor: system }))).filter(
          (o) => !['rejected', 'cancelled', 'draft'].includes(o.status) && periods.includes(o.windowStart.slice(0, 7)),
        );
        const out: DemandRecord[] = [];
        const products = new Map<string, { category: string; targetGroups: string[]; tags: string[] }>();
        for (const o of orders) {
          const path = await this.kernel.regions.path(o.regionCode);
          if (!path || !inScope({ regionPath }, path)) continue;
          let p = products.get(o.productId);
          if (!p) {
            p = await this.kernel.products.get(o.productId, { actor: system });
            products.set(o.productId, p);
          }
          out.push({
            id: `order:${o.id}`,
            unitId: o.unitId,
            venueId: o.venueId,
            regionCode: o.regionCode,
            group: p.targetGroups[0] ?? 'general-public',
            category: p.category,
            tags: p.tags,
            period: o.windowStart.slice(0, 7),
            weight: 1,
            sessions: 1,
            audience: o.expectedAudience,
            source: 'order',
          });
        }
        return out;
      },
    };
  }

  // ---- runs ----

  /** Builds the instance from kernel data (as the system actor, within `regionCode`). */
  async buildInstance(input: RunInput, path: string): Promise<Instance> {
    const system = await this.options.systemActor();
    const inside = await all((page) => this.kernel.regions.subtree({ code: input.regionCode, page }));
    const above = await this.kernel.regions.ancestors(input.regionCode);
    const regions: RegionNode[] = [...above.filter((r) => r.code !== input.regionCode), ...inside].map((r) => ({
      code: r.code,
      parentCode: r.parentCode,
      level: r.level,
      population: r.population,
    }));
    const codes = new Set(regions.map((r) => r.code));
    let demands: DemandRecord[] = [];
    for (const source of this.sources) demands.push(...(await source.demands({ regionCode: input.regionCode, regionPath: path, periods: input.periods }, { db: this.db })));
    demands = demands.filter((d) => codes.has(d.regionCode));
    const listed = await all((page) => this.kernel.products.list({ status: 'listed', region: input.regionCode, page }, { actor: system }));
    const scores = this.options.quality ? await this.options.quality(listed.map((p) => p.supplierId), this.db) : new Map<string, { score: number | null }>();
    const ordered = new Map<string, number>();
    for (const d of demands) if (d.source === 'order') ordered.set(d.id, 0);
    const counts = new Map<string, number>();
    const allOrders = await all((page) => this.kernel.orders.list({ page }, { actor: system }));
    for (const o of allOrders) if (!['rejected', 'cancelled'].includes(o.status)) counts.set(o.productId, (counts.get(o.productId) ?? 0) + 1);
    const most = Math.max(1, ...counts.values());
    const weights = { ...DEFAULT_WEIGHTS, ...this.config.weights };
    const products: ListedProduct[] = listed.map((p) => {
      const score = scores.get(p.supplierId)?.score;
      return {
        id: p.id,
        supplierId: p.supplierId,
        category: p.category,
        targetGroups: p.targetGroups,
        audienceMin: p.audienceMin,
        audienceMax: p.audienceMax,
        cost: p.costPerSession,
        serviceableRegions: p.serviceableRegions,
        tags: p.tags,
        quality: score == null ? weights.neutralQuality : Math.round((score / 5) * 1e4) / 1e4,
        qualitySource: score == null ? 'default' : 'registry',
        popularity: Math.round(((counts.get(p.id) ?? 0) / most) * 1e4) / 1e4,
      };
    });
    const budgets = (await all((page) => this.kernel.budgets.list({ year: input.year, page }, { actor: system })))
      .filter((b) => codes.has(b.regionCode))
      .map((b) => ({ regionCode: b.regionCode, amount: b.available }));
    const capacities: Capacity[] = [];
    const context = { regionCode: input.regionCode, periods: input.periods };
    const floors = await this.hooks.apply(matchingConstraints, [...(input.withoutPolicyFloors ? [] : this.config.floors.filter((f) => f.kind === 'group-share' || codes.has(f.regionCode))), ...(input.floors ?? [])], context);
    const base = buildInstance({
      periods: input.periods,
      regions,
      demands,
      products,
      capacities,
      defaultCapacity: this.config.supplierCapacity,
      budgets,
      floors,
      repeatCap: this.config.repeatCap,
      weights,
      objective: { alpha: input.alpha ?? 0 },
    });
    // The score filter sees every candidate once; values it returns replace the computed ones.
    const scored: ScoredCandidate[] = base.candidates.map((c) => ({ demand: base.demands[c.demand]!, product: base.products[c.product]!, relevance: c.relevance, value: c.value }));
    const adjusted = await this.hooks.apply(matchingScore, scored, context);
    base.candidates = base.candidates.map((c, i) => ({ ...c, value: Math.max(0, Math.round((adjusted[i]?.value ?? c.value) * 1e6) / 1e6) })).filter((c) => c.value > 0);
    return base;
  }

  /** Starts a run: the instance is built now, solved by a worker-thread job. */
  async startRun(input: RunInput, ctx: CallContext): Promise<Run> {
    const { actor } = ctx;
    const path = await this.kernel.regions.pathInScope(input.regionCode, actor);
    if (!input.periods.length || input.periods.some((p) => !MONTH.test(p))) throw new DomainError('invalid', 'INVALID_PERIOD', 'periods must be YYYY-MM months');
    const instance = await this.buildInstance(input, path);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [row] = await tx
        .insert(runs)
        .values({ regionCode: input.regionCode, regionPath: path, status: 'solving', options: input, instance, createdBy: actor.userId })
        .returning();
      const jobId = await this.jobs.send(
        this.solveJob,
        { instance, options: { solver: input.solver ?? 'auto', mipMaxEdges: this.config.mipMaxEdges, mipTimeLimit: this.config.mipTimeLimitSeconds } },
        { owner: actor, tx: tx as never },
      );
      await tx.update(runs).set({ jobId }).where(eq(runs.id, row!.id));
      await this.kernel.audit.record(
        { actor, entityType: 'matching-run', entityId: row!.id, action: 'matching-run.start', region: { code: input.regionCode, path }, after: { options: input, demands: instance.demands.length, products: instance.products.length, candidates: instance.candidates.length }, requestId: ctx.requestId },
        { tx },
      );
      return this.toRun({ ...row!, jobId }, null, undefined);
    });
  }

  private async visibleRun(id: string, actor: Actor) {
    const [row] = await this.db.select().from(runs).where(eq(runs.id, id));
    if (!row || !inScope(actor, row.regionPath)) throw runNotFound();
    return row;
  }

  /** A run; a finished job is recorded here (its report stored, its plan drafted) the first time it is read. */
  async getRun(id: string, ctx: { actor: Actor }): Promise<Run> {
    let row = await this.visibleRun(id, ctx.actor);
    let job: { progress: number; message: string | null } | undefined;
    if (row.status === 'solving' && row.jobId) {
      const system = await this.options.systemActor();
      const status = await this.jobs.get(row.jobId, { actor: system });
      job = status;
      if (status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled') {
        row = await this.finish(row, status.state, status.result as SolveReport | null, status.error);
      }
    }
    const [plan] = await this.db.select({ id: plans.id }).from(plans).where(eq(plans.runId, row.id));
    return this.toRun(row, plan?.id ?? null, job);
  }

  private async finish(row: typeof runs.$inferSelect, state: 'completed' | 'failed' | 'cancelled', report: SolveReport | null, error: string | null) {
    return withTransaction(this.db, undefined, async (tx) => {
      const status: RunState = state === 'completed' ? 'solved' : state;
      const [updated] = await tx
        .update(runs)
        .set({ status, report: report as never, error: error ?? null, finishedAt: new Date() })
        .where(and(eq(runs.id, row.id), eq(runs.status, 'solving')))
        .returning();
      if (!updated) return (await tx.select().from(runs).where(eq(runs.id, row.id)))[0]!;
      if (report) await tx.insert(plans).values({ runId: row.id, regionCode: row.regionCode, regionPath: row.regionPath, status: 'draft', allocations: report.plan.allocations });
      const system = await this.options.systemActor();
      await this.kernel.audit.record(
        { actor: system, entityType: 'matching-run', entityId: row.id, action: `matching-run.${status}`, region: { code: row.regionCode, path: row.regionPath }, after: report ? { welfare: report.welfare, bound: report.bound, gap: report.gap, solver: report.solver } : { error } },
        { tx },
      );
      return updated;
    });
  }

  async cancelRun(id: string, ctx: CallContext): Promise<Run> {
    const row = await this.visibleRun(id, ctx.actor);
    if (row.status !== 'solving' || !row.jobId) {
      throw new DomainError('conflict', 'INVALID_TRANSITION', `This run is ${row.status}: only a run that is solving can be cancelled`, { state: row.status });
    }
    const system = await this.options.systemActor();
    await this.jobs.cancel(row.jobId, { actor: system }).catch((e: unknown) => {
      if (!(e instanceof DomainError)) throw e;
    });
    return this.getRun(id, ctx);
  }

  async listRuns(query: { page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Run>> {
    const rows = await this.db
      .select()
      .from(runs)
      .where(and(withinScope(runs.regionPath, ctx.actor), query.page.cursor ? gt(runs.id, query.page.cursor) : undefined))
      .orderBy(asc(runs.id))
      .limit(query.page.limit + 1);
    const items = rows.slice(0, query.page.limit).map((r) => this.toRun(r, null, undefined));
    return { items, nextCursor: rows.length > query.page.limit ? items.at(-1)!.id : null };
  }

  /** The run's instance and report (with explanations), for export and explanation routes. */
  async runData(id: string, ctx: { actor: Actor }): Promise<{ instance: Instance; report: SolveReport | null }> {
    await this.getRun(id, ctx);
    const row = await this.visibleRun(id, ctx.actor);
    return { instance: row.instance as Instance, report: (row.report as SolveReport | null) ?? null };
  }

  private toRun(row: typeof runs.$inferSelect, planId: string | null, job: { progress: number; message: string | null } | undefined): Run {
    let summary: RunSummary | null = null;
    if (row.report) {
      const { plan: _plan, explanations: _explanations, ...rest } = row.report as SolveReport;
      summary = rest;
    }
    return {
      id: row.id,
      regionCode: row.regionCode,
      status: row.status as RunState,
      jobId: row.jobId,
      options: row.options as RunInput,
      progress: row.status === 'solving' ? (job?.progress ?? 0) : 100,
      message: job?.message ?? null,
      planId,
      summary,
      error: row.error,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    };
  }

  // ---- plans ----

  async getPlan(id: string, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<PlanRecord> {
    const [row] = await (ctx.tx ?? this.db).select().from(plans).where(eq(plans.id, id));
    if (!row || !inScope(ctx.actor, row.regionPath)) throw planNotFound();
    return toPlan(row);
  }

  /** Approve or discard a plan (If-Match), audited. */
  async act(input: { id: string; action: Exclude<PlanAction, 'order'>; expectedVersion: number }, ctx: CallContext): Promise<PlanRecord> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const before = await this.getPlan(input.id, { actor: ctx.actor, tx });
      const to = nextState(planLifecycle, before.status, input.action);
      const [row] = await tx
        .update(plans)
        .set({ status: to, version: before.version + 1, ...(input.action === 'approve' ? { approvedBy: ctx.actor.userId, approvedAt: new Date() } : {}) })
        .where(and(eq(plans.id, input.id), eq(plans.version, input.expectedVersion)))
        .returning();
      if (!row) throw new DomainError('conflict', 'STALE_VERSION', 'The plan changed since you read it', { currentVersion: before.version });
      const after = toPlan(row);
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-plan', entityId: after.id, action: `matching-plan.${input.action}`, region: { code: row.regionCode, path: row.regionPath }, before: { status: before.status }, after: { status: after.status }, requestId: ctx.requestId },
        { tx },
      );
      return after;
    });
  }

  /**
   * Turns an approved plan into kernel draft orders, one per session, by the caller (staff
   * over the units), in one transaction: each order carries the plan id as extension data
   * and then climbs its normal approval chain once submitted. Allocations whose demand has
   * no unit or venue are skipped with the reason. Once: the plan is `ordered` afterwards.
   */
  async toOrders(input: { id: string; expectedVersion: number }, ctx: CallContext): Promise<PlanRecord> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const plan = await this.getPlan(input.id, { actor: ctx.actor, tx });
      const to = nextState(planLifecycle, plan.status, 'order');
      if (plan.version !== input.expectedVersion) throw new DomainError('conflict', 'STALE_VERSION', 'The plan changed since you read it', { currentVersion: plan.version });
      const [run] = await tx.select().from(runs).where(eq(runs.id, plan.runId));
      const instance = run!.instance as Instance;
      const demands = new Map(instance.demands.map((d) => [d.id, d]));
      const orderIds: string[] = [];
      const skipped: PlanRecord['skipped'] = [];
      for (const a of plan.allocations) {
        const d = demands.get(a.demandId)!;
        if (!d.unitId || !d.venueId) {
          skipped.push({ demandId: a.demandId, productId: a.productId, reason: !d.unitId ? 'no unit on the demand' : 'no venue on the demand' });
          continue;
        }
        for (let n = 0; n < a.sessions; n++) {
          const placed = await this.kernel.orders.place(
            {
              unitId: d.unitId,
              productId: a.productId,
              venueId: d.venueId,
              windowStart: `${d.period}-01`,
              windowEnd: lastDay(d.period),
              expectedAudience: d.audience ?? 100,
              extensions: { [this.options.name]: { planId: plan.id, demandId: d.id } },
            },
            { actor: ctx.actor, tx, requestId: ctx.requestId },
          );
          if ('order' in placed) orderIds.push(placed.order.id);
        }
      }
      const [row] = await tx
        .update(plans)
        .set({ status: to, version: plan.version + 1, orderIds, skipped })
        .where(and(eq(plans.id, plan.id), eq(plans.version, plan.version)))
        .returning();
      if (!row) throw new DomainError('conflict', 'STALE_VERSION', 'The plan changed since you read it');
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-plan', entityId: plan.id, action: 'matching-plan.order', region: { code: row.regionCode, path: row.regionPath }, before: { status: plan.status }, after: { status: to, orders: orderIds.length, skipped: skipped.length }, requestId: ctx.requestId },
        { tx },
      );
      return toPlan(row);
    });
  }

  /** The extension data of orders (`extensions.matching`): the plan and demand each came from. */
  async planOf(orderIds: readonly string[], db: Executor): Promise<Map<string, { planId: string; demandId: string }>> {
    if (!orderIds.length) return new Map();
    const rows = await db.select().from(planOrders).where(inArray(planOrders.orderId, [...orderIds]));
    return new Map(rows.map((r) => [r.orderId, { planId: r.planId, demandId: r.demandId }]));
  }
}

function toRequest(r: typeof demandRequests.$inferSelect): DemandRequest {
  return {
    id: r.id,
    unitId: r.unitId,
    regionCode: r.regionCode,
    venueId: r.venueId,
    group: r.groupKey,
    category: r.category,
    tags: r.tags,
    period: r.period,
    weight: r.weight,
    sessions: r.sessions,
    audience: r.audience,
    createdAt: r.createdAt.toISOString(),
  };
}

function toPlan(r: typeof plans.$inferSelect): PlanRecord {
  return {
    id: r.id,
    runId: r.runId,
    regionCode: r.regionCode,
    status: r.status as PlanState,
    allocations: r.allocations as Plan['allocations'],
    orderIds: r.orderIds as string[],
    skipped: r.skipped as PlanRecord['skipped'],
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    approvedBy: r.approvedBy,
    approvedAt: r.approvedAt?.toISOString() ?? null,
  };
}

export { PLAN_VERSION };
