import { and, eq, inArray, isNull, lt } from 'drizzle-orm';
import { DomainError, notFound, transaction, type CallContext, type Database, type JobRun } from '@diandan/kernel';
import { questionsOf, type Question } from './definition.js';
import type { QuestionnaireService } from './questionnaires.js';
import type { Respondent, ResponseService } from './responses.js';
import { imports, questionnaires, responses } from './schema.js';

export const ImportProblems = {
  NOT_FOUND: 'SURVEY_IMPORT_NOT_FOUND',
  INVALID_CSV: 'SURVEY_INVALID_CSV',
  NOT_PUBLISHED: 'SURVEY_NOT_PUBLISHED',
} as const;

/** The respondent columns of the CSV template; every other column is a question's name. */
export const ATTRIBUTE_COLUMNS = { region: 'regionCode', group: 'group', age_band: 'ageBand', language: 'language' } as const;
const MAX_ROWS = 20_000;

/** A paper import (纸质问卷录入) as its status reads. */
export interface SurveyImport {
  id: string;
  questionnaireId: string;
  /** `queued` → `running` → `completed` | `failed` (all-or-nothing: a failed import stored nothing). */
  status: 'queued' | 'running' | 'completed' | 'failed';
  rows: number;
  imported: number;
  /** Bad rows: the CSV line and why. */
  errors: { line: number; question: string | null; reason: string }[];
  jobId: string | null;
  createdAt: string;
}

/** RFC 4180 CSV: records with the line each starts on. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let fresh = true;
  const src = text.startsWith('\ufeff') ? text.slice(1) : text;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      fresh = false;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      fresh = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      if (!(fresh && field === '' && fields.length === 0)) out.push({ line: start, fields: [...fields, field] });
      fields = [];
      field = '';
      fresh = true;
      line++;
      start = line;
    } else {
      field += ch;
      fresh = false;
    }
  }
  if (quoted) throw new DomainError('invalid', ImportProblems.INVALID_CSV, `line ${start}: a quoted field is not closed`, { line: start });
  if (!fresh || field !== '' || fields.length) out.push({ line: start, fields: [...fields, field] });
  return out;
}

/** A CSV cell as the answer of a question (the template's rules: `|` separates choices, `row=column` matrix cells). */
function cellValue(q: Question, cell: string): unknown {
  switch (q.type) {
    case 'checkbox':
    case 'ranking':
      return cell.split('|').map((v) => v.trim());
    case 'rating':
      return /^-?\d+$/.test(cell) ? Number(cell) : cell;
    case 'text':
      return q.inputType === 'number' && /^-?\d+(\.\d+)?$/.test(cell) ? Number(cell) : cell;
    case 'matrix':
      return Object.fromEntries(cell.split('|').map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]));
    default:
      return cell;
  }
}

/** Paper and street-event responses imported from CSV, as a job; all-or-nothing. */
export class ImportService {
  constructor(
    private readonly db: Database,
    private readonly questionnaires: QuestionnaireService,
    private readonly responses: ResponseService,
  ) {}

  async create(input: { questionnaireId: string; csv: string }, { actor, tx }: CallContext): Promise<SurveyImport> {
    const db = tx ?? this.db;
    const row = await this.questionnaires.row(input.questionnaireId, actor, db);
    await this.questionnaires.get(row.id, { actor, tx });
    if (row.publishedVersion === null) throw new DomainError('conflict', ImportProblems.NOT_PUBLISHED, 'Publish the questionnaire before importing responses to it');
    const [created] = await db.insert(imports).values({ questionnaireId: row.id, status: 'queued', csv: input.csv, createdBy: actor.userId }).returning();
    return toImport(created!);
  }

  async setJob(id: string, jobId: string, db: Database | CallContext['tx'] = this.db): Promise<SurveyImport> {
    const [row] = await (db ?? this.db).update(imports).set({ jobId }).where(eq(imports.id, id)).returning();
    return toImport(row!);
  }

  async get(input: { questionnaireId: string; id: string }, { actor }: CallContext): Promise<SurveyImport> {
    await this.questionnaires.row(input.questionnaireId, actor);
    const [row] = await this.db.select().from(imports).where(eq(imports.id, input.id));
    if (!row || row.questionnaireId !== input.questionnaireId) throw notFound(ImportProblems.NOT_FOUND, `No import ${input.id}`);
    return toImport(row);
  }

  /**
   * The job: checks every row like an online submission (answers, respondent
   * attributes), reporting each bad row's line and reason; stores all rows in one
   * transaction only if none is bad. Paper responses do not count towards quotas and
   * need no invitation (staff vouch for them).
   */
  async run(job: Pick<JobRun<{ importId: string }>, 'data' | 'progress' | 'signal'>): Promise<{ imported: number; errors: number }> {
    const [imp] = await this.db.select().from(imports).where(eq(imports.id, job.data.importId));
    if (!imp || imp.status === 'completed' || imp.status === 'failed') return { imported: imp?.imported ?? 0, errors: (imp?.errors as unknown[] | undefined)?.length ?? 0 };
    await this.db.update(imports).set({ status: 'running' }).where(eq(imports.id, imp.id));
    const [q] = await this.db.select().from(questionnaires).where(eq(questionnaires.id, imp.questionnaireId));
    const version = q!.publishedVersion!;
    const questions = questionsOf(await this.questionnaires.definition(q!.id, version));
    const byName = new Map(questions.map((x) => [x.name, x]));
    const errors: SurveyImport['errors'] = [];
    const good: { answers: Record<string, unknown>; respondent: Respondent & { regionPath: string | null } }[] = [];
    let records: { line: number; fields: string[] }[] = [];
    try {
      records = parseCsv(imp.csv);
    } catch (e) {
      errors.push({ line: (e as DomainError).details?.line as number, question: null, reason: (e as Error).message });
    }
    const [header, ...rows] = records;
    if (!errors.length && !header) errors.push({ line: 1, question: null, reason: 'the CSV is empty: the first line names the columns' });
    if (!errors.length && rows.length > MAX_ROWS) errors.push({ line: 1, question: null, reason: `at most ${MAX_ROWS} rows per import` });
    const columns = header?.fields.map((c) => c.trim()) ?? [];
    if (!errors.length) {
      for (const c of columns) {
        if (!(c in ATTRIBUTE_COLUMNS) && !byName.has(c)) errors.push({ line: header!.line, question: c, reason: `unknown column "${c.slice(0, 60)}": neither a respondent column (${Object.keys(ATTRIBUTE_COLUMNS).join(', ')}) nor a question` });
      }
      if (new Set(columns).size !== columns.length) errors.push({ line: header!.line, question: null, reason: 'a column is named twice' });
    }
    if (!errors.length) {
      for (const [i, r] of rows.entries()) {
        if (job.signal.aborted) break;
        if (r.fields.length !== columns.length) {
          errors.push({ line: r.line, question: null, reason: `expected ${columns.length} fields, found ${r.fields.length}` });
          continue;
        }
        const respondent: Respondent = {};
        const answers: Record<string, unknown> = {};
        columns.forEach((c, j) => {
          const cell = r.fields[j]!.trim();
          if (!cell) return;
          if (c in ATTRIBUTE_COLUMNS) respondent[ATTRIBUTE_COLUMNS[c as keyof typeof ATTRIBUTE_COLUMNS]] = cell;
          else answers[c] = cellValue(byName.get(c)!, cell);
        });
        try {
          const checked = await this.responses.checkRespondent(q!, respondent, this.db);
          good.push({ answers: await this.responses.checkAnswers(questions, answers, true, this.db), respondent: checked });
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
          errors.push({ line: r.line, question: (e.details?.question as string | undefined) ?? (e.details?.field as string | undefined) ?? null, reason: e.message });
        }
        if (i % 200 === 199) await job.progress(Math.round((50 * (i + 1)) / rows.length), `checked ${i + 1} of ${rows.length}`);
      }
    }
    if (errors.length || job.signal.aborted) {
      await this.db.update(imports).set({ status: 'failed', rows: rows.length, errors: errors.slice(0, 1000) }).where(eq(imports.id, imp.id));
      return { imported: 0, errors: errors.length };
    }
    await job.progress(50, `checked ${rows.length} rows`);
    await transaction(this.db, async (tx) => {
      const done = [];
      for (let i = 0; i < good.length; i += 500) {
        const chunk = good.slice(i, i + 500);
        const inserted = await tx
          .insert(responses)
          .values(chunk.map((g) => ({ ...this.responses.columns(q!, version, g.answers, g.respondent), status: 'completed', source: 'paper' })))
          .returning({ id: responses.id, day: responses.day });
        done.push(...inserted.map((r, j) => ({ id: r.id, day: r.day, answers: chunk[j]!.answers, respondent: chunk[j]!.respondent })));
      }
      await this.responses.recordDemand(tx, q!, questions, done, false);
      await tx.update(imports).set({ status: 'completed', rows: rows.length, imported: good.length, errors: [] }).where(eq(imports.id, imp.id));
    });
    await job.progress(100, `imported ${good.length} rows`);
    return { imported: good.length, errors: 0 };
  }
}

/**
 * Forgets the uploaded CSV text of finished imports older than `days` (the result, the
 * counts and the bad rows' lines and reasons stay): paper answers are kept as responses,
 * so the upload itself is not needed once the import has run. Returns how many were cleared.
 */
export async function clearImportedCsv(db: Database, days: number, now: Date = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const cleared = await db
    .update(imports)
    .set({ csv: '', csvClearedAt: now })
    .where(and(inArray(imports.status, ['completed', 'failed']), lt(imports.createdAt, cutoff), isNull(imports.csvClearedAt)))
    .returning({ id: imports.id });
  return cleared.length;
}

function toImport(r: typeof imports.$inferSelect): SurveyImport {
  return {
    id: r.id,
    questionnaireId: r.questionnaireId,
    status: r.status as SurveyImport['status'],
    rows: r.rows,
    imported: r.imported,
    errors: r.errors as SurveyImport['errors'],
    jobId: r.jobId,
    createdAt: r.createdAt.toISOString(),
  };
}
