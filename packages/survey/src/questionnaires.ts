import { randomBytes } from 'node:crypto';
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import {
  DomainError,
  REGION_STAFF,
  decodeCursor,
  forbidden,
  hasRole,
  inScope,
  nextState,
  notFound,
  stale,
  toPage,
  withTransaction,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type KernelServices,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { checkDefinition, questionsOf, type Question } from './definition.js';
import { questionnaireLifecycle, type QuestionnaireAction, type QuestionnaireState } from './lifecycle.js';
import { definitions, invitations, questionnaires, quotas } from './schema.js';

/** Problem codes of questionnaires. */
export const QuestionnaireProblems = {
  NOT_FOUND: 'SURVEY_NOT_FOUND',
  INVALID_TARGET: 'SURVEY_INVALID_TARGET',
  INVALID_WINDOW: 'SURVEY_INVALID_WINDOW',
  INVALID_QUOTA: 'SURVEY_INVALID_QUOTA',
  NOT_INVITATION_ONLY: 'SURVEY_NOT_INVITATION_ONLY',
} as const;

/** Staff who manage questionnaires, each within its own subtree. */
export const SURVEY_STAFF_ROLES = REGION_STAFF;

/** A quota cell: `null` matches any region, group or age band. */
export interface QuotaCell {
  regionCode: string | null;
  group: string | null;
  ageBand: string | null;
  limit: number;
  /** Completed responses counted in it. */
  completed: number;
}
export type QuotaInput = Omit<QuotaCell, 'completed' | 'regionCode' | 'group' | 'ageBand'> & { regionCode?: string | null | undefined; group?: string | null | undefined; ageBand?: string | null | undefined };

/** A questionnaire (问卷) as staff see it. */
export interface Questionnaire {
  id: string;
  slug: string;
  regionCode: string;
  status: QuestionnaireState;
  currentVersion: number;
  publishedVersion: number | null;
  definition: Record<string, unknown>;
  opensAt: string | null;
  closesAt: string | null;
  targetRegions: string[];
  targetGroups: string[];
  invitationOnly: boolean;
  /** Questions whose results are public (aggregated, small cells suppressed). */
  publicResults: string[];
  quotas: QuotaCell[];
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface QuestionnaireInput {
  regionCode: string;
  definition: unknown;
  opensAt?: string | null | undefined;
  closesAt?: string | null | undefined;
  targetRegions?: string[] | undefined;
  targetGroups?: string[] | undefined;
  invitationOnly?: boolean | undefined;
  quotas?: QuotaInput[] | undefined;
  /** Questions whose results anyone may read; never free text. */
  publicResults?: string[] | undefined;
}
export type QuestionnaireUpdate = Partial<Omit<QuestionnaireInput, 'regionCode'>> & { id: string; expectedVersion: number };

type Row = typeof questionnaires.$inferSelect;

/** Question types whose results may be public: never free text (it may hold personal data). */
const PUBLIC_TYPES = new Set<Question['type']>(['radiogroup', 'checkbox', 'rating', 'ranking', 'dropdown', 'matrix']);
/** A question whose results can be shown in aggregate (and exported as open data). */
export const aggregable = (q: Question) => PUBLIC_TYPES.has(q.type) || (q.type === 'text' && q.inputType === 'number');

/** Checks the questions staff want public: they exist and are not free text. */
function checkPublic(names: readonly string[], questions: readonly Question[]): void {
  for (const name of names) {
    const q = questions.find((x) => x.name === name);
    if (!q) throw new DomainError('invalid', 'SURVEY_INVALID_PUBLIC_RESULTS', `publicResults: no question ${name}`, { question: name });
    if (!aggregable(q)) throw new DomainError('invalid', 'SURVEY_INVALID_PUBLIC_RESULTS', `publicResults: ${name} is free text, which is never public`, { question: name });
  }
}
const LIST = 'surveys.by-id';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** What the services need of their settings. */
export interface SurveySettings {
  readonly ageBands: readonly string[];
  readonly languages: readonly string[];
}

/** Questionnaires, their versions, publication, quotas and invitations; no HTTP. */
export class QuestionnaireService {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly settings: SurveySettings,
  ) {}

  private staffOnly(actor: Actor): void {
    if (!hasRole(actor, SURVEY_STAFF_ROLES)) throw forbidden('Only region staff manage questionnaires');
  }

  async create(input: QuestionnaireInput, { actor, tx, requestId }: CallContext): Promise<Questionnaire> {
    this.staffOnly(actor);
    const checked = checkDefinition(input.definition);
    checkPublic(input.publicResults ?? [], checked.questions);
    return withTransaction(this.db, tx, async (tx) => {
      const path = await this.kernel.regions.pathInScope(input.regionCode, actor, { tx });
      const settings = await this.checkSettings(tx, path, input);
      const [row] = await tx
        .insert(questionnaires)
        .values({
          slug: randomBytes(9).toString('base64url'),
          regionCode: input.regionCode,
          regionPath: path,
          status: 'draft',
          opensAt: settings.opensAt,
          closesAt: settings.closesAt,
          targetRegions: input.targetRegions ?? [],
          targetGroups: input.targetGroups ?? [],
          invitationOnly: input.invitationOnly ?? false,
          publicResults: [...new Set(input.publicResults ?? [])],
          createdBy: actor.userId,
        })
        .returning();
      await tx.insert(definitions).values({ questionnaireId: row!.id, number: 1, json: checked.json });
      await this.replaceQuotas(tx, row!.id, settings.quotas);
      const created = await this.read(tx, row!);
      await this.kernel.audit.record({ actor, entityType: 'survey', entityId: row!.id, action: 'survey.create', region: { code: row!.regionCode, path }, after: { status: 'draft', version: 1 }, requestId }, { tx });
      return created;
    });
  }

  /** Validates the window, targets and quotas; returns them ready to store. */
  private async checkSettings(tx: Executor, path: string, input: Partial<QuestionnaireInput>) {
    const opensAt = input.opensAt ? new Date(input.opensAt) : null;
    const closesAt = input.closesAt ? new Date(input.closesAt) : null;
    if (opensAt && closesAt && opensAt >= closesAt) throw new DomainError('invalid', QuestionnaireProblems.INVALID_WINDOW, 'opensAt must be before closesAt');
    for (const code of input.targetRegions ?? []) {
      const target = await this.kernel.regions.path(code, { tx });
      if (!target || !target.startsWith(path)) throw new DomainError('invalid', QuestionnaireProblems.INVALID_TARGET, `targetRegions: ${code} is not a region of the questionnaire's subtree`, { field: 'targetRegions', value: code });
    }
    const groups = [...(input.targetGroups ?? []), ...(input.quotas ?? []).flatMap((q) => (q.group ? [q.group] : []))];
    const missing = await this.kernel.populationGroups.missing([...new Set(groups)], { tx });
    if (missing.length) throw new DomainError('invalid', QuestionnaireProblems.INVALID_TARGET, `Unknown population group ${missing.join(', ')}`, { field: 'targetGroups', value: missing[0] });
    const cells: { regionCode: string | null; regionPath: string | null; groupKey: string | null; ageBand: string | null; limit: number }[] = [];
    const seen = new Set<string>();
    for (const q of input.quotas ?? []) {
      if (q.ageBand && !this.settings.ageBands.includes(q.ageBand)) throw new DomainError('invalid', QuestionnaireProblems.INVALID_QUOTA, `quotas: unknown age band ${q.ageBand} (${this.settings.ageBands.join(', ')})`);
      let regionPath: string | null = null;
      if (q.regionCode) {
        regionPath = (await this.kernel.regions.path(q.regionCode, { tx })) ?? null;
        if (!regionPath || !regionPath.startsWith(path)) throw new DomainError('invalid', QuestionnaireProblems.INVALID_QUOTA, `quotas: ${q.regionCode} is not a region of the questionnaire's subtree`);
      }
      const key = `${q.regionCode ?? ''}|${q.group ?? ''}|${q.ageBand ?? ''}`;
      if (seen.has(key)) throw new DomainError('invalid', QuestionnaireProblems.INVALID_QUOTA, `quotas: the cell ${key} is given twice`);
      seen.add(key);
      cells.push({ regionCode: q.regionCode ?? null, regionPath, groupKey: q.group ?? null, ageBand: q.ageBand ?? null, limit: q.limit });
    }
    return { opensAt, closesAt, quotas: input.quotas === undefined ? undefined : cells };
  }

  private async replaceQuotas(tx: Executor, id: string, cells: { regionCode: string | null; regionPath: string | null; groupKey: string | null; ageBand: string | null; limit: number }[] | undefined) {
    if (cells === undefined) return;
    // Completed counts carry over for cells that stay (same region, group and age band).
    const old = await tx.select().from(quotas).where(eq(quotas.questionnaireId, id));
    await tx.delete(quotas).where(eq(quotas.questionnaireId, id));
    if (!cells.length) return;
    const count = (c: (typeof cells)[number]) => old.find((o) => o.regionCode === c.regionCode && o.groupKey === c.groupKey && o.ageBand === c.ageBand)?.completed ?? 0;
    await tx.insert(quotas).values(cells.map((c) => ({ ...c, questionnaireId: id, completed: count(c) })));
  }

  private async read(db: Executor, row: Row): Promise<Questionnaire> {
    const [def] = await db.select({ json: definitions.json }).from(definitions).where(and(eq(definitions.questionnaireId, row.id), eq(definitions.number, row.currentVersion)));
    const cells = await db.select().from(quotas).where(eq(quotas.questionnaireId, row.id)).orderBy(asc(quotas.id));
    return {
      id: row.id,
      slug: row.slug,
      regionCode: row.regionCode,
      status: row.status as QuestionnaireState,
      currentVersion: row.currentVersion,
      publishedVersion: row.publishedVersion,
      definition: def!.json as Record<string, unknown>,
      opensAt: iso(row.opensAt),
      closesAt: iso(row.closesAt),
      targetRegions: row.targetRegions,
      targetGroups: row.targetGroups,
      invitationOnly: row.invitationOnly,
      publicResults: row.publicResults,
      quotas: cells.map((c) => ({ regionCode: c.regionCode, group: c.groupKey, ageBand: c.ageBand, limit: c.limit, completed: c.completed })),
      createdBy: row.createdBy,
      version: row.version,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  /** The row, if the actor may see it (out of scope answers as absent). */
  async row(id: string, actor: Actor, db: Executor = this.db, lock = false): Promise<Row> {
    const query = db.select().from(questionnaires).where(eq(questionnaires.id, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row || !inScope(actor, row.regionPath)) throw notFound(QuestionnaireProblems.NOT_FOUND, `No questionnaire ${id}`);
    return row;
  }

  async get(id: string, { actor, tx }: CallContext): Promise<Questionnaire> {
    this.staffOnly(actor);
    const db = tx ?? this.db;
    return this.read(db, await this.row(id, actor, db));
  }

  async list(query: { status?: QuestionnaireState | undefined; page: PageRequest }, { actor, tx }: CallContext): Promise<PageOf<Questionnaire>> {
    this.staffOnly(actor);
    const db = tx ?? this.db;
    const after = query.page.cursor ? (decodeCursor(query.page.cursor, LIST, ['uuid']) as [string]) : undefined;
    const rows = await db
      .select()
      .from(questionnaires)
      .where(and(withinScope(questionnaires.regionPath, actor), query.status ? eq(questionnaires.status, query.status) : undefined, after ? gt(questionnaires.id, after[0]) : undefined))
      .orderBy(asc(questionnaires.id))
      .limit(query.page.limit + 1);
    const page = toPage(rows, query.page.limit, LIST, (r) => [r.id], (r) => r);
    return { items: await Promise.all(page.items.map((r) => this.read(db, r))), nextCursor: page.nextCursor };
  }

  /**
   * Changes a questionnaire. A new definition of a draft replaces the draft's; of a
   * published (or closed) questionnaire it becomes a new version, which the public link
   * serves from then on — responses keep the version they answered.
   */
  async update(input: QuestionnaireUpdate, { actor, tx, requestId }: CallContext): Promise<Questionnaire> {
    this.staffOnly(actor);
    const checked = input.definition === undefined ? undefined : checkDefinition(input.definition);
    return withTransaction(this.db, tx, async (tx) => {
      const row = await this.row(input.id, actor, tx, true);
      if (row.version !== input.expectedVersion) throw stale();
      const merged = {
        opensAt: input.opensAt === undefined ? iso(row.opensAt) : input.opensAt,
        closesAt: input.closesAt === undefined ? iso(row.closesAt) : input.closesAt,
        targetRegions: input.targetRegions ?? row.targetRegions,
        targetGroups: input.targetGroups ?? row.targetGroups,
        quotas: input.quotas,
      };
      const settings = await this.checkSettings(tx, row.regionPath, merged);
      const publicResults = input.publicResults ?? row.publicResults;
      checkPublic(publicResults, checked?.questions ?? questionsOf(await this.definition(row.id, row.currentVersion, tx)));
      let currentVersion = row.currentVersion;
      let publishedVersion = row.publishedVersion;
      if (checked) {
        if (row.status === 'draft') {
          await tx.update(definitions).set({ json: checked.json }).where(and(eq(definitions.questionnaireId, row.id), eq(definitions.number, row.currentVersion)));
        } else {
          currentVersion = row.currentVersion + 1;
          await tx.insert(definitions).values({ questionnaireId: row.id, number: currentVersion, json: checked.json });
          if (row.status === 'published') publishedVersion = currentVersion;
        }
      }
      const [updated] = await tx
        .update(questionnaires)
        .set({
          currentVersion,
          publishedVersion,
          opensAt: settings.opensAt,
          closesAt: settings.closesAt,
          targetRegions: merged.targetRegions,
          targetGroups: merged.targetGroups,
          invitationOnly: input.invitationOnly ?? row.invitationOnly,
          publicResults: [...new Set(publicResults)],
          version: row.version + 1,
          updatedAt: new Date(),
        })
        .where(eq(questionnaires.id, row.id))
        .returning();
      await this.replaceQuotas(tx, row.id, settings.quotas);
      await this.kernel.audit.record(
        { actor, entityType: 'survey', entityId: row.id, action: 'survey.update', region: { code: row.regionCode, path: row.regionPath }, before: { definitionVersion: row.currentVersion }, after: { definitionVersion: currentVersion }, requestId },
        { tx },
      );
      return this.read(tx, updated!);
    });
  }

  /** publish, close or reopen (a state machine: `draft → published ⇄ closed`). */
  async act(input: { id: string; action: QuestionnaireAction; expectedVersion: number }, { actor, tx, requestId }: CallContext): Promise<Questionnaire> {
    this.staffOnly(actor);
    return withTransaction(this.db, tx, async (tx) => {
      const row = await this.row(input.id, actor, tx, true);
      if (row.version !== input.expectedVersion) throw stale();
      const to = nextState(questionnaireLifecycle, row.status as QuestionnaireState, input.action);
      const [updated] = await tx
        .update(questionnaires)
        .set({ status: to, publishedVersion: to === 'published' ? row.currentVersion : row.publishedVersion, version: row.version + 1, updatedAt: new Date() })
        .where(eq(questionnaires.id, row.id))
        .returning();
      await this.kernel.audit.record(
        { actor, entityType: 'survey', entityId: row.id, action: `survey.${input.action}`, region: { code: row.regionCode, path: row.regionPath }, before: { status: row.status }, after: { status: to }, requestId },
        { tx },
      );
      return this.read(tx, updated!);
    });
  }

  /**
   * Mints invitation tokens (one response each). The tokens are returned once and kept
   * only as keyed hashes with a used flag — nothing ties a response to the token it used.
   */
  async invite(input: { id: string; count: number }, { actor, tx, requestId }: CallContext): Promise<string[]> {
    this.staffOnly(actor);
    return withTransaction(this.db, tx, async (tx) => {
      const row = await this.row(input.id, actor, tx);
      if (!row.invitationOnly) throw new DomainError('conflict', QuestionnaireProblems.NOT_INVITATION_ONLY, 'This questionnaire is open to anyone: set invitationOnly first');
      const tokens = Array.from({ length: input.count }, () => randomBytes(18).toString('base64url'));
      await tx.insert(invitations).values(tokens.map((t) => ({ tokenHash: this.kernel.personalData.hash('survey-invitation', t), questionnaireId: row.id })));
      await this.kernel.audit.record({ actor, entityType: 'survey', entityId: row.id, action: 'survey.invite', region: { code: row.regionCode, path: row.regionPath }, after: { count: input.count }, requestId }, { tx });
      return tokens;
    });
  }

  /** Invitation counts: minted and used. */
  async invitationCounts(id: string, { actor }: CallContext): Promise<{ minted: number; used: number }> {
    this.staffOnly(actor);
    await this.row(id, actor);
    const [c] = await this.db
      .select({ minted: sql<number>`count(*)::int`, used: sql<number>`(count(*) filter (where ${invitations.used}))::int` })
      .from(invitations)
      .where(eq(invitations.questionnaireId, id));
    return c!;
  }

  /** The path of a region the questionnaire covers and the actor sees; `REGION_NOT_FOUND` otherwise. */
  async coveredRegion(id: string, code: string, actor: Actor): Promise<string> {
    const row = await this.row(id, actor);
    const path = await this.kernel.regions.pathInScope(code, actor);
    if (!path.startsWith(row.regionPath)) throw notFound('REGION_NOT_FOUND', `Region ${code} is outside this questionnaire`);
    return path;
  }

  /** The published questionnaire behind a public link (no actor: public). */
  async bySlug(slug: string, db: Executor = this.db): Promise<Row | undefined> {
    const [row] = await db.select().from(questionnaires).where(eq(questionnaires.slug, slug));
    return row;
  }

  /** A stored definition version. */
  async definition(id: string, number: number, db: Executor = this.db): Promise<Record<string, unknown>> {
    const [def] = await db.select({ json: definitions.json }).from(definitions).where(and(eq(definitions.questionnaireId, id), eq(definitions.number, number)));
    return def!.json as Record<string, unknown>;
  }

  /** Ids of questionnaires in the actor's subtree among `ids`. */
  async visibleIds(ids: string[], actor: Actor): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.select({ id: questionnaires.id }).from(questionnaires).where(and(inArray(questionnaires.id, ids), withinScope(questionnaires.regionPath, actor)));
    return new Set(rows.map((r) => r.id));
  }
}
