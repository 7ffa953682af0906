import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../auth/actor.js';
import { withinScope } from '../auth/scope.js';
import type { Database, Executor } from '../db/database.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { maskIdNumber, maskPhone } from '../personal-data/masks.js';
import { auditLog } from './schema.js';

/**
 * Who changed something: a user from a token, a plugin's system actor
 * (`system:<plugin>`, recorded with the role `system` besides its granted roles), or a
 * citizen (`anonymous`).
 */
export type AuditActor = Pick<Actor, 'userId' | 'roles'> & Partial<Pick<Actor, 'region' | 'system'>>;

/** Who a citizen's anonymous action (feedback) is recorded as. */
export const ANONYMOUS: AuditActor = { userId: 'anonymous', roles: [] };

/** One state change, as services record it. */
export interface AuditEntry {
  readonly actor: AuditActor;
  readonly entityType: string;
  readonly entityId: string;
  /** The transition or operation, e.g. `order.approve`, `product.submit`, `unit.create`. */
  readonly action: string;
  /** The region the changed record belongs to (its code and materialised path). */
  readonly region?: { readonly code: string; readonly path: string } | undefined;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly requestId?: string | undefined;
}

/** An audit record as read back. */
export interface AuditRecord {
  id: number;
  at: string;
  actorId: string;
  actorRoles: string[];
  actorRegion: string | null;
  entityType: string;
  entityId: string;
  action: string;
  regionCode: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

const BY_ID_DESC = 'audit.by-id-desc';

/** Writes and reads the append-only audit log. */
export class AuditLog {
  constructor(private readonly db: Database) {}

  /** Records `entry` inside the caller's transaction, so it commits or rolls back with the change. */
  async record(entry: AuditEntry, { tx }: { tx: Executor }): Promise<void> {
    await tx.insert(auditLog).values(auditRow(entry));
  }

  /**
   * SQL recording one entry per row of `source`, for writes done in a single statement
   * (see `orders/placement.ts`). `source` yields the columns `actor_id, actor_roles,
   * actor_region, entity_type, entity_id, action, region_code, region_path, before,
   * after, request_id`.
   */
  recordAllSql(source: SQL): SQL {
    return sql`insert into ${auditLog}
        (actor_id, actor_roles, actor_region, entity_type, entity_id, action, region_code, region_path, before, after, request_id)
      select actor_id, actor_roles, actor_region, entity_type, entity_id, action, region_code, region_path, before, after, request_id
      from ${source}`;
  }

  /**
   * Newest first, limited to records of regions inside the actor's home subtree.
   * Filter by entity to read one record's history, or by actor.
   */
  async list(
    query: { entityType?: string | undefined; entityId?: string | undefined; actorId?: string | undefined; page: PageRequest },
    { actor }: { actor: Pick<Actor, 'regionPath'> },
  ): Promise<PageOf<AuditRecord>> {
    const { page, ...filter } = query;
    const before = page.cursor ? Number(decodeCursor(page.cursor, BY_ID_DESC, ['integer'])[0]) : undefined;
    const rows = await this.db
      .select()
      .from(auditLog)
      .where(
        and(
          withinScope(auditLog.regionPath, actor),
          filter.entityType ? eq(auditLog.entityType, filter.entityType) : undefined,
          filter.actorId ? eq(auditLog.actorId, filter.actorId) : undefined,
          filter.entityId ? eq(auditLog.entityId, filter.entityId) : undefined,
          before === undefined ? undefined : lt(auditLog.id, before),
        ),
      )
      .orderBy(desc(auditLog.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID_DESC, (r) => [r.id], (r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorId: r.actorId,
      actorRoles: r.actorRoles,
      actorRegion: r.actorRegion,
      entityType: r.entityType,
      entityId: r.entityId,
      action: r.action,
      regionCode: r.regionCode,
      before: r.before,
      after: r.after,
      requestId: r.requestId,
    }));
  }
}

/** How an actor is recorded: a system actor with the role `system` first, no region for the whole tree. */
export function auditedActor(actor: AuditActor): { actorId: string; actorRoles: string[]; actorRegion: string | null } {
  return {
    actorId: actor.userId,
    actorRoles: actor.system ? ['system', ...actor.roles] : [...actor.roles],
    actorRegion: actor.region || null,
  };
}

/** The audit row for `entry`. */
function auditRow(entry: AuditEntry) {
  return {
    ...auditedActor(entry.actor),
    entityType: entry.entityType,
    entityId: entry.entityId,
    action: entry.action,
    regionCode: entry.region?.code ?? null,
    regionPath: entry.region?.path ?? null,
    before: redactPersonal(entry.before ?? null),
    after: redactPersonal(entry.after ?? null),
    requestId: entry.requestId ?? null,
  } satisfies typeof auditLog.$inferInsert;
}

const PHONE_KEY = /phone|mobile/i;
const ID_NUMBER_KEY = /^(id_?number|identity_?number|idCard|id_?card_?number)$/i;

/**
 * `before`/`after` of an audit record with personal data masked at write time, as a
 * safety net under the services (which already audit masked records): a string under a
 * key naming a phone (`phone`, `contactPhone`, `mobile`, …) or an identity number
 * (`idNumber`, …) that holds digits and is not masked already (no `*`) is masked. The
 * audit log is append-only, so what it holds can never be cleaned afterwards.
 */
export function redactPersonal(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactPersonal(v, depth + 1));
  if (!isPlain(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' && /\d/.test(v) && !v.includes('*') && (PHONE_KEY.test(key) || ID_NUMBER_KEY.test(key))) {
      out[key] = PHONE_KEY.test(key) ? maskPhone(v) : maskIdNumber(v);
    } else {
      out[key] = redactPersonal(v, depth + 1);
    }
  }
  return out;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
