import { defineStateMachine } from '../workflow/state-machine.js';

export const ORDER_STATES = ['draft', 'submitted', 'approving', 'approved', 'scheduled', 'delivered', 'closed', 'rejected', 'cancelled'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** What clients ask for; `approve` becomes `approveStep` or `approveFinal` depending on the chain. */
export type OrderAction = 'submit' | 'approve' | 'reject' | 'schedule' | 'deliver' | 'close' | 'cancel';
type MachineAction = Exclude<OrderAction, 'approve'> | 'approveStep' | 'approveFinal';

/**
 * The order lifecycle (点单流程): a draft is submitted, climbs the approval chain one
 * level at a time (`approving` until the last level approves), is scheduled by the
 * supplier, delivered with a report, and closed. The approver of the current level
 * may reject with a reason; the unit or its region's staff may cancel before delivery.
 */
export const orderLifecycle = defineStateMachine<OrderState, MachineAction>({
  name: 'order',
  states: ORDER_STATES,
  transitions: {
    submit: { from: ['draft'], to: 'submitted' },
    approveStep: { from: ['submitted', 'approving'], to: 'approving' },
    approveFinal: { from: ['submitted', 'approving'], to: 'approved' },
    reject: { from: ['submitted', 'approving'], to: 'rejected' },
    schedule: { from: ['approved'], to: 'scheduled' },
    deliver: { from: ['scheduled'], to: 'delivered' },
    close: { from: ['delivered'], to: 'closed' },
    cancel: { from: ['draft', 'submitted', 'approving', 'approved', 'scheduled'], to: 'cancelled' },
  },
});

/**
 * Who may fire each action, in words (the rule itself is in `OrderService.checkActor`):
 * - submit, close, cancel: the ordering unit's operator, or staff whose subtree holds the unit;
 * - approve, reject: staff whose home region is the chain's current level;
 * - schedule: the product's supplier; deliver: the supplier or the ordering unit's operator.
 */
export const ORDER_ACTORS: { readonly [A in OrderAction]: string } = {
  submit: 'unit operator of the ordering unit, or region staff over it',
  approve: 'region staff of the approval chain’s current level',
  reject: 'region staff of the approval chain’s current level',
  schedule: 'the supplier of the product',
  deliver: 'the supplier, or the unit operator of the ordering unit',
  close: 'unit operator of the ordering unit, or region staff over it',
  cancel: 'unit operator of the ordering unit, or region staff over it',
};
