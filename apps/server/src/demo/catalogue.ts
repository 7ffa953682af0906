/**
 * Demo units, venues and suppliers. Every name here is invented for the demo
 * (synthetic); the ids are fixed so that `pnpm tokens` can print tokens that act for them.
 */
export const DEMO_SUPPLIERS = [
  { id: '00000000-0000-4000-8000-00000000a001', name: '示范粤剧团（虚构）', kind: 'troupe' },
  { id: '00000000-0000-4000-8000-00000000a002', name: '示范文化传播有限公司（虚构）', kind: 'enterprise' },
  { id: '00000000-0000-4000-8000-00000000a003', name: '示范非遗工作室（虚构）', kind: 'folk-institution' },
] as const;

export const DEMO_UNITS = [
  { id: '00000000-0000-4000-8000-00000000b001', regionCode: '440103001001', name: '示范街道一第1社区文化室（虚构）', kind: 'cultural-station' },
  { id: '00000000-0000-4000-8000-00000000b002', regionCode: '440103001', name: '荔湾示范街道一综合文化站（虚构）', kind: 'cultural-station' },
  { id: '00000000-0000-4000-8000-00000000b003', regionCode: '440106001', name: '天河示范街道一图书馆分馆（虚构）', kind: 'library-branch' },
  { id: '00000000-0000-4000-8000-00000000b004', regionCode: '440115001', name: '南沙示范营区（虚构）', kind: 'barracks' },
] as const;

export const DEMO_VENUES = [
  { id: '00000000-0000-4000-8000-00000000c001', regionCode: '440103001001', name: '第1社区活动室（虚构）', kind: 'community-room', capacity: 80, address: '荔湾区示范路1号（虚构）' },
  { id: '00000000-0000-4000-8000-00000000c002', regionCode: '440103001', name: '示范街道一文化站剧场（虚构）', kind: 'theatre', capacity: 300, address: '荔湾区示范路2号（虚构）' },
  { id: '00000000-0000-4000-8000-00000000c003', regionCode: '440106001', name: '天河示范图书馆报告厅（虚构）', kind: 'library', capacity: 150, address: '天河区示范大道3号（虚构）' },
] as const;

/** Demo users: one per role, at a home region, acting for a demo unit or supplier where the role needs one. */
export const DEMO_USERS = [
  { sub: 'demo-city-admin', roles: ['city-admin'], region: '440100' },
  { sub: 'demo-district-admin', roles: ['district-admin'], region: '440103' },
  { sub: 'demo-street-operator', roles: ['street-operator'], region: '440103001' },
  { sub: 'demo-community-operator', roles: ['community-operator'], region: '440103001001' },
  { sub: 'demo-unit-operator', roles: ['unit-operator'], region: '440103001001', unit: DEMO_UNITS[0].id },
  { sub: 'demo-supplier', roles: ['supplier'], region: '440100', supplier: DEMO_SUPPLIERS[0].id },
  { sub: 'demo-reviewer', roles: ['reviewer'], region: '440100' },
] as const;

const LIWAN = ['440103'];
const CITY = ['440100'];

/** Listed demo products (invented; the kinds follow the source texts). */
export const DEMO_PRODUCTS = [
  {
    id: '00000000-0000-4000-8000-00000000d001',
    supplierId: DEMO_SUPPLIERS[0].id,
    title: '粤剧折子戏专场（示范）',
    summary: '经典粤剧折子戏选段，演后设互动环节，适合长者观赏',
    description: '示范粤剧团演出经典折子戏选段，约九十分钟，演后由演员讲解唱腔与身段。（虚构示范产品）',
    category: 'performance',
    form: '现场演出',
    targetGroups: ['elderly', 'general-public'],
    audienceMin: 50,
    audienceMax: 300,
    durationMinutes: 90,
    costPerSession: 3000,
    serviceableRegions: CITY,
    tags: ['粤剧', '非遗'],
  },
  {
    id: '00000000-0000-4000-8000-00000000d002',
    supplierId: DEMO_SUPPLIERS[2].id,
    title: '广彩瓷绘非遗体验课（示范）',
    summary: '在非遗传承人指导下体验广彩绘制，面向青少年',
    description: '两小时手作体验课，材料由供应商提供。（虚构示范产品）',
    category: 'intangible-heritage',
    form: '现场工作坊',
    targetGroups: ['youth', 'children', 'migrant-workers-children'],
    audienceMin: 10,
    audienceMax: 40,
    durationMinutes: 120,
    costPerSession: 1800,
    serviceableRegions: LIWAN,
    tags: ['广彩', '手工'],
  },
  {
    id: '00000000-0000-4000-8000-00000000d003',
    supplierId: DEMO_SUPPLIERS[1].id,
    title: '亲子阅读推广讲座（示范）',
    summary: '绘本共读方法讲座与现场共读活动',
    description: '面向家长与儿童的阅读推广讲座。（虚构示范产品）',
    category: 'reading-promotion',
    form: '讲座',
    targetGroups: ['children', 'young-adults'],
    audienceMin: 20,
    audienceMax: 150,
    durationMinutes: 60,
    costPerSession: 800,
    serviceableRegions: CITY,
    tags: ['阅读', '亲子'],
  },
] as const;

/** Demo budgets of the current year down one branch of the tree (whole yuan), parents first. */
export function demoBudgets(year: number) {
  return [
    { regionCode: '440100', year, amount: 2_000_000 },
    { regionCode: '440103', year, amount: 200_000 },
    { regionCode: '440103001', year, amount: 60_000 },
    { regionCode: '440103001001', year, amount: 20_000 },
  ];
}

/** Demo orders of the current year of the community room's unit: one waiting for the street's approval, one draft. */
export function demoOrders(year: number) {
  const order = {
    unitId: DEMO_UNITS[0].id,
    venueId: DEMO_VENUES[0].id,
    windowStart: `${year}-12-01`,
    windowEnd: `${year}-12-31`,
  };
  return [
    { ...order, id: '00000000-0000-4000-8000-00000000e001', productId: DEMO_PRODUCTS[0].id, expectedAudience: 80, submit: true },
    { ...order, id: '00000000-0000-4000-8000-00000000e002', productId: DEMO_PRODUCTS[2].id, expectedAudience: 60, submit: false },
  ];
}
