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

/** Imports regions through the kernel's region service (default: `TEST_REGIONS`). */
export async function seedRegions(app: FastifyInstance, regions: readonly RegionInput[] = TEST_REGIONS): Promise<void> {
  await app.diandan.services.regions.import(regions);
}
