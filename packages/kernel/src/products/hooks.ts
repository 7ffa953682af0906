import { createHook } from '../hooks.js';
import type { ProductSummary } from './products.js';

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
