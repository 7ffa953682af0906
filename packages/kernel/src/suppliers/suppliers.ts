import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { hasRole } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallContext } from '../call.js';
import type { RegionService } from '../core/regions.js';
import { withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, forbidden, notFound, ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { HookBus } from '../hooks.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import type { OpenList } from '../plugin/lists.js';
import type { LibraryCache } from '../products/list-cache.js';
import { stale } from '../safe-writes/etag.js';
import { defined } from '../units/units.js';
import { supplierStatusChanged, supplierUpdated, supplierStatusGuard } from './hooks.js';
import { suppliers, type SupplierStatus } from './schema.js';

/** A cultural supplier (文化供应商): troupe, enterprise, folk institution, social organisation, artist. */
export interface Supplier {
  id: string;
  name: string;
  /** One of the deployment's supplier kinds. */
  kind: string;
  /** `suspended` suppliers' products are hidden from the library and cannot be ordered. */
  status: SupplierStatus;
  statusReason: string | null;
  /** While suspended: the problem code new orders are refused with (the suspending party's, or `SUPPLIER_SUSPENDED`). */
  statusCode: string | null;
  statusChangedAt: string | null;
  version: number;
  extensions?: ExtensionData;
}

export interface SupplierInput {
  /** Chosen by an import or a seed (never over HTTP); new records get a random one. */
  id?: string | undefined;
  name: string;
  kind: string;
  extensions?: ExtensionData | undefined;
}

/** A status change: suspend (with a reason) or reinstate, at the version the caller read. */
export interface SupplierStatusInput {
  id: string;
  status: SupplierStatus;
  reason: string;
  expectedVersion: number;
  /**
   * For a suspension: the problem code new orders of this supplier are refused with,
   * e.g. a registry's `REGISTRY_QUALIFICATION_EXPIRED` (UPPER_SNAKE_CASE; default
   * `SUPPLIER_SUSPENDED`), so a unit learns why.
   */
  code?: string | undefined;
}

const BY_ID = 'suppliers.by-id';
type Row = typeof suppliers.$inferSelect;

const toSupplier = (r: Row): Supplier => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  status: r.status as SupplierStatus,
  statusReason: r.statusReason,
  statusCode: r.statusCode,
  statusChangedAt: r.statusChangedAt?.toISOString() ?? null,
  version: r.version,
});

/**
 * The city-wide supplier directory. Suppliers serve the whole city, so the directory
 * is not region-scoped: every signed-in user reads it; city administrators add,
 * change, suspend and reinstate suppliers. Every write is audited at the city.
 */
export class SupplierService {
  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly audit: AuditLog,
    private readonly hooks: HookBus,
    private readonly extensions: ExtensionRegistry,
    private readonly kinds: OpenList,
    private readonly library: LibraryCache<unknown>,
  ) {}

  async create(input: SupplierInput, ctx: CallContext): Promise<Supplier> {
    this.checkAdmin(ctx);
    this.checkKind(input.kind);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [row] = await tx.insert(suppliers).values({ ...(input.id ? { id: input.id } : {}), name: input.name, kind: input.kind }).returning();
      const supplier = toSupplier(row!);
      await this.extensions.save('supplier', supplier.id, input.extensions, { tx, actor: ctx.actor, created: true });
      await this.audit.record(
        { actor: ctx.actor, entityType: 'supplier', entityId: supplier.id, action: 'supplier.create', region: await this.regions.root({ tx }), after: supplier, requestId: ctx.requestId },
        { tx },
      );
      return this.extensions.attachOne('supplier', supplier, tx);
    });
  }

  async get(id: string, ctx: { tx?: Executor | undefined } = {}): Promise<Supplier> {
    const db = ctx.tx ?? this.db;
    const [row] = await db.select().from(suppliers).where(eq(suppliers.id, id));
    if (!row) throw notFound(ProblemCodes.SUPPLIER_NOT_FOUND, `Supplier ${id} does not exist`);
    return this.extensions.attachOne('supplier', toSupplier(row), db);
  }

  async list(query: { kind?: string | undefined; status?: string | undefined; ids?: readonly string[] | undefined; page: PageRequest }): Promise<PageOf<Supplier>> {
    const { page } = query;
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const rows = await this.db
      .select()
      .from(suppliers)
      .where(
        and(
          query.kind ? eq(suppliers.kind, query.kind) : undefined,
          query.status ? eq(suppliers.status, query.status) : undefined,
          query.ids ? inArray(suppliers.id, [...query.ids]) : undefined,
          after ? gt(suppliers.id, after) : undefined,
        ),
      )
      .orderBy(asc(suppliers.id))
      .limit(page.limit + 1);
    const result = toPage(rows, page.limit, BY_ID, (r) => [r.id], toSupplier);
    return { ...result, items: await this.extensions.attach('supplier', result.items, this.db) };
  }

  /** Changes a supplier's name or kind at the version the caller read. */
  async update(input: { id: string; expectedVersion: number; name?: string | undefined; kind?: string | undefined; extensions?: ExtensionData | undefined }, ctx: CallContext): Promise<Supplier> {
    this.checkAdmin(ctx);
    if (input.kind !== undefined) this.checkKind(input.kind);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const current = await this.lock(tx, input.id, input.expectedVersion);
      const [row] = await tx
        .update(suppliers)
        .set({ ...defined({ name: input.name, kind: input.kind }), version: current.version + 1 })
        .where(eq(suppliers.id, input.id))
        .returning();
      const after = toSupplier(row!);
      await this.extensions.save('supplier', after.id, input.extensions, { tx, actor: ctx.actor, created: false });
      await this.audit.record(
        { actor: ctx.actor, entityType: 'supplier', entityId: after.id, action: 'supplier.update', region: await this.regions.root({ tx }), before: toSupplier(current), after, requestId: ctx.requestId },
        { tx },
      );
      await this.hooks.publish(tx, supplierUpdated, { before: toSupplier(current), after, actorId: ctx.actor.userId });
      return this.extensions.attachOne('supplier', after, tx);
    });
  }

  /**
   * Suspends or reinstates a supplier. A suspended supplier's products leave the
   * library search and cannot be ordered; orders already approved or scheduled are not
   * touched (the unit and the supplier settle them, or the unit cancels them).
   * Registered guards may refuse the change; `supplier.statusChanged` follows it.
   */
  async setStatus(input: SupplierStatusInput, ctx: CallContext): Promise<Supplier> {
    this.checkAdmin(ctx);
    if (!input.reason.trim()) throw new DomainError('invalid', ProblemCodes.REASON_REQUIRED, 'Say why the supplier’s status changes');
    if (input.code !== undefined && !/^[A-Z][A-Z0-9_]{2,63}$/.test(input.code)) {
      throw new DomainError('invalid', ProblemCodes.SUPPLIER_INVALID, `"${input.code}" is not a problem code (UPPER_SNAKE_CASE)`);
    }
    const statusCode = input.status === 'suspended' ? (input.code ?? null) : null;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const current = await this.lock(tx, input.id, input.expectedVersion);
      const before = toSupplier(current);
      if (before.status === input.status) {
        throw new DomainError('conflict', ProblemCodes.INVALID_TRANSITION, `Supplier ${input.id} is already ${input.status}`, { state: before.status });
      }
      const proposed: Supplier = { ...before, status: input.status, statusReason: input.reason, statusCode, version: before.version + 1 };
      await this.hooks.check(supplierStatusGuard, { before, after: proposed, reason: input.reason }, { tx, actor: ctx.actor });
      const [row] = await tx
        .update(suppliers)
        .set({ status: input.status, statusReason: input.reason, statusCode, statusChangedAt: sql`now()`, version: current.version + 1 })
        .where(eq(suppliers.id, input.id))
        .returning();
      const after = await this.extensions.attachOne('supplier', toSupplier(row!), tx);
      await this.audit.record(
        {
          actor: ctx.actor,
          entityType: 'supplier',
          entityId: after.id,
          action: input.status === 'suspended' ? 'supplier.suspend' : 'supplier.reinstate',
          region: await this.regions.root({ tx }),
          before: { status: before.status, version: before.version },
          after: { status: after.status, reason: input.reason, code: statusCode, version: after.version },
          requestId: ctx.requestId,
        },
        { tx },
      );
      await this.library.announce(tx);
      await this.hooks.publish(tx, supplierStatusChanged, { supplier: after, from: before.status, reason: input.reason, actorId: ctx.actor.userId });
      return after;
    });
  }

  private async lock(tx: Executor, id: string, expectedVersion: number): Promise<Row> {
    const [row] = await tx.select().from(suppliers).where(eq(suppliers.id, id)).for('update');
    if (!row) throw notFound(ProblemCodes.SUPPLIER_NOT_FOUND, `Supplier ${id} does not exist`);
    if (row.version !== expectedVersion) throw stale();
    return row;
  }

  private checkAdmin(ctx: CallContext): void {
    if (!hasRole(ctx.actor, ['city-admin'])) throw forbidden('Only city administrators manage the supplier directory');
  }

  private checkKind(kind: string): void {
    if (!this.kinds.has(kind)) {
      throw new DomainError('invalid', ProblemCodes.SUPPLIER_INVALID, `"${kind}" is not a supplier kind of this deployment (${this.kinds.keys().join(', ')})`);
    }
  }
}
