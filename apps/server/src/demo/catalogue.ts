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
