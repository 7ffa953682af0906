import { createGuard, createHook } from '../hooks.js';
import type { Supplier } from './suppliers.js';

/** What a supplier status change carries: the supplier after it, the status before, why, and who. */
export interface SupplierStatusEvent {
  readonly supplier: Supplier;
  readonly from: Supplier['status'];
  readonly reason: string;
  readonly actorId: string;
}

/** Emitted when a supplier is suspended or reinstated (after the change commits). */
export const supplierStatusChanged = createHook<SupplierStatusEvent>('supplier.statusChanged');

/** A status change about to happen: a plugin may refuse it (e.g. reinstating a supplier whose qualification expired). */
export interface SupplierStatusChange {
  readonly before: Supplier;
  readonly after: Supplier;
  readonly reason: string;
}

/** Runs inside the status change's transaction, before it is written. */
export const supplierStatusGuard = createGuard<SupplierStatusChange>('supplier.status');
