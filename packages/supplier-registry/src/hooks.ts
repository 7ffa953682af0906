import { createHook } from '@diandan/kernel';
import type { Application, Qualification } from './registry.js';

/** What the registry's supplier events carry: the application after the change, and who made it. */
export interface SupplierRegistryEvent {
  readonly application: Application;
  readonly actorId: string;
}

/** A supplier applied to join the library (入库申请). */
export const supplierApplied = createHook<SupplierRegistryEvent>('supplier.applied');
/** An application was approved: the kernel supplier exists now (`application.supplierId`). */
export const supplierApproved = createHook<SupplierRegistryEvent>('supplier.approved');
/** An approved supplier was suspended (by an admin, or by the expiry job for an expired mandatory qualification). */
export const supplierSuspended = createHook<SupplierRegistryEvent>('supplier.suspended');
/** A suspended supplier was reinstated, or a blacklisting was lifted. */
export const supplierReinstated = createHook<SupplierRegistryEvent>('supplier.reinstated');
/** A supplier was blacklisted (列入黑名单), until a date or indefinitely. */
export const supplierBlacklisted = createHook<SupplierRegistryEvent>('supplier.blacklisted');

/** A qualification of an approved supplier expires within the configured window: emitted once per document. */
export interface QualificationExpiringEvent {
  readonly applicationId: string;
  readonly supplierId: string | null;
  readonly qualification: Qualification;
  readonly daysLeft: number;
}
export const qualificationExpiring = createHook<QualificationExpiringEvent>('qualification.expiring');
