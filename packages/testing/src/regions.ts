import type { RegionInput } from '@diandan/kernel';
import type { FastifyInstance } from 'fastify';

/**
 * A small synthetic tree for tests: one city, two districts, two streets in the
 * first district, two communities in the first street.
 */
export const TEST_REGIONS: readonly RegionInput[] = [
  { code: '440100', level: 'city', name: '广州市', population: 18676605 },
  { code: '440103', parentCode: '440100', level: 'district', name: '荔湾区', population: 1238300 },
  { code: '440104', parentCode: '440100', level: 'district', name: '越秀区', population: 1038900 },
  { code: '440103001', parentCode: '440103', level: 'street', name: '测试街道一', synthetic: true },
  { code: '440103002', parentCode: '440103', level: 'street', name: '测试街道二', synthetic: true },
  { code: '440103001001', parentCode: '440103001', level: 'community', name: '测试社区甲', synthetic: true },
  { code: '440103001002', parentCode: '440103001', level: 'community', name: '测试社区乙', synthetic: true },
];

/** Guangzhou's eleven districts with their 2020 census populations (`shared/data/regions.json`). */
export const GUANGZHOU_DISTRICTS: readonly { code: string; name: string; population: number }[] = [
  { code: '440103', name: '荔湾区', population: 1238300 },
  { code: '440104', name: '越秀区', population: 1038900 },
  { code: '440105', name: '海珠区', population: 1819400 },
  { code: '440106', name: '天河区', population: 2241800 },
  { code: '440111', name: '白云区', population: 3743000 },
  { code: '440112', name: '黄埔区', population: 1264100 },
  { code: '440113', name: '番禺区', population: 2658200 },
  { code: '440114', name: '花都区', population: 1642400 },
  { code: '440115', name: '南沙区', population: 846800 },
  { code: '440117', name: '从化区', population: 718500 },
  { code: '440118', name: '增城区', population: 1466800 },
];

/**
 * A Guangzhou-sized tree for benchmarks: the city and its real districts, each with
 * `streets` synthetic streets (the district's population split evenly) of `communities`
 * synthetic communities. Codes extend the district's (`440103001`, `440103001001`); names
 * are marked 虚构 (fictitious).
 */
export function guangzhouBenchRegions({ streets = 12, communities = 6 }: { streets?: number; communities?: number } = {}): RegionInput[] {
  const regions: RegionInput[] = [{ code: '440100', level: 'city', name: '广州市', population: 18676605 }];
  for (const d of GUANGZHOU_DISTRICTS) {
    regions.push({ code: d.code, parentCode: '440100', level: 'district', name: d.name, population: d.population });
    for (let s = 1; s <= streets; s++) {
      const street = `${d.code}${String(s).padStart(3, '0')}`;
      regions.push({ code: street, parentCode: d.code, level: 'street', name: `基准街道${street}（虚构）`, population: Math.round(d.population / streets), synthetic: true });
      for (let c = 1; c <= communities; c++) {
        regions.push({ code: `${street}${String(c).padStart(3, '0')}`, parentCode: street, level: 'community', name: `基准社区${street}${c}（虚构）`, synthetic: true });
      }
    }
  }
  return regions;
}

/** Imports regions through the kernel's region service (default: `TEST_REGIONS`). */
export async function seedRegions(app: FastifyInstance, regions: readonly RegionInput[] = TEST_REGIONS): Promise<void> {
  await app.diandan.services.regions.import(regions);
}
