import { defineStateMachine } from '@diandan/kernel';

export const RUN_STATES = ['solving', 'solved', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const PLAN_STATES = ['draft', 'approved', 'ordered', 'discarded'] as const;
export type PlanState = (typeof PLAN_STATES)[number];
export type PlanAction = 'approve' | 'order' | 'discard';

/** A plan: a draft is approved by an admin, then turned into kernel draft orders once; or discarded. */
export const planLifecycle = defineStateMachine<PlanState, PlanAction>({
  name: 'matching-plan',
  states: PLAN_STATES,
  transitions: {
    approve: { from: ['draft'], to: 'approved' },
    order: { from: ['approved'], to: 'ordered' },
    discard: { from: ['draft', 'approved'], to: 'discarded' },
  },
});
