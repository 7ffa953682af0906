/**
 * Results (调查结果): per-question statistics in a chart-ready shape, for staff (exact)
 * and for the public (only the questions staff chose, small cells suppressed), and the
 * open-data export of anonymous responses. No HTTP.
 */
import { and, asc, eq } from 'drizzle-orm';
import { notFound, type CallContext, type Database, type Executor } from '@diandan/kernel';
import { questionsOf, type Question } from './definition.js';
import { suppress, toCsv } from './demand.js';
import { aggregable, type QuestionnaireService } from './questionnaires.js';
import { responses } from './schema.js';

export const ResultProblems = {
  INVALID_PUBLIC_RESULTS: 'SURVEY_INVALID_PUBLIC_RESULTS',
  NO_PUBLIC_RESULTS: 'SURVEY_NO_PUBLIC_RESULTS',
} as const;

/** A count: `null` where suppressed (public results only). */
type Count = number | null;

/** One option's count and share (of the respondents who answered the question). */
export interface OptionCount {
  value: string;
  count: Count;
  share: Count;
}

/** Statistics of one question; which fields are present depends on its type. */
export interface QuestionResult {
  name: string;
  type: Question['type'];
  title: Question['title'];
  /** Respondents who answered it; `null` when fewer than k (public). */
  answered: Count;
  /** Choice questions (and rating values): counts per option, in the definition's order. */
  options?: OptionCount[];
  /** Ratings and numbers: mean and median of the answers (`null` when suppressed). */
  mean?: Count;
  median?: Count;
  min?: Count;
  max?: Count;
  /** Ranking: per option, the mean position (1 = first) and how often it was ranked first. */
  ranks?: { value: string; meanPosition: Count; first: Count; points: Count }[];
  /** Matrix: per row, counts per column. */
  matrix?: { row: string; columns: OptionCount[] }[];
  /** Cross-tabulation by group or district: per key, counts per option. */
  crossTab?: { by: 'group' | 'district'; cells: { key: string; answered: Count; options: OptionCount[] }[] };
}

export interface Results {
  questionnaireId: string;
  /** Completed responses (any version). */
  respondents: Count;
  /** Public results: the minimum shown count. */
  k: number | null;
  questions: QuestionResult[];
}


const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Answered = { answers: Record<string, unknown>; group: string | null; district: string | null };

/** The option values of a choice question, as the definition lists them (pickers: as answered). */
function optionValues(q: Question, rows: readonly Answered[]): string[] {
  if (q.type === 'rating') return Array.from({ length: q.rateMax! - q.rateMin! + 1 }, (_, i) => String(q.rateMin! + i));
  if (q.choices) return q.choices.map((c) => c.value);
  return [...new Set(rows.map((r) => r.answers[q.name]).filter((v): v is string => typeof v === 'string'))].sort();
}

/** Counts per option among `rows` (multiple choice: each chosen value counts once per respondent). */
function countOptions(q: Question, values: string[], rows: readonly Answered[]): { answered: number; counts: Record<string, number> } {
  const counts = Object.fromEntries(values.map((v) => [v, 0]));
  let answered = 0;
  for (const r of rows) {
    const a = r.answers[q.name];
    if (a === undefined) continue;
    answered++;
    for (const v of Array.isArray(a) ? a : [a]) {
      const key = String(v);
      if (key in counts) counts[key]!++;
    }
  }
  return { answered, counts };
}

/**
 * The statistics of one question over `rows`. With `k`, counts from 1 to k−1 are hidden
 * (with complementary suppression within the question's options), and means and medians
 * are shown only when at least k answered.
 */
export function questionResult(q: Question, rows: readonly Answered[], k: number | null, by?: 'group' | 'district'): QuestionResult {
  const shownCount = (n: number): Count => (k && n > 0 && n < k ? null : n);
  const options = (values: string[], subset: readonly Answered[]): { answered: Count; options: OptionCount[] } => {
    const { answered, counts } = countOptions(q, values, subset);
    const shown = k ? suppress(counts, k).shown : counts;
    const hideAll = k !== null && answered > 0 && answered < k;
    return {
      answered: shownCount(answered),
      options: values.map((v) => {
        const c = hideAll ? null : (shown[v] ?? null);
        return { value: v, count: c, share: c === null || !answered ? (c === null ? null : 0) : round(c / answered) };
      }),
    };
  };
  const base = { name: q.name, type: q.type, title: q.title };
  const answeredRows = rows.filter((r) => r.answers[q.name] !== undefined);
  const enough = k === null || answeredRows.length >= k;
  const stats = (xs: number[]) =>
    xs.length && enough ? { mean: round(xs.reduce((a, b) => a + b, 0) / xs.length), median: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : { mean: null, median: null, min: null, max: null };
  const cross = (values: string[]) => {
    if (!by) return undefined;
    const keys = [...new Set(rows.map((r) => r[by] ?? 'unknown'))].sort();
    return { by, cells: keys.map((key) => ({ key, ...options(values, rows.filter((r) => (r[by] ?? 'unknown') === key)) })) };
  };
  switch (q.type) {
    case 'radiogroup':
    case 'dropdown':
    case 'checkbox': {
      const values = optionValues(q, rows);
      return { ...base, ...options(values, rows), ...(by ? { crossTab: cross(values)! } : {}) };
    }
    case 'rating': {
      const values = optionValues(q, rows);
      const xs = answeredRows.map((r) => r.answers[q.name] as number);
      return { ...base, ...options(values, rows), ...stats(xs), ...(by ? { crossTab: cross(values)! } : {}) };
    }
    case 'ranking': {
      const values = q.choices!.map((c) => c.value);
      const n = values.length;
      const ranks = values.map((v) => {
        const positions = answeredRows.map((r) => (r.answers[q.name] as string[]).indexOf(v)).filter((i) => i >= 0);
        const first = positions.filter((i) => i === 0).length;
        return {
          value: v,
          meanPosition: enough && positions.length ? round(positions.reduce((a, i) => a + i + 1, 0) / positions.length) : null,
          first: shownCount(first),
          // Borda points: n − position for each respondent who ranked it.
          points: enough ? positions.reduce((a, i) => a + (n - i), 0) : null,
        };
      });
      if (k) {
        const firsts = suppress(Object.fromEntries(ranks.map((r) => [r.value, r.first ?? 0])), k).hidden;
        for (const r of ranks) if (firsts.has(r.value)) r.first = null;
      }
      return { ...base, answered: shownCount(answeredRows.length), ranks };
    }
    case 'matrix': {
      const columns = q.columns!.map((c) => c.value);
      const matrix = q.rows!.map((row) => {
        const counts = Object.fromEntries(columns.map((c) => [c, 0]));
        let answered = 0;
        for (const r of answeredRows) {
          const v = (r.answers[q.name] as Record<string, string>)[row.value];
          if (v === undefined) continue;
          answered++;
          if (v in counts) counts[v]!++;
        }
        const shown = k ? suppress(counts, k).shown : counts;
        const hideAll = k !== null && answered > 0 && answered < k;
        return { row: row.value, columns: columns.map((c) => ({ value: c, count: hideAll ? null : (shown[c] ?? null), share: hideAll || shown[c] === null ? null : answered ? round(shown[c]! / answered) : 0 })) };
      });
      return { ...base, answered: shownCount(answeredRows.length), matrix };
    }
    case 'text':
      if (q.inputType === 'number') return { ...base, answered: shownCount(answeredRows.length), ...stats(answeredRows.map((r) => r.answers[q.name] as number)) };
      return { ...base, answered: shownCount(answeredRows.length) };
    default:
      return { ...base, answered: shownCount(answeredRows.length) };
  }
}

/** Results and the open-data export of questionnaires. */
export class ResultService {
  constructor(
    private readonly db: Database,
    private readonly questionnaires: QuestionnaireService,
    private readonly k: number,
  ) {}

  private async rows(questionnaireId: string, db: Executor = this.db): Promise<(Answered & { version: number; source: string; day: string; regionCode: string | null; ageBand: string | null; language: string | null })[]> {
    const rows = await db
      .select({ answers: responses.answers, group: responses.groupKey, path: responses.regionPath, version: responses.definitionVersion, source: responses.source, day: responses.day, regionCode: responses.regionCode, ageBand: responses.ageBand, language: responses.language })
      .from(responses)
      .where(and(eq(responses.questionnaireId, questionnaireId), eq(responses.status, 'completed')))
      // Random ids: the order says nothing about when anyone answered.
      .orderBy(asc(responses.id));
    // District: the second region of the path (`/city/district/…`).
    return rows.map((r) => ({ ...r, answers: r.answers as Record<string, unknown>, district: r.path?.split('/').filter(Boolean)[1] ?? null }));
  }

  /** The questions results are computed for: the newest definition's (answers of older versions count where the name is the same). */
  private async questionsOf(id: string, version: number): Promise<Question[]> {
    return questionsOf(await this.questionnaires.definition(id, version));
  }

  /** Staff: exact statistics of every question (free text: how many answered only). */
  async results(input: { id: string; by?: 'group' | 'district' | undefined }, { actor }: CallContext): Promise<Results> {
    const q = await this.questionnaires.get(input.id, { actor });
    const rows = await this.rows(q.id);
    const questions = await this.questionsOf(q.id, q.currentVersion);
    return { questionnaireId: q.id, respondents: rows.length, k: null, questions: questions.map((x) => questionResult(x, rows, null, input.by)) };
  }

  /** The public results behind a link: only the questions staff made public, small cells suppressed. */
  async publicResults(input: { slug: string; by?: 'group' | 'district' | undefined }): Promise<Results> {
    const row = await this.questionnaires.bySlug(input.slug);
    if (!row || row.publishedVersion === null) throw notFound('SURVEY_NOT_FOUND', 'No such questionnaire');
    if (!row.publicResults.length) throw notFound(ResultProblems.NO_PUBLIC_RESULTS, 'This questionnaire has no public results');
    const rows = await this.rows(row.id);
    const questions = (await this.questionsOf(row.id, row.currentVersion)).filter((x) => row.publicResults.includes(x.name) && aggregable(x));
    const n = rows.length;
    return { questionnaireId: row.id, respondents: n > 0 && n < this.k ? null : n, k: this.k, questions: questions.map((x) => questionResult(x, rows, this.k, input.by)) };
  }

  /**
   * The open-data export (开放数据): one row per completed response, in random order, with
   * no id, no day (the month only), no free text and no token of any kind — see the README
   * for the columns.
   */
  async export(input: { id: string; format: 'csv' | 'json' }, { actor }: CallContext): Promise<{ columns: string[]; rows: Record<string, unknown>[]; csv?: string }> {
    const q = await this.questionnaires.get(input.id, { actor });
    const rows = await this.rows(q.id);
    const questions = (await this.questionsOf(q.id, q.currentVersion)).filter(aggregable);
    const columns = ['definition_version', 'source', 'month', 'respondent_region', 'respondent_group', 'respondent_age_band', 'respondent_language', ...questions.flatMap((x) => (x.type === 'matrix' ? x.rows!.map((r) => `${x.name}.${r.value}`) : [x.name]))];
    const out = rows.map((r) => {
      const record: Record<string, unknown> = { definition_version: r.version, source: r.source, month: r.day.slice(0, 7), respondent_region: r.regionCode, respondent_group: r.group, respondent_age_band: r.ageBand, respondent_language: r.language };
      for (const x of questions) {
        const a = r.answers[x.name];
        if (x.type === 'matrix') for (const row of x.rows!) record[`${x.name}.${row.value}`] = (a as Record<string, string> | undefined)?.[row.value] ?? null;
        else record[x.name] = a ?? null;
      }
      return record;
    });
    if (input.format === 'json') return { columns, rows: out };
    const csv = toCsv(columns, out.map((r) => columns.map((c) => (Array.isArray(r[c]) ? (r[c] as unknown[]).join('|') : (r[c] as string | number | null)))));
    return { columns, rows: [], csv };
  }
}
