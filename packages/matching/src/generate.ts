/**
 * A deterministic synthetic instance generator (seeded), shared by tests and the bench:
 * a city of districts and streets with populations, demand records by group and
 * category, products from suppliers, capacities, budgets and floors. Every name is made up.
 */
import { buildInstance, type DemandRecord, type Floor, type Instance, type InstanceInput, type ListedProduct, type RegionNode } from './problem.js';

export interface GeneratorOptions {
  seed?: number;
  districts?: number;
  streetsPerDistrict?: number;
  products?: number;
  suppliers?: number;
  demands?: number;
  periods?: number;
  groups?: number;
  categories?: number;
  /** Budget per street, as a multiple of the mean session cost (default 6). */
  budgetSessions?: number;
  floors?: boolean;
  alpha?: number;
}

/** Mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const GUANGZHOU_SIZE: GeneratorOptions = { districts: 11, streetsPerDistrict: 16, products: 600, suppliers: 100, demands: 2800, periods: 12, groups: 12 };
export const LARGE_SIZE: GeneratorOptions = { districts: 11, streetsPerDistrict: 16, products: 2000, suppliers: 300, demands: 10_000, periods: 12, groups: 12 };

export function generateInput(o: GeneratorOptions = {}): InstanceInput {
  const r = rng(o.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const nd = o.districts ?? 3;
  const ns = o.streetsPerDistrict ?? 3;
  const groups = Array.from({ length: o.groups ?? 4 }, (_, i) => `g${i}`);
  const categories = Array.from({ length: o.categories ?? 6 }, (_, i) => `c${i}`);
  const periods = Array.from({ length: o.periods ?? 2 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);
  const regions: RegionNode[] = [{ code: 'city', parentCode: null, level: 'city', population: null }];
  const streets: string[] = [];
  for (let d = 0; d < nd; d++) {
    const dc = `d${d}`;
    regions.push({ code: dc, parentCode: 'city', level: 'district', population: null });
    for (let s = 0; s < ns; s++) {
      const sc = `${dc}s${s}`;
      regions.push({ code: sc, parentCode: dc, level: 'street', population: Math.round(20_000 + r() * 100_000) });
      streets.push(sc);
    }
  }
  for (const d of regions.filter((g) => g.level === 'district')) {
    d.population = regions.filter((g) => g.parentCode === d.code).reduce((sum, g) => sum + g.population!, 0);
  }
  const nsup = o.suppliers ?? 4;
  const products: ListedProduct[] = Array.from({ length: o.products ?? 12 }, (_, i) => {
    const wide = r() < 0.4;
    return {
      id: `p${i}`,
      supplierId: `sup${i % nsup}`,
      category: pick(categories),
      targetGroups: r() < 0.2 ? [] : [pick(groups), ...(r() < 0.5 ? [pick(groups)] : [])],
      audienceMin: 20,
      audienceMax: 500,
      cost: Math.round(2000 + r() * 18_000),
      serviceableRegions: wide ? ['city'] : [`d${Math.floor(r() * nd)}`],
      tags: [pick(['戏曲', '音乐', '舞蹈', '展览', '讲座', '电影'])],
      quality: r() < 0.8 ? Math.round((0.4 + r() * 0.6) * 100) / 100 : 0.6,
      qualitySource: 'registry',
      popularity: Math.round(r() * r() * 100) / 100,
    };
  });
  // Demand concentrates in some streets (the richer ones ask more: what the floors correct).
  const demands: DemandRecord[] = Array.from({ length: o.demands ?? 40 }, (_, i) => {
    const street = r() < 0.5 ? streets[Math.floor(r() * r() * streets.length)]! : pick(streets);
    return {
      id: `q${i}`,
      unitId: `u${street}-${Math.floor(r() * 16)}`,
      regionCode: street,
      group: pick(groups),
      category: pick(categories),
      tags: [pick(['戏曲', '音乐', '舞蹈', '展览', '讲座', '电影'])],
      period: pick(periods),
      weight: Math.round((0.5 + r() * 1.5) * 100) / 100,
      sessions: 1 + Math.floor(r() * 3),
      audience: 50 + Math.floor(r() * 300),
      source: 'request',
    };
  });
  const meanCost = products.reduce((s, p) => s + p.cost, 0) / Math.max(products.length, 1);
  const perStreet = (o.budgetSessions ?? 6) * meanCost;
  const budgets = [
    ...streets.map((s) => ({ regionCode: s, amount: Math.round(perStreet * (0.5 + r())) })),
    { regionCode: 'city', amount: Math.round(perStreet * streets.length * 0.8) },
  ];
  const capacities = [...new Set(products.map((p) => p.supplierId))].flatMap((s) => periods.map((period) => ({ supplierId: s, period, sessions: 2 + Math.floor(r() * 10) })));
  const floors: Floor[] = o.floors === false ? [] : [
    ...Array.from({ length: nd }, (_, d) => ({ id: `district-d${d}`, kind: 'region-sessions' as const, regionCode: `d${d}`, perTenThousand: 0.1 })),
    ...streets.filter((_, i) => i % 4 === 0).map((s) => ({ id: `street-${s}`, kind: 'region-sessions' as const, regionCode: s, min: 1 })),
    { id: `group-${groups[0]}`, kind: 'group-share', group: groups[0]!, share: 0.1 },
  ];
  return { periods, regions, demands, products, capacities, defaultCapacity: 10, budgets, floors, repeatCap: 2, objective: { alpha: o.alpha ?? 0 } };
}

export function generate(o: GeneratorOptions = {}): Instance {
  return buildInstance(generateInput(o));
}
