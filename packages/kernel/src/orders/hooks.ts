import { createFilter, createHook } from '../hooks.js';
import type { Executor } from '../db/database.js';
import type { Order } from './orders.js';

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
 * transaction: read through `tx` (an outer `db` call would wait for it on PGlite).
 */
export const orderApprovalChain = createFilter<
  string[],
  { readonly order: Order; readonly unitRegionPath: string; readonly tx: Executor }
>('order.approvalChain');
