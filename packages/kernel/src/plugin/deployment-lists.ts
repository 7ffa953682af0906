import type { Static } from 'typebox';
import { RoleRegistry } from '../auth/roles.js';
import type { KernelConfigSchema } from '../core/plugin.js';
import type { PluginDefinition } from './define.js';
import { OpenList, type ListEntry } from './lists.js';

/** Kinds of ordering unit (点单单位) the source texts name. */
export const BUILTIN_UNIT_KINDS: readonly ListEntry[] = [
  { key: 'cultural-station', name: '综合文化站', nameEn: 'Cultural station' },
  { key: 'library-branch', name: '图书馆分馆', nameEn: 'Library branch' },
  { key: 'culture-centre-branch', name: '文化馆分馆', nameEn: 'Culture-centre branch' },
  { key: 'school', name: '学校', nameEn: 'School' },
  { key: 'barracks', name: '军营', nameEn: 'Barracks' },
  { key: 'enterprise', name: '企业', nameEn: 'Enterprise' },
  { key: 'alliance', name: '联盟', nameEn: 'Alliance' },
  { key: 'other', name: '其他', nameEn: 'Other' },
];

/** Kinds of venue where deliveries take place. */
export const BUILTIN_VENUE_KINDS: readonly ListEntry[] = [
  { key: 'culture-centre', name: '文化馆', nameEn: 'Culture centre' },
  { key: 'library', name: '图书馆', nameEn: 'Library' },
  { key: 'cultural-station', name: '综合文化站', nameEn: 'Cultural station' },
  { key: 'community-room', name: '社区活动室', nameEn: 'Community room' },
  { key: 'theatre', name: '剧场', nameEn: 'Theatre' },
  { key: 'square', name: '文化广场', nameEn: 'Culture square' },
  { key: 'school-hall', name: '学校礼堂', nameEn: 'School hall' },
  { key: 'barracks-hall', name: '军营礼堂', nameEn: 'Barracks hall' },
  { key: 'other', name: '其他', nameEn: 'Other' },
];

/** Kinds of cultural supplier (文化供应商) the source texts name. */
export const BUILTIN_SUPPLIER_KINDS: readonly ListEntry[] = [
  { key: 'troupe', name: '专业院团', nameEn: 'Professional troupe' },
  { key: 'enterprise', name: '文化企业', nameEn: 'Cultural enterprise' },
  { key: 'folk-institution', name: '民间文艺机构', nameEn: 'Folk institution' },
  { key: 'social-organisation', name: '社会组织', nameEn: 'Social organisation' },
  { key: 'individual-artist', name: '个人艺术家', nameEn: 'Individual artist' },
];

/** The lists a deployment and its plugins extend, fixed once the kernel has started. */
export interface DeploymentLists {
  readonly roles: RoleRegistry;
  readonly unitKinds: OpenList;
  readonly venueKinds: OpenList;
  readonly supplierKinds: OpenList;
}

/**
 * Builds the lists from the built-in entries, the kernel's config and each plugin's
 * `contributes`, in start order. A key defined twice is a start-up error naming where.
 */
export function buildLists(
  config: Static<typeof KernelConfigSchema>,
  levels: readonly string[],
  plugins: readonly PluginDefinition<any, any, any, any>[],
): DeploymentLists {
  const roles = new RoleRegistry(levels, config.roleLevels);
  roles.add('deployment', config.roles, 'config.roles');
  const kinds = (name: string, builtin: readonly ListEntry[], extra: readonly ListEntry[], key: string) =>
    new OpenList(name).add('kernel', builtin, key).add('deployment', extra, `config.${key}`);
  const lists: DeploymentLists = {
    roles,
    unitKinds: kinds('unit kind', BUILTIN_UNIT_KINDS, config.unitKinds, 'unitKinds'),
    venueKinds: kinds('venue kind', BUILTIN_VENUE_KINDS, config.venueKinds, 'venueKinds'),
    supplierKinds: kinds('supplier kind', BUILTIN_SUPPLIER_KINDS, config.supplierKinds, 'supplierKinds'),
  };
  for (const plugin of plugins) {
    const c = plugin.contributes;
    if (!c) continue;
    const source = `plugin ${plugin.name}` as const;
    if (c.roles) roles.add(source, c.roles, 'contributes.roles');
    if (c.unitKinds) lists.unitKinds.add(source, c.unitKinds, 'contributes.unitKinds');
    if (c.venueKinds) lists.venueKinds.add(source, c.venueKinds, 'contributes.venueKinds');
    if (c.supplierKinds) lists.supplierKinds.add(source, c.supplierKinds, 'contributes.supplierKinds');
  }
  return lists;
}
