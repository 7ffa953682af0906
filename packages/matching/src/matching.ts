/**
 * Matching's domain services: demand (kernel orders, the survey's demand records when
 * the survey is deployed, and any other `DemandSource`), runs (the instance built from
 * kernel data, solved by a worker-thread job), plans (draft → approved → kernel draft
 * orders, once) and recommendations for one unit.
 */
import {
  DomainError,
  forbidden,
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
  type ProductSummary,
} from '@diandan/kernel';
import { and, asc, eq, gt, inArray, isNotNull } from 'drizzle-orm';
import { matchingConstraints, matchingScore, planOrdered, type ScoredCandidate } from './hooks.js';
import { planLifecycle, type PlanAction, type PlanState, type RunState } from './lifecycle.js';
import {
  DEFAULT_WEIGHTS,
  INSTANCE_VERSION,
  PLAN_VERSION,
  buildInstance,
  relevanceOf,
  round6,
  valueOf,
  type Capacity,
  type DemandRecord,
  type Floor,
  type RegionCap,
  type Instance,
  type ListedProduct,
  type Plan,
  type RegionNode,
  type Weights,
} from './problem.js';
import { planOrders, plans, runs } from './schema.js';
import { whyNot, type Explanation, type SolveReport } from './solve.js';
import type { SolveJobData } from './worker.js';

/** Who runs, approves and converts plans. */
export const PLANNER_ROLES = ['city-admin', 'district-admin'] as const;

/** Where a run's demand comes from. */
export interface DemandSource {
  readonly name: string;
  demands(query: { regionCode: string; regionPath: string; periods: readonly string[] }, ctx: { db: Executor }): Promise<DemandRecord[]>;
}

/** What matching reads of the survey's demand records (its `DemandService.list`). */
export interface SurveyDemandReader {
  list(
    query: { regionCode?: string | undefined; period?: string | undefined; page: PageRequest },
    ctx: { actor: Actor },
  ): Promise<PageOf<{ id: number; source: string; regionCode: string; group: string; category: string; tags: string[]; period: string; weight: number }>>;
}

/**
 * A policy band on every region of one level inside the run (e.g. every street): at least
 * `floorPerTenThousand` and at most `capPerTenThousand` sessions per 10,000 residents. It
 * expands to one region floor (`band-<level>-floor-<code>`) and one region cap
 * (`band-<level>-cap-<code>`) per region of that level with a population.
 */
export interface LevelBand {
  level: string;
  floorPerTenThousand?: number | undefined;
  capPerTenThousand?: number | undefined;
}

/** The floors and caps a list of bands asks for, over the regions of a run. */
export function bandRules(bands: readonly LevelBand[], regions: readonly RegionNode[]): { floors: Floor[]; caps: RegionCap[] } {
  const floors: Floor[] = [];
  const caps: RegionCap[] = [];
  for (const band of bands) {
    for (const r of regions) {
      if (r.level !== band.level || !r.population) continue;
      if (band.floorPerTenThousand) floors.push({ id: `band-${band.level}-floor-${r.code}`, kind: 'region-sessions', regionCode: r.code, perTenThousand: band.floorPerTenThousand });
      if (band.capPerTenThousand !== undefined) caps.push({ id: `band-${band.level}-cap-${r.code}`, regionCode: r.code, perTenThousand: band.capPerTenThousand });
    }
  }
  return { floors, caps };
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
  /** Level bands added to the deployment's for this run (a floor and/or cap per 10,000 residents on every region of a level). */
  bands?: LevelBand[] | undefined;
  /** Region caps added to the deployment's for this run. */
  caps?: RegionCap[] | undefined;
  /** Not before this time (ISO date-time): a city-wide run scheduled for the night. Until then the run is solving with progress 0, and can be cancelled. */
  startAfter?: string | undefined;
  /** Leave out the deployment's floors and caps (to see the unconstrained plan). */
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
  /** The deployment's region caps (sessions per 10,000 residents or absolute), in every run. */
  caps: RegionCap[];
  /** The deployment's level bands (floor and cap per 10,000 residents on every region of a level), in every run. */
  bands: LevelBand[];
  mipMaxEdges: number;
  mipTimeLimitSeconds: number;
  /** Floors priced by re-solving the LP without each (every floor gets its dual anyway). */
  pricedFloors: number;
  /** Recommendations: each earlier pick of the same category or supplier multiplies a product's score by this (0–1). */
  diversity: number;
}

/** One ranked product for a unit's ordering screen. */
export interface Recommendation {
  productId: string;
  title: string;
  category: string;
  supplierId: string;
  cost: number;
  /** Relevance × quality (× the score filter), before diversity and repeats. */
  value: number;
  /** What ranks it: value × diversity × repeat factors. */
  score: number;
  affordable: boolean;
  reasons: string[];
  /** The demand record it serves best (null: no recorded demand, ranked by quality). */
  demand: { id: string; source: string; category: string; group: string } | null;
}

export interface Recommendations {
  unitId: string;
  regionCode: string;
  period: string;
  /** The unit's region's available budget for the period's year (null: no budget allocated there). */
  remainingBudget: number | null;
  demands: number;
  items: Recommendation[];
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

/** The demand's audience, within the product's range (100 when the demand says nothing). */
const audienceFor = (audience: number | null, p: ListedProduct | undefined) => Math.min(p?.audienceMax ?? Infinity, Math.max(p?.audienceMin ?? 1, audience ?? 100));

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
      /** The survey's demand records, when the survey is deployed. */
      survey?: SurveyDemandReader | undefined;
      extraSources?: DemandSource[];
    },
  ) {
    this.sources = [this.orderSource(), ...(options.survey ? [this.surveySource(options.survey)] : []), ...(options.extraSources ?? [])];
  }

  private solveJob!: JobDefinition<SolveJobData, SolveReport>;
  bindJob(job: JobDefinition<SolveJobData, SolveReport>) {
    this.solveJob = job;
  }

  // ---- demand ----

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

  /** The survey's demand records (responses, imports, other packages' signals; direct requests once the survey takes them). */
  private surveySource(reader: SurveyDemandReader): DemandSource {
    return {
      name: 'survey',
      demands: async ({ regionCode, periods }) => {
        const system = await this.options.systemActor();
        const out: DemandRecord[] = [];
        for (const period of periods) {
          const records = await all((page) => reader.list({ regionCode, period, page }, { actor: system }));
          for (const r of records) {
            const unitId = (r as { unitId?: string | null }).unitId ?? null;
            out.push({
              id: `survey:${r.id}`,
              unitId,
              venueId: (r as { venueId?: string | null }).venueId ?? null,
              regionCode: r.regionCode,
              group: r.group,
              category: r.category,
              tags: r.tags,
              period: r.period,
              weight: r.weight,
              sessions: (r as { sessions?: number }).sessions ?? 1,
              audience: (r as { audience?: number | null }).audience ?? null,
              source: r.source === 'survey' ? 'survey' : `survey:${r.source}`,
            });
          }
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
    const counts = new Map<string, number>();
    const allOrders = await all((page) => this.kernel.orders.list({ page }, { actor: system }));
    for (const o of allOrders) if (!['rejected', 'cancelled'].includes(o.status)) counts.set(o.productId, (counts.get(o.productId) ?? 0) + 1);
    const most = Math.max(1, ...counts.values());
    const weights = { ...DEFAULT_WEIGHTS, ...this.config.weights };
    const products: ListedProduct[] = listed.map((p) => ({ ...toListed(p, weights), popularity: Math.round(((counts.get(p.id) ?? 0) / most) * 1e4) / 1e4 }));
    const budgets = (await all((page) => this.kernel.budgets.list({ year: input.year, page }, { actor: system })))
      .filter((b) => codes.has(b.regionCode))
      .map((b) => ({ regionCode: b.regionCode, amount: b.available }));
    const capacities: Capacity[] = [];
    const context = { regionCode: input.regionCode, periods: input.periods, purpose: 'run' as const };
    const inRun = regions.filter((r) => codes.has(r.code));
    const band = bandRules([...(input.withoutPolicyFloors ? [] : this.config.bands), ...(input.bands ?? [])], inRun);
    const floors = await this.hooks.apply(
      matchingConstraints,
      [...(input.withoutPolicyFloors ? [] : this.config.floors.filter((f) => f.kind === 'group-share' || codes.has(f.regionCode))), ...band.floors, ...(input.floors ?? [])],
      context,
    );
    const base = buildInstance({
      periods: input.periods,
      regions,
      demands,
      products,
      capacities,
      defaultCapacity: this.config.supplierCapacity,
      budgets,
      floors,
      caps: [...(input.withoutPolicyFloors ? [] : this.config.caps.filter((c) => codes.has(c.regionCode))), ...band.caps, ...(input.caps ?? [])],
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

  /**
   * Checks a run's input and builds its instance from kernel data: outside the write's
   * transaction (the kernel's reads take none), before `startRun`.
   */
  async prepareRun(input: RunInput, actor: Actor): Promise<{ path: string; instance: Instance }> {
    if (!hasRole(actor, PLANNER_ROLES)) throw forbidden('Only city and district admins run plans');
    const path = await this.kernel.regions.pathInScope(input.regionCode, actor);
    if (!input.periods.length || input.periods.some((p) => !MONTH.test(p))) throw new DomainError('invalid', 'INVALID_PERIOD', 'periods must be YYYY-MM months');
    return { path, instance: await this.buildInstance(input, path) };
  }

  /** Starts a run: the instance (from `prepareRun`) is stored, and solved by a worker-thread job sent in the same transaction. */
  async startRun(input: RunInput, ctx: CallContext, prepared?: { path: string; instance: Instance }): Promise<Run> {
    const { actor } = ctx;
    const { path, instance } = prepared ?? (await this.prepareRun(input, actor));
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [row] = await tx
        .insert(runs)
        .values({ regionCode: input.regionCode, regionPath: path, status: 'solving', options: input, instance, createdBy: actor.userId })
        .returning();
      const jobId = await this.jobs.send(
        this.solveJob,
        { instance, options: { solver: input.solver ?? 'auto', mipMaxEdges: this.config.mipMaxEdges, mipTimeLimit: this.config.mipTimeLimitSeconds, pricedFloors: this.config.pricedFloors } },
        { owner: actor, tx: tx as never, ...(input.startAfter ? { startAfter: new Date(input.startAfter) } : {}) },
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

  /** A run; a finished job is recorded here (its report stored, its plan drafted) if `recordFinishedRuns` has not yet done so. */
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

  /**
   * Records every run whose solve has finished (its report stored, its plan drafted), as
   * reading a run does for that one run. The worker thread cannot write to the
   * database, so without this a run nobody reads would keep no plan, and its report
   * would go when the kernel's job retention deletes the job. The `record-finished-runs`
   * job runs it every minute. Returns how many runs it recorded.
   */
  async recordFinishedRuns(): Promise<number> {
    const system = await this.options.systemActor();
    const solving = await this.db.select().from(runs).where(and(eq(runs.status, 'solving'), isNotNull(runs.jobId)));
    let recorded = 0;
    for (const row of solving) {
      const status = await this.jobs.get(row.jobId!, { actor: system }).catch((e: unknown) => {
        if (e instanceof DomainError && e.code === 'JOB_NOT_FOUND') return undefined;
        throw e;
      });
      if (!status) {
        await this.finish(row, 'failed', null, 'The solve job’s record was deleted before its result was recorded');
        recorded++;
      } else if (status.state === 'completed' || status.state === 'failed' || status.state === 'cancelled') {
        await this.finish(row, status.state, status.result as SolveReport | null, status.error);
        recorded++;
      }
    }
    return recorded;
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


  /** Why each allocation is there (optionally of one unit), a page at a time. */
  async explanations(id: string, query: { unitId?: string | undefined; page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Explanation>> {
    const { report } = await this.solvedRun(id, ctx);
    const list = report.explanations.filter((e) => !query.unitId || e.unitId === query.unitId);
    const start = query.page.cursor ? Number(query.page.cursor) : 0;
    if (!Number.isInteger(start) || start < 0) throw new DomainError('invalid', 'INVALID_CURSOR', 'Unknown cursor');
    const items = list.slice(start, start + query.page.limit);
    return { items, nextCursor: start + query.page.limit < list.length ? String(start + query.page.limit) : null };
  }

  /** "Why not product P for unit U": the first reason for each of the unit's demand records in the run. */
  async whyNot(id: string, query: { unitId: string; productId: string }, ctx: { actor: Actor }) {
    const { instance, report } = await this.solvedRun(id, ctx);
    const demands = instance.demands.filter((d) => d.unitId === query.unitId);
    const allocated = report.plan.allocations.filter((a) => a.productId === query.productId && demands.some((d) => d.id === a.demandId)).reduce((n, a) => n + a.sessions, 0);
    if (!demands.length) {
      return { unitId: query.unitId, productId: query.productId, allocated, reasons: [{ demandId: null, reason: 'no-demand', detail: 'The unit had no demand record in this run (no order, request or survey record in its periods)' }] };
    }
    const reasons = demands.map((d) => ({ demandId: d.id as string | null, ...whyNot(instance, report.plan, d.id, query.productId) }));
    return { unitId: query.unitId, productId: query.productId, allocated, reasons };
  }

  /** The run's instance and plan, in their versioned schemas, for an independent check (`verify`). */
  async exportRun(id: string, ctx: { actor: Actor }) {
    const { instance, report } = await this.solvedRun(id, ctx);
    return {
      schema: { instance: INSTANCE_VERSION, plan: PLAN_VERSION } as const,
      runId: id,
      instance,
      plan: report.plan,
      summary: { welfare: report.welfare, value: report.value, bound: report.bound, gap: report.gap, solver: report.solver, alpha: report.alpha },
    };
  }

  private async solvedRun(id: string, ctx: { actor: Actor }): Promise<{ instance: Instance; report: SolveReport }> {
    const { instance, report } = await this.runData(id, ctx);
    if (!report) throw new DomainError('conflict', 'RUN_NOT_SOLVED', 'The run has no plan (still solving, failed or cancelled)');
    return { instance, report };
  }

  // ---- recommendations ----

  /**
   * Ranked products for one unit's ordering screen: each listed product that serves the
   * unit, valued by its best relevance × quality against the unit's demand (its orders
   * and the survey's records of its region), through `matching.score`; then re-ranked for
   * diversity (each earlier pick of the same category or supplier multiplies the score by
   * `diversity`) and repeats (products the unit ordered in the period: × 0.5 per order, out
   * at the repeat cap), affordable ones (within the remaining budget) first.
   */
  async recommend(unitId: string, query: { period: string; limit: number }, ctx: { actor: Actor }): Promise<Recommendations> {
    const { actor } = ctx;
    if (!MONTH.test(query.period)) throw new DomainError('invalid', 'INVALID_PERIOD', 'period must be YYYY-MM');
    if (!hasRole(actor, ['city-admin', 'district-admin', 'street-operator', 'community-operator']) && actor.unitId !== unitId) throw forbidden('A unit operator sees the recommendations of its own unit only');
    const unit = await this.kernel.units.get(unitId, { actor });
    const system = await this.options.systemActor();
    const weights = { ...DEFAULT_WEIGHTS, ...this.config.weights };
    const [listed, unitOrders, budget, surveyed] = await Promise.all([
      all((page) => this.kernel.products.list({ status: 'listed', region: unit.regionCode, page }, { actor: system })),
      all((page) => this.kernel.orders.list({ unitId, page }, { actor: system })),
      this.kernel.budgets.get({ regionCode: unit.regionCode, year: Number(query.period.slice(0, 4)) }, { actor: system }).catch((e: unknown) => {
        if (e instanceof DomainError && e.kind === 'not_found') return null;
        throw e;
      }),
      this.options.survey ? all((page) => this.options.survey!.list({ regionCode: unit.regionCode, period: query.period, page }, { actor: system })) : Promise.resolve([]),
    ]);
    const live = unitOrders.filter((o) => !['rejected', 'cancelled'].includes(o.status));
    const byId = new Map(listed.map((p) => [p.id, p]));
    const demands: DemandRecord[] = [
      ...live.flatMap((o) => {
        const p = byId.get(o.productId);
        return p ? [{ id: `order:${o.id}`, unitId, regionCode: unit.regionCode, group: p.targetGroups[0] ?? 'general-public', category: p.category, tags: p.tags, period: o.windowStart.slice(0, 7), weight: 1, sessions: 1, audience: o.expectedAudience, source: 'order' }] : [];
      }),
      ...surveyed.map((r) => ({ id: `survey:${r.id}`, unitId: null, regionCode: r.regionCode, group: r.group, category: r.category, tags: r.tags, period: r.period, weight: r.weight, sessions: 1, audience: null, source: 'survey' })),
    ];
    // Normalise weights so one large survey record does not drown the unit's own orders.
    const maxWeight = Math.max(1, ...demands.map((d) => d.weight));
    const products = listed.map((p) => toListed(p, weights));
    const candidates: ScoredCandidate[] = [];
    for (const p of products) {
      let best: ScoredCandidate | null = null;
      for (const d of demands) {
        const { relevance } = relevanceOf(d, p, weights);
        if (relevance < weights.minRelevance) continue;
        const value = valueOf({ ...d, weight: d.weight / maxWeight }, p, relevance, { ...weights, popularity: 0 });
        if (!best || value > best.value) best = { demand: d, product: p, relevance, value };
      }
      // No recorded demand it serves: ranked by quality alone, well below any demand it serves.
      candidates.push(best ?? { demand: { id: 'none', unitId, regionCode: unit.regionCode, group: 'general-public', category: p.category, tags: [], period: query.period, weight: 0.1, sessions: 1, audience: null, source: 'none' }, product: p, relevance: 0, value: 0.1 * p.quality });
    }
    const scored = await this.hooks.apply(matchingScore, candidates, { regionCode: unit.regionCode, periods: [query.period], purpose: 'recommendation' });
    const orderedInPeriod = new Map<string, number>();
    for (const o of live) if (o.windowStart.startsWith(query.period)) orderedInPeriod.set(o.productId, (orderedInPeriod.get(o.productId) ?? 0) + 1);
    const remaining = budget?.available ?? null;
    const pool = scored.filter((c) => c.value > 0 && (orderedInPeriod.get(c.product.id) ?? 0) < this.config.repeatCap);
    const picked: Recommendation[] = [];
    const categoryCount = new Map<string, number>();
    const supplierCount = new Map<string, number>();
    while (picked.length < query.limit && pool.length) {
      let bestIndex = -1;
      let bestKey: [number, number] = [-1, -Infinity];
      pool.forEach((c, i) => {
        const affordable = remaining === null || c.product.cost <= remaining ? 1 : 0;
        const factor = this.config.diversity ** ((categoryCount.get(c.product.category) ?? 0) + (supplierCount.get(c.product.supplierId) ?? 0)) * 0.5 ** (orderedInPeriod.get(c.product.id) ?? 0);
        const score = c.value * factor;
        if (affordable > bestKey[0] || (affordable === bestKey[0] && score > bestKey[1])) {
          bestKey = [affordable, score];
          bestIndex = i;
        }
      });
      const [c] = pool.splice(bestIndex, 1) as [ScoredCandidate];
      const p = c.product;
      const reasons: string[] = [];
      if (c.demand.source === 'none') reasons.push('No recorded demand it serves: ranked by quality');
      else {
        const r = relevanceOf(c.demand, p, weights);
        reasons.push(`Serves ${c.demand.source === 'order' ? "the unit's earlier order" : 'surveyed demand'} for ${c.demand.category} (${c.demand.group}), relevance ${round6(r.relevance)}`);
        if (r.group === 1) reasons.push(`Made for ${c.demand.group}`);
        if (r.tags > 0) reasons.push(`Tags in common: ${p.tags.filter((t) => c.demand.tags.includes(t)).join(', ')}`);
      }
      reasons.push(p.qualitySource === 'registry' ? `Quality ${p.quality} from the supplier registry` : `Quality ${p.quality} (no registry score yet: the neutral default)`);
      const same = (categoryCount.get(p.category) ?? 0) + (supplierCount.get(p.supplierId) ?? 0);
      if (same) reasons.push(`Diversity: ${same} earlier pick(s) of the same category or supplier (× ${round6(this.config.diversity ** same)})`);
      const times = orderedInPeriod.get(p.id) ?? 0;
      if (times) reasons.push(`Already ordered ${times} time(s) in ${query.period} (× ${0.5 ** times})`);
      const affordable = remaining === null || p.cost <= remaining;
      reasons.push(remaining === null ? `Costs ${p.cost} per session (no budget recorded for ${unit.regionCode})` : affordable ? `Costs ${p.cost} per session; ${remaining} remaining` : `Costs ${p.cost} per session: more than the ${remaining} remaining`);
      picked.push({
        productId: p.id,
        title: byId.get(p.id)?.title ?? p.id,
        category: p.category,
        supplierId: p.supplierId,
        cost: p.cost,
        value: round6(c.value),
        score: round6(bestKey[1]),
        affordable,
        reasons,
        demand: c.demand.source === 'none' ? null : { id: c.demand.id, source: c.demand.source, category: c.demand.category, group: c.demand.group },
      });
      categoryCount.set(p.category, (categoryCount.get(p.category) ?? 0) + 1);
      supplierCount.set(p.supplierId, (supplierCount.get(p.supplierId) ?? 0) + 1);
    }
    return { unitId, regionCode: unit.regionCode, period: query.period, remainingBudget: remaining, demands: demands.length, items: picked };
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
      const products = new Map(instance.products.map((p) => [p.id, p]));
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
              expectedAudience: audienceFor(d.audience, products.get(a.productId)),
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
      await this.hooks.publish(tx, planOrdered, { planId: plan.id, runId: plan.runId, regionCode: plan.regionCode, orderIds, actorId: ctx.actor.userId });
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'matching-plan', entityId: plan.id, action: 'matching-plan.order', region: { code: row.regionCode, path: row.regionPath }, before: { status: plan.status }, after: { status: to, orders: orderIds.length, skipped: skipped.length }, requestId: ctx.requestId },
        { tx },
      );
      return toPlan(row);
    });
  }

  /** Stores an order's plan (the `extensions.matching` a plan's order is placed with), in the kernel's write transaction. */
  async recordPlanOrder(orderId: string, value: { planId: string; demandId: string }, ctx: { tx: Executor; actor: Actor }): Promise<void> {
    const [plan] = await ctx.tx.select().from(plans).where(eq(plans.id, value.planId));
    // Only a planner converting an approved plan of its subtree may tie an order to it.
    if (!plan || !inScope(ctx.actor, plan.regionPath) || !hasRole(ctx.actor, PLANNER_ROLES) || plan.status !== 'approved') {
      throw new DomainError('invalid', 'PLAN_NOT_ORDERABLE', 'extensions.matching.planId must name an approved plan of your region');
    }
    const tx = ctx.tx;
    await tx.insert(planOrders).values({ orderId, planId: value.planId, demandId: value.demandId }).onConflictDoNothing();
  }

  /** The extension data of orders (`extensions.matching`): the plan and demand each came from. */
  async planOf(orderIds: readonly string[], db: Executor): Promise<Map<string, { planId: string; demandId: string }>> {
    if (!orderIds.length) return new Map();
    const rows = await db.select().from(planOrders).where(inArray(planOrders.orderId, [...orderIds]));
    return new Map(rows.map((r) => [r.orderId, { planId: r.planId, demandId: r.demandId }]));
  }
}

/** The supplier registry's score (0–5) as the kernel shows it on the product (`extensions['supplier-registry']`), when deployed. */
function registryScore(p: ProductSummary): number | null {
  const data = p.extensions?.['supplier-registry'] as { score?: number | null } | null | undefined;
  return typeof data?.score === 'number' ? data.score : null;
}

/** A kernel product as the model sees it (popularity 0: runs fill it in from past orders). */
function toListed(p: ProductSummary, weights: Weights): ListedProduct {
  const score = registryScore(p);
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
    popularity: 0,
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
