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
export { QuestionnaireService, QuestionnaireProblems, SURVEY_STAFF_ROLES, type Questionnaire, type QuestionnaireInput, type QuestionnaireUpdate, type QuotaCell, type QuotaInput } from './questionnaires.js';
export { ResponseService, ResponseProblems, demandOf, shanghaiDay, type Respondent, type SubmitInput, type Submitted, type PartialResponse } from './responses.js';
export { DemandService, DemandProblems, suppress, type DemandRecord, type NeedsMap, type NeedsMapRegion, type NeedsMapQuery, type Breakdown } from './demand.js';
export { ImportService, ImportProblems, ATTRIBUTE_COLUMNS, parseCsv, type SurveyImport } from './imports.js';
export { SurveySchema, SurveyImportSchema } from './routes/surveys.js';
export { DemandRecordSchema, NeedsMapSchema } from './routes/demand.js';
