import { and, asc, desc, eq, gt, inArray, isNotNull, lt, lte, or, sql } from 'drizzle-orm';
import {
  ADMIN_ROLES,
  DomainError,
  ProblemCodes,
  forbidden,
  hasRole,
  inScope,
  nextState,
  decodeCursor,
  toPage,
  withTransaction,
  withinScope,
  stale,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type HookBus,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { projectCancelled, tenderPublished, type ProjectEvent } from './hooks.js';
import { METHODS, minimumInvited, tenderLifecycle, type ProcurementMethod, type TenderAction, type TenderState } from './lifecycle.js';
import type { ProcurementClock } from './clock.js';
import type { OcdsService } from './ocds.js';
import { amendments, contracts, enquiries, projectFiles, projects, type DocumentData, type ItemData, type LotData } from './schema.js';
import {
  auditRegion,
  isBuyerAdmin,
  lockProject,
  readProject,
  requireBuyerAdmin,
  requireEligibleSupplier,
  toProject,
  type Kernel,
  type Project,
  type ProjectRow,
} from './support.js';

/** What a project is created with. */
export interface ProjectInput {
  buyerUnitId: string;
  title: string;
  description: string;
  category: string;
  method: ProcurementMethod;
  rationale?: string | undefined;
  framework?: boolean | undefined;
  estimate: number;
  lots: LotData[];
  items: ItemData[];
  documents?: DocumentData[] | undefined;
  invitedSupplierIds?: string[] | undefined;
  panel?: string[] | undefined;
  priceWeight: number;
  qualityWeight: number;
  standstillDays?: number | undefined;
  enquiryPeriodEnd: string;
  tenderPeriodEnd: string;
}

/** A change of a project: any field of a draft; of a published tender, an amendment with a rationale. */
export type ProjectUpdate = Partial<Omit<ProjectInput, 'buyerUnitId' | 'method' | 'framework'>> & { amendmentRationale?: string | undefined };

/** Fields a published tender may still change (each change is an OCDS amendment). */
const AMENDABLE = ['title', 'description', 'estimate', 'lots', 'items', 'documents', 'enquiryPeriodEnd', 'tenderPeriodEnd'] as const;

/** A supplier's question and the buyer's answer (答疑), shown without the asker. */
export interface Enquiry {
  id: string;
  projectId: string;
  question: string;
  answer: string | null;
  askedAt: string;
  answeredAt: string | null;
}

export interface Amendment {
  id: number;
  date: string;
  rationale: string;
  changes: { field: string; before: unknown; after: unknown }[];
}

const BY_CREATED = 'procurement.projects.by-created';

/** Procurement projects: drafting, publication, amendments, enquiries, cancellation, and the time-driven steps. */
export class ProjectService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Kernel,
    private readonly hooks: HookBus,
    private readonly ocds: OcdsService,
    private readonly system: () => Promise<Actor>,
    private readonly defaults: { standstillDays: number },
    private readonly clock: ProcurementClock,
  ) {}

  /** An administrator over the buyer unit drafts a project. */
  async create(input: ProjectInput, ctx: CallContext): Promise<Project> {
    if (!hasRole(ctx.actor, ADMIN_ROLES)) throw forbidden('Only city or district administrators draft procurement projects');
    return withTransaction(this.db, ctx.tx, async (tx) => {
      // UNIT_NOT_FOUND (404) for a unit outside the actor's subtree.
      const unit = await this.kernel.units.get(input.buyerUnitId, { actor: ctx.actor, tx });
      const path = await this.kernel.regions.pathInScope(unit.regionCode, ctx.actor, { tx });
      const values = {
        buyerUnitId: unit.id,
        regionCode: unit.regionCode,
        regionPath: path,
        title: input.title,
        description: input.description,
        category: input.category,
        method: input.method,
        rationale: input.rationale ?? null,
        framework: input.framework ?? false,
        estimate: input.estimate,
        lots: normalLots(input.lots),
        items: normalItems(input.items),
        documents: normalDocuments(input.documents ?? []),
        invitedSupplierIds: [...new Set(input.invitedSupplierIds ?? [])],
        panel: [...new Set(input.panel ?? [])],
        priceWeight: input.priceWeight,
        qualityWeight: input.qualityWeight,
        standstillDays: input.standstillDays ?? this.defaults.standstillDays,
        enquiryEnd: parseDate(input.enquiryPeriodEnd, 'enquiryPeriodEnd'),
        tenderEnd: parseDate(input.tenderPeriodEnd, 'tenderPeriodEnd'),
        createdBy: ctx.actor.userId,
      };
      await this.validate(tx, values);
      await documentFilesOf(tx, null, values.documents);
      const [row] = await tx.insert(projects).values(values).returning();
      const project = toProject(row!, ctx.actor);
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-project', entityId: row!.id, action: 'procurement.project.create', region: auditRegion(row!), after: project, requestId: ctx.requestId },
        { tx },
      );
      return project;
    });
  }

  /** One project: public once published, drafts for the buyer's administrators. */
  async get(id: string, ctx: { actor: Actor | null }): Promise<Project> {
    return toProject(this.effective(await readProject(this.db, id, ctx.actor), await this.clock.now()), ctx.actor);
  }

  /** Projects, newest first: published ones for everybody, plus drafts in an administrator's subtree. */
  async list(query: { status?: TenderState | undefined; buyerUnitId?: string | undefined; page: PageRequest }, ctx: { actor: Actor | null }): Promise<PageOf<Project>> {
    const { page, actor } = { page: query.page, actor: ctx.actor };
    const cursor = page.cursor ? decodeCursor(page.cursor, BY_CREATED, ['text', 'uuid']) : undefined;
    if (cursor && Number.isNaN(new Date(String(cursor[0])).getTime())) throw new DomainError('bad_request', ProblemCodes.INVALID_CURSOR, 'The cursor is not one of this list');
    const visible =
      actor && hasRole(actor, ADMIN_ROLES) ? or(isNotNull(projects.publishedAt), withinScope(projects.regionPath, actor)) : isNotNull(projects.publishedAt);
    const now = await this.clock.now();
    const rows = await this.db
      .select()
      .from(projects)
      .where(
        and(
          visible,
          query.status ? this.statusFilter(query.status, now) : undefined,
          query.buyerUnitId ? eq(projects.buyerUnitId, query.buyerUnitId) : undefined,
          cursor
            ? or(lt(projects.createdAt, new Date(String(cursor[0]))), and(eq(projects.createdAt, new Date(String(cursor[0]))), gt(projects.id, String(cursor[1]))))
            : undefined,
        ),
      )
      .orderBy(desc(projects.createdAt), asc(projects.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_CREATED, (r) => [r.createdAt.toISOString(), r.id], (r) => toProject(this.effective(r, now), actor));
  }

  /** Changes a draft, or amends a published tender before its enquiry/tender deadlines (recorded for OCDS). */
  async update(input: { id: string; expectedVersion: number; changes: ProjectUpdate }, ctx: CallContext): Promise<Project> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let row = await lockProject(tx, input.id, ctx.actor);
      requireBuyerAdmin(ctx.actor, row);
      if (row.version !== input.expectedVersion) throw stale();
      const now = await this.clock.now(tx);
      row = await this.advance(tx, row, now);
      const { amendmentRationale, ...changes } = input.changes;
      const keys = Object.keys(changes).filter((k) => (changes as Record<string, unknown>)[k] !== undefined) as (keyof typeof changes)[];
      if (keys.length === 0) throw new DomainError('invalid', 'PROCUREMENT_NOTHING_TO_CHANGE', 'The change names no field');
      const amending = row.status !== 'draft';
      if (amending) {
        if (row.status !== 'published' && row.status !== 'tendering') {
          throw new DomainError('conflict', 'PROCUREMENT_PROJECT_LOCKED', `A ${row.status} project can no longer be changed`);
        }
        if (now >= row.tenderEnd) throw new DomainError('conflict', 'PROCUREMENT_PROJECT_LOCKED', 'The tender period has ended: the tender can no longer be amended');
        const notAmendable = keys.filter((k) => !(AMENDABLE as readonly string[]).includes(k));
        if (notAmendable.length > 0) {
          throw new DomainError('invalid', 'PROCUREMENT_NOT_AMENDABLE', `A published tender cannot change ${notAmendable.join(', ')}`, { fields: notAmendable });
        }
        if (!amendmentRationale?.trim()) throw new DomainError('invalid', 'PROCUREMENT_AMENDMENT_RATIONALE_REQUIRED', 'An amendment of a published tender needs a rationale');
      }
      const next = {
        title: changes.title ?? row.title,
        description: changes.description ?? row.description,
        category: changes.category ?? row.category,
        method: row.method,
        rationale: changes.rationale !== undefined ? changes.rationale : row.rationale,
        framework: row.framework,
        estimate: changes.estimate ?? row.estimate,
        lots: changes.lots ? normalLots(changes.lots) : row.lots,
        items: changes.items ? normalItems(changes.items) : row.items,
        documents: changes.documents ? normalDocuments(changes.documents) : row.documents,
        invitedSupplierIds: changes.invitedSupplierIds ? [...new Set(changes.invitedSupplierIds)] : row.invitedSupplierIds,
        panel: changes.panel ? [...new Set(changes.panel)] : row.panel,
        priceWeight: changes.priceWeight ?? row.priceWeight,
        qualityWeight: changes.qualityWeight ?? row.qualityWeight,
        standstillDays: changes.standstillDays ?? row.standstillDays,
        enquiryEnd: changes.enquiryPeriodEnd ? parseDate(changes.enquiryPeriodEnd, 'enquiryPeriodEnd') : row.enquiryEnd,
        tenderEnd: changes.tenderPeriodEnd ? parseDate(changes.tenderPeriodEnd, 'tenderPeriodEnd') : row.tenderEnd,
      };
      await this.validate(tx, next);
      if (changes.documents) await documentFilesOf(tx, row.id, next.documents);
      if (amending) {
        if (next.tenderEnd < row.tenderEnd) throw new DomainError('invalid', 'PROCUREMENT_PERIOD_SHORTENED', 'An amendment may extend the tender period, never shorten it');
        if (next.enquiryEnd <= now && next.enquiryEnd.getTime() !== row.enquiryEnd.getTime()) {
          throw new DomainError('invalid', 'PROCUREMENT_PERIOD_PASSED', 'The new enquiry deadline has passed');
        }
        const lotIds = new Set(next.lots.map((l) => l.id));
        if (row.lots.some((l) => !lotIds.has(l.id))) throw new DomainError('invalid', 'PROCUREMENT_LOT_REMOVED', 'An amendment cannot remove a lot: bids may exist for it');
      }
      const [updated] = await tx
        .update(projects)
        .set({ ...next, updatedAt: sql`now()`, version: sql`${projects.version} + 1`, status: next.enquiryEnd > now && row.status === 'tendering' ? 'published' : row.status })
        .where(eq(projects.id, row.id))
        .returning();
      if (amending) {
        const fieldChanges = keys.map((k) => ({ field: k, before: fieldOf(row, k), after: (changes as Record<string, unknown>)[k] }));
        const [amendment] = await tx.insert(amendments).values({ projectId: row.id, rationale: amendmentRationale!, changes: fieldChanges, date: now }).returning();
        await this.ocds.record(tx, row.id, 'tenderAmendment', { amendmentId: amendment!.id });
      }
      const project = toProject(updated!, ctx.actor);
      await this.kernel.audit.record(
        {
          actor: ctx.actor,
          entityType: 'procurement-project',
          entityId: row.id,
          action: amending ? 'procurement.project.amend' : 'procurement.project.update',
          region: auditRegion(row),
          before: toProject(row, ctx.actor),
          after: project,
          requestId: ctx.requestId,
        },
        { tx },
      );
      return project;
    });
  }

  /** Publishes the tender notice (招标公告): the enquiry and tender periods start now. */
  async publish(input: { id: string; expectedVersion: number }, ctx: CallContext): Promise<Project> {
    return this.transition(input, 'publish', ctx, async (tx, row, now) => {
      if (row.enquiryEnd <= now || row.tenderEnd <= now) {
        throw new DomainError('invalid', 'PROCUREMENT_PERIOD_PASSED', 'The enquiry and tender deadlines must lie in the future when the tender is published', {
          enquiryPeriodEnd: row.enquiryEnd.toISOString(),
          tenderPeriodEnd: row.tenderEnd.toISOString(),
        });
      }
      await this.validate(tx, row);
      return { publishedAt: now, enquiryStart: now };
    });
  }

  /** Cancels the project (项目终止), at any stage before completion; signed contracts stay as they are. */
  async cancel(input: { id: string; expectedVersion: number; reason: string }, ctx: CallContext): Promise<Project> {
    if (!input.reason.trim()) throw new DomainError('invalid', 'PROCUREMENT_REASON_REQUIRED', 'A cancellation needs a reason');
    return this.transition(input, 'cancel', ctx, async (_tx, row) => {
      if (row.status === 'awarded') {
        const signed = await _tx.select({ id: contracts.id }).from(contracts).where(eq(contracts.projectId, row.id)).limit(1);
        if (signed.length > 0) throw new DomainError('conflict', 'PROCUREMENT_CONTRACT_SIGNED', 'A contract has been signed: the project can no longer be cancelled');
      }
      return { statusReason: input.reason };
    });
  }

  /** Fires one transition of the tender machine on a locked, current row: checks, writes, audits, records the OCDS release, publishes. */
  async transition(
    input: { id: string; expectedVersion?: number | undefined },
    action: TenderAction,
    ctx: CallContext,
    check: (tx: Executor, row: ProjectRow, now: Date) => Promise<Partial<typeof projects.$inferInsert>>,
  ): Promise<Project> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let row = await lockProject(tx, input.id, ctx.actor);
      if (!ctx.actor.system) requireBuyerAdmin(ctx.actor, row);
      if (input.expectedVersion !== undefined && row.version !== input.expectedVersion) throw stale();
      const now = await this.clock.now(tx);
      row = await this.advance(tx, row, now);
      const to = nextState(tenderLifecycle, row.status as TenderState, action);
      const set = await check(tx, row, now);
      const [updated] = await tx
        .update(projects)
        .set({ ...set, status: to, updatedAt: sql`now()`, version: sql`${projects.version} + 1` })
        .where(eq(projects.id, row.id))
        .returning();
      await this.kernel.audit.record(
        {
          actor: ctx.actor,
          entityType: 'procurement-project',
          entityId: row.id,
          action: `procurement.project.${action}`,
          region: auditRegion(row),
          before: { status: row.status },
          after: { status: to, ...(set.statusReason ? { reason: set.statusReason } : {}) },
          requestId: ctx.requestId,
        },
        { tx },
      );
      const event = eventOf(updated!, ctx.actor);
      if (action === 'publish') {
        await this.ocds.record(tx, row.id, 'planning');
        await this.ocds.record(tx, row.id, 'tender');
        await this.hooks.publish(tx, tenderPublished, event);
      } else if (action === 'cancel') {
        if (row.publishedAt) await this.ocds.record(tx, row.id, 'tenderCancellation');
        await this.hooks.publish(tx, projectCancelled, { ...event, reason: set.statusReason ?? '' });
      }
      return toProject(updated!, ctx.actor);
    });
  }

  /**
   * Persists the time-driven step on a locked row: a published tender whose enquiry
   * period has ended is `tendering`. Audited as the plugin's system actor.
   */
  async advance(tx: Executor, row: ProjectRow, now: Date): Promise<ProjectRow> {
    if (row.status !== 'published' || now < row.enquiryEnd) return row;
    const [updated] = await tx.update(projects).set({ status: 'tendering', updatedAt: sql`now()` }).where(eq(projects.id, row.id)).returning();
    await this.kernel.audit.record(
      { actor: await this.system(), entityType: 'procurement-project', entityId: row.id, action: 'procurement.project.startTendering', region: auditRegion(row), before: { status: 'published' }, after: { status: 'tendering' } },
      { tx },
    );
    return updated!;
  }

  /** Persists `startTendering` for every published tender whose enquiry period has ended (the scheduled job). */
  async advanceDue(): Promise<number> {
    const now = await this.clock.now();
    const due = await this.db.select({ id: projects.id }).from(projects).where(and(eq(projects.status, 'published'), lte(projects.enquiryEnd, now))).limit(500);
    for (const { id } of due) {
      await withTransaction(this.db, undefined, async (tx) => {
        const [row] = await tx.select().from(projects).where(eq(projects.id, id)).for('update');
        if (row) await this.advance(tx, row, await this.clock.now(tx));
      });
    }
    return due.length;
  }

  /** Records the tender update of the opening (the tenderers become known). */
  async recordOpening(tx: Executor, projectId: string): Promise<void> {
    await this.ocds.record(tx, projectId, 'tenderUpdate');
  }

  /** The status as of `now`, for reads (a write persists it through `advance`). */
  effective(row: ProjectRow, now: Date): ProjectRow {
    return row.status === 'published' && now >= row.enquiryEnd ? { ...row, status: 'tendering' } : row;
  }

  private statusFilter(status: TenderState, now: Date) {
    if (status === 'published') return and(eq(projects.status, 'published'), gt(projects.enquiryEnd, now));
    if (status === 'tendering') return or(eq(projects.status, 'tendering'), and(eq(projects.status, 'published'), lte(projects.enquiryEnd, now)));
    return eq(projects.status, status);
  }

  /** The rules of a project's content, checked at every create, change and publication. */
  private async validate(
    tx: Executor,
    p: Pick<ProjectRow, 'method' | 'rationale' | 'estimate' | 'lots' | 'items' | 'documents' | 'invitedSupplierIds' | 'panel' | 'priceWeight' | 'qualityWeight' | 'enquiryEnd' | 'tenderEnd'> & { category: string },
  ): Promise<void> {
    const method = p.method as ProcurementMethod;
    const invalid = (code: string, message: string, details?: Record<string, unknown>) => new DomainError('invalid', code, message, details);
    if (p.priceWeight + p.qualityWeight !== 100) throw invalid('PROCUREMENT_WEIGHTS_INVALID', 'The price and quality weights must add up to 100');
    if (p.lots.length === 0) throw invalid('PROCUREMENT_LOTS_REQUIRED', 'A project has at least one lot');
    const lotIds = new Set(p.lots.map((l) => l.id));
    if (lotIds.size !== p.lots.length) throw invalid('PROCUREMENT_LOT_DUPLICATE', 'Lot ids must be unique');
    const lotSum = p.lots.reduce((s, l) => s + l.value, 0);
    if (lotSum > p.estimate) throw invalid('PROCUREMENT_LOTS_EXCEED_ESTIMATE', 'The lots’ values add up to more than the estimate', { lots: lotSum, estimate: p.estimate });
    const itemIds = new Set(p.items.map((i) => i.id));
    if (itemIds.size !== p.items.length) throw invalid('PROCUREMENT_ITEM_DUPLICATE', 'Item ids must be unique');
    const orphan = p.items.find((i) => !lotIds.has(i.relatedLot));
    if (orphan) throw invalid('PROCUREMENT_LOT_UNKNOWN', `Item ${orphan.id} names an unknown lot ${orphan.relatedLot}`);
    if (new Set(p.documents.map((d) => d.id)).size !== p.documents.length) throw invalid('PROCUREMENT_DOCUMENT_DUPLICATE', 'Document ids must be unique');
    if (p.enquiryEnd > p.tenderEnd) throw invalid('PROCUREMENT_PERIOD_INVALID', 'The enquiry period must end no later than the tender period');
    if (METHODS[method].ocds === 'direct' && !p.rationale?.trim()) {
      throw invalid('PROCUREMENT_RATIONALE_REQUIRED', `${METHODS[method].name} needs a rationale (procurementMethodRationale)`);
    }
    const min = minimumInvited(method);
    if (METHODS[method].ocds === 'direct' && p.invitedSupplierIds.length !== 1) {
      throw invalid('PROCUREMENT_INVITATION_INVALID', `${METHODS[method].name} names exactly one supplier`);
    }
    if (p.invitedSupplierIds.length < min) throw invalid('PROCUREMENT_INVITATION_INVALID', `${METHODS[method].name} invites at least ${min} suppliers`, { minimum: min });
    if (!METHODS[method].restricted && p.invitedSupplierIds.length > 0) throw invalid('PROCUREMENT_INVITATION_INVALID', 'An open tender invites nobody: every active supplier may bid');
    if (p.qualityWeight > 0 && p.panel.length === 0) throw invalid('PROCUREMENT_PANEL_REQUIRED', 'A quality weight needs an evaluation panel');
    if (p.invitedSupplierIds.length > 0) {
      const found = await Promise.all(p.invitedSupplierIds.map((id) => this.kernel.suppliers.get(id, { tx }).catch(() => undefined)));
      const bad = p.invitedSupplierIds.filter((_, i) => found[i]?.status !== 'active');
      if (bad.length > 0) throw invalid('PROCUREMENT_SUPPLIER_NOT_ACTIVE', 'Only active (approved) suppliers can be invited', { suppliers: bad });
    }
    const missing = await this.kernel.categories.missing([...new Set([p.category, ...p.items.flatMap((i) => (i.category ? [i.category] : []))])], { tx });
    if (missing.length > 0) throw invalid('PROCUREMENT_CATEGORY_UNKNOWN', `Unknown categories: ${missing.join(', ')}`, { categories: missing });
  }

  // ---- enquiries (答疑) ----

  /** An eligible supplier asks a question during the enquiry period. */
  async ask(input: { projectId: string; question: string }, ctx: CallContext): Promise<Enquiry> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let row = await lockProject(tx, input.projectId, ctx.actor);
      const now = await this.clock.now(tx);
      row = await this.advance(tx, row, now);
      if (row.status !== 'published') throw new DomainError('conflict', 'PROCUREMENT_ENQUIRY_PERIOD_CLOSED', 'Questions are taken during the enquiry period only');
      const supplierId = await requireEligibleSupplier(this.kernel, tx, row, ctx.actor);
      const [e] = await tx.insert(enquiries).values({ projectId: row.id, supplierId, question: input.question, askedAt: now }).returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-enquiry', entityId: e!.id, action: 'procurement.enquiry.ask', region: auditRegion(row), after: { projectId: row.id, question: e!.question }, requestId: ctx.requestId },
        { tx },
      );
      return toEnquiry(e!);
    });
  }

  /** The buyer's administrators answer, before the tender deadline; the answer is public. */
  async answer(input: { projectId: string; enquiryId: string; answer: string }, ctx: CallContext): Promise<Enquiry> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const row = await lockProject(tx, input.projectId, ctx.actor);
      requireBuyerAdmin(ctx.actor, row);
      const [e] = await tx.select().from(enquiries).where(and(eq(enquiries.id, input.enquiryId), eq(enquiries.projectId, row.id))).for('update');
      if (!e) throw new DomainError('not_found', 'PROCUREMENT_ENQUIRY_NOT_FOUND', `Enquiry ${input.enquiryId} does not exist`);
      if (e.answer !== null) throw new DomainError('conflict', 'PROCUREMENT_ENQUIRY_ANSWERED', 'This question has been answered');
      const now = await this.clock.now(tx);
      if (now >= row.tenderEnd) throw new DomainError('conflict', 'PROCUREMENT_PROJECT_LOCKED', 'The tender period has ended');
      const [answered] = await tx
        .update(enquiries)
        .set({ answer: input.answer, answeredAt: now, answeredBy: ctx.actor.userId })
        .where(eq(enquiries.id, e.id))
        .returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-enquiry', entityId: e.id, action: 'procurement.enquiry.answer', region: auditRegion(row), after: { answer: input.answer }, requestId: ctx.requestId },
        { tx },
      );
      return toEnquiry(answered!);
    });
  }

  /** A published project's questions and answers, oldest first (public; the askers are not shown). */
  async enquiries(input: { projectId: string }, ctx: { actor: Actor | null }): Promise<{ items: Enquiry[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const rows = await this.db.select().from(enquiries).where(eq(enquiries.projectId, row.id)).orderBy(asc(enquiries.askedAt), asc(enquiries.id)).limit(1000);
    return { items: rows.map(toEnquiry) };
  }

  /** A project's amendments, oldest first. */
  async amendments(input: { projectId: string }, ctx: { actor: Actor | null }): Promise<{ items: Amendment[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const rows = await this.db.select().from(amendments).where(eq(amendments.projectId, row.id)).orderBy(asc(amendments.id)).limit(1000);
    return { items: rows.map((a) => ({ id: a.id, date: a.date.toISOString(), rationale: a.rationale, changes: a.changes })) };
  }

  /** Projects by ids (for other services). */
  async rows(tx: Executor, ids: string[]): Promise<ProjectRow[]> {
    return ids.length === 0 ? [] : tx.select().from(projects).where(inArray(projects.id, ids));
  }

  /** Whether an actor administers the project's buyer (for routes that show more to them). */
  isAdmin(actor: Actor | null, row: ProjectRow): boolean {
    return isBuyerAdmin(actor, row) && !!actor && inScope(actor, row.regionPath);
  }
}

function toEnquiry(e: typeof enquiries.$inferSelect): Enquiry {
  return { id: e.id, projectId: e.projectId, question: e.question, answer: e.answer, askedAt: e.askedAt.toISOString(), answeredAt: e.answeredAt?.toISOString() ?? null };
}

const normalLots = (lots: LotData[]): LotData[] => lots.map((l) => ({ id: l.id, title: l.title, description: l.description ?? null, value: l.value }));
const normalItems = (items: ItemData[]): ItemData[] =>
  items.map((i) => ({ id: i.id, description: i.description, category: i.category ?? null, quantity: i.quantity, unit: i.unit, relatedLot: i.relatedLot }));
/** Documents as stored (also for bids): every field present. */
export const normalDocuments = (docs: DocumentData[]): DocumentData[] =>
  docs.map((d) => ({ id: d.id, documentType: d.documentType, title: d.title, url: d.url ?? null, fileId: d.fileId ?? null, datePublished: d.datePublished ?? null }));

function parseDate(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new DomainError('invalid', 'PROCUREMENT_DATE_INVALID', `${field} is not a date-time`, { field });
  return d;
}

function fieldOf(row: ProjectRow, key: string): unknown {
  if (key === 'enquiryPeriodEnd') return row.enquiryEnd.toISOString();
  if (key === 'tenderPeriodEnd') return row.tenderEnd.toISOString();
  return (row as Record<string, unknown>)[key];
}

export function eventOf(row: ProjectRow, actor: Actor): ProjectEvent {
  return { projectId: row.id, buyerUnitId: row.buyerUnitId, regionCode: row.regionCode, method: row.method, status: row.status, actorId: actor.userId };
}

/** A document's `fileId` names a file uploaded to this project (POST …/files); a new project has none yet. */
async function documentFilesOf(tx: Executor, projectId: string | null, documents: DocumentData[]): Promise<void> {
  const named = [...new Set(documents.flatMap((d) => (d.fileId ? [d.fileId] : [])))];
  if (named.length === 0) return;
  const valid = named.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  const found = projectId && valid.length ? await tx.select({ id: projectFiles.fileId }).from(projectFiles).where(and(eq(projectFiles.projectId, projectId), inArray(projectFiles.fileId, valid))) : [];
  const known = new Set(found.map((f) => f.id));
  const unknown = named.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new DomainError('invalid', 'PROCUREMENT_DOCUMENT_FILE_UNKNOWN', 'A document names a file that was not uploaded to this project (POST /v1/procurement/projects/{id}/files)', { files: unknown });
  }
}
