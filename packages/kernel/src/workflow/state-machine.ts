import { DomainError } from '../errors.js';

/**
 * An explicit state machine as data: every transition names the states it may
 * leave and the state it enters. Who may fire a transition is a separate rule of
 * the owning module (it depends on the record, not only on the role).
 */
export interface StateMachine<S extends string, A extends string> {
  readonly name: string;
  readonly states: readonly S[];
  readonly transitions: { readonly [K in A]: { readonly from: readonly S[]; readonly to: S } };
}

export function defineStateMachine<S extends string, A extends string>(machine: StateMachine<S, A>): StateMachine<S, A> {
  for (const [action, t] of Object.entries(machine.transitions) as [A, { from: readonly S[]; to: S }][]) {
    for (const s of [...t.from, t.to]) {
      if (!machine.states.includes(s)) throw new Error(`${machine.name}.${action}: unknown state ${s}`);
    }
  }
  return machine;
}

/** The state `action` leads to from `from`; `INVALID_TRANSITION` (409) when it may not fire there. */
export function nextState<S extends string, A extends string>(machine: StateMachine<S, A>, from: S, action: A): S {
  const t = machine.transitions[action];
  if (!t.from.includes(from)) {
    throw new DomainError(
      'conflict',
      'INVALID_TRANSITION',
      `This ${machine.name} is ${from}: it cannot be ${action === 'submit' ? 'submitted' : `given "${action}"`}; allowed from: ${t.from.join(', ')}`,
      { state: from, action, allowedFrom: [...t.from] },
    );
  }
  return t.to;
}
