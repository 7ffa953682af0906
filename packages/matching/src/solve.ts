/**
 * One solve, end to end: phase 1 (which floors can be met), the heuristic, the LP bound,
 * the MIP for small instances, the price of fairness and of each floor, explanations,
 * evaluation and an independent verification of the plan returned.
 */
import { greedy } from './greedy.js';
import { highs, LpSession, solveLp, type LpResult } from './lp.js';
import { compile, type FloorRow, type Model } from './model.js';
import { fairUtility, MAX_MIN_ALPHA, PLAN_VERSION, relevanceOf, round6, type Instance, type Plan } from './problem.js';
import { evaluate, verify, type Evaluation, type Violation } from './verify.js';

export interface SolveOptions {
  /** `auto`: the MIP too when the instance has at most `mipMaxEdges` candidate edges. */
  solver?: 'heuristic' | 'mip' | 'auto';
  mipMaxEdges?: number;
  /** Seconds for the MIP (HiGHS `time_limit`). */
  mipTimeLimit?: number;
  /** Price each floor by re-solving the LP without it, for up to this many floors (duals for all). */
  pricedFloors?: number;
  /** Skip the LP (bound, duals, prices): for quick previews. */
  bound?: boolean;
  signal?: AbortSignal;
  progress?: (percent: number, message: string) => void | Promise<void>;
}

export interface Explanation {
  demandId: string;
  productId: string;
  sessions: number;
  unitId: string | null;
  regionCode: string;
  period: string;
  group: string;
  source: string;
  weight: number;
  relevance: { total: number; category: number; group: number; tags: number };
  quality: { value: number; source: 'registry' | 'default' };
  popularity: number;
  valuePerSession: number;
  /** The floors this allocation counts towards. */
  floors: string[];
  /** The limit that stopped more sessions of this edge: `demand`, `repeat`, `capacity`, `budget:<region>`, `cap:<region>`, or null. */
  limitedBy: string | null;
}

export interface FloorReport {
  id: string;
  kind: 'region-sessions' | 'group-share';
  /** Sessions (region floors) or share (group floors) asked for. */
  required: number;
  achieved: number;
  met: boolean;
  /** LP dual: welfare lost per extra session the floor asks for (region floors; per unit of slack for shares). */
  dual: number | null;
  /** LP bound without this floor − LP bound with all floors (null: not re-solved). */
  price: number | null;
}

export interface SolveReport {
  plan: Plan;
  solver: 'heuristic' | 'mip';
  alpha: number;
  /** The objective the solver maximised (Σ value for α = 0, Σ f_α otherwise). */
  welfare: number;
  /** Σ value × sessions, whatever α. */
  value: number;
  /** LP relaxation bound on the welfare (null without the LP). */
  bound: number | null;
  /** (bound − welfare) ÷ bound: the certificate. 0 is proven optimal. */
  gap: number | null;
  timings: Record<string, number>;
  heuristicWelfare: number;
  mip: { status: string; welfare: number } | null;
  feasibility: { feasible: boolean; relaxations: { floorId: string; shortfall: number }[] };
  floors: FloorReport[];
  priceOfFairness: { unconstrained: number; fair: number; ratio: number } | null;
  evaluation: Evaluation;
  verification: { ok: boolean; violations: Violation[] };
  explanations: Explanation[];
}

export function welfareOf(model: Model, x: readonly number[], alpha: number): number {
  if (alpha === 0) return model.edges.reduce((s, e, i) => s + e.value * x[i]!, 0);
  const u = model.streets.map(() => 0);
  model.edges.forEach((e, i) => (u[e.street]! += e.value * model.streetScale[e.street]! * x[i]!));
  const used = [...new Set(model.edges.map((e) => e.street))];
  if (alpha >= MAX_MIN_ALPHA) return used.length ? Math.min(...used.map((s) => u[s]!)) : 0;
  return used.reduce((s, r) => s + fairUtility(u[r]!, alpha), 0);
}

export function planOf(model: Model, x: readonly number[]): Plan {
  const allocations = model.edges.flatMap((e, i) =>
    x[i]! > 0 ? [{ demandId: model.instance.demands[e.demand]!.id, productId: model.instance.products[e.product]!.id, sessions: x[i]! }] : [],
  );
  return { version: PLAN_VERSION, allocations };
}

const now = () => performance.now();
/** HiGHS statuses that mean the floors cannot all be met (the LP has no other way to be infeasible). */
const INFEASIBLE = new Set(['Infeasible', 'Primal infeasible or unbounded']);

export async function solve(instance: Instance, options: SolveOptions = {}): Promise<SolveReport> {
  const timings: Record<string, number> = {};
  const stop = () => {
    if (options.signal?.aborted) throw new Error('The solve was cancelled');
  };
  const progress = async (p: number, m: string) => {
    stop();
    await options.progress?.(p, m);
  };
  const alpha = instance.objective.alpha;
  let t = now();
  const model = compile(instance);
  timings.compile = now() - t;
  const wantBound = options.bound !== false;
  await progress(5, `${model.edges.length} candidate edges, ${model.rows.length} limits, ${model.floors.length} floors`);

  // HiGHS loads (its WebAssembly compiles) while the first heuristic runs.
  const loading = wantBound ? highs() : null;

  // The heuristic with every floor: no LP needed (a quick preview stops here).
  let floors: FloorRow[] = model.floors;
  t = now();
  let plain = greedy(model, { floors, alpha, signal: options.signal });
  timings.heuristic = now() - t;
  await progress(20, 'heuristic done');

  // One HiGHS model (LpSession) for the bound and every re-solve: dropping a floor only
  // changes a row bound, so the price of fairness and each floor's price start from the
  // previous basis instead of from scratch.
  const relaxations: { floorId: string; shortfall: number }[] = [];
  let bound: number | null = null;
  let lp: LpResult | null = null;
  let duals = new Map<string, number>();
  const prices = new Map<string, number>();
  let priceOfFairness: SolveReport['priceOfFairness'] = null;
  let session: LpSession | null = null;
  let x: number[] = plain.x;
  let heuristicWelfare = 0;
  let solver: SolveReport['solver'] = 'heuristic';
  let mip: SolveReport['mip'] = null;
  try {
    if (loading) {
      await loading;
      // Cancelled while the heuristic ran or HiGHS loaded: not worth starting the LP.
      stop();
      t = now();
      // The heuristic's plan seeds the column-generated LP: when it meets the floors, so can the first restricted LP.
      session = await LpSession.open(model, { floors, alpha, seed: plain.x });
      lp = session.run();
      timings.lp = now() - t;
      // Phase 1, only when the floors cannot all be met: which, and by how much.
      if (floors.length && INFEASIBLE.has(lp.status)) {
        t = now();
        const phase1 = await solveLp(model, { floors: model.floors, shortfall: true, seed: plain.x });
        timings.phase1 = now() - t;
        if (phase1.objective > 1e-7) {
          floors = model.floors.map((f) => {
            const s = phase1.slack.get(f.id) ?? 0;
            if (s <= 1e-7) return f;
            relaxations.push({ floorId: f.id, shortfall: round6(s) });
            return f.kind === 'region-sessions' ? { ...f, required: Math.max(0, Math.floor(f.required - s + 1e-7)) } : { ...f, share: 0 };
          });
          await progress(30, `floors not all feasible: ${relaxations.map((r) => r.floorId).join(', ')}`);
          session.close();
          t = now();
          session = await LpSession.open(model, { floors, alpha, seed: plain.x });
          lp = session.run();
          timings.lp = (timings.lp ?? 0) + now() - t;
          t = now();
          plain = greedy(model, { floors, alpha, signal: options.signal });
          timings.heuristic = (timings.heuristic ?? 0) + now() - t;
        }
      }
      bound = lp.status === 'Optimal' ? lp.objective : null;
      duals = lp.floorDuals;
      await progress(50, `LP bound ${bound === null ? lp.status : round6(bound)}`);
      const capped = model.rows.some((r) => r.kind === 'cap');
      if ((floors.length || capped) && bound !== null) {
        t = now();
        // The price of fairness: the same LP without the floors and without the region caps.
        const free = session.run(new Set(), { caps: false });
        if (free.status === 'Optimal') priceOfFairness = { unconstrained: free.objective, fair: bound, ratio: free.objective > 0 ? round6((free.objective - bound) / free.objective) : 0 };
        const priced = floors.slice(0, options.pricedFloors ?? 12);
        const all = floors.map((f) => f.id);
        for (const [k, f] of priced.entries()) {
          const without = session.run(new Set(all.filter((id) => id !== f.id)));
          if (without.status === 'Optimal') prices.set(f.id, round6(without.objective - bound));
          await progress(50 + Math.round((20 * (k + 1)) / priced.length), `priced floor ${f.id}`);
        }
        timings.prices = now() - t;
      }
    }

    // LP-guided rounding: the relaxation rounded, repaired, filled and improved; the better of the two heuristics is kept.
    let heuristic = plain;
    if (lp && bound !== null) {
      stop();
      t = now();
      const guided = greedy(model, { floors, alpha, signal: options.signal, start: lp.x });
      timings.rounding = now() - t;
      if (better(model, floors, alpha, guided.x, plain.x)) heuristic = guided;
    }
    heuristicWelfare = welfareOf(model, heuristic.x, alpha);
    await progress(75, 'LP-guided rounding done');

    x = heuristic.x;
    const useMip = options.solver === 'mip' || (options.solver !== 'heuristic' && model.edges.length <= (options.mipMaxEdges ?? 2000));
    if (useMip) {
      t = now();
      const exact = await solveLp(model, { floors, alpha, integer: true, timeLimit: options.mipTimeLimit ?? 10 });
      timings.mip = now() - t;
      const rounded = exact.x.map((v) => Math.max(0, Math.round(v)));
      const ok = verify(instance, planOf(model, rounded), { floors: false }).ok && floorsHold(floors, rounded);
      const w = ok ? welfareOf(model, rounded, alpha) : -Infinity;
      mip = { status: exact.status, welfare: Number.isFinite(w) ? round6(w) : 0 };
      if (ok && better(model, floors, alpha, rounded, heuristic.x)) {
        x = rounded;
        solver = 'mip';
      }
      await progress(90, `MIP ${exact.status}`);
    }

    // The certificate holds for the plan returned: when the heuristic's integral plan misses a
    // floor the LP enforced (a group share the fractional LP meets, say), the bound is the LP
    // without the floors the plan misses — a relaxation of the plan's own constraints.
    if (session && bound !== null) {
      const missed = new Set(floors.filter((f) => !floorsHold([f], x)).map((f) => f.id));
      if (missed.size) {
        t = now();
        const looser = session.run(new Set(floors.filter((f) => !missed.has(f.id)).map((f) => f.id)));
        bound = looser.status === 'Optimal' ? looser.objective : null;
        timings.boundWithoutMissed = now() - t;
      }
    }
  } finally {
    session?.close();
  }

  const plan = planOf(model, x);
  const welfare = welfareOf(model, x, alpha);
  const check = verify(instance, plan, { floors: false });
  const achieved = floorProgress(model, x);
  const floorReports: FloorReport[] = model.floors.map((f, i) => ({
    id: f.id,
    kind: f.kind,
    required: f.kind === 'region-sessions' ? f.required : f.share,
    achieved: achieved[i]!,
    met: f.kind === 'region-sessions' ? achieved[i]! >= f.required : achieved[i]! >= f.share - 1e-9,
    dual: duals.has(f.id) ? round6(-duals.get(f.id)!) : null,
    price: prices.get(f.id) ?? null,
  }));
  const gap = bound === null ? null : bound <= 1e-12 ? 0 : round6(Math.max(0, (bound - welfare) / Math.abs(bound)));
  await progress(100, 'done');
  return {
    plan,
    solver,
    alpha,
    welfare: round6(welfare),
    value: round6(check.value),
    bound: bound === null ? null : round6(bound),
    gap,
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])),
    heuristicWelfare: round6(heuristicWelfare),
    mip,
    feasibility: { feasible: relaxations.length === 0 && floorReports.every((f) => f.met), relaxations },
    floors: floorReports,
    priceOfFairness,
    evaluation: evaluate(instance, plan),
    verification: { ok: check.ok, violations: check.violations },
    explanations: explain(model, x),
  };
}

function floorProgress(model: Model, x: readonly number[]): number[] {
  const total = x.reduce((s, v) => s + v, 0);
  return model.floors.map((f) => {
    let n = 0;
    for (const e of f.members) n += x[e]!;
    return f.kind === 'region-sessions' ? n : total ? round6(n / total) : 1;
  });
}

/**
 * Whether plan a beats plan b: fewer floors missed first, then welfare. Welfare alone would
 * prefer a heuristic plan that misses a floor over an exact plan that meets every one.
 */
function better(model: Model, floors: FloorRow[], alpha: number, a: readonly number[], b: readonly number[]): boolean {
  const missed = (x: readonly number[]) => floors.filter((f) => !floorsHold([f], x)).length;
  const [ma, mb] = [missed(a), missed(b)];
  return ma !== mb ? ma < mb : welfareOf(model, a, alpha) > welfareOf(model, b, alpha) + 1e-9;
}

function floorsHold(floors: FloorRow[], x: readonly number[]): boolean {
  const total = x.reduce((s, v) => s + v, 0);
  return floors.every((f) => {
    let n = 0;
    for (const e of f.members) n += x[e]!;
    return f.kind === 'region-sessions' ? n >= f.required : n >= f.share * total - 1e-7;
  });
}

/** What the plan uses of every row. */
function usage(model: Model, x: readonly number[]): Float64Array {
  const { edgeRowStart, edgeRow, edgeCoef } = model;
  const use = new Float64Array(model.rows.length);
  for (let e = 0; e < model.edges.length; e++) {
    const n = x[e]!;
    if (n) for (let k = edgeRowStart[e]!; k < edgeRowStart[e + 1]!; k++) use[edgeRow[k]!]! += edgeCoef[k]! * n;
  }
  return use;
}

/** The first row (by index) one more session of edge e would overfill, or −1. */
function tightRow(model: Model, use: Float64Array, e: number): number {
  const { edgeRowStart, edgeRow, edgeCoef, rowLimit } = model;
  for (let k = edgeRowStart[e]!; k < edgeRowStart[e + 1]!; k++) if (use[edgeRow[k]!]! + edgeCoef[k]! > rowLimit[edgeRow[k]!]! + 1e-7) return edgeRow[k]!;
  return -1;
}

/** Why each allocation is there: the demand, the score's parts, the floors it serves, what limited it. */
export function explain(model: Model, x: readonly number[]): Explanation[] {
  const { instance, edges, rows } = model;
  const use = usage(model, x);
  const out: Explanation[] = [];
  edges.forEach((edge, e) => {
    if (!x[e]) return;
    const d = instance.demands[edge.demand]!;
    const p = instance.products[edge.product]!;
    const r = relevanceOf(d, p, instance.weights);
    const tight = tightRow(model, use, e);
    out.push({
      demandId: d.id,
      productId: p.id,
      sessions: x[e]!,
      unitId: d.unitId,
      regionCode: d.regionCode,
      period: d.period,
      group: d.group,
      source: d.source,
      weight: d.weight,
      relevance: { total: round6(r.relevance), category: r.category, group: r.group, tags: round6(r.tags) },
      quality: { value: p.quality, source: p.qualitySource },
      popularity: p.popularity,
      valuePerSession: edge.value,
      floors: model.floors.filter((f) => f.members.has(e)).map((f) => f.id),
      limitedBy: tight >= 0 ? (rows[tight]!.kind === 'budget' || rows[tight]!.kind === 'cap' ? `${rows[tight]!.kind}:${rows[tight]!.key}` : rows[tight]!.kind) : null,
    });
  });
  return out;
}

/** Why a product was not allocated to a demand (or a unit's demands): the first reason that applies. */
export function whyNot(instance: Instance, plan: Plan, demandId: string, productId: string): { reason: string; detail: string } {
  const model: Model = compile(instance);
  const di = instance.demands.findIndex((d) => d.id === demandId);
  const pi = instance.products.findIndex((p) => p.id === productId);
  if (di < 0) return { reason: 'unknown-demand', detail: 'No such demand record in this run' };
  if (pi < 0) return { reason: 'not-listed', detail: 'The product was not listed (or not in the run) when the run started' };
  const d = instance.demands[di]!;
  const p = instance.products[pi]!;
  const allocated = plan.allocations.find((a) => a.demandId === demandId && a.productId === productId);
  if (allocated) return { reason: 'allocated', detail: `${allocated.sessions} session(s) allocated` };
  const e = model.edges.findIndex((edge) => edge.demand === di && edge.product === pi);
  if (e < 0) {
    const r = relevanceOf(d, p, instance.weights);
    if (r.relevance < instance.weights.minRelevance) return { reason: 'not-relevant', detail: `Relevance ${round6(r.relevance)} is below ${instance.weights.minRelevance} (category ${r.category}, group ${r.group})` };
    const chain = new Set<string>();
    const parent = new Map(instance.regions.map((g) => [g.code, g.parentCode]));
    for (let c: string | null | undefined = d.regionCode; c; c = parent.get(c)) chain.add(c);
    if (!p.serviceableRegions.some((c) => chain.has(c))) return { reason: 'not-serviceable', detail: `The product does not serve ${d.regionCode}` };
    if (d.audience != null && (d.audience < p.audienceMin || d.audience > p.audienceMax)) return { reason: 'audience', detail: `Audience ${d.audience} is outside ${p.audienceMin}–${p.audienceMax}` };
    return { reason: 'not-shortlisted', detail: `Not among the ${instance.weights.candidatesPerDemand} best products for this demand` };
  }
  const x = model.edges.map((edge) => {
    const a = plan.allocations.find((al) => al.demandId === instance.demands[edge.demand]!.id && al.productId === instance.products[edge.product]!.id);
    return a?.sessions ?? 0;
  });
  const use = usage(model, x);
  const tight = tightRow(model, use, e);
  if (tight >= 0) {
    const row = model.rows[tight]!;
    const what = { demand: 'The demand already has the sessions it asked for', repeat: 'The repeat cap for this product in the street and period is reached', capacity: "The supplier's capacity in the period is used up", budget: `The budget of ${row.key} cannot pay another session`, cap: `The cap on sessions in ${row.key} is reached` }[row.kind];
    return { reason: row.kind, detail: what };
  }
  return { reason: 'lower-value', detail: `Value ${model.edges[e]!.value} per session: other sessions served more demand within the same limits` };
}

/**
 * The popularity-greedy baseline: sessions go to the most ordered products first, within
 * every limit but ignoring relevance, quality and floors — what a platform ranking by
 * traffic does (region caps are policy too: left out). Evaluation compares plans with it on the same input.
 */
export function popularityBaseline(instance: Instance): Plan {
  // Traffic ranking knows no policy: no floors and no caps.
  const model = compile({ ...instance, caps: [] });
  const { x } = greedy(model, { floors: [], improve: false, priority: (e) => instance.products[model.edges[e]!.product]!.popularity + 1e-9 * model.edges[e]!.value });
  return planOf(model, x);
}
