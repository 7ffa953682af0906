import type { GroupReach, Kpis, RegionTally } from './kpis.js';

/** One unit of an equity measure: its population and its outcome (deliveries or participants). */
export interface EquityUnit {
  readonly key: string;
  readonly population: number;
  readonly value: number;
  /** The group it belongs to (a street's district), for the Theil decomposition. */
  readonly group?: string | undefined;
}

/**
 * Population-weighted Gini coefficient of the outcome per resident:
 * G = Σᵢ Σⱼ pᵢ pⱼ |yᵢ − yⱼ| / (2 P² μ), yᵢ = xᵢ / pᵢ, P = Σ pᵢ, μ = Σ xᵢ / P.
 * 0 is perfect equality; null when there is no population or no outcome at all.
 */
export function weightedGini(units: readonly EquityUnit[]): number | null {
  const us = units.filter((u) => u.population > 0);
  const P = us.reduce((s, u) => s + u.population, 0);
  const X = us.reduce((s, u) => s + u.value, 0);
  if (P === 0 || X === 0) return null;
  const mu = X / P;
  let sum = 0;
  for (const a of us) for (const b of us) sum += a.population * b.population * Math.abs(a.value / a.population - b.value / b.population);
  return sum / (2 * P * P * mu);
}

/** Theil T of outcome shares against population shares, split into between- and within-group parts. */
export interface TheilDecomposition {
  /** T = Σᵢ sᵢ ln(sᵢ / wᵢ), sᵢ = xᵢ / X, wᵢ = pᵢ / P. */
  total: number;
  /** Σ_g S_g ln(S_g / W_g): the gap between groups (districts). */
  between: number;
  /** Σ_g S_g T_g: the gaps inside groups, weighted by each group's outcome share. */
  within: number;
  /** between / total (null when total is 0). */
  betweenShare: number | null;
  groups: { key: string; outcomeShare: number; populationShare: number; theil: number }[];
}

/**
 * Theil T index with its exact decomposition T = T_between + T_within (units with no
 * outcome add 0: s ln s → 0). Null when there is no population or no outcome.
 */
export function theil(units: readonly EquityUnit[]): TheilDecomposition | null {
  const us = units.filter((u) => u.population > 0);
  const P = us.reduce((s, u) => s + u.population, 0);
  const X = us.reduce((s, u) => s + u.value, 0);
  if (P === 0 || X === 0) return null;
  const term = (s: number, w: number) => (s === 0 ? 0 : s * Math.log(s / w));
  const total = us.reduce((t, u) => t + term(u.value / X, u.population / P), 0);
  const byGroup = new Map<string, EquityUnit[]>();
  for (const u of us) byGroup.set(u.group ?? '', [...(byGroup.get(u.group ?? '') ?? []), u]);
  const groups = [...byGroup].map(([key, members]) => {
    const Pg = members.reduce((s, u) => s + u.population, 0);
    const Xg = members.reduce((s, u) => s + u.value, 0);
    const Tg = Xg === 0 ? 0 : members.reduce((t, u) => t + term(u.value / Xg, u.population / Pg), 0);
    return { key, outcomeShare: Xg / X, populationShare: Pg / P, theil: Tg };
  });
  const between = groups.reduce((t, g) => t + term(g.outcomeShare, g.populationShare), 0);
  const within = groups.reduce((t, g) => t + g.outcomeShare * g.theil, 0);
  return { total, between, within, betweenShare: total === 0 ? null : between / total, groups };
}

/** Weights of the balance index's components (优质均衡指数); any may be 0. */
export interface BalanceWeights {
  /** 1 − Gini of deliveries per resident across streets. */
  streetEquality: number;
  /** 1 − Gini of deliveries per resident across districts. */
  districtEquality: number;
  /** Share of streets with at least one delivery. */
  streetCoverage: number;
  /** Share of communities with at least one delivery. */
  communityCoverage: number;
  /** Share of the active population groups reached by at least one delivery aimed at them. */
  groupReach: number;
  /** Satisfaction rate (share of ratings ≥ 4). */
  satisfaction: number;
}

export const DEFAULT_BALANCE_WEIGHTS: BalanceWeights = { streetEquality: 0.3, districtEquality: 0.1, streetCoverage: 0.2, communityCoverage: 0.2, groupReach: 0.1, satisfaction: 0.1 };

/** A street or group that receives less than its share. */
export interface Gap {
  kind: 'street' | 'group';
  code: string;
  name: string;
  population: number | null;
  deliveries: number;
  /** What it would receive at the subtree's rate: population × (deliveries / population) of the subtree; for a group, the mean over groups. */
  expected: number;
  /** expected − deliveries (> 0: under-served). */
  shortfall: number;
  /** deliveries / expected. */
  ratio: number | null;
}

/** Equity (均等化) of a subtree over a period. */
export interface Equity {
  measures: {
    deliveries: { giniDistricts: number | null; giniStreets: number | null; theil: TheilDecomposition | null };
    participants: { giniDistricts: number | null; giniStreets: number | null; theil: TheilDecomposition | null };
  };
  /** Streets without a population are left out of the measures; they are listed here. */
  streetsWithoutPopulation: string[];
  balance: { index: number | null; components: Record<keyof BalanceWeights, number | null>; weights: BalanceWeights };
  gaps: Gap[];
}

/** Equity of a subtree from its KPIs: pure arithmetic, no query. */
export function equityOf(kpis: Kpis, weights: BalanceWeights, options: { districtOfStreet: (code: string) => string | undefined; gapLimit: number }): Equity {
  const units = (rows: RegionTally[], pick: (r: RegionTally) => number, grouped: boolean): EquityUnit[] =>
    rows.filter((r) => r.population).map((r) => ({ key: r.code, population: r.population!, value: pick(r), group: grouped ? options.districtOfStreet(r.code) : undefined }));
  const measure = (pick: (r: RegionTally) => number) => ({
    giniDistricts: weightedGini(units(kpis.byDistrict, pick, false)),
    giniStreets: weightedGini(units(kpis.byStreet, pick, false)),
    theil: theil(units(kpis.byStreet, pick, true)),
  });
  const deliveries = measure((r) => r.deliveries);
  const participants = measure((r) => r.participants);
  const activeGroups = kpis.groups;
  const components: Record<keyof BalanceWeights, number | null> = {
    streetEquality: deliveries.giniStreets === null ? null : 1 - deliveries.giniStreets,
    districtEquality: deliveries.giniDistricts === null ? null : 1 - deliveries.giniDistricts,
    streetCoverage: kpis.coverage.streets.share,
    communityCoverage: kpis.coverage.communities.share,
    groupReach: activeGroups.length === 0 ? null : activeGroups.filter((g) => g.deliveries > 0).length / activeGroups.length,
    satisfaction: kpis.satisfactionRate,
  };
  return {
    measures: { deliveries, participants },
    streetsWithoutPopulation: kpis.byStreet.filter((r) => !r.population).map((r) => r.code),
    balance: { index: balanceIndex(components, weights), components, weights },
    gaps: gapList(kpis.byStreet, kpis.groups, options.gapLimit),
  };
}

/**
 * Balance index = 100 × Σ wₖ cₖ / Σ wₖ over the components that can be computed
 * (a component without data drops out, and the weights of the rest are renormalised).
 */
export function balanceIndex(components: Record<keyof BalanceWeights, number | null>, weights: BalanceWeights): number | null {
  let num = 0;
  let den = 0;
  for (const key of Object.keys(weights) as (keyof BalanceWeights)[]) {
    const c = components[key];
    if (c === null || weights[key] === 0) continue;
    num += weights[key] * c;
    den += weights[key];
  }
  return den === 0 ? null : (100 * num) / den;
}

/**
 * Under-served streets and groups, largest shortfall first. A street's expected
 * deliveries are its population times the rate of the streets with a population; a
 * group's are the mean deliveries over groups.
 */
export function gapList(streets: readonly RegionTally[], groups: readonly GroupReach[], limit: number): Gap[] {
  const known = streets.filter((s) => s.population);
  const P = known.reduce((s, r) => s + r.population!, 0);
  const X = known.reduce((s, r) => s + r.deliveries, 0);
  const rate = P === 0 ? 0 : X / P;
  const streetGaps: Gap[] = known.map((s) => {
    const expected = s.population! * rate;
    return { kind: 'street', code: s.code, name: s.name, population: s.population, deliveries: s.deliveries, expected, shortfall: expected - s.deliveries, ratio: expected === 0 ? null : s.deliveries / expected };
  });
  const mean = groups.length === 0 ? 0 : groups.reduce((s, g) => s + g.deliveries, 0) / groups.length;
  const groupGaps: Gap[] = groups.map((g) => ({
    kind: 'group',
    code: g.key,
    name: g.name,
    population: null,
    deliveries: g.deliveries,
    expected: mean,
    shortfall: mean - g.deliveries,
    ratio: mean === 0 ? null : g.deliveries / mean,
  }));
  return [...streetGaps, ...groupGaps]
    .filter((g) => g.shortfall > 1e-9)
    .sort((a, b) => b.shortfall - a.shortfall || a.code.localeCompare(b.code))
    .slice(0, limit);
}
