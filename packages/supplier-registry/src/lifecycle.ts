import { defineStateMachine } from '@diandan/kernel';

/** The states of an application (入库申请) and of the supplier it becomes. */
export const APPLICATION_STATES = ['applied', 'in_review', 'changes_requested', 'resubmitted', 'approved', 'rejected', 'suspended', 'blacklisted'] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];

export const APPLICATION_ACTIONS = ['start-review', 'approve', 'reject', 'request-changes', 'resubmit', 'suspend', 'reinstate', 'blacklist', 'lift-blacklist'] as const;
export type ApplicationAction = (typeof APPLICATION_ACTIONS)[number];

/**
 * The review workflow as data:
 * `applied → in_review → approved | rejected | changes_requested → resubmitted → in_review`;
 * `approved → suspended → approved` (reinstated); `approved | suspended → blacklisted → approved` (lifted).
 */
export const applicationLifecycle = defineStateMachine<ApplicationState, ApplicationAction>({
  name: 'supplier-application',
  states: APPLICATION_STATES,
  transitions: {
    'start-review': { from: ['applied', 'resubmitted'], to: 'in_review' },
    approve: { from: ['in_review'], to: 'approved' },
    reject: { from: ['in_review'], to: 'rejected' },
    'request-changes': { from: ['in_review'], to: 'changes_requested' },
    resubmit: { from: ['changes_requested'], to: 'resubmitted' },
    suspend: { from: ['approved'], to: 'suspended' },
    reinstate: { from: ['suspended'], to: 'approved' },
    blacklist: { from: ['approved', 'suspended'], to: 'blacklisted' },
    'lift-blacklist': { from: ['blacklisted'], to: 'approved' },
  },
});

/** Who may fire each action: the applicant, reviewers (审核员) or administrators, always within the application's region. */
export const APPLICATION_ACTORS: Readonly<Record<ApplicationAction, 'applicant' | 'reviewer' | 'admin'>> = {
  'start-review': 'reviewer',
  approve: 'reviewer',
  reject: 'reviewer',
  'request-changes': 'reviewer',
  resubmit: 'applicant',
  suspend: 'admin',
  reinstate: 'admin',
  blacklist: 'admin',
  'lift-blacklist': 'admin',
};

/** States in which the applicant may still change its application's content. */
export const EDITABLE_STATES: readonly ApplicationState[] = ['applied', 'changes_requested', 'approved', 'suspended'];

/** Problem codes new orders of a supplier are refused with, by why the registry suspended it. */
export const SUSPENSION_CODES = {
  suspended: 'REGISTRY_SUSPENDED',
  blacklisted: 'SUPPLIER_BLACKLISTED',
  expired: 'REGISTRY_QUALIFICATION_EXPIRED',
} as const;
