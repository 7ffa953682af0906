import { createGuard, createHook } from '../hooks.js';
import type { ProductAction } from './lifecycle.js';
import type { Product, ProductSummary } from './products.js';

/** What product events carry: the product after the change and who changed it. */
export interface ProductEvent {
  readonly product: ProductSummary;
  readonly actorId: string;
}

/** A supplier submitted a product for review. */
export const productSubmitted = createHook<ProductEvent>('product.submitted');
/** A reviewer listed a product: units can order it now. */
export const productListed = createHook<ProductEvent>('product.listed');
/** A listed product was taken off the library. */
export const productDelisted = createHook<ProductEvent>('product.delisted');

/** A change of a product about to be written: its creation, a content edit, or a review-workflow transition. */
export interface ProductTransition {
  readonly action: ProductAction | 'create' | 'update';
  /** The product as it is (null when it is being created). */
  readonly before: Product | null;
  /** The product as it will be. */
  readonly after: Product;
}

/**
 * Runs inside the change's transaction, before it is written: a plugin may refuse, e.g.
 * submitting a product of a supplier whose qualification lapsed. Refuse with a
 * `DomainError` of your own code.
 */
export const productTransitionGuard = createGuard<ProductTransition>('product.transition');
