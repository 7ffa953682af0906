import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { hasRole, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import { inScope, withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallContext } from '../call.js';
import type { RegionService } from '../core/regions.js';
import { regions } from '../core/schema.js';
import { withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, forbidden, notFound } from '../errors.js';
import type { ExtendableRecord, ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import type { OpenList } from '../plugin/lists.js';
import { stale } from '../safe-writes/etag.js';

/** The columns every regional record's table has. */
type RegionalTable = PgTable & {
  id: PgColumn;
  regionCode: PgColumn;
  kind: PgColumn;
  version: PgColumn;
};

/** What a regional record looks like to the API: at least an id, a region, a kind and a version. */
export interface RegionalRecord {
  id: string;
  regionCode: string;
  kind: string;
  version: number;
  extensions?: ExtensionData;
}

/** What distinguishes one regional directory (units, venues) from another. */
export interface DirectorySpec<R extends RegionalRecord, Input extends { regionCode: string; kind: string }, Filter> {
  /** The record type, as audit entries, extension data and hooks name it. */
  readonly record: ExtendableRecord & ('unit' | 'venue');
  readonly table: RegionalTable;
  readonly notFoundCode: string;
  readonly invalidCode: string;
  /** The list of kinds the deployment knows. */
  readonly kinds: OpenList;
  toRecord(row: Record<string, unknown>): R;
  /** The table's columns for `input` (or the part of it being changed) of the record `id`. */
  toColumns(input: Partial<Input>, id: string): Record<string, unknown>;
  /** SQL conditions of a list's own filters (kind is handled here). */
  filters(filter: Filter): (SQL | undefined)[];
}

/** A list request of a regional directory. */
export type DirectoryQuery<Filter> = Filter & {
  /** Only records in this region's subtree. */
  readonly region?: string | undefined;
  readonly kind?: string | undefined;
  readonly page: PageRequest;
};

/** A change to a record: the fields to change, with the version it was read at (If-Match). */
export interface DirectoryUpdate<Input> {
  readonly id: string;
  readonly expectedVersion: number;
  readonly changes: Partial<Input>;
  readonly extensions?: ExtensionData | undefined;
}

/**
 * A directory of records that belong to a region — ordering units (点单单位) and venues
 * (场馆) — read and written only within the actor's region subtree: out-of-scope
 * records answer as if they did not exist. Region staff create and change them (in
 * their subtree); every write is audited with the record's region; updates need the
 * version the caller read (If-Match).
 */
export class RegionalDirectory<R extends RegionalRecord, Input extends { regionCode: string; kind: string }, Filter extends object> {
  private readonly byId: string;

  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly audit: AuditLog,
    private readonly extensions: ExtensionRegistry,
    private readonly spec: DirectorySpec<R, Input, Filter>,
  ) {
    this.byId = `${spec.record}s.by-id`;
  }

  /** Creates a record in a region of the actor's subtree (any other region is "not found"). */
  async create(input: Input & { extensions?: ExtensionData | undefined }, ctx: CallContext): Promise<R> {
    this.checkStaff(ctx.actor);
    const { extensions, ...fields } = input;
    this.checkKind(fields.kind);
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const path = await this.regions.pathInScope(fields.regionCode, ctx.actor, { tx });
      // The id is chosen here (not by the database) so that columns can be bound to it (sealed personal data).
      const id = (fields as { id?: string | undefined }).id ?? randomUUID();
      const [row] = await tx
        .insert(this.spec.table)
        .values({ ...this.spec.toColumns(fields as unknown as Input, id), id })
        .returning();
      const record = this.spec.toRecord(row as Record<string, unknown>);
      await this.extensions.save(this.spec.record, record.id, extensions, { tx, actor: ctx.actor, created: true });
      await this.audit.record(
        { actor: ctx.actor, entityType: this.spec.record, entityId: record.id, action: `${this.spec.record}.create`, region: { code: record.regionCode, path }, after: record, requestId: ctx.requestId },
        { tx },
      );
      return this.extensions.attachOne(this.spec.record, record, tx);
    });
  }

  /** One record; not found when it does not exist or lies outside the actor's subtree. */
  async get(id: string, ctx: { actor: Pick<Actor, 'regionPath'>; tx?: Executor | undefined }): Promise<R> {
    const db = ctx.tx ?? this.db;
    const [row] = await this.scoped(db, ctx.actor, eq(this.spec.table.id, id));
    if (!row) throw notFound(this.spec.notFoundCode, `${capitalised(this.spec.record)} ${id} does not exist`);
    return this.extensions.attachOne(this.spec.record, this.spec.toRecord(row), db);
  }

  /** Records in the actor's subtree, optionally below one region and of one kind, in id order. */
  async list(query: DirectoryQuery<Filter>, ctx: { actor: Pick<Actor, 'regionPath'> }): Promise<PageOf<R>> {
    const { region, kind, page, ...filter } = query;
    const below = region ? await this.regions.path(region) : undefined;
    if (region && !below) return { items: [], nextCursor: null };
    const after = page.cursor ? String(decodeCursor(page.cursor, this.byId, ['uuid'])[0]) : undefined;
    const t = this.spec.table;
    const rows = await this.scoped(
      this.db,
      ctx.actor,
      and(
        below ? withinScope(regions.path, { regionPath: below }) : undefined,
        kind ? eq(t.kind, kind) : undefined,
        ...this.spec.filters(filter as Filter),
        after ? gt(t.id, after) : undefined,
      ),
      page.limit + 1,
    );
    const result = toPage(rows, page.limit, this.byId, (r) => [String(r.id)], (r) => this.spec.toRecord(r));
    return { ...result, items: await this.extensions.attach(this.spec.record, result.items, this.db) };
  }

  /**
   * Changes fields of a record the actor may see, at the version it read. Moving it to
   * another region needs that region to be in the actor's subtree too.
   */
  async update(change: DirectoryUpdate<Input>, ctx: CallContext): Promise<R> {
    this.checkStaff(ctx.actor);
    if (change.changes.kind !== undefined) this.checkKind(change.changes.kind);
    const t = this.spec.table;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [current] = (await tx.select().from(t).where(eq(t.id, change.id)).for('update')) as Record<string, unknown>[];
      const path = current && (await this.regions.path(String(current.regionCode), { tx }));
      if (!current || !path || !inScope(ctx.actor, path)) {
        throw notFound(this.spec.notFoundCode, `${capitalised(this.spec.record)} ${change.id} does not exist`);
      }
      if (current.version !== change.expectedVersion) throw stale();
      const target = change.changes.regionCode ? await this.regions.pathInScope(change.changes.regionCode, ctx.actor, { tx }) : path;
      const before = this.spec.toRecord(current);
      const [row] = await tx
        .update(t)
        .set({ ...this.spec.toColumns(change.changes, change.id), version: sql`${t.version} + 1` })
        .where(eq(t.id, change.id))
        .returning();
      const after = this.spec.toRecord(row as Record<string, unknown>);
      await this.extensions.save(this.spec.record, after.id, change.extensions, { tx, actor: ctx.actor, created: false });
      await this.audit.record(
        {
          actor: ctx.actor,
          entityType: this.spec.record,
          entityId: after.id,
          action: `${this.spec.record}.update`,
          region: { code: after.regionCode, path: target },
          before,
          after,
          requestId: ctx.requestId,
        },
        { tx },
      );
      return this.extensions.attachOne(this.spec.record, after, tx);
    });
  }

  private scoped(db: Executor, actor: Pick<Actor, 'regionPath'>, where: SQL | undefined, limit?: number) {
    const t = this.spec.table;
    const query = db
      .select({ record: t })
      .from(t)
      .innerJoin(regions, eq(regions.code, t.regionCode))
      .where(and(withinScope(regions.path, actor), where))
      .orderBy(asc(t.id));
    return (limit ? query.limit(limit) : query).then((rows) => rows.map((r) => r.record as Record<string, unknown>));
  }

  private checkStaff(actor: Actor): void {
    if (!hasRole(actor, REGION_STAFF)) throw forbidden(`Only region staff may register and change ${this.spec.record}s`);
  }

  private checkKind(kind: string): void {
    if (!this.spec.kinds.has(kind)) {
      throw new DomainError('invalid', this.spec.invalidCode, `"${kind}" is not a ${this.spec.kinds.name} of this deployment (${this.spec.kinds.keys().join(', ')})`);
    }
  }
}

function capitalised(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}
