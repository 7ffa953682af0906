/** @diandan/survey — demand surveys (需求采集), demand signals and the cultural needs map (文化需求地图). */
export { survey, surveyPlugin } from './plugin.js';
export { demandUpdated, demandSignalled, type DemandUpdatedEvent, type DemandSignalledEvent, type DemandSignal } from './hooks.js';
export { questionnaireLifecycle, QUESTIONNAIRE_STATES, QUESTIONNAIRE_ACTIONS, type QuestionnaireState, type QuestionnaireAction } from './lifecycle.js';
export {
  checkDefinition,
  checkAnswers,
  parseCondition,
  visible,
  DefinitionProblems,
  QUESTION_TYPES,
  type CheckedDefinition,
  type Question,
  type QuestionType,
  type Condition,
  type Clause,
  type Choice,
  type Label,
  type DemandMapping,
} from './definition.js';
export { QuestionnaireService, QuestionnaireProblems, SURVEY_STAFF_ROLES, type Questionnaire, type QuestionnaireInput, type QuestionnaireUpdate, type QuotaCell, type QuotaInput, aggregable } from './questionnaires.js';
export { ResponseService, ResponseProblems, demandOf, shanghaiDay, type Respondent, type SubmitInput, type Submitted, type PartialResponse } from './responses.js';
export {
  DemandService,
  DemandProblems,
  suppress,
  gapSuppression,
  toCsv,
  needsMapCsv,
  type DemandRecord,
  type DemandRecordOfOrigin,
  type NeedsMap,
  type NeedsMapRegion,
  type NeedsMapQuery,
  type Breakdown,
  type GapQuery,
  type GapCell,
  type GapTable,
} from './demand.js';
export { DemandRequestService, DemandRequestProblems, REQUEST_SOURCE, requestWeight, type DemandRequest, type DemandRequestInput } from './requests.js';
export { ResultService, ResultProblems, questionResult, type Results, type QuestionResult, type OptionCount } from './results.js';
export { seedSurveyDemo, demoDefinition, DEMO_MARKER, DEMO_RESPONSES } from './demo.js';
export { ImportService, ImportProblems, ATTRIBUTE_COLUMNS, parseCsv, clearImportedCsv, type SurveyImport } from './imports.js';
export { SurveySchema, SurveyImportSchema } from './routes/surveys.js';
export { DemandRecordSchema, NeedsMapSchema, DemandRequestSchema, GapTableSchema } from './routes/demand.js';
export { ResultsSchema } from './routes/results.js';
export { UNFILLED_ORDER_SOURCE, unfilledOrderSignals } from './unfilled-orders.js';
