import type { Role } from '@diandan/kernel';
import type { Who } from './auth.js';

/**
 * Test users for every role, at the regions of `TEST_REGIONS` by default, or at any
 * region given. Staff roles are signed at their own level (a street operator at a
 * street), as the kernel requires.
 */
export const actors = {
  cityAdmin: (region = '440100', sub = `city-admin@${region}`): Who => ({ roles: ['city-admin'], region, sub }),
  districtAdmin: (region = '440103', sub = `district-admin@${region}`): Who => ({ roles: ['district-admin'], region, sub }),
  streetOperator: (region = '440103001', sub = `street-operator@${region}`): Who => ({ roles: ['street-operator'], region, sub }),
  communityOperator: (region = '440103001001', sub = `community-operator@${region}`): Who => ({ roles: ['community-operator'], region, sub }),
  /** The operator of `unit`, whose home region is the unit's. */
  unitOperator: (unit: string, region: string, sub = `unit-operator@${unit}`): Who => ({ roles: ['unit-operator'], region, unit, sub }),
  /** A user of `supplier` (suppliers serve the whole city; their home region is the city's). */
  supplier: (supplier: string, region = '440100', sub = `supplier@${supplier}`): Who => ({ roles: ['supplier'], region, supplier, sub }),
  reviewer: (region = '440100', sub = `reviewer@${region}`): Who => ({ roles: ['reviewer'], region, sub }),
  /** Any role (a plugin's own, say) at any region. */
  as: (roles: readonly Role[], region: string, extra: Partial<Pick<Who, 'sub' | 'unit' | 'supplier'>> = {}): Who => ({
    roles,
    region,
    sub: extra.sub ?? `${roles.join('+')}@${region}`,
    ...extra,
  }),
};

/** One user of each staff role at the regions of `TEST_REGIONS`, with stable `sub`s (they show in audit records). */
export const testActors = {
  cityAdmin: actors.cityAdmin('440100', 'city-admin-1'),
  districtAdmin: actors.districtAdmin('440103', 'liwan-admin'),
  otherDistrictAdmin: actors.districtAdmin('440104', 'yuexiu-admin'),
  streetOperator: actors.streetOperator('440103001', 'street-op'),
  otherStreetOperator: actors.streetOperator('440103002', 'street-op-2'),
  communityOperator: actors.communityOperator('440103001001', 'community-op'),
  otherCommunityOperator: actors.communityOperator('440103001002', 'community-op-2'),
  reviewer: actors.reviewer('440100', 'reviewer-1'),
} as const;
