import { defineStateMachine } from '@diandan/kernel';

/** The states of a questionnaire. */
export const QUESTIONNAIRE_STATES = ['draft', 'published', 'closed'] as const;
export type QuestionnaireState = (typeof QUESTIONNAIRE_STATES)[number];

export const QUESTIONNAIRE_ACTIONS = ['publish', 'close', 'reopen'] as const;
export type QuestionnaireAction = (typeof QUESTIONNAIRE_ACTIONS)[number];

/** `draft → published → closed → published` (reopened), as data; region staff of its subtree fire each. */
export const questionnaireLifecycle = defineStateMachine<QuestionnaireState, QuestionnaireAction>({
  name: 'survey-questionnaire',
  states: QUESTIONNAIRE_STATES,
  transitions: {
    publish: { from: ['draft'], to: 'published' },
    close: { from: ['published'], to: 'closed' },
    reopen: { from: ['closed'], to: 'published' },
  },
});
