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

/** What a supplier's update carries: the supplier before and after it, and who changed it. */
export interface SupplierUpdatedEvent {
  readonly before: Supplier;
  readonly after: Supplier;
  readonly actorId: string;
}

/**
 * Emitted when a supplier's name or kind changes (`PATCH /v1/suppliers/{id}`, or the
 * service), after the change commits: subscribe durably (`{ durable: true }`) to keep a
 * copy of the supplier elsewhere (a registry's application, a directory) in step.
 */
export const supplierUpdated = createHook<SupplierUpdatedEvent>('supplier.updated');

/** A status change about to happen: a plugin may refuse it (e.g. reinstating a supplier whose qualification expired). */
export interface SupplierStatusChange {
  readonly before: Supplier;
  readonly after: Supplier;
  readonly reason: string;
}

/** Runs inside the status change's transaction, before it is written. */
export const supplierStatusGuard = createGuard<SupplierStatusChange>('supplier.status');
