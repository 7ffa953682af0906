import type { Role } from '../auth/roles.js';
import { defineStateMachine } from '../workflow/state-machine.js';

export const PRODUCT_STATES = ['draft', 'submitted', 'in_review', 'listed', 'rejected', 'delisted'] as const;
export type ProductState = (typeof PRODUCT_STATES)[number];
export type ProductAction = 'submit' | 'startReview' | 'list' | 'reject' | 'delist';

/**
 * The review workflow of a product (产品审核): a supplier submits; a reviewer takes it
 * into review and lists or rejects it (with reasons); a listed product can be
 * delisted — by a curator, or by its own supplier withdrawing it. A rejected or delisted
 * product can be changed and submitted again (and is reviewed again).
 */
export const productLifecycle = defineStateMachine<ProductState, ProductAction>({
  name: 'product',
  states: PRODUCT_STATES,
  transitions: {
    submit: { from: ['draft', 'rejected', 'delisted'], to: 'submitted' },
    startReview: { from: ['submitted'], to: 'in_review' },
    list: { from: ['in_review'], to: 'listed' },
    reject: { from: ['in_review'], to: 'rejected' },
    delist: { from: ['listed'], to: 'delisted' },
  },
});

/** Who may fire each transition. `supplier` means the product's own supplier. */
export const PRODUCT_ACTORS: { readonly [A in ProductAction]: readonly Role[] } = {
  submit: ['supplier'],
  startReview: ['reviewer'],
  list: ['reviewer'],
  reject: ['reviewer'],
  delist: ['reviewer', 'city-admin', 'supplier'],
};

/** States in which the supplier may change the content. */
export const EDITABLE_STATES: readonly ProductState[] = ['draft', 'rejected', 'delisted'];
