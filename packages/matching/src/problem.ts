/**
 * The allocation problem (精准配送), as plain data: no database, no HTTP, no solver.
 *
 * An `Instance` holds every input of a run after scoring — regions, demand records,
 * listed products with their quality, supplier capacities, budgets, policy floors, the
 * repeat cap and the objective — plus the candidate edges (demand × product) with their
 * per-session value. It is what a run exports (`INSTANCE_VERSION`), and what `verify`
 * re-checks a plan against without any solver code.
 *
 * Decision: x[e] ∈ ℕ sessions on each candidate edge e = (demand d, product p), delivered
 * in d's street and period. Constraints:
 *   Σ_p x[d,p] ≤ sessions_d                                   (demand asked for at most that many)
 *   Σ_{d ∈ street r, period t} x[d,p] ≤ repeatCap             (diversity: one product per street and period)
 *   Σ_{p of supplier s, d in period t} x[d,p] ≤ capacity_{s,t} (supplier capacity)
 *   Σ_{d under region R} cost_p · x[d,p] ≤ budget_R            (every budget, on its whole subtree)
 *   Σ_{d under R} x ≥ required_R                               (region floor: absolute or per 10,000 residents)
 *   Σ_{d of group g} x ≥ share_g · Σ x                          (special-group share)
 *   Σ_{d under R} x ≤ cap_R                                    (region cap: absolute or per 10,000 residents)
 * Objective (α = 0): maximise Σ value_e · x_e, where
 *   value_e = weight_d · relevance(d,p) · ((1 − β) · quality_p + β · popularity_p),  β ≤ 0.2
 *   relevance = wCategory·[category matches] + wGroup·groupFit + wTags·Jaccard(tags)
 * α-fair alternative: maximise Σ_r f_α(u_r), u_r the value served in street r per 10,000
 * residents, f_0(u) = u, f_1(u) = ln(1 + u), f_α(u) = ((1 + u)^(1−α) − 1)/(1 − α).
 */

export const INSTANCE_VERSION = 'diandan.matching.instance/2';
/** The earlier instance version (no region caps): `verify` and the command still read it. */
export const INSTANCE_VERSION_1 = 'diandan.matching.instance/1';
export const PLAN_VERSION = 'diandan.matching.plan/1';

export interface RegionNode {
  code: string;
  parentCode: string | null;
  level: string;
  population: number | null;
}

export interface DemandRecord {
  id: string;
  /** The unit that asked (orders, direct requests); sessions are delivered to it. */
  unitId: string | null;
  /** The street (or any region) the demand is in. */
  regionCode: string;
  group: string;
  category: string;
  tags: string[];
  /** `YYYY-MM`. */
  period: string;
  /** Importance (≥ 0): how much one session serving this demand is worth, before relevance and quality. */
  weight: number;
  /** At most this many sessions serve it. */
  sessions: number;
  /** Expected audience; products whose audience range excludes it are not candidates. */
  audience: number | null;
  /** Where it came from: `order`, `request`, or a demand source's name. */
  source: string;
  /** Where sessions would take place (turning a plan into orders needs one). */
  venueId?: string | null | undefined;
}

export interface ListedProduct {
  id: string;
  supplierId: string;
  category: string;
  targetGroups: string[];
  audienceMin: number;
  audienceMax: number;
  cost: number;
  serviceableRegions: string[];
  tags: string[];
  /** 0–1. The supplier registry's score ÷ 5 when present; else `neutralQuality`. */
  quality: number;
  qualitySource: 'registry' | 'default';
  /** 0–1: past orders, normalised by the most ordered product. */
  popularity: number;
}

export interface Capacity {
  supplierId: string;
  period: string;
  sessions: number;
}

export interface BudgetLimit {
  regionCode: string;
  amount: number;
}

export type Floor =
  | { id: string; kind: 'region-sessions'; regionCode: string; min?: number | undefined; perTenThousand?: number | undefined }
  | { id: string; kind: 'group-share'; group: string; share: number };

/**
 * A region cap: at most this many sessions under the region — `max` absolute and/or
 * `perTenThousand` residents (the smaller applies). With street floors it makes a band
 * ("every street between F and C sessions per 10,000 residents"): what a city publishes to
 * keep the best-served streets from taking the budget the others need.
 */
export interface RegionCap {
  id: string;
  regionCode: string;
  max?: number | undefined;
  perTenThousand?: number | undefined;
}

export interface Weights {
  category: number;
  group: number;
  tags: number;
  /** β: popularity's share of the quality term, at most 0.2. */
  popularity: number;
  /** A candidate needs at least this relevance. */
  minRelevance: number;
  /** Quality of products with no registry score (documented neutral default). */
  neutralQuality: number;
  /** At most this many candidate products per demand record (the best by value). */
  candidatesPerDemand: number;
}

export const DEFAULT_WEIGHTS: Weights = {
  category: 0.6,
  group: 0.3,
  tags: 0.1,
  popularity: 0.1,
  minRelevance: 0.5,
  neutralQuality: 0.6,
  candidatesPerDemand: 20,
};

export interface Objective {
  /** 0: utilitarian (total value); 1: proportional; ≥ 8 is treated as max-min. */
  alpha: number;
}

export interface Candidate {
  demand: number;
  product: number;
  relevance: number;
  value: number;
}

export interface Instance {
  /** instance/2; an exported instance/1 (no `caps`) still verifies. */
  version: typeof INSTANCE_VERSION | typeof INSTANCE_VERSION_1;
  periods: string[];
  regions: RegionNode[];
  demands: DemandRecord[];
  products: ListedProduct[];
  capacities: Capacity[];
  /** Sessions per supplier and period when `capacities` says nothing. */
  defaultCapacity: number;
  budgets: BudgetLimit[];
  floors: Floor[];
  /** Region caps (instance/2; absent in an instance/1, which has none). */
  caps?: RegionCap[];
  repeatCap: number;
  weights: Weights;
  objective: Objective;
  /** Demand × product edges with relevance and per-session value, after scoring (indices into the arrays). */
  candidates: Candidate[];
}

export interface Allocation {
  demandId: string;
  productId: string;
  sessions: number;
}

export interface Plan {
  version: typeof PLAN_VERSION;
  allocations: Allocation[];
}

export interface InstanceInput {
  periods?: string[];
  regions: RegionNode[];
  demands: DemandRecord[];
  products: ListedProduct[];
  capacities?: Capacity[];
  defaultCapacity?: number;
  budgets?: BudgetLimit[];
  floors?: Floor[];
  caps?: RegionCap[];
  repeatCap?: number;
  weights?: Partial<Weights>;
  objective?: Objective;
}

/** A filter a region plugin registers (`matching.score`) sees and may change each candidate's value. */
export type ScoreAdjuster = (candidate: { demand: DemandRecord; product: ListedProduct; relevance: number; value: number }) => number;

/** Ancestors (self first) of every region code. */
export function ancestry(regions: readonly RegionNode[]): Map<string, string[]> {
  const parent = new Map(regions.map((r) => [r.code, r.parentCode]));
  const memo = new Map<string, string[]>();
  const chain = (code: string): string[] => {
    const known = memo.get(code);
    if (known) return known;
    const p = parent.get(code);
    const list = [code, ...(p ? chain(p) : [])];
    memo.set(code, list);
    return list;
  };
  for (const r of regions) chain(r.code);
  return memo;
}

/** Relevance of a product to a demand, 0–1, with its components. */
export function relevanceOf(d: DemandRecord, p: ListedProduct, w: Weights): { relevance: number; category: number; group: number; tags: number } {
  const category = p.category === d.category ? 1 : 0;
  const group = p.targetGroups.length === 0 ? 0.5 : p.targetGroups.includes(d.group) ? 1 : 0;
  let tags = 0;
  if (d.tags.length && p.tags.length) {
    const set = new Set(p.tags);
    const common = d.tags.filter((t) => set.has(t)).length;
    tags = common / (d.tags.length + p.tags.length - common);
  }
  return { relevance: w.category * category + w.group * group + w.tags * tags, category, group, tags };
}

/** The per-session value of serving `d` with `p` (the objective coefficient). */
export function valueOf(d: DemandRecord, p: ListedProduct, relevance: number, w: Weights): number {
  const beta = Math.min(0.2, Math.max(0, w.popularity));
  return d.weight * relevance * ((1 - beta) * p.quality + beta * p.popularity);
}

/** Whether `p` may be delivered to `d`: it serves d's region or an ancestor, and d's audience fits. */
export function serves(p: ListedProduct, d: DemandRecord, ancestors: Map<string, string[]>): boolean {
  const chain = ancestors.get(d.regionCode) ?? [d.regionCode];
  if (!p.serviceableRegions.some((code) => chain.includes(code))) return false;
  if (d.audience != null && (d.audience < p.audienceMin || d.audience > p.audienceMax)) return false;
  return true;
}

/**
 * Scores every (demand, product) pair and keeps the candidates: the instance a solver and `verify` read.
 * Same result as checking `serves` and `relevanceOf` on every pair, with the per-product sets built
 * once (a city-wide instance has millions of pairs).
 */
export function buildInstance(input: InstanceInput, adjust?: ScoreAdjuster): Instance {
  const weights = { ...DEFAULT_WEIGHTS, ...input.weights };
  const ancestors = ancestry(input.regions);
  const byCategory = new Map<string, number[]>();
  input.products.forEach((p, i) => {
    const list = byCategory.get(p.category) ?? [];
    list.push(i);
    byCategory.set(p.category, list);
  });
  const all = input.products.map((_, i) => i);
  const serviceable = input.products.map((p) => new Set(p.serviceableRegions));
  const tagSets = input.products.map((p) => new Set(p.tags));
  const beta = Math.min(0.2, Math.max(0, weights.popularity));
  // Relevance ≥ minRelevance needs the category unless the weights say otherwise.
  const categoryNeeded = weights.group + weights.tags < weights.minRelevance;
  // Which products serve a region (its code or an ancestor's), once per demand region rather than once per demand.
  const servingAt = new Map<string, Uint8Array>();
  const servingOf = (code: string): Uint8Array => {
    let serving = servingAt.get(code);
    if (!serving) {
      const chain = ancestors.get(code) ?? [code];
      serving = new Uint8Array(input.products.length);
      for (let pi = 0; pi < serving.length; pi++) if (chain.some((c) => serviceable[pi]!.has(c))) serving[pi] = 1;
      servingAt.set(code, serving);
    }
    return serving;
  };
  // As many as `k < candidatesPerDemand` admits (none for NaN), never more than there are products.
  const perDemand = weights.candidatesPerDemand;
  const keep = perDemand > 0 ? Math.min(input.products.length, Math.ceil(perDemand)) : 0;
  const candidates: Candidate[] = [];
  // A demand's best edges so far, best first (value descending, then product index): a bounded
  // insertion instead of an object per passing pair and a sort. The order is total (one edge per
  // product), so it is the order the full sort gave.
  const bestProduct = new Int32Array(keep);
  const bestValue = new Float64Array(keep);
  const bestRelevance = new Float64Array(keep);
  input.demands.forEach((d, di) => {
    const pool = categoryNeeded ? (byCategory.get(d.category) ?? []) : all;
    const serving = servingOf(d.regionCode);
    let n = 0;
    for (const pi of pool) {
      if (!serving[pi]) continue;
      const p = input.products[pi]!;
      if (d.audience != null && (d.audience < p.audienceMin || d.audience > p.audienceMax)) continue;
      const category = p.category === d.category ? 1 : 0;
      const group = p.targetGroups.length === 0 ? 0.5 : p.targetGroups.includes(d.group) ? 1 : 0;
      let tags = 0;
      if (d.tags.length && p.tags.length) {
        const set = tagSets[pi]!;
        let common = 0;
        for (const t of d.tags) if (set.has(t)) common++;
        tags = common / (d.tags.length + p.tags.length - common);
      }
      const relevance = weights.category * category + weights.group * group + weights.tags * tags;
      if (relevance < weights.minRelevance) continue;
      let value = d.weight * relevance * ((1 - beta) * p.quality + beta * p.popularity);
      if (adjust) value = Math.max(0, adjust({ demand: d, product: p, relevance, value }));
      if (!(value > 0)) continue;
      const v = round6(value);
      // Insert (v, pi) where it belongs among the kept, dropping the last when full.
      let at = n;
      while (at > 0 && (bestValue[at - 1]! < v || (bestValue[at - 1]! === v && bestProduct[at - 1]! > pi))) at--;
      if (at >= keep) continue;
      for (let k = Math.min(n, keep - 1); k > at; k--) {
        bestValue[k] = bestValue[k - 1]!;
        bestProduct[k] = bestProduct[k - 1]!;
        bestRelevance[k] = bestRelevance[k - 1]!;
      }
      bestValue[at] = v;
      bestProduct[at] = pi;
      bestRelevance[at] = round6(relevance);
      if (n < keep) n++;
    }
    for (let k = 0; k < n; k++) candidates.push({ demand: di, product: bestProduct[k]!, relevance: bestRelevance[k]!, value: bestValue[k]! });
  });
  const periods = input.periods ?? [...new Set(input.demands.map((d) => d.period))].sort();
  return {
    version: INSTANCE_VERSION,
    periods,
    regions: input.regions,
    demands: input.demands,
    products: input.products,
    capacities: input.capacities ?? [],
    defaultCapacity: input.defaultCapacity ?? 1_000_000,
    budgets: input.budgets ?? [],
    floors: input.floors ?? [],
    caps: input.caps ?? [],
    repeatCap: input.repeatCap ?? 2,
    weights,
    objective: input.objective ?? { alpha: 0 },
    candidates,
  };
}

export const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** Sessions a region floor requires (the larger of its absolute and per-10,000 parts). */
export function requiredSessions(floor: Extract<Floor, { kind: 'region-sessions' }>, regions: readonly RegionNode[]): number {
  const population = regions.find((r) => r.code === floor.regionCode)?.population ?? 0;
  return Math.max(floor.min ?? 0, Math.ceil(((floor.perTenThousand ?? 0) * population) / 10_000 - 1e-9));
}

/** Sessions a region cap allows (the smaller of its absolute and per-10,000 parts; Infinity when it has neither). */
export function capSessions(cap: RegionCap, regions: readonly RegionNode[]): number {
  const population = regions.find((r) => r.code === cap.regionCode)?.population ?? 0;
  const perCapita = cap.perTenThousand === undefined ? Infinity : Math.floor((cap.perTenThousand * population) / 10_000 + 1e-9);
  return Math.min(cap.max ?? Infinity, perCapita);
}

/** α-fair welfare of one street's value per 10,000 residents. */
export function fairUtility(u: number, alpha: number): number {
  if (alpha === 0) return u;
  if (Math.abs(alpha - 1) < 1e-9) return Math.log1p(u);
  return ((1 + u) ** (1 - alpha) - 1) / (1 - alpha);
}
export function fairMarginal(u: number, alpha: number): number {
  return alpha === 0 ? 1 : (1 + u) ** -alpha;
}
/** α at or above this is max-min (the LP maximises the smallest street's value instead). */
export const MAX_MIN_ALPHA = 8;
