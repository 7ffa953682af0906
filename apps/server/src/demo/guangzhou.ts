import type { RegionInput } from '@diandan/kernel';

/**
 * Guangzhou's 11 real districts with GB/T 2260 codes and approximate 2020 census
 * populations (rounded). Streets and communities below them are invented for the
 * demo and marked `synthetic`.
 */
const CITY = { code: '440100', name: '广州市', population: 18676605 };

const DISTRICTS = [
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

const ORDINALS = ['一', '二', '三'];

/** The demo tree: city, 11 real districts, 3 synthetic streets each, 2 synthetic communities per street. */
export function guangzhouDemoRegions(): RegionInput[] {
  const nodes: RegionInput[] = [{ ...CITY, level: 'city' }];
  for (const d of DISTRICTS) {
    nodes.push({ ...d, parentCode: CITY.code, level: 'district' });
    ORDINALS.forEach((ordinal, s) => {
      const street = `${d.code}${String(s + 1).padStart(3, '0')}`;
      nodes.push({
        code: street,
        parentCode: d.code,
        level: 'street',
        name: `${d.name.replace('区', '')}示范街道${ordinal}（虚构）`,
        synthetic: true,
      });
      for (let c = 1; c <= 2; c++) {
        nodes.push({
          code: `${street}${String(c).padStart(3, '0')}`,
          parentCode: street,
          level: 'community',
          name: `示范街道${ordinal}第${c}社区（虚构）`,
          synthetic: true,
        });
      }
    });
  }
  return nodes;
}
