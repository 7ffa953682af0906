/**
 * `verify(instance, plan)`: recomputes every constraint and the objective from the
 * exported instance alone — deliberately without the compiled model or any solver
 * code, so that a plan can be checked by reading this one file (or by an outside
 * implementation of the documented schema).
 */
import type { Instance, Plan } from './problem.js';

export interface Violation {
  constraint: 'integrality' | 'candidate' | 'serviceable' | 'demand' | 'repeat' | 'capacity' | 'budget' | 'cap' | 'floor';
  key: string;
  /** By how much (sessions, money or share). */
  excess: number;
}

export interface Verification {
  ok: boolean;
  violations: Violation[];
  /** Σ value × sessions over the allocations (the α = 0 objective). */
  value: number;
  sessions: number;
  /** Floors met and missed, with the shortfall. */
  floors: { id: string; met: boolean; shortfall: number }[];
}

const TOL = 1e-6;

export function verify(instance: Instance, plan: Plan, options: { floors?: boolean } = {}): Verification {
  const violations: Violation[] = [];
  const demands = new Map(instance.demands.map((d, i) => [d.id, { d, i }]));
  const products = new Map(instance.products.map((p, i) => [p.id, { p, i }]));
  const parent = new Map(instance.regions.map((r) => [r.code, r.parentCode]));
  const up = (code: string): string[] => {
    const list: string[] = [];
    for (let c: string | null | undefined = code; c; c = parent.get(c)) list.push(c);
    return list;
  };
  // Candidate values by (demand, product) index pair, as one number (no string per candidate: a city-wide instance has 200,000).
  const productCount = instance.products.length;
  const values = new Map<number, number>();
  for (const c of instance.candidates) {
    // An index out of range names no listed pair (and must not collide with one that does).
    if (Number.isInteger(c.demand) && Number.isInteger(c.product) && c.product >= 0 && c.product < productCount) values.set(c.demand * productCount + c.product, c.value);
  }
  const perDemand = new Map<string, number>();
  const perRepeat = new Map<string, number>();
  const perCapacity = new Map<string, number>();
  const perBudget = new Map<string, number>();
  const perRegion = new Map<string, number>();
  const perGroup = new Map<string, number>();
  const bump = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  let value = 0;
  let sessions = 0;
  for (const a of plan.allocations) {
    const key = `${a.demandId}|${a.productId}`;
    if (!Number.isInteger(a.sessions) || a.sessions < 0) violations.push({ constraint: 'integrality', key, excess: a.sessions });
    const dm = demands.get(a.demandId);
    const pm = products.get(a.productId);
    const v = dm && pm ? values.get(dm.i * productCount + pm.i) : undefined;
    if (!dm || !pm || v === undefined) {
      violations.push({ constraint: 'candidate', key, excess: a.sessions });
      continue;
    }
    const { d } = dm;
    const { p } = pm;
    const chain = up(d.regionCode);
    if (!p.serviceableRegions.some((c) => chain.includes(c)) || (d.audience != null && (d.audience < p.audienceMin || d.audience > p.audienceMax))) {
      violations.push({ constraint: 'serviceable', key, excess: a.sessions });
    }
    value += v * a.sessions;
    sessions += a.sessions;
    bump(perDemand, d.id, a.sessions);
    bump(perRepeat, `${p.id}|${d.regionCode}|${d.period}`, a.sessions);
    bump(perCapacity, `${p.supplierId}|${d.period}`, a.sessions);
    for (const c of chain) {
      bump(perBudget, c, p.cost * a.sessions);
      bump(perRegion, c, a.sessions);
    }
    bump(perGroup, d.group, a.sessions);
  }
  for (const [id, n] of perDemand) {
    const limit = demands.get(id)!.d.sessions;
    if (n > limit) violations.push({ constraint: 'demand', key: id, excess: n - limit });
  }
  for (const [k, n] of perRepeat) if (n > instance.repeatCap) violations.push({ constraint: 'repeat', key: k, excess: n - instance.repeatCap });
  const capacity = new Map(instance.capacities.map((c) => [`${c.supplierId}|${c.period}`, c.sessions]));
  for (const [k, n] of perCapacity) {
    const limit = capacity.get(k) ?? instance.defaultCapacity;
    if (n > limit) violations.push({ constraint: 'capacity', key: k, excess: n - limit });
  }
  for (const b of instance.budgets) {
    const spent = perBudget.get(b.regionCode) ?? 0;
    if (spent > b.amount + TOL) violations.push({ constraint: 'budget', key: b.regionCode, excess: spent - b.amount });
  }
  // Region caps (instance/2): at most min(max, ⌊perTenThousand × population ÷ 10,000⌋) sessions under the region.
  for (const c of instance.caps ?? []) {
    const population = instance.regions.find((r) => r.code === c.regionCode)?.population ?? 0;
    const limit = Math.min(c.max ?? Infinity, c.perTenThousand === undefined ? Infinity : Math.floor((c.perTenThousand * population) / 10_000 + 1e-9));
    const n = perRegion.get(c.regionCode) ?? 0;
    if (n > limit) violations.push({ constraint: 'cap', key: c.id, excess: n - limit });
  }
  const floors = instance.floors.map((f) => {
    let shortfall: number;
    if (f.kind === 'region-sessions') {
      const population = instance.regions.find((r) => r.code === f.regionCode)?.population ?? 0;
      const required = Math.max(f.min ?? 0, Math.ceil(((f.perTenThousand ?? 0) * population) / 10_000 - 1e-9));
      shortfall = Math.max(0, required - (perRegion.get(f.regionCode) ?? 0));
    } else {
      shortfall = Math.max(0, f.share * sessions - (perGroup.get(f.group) ?? 0));
    }
    return { id: f.id, met: shortfall <= TOL, shortfall };
  });
  if (options.floors !== false) for (const f of floors) if (!f.met) violations.push({ constraint: 'floor', key: f.id, excess: f.shortfall });
  return { ok: violations.length === 0, violations, value, sessions, floors };
}

export interface Evaluation {
  value: number;
  sessions: number;
  cost: number;
  /** Streets (demand regions) with at least one session, of those with demand. */
  streetsCovered: number;
  streetsWithDemand: number;
  /** Units (communities, venues' owners) reached, of those that asked. */
  unitsCovered: number;
  unitsWithDemand: number;
  /** Gini of sessions per 10,000 residents across the streets with demand (0 = equal). */
  gini: number;
  groupShares: Record<string, number>;
}

export function gini(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  if (sum === 0) return 0;
  let weighted = 0;
  sorted.forEach((v, i) => (weighted += (2 * (i + 1) - n - 1) * v));
  return weighted / (n * sum);
}

export function evaluate(instance: Instance, plan: Plan): Evaluation {
  const demands = new Map(instance.demands.map((d) => [d.id, d]));
  const products = new Map(instance.products.map((p) => [p.id, p]));
  const population = new Map(instance.regions.map((r) => [r.code, r.population]));
  const v = verify(instance, plan, { floors: false });
  const perStreet = new Map<string, number>();
  const units = new Set<string>();
  const groups = new Map<string, number>();
  let cost = 0;
  for (const a of plan.allocations) {
    const d = demands.get(a.demandId);
    const p = products.get(a.productId);
    if (!d || !p || a.sessions <= 0) continue;
    perStreet.set(d.regionCode, (perStreet.get(d.regionCode) ?? 0) + a.sessions);
    if (d.unitId) units.add(d.unitId);
    groups.set(d.group, (groups.get(d.group) ?? 0) + a.sessions);
    cost += p.cost * a.sessions;
  }
  const streets = [...new Set(instance.demands.map((d) => d.regionCode))];
  const perCapita = streets.map((s) => ((perStreet.get(s) ?? 0) * 10_000) / Math.max(population.get(s) ?? 10_000, 1));
  return {
    value: v.value,
    sessions: v.sessions,
    cost,
    streetsCovered: streets.filter((s) => perStreet.has(s)).length,
    streetsWithDemand: streets.length,
    unitsCovered: units.size,
    unitsWithDemand: new Set(instance.demands.flatMap((d) => (d.unitId ? [d.unitId] : []))).size,
    gini: gini(perCapita),
    groupShares: Object.fromEntries([...groups].map(([g, n]) => [g, v.sessions ? n / v.sessions : 0])),
  };
}
