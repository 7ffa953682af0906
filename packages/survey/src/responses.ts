import { randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DomainError, notFound, withTransaction, type Database, type Executor, type HookBus, type KernelServices, type Transaction } from '@diandan/kernel';
import { checkAnswers, questionsOf, type Question } from './definition.js';
import { demandUpdated } from './hooks.js';
import type { QuestionnaireService, SurveySettings } from './questionnaires.js';
import { demandRecords, invitations, questionnaires, quotas, responses } from './schema.js';

/** Problem codes of collection. */
export const ResponseProblems = {
  CLOSED: 'SURVEY_CLOSED',
  QUOTA_FULL: 'SURVEY_QUOTA_FULL',
  INVITATION_REQUIRED: 'SURVEY_INVITATION_REQUIRED',
  INVITATION_INVALID: 'SURVEY_INVITATION_INVALID',
  RESUME_NOT_FOUND: 'SURVEY_RESUME_TOKEN_NOT_FOUND',
  INVALID_RESPONDENT: 'SURVEY_INVALID_RESPONDENT',
  OUTSIDE_TARGET: 'SURVEY_OUTSIDE_TARGET',
} as const;

/** Optional, coarse facts a respondent may give about themself. */
export interface Respondent {
  ageBand?: string | undefined;
  regionCode?: string | undefined;
  group?: string | undefined;
  language?: string | undefined;
}

export interface SubmitInput {
  slug: string;
  answers: Record<string, unknown>;
  respondent?: Respondent | undefined;
  /** An invitation token (invitation-only questionnaires), needed when completing. */
  invitation?: string | undefined;
  /** false: save as a partial response and get a resume token. */
  complete?: boolean | undefined;
}

/** What a submission answers: never the response's id (nothing to link it by). */
export interface Submitted {
  status: 'partial' | 'completed';
  /** Partial responses: the token to continue with (shown once). */
  resumeToken: string | null;
  definitionVersion: number;
}

/** A partial response read back with its resume token. */
export interface PartialResponse {
  status: 'partial';
  definitionVersion: number;
  answers: Record<string, unknown>;
  respondent: Respondent;
}

type QuestionnaireRow = typeof questionnaires.$inferSelect;
type Cell = typeof quotas.$inferSelect;

/** The day in Asia/Shanghai (`YYYY-MM-DD`): the only time a response keeps. */
export const shanghaiDay = (now: Date): string => new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

/** A completed response's demand records (see the README, "Demand signals", for the weighting). */
export function demandOf(questions: readonly Question[], answers: Readonly<Record<string, unknown>>): { category: string; tags: string[]; weight: number }[] {
  const out: { category: string; tags: string[]; weight: number }[] = [];
  for (const q of questions) {
    const value = answers[q.name];
    if (value === undefined) continue;
    const choice = (v: unknown) => q.choices?.find((c) => c.value === v);
    const push = (demand: { category: string; tags?: string[] | undefined } | undefined, weight: number) => {
      if (demand && weight > 0) out.push({ category: demand.category, tags: demand.tags ?? [], weight });
    };
    switch (q.type) {
      case 'radiogroup':
      case 'dropdown':
        push(choice(value)?.demand, 1);
        break;
      case 'checkbox':
        for (const v of value as string[]) push(choice(v)?.demand, 1 / (value as string[]).length);
        break;
      case 'ranking': {
        const n = (value as string[]).length;
        (value as string[]).forEach((v, i) => push(choice(v)?.demand, (n - i) / n));
        break;
      }
      case 'rating':
        push(q.demand, ((value as number) - q.rateMin!) / (q.rateMax! - q.rateMin!));
        break;
      default:
    }
  }
  return out;
}

/** Collection: public submissions, partial responses, invitations, quotas, demand records; no HTTP. */
export class ResponseService {
  /** The clock (tests may set it). */
  now: () => Date = () => new Date();

  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly questionnaires: QuestionnaireService,
    private readonly settings: SurveySettings,
  ) {}

  private hash(purpose: 'survey-resume' | 'survey-invitation', token: string): string {
    return this.kernel.personalData.hash(purpose, token);
  }

  /**
   * The Idempotency-Key scope of an anonymous submission: the respondent's address,
   * invitation and answers under the deployment's key, so that what is stored with the
   * key (24 hours) cannot be turned back into an address by trying them all.
   */
  submissionKeyScope(address: string, body: unknown): string {
    return this.kernel.personalData.hash('survey-idempotency-scope', `${address}\n${JSON.stringify(body)}`);
  }

  /** The questionnaire behind a public link, if it takes responses now. */
  async open(slug: string, db: Executor = this.db): Promise<QuestionnaireRow> {
    const row = await this.questionnaires.bySlug(slug, db);
    if (!row || row.publishedVersion === null) throw notFound('SURVEY_NOT_FOUND', 'No such questionnaire');
    const now = this.now();
    if (row.status !== 'published' || (row.opensAt && now < row.opensAt) || (row.closesAt && now >= row.closesAt)) {
      throw new DomainError('conflict', ResponseProblems.CLOSED, row.status === 'published' && row.opensAt && now < row.opensAt ? `This questionnaire opens at ${row.opensAt.toISOString()}` : 'This questionnaire is closed');
    }
    return row;
  }

  /** The published definition behind a public link, with which quota cells are full. */
  async publicDefinition(slug: string): Promise<{ definition: Record<string, unknown>; definitionVersion: number; invitationOnly: boolean; closesAt: string | null; fullCells: { regionCode: string | null; group: string | null; ageBand: string | null }[]; ageBands: string[]; languages: string[] }> {
    const row = await this.open(slug);
    const full = await this.db.select().from(quotas).where(and(eq(quotas.questionnaireId, row.id), sql`${quotas.completed} >= ${quotas.limit}`)).orderBy(asc(quotas.id));
    return {
      definition: await this.questionnaires.definition(row.id, row.publishedVersion!),
      definitionVersion: row.publishedVersion!,
      invitationOnly: row.invitationOnly,
      closesAt: row.closesAt?.toISOString() ?? null,
      fullCells: full.map((c) => ({ regionCode: c.regionCode, group: c.groupKey, ageBand: c.ageBand })),
      ageBands: [...this.settings.ageBands],
      languages: [...this.settings.languages],
    };
  }

  /** Checks the respondent's attributes; returns them with the region's path. */
  async checkRespondent(row: QuestionnaireRow, respondent: Respondent, db: Executor): Promise<Respondent & { regionPath: string | null }> {
    const bad = (field: string, message: string) => new DomainError('invalid', ResponseProblems.INVALID_RESPONDENT, `respondent.${field}: ${message}`, { field: `respondent.${field}` });
    if (respondent.ageBand !== undefined && !this.settings.ageBands.includes(respondent.ageBand)) throw bad('ageBand', `one of ${this.settings.ageBands.join(', ')}`);
    if (respondent.language !== undefined && !this.settings.languages.includes(respondent.language)) throw bad('language', `one of ${this.settings.languages.join(', ')}`);
    if (respondent.group !== undefined && (await this.kernel.populationGroups.missing([respondent.group], { tx: db })).length) throw bad('group', 'no such population group');
    let regionPath: string | null = null;
    if (respondent.regionCode !== undefined) {
      regionPath = (await this.kernel.regions.path(respondent.regionCode, { tx: db })) ?? null;
      if (!regionPath || !regionPath.startsWith(row.regionPath)) throw bad('regionCode', 'not a region this questionnaire covers');
      if (row.targetRegions.length) {
        const targets = await Promise.all(row.targetRegions.map((c) => this.kernel.regions.path(c, { tx: db })));
        if (!targets.some((t) => t && regionPath!.startsWith(t))) throw new DomainError('invalid', ResponseProblems.OUTSIDE_TARGET, 'respondent.regionCode: outside the target regions of this questionnaire', { field: 'respondent.regionCode' });
      }
    }
    return { ...respondent, regionPath };
  }

  /** Checks answers against a version's questions, with the kernel's regions and groups for pickers. */
  async checkAnswers(questions: readonly Question[], answers: Record<string, unknown>, complete: boolean, db: Executor): Promise<Record<string, unknown>> {
    const picked = (source: 'regions' | 'populationGroups') =>
      questions.filter((q) => q.choicesSource === source).flatMap((q) => (typeof answers[q.name] === 'string' && (answers[q.name] as string).length <= 64 ? [answers[q.name] as string] : []));
    const regions = new Set<string>();
    for (const code of picked('regions')) if (await this.kernel.regions.path(code, { tx: db })) regions.add(code);
    const groupKeys = picked('populationGroups');
    const missing = new Set(await this.kernel.populationGroups.missing(groupKeys, { tx: db }));
    return checkAnswers(questions, answers, complete, { regionExists: (c) => regions.has(c), groupExists: (g) => groupKeys.includes(g) && !missing.has(g) });
  }

  /** A public submission: complete, or partial with a resume token. Nothing is stored when anything is refused. */
  async submit(input: SubmitInput, { tx }: { tx?: Transaction | undefined } = {}): Promise<Submitted> {
    return withTransaction(this.db, tx, async (tx) => {
      const row = await this.open(input.slug, tx);
      const version = row.publishedVersion!;
      const questions = questionsOf(await this.questionnaires.definition(row.id, version, tx));
      const respondent = await this.checkRespondent(row, input.respondent ?? {}, tx);
      const complete = input.complete ?? true;
      const answers = await this.checkAnswers(questions, input.answers, complete, tx);
      if (!complete) {
        const token = randomBytes(24).toString('base64url');
        await tx.insert(responses).values({ ...this.columns(row, version, answers, respondent), status: 'partial', source: 'online', resumeTokenHash: this.hash('survey-resume', token) });
        return { status: 'partial', resumeToken: token, definitionVersion: version };
      }
      await this.complete(tx, row, questions, input.invitation);
      const [created] = await tx.insert(responses).values({ ...this.columns(row, version, answers, respondent), status: 'completed', source: 'online' }).returning({ id: responses.id, day: responses.day });
      await this.recordDemand(tx, row, questions, [{ id: created!.id, answers, respondent, day: created!.day }]);
      return { status: 'completed', resumeToken: null, definitionVersion: version };
    });
  }

  /** A partial response, read with its resume token. */
  async resume(token: string): Promise<PartialResponse> {
    const [r] = await this.db.select().from(responses).where(and(eq(responses.resumeTokenHash, this.hash('survey-resume', token)), eq(responses.status, 'partial')));
    if (!r) throw notFound(ResponseProblems.RESUME_NOT_FOUND, 'No partial response for this token');
    return { status: 'partial', definitionVersion: r.definitionVersion, answers: r.answers as Record<string, unknown>, respondent: respondentOf(r) };
  }

  /**
   * Continues a partial response: `answers` are merged into those saved (a `null` clears
   * one) and checked again against the version it started on; with `complete`, it is
   * completed (quotas, invitation) and its resume token forgotten.
   */
  async continue(input: { token: string; answers: Record<string, unknown>; respondent?: Respondent | undefined; invitation?: string | undefined; complete?: boolean | undefined }, { tx }: { tx?: Transaction | undefined } = {}): Promise<Submitted> {
    return withTransaction(this.db, tx, async (tx) => {
      const [r] = await tx.select().from(responses).where(and(eq(responses.resumeTokenHash, this.hash('survey-resume', input.token)), eq(responses.status, 'partial'))).for('update');
      if (!r) throw notFound(ResponseProblems.RESUME_NOT_FOUND, 'No partial response for this token');
      const [row] = await tx.select().from(questionnaires).where(eq(questionnaires.id, r.questionnaireId));
      const slug = row!.slug;
      await this.open(slug, tx);
      const questions = questionsOf(await this.questionnaires.definition(row!.id, r.definitionVersion, tx));
      const merged = Object.fromEntries(Object.entries({ ...(r.answers as Record<string, unknown>), ...input.answers }).filter(([, v]) => v !== null));
      const respondent = await this.checkRespondent(row!, { ...respondentOf(r), ...input.respondent }, tx);
      const complete = input.complete ?? true;
      const answers = await this.checkAnswers(questions, merged, complete, tx);
      if (complete) await this.complete(tx, row!, questions, input.invitation);
      const columns = this.columns(row!, r.definitionVersion, answers, respondent);
      await tx
        .update(responses)
        .set({ ...columns, status: complete ? 'completed' : 'partial', resumeTokenHash: complete ? null : r.resumeTokenHash })
        .where(eq(responses.id, r.id));
      if (complete) await this.recordDemand(tx, row!, questions, [{ id: r.id, answers, respondent, day: columns.day }]);
      return { status: complete ? 'completed' : 'partial', resumeToken: complete ? null : input.token, definitionVersion: r.definitionVersion };
    });
  }

  columns(row: QuestionnaireRow, version: number, answers: Record<string, unknown>, respondent: Respondent & { regionPath: string | null }) {
    return {
      questionnaireId: row.id,
      definitionVersion: version,
      answers,
      regionCode: respondent.regionCode ?? null,
      regionPath: respondent.regionPath,
      groupKey: respondent.group ?? null,
      ageBand: respondent.ageBand ?? null,
      language: respondent.language ?? null,
      day: shanghaiDay(this.now()),
    };
  }

  /** What completing takes: an unused invitation (consumed) and room in every matching quota cell. */
  private async complete(tx: Transaction, row: QuestionnaireRow, _questions: readonly Question[], invitation: string | undefined): Promise<void> {
    if (row.invitationOnly) {
      if (!invitation) throw new DomainError('invalid', ResponseProblems.INVITATION_REQUIRED, 'This questionnaire takes responses by invitation: give the invitation token');
      const used = await tx
        .update(invitations)
        .set({ used: true })
        .where(and(eq(invitations.tokenHash, this.hash('survey-invitation', invitation)), eq(invitations.questionnaireId, row.id), eq(invitations.used, false)))
        .returning({ used: invitations.used });
      if (!used.length) throw new DomainError('conflict', ResponseProblems.INVITATION_INVALID, 'This invitation is unknown or has been used');
    }
  }

  /**
   * Counts a completed response in every quota cell it matches — atomically: the
   * conditional increment (`completed < limit`) locks the cell's row, so of concurrent
   * completions only as many as there is room for get through; the rest are refused
   * with `SURVEY_QUOTA_FULL` and their transaction stores nothing.
   */
  async countInQuotas(tx: Executor, questionnaireId: string, respondent: { regionPath: string | null; group?: string | undefined; ageBand?: string | undefined }): Promise<void> {
    const cells = await tx.select().from(quotas).where(eq(quotas.questionnaireId, questionnaireId)).orderBy(asc(quotas.id));
    const matching = cells.filter((c: Cell) => (!c.regionPath || (respondent.regionPath?.startsWith(c.regionPath) ?? false)) && (!c.groupKey || c.groupKey === respondent.group) && (!c.ageBand || c.ageBand === respondent.ageBand));
    for (const cell of matching) {
      const counted = await tx.update(quotas).set({ completed: sql`${quotas.completed} + 1` }).where(and(eq(quotas.id, cell.id), sql`${quotas.completed} < ${quotas.limit}`)).returning({ id: quotas.id });
      if (!counted.length) {
        throw new DomainError('conflict', ResponseProblems.QUOTA_FULL, 'The quota for respondents like you is full: thank you', { regionCode: cell.regionCode, group: cell.groupKey, ageBand: cell.ageBand });
      }
    }
  }

  /** Stores completed responses' demand records (and counts them in quotas); publishes `survey.demand-updated`. */
  async recordDemand(tx: Transaction, row: QuestionnaireRow, questions: readonly Question[], done: { id: string; answers: Record<string, unknown>; respondent: Respondent & { regionPath: string | null }; day: string }[], countQuotas = true): Promise<void> {
    const records = [];
    for (const r of done) {
      if (countQuotas) await this.countInQuotas(tx, row.id, r.respondent);
      const regionCode = r.respondent.regionCode ?? row.regionCode;
      const regionPath = r.respondent.regionPath ?? row.regionPath;
      for (const d of demandOf(questions, r.answers)) {
        records.push({ source: 'survey', questionnaireId: row.id, responseId: r.id, regionCode, regionPath, groupKey: r.respondent.group ?? 'general-public', category: d.category, tags: d.tags, period: r.day.slice(0, 7), weight: d.weight });
      }
    }
    for (let i = 0; i < records.length; i += 1000) await tx.insert(demandRecords).values(records.slice(i, i + 1000));
    if (records.length) {
      await this.hooks.publish(tx, demandUpdated, {
        source: 'survey',
        questionnaireId: row.id,
        regions: [...new Set(records.map((r) => r.regionCode))].sort(),
        categories: [...new Set(records.map((r) => r.category))].sort(),
        periods: [...new Set(records.map((r) => r.period))].sort(),
        records: records.length,
      });
    }
  }

  /**
   * Stores already-checked completed responses in bulk (paper imports, the demo), with
   * their demand records, in the caller's transaction; they do not count towards quotas.
   */
  async storeCompleted(
    tx: Transaction,
    row: QuestionnaireRow,
    version: number,
    questions: readonly Question[],
    items: readonly { answers: Record<string, unknown>; respondent: Respondent & { regionPath: string | null } }[],
    source: 'paper' | 'demo',
  ): Promise<number> {
    const done = [];
    for (let i = 0; i < items.length; i += 500) {
      const chunk = items.slice(i, i + 500);
      const inserted = await tx
        .insert(responses)
        .values(chunk.map((g) => ({ ...this.columns(row, version, g.answers, g.respondent), status: 'completed', source })))
        .returning({ id: responses.id, day: responses.day });
      done.push(...inserted.map((r, j) => ({ id: r.id, day: r.day, answers: chunk[j]!.answers, respondent: chunk[j]!.respondent })));
    }
    await this.recordDemand(tx, row, questions, done, false);
    return done.length;
  }

  /** Completed responses of a questionnaire, by id (for tests of anonymity and exports). */
  async countCompleted(questionnaireIds: string[]): Promise<number> {
    if (!questionnaireIds.length) return 0;
    const [c] = await this.db.select({ n: sql<number>`count(*)::int` }).from(responses).where(and(inArray(responses.questionnaireId, questionnaireIds), eq(responses.status, 'completed')));
    return c!.n;
  }
}

function respondentOf(r: typeof responses.$inferSelect): Respondent {
  return {
    ...(r.ageBand ? { ageBand: r.ageBand } : {}),
    ...(r.regionCode ? { regionCode: r.regionCode } : {}),
    ...(r.groupKey ? { group: r.groupKey } : {}),
    ...(r.language ? { language: r.language } : {}),
  };
}
