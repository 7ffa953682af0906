/**
 * Roles a bearer token can carry. Every role but `supplier` acts within its home
 * region's subtree; a supplier acts for its own supplier record wherever it delivers.
 * Citizens carry no token: they only reach the anonymous feedback link.
 */
export const ROLES = [
  'city-admin', // 市级管理员
  'district-admin', // 区级管理员
  'street-operator', // 街道（镇）操作员
  'community-operator', // 社区（村）操作员
  'unit-operator', // 点单单位操作员
  'supplier', // 文化供应商
  'reviewer', // 产品审核员
] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that administer a region (and may read its audit log). */
export const ADMIN_ROLES: readonly Role[] = ['city-admin', 'district-admin'];

/** Roles of staff who operate within a region: they order, approve and manage units and venues. */
export const REGION_STAFF: readonly Role[] = ['city-admin', 'district-admin', 'street-operator', 'community-operator'];
