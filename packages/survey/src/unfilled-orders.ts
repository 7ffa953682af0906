import type { Order, Product } from '@diandan/kernel';
import type { DemandSignal } from './hooks.js';
import { requestWeight } from './requests.js';

/** The `source` of the demand records that rejected orders leave. */
export const UNFILLED_ORDER_SOURCE = 'unfilled-orders';

/**
 * What a rejected order says about demand: its unit wanted this product's category in
 * that month, for about its expected audience, and did not get it. The weight is that
 * of a direct request for the same audience (`expectedAudience / audiencePerWeight`),
 * shared equally among the product's target groups (as a multiple choice shares one
 * respondent's weight), with the product's tags.
 *
 * Only rejections count. A unit that cancels its own order changed its mind, and an
 * order that is delivered was filled; neither is demand left unmet.
 */
export function unfilledOrderSignals(order: Order, product: Pick<Product, 'category' | 'targetGroups' | 'tags'>, audiencePerWeight: number): DemandSignal[] {
  const groups = product.targetGroups.length ? product.targetGroups : ['general-public'];
  const weight = requestWeight(order.expectedAudience, audiencePerWeight) / groups.length;
  if (!(weight > 0)) return [];
  return groups.map((group) => ({
    regionCode: order.regionCode,
    group,
    category: product.category,
    tags: product.tags,
    period: order.windowStart.slice(0, 7),
    weight: Math.round(weight * 1000) / 1000,
  }));
}
