import { defineStateMachine } from '@diandan/kernel';

/** The states of a procurement project's tender (招标流程). */
export const TENDER_STATES = ['draft', 'published', 'tendering', 'evaluation', 'awarded', 'complete', 'cancelled', 'unsuccessful'] as const;
export type TenderState = (typeof TENDER_STATES)[number];

export const TENDER_ACTIONS = ['publish', 'startTendering', 'open', 'award', 'fail', 'complete', 'cancel'] as const;
export type TenderAction = (typeof TENDER_ACTIONS)[number];

/**
 * The tender state machine as data. `startTendering` is fired by the system when the
 * enquiry period ends; `open` (开标) only once the tender period has ended (DB clock);
 * `fail` when no valid bid is left; `complete` when every contract is fulfilled.
 */
export const tenderLifecycle = defineStateMachine<TenderState, TenderAction>({
  name: 'procurement project',
  states: TENDER_STATES,
  transitions: {
    publish: { from: ['draft'], to: 'published' },
    startTendering: { from: ['published'], to: 'tendering' },
    open: { from: ['published', 'tendering'], to: 'evaluation' },
    award: { from: ['evaluation'], to: 'awarded' },
    fail: { from: ['evaluation', 'awarded'], to: 'unsuccessful' },
    complete: { from: ['awarded'], to: 'complete' },
    cancel: { from: ['draft', 'published', 'tendering', 'evaluation', 'awarded'], to: 'cancelled' },
  },
});

/** Procurement methods (采购方式) and how each maps to OCDS `procurementMethod`. */
export const METHODS = {
  'open-tender': { ocds: 'open', name: '公开招标', restricted: false },
  'competitive-negotiation': { ocds: 'limited', name: '竞争性谈判', restricted: true },
  'competitive-consultation': { ocds: 'limited', name: '竞争性磋商', restricted: true },
  inquiry: { ocds: 'selective', name: '询价', restricted: true },
  'single-source': { ocds: 'direct', name: '单一来源采购', restricted: true },
  'targeted-commission': { ocds: 'direct', name: '定向委托', restricted: true },
} as const;
export type ProcurementMethod = keyof typeof METHODS;
export const METHOD_KEYS = Object.keys(METHODS) as ProcurementMethod[];

/** Least number of invited suppliers for a method with an invitation list. */
export function minimumInvited(method: ProcurementMethod): number {
  const ocds = METHODS[method].ocds;
  return ocds === 'direct' ? 1 : ocds === 'open' ? 0 : 3;
}
