import { createFilter, createGuard, createHook } from '../hooks.js';
import type { Executor } from '../db/database.js';
import type { ExtensionData } from '../extensions/extensions.js';
import type { OrderAction } from './lifecycle.js';
import type { Order, OrderActionInput } from './orders.js';

/** What order events carry: the order after the change and who changed it. */
export interface OrderEvent {
  readonly order: Order;
  readonly actorId: string;
}

export const orderSubmitted = createHook<OrderEvent>('order.submitted');
export const orderApproved = createHook<OrderEvent>('order.approved');
export const orderRejected = createHook<OrderEvent>('order.rejected');
export const orderScheduled = createHook<OrderEvent>('order.scheduled');
export const orderDelivered = createHook<OrderEvent>('order.delivered');
export const orderCancelled = createHook<OrderEvent>('order.cancelled');
export const orderClosed = createHook<OrderEvent>('order.closed');

/**
 * The approval chain of an order being submitted: region codes, nearest level first.
 * The default is every level above the ordering unit's region up to the deployment's
 * top approval level (the district, by default). A plugin may change it; the result
 * must be a non-empty list of existing regions. It runs inside the submitting
 * transaction: read through `tx` (the outer handle refuses to work inside it).
 */
export const orderApprovalChain = createFilter<
  string[],
  { readonly order: Order; readonly unitRegionPath: string; readonly tx: Executor }
>('order.approvalChain');

/** An order about to be placed: the draft as it will be written, and what the request brought for plugins. */
export interface OrderPlacement {
  readonly order: Order;
  readonly extensions: ExtensionData | undefined;
}

/**
 * Runs inside the placing transaction, after the kernel's rules passed, before the
 * order is written: a plugin may refuse it with its own code (a supplier that is
 * blacklisted, a unit over its quota). Placements are written in batches; guards of a
 * batch run in the batch's one transaction, so keep them to a query or two.
 */
export const orderPlacementGuard = createGuard<OrderPlacement>('order.placement');

/** A lifecycle action about to be written: the order before and after, and what came with the action. */
export interface OrderTransition {
  readonly action: OrderAction;
  readonly before: Order;
  readonly after: Order;
  readonly input: Omit<OrderActionInput, 'id' | 'expectedVersion' | 'action'>;
}

/** Runs inside the action's transaction, after the kernel's own checks, before the order is written. */
export const orderTransitionGuard = createGuard<OrderTransition>('order.transition');
