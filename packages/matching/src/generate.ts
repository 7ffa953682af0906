/**
 * A deterministic synthetic instance generator (seeded), shared by tests and the bench:
 * a city of districts and streets with populations, demand records by group and
 * category, products from suppliers, capacities, budgets and floors. Every name is made up,
 * except, in `city: 'guangzhou'` mode, the real districts of Guangzhou (their streets and
 * communities are synthetic).
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
  /**
   * A floor on every street: at least this many sessions per 10,000 residents (0 or absent:
   * none; then every fourth street has an absolute floor of 1, as before).
   */
  streetFloorPerTenThousand?: number;
  /** A cap on every street: at most this many sessions per 10,000 residents (absent: none). */
  streetCapPerTenThousand?: number;
  alpha?: number;
  /**
   * `guangzhou`: the real 11 districts of Guangzhou (GB/T 2260 codes, 2020 census
   * populations, from the shared region data) with `streets` synthetic streets split among
   * them by population and `communities` synthetic communities (explicit region nodes,
   * level `community`; each demand record's unit is one). Otherwise made-up districts
   * `d0…` with `streetsPerDistrict` streets each.
   */
  city?: 'guangzhou';
  /** City mode: streets in all (Guangzhou has 177 streets and towns). */
  streets?: number;
  /** City mode: communities in all (about 2,800). */
  communities?: number;
}

/**
 * Guangzhou's districts: real names, codes and approximate resident counts (2020 census,
 * rounded), as in the shared region data. The streets and communities under them are
 * synthetic: their codes say so (`<district>-s<nn>`, `<street>-c<nn>`).
 */
export const GUANGZHOU = {
  city: { code: '440100', name: '广州市', population: 18_676_605 },
  districts: [
    { code: '440103', name: '荔湾区', population: 1_238_300 },
    { code: '440104', name: '越秀区', population: 1_038_900 },
    { code: '440105', name: '海珠区', population: 1_819_400 },
    { code: '440106', name: '天河区', population: 2_241_800 },
    { code: '440111', name: '白云区', population: 3_743_000 },
    { code: '440112', name: '黄埔区', population: 1_264_100 },
    { code: '440113', name: '番禺区', population: 2_658_200 },
    { code: '440114', name: '花都区', population: 1_642_400 },
    { code: '440115', name: '南沙区', population: 846_800 },
    { code: '440117', name: '从化区', population: 718_500 },
    { code: '440118', name: '增城区', population: 1_466_800 },
  ],
  streets: 177,
  communities: 2800,
} as const;

/** Splits `total` into `parts` positive integers proportional to `weights` (largest remainders). */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  const order = exact.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = total - out.reduce((s, v) => s + v, 0); k < left; k++) out[order[k % order.length]![1]]! += 1;
  return out;
}

/** The Guangzhou region tree: city, real districts, synthetic streets and communities. */
function guangzhouRegions(r: () => number, streetCount: number, communityCount: number): { regions: RegionNode[]; streets: string[]; communities: Map<string, string[]> } {
  const regions: RegionNode[] = [{ code: GUANGZHOU.city.code, parentCode: null, level: 'city', population: GUANGZHOU.city.population }];
  const streets: string[] = [];
  const communities = new Map<string, string[]>();
  // At least one street per district, the rest by population.
  const perDistrict = apportion(streetCount - GUANGZHOU.districts.length, GUANGZHOU.districts.map((d) => d.population)).map((n) => n + 1);
  const streetPops: { code: string; population: number }[] = [];
  GUANGZHOU.districts.forEach((d, k) => {
    regions.push({ code: d.code, parentCode: GUANGZHOU.city.code, level: 'district', population: d.population });
    const pops = apportion(d.population, Array.from({ length: perDistrict[k]! }, () => 0.4 + r()));
    pops.forEach((population, s) => {
      const code = `${d.code}-s${String(s + 1).padStart(2, '0')}`;
      regions.push({ code, parentCode: d.code, level: 'street', population });
      streets.push(code);
      streetPops.push({ code, population });
    });
  });
  const perStreet = apportion(Math.max(communityCount, streets.length) - streets.length, streetPops.map((s) => s.population)).map((n) => n + 1);
  streetPops.forEach((s, k) => {
    const pops = apportion(s.population, Array.from({ length: perStreet[k]! }, () => 0.5 + r()));
    const codes = pops.map((population, c) => {
      const code = `${s.code}-c${String(c + 1).padStart(2, '0')}`;
      regions.push({ code, parentCode: s.code, level: 'community', population });
      return code;
    });
    communities.set(s.code, codes);
  });
  return { regions, streets, communities };
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

export const GUANGZHOU_SIZE: GeneratorOptions = { city: 'guangzhou', streets: 177, communities: 2800, products: 600, suppliers: 100, demands: 2800, periods: 12, groups: 12 };
export const LARGE_SIZE: GeneratorOptions = { city: 'guangzhou', streets: 177, communities: 2800, products: 2000, suppliers: 300, demands: 10_000, periods: 12, groups: 12 };

export function generateInput(o: GeneratorOptions = {}): InstanceInput {
  const r = rng(o.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const nd = o.districts ?? 3;
  const ns = o.streetsPerDistrict ?? 3;
  const groups = Array.from({ length: o.groups ?? 4 }, (_, i) => `g${i}`);
  const categories = Array.from({ length: o.categories ?? 6 }, (_, i) => `c${i}`);
  const periods = Array.from({ length: o.periods ?? 2 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}`);
  let regions: RegionNode[];
  let streets: string[];
  let districtCodes: string[];
  let cityCode: string;
  let communities: Map<string, string[]> | null = null;
  if (o.city === 'guangzhou') {
    ({ regions, streets, communities } = guangzhouRegions(r, o.streets ?? GUANGZHOU.streets, o.communities ?? GUANGZHOU.communities));
    districtCodes = GUANGZHOU.districts.map((d) => d.code);
    cityCode = GUANGZHOU.city.code;
  } else {
    cityCode = 'city';
    regions = [{ code: 'city', parentCode: null, level: 'city', population: null }];
    streets = [];
    districtCodes = [];
    for (let d = 0; d < nd; d++) {
      const dc = `d${d}`;
      districtCodes.push(dc);
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
  }
  const districtCount = districtCodes.length;
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
      serviceableRegions: wide ? [cityCode] : [districtCodes[Math.floor(r() * districtCount)]!],
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
      unitId: communities ? pick(communities.get(street)!) : `u${street}-${Math.floor(r() * 16)}`,
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
    { regionCode: cityCode, amount: Math.round(perStreet * streets.length * 0.8) },
  ];
  const capacities = [...new Set(products.map((p) => p.supplierId))].flatMap((s) => periods.map((period) => ({ supplierId: s, period, sessions: 2 + Math.floor(r() * 10) })));
  const floors: Floor[] = o.floors === false ? [] : [
    ...districtCodes.map((code) => ({ id: `district-${code}`, kind: 'region-sessions' as const, regionCode: code, perTenThousand: 0.1 })),
    ...(o.streetFloorPerTenThousand
      ? streets.map((s) => ({ id: `street-${s}`, kind: 'region-sessions' as const, regionCode: s, perTenThousand: o.streetFloorPerTenThousand }))
      : streets.filter((_, i) => i % 4 === 0).map((s) => ({ id: `street-${s}`, kind: 'region-sessions' as const, regionCode: s, min: 1 }))),
    { id: `group-${groups[0]}`, kind: 'group-share', group: groups[0]!, share: 0.1 },
  ];
  const caps = o.streetCapPerTenThousand === undefined ? [] : streets.map((s) => ({ id: `street-cap-${s}`, regionCode: s, perTenThousand: o.streetCapPerTenThousand }));
  return { periods, regions, demands, products, capacities, defaultCapacity: 10, budgets, floors, caps, repeatCap: 2, objective: { alpha: o.alpha ?? 0 } };
}

export function generate(o: GeneratorOptions = {}): Instance {
  return buildInstance(generateInput(o));
}
