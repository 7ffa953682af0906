import { and, asc, eq, gt, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import {
  ADMIN_ROLES,
  DomainError,
  decodeCursor,
  kernelTables,
  queryRows,
  forbidden,
  hasRole,
  inScope,
  nextState,
  notFound,
  stale,
  toPage,
  withTransaction,
  type Actor,
  type CallContext,
  type Database,
  type EventHook,
  type Executor,
  type HookBus,
  type KernelServices,
  type PageOf,
  type PageRequest,
  type StoredFile,
  type SystemGrant,
  type Transaction,
} from '@diandan/kernel';
import { idNumberProblem, normaliseIdNumber, usccProblem } from './codes.js';
import { supplierApplied, supplierApproved, supplierBlacklisted, supplierReinstated, supplierSuspended, type SupplierRegistryEvent } from './hooks.js';
import { APPLICATION_ACTORS, EDITABLE_STATES, SUSPENSION_CODES, applicationLifecycle, type ApplicationAction, type ApplicationState } from './lifecycle.js';
import { lastFour, maskName, maskPhone, type PersonalDataKeys } from './personal-data.js';
import { applicationFiles, applications, contacts, productMedia, qualifications } from './schema.js';

/** Problem codes of the registry (besides the kernel's `INVALID_TRANSITION`, `PRECONDITION_FAILED`, `REGION_NOT_FOUND`, …). */
export const RegistryProblems = {
  APPLICATION_NOT_FOUND: 'SUPPLIER_APPLICATION_NOT_FOUND',
  QUALIFICATION_NOT_FOUND: 'QUALIFICATION_NOT_FOUND',
  INVALID_CREDIT_CODE: 'REGISTRY_INVALID_CREDIT_CODE',
  INVALID_ID_NUMBER: 'REGISTRY_INVALID_ID_NUMBER',
  INVALID_PHONE: 'REGISTRY_INVALID_PHONE',
  INVALID_KIND: 'REGISTRY_INVALID_KIND',
  INVALID_CATEGORY: 'REGISTRY_INVALID_CATEGORY',
  INVALID_DATES: 'REGISTRY_INVALID_DATES',
  DUPLICATE: 'REGISTRY_DUPLICATE_APPLICATION',
  REASONS_REQUIRED: 'REGISTRY_REASONS_REQUIRED',
  NOT_EDITABLE: 'REGISTRY_NOT_EDITABLE',
  QUALIFICATION_EXPIRED: SUSPENSION_CODES.expired,
  QUALIFICATION_REVIEWED: 'REGISTRY_QUALIFICATION_REVIEWED',
  SUSPENDED: SUSPENSION_CODES.suspended,
  BLACKLISTED: SUSPENSION_CODES.blacklisted,
  FILE_UNKNOWN: 'REGISTRY_FILE_UNKNOWN',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  ORDER_NOT_DELIVERED: 'REGISTRY_ORDER_NOT_DELIVERED',
  ALREADY_RATED: 'REGISTRY_ALREADY_RATED',
} as const;

/** Roles that review applications and qualification documents, within their region's subtree. */
export const REVIEWER_ROLES = ['reviewer', 'city-admin', 'district-admin'] as const;

/** A contact person as every response shows it: masked. */
export interface Contact {
  /** Masked: the family name and asterisks. */
  name: string;
  /** Masked: `138****5678`. */
  phone: string;
  title: string;
}

/** A qualification document (资质证明). */
export interface Qualification {
  id: number;
  type: string;
  number: string;
  issuer: string;
  validFrom: string;
  validUntil: string | null;
  mandatory: boolean;
  fileId: string | null;
  /** `pending` until a reviewer accepts or rejects it. */
  status: 'pending' | 'accepted' | 'rejected';
  reviewedBy: string | null;
  reviewedAt: string | null;
  warnedAt: string | null;
}

/** An application (入库申请), and after approval the registry's profile of the supplier. */
export interface Application {
  id: string;
  name: string;
  kind: string;
  status: ApplicationState;
  regionCode: string;
  /** Organisations' Unified Social Credit Code (public register data). */
  creditCode: string | null;
  /** Individuals: only the last four characters are kept (`**************123X`). */
  idNumber: string | null;
  description: string;
  categories: string[];
  regionsServed: string[];
  contacts: Contact[];
  qualifications: Qualification[];
  reasons: string[];
  statusReason: string | null;
  suspendedFor: 'manual' | 'expired' | null;
  blacklistedUntil: string | null;
  supplierId: string | null;
  createdBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ContactInput {
  name: string;
  phone: string;
  title?: string | undefined;
}

export interface QualificationInput {
  type: string;
  number: string;
  issuer: string;
  validFrom: string;
  validUntil?: string | null | undefined;
  mandatory?: boolean | undefined;
  fileId?: string | null | undefined;
}

export interface ApplicationInput {
  /** Chosen by an import or a seed (never over HTTP); new applications get a random one. */
  id?: string | undefined;
  name: string;
  kind: string;
  regionCode: string;
  creditCode?: string | undefined;
  idNumber?: string | undefined;
  description?: string | undefined;
  categories: string[];
  regionsServed: string[];
  contacts: ContactInput[];
  qualifications?: QualificationInput[] | undefined;
}

export interface ApplicationUpdate {
  id: string;
  expectedVersion: number;
  name?: string | undefined;
  description?: string | undefined;
  categories?: string[] | undefined;
  regionsServed?: string[] | undefined;
  contacts?: ContactInput[] | undefined;
}

export interface ApplicationActionInput {
  id: string;
  action: ApplicationAction;
  expectedVersion: number;
  /** reject, request-changes: what is wrong (at least one). */
  reasons?: string[] | undefined;
  /** suspend, reinstate, blacklist, lift-blacklist: why. */
  reason?: string | undefined;
  /** blacklist: the last day of the blacklisting is the day before this one; omitted: indefinitely. */
  until?: string | null | undefined;
}

/** What the registry needs around it. */
export interface RegistryOptions {
  /** Supplier kinds of individuals (identity number instead of credit code). */
  readonly individualKinds: readonly string[];
  /** The plugin's name: the owner of the files it stores. */
  readonly name: string;
  /** Largest qualification file, in bytes. */
  readonly maxFileBytes: number;
  /** Content types of qualification files (sniffed from the bytes). */
  readonly fileTypes: readonly string[];
  /** `ctx.systemActor` of the plugin. */
  readonly systemActor: (grant: SystemGrant) => Promise<Actor>;
}

type Row = typeof applications.$inferSelect;
type QualificationRow = typeof qualifications.$inferSelect;
const BY_ID = 'supplier-applications.by-id';
const PHONE = /^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$/;

/** Today as `YYYY-MM-DD` (UTC). */
export const isoDay = (d: Date = new Date()): string => d.toISOString().slice(0, 10);

/**
 * Applications, their review and the supplier's status; knows nothing about HTTP. Follows
 * the kernel's calling convention, `(input, { actor, tx })`. The kernel supplier is
 * created on approval (same id) and suspended / reinstated through the kernel's
 * supplier service by the registry's system actor, so the kernel's order placement
 * refuses new orders with the registry's code and hides the supplier's products.
 */
export class SupplierRegistry {
  /** The registry's clock: what "today" is for expiry (tests and simulations may set it). */
  now: () => Date = () => new Date();

  /** Today (UTC) by the registry's clock, `YYYY-MM-DD`. */
  today(): string {
    return isoDay(this.now());
  }

  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly personalData: PersonalDataKeys,
    private readonly options: RegistryOptions,
  ) {}

  /** A supplier user applies to join the library (入库申请). */
  async apply(input: ApplicationInput, ctx: CallContext): Promise<Application> {
    if (!hasRole(ctx.actor, ['supplier'])) throw forbidden('Suppliers apply to join the library with a supplier account');
    const individual = this.options.individualKinds.includes(input.kind);
    await this.checkContent({ ...input, individual }, ctx.tx);
    let creditCode: string | null = null;
    let idNumberHash: string | null = null;
    let idNumberLast4: string | null = null;
    if (individual) {
      if (input.creditCode !== undefined) throw new DomainError('invalid', RegistryProblems.INVALID_CREDIT_CODE, 'An individual gives an identity number, not a credit code');
      const id = normaliseIdNumber(input.idNumber ?? '');
      const problem = idNumberProblem(id);
      // The number itself never goes into the message.
      if (problem) throw new DomainError('invalid', RegistryProblems.INVALID_ID_NUMBER, `The identity number is not valid (${problem})`, { problem });
      idNumberHash = this.personalData.hash('supplier-registry.id-number', id);
      idNumberLast4 = lastFour(id);
    } else {
      if (input.idNumber !== undefined) throw new DomainError('invalid', RegistryProblems.INVALID_ID_NUMBER, 'An organisation gives its credit code, not an identity number');
      const code = (input.creditCode ?? '').trim().toUpperCase();
      const problem = usccProblem(code);
      if (problem) throw new DomainError('invalid', RegistryProblems.INVALID_CREDIT_CODE, `"${code.slice(0, 18)}" is not a valid Unified Social Credit Code (${problem})`, { problem });
      creditCode = code;
    }
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const path = await this.kernel.regions.path(input.regionCode, { tx });
      if (!path) throw notFound('REGION_NOT_FOUND', `Region ${input.regionCode} does not exist`);
      const duplicate = await tx
        .select({ id: applications.id })
        .from(applications)
        .where(
          and(
            ne(applications.status, 'rejected'),
            creditCode ? eq(applications.creditCode, creditCode) : eq(applications.idNumberHash, idNumberHash!),
          ),
        )
        .limit(1);
      if (duplicate.length) throw new DomainError('conflict', RegistryProblems.DUPLICATE, creditCode ? `An application with credit code ${creditCode} exists` : 'An application with this identity number exists');
      const [row] = await tx
        .insert(applications)
        .values({
          ...(input.id ? { id: input.id } : {}),
          name: input.name,
          kind: input.kind,
          status: 'applied',
          regionCode: input.regionCode,
          creditCode,
          idNumberHash,
          idNumberLast4,
          description: input.description ?? '',
          categories: input.categories,
          regionsServed: input.regionsServed,
          createdBy: ctx.actor.userId,
        })
        .returning();
      await this.writeContacts(tx, row!.id, input.contacts);
      for (const q of input.qualifications ?? []) await this.insertQualification(tx, row!.id, q);
      const application = await this.load(tx, row!);
      await this.audit(tx, ctx, application, path, 'supplier-application.apply', undefined, application);
      await this.publish(tx, supplierApplied, application, ctx.actor);
      return application;
    });
  }

  /** One application, if the actor may see it (its applicant, the supplier itself, reviewers and admins of its region). */
  async get(id: string, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Application> {
    const db = ctx.tx ?? this.db;
    const { row } = await this.visible(db, id, ctx.actor);
    return this.load(db, row);
  }

  /** Applications the actor may see: a supplier user its own, reviewers and admins those of their subtree. */
  async list(query: { status?: ApplicationState | undefined; page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Application>> {
    const { actor } = ctx;
    const after = query.page.cursor ? String(decodeCursor(query.page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const staff = hasRole(actor, REVIEWER_ROLES);
    const own = hasRole(actor, ['supplier'])
      ? or(eq(applications.createdBy, actor.userId), actor.supplierId ? eq(applications.id, actor.supplierId) : undefined)
      : undefined;
    const scoped = staff ? sql`exists (select 1 from kernel.regions r where r.code = ${applications.regionCode} and starts_with(r.path, ${actor.regionPath}))` : undefined;
    if (!own && !scoped) throw forbidden('Only suppliers, reviewers and administrators see applications');
    const rows = await this.db
      .select()
      .from(applications)
      .where(and(or(own, scoped), query.status ? eq(applications.status, query.status) : undefined, after ? gt(applications.id, after) : undefined))
      .orderBy(asc(applications.id))
      .limit(query.page.limit + 1);
    const page = toPage(rows, query.page.limit, BY_ID, (r) => [r.id], (r) => r);
    return { ...page, items: await this.loadMany(this.db, page.items) };
  }

  /** The applicant changes its application or profile (If-Match), while it may. */
  async update(input: ApplicationUpdate, ctx: CallContext): Promise<Application> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const { row, path } = await this.visible(tx, input.id, ctx.actor, true);
      if (!this.isApplicant(ctx.actor, row)) throw forbidden('Only the applicant changes an application');
      if (row.version !== input.expectedVersion) throw stale();
      if (!EDITABLE_STATES.includes(row.status as ApplicationState)) {
        throw new DomainError('conflict', RegistryProblems.NOT_EDITABLE, `An application that is ${row.status} cannot be changed`, { state: row.status });
      }
      await this.checkContent({ kind: row.kind, individual: false, categories: input.categories ?? [], regionsServed: input.regionsServed ?? [], contacts: input.contacts ?? [], qualifications: [] }, tx);
      const before = await this.load(tx, row);
      const [updated] = await tx
        .update(applications)
        .set({
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.categories !== undefined ? { categories: input.categories } : {}),
          ...(input.regionsServed !== undefined ? { regionsServed: input.regionsServed } : {}),
          version: row.version + 1,
          updatedAt: sql`now()`,
        })
        .where(eq(applications.id, row.id))
        .returning();
      if (input.contacts !== undefined) {
        await tx.delete(contacts).where(eq(contacts.applicationId, row.id));
        await this.writeContacts(tx, row.id, input.contacts);
      }
      if (input.name !== undefined && row.supplierId) {
        // The kernel supplier carries the name too.
        const supplier = await this.kernel.suppliers.get(row.supplierId, { tx });
        await this.kernel.suppliers.update({ id: supplier.id, expectedVersion: supplier.version, name: input.name }, { actor: await this.city(tx), tx });
      }
      const after = await this.load(tx, updated!);
      await this.audit(tx, ctx, after, path, 'supplier-application.update', before, after);
      return after;
    });
  }

  /** Fires one transition of the review workflow (see `applicationLifecycle`), at the version the caller read. */
  async act(input: ApplicationActionInput, ctx: CallContext): Promise<Application> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const { row, path } = await this.visible(tx, input.id, ctx.actor, true);
      const who = APPLICATION_ACTORS[input.action];
      const allowed =
        who === 'applicant' ? this.isApplicant(ctx.actor, row) : who === 'reviewer' ? hasRole(ctx.actor, REVIEWER_ROLES) : hasRole(ctx.actor, ADMIN_ROLES);
      if (!allowed) throw forbidden(`Only ${who === 'applicant' ? 'the applicant' : who === 'reviewer' ? 'reviewers and administrators' : 'administrators'} may ${input.action} an application`);
      if (row.version !== input.expectedVersion) throw stale();
      return this.transition(tx, row, path, input, ctx, 'manual');
    });
  }

  /** A supplier adds a qualification document (a renewed licence, say); a reviewer then accepts or rejects it. */
  async addQualification(input: { id: string } & QualificationInput, ctx: CallContext): Promise<Application> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const { row, path } = await this.visible(tx, input.id, ctx.actor, true);
      if (!this.isApplicant(ctx.actor, row)) throw forbidden('Only the applicant adds qualification documents');
      if (row.status === 'rejected' || row.status === 'blacklisted') {
        throw new DomainError('conflict', RegistryProblems.NOT_EDITABLE, `An application that is ${row.status} takes no documents`, { state: row.status });
      }
      const { id: _id, ...document } = input;
      this.checkDates(document);
      const q = await this.insertQualification(tx, row.id, document);
      const [updated] = await tx.update(applications).set({ version: row.version + 1, updatedAt: sql`now()` }).where(eq(applications.id, row.id)).returning();
      const after = await this.load(tx, updated!);
      await this.audit(tx, ctx, after, path, 'qualification.add', undefined, { qualification: toQualification(q) });
      return after;
    });
  }

  /**
   * A reviewer accepts or rejects a pending document. Accepting a valid document of a
   * supplier the expiry job suspended reinstates it once no mandatory qualification is
   * expired any more.
   */
  async reviewQualification(
    input: { id: string; qualificationId: number; decision: 'accept' | 'reject'; reason?: string | undefined; today?: string | undefined },
    ctx: CallContext,
  ): Promise<Application> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const { row, path } = await this.visible(tx, input.id, ctx.actor, true);
      if (!hasRole(ctx.actor, REVIEWER_ROLES)) throw forbidden('Only reviewers and administrators review qualification documents');
      const [q] = await tx
        .select()
        .from(qualifications)
        .where(and(eq(qualifications.id, input.qualificationId), eq(qualifications.applicationId, row.id)))
        .for('update');
      if (!q) throw notFound(RegistryProblems.QUALIFICATION_NOT_FOUND, `Qualification ${input.qualificationId} does not exist`);
      if (q.status !== 'pending') throw new DomainError('conflict', RegistryProblems.QUALIFICATION_REVIEWED, `Qualification ${q.id} is already ${q.status}`, { state: q.status });
      const today = input.today ?? this.today();
      if (input.decision === 'accept' && q.validUntil !== null && q.validUntil < today) {
        throw new DomainError('invalid', RegistryProblems.QUALIFICATION_EXPIRED, `Qualification ${q.id} expired on ${q.validUntil}`);
      }
      const [reviewed] = await tx
        .update(qualifications)
        .set({ status: input.decision === 'accept' ? 'accepted' : 'rejected', reviewedBy: ctx.actor.userId, reviewedAt: sql`now()` })
        .where(eq(qualifications.id, q.id))
        .returning();
      const [bumped] = await tx.update(applications).set({ version: row.version + 1, updatedAt: sql`now()` }).where(eq(applications.id, row.id)).returning();
      let after = await this.load(tx, bumped!);
      await this.audit(tx, ctx, after, path, `qualification.${input.decision}`, { qualification: toQualification(q) }, { qualification: toQualification(reviewed!), reason: input.reason ?? null });
      if (input.decision === 'accept' && bumped!.status === 'suspended' && bumped!.suspendedFor === 'expired' && (await this.expiredMandatory(tx, row.id, today)).length === 0) {
        after = await this.transition(tx, bumped!, path, { id: row.id, action: 'reinstate', expectedVersion: bumped!.version, reason: '有效资质已审核通过，自动恢复' }, ctx, 'manual', today);
      }
      return after;
    });
  }

  /**
   * The applicant uploads a file (a scan of a licence, say) for its application, through
   * the kernel's file storage: size-limited, its type sniffed from the bytes, its name
   * never a path. A qualification then names it by `fileId`.
   *
   * No database transaction is open while the bytes arrive: the file is stored first
   * (the kernel streams it, then writes its row in its own short transaction), then one
   * short transaction links it to the application and audits. If that fails, the stored
   * file is removed; a file left behind by a crash in between is removed by the daily
   * `clean-orphan-files` job. With an `idempotencyKey`, a retry (same uploader,
   * application and key) stores nothing and answers the first upload (`replayed`); the
   * same key with other bytes is refused (`IDEMPOTENCY_KEY_REUSED`).
   */
  async addFile(
    input: { id: string; data: Buffer | NodeJS.ReadableStream; name: string; idempotencyKey?: string | undefined },
    ctx: CallContext,
  ): Promise<{ file: StoredFile; replayed: boolean }> {
    // Authorised before the bytes are read.
    const { row, path } = await this.visible(this.db, input.id, ctx.actor);
    if (!this.isApplicant(ctx.actor, row) || row.status === 'rejected' || row.status === 'blacklisted') {
      if (typeof (input.data as NodeJS.ReadableStream).resume === 'function') (input.data as NodeJS.ReadableStream).resume();
      if (!this.isApplicant(ctx.actor, row)) throw forbidden('Only the applicant uploads files for an application');
      throw new DomainError('conflict', RegistryProblems.NOT_EDITABLE, `An application that is ${row.status} takes no files`, { state: row.status });
    }
    return this.kernel.files.uploadOnce(
      {
        data: input.data as Buffer,
        name: input.name,
        owner: this.options.name,
        accept: this.options.fileTypes,
        maxBytes: this.options.maxFileBytes,
        idempotencyKey: input.idempotencyKey,
        scope: row.id,
        conflictCode: 'REGISTRY_UPLOAD_CONFLICT',
        find: async (db, uploadKey) => (await db.select({ fileId: applicationFiles.fileId }).from(applicationFiles).where(eq(applicationFiles.uploadKey, uploadKey)))[0]?.fileId,
        record: async (tx, file, uploadKey) => {
          const linked = await tx.insert(applicationFiles).values({ fileId: file.id, applicationId: row.id, uploadKey }).onConflictDoNothing().returning({ fileId: applicationFiles.fileId });
          if (linked.length === 0) return false;
          await this.kernel.audit.record(
            { actor: ctx.actor, entityType: 'supplier-application', entityId: row.id, action: 'supplier-application.file-upload', region: { code: row.regionCode, path }, after: { file }, requestId: ctx.requestId },
            { tx },
          );
          return true;
        },
      },
      ctx,
    );
  }

  /**
   * Removes files this plugin stored that no application or product names and that are
   * older than `olderThanHours` (an upload whose link was never written: a crash between
   * storing and linking). The daily job `clean-orphan-files`; returns how many.
   */
  cleanOrphanFiles(input: { olderThanHours?: number } = {}): Promise<number> {
    return this.kernel.files.sweepOrphans({
      owner: this.options.name,
      linkedBy: [applicationFiles.fileId, productMedia.fileId],
      olderThanHours: input.olderThanHours,
      actor: () => this.city(),
    });
  }

  /**
   * Copies supplier names changed through the kernel's supplier routes (PATCH
   * /v1/suppliers/{id}) back to the approved applications, in one statement: one
   * supplier's (a durable delivery of the kernel's `supplier.updated`), or every
   * supplier's (at start, for renames made while the registry was not listening). It
   * reads the kernel's current name, so a late or repeated delivery never brings an old
   * name back. Each copy is audited as the registry's system actor and bumps the
   * application's version. Returns how many.
   */
  async syncSupplierNames(supplierId?: string): Promise<number> {
    const s = kernelTables.suppliers;
    return withTransaction(this.db, undefined, async (tx) => {
      const changed = await queryRows<{ id: string; region_code: string; before: string; after: string }>(
        tx,
        sql`with c as (
              select a.id, a.name as before, s.name as after from ${applications} a join ${s} s on s.id = a.supplier_id
              where a.name <> s.name ${supplierId ? sql`and s.id = ${supplierId}` : sql``} for update of a)
            update ${applications} set name = c.after, version = ${applications.version} + 1, updated_at = now()
            from c where ${applications.id} = c.id
            returning ${applications.id} as id, ${applications.regionCode} as region_code, c.before, c.after`,
      );
      if (changed.length === 0) return 0;
      const actor = await this.city(tx);
      for (const c of changed) {
        const path = (await this.kernel.regions.path(c.region_code, { tx })) ?? c.region_code;
        await this.kernel.audit.record(
          { actor, entityType: 'supplier-application', entityId: c.id, action: 'supplier-application.name-synced', region: { code: c.region_code, path }, before: { name: c.before }, after: { name: c.after } },
          { tx },
        );
      }
      return changed.length;
    });
  }

  /** A file of an application, for whoever may see the application; `FILE_NOT_FOUND` otherwise. */
  async openFile(input: { id: string; fileId: string }, ctx: { actor: Actor }) {
    const { row } = await this.visible(this.db, input.id, ctx.actor);
    const [link] = await this.db
      .select()
      .from(applicationFiles)
      .where(and(eq(applicationFiles.fileId, input.fileId), eq(applicationFiles.applicationId, row.id)));
    if (!link) throw notFound(RegistryProblems.FILE_NOT_FOUND, `File ${input.fileId} does not exist`);
    return this.kernel.files.open(input.fileId, { owner: this.options.name });
  }

  /**
   * Types of mandatory qualification of an application that are expired on `today`:
   * every accepted document of the type ended before it. A pending renewal does not count.
   */
  async expiredMandatory(db: Executor, applicationId: string, today: string): Promise<string[]> {
    const rows = await db
      .select({ type: qualifications.type })
      .from(qualifications)
      .where(and(eq(qualifications.applicationId, applicationId), eq(qualifications.status, 'accepted')))
      .groupBy(qualifications.type)
      .having(sql`bool_or(${qualifications.mandatory}) and bool_and(${qualifications.validUntil} is not null and ${qualifications.validUntil} < ${today}::date)`);
    return rows.map((r) => r.type);
  }

  /**
   * The daily qualification check (see the `check-qualifications` job): warns once per
   * document expiring within `warningDays`, suspends approved suppliers whose mandatory
   * qualification expired, and lifts blacklistings whose end has come.
   */
  async checkQualifications(input: { today?: string | undefined; warningDays: number }, publishExpiring: (tx: Transaction, event: { applicationId: string; supplierId: string | null; qualification: Qualification; daysLeft: number }) => Promise<void>): Promise<{ warned: number; suspended: number; lifted: number }> {
    const today = input.today ?? this.today();
    const system = await this.city();
    const ctx: CallContext = { actor: system };
    // 1. Warnings, once per document: warned_at is set in the same statement that picks it.
    const warned = await withTransaction(this.db, undefined, async (tx) => {
      const due = await tx
        .update(qualifications)
        .set({ warnedAt: sql`now()` })
        .where(
          and(
            isNull(qualifications.warnedAt),
            eq(qualifications.status, 'accepted'),
            sql`${qualifications.validUntil} >= ${today}::date and ${qualifications.validUntil} < ${today}::date + ${input.warningDays}::integer`,
            inArray(qualifications.applicationId, tx.select({ id: applications.id }).from(applications).where(inArray(applications.status, ['approved', 'suspended']))),
          ),
        )
        .returning();
      for (const q of due) {
        const [app] = await tx.select({ supplierId: applications.supplierId }).from(applications).where(eq(applications.id, q.applicationId));
        const daysLeft = Math.round((Date.parse(q.validUntil!) - Date.parse(today)) / 86_400_000);
        await publishExpiring(tx, { applicationId: q.applicationId, supplierId: app?.supplierId ?? null, qualification: toQualification(q), daysLeft });
      }
      return due.length;
    });
    // 2. Suspensions: approved suppliers with an expired mandatory qualification.
    const expired = await this.db
      .selectDistinct({ id: applications.id })
      .from(applications)
      .innerJoin(qualifications, and(eq(qualifications.applicationId, applications.id), eq(qualifications.status, 'accepted')))
      .where(eq(applications.status, 'approved'))
      .groupBy(applications.id, qualifications.type)
      .having(sql`bool_or(${qualifications.mandatory}) and bool_and(${qualifications.validUntil} is not null and ${qualifications.validUntil} < ${today}::date)`);
    let suspended = 0;
    for (const { id } of expired) {
      await withTransaction(this.db, undefined, async (tx) => {
        const [row] = await tx.select().from(applications).where(eq(applications.id, id)).for('update');
        if (!row || row.status !== 'approved') return; // changed meanwhile
        const types = await this.expiredMandatory(tx, id, today);
        if (types.length === 0) return;
        const path = (await this.kernel.regions.path(row.regionCode, { tx }))!;
        await this.transition(tx, row, path, { id, action: 'suspend', expectedVersion: row.version, reason: `必备资质已过期：${types.join('、')}` }, { ...ctx, tx }, 'expired', today);
        suspended++;
      });
    }
    // 3. Blacklistings that have run their time (and no mandatory qualification expired).
    const ended = await this.db
      .select({ id: applications.id })
      .from(applications)
      .where(and(eq(applications.status, 'blacklisted'), sql`${applications.blacklistedUntil} <= ${today}::date`));
    let lifted = 0;
    for (const { id } of ended) {
      await withTransaction(this.db, undefined, async (tx) => {
        const [row] = await tx.select().from(applications).where(eq(applications.id, id)).for('update');
        if (!row || row.status !== 'blacklisted' || (await this.expiredMandatory(tx, id, today)).length) return;
        const path = (await this.kernel.regions.path(row.regionCode, { tx }))!;
        await this.transition(tx, row, path, { id, action: 'lift-blacklist', expectedVersion: row.version, reason: `黑名单期限已满（${row.blacklistedUntil}）` }, { ...ctx, tx }, 'manual', today);
        lifted++;
      });
    }
    return { warned, suspended, lifted };
  }

  /** The application of a kernel supplier, if the registry knows it (for guards). */
  async ofSupplier(supplierId: string, db: Executor): Promise<Row | undefined> {
    const [row] = await db.select().from(applications).where(eq(applications.supplierId, supplierId));
    return row;
  }

  // -- internals ---------------------------------------------------------------

  private async transition(
    tx: Transaction,
    row: Row,
    path: string,
    input: ApplicationActionInput,
    ctx: CallContext,
    cause: 'manual' | 'expired',
    today: string = this.today(),
  ): Promise<Application> {
    const to = nextState(applicationLifecycle, row.status as ApplicationState, input.action);
    const reasons = (input.reasons ?? []).map((r) => r.trim()).filter(Boolean);
    const reason = input.reason?.trim() ?? '';
    if ((input.action === 'reject' || input.action === 'request-changes') && reasons.length === 0) {
      throw new DomainError('invalid', RegistryProblems.REASONS_REQUIRED, 'Say what is wrong with the application (at least one reason)');
    }
    if (['suspend', 'blacklist'].includes(input.action) && !reason) {
      throw new DomainError('invalid', 'REASON_REQUIRED', `Say why the supplier is ${input.action === 'suspend' ? 'suspended' : 'blacklisted'}`);
    }
    if (input.action === 'blacklist' && input.until && input.until <= today) {
      throw new DomainError('invalid', RegistryProblems.INVALID_DATES, 'A blacklisting ends after today (or leave `until` out: indefinitely)');
    }
    if (input.action === 'approve' || input.action === 'reinstate' || input.action === 'lift-blacklist') {
      const expired = input.action === 'approve' ? await this.expiredPending(tx, row.id, today) : await this.expiredMandatory(tx, row.id, today);
      if (expired.length) {
        throw new DomainError('conflict', RegistryProblems.QUALIFICATION_EXPIRED, `A mandatory qualification is expired (${expired.join(', ')}): a valid document must be reviewed first`, { types: expired });
      }
    }
    const before = await this.load(tx, row);
    const city = await this.city(tx);
    let supplierId = row.supplierId;
    if (input.action === 'approve') {
      // The kernel supplier gets the application's id: the supplier's users' tokens name it.
      const supplier = await this.kernel.suppliers.create({ id: row.id, name: row.name, kind: row.kind }, { actor: city, tx });
      supplierId = supplier.id;
      await tx
        .update(qualifications)
        .set({ status: 'accepted', reviewedBy: ctx.actor.userId, reviewedAt: sql`now()` })
        .where(and(eq(qualifications.applicationId, row.id), eq(qualifications.status, 'pending')));
    }
    if (supplierId && ['suspend', 'reinstate', 'blacklist', 'lift-blacklist'].includes(input.action)) {
      await this.syncKernelStatus(tx, supplierId, input.action, cause, reason || (input.action === 'reinstate' ? '恢复' : '解除黑名单'), city);
    }
    const [updated] = await tx
      .update(applications)
      .set({
        status: to,
        version: row.version + 1,
        updatedAt: sql`now()`,
        supplierId,
        ...(input.action === 'reject' || input.action === 'request-changes' ? { reasons } : {}),
        ...(input.action === 'resubmit' || input.action === 'approve' ? { reasons: [] } : {}),
        statusReason: to === 'suspended' || to === 'blacklisted' ? reason : to === 'approved' ? null : row.statusReason,
        suspendedFor: to === 'suspended' ? cause : null,
        blacklistedUntil: to === 'blacklisted' ? (input.until ?? null) : null,
      })
      .where(eq(applications.id, row.id))
      .returning();
    const after = await this.load(tx, updated!);
    await this.audit(tx, ctx, after, path, `supplier-application.${input.action}`, summary(before), { ...summary(after), reasons, reason: reason || null });
    const hook = ({ approve: supplierApproved, suspend: supplierSuspended, reinstate: supplierReinstated, 'lift-blacklist': supplierReinstated, blacklist: supplierBlacklisted } as Partial<Record<ApplicationAction, EventHook<SupplierRegistryEvent>>>)[input.action];
    if (hook) await this.publish(tx, hook, after, ctx.actor);
    return after;
  }

  /** Mandatory documents about to be accepted by an approval that are already expired. */
  private async expiredPending(tx: Executor, applicationId: string, today: string): Promise<string[]> {
    const rows = await tx
      .select({ type: qualifications.type })
      .from(qualifications)
      .where(and(eq(qualifications.applicationId, applicationId), ne(qualifications.status, 'rejected')))
      .groupBy(qualifications.type)
      .having(sql`bool_or(${qualifications.mandatory}) and bool_and(${qualifications.validUntil} is not null and ${qualifications.validUntil} < ${today}::date)`);
    return rows.map((r) => r.type);
  }

  /** Keeps the kernel supplier's status in step: suspended with the registry's code, or active. */
  private async syncKernelStatus(tx: Transaction, supplierId: string, action: ApplicationAction, cause: 'manual' | 'expired', reason: string, city: Actor): Promise<void> {
    const supplier = await this.kernel.suppliers.get(supplierId, { tx });
    const set = async (status: 'active' | 'suspended', code?: string) => {
      const current = await this.kernel.suppliers.get(supplierId, { tx });
      await this.kernel.suppliers.setStatus({ id: supplierId, status, reason, code, expectedVersion: current.version }, { actor: city, tx });
    };
    if (action === 'suspend') {
      if (supplier.status === 'suspended') await set('active');
      await set('suspended', cause === 'expired' ? SUSPENSION_CODES.expired : SUSPENSION_CODES.suspended);
    } else if (action === 'blacklist') {
      // A suspended supplier's code changes to the blacklist's: reinstate and suspend again, in this transaction.
      if (supplier.status === 'suspended') await set('active');
      await set('suspended', SUSPENSION_CODES.blacklisted);
    } else if (supplier.status === 'suspended') {
      await set('active');
    }
  }

  private async checkContent(
    input: { kind: string; individual: boolean; categories: readonly string[]; regionsServed: readonly string[]; contacts: readonly ContactInput[]; qualifications?: readonly QualificationInput[] | undefined },
    tx: Executor | undefined,
  ): Promise<void> {
    if (!this.kernel.kinds.supplier.has(input.kind)) {
      throw new DomainError('invalid', RegistryProblems.INVALID_KIND, `"${input.kind}" is not a supplier kind of this deployment (${this.kernel.kinds.supplier.keys().join(', ')})`);
    }
    const missing = await this.kernel.categories.missing(input.categories, { tx });
    if (missing.length) throw new DomainError('invalid', RegistryProblems.INVALID_CATEGORY, `Unknown categories: ${missing.join(', ')}`, { missing });
    for (const code of input.regionsServed) {
      if (!(await this.kernel.regions.path(code, { tx }))) throw notFound('REGION_NOT_FOUND', `Region ${code} does not exist`);
    }
    input.contacts.forEach((c, i) => {
      // Never the number itself in the message: it is personal data.
      if (!PHONE.test(c.phone.replace(/[\s]/g, ''))) throw new DomainError('invalid', RegistryProblems.INVALID_PHONE, `Contact ${i + 1}: the phone number is not a mainland mobile or landline number`, { field: `contacts/${i}/phone` });
    });
    for (const q of input.qualifications ?? []) this.checkDates(q);
  }

  private checkDates(q: QualificationInput): void {
    if (q.validUntil && q.validUntil < q.validFrom) throw new DomainError('invalid', RegistryProblems.INVALID_DATES, `A qualification's validity ends (${q.validUntil}) before it starts (${q.validFrom})`);
  }

  private async writeContacts(tx: Transaction, applicationId: string, list: readonly ContactInput[]): Promise<void> {
    if (list.length === 0) return;
    const pd = this.personalData;
    const rows = [];
    for (const [position, c] of list.entries()) {
      const phone = c.phone.replace(/[\s-]/g, '');
      // Sealed with the application's id as context: a value copied to another row does not open.
      rows.push({
        applicationId,
        nameSealed: pd.encrypt(c.name, `supplier-registry.contact:${applicationId}`),
        phoneSealed: pd.encrypt(phone, `supplier-registry.contact:${applicationId}`),
        phoneHash: pd.hash('supplier-registry.phone', phone),
        nameMasked: maskName(c.name),
        phoneMasked: maskPhone(phone),
        title: c.title ?? '',
        position,
      });
    }
    await tx.insert(contacts).values(rows);
  }

  private async insertQualification(tx: Transaction, applicationId: string, q: QualificationInput): Promise<QualificationRow> {
    if (q.fileId) {
      const [link] = await tx
        .select()
        .from(applicationFiles)
        .where(and(eq(applicationFiles.fileId, q.fileId), eq(applicationFiles.applicationId, applicationId)));
      if (!link) throw new DomainError('invalid', RegistryProblems.FILE_UNKNOWN, `File ${q.fileId} was not uploaded for this application (upload it first: POST …/files)`);
    }
    const [row] = await tx
      .insert(qualifications)
      .values({
        applicationId,
        type: q.type,
        number: q.number,
        issuer: q.issuer,
        validFrom: q.validFrom,
        validUntil: q.validUntil ?? null,
        mandatory: q.mandatory ?? false,
        fileId: q.fileId ?? null,
      })
      .returning();
    return row!;
  }

  /** The row and its region path, if the actor may see it; 404 otherwise (optionally locked). */
  private async visible(db: Executor, id: string, actor: Actor, lock = false): Promise<{ row: Row; path: string }> {
    const query = db.select().from(applications).where(eq(applications.id, id));
    const [row] = lock ? await query.for('update') : await query;
    const path = row ? await this.kernel.regions.path(row.regionCode, { tx: db }) : undefined;
    if (!row || !path || !(this.isApplicant(actor, row) || (hasRole(actor, REVIEWER_ROLES) && inScope(actor, path)))) {
      throw notFound(RegistryProblems.APPLICATION_NOT_FOUND, `Supplier application ${id} does not exist`);
    }
    return { row, path };
  }

  private isApplicant(actor: Actor, row: Row): boolean {
    return hasRole(actor, ['supplier']) && (actor.supplierId === row.id || (actor.userId === row.createdBy && !actor.system));
  }

  /** The registry's own system actor: a city administrator (what the kernel's supplier service requires). */
  private async city(tx?: Executor): Promise<Actor> {
    const root = await this.kernel.regions.root({ tx });
    return this.options.systemActor({ roles: ['city-admin'], region: root?.code });
  }

  private async load(db: Executor, row: Row): Promise<Application> {
    return (await this.loadMany(db, [row]))[0]!;
  }

  /** Applications with their contacts and documents: two queries for a whole page. */
  private async loadMany(db: Executor, rows: readonly Row[]): Promise<Application[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const people = await db.select().from(contacts).where(inArray(contacts.applicationId, ids)).orderBy(asc(contacts.position));
    const docs = await db.select().from(qualifications).where(inArray(qualifications.applicationId, ids)).orderBy(asc(qualifications.id));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      status: r.status as ApplicationState,
      regionCode: r.regionCode,
      creditCode: r.creditCode,
      idNumber: r.idNumberLast4 ? `${'*'.repeat(14)}${r.idNumberLast4}` : null,
      description: r.description,
      categories: r.categories,
      regionsServed: r.regionsServed,
      contacts: people.filter((c) => c.applicationId === r.id).map((c) => ({ name: c.nameMasked, phone: c.phoneMasked, title: c.title })),
      qualifications: docs.filter((q) => q.applicationId === r.id).map(toQualification),
      reasons: r.reasons,
      statusReason: r.statusReason,
      suspendedFor: (r.suspendedFor as 'manual' | 'expired' | null) ?? null,
      blacklistedUntil: r.blacklistedUntil,
      supplierId: r.supplierId,
      createdBy: r.createdBy,
      version: r.version,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    }));
  }

  private async audit(tx: Transaction, ctx: CallContext, application: Application, path: string, action: string, before: unknown, after: unknown): Promise<void> {
    await this.kernel.audit.record(
      { actor: ctx.actor, entityType: 'supplier-application', entityId: application.id, action, region: { code: application.regionCode, path }, before, after, requestId: ctx.requestId },
      { tx },
    );
  }

  private async publish(tx: Transaction, hook: EventHook<SupplierRegistryEvent>, application: Application, actor: Actor): Promise<void> {
    await this.hooks.publish(tx, hook, { application, actorId: actor.userId });
  }
}

function toQualification(q: QualificationRow): Qualification {
  return {
    id: q.id,
    type: q.type,
    number: q.number,
    issuer: q.issuer,
    validFrom: q.validFrom,
    validUntil: q.validUntil,
    mandatory: q.mandatory,
    fileId: q.fileId,
    status: q.status as Qualification['status'],
    reviewedBy: q.reviewedBy,
    reviewedAt: q.reviewedAt?.toISOString() ?? null,
    warnedAt: q.warnedAt?.toISOString() ?? null,
  };
}

/** What the audit log keeps of a transition: states, never contacts. */
const summary = (a: Application) => ({ status: a.status, version: a.version, supplierId: a.supplierId, statusReason: a.statusReason, blacklistedUntil: a.blacklistedUntil });
