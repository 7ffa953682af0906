/**
 * Questionnaire definitions: a documented subset of the SurveyJS JSON format (see the
 * README, "Definitions"), so a city's web or mini-program front end can render them with
 * SurveyJS (or any form library reading the same JSON). Everything here is pure: no
 * database, no HTTP. A definition is checked strictly when saved (`checkDefinition`);
 * answers are checked against it when a response arrives (`checkAnswers`).
 */
import { DomainError } from '@diandan/kernel';

/** Problem codes of definitions and answers. */
export const DefinitionProblems = {
  INVALID_DEFINITION: 'SURVEY_INVALID_DEFINITION',
  INVALID_ANSWER: 'SURVEY_INVALID_ANSWER',
  HIDDEN_ANSWERED: 'SURVEY_HIDDEN_QUESTION_ANSWERED',
  REQUIRED: 'SURVEY_ANSWER_REQUIRED',
  UNKNOWN_QUESTION: 'SURVEY_UNKNOWN_QUESTION',
} as const;

/** A SurveyJS localisable string: Chinese (`zh-cn`) required, English (`en`) required too. */
export type Label = { 'zh-cn': string; en: string };

/** A choice: `value` is what answers hold; `demand` maps choosing it to a demand signal. */
export interface Choice {
  value: string;
  text: Label;
  demand?: DemandMapping | undefined;
}

/** How an answer becomes demand: a kernel category and free tags (see the README, "Demand signals"). */
export interface DemandMapping {
  category: string;
  tags?: string[] | undefined;
}

/** The question types of the subset (SurveyJS `type` names). */
export const QUESTION_TYPES = ['radiogroup', 'checkbox', 'rating', 'ranking', 'text', 'comment', 'dropdown', 'matrix'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** A question after checking. */
export interface Question {
  type: QuestionType;
  name: string;
  title: Label;
  isRequired: boolean;
  /** The question's own condition and those of the panels and page around it (all must hold). */
  conditions: Condition[];
  choices?: Choice[];
  minSelectedChoices?: number;
  maxSelectedChoices?: number;
  rateMin?: number;
  rateMax?: number;
  /** `rating` and `ranking` questions may map to demand as a whole. */
  demand?: DemandMapping | undefined;
  inputType?: 'text' | 'number' | 'date';
  maxLength?: number;
  min?: number;
  max?: number;
  /** `dropdown` filled by the front end from the kernel: regions or population groups. */
  choicesSource?: 'regions' | 'populationGroups';
  rows?: Choice[];
  columns?: Choice[];
}

/** One condition of SurveyJS `visibleIf`, in the subset: clauses joined by one operator. */
export interface Condition {
  expression: string;
  join: 'and' | 'or';
  clauses: Clause[];
}
export interface Clause {
  question: string;
  op: 'notempty' | 'empty' | '=' | '<>' | 'contains';
  value?: string | number;
}

/** A checked definition: the JSON as saved, and its questions in document order. */
export interface CheckedDefinition {
  json: Record<string, unknown>;
  questions: Question[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_QUESTIONS = 200;
const MAX_CHOICES = 100;
const MAX_TEXT = 10_000;
const DEFAULT_TEXT = 200;
const DEFAULT_COMMENT = 2000;
const QUESTION_KEYS: Record<QuestionType, readonly string[]> = {
  radiogroup: ['choices'],
  checkbox: ['choices', 'minSelectedChoices', 'maxSelectedChoices'],
  rating: ['rateMin', 'rateMax', 'demand'],
  ranking: ['choices'],
  text: ['inputType', 'maxLength', 'min', 'max'],
  comment: ['maxLength'],
  dropdown: ['choices', 'choicesSource'],
  matrix: ['rows', 'columns'],
};
const COMMON_KEYS = ['type', 'name', 'title', 'isRequired', 'visibleIf'];

const refuse = (where: string, message: string): never => {
  throw new DomainError('invalid', DefinitionProblems.INVALID_DEFINITION, `${where}: ${message}`, { question: where.split(' ')[0] });
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function label(where: string, value: unknown, what = 'title'): Label {
  if (!isObject(value) || typeof value['zh-cn'] !== 'string' || typeof value.en !== 'string' || !value['zh-cn'].trim() || !value.en.trim()) {
    return refuse(where, `${what} must be { "zh-cn": "…", "en": "…" }, both non-empty`);
  }
  const extra = Object.keys(value).filter((k) => k !== 'zh-cn' && k !== 'en');
  if (extra.length) refuse(where, `${what} has unknown locales ${extra.join(', ')}`);
  if (value['zh-cn'].length > 500 || value.en.length > 500) refuse(where, `${what} is longer than 500 characters`);
  return { 'zh-cn': value['zh-cn'], en: value.en };
}

function onlyKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length) refuse(where, `unknown propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}`);
}

function demandMapping(where: string, value: unknown): DemandMapping | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || typeof value.category !== 'string' || !value.category) return refuse(where, 'demand must be { "category": "…", "tags"?: ["…"] }');
  onlyKeys(where, value, ['category', 'tags']);
  const tags = value.tags;
  if (tags !== undefined && (!Array.isArray(tags) || tags.length > 10 || tags.some((t) => typeof t !== 'string' || !t || t.length > 60))) {
    refuse(where, 'demand.tags must be up to 10 non-empty strings');
  }
  return { category: value.category, ...(tags ? { tags: tags as string[] } : {}) };
}

function choiceList(where: string, value: unknown, what: string, withDemand: boolean): Choice[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_CHOICES) return refuse(where, `${what} must be 1 to ${MAX_CHOICES} items`);
  const seen = new Set<string>();
  return value.map((item, i) => {
    if (!isObject(item) || typeof item.value !== 'string' || !NAME.test(item.value)) {
      return refuse(where, `${what}[${i}] must be { "value": "<name>", "text": { "zh-cn", "en" } } with value of letters, digits and _`);
    }
    onlyKeys(`${where} ${what}[${i}]`, item, withDemand ? ['value', 'text', 'demand'] : ['value', 'text']);
    if (seen.has(item.value)) refuse(where, `${what} value "${item.value}" appears twice`);
    seen.add(item.value);
    const demand = withDemand ? demandMapping(`${where} ${what}[${i}]`, item.demand) : undefined;
    return { value: item.value, text: label(`${where} ${what}[${i}]`, item.text, 'text'), ...(demand ? { demand } : {}) };
  });
}

const int = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Parses a `visibleIf` of the subset; `earlier` are the questions before this one. */
export function parseCondition(where: string, expression: unknown, earlier: ReadonlyMap<string, Question>): Condition {
  if (typeof expression !== 'string' || !expression.trim() || expression.length > 1000) return refuse(where, 'visibleIf must be a non-empty expression');
  const parts = expression.split(/\s+(and|or)\s+/i);
  const joins = new Set(parts.filter((_, i) => i % 2 === 1).map((j) => j.toLowerCase()));
  if (joins.size > 1) refuse(where, 'visibleIf mixes "and" and "or": use one operator per expression (see the README)');
  const clauses = parts
    .filter((_, i) => i % 2 === 0)
    .map((text): Clause => {
      const m = /^\s*\{([A-Za-z][A-Za-z0-9_]*)\}\s*(notempty|empty|=|<>|contains)\s*(?:'([^'\\]{0,200})'|(-?\d+(?:\.\d+)?))?\s*$/i.exec(text);
      if (!m) return refuse(where, `visibleIf clause "${text.trim()}" is not of the forms {q} notempty | {q} empty | {q} = 'v' | {q} <> 'v' | {q} contains 'v'`);
      const [, question, rawOp, str, num] = m;
      const op = rawOp!.toLowerCase() as Clause['op'];
      const target = earlier.get(question!);
      if (!target) refuse(where, `visibleIf refers to "${question}", which is not an earlier question`);
      const value = str ?? (num === undefined ? undefined : Number(num));
      const needsValue = op === '=' || op === '<>' || op === 'contains';
      if (needsValue !== (value !== undefined)) refuse(where, `visibleIf clause "${text.trim()}": ${needsValue ? 'needs a value' : 'takes no value'}`);
      if (op === 'contains' && target!.type !== 'checkbox' && target!.type !== 'ranking') refuse(where, `visibleIf: "contains" needs a multiple-choice or ranking question, "${question}" is ${target!.type}`);
      if (needsValue && target!.choices && typeof value === 'string' && !target!.choices.some((c) => c.value === value)) {
        refuse(where, `visibleIf: "${question}" has no choice "${value}"`);
      }
      return { question: question!, op, ...(value === undefined ? {} : { value }) };
    });
  return { expression, join: joins.has('or') ? 'or' : 'and', clauses };
}

function checkQuestion(where: string, raw: Record<string, unknown>, conditions: Condition[]): Question {
  const type = raw.type as QuestionType;
  onlyKeys(where, raw, [...COMMON_KEYS, ...QUESTION_KEYS[type]]);
  const q: Question = {
    type,
    name: raw.name as string,
    title: label(where, raw.title),
    isRequired: raw.isRequired === undefined ? false : typeof raw.isRequired === 'boolean' ? raw.isRequired : refuse(where, 'isRequired must be true or false'),
    conditions,
  };
  switch (type) {
    case 'radiogroup':
    case 'ranking':
      q.choices = choiceList(where, raw.choices, 'choices', true);
      if (type === 'ranking' && q.choices.length < 2) refuse(where, 'a ranking needs at least 2 choices');
      break;
    case 'checkbox': {
      q.choices = choiceList(where, raw.choices, 'choices', true);
      const n = q.choices.length;
      const min = raw.minSelectedChoices ?? 0;
      const max = raw.maxSelectedChoices ?? n;
      if (!int(min, 0, n)) refuse(where, `minSelectedChoices must be an integer from 0 to ${n}`);
      if (!int(max, 1, n)) refuse(where, `maxSelectedChoices must be an integer from 1 to ${n}`);
      if ((min as number) > (max as number)) refuse(where, 'minSelectedChoices is greater than maxSelectedChoices');
      q.minSelectedChoices = min as number;
      q.maxSelectedChoices = max as number;
      break;
    }
    case 'rating': {
      const min = raw.rateMin ?? 1;
      const max = raw.rateMax ?? 5;
      if (!int(min, -100, 100) || !int(max, -100, 100) || (max as number) - (min as number) < 1 || (max as number) - (min as number) > 20) {
        refuse(where, 'rateMin and rateMax must be integers with 2 to 21 steps between them');
      }
      q.rateMin = min as number;
      q.rateMax = max as number;
      q.demand = demandMapping(where, raw.demand);
      break;
    }
    case 'text': {
      const inputType = raw.inputType ?? 'text';
      if (inputType !== 'text' && inputType !== 'number' && inputType !== 'date') refuse(where, 'inputType must be text, number or date');
      q.inputType = inputType as 'text' | 'number' | 'date';
      if (inputType === 'text') {
        if (raw.min !== undefined || raw.max !== undefined) refuse(where, 'min and max are for number and date inputs');
        q.maxLength = raw.maxLength === undefined ? DEFAULT_TEXT : int(raw.maxLength, 1, MAX_TEXT) ? raw.maxLength : refuse(where, `maxLength must be an integer from 1 to ${MAX_TEXT}`);
      } else {
        if (raw.maxLength !== undefined) refuse(where, 'maxLength is for text inputs');
        for (const key of ['min', 'max'] as const) {
          const v = raw[key];
          if (v === undefined) continue;
          if (inputType === 'number' ? typeof v !== 'number' || !Number.isFinite(v) : typeof v !== 'string' || !isDate(v)) refuse(where, `${key} must be a ${inputType === 'number' ? 'number' : 'date YYYY-MM-DD'}`);
          (q as unknown as Record<string, unknown>)[key] = v;
        }
        if (q.min !== undefined && q.max !== undefined && q.min > q.max) refuse(where, 'min is greater than max');
      }
      break;
    }
    case 'comment':
      q.maxLength = raw.maxLength === undefined ? DEFAULT_COMMENT : int(raw.maxLength, 1, MAX_TEXT) ? raw.maxLength : refuse(where, `maxLength must be an integer from 1 to ${MAX_TEXT}`);
      break;
    case 'dropdown':
      if ((raw.choices === undefined) === (raw.choicesSource === undefined)) refuse(where, 'a dropdown has either choices or choicesSource ("regions" or "populationGroups")');
      if (raw.choicesSource !== undefined) {
        if (raw.choicesSource !== 'regions' && raw.choicesSource !== 'populationGroups') refuse(where, 'choicesSource must be "regions" or "populationGroups"');
        q.choicesSource = raw.choicesSource as 'regions' | 'populationGroups';
      } else q.choices = choiceList(where, raw.choices, 'choices', true);
      break;
    case 'matrix':
      q.rows = choiceList(where, raw.rows, 'rows', false);
      q.columns = choiceList(where, raw.columns, 'columns', false);
      break;
  }
  return q;
}

const isDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

/**
 * Checks a definition strictly: every element, property and condition is known and
 * consistent, or the save is refused with `SURVEY_INVALID_DEFINITION` naming the element
 * (`details.question`). Nothing is dropped silently.
 */
export function checkDefinition(json: unknown): CheckedDefinition {
  if (!isObject(json)) return refuse('definition', 'must be a JSON object');
  onlyKeys('definition', json, ['title', 'description', 'pages', 'locale']);
  label('definition', json.title);
  if (json.description !== undefined) label('definition', json.description, 'description');
  if (json.locale !== undefined && json.locale !== 'zh-cn' && json.locale !== 'en') refuse('definition', 'locale must be "zh-cn" or "en"');
  const pages = json.pages;
  if (!Array.isArray(pages) || pages.length < 1 || pages.length > 50) return refuse('definition', 'pages must be 1 to 50 pages');
  const questions = new Map<string, Question>();
  const names = new Set<string>();
  const claim = (where: string, name: unknown) => {
    if (typeof name !== 'string' || !NAME.test(name)) refuse(where, 'name must start with a letter and hold only letters, digits and _ (64 at most)');
    if (names.has(name as string)) refuse(name as string, 'this name is used twice');
    names.add(name as string);
    return name as string;
  };
  const walk = (where: string, elements: unknown, conditions: Condition[], depth: number) => {
    if (!Array.isArray(elements) || elements.length < 1) return refuse(where, 'elements must be a non-empty list');
    for (const [i, el] of elements.entries()) {
      if (!isObject(el)) return refuse(`${where} elements[${i}]`, 'an element must be an object');
      const name = claim(`${where} elements[${i}]`, el.name);
      const own = el.visibleIf === undefined ? conditions : [...conditions, parseCondition(name, el.visibleIf, questions)];
      if (el.type === 'panel') {
        if (depth >= 3) refuse(name, 'panels nest at most 3 deep');
        onlyKeys(name, el, ['type', 'name', 'title', 'visibleIf', 'elements']);
        if (el.title !== undefined) label(name, el.title);
        walk(name, el.elements, own, depth + 1);
        continue;
      }
      if (typeof el.type !== 'string' || !(QUESTION_TYPES as readonly string[]).includes(el.type)) {
        return refuse(name, `type must be one of panel, ${QUESTION_TYPES.join(', ')}`);
      }
      if (questions.size >= MAX_QUESTIONS) refuse(name, `a questionnaire has at most ${MAX_QUESTIONS} questions`);
      questions.set(name, checkQuestion(name, el, own));
    }
  };
  for (const [i, page] of pages.entries()) {
    if (!isObject(page)) return refuse(`pages[${i}]`, 'a page must be an object');
    const name = claim(`pages[${i}]`, page.name);
    onlyKeys(name, page, ['name', 'title', 'description', 'visibleIf', 'elements']);
    if (page.title !== undefined) label(name, page.title);
    if (page.description !== undefined) label(name, page.description, 'description');
    walk(name, page.elements, page.visibleIf === undefined ? [] : [parseCondition(name, page.visibleIf, questions)], 0);
  }
  return { json, questions: [...questions.values()] };
}

/** Rebuilds the questions of a stored (already checked) definition. */
export const questionsOf = (json: unknown): Question[] => checkDefinition(json).questions;

const answered = (v: unknown) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== '' && !(isObject(v) && Object.keys(v).length === 0);

function holds(clause: Clause, answers: Readonly<Record<string, unknown>>): boolean {
  const v = answers[clause.question];
  switch (clause.op) {
    case 'notempty':
      return answered(v);
    case 'empty':
      return !answered(v);
    case '=':
      return answered(v) && v === clause.value;
    case '<>':
      return !(answered(v) && v === clause.value);
    case 'contains':
      return Array.isArray(v) && v.includes(clause.value);
  }
}

/**
 * Whether a question is shown, given the answers: every condition on it (its own, its
 * panels' and its page's) must hold; a condition holds when all (`and`) or any (`or`) of
 * its clauses do. A clause about a hidden question sees it as unanswered.
 */
export function visible(question: Question, answers: Readonly<Record<string, unknown>>): boolean {
  return question.conditions.every((c) => (c.join === 'and' ? c.clauses.every((k) => holds(k, answers)) : c.clauses.some((k) => holds(k, answers))));
}

const bad = (question: string, message: string, code: string = DefinitionProblems.INVALID_ANSWER): never => {
  throw new DomainError('invalid', code, `${question}: ${message}`, { question });
};

/** What the checker needs to know beyond the definition. */
export interface AnswerContext {
  /** Whether a region code exists (region pickers). */
  regionExists: (code: string) => boolean;
  /** Whether a population group key exists. */
  groupExists: (key: string) => boolean;
}

/**
 * Checks answers against the questions: unknown questions, wrong types, unknown options,
 * oversize texts, out-of-range numbers, answers to hidden questions and (when `complete`)
 * missing required answers are refused with a problem naming the question. Returns the
 * answers to keep: only those of visible questions.
 */
export function checkAnswers(questions: readonly Question[], answers: Readonly<Record<string, unknown>>, complete: boolean, context: AnswerContext): Record<string, unknown> {
  const byName = new Map(questions.map((q) => [q.name, q]));
  for (const name of Object.keys(answers)) if (!byName.has(name)) bad(name, 'no such question in this questionnaire', DefinitionProblems.UNKNOWN_QUESTION);
  const kept: Record<string, unknown> = {};
  for (const q of questions) {
    const value = answers[q.name];
    const shown = visible(q, kept);
    if (!shown) {
      if (answered(value)) bad(q.name, 'this question is hidden by its display condition and must not be answered', DefinitionProblems.HIDDEN_ANSWERED);
      continue;
    }
    if (!answered(value)) {
      if (complete && q.isRequired) bad(q.name, 'an answer is required', DefinitionProblems.REQUIRED);
      continue;
    }
    kept[q.name] = checkValue(q, value, context);
  }
  return kept;
}

function checkValue(q: Question, value: unknown, context: AnswerContext): unknown {
  const options = new Set(q.choices?.map((c) => c.value));
  switch (q.type) {
    case 'radiogroup':
      if (typeof value !== 'string') return bad(q.name, 'expected one choice (a string)');
      if (!options.has(value)) bad(q.name, `"${value.slice(0, 40)}" is not one of its choices`);
      return value;
    case 'dropdown':
      if (typeof value !== 'string' || value.length > 64) return bad(q.name, 'expected one choice (a string)');
      if (q.choicesSource === 'regions' ? !context.regionExists(value) : q.choicesSource === 'populationGroups' ? !context.groupExists(value) : !options.has(value)) {
        bad(q.name, `"${value.slice(0, 40)}" is not one of its choices`);
      }
      return value;
    case 'checkbox': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return bad(q.name, 'expected a list of choices');
      const unknown = value.find((v) => !options.has(v as string));
      if (unknown !== undefined) bad(q.name, `"${String(unknown).slice(0, 40)}" is not one of its choices`);
      if (new Set(value).size !== value.length) bad(q.name, 'a choice is given twice');
      if (value.length < q.minSelectedChoices! || value.length > q.maxSelectedChoices!) bad(q.name, `choose ${q.minSelectedChoices} to ${q.maxSelectedChoices}`);
      return value;
    }
    case 'ranking': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return bad(q.name, 'expected every choice, in order');
      if (value.length !== options.size || new Set(value).size !== value.length || value.some((v) => !options.has(v as string))) bad(q.name, 'a ranking orders every choice exactly once');
      return value;
    }
    case 'rating':
      if (!Number.isInteger(value) || (value as number) < q.rateMin! || (value as number) > q.rateMax!) return bad(q.name, `expected an integer from ${q.rateMin} to ${q.rateMax}`);
      return value;
    case 'text':
      if (q.inputType === 'number') {
        if (typeof value !== 'number' || !Number.isFinite(value)) return bad(q.name, 'expected a number');
        if ((q.min !== undefined && value < q.min) || (q.max !== undefined && value > q.max)) bad(q.name, 'the number is out of range');
        return value;
      }
      if (q.inputType === 'date') {
        if (typeof value !== 'string' || !isDate(value)) return bad(q.name, 'expected a date YYYY-MM-DD');
        if ((q.min !== undefined && value < String(q.min)) || (q.max !== undefined && value > String(q.max))) bad(q.name, 'the date is out of range');
        return value;
      }
      return checkText(q, value);
    case 'comment':
      return checkText(q, value);
    case 'matrix': {
      if (!isObject(value)) return bad(q.name, 'expected { row: column }');
      const rows = new Set(q.rows!.map((r) => r.value));
      const columns = new Set(q.columns!.map((c) => c.value));
      for (const [row, column] of Object.entries(value)) {
        if (!rows.has(row)) bad(q.name, `"${row.slice(0, 40)}" is not one of its rows`);
        if (typeof column !== 'string' || !columns.has(column)) bad(q.name, `row "${row}": not one of its columns`);
      }
      return value;
    }
  }
}

function checkText(q: Question, value: unknown): string {
  if (typeof value !== 'string') return bad(q.name, 'expected text');
  if (value.length > q.maxLength!) bad(q.name, `longer than ${q.maxLength} characters`);
  if (value.includes('\u0000')) bad(q.name, 'text holds a NUL character');
  return value;
}
