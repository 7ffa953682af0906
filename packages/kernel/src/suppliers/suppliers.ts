import { and, asc, eq, gt } from 'drizzle-orm';
import type { Actor } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Database, Executor } from '../db/database.js';
import { notFound } from '../errors.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { suppliers, type SUPPLIER_KINDS, type SUPPLIER_STATUSES } from './schema.js';

/** A cultural supplier (文化供应商): troupe, enterprise, folk institution, social organisation, artist. */
export interface Supplier {
  id: string;
  name: string;
  kind: (typeof SUPPLIER_KINDS)[number];
  status: (typeof SUPPLIER_STATUSES)[number];
  version: number;
}

export type SupplierInput = Pick<Supplier, 'name' | 'kind'>;

const BY_ID = 'suppliers.by-id';
const columns = { id: suppliers.id, name: suppliers.name, kind: suppliers.kind, status: suppliers.status, version: suppliers.version };

/**
 * The city-wide supplier directory. Suppliers serve the whole city, so the directory
 * is not region-scoped; only city administrators add to it.
 */
export class SupplierService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly cityRegion: (db: Executor) => Promise<{ code: string; path: string } | undefined>,
  ) {}

  async create(tx: Executor, actor: Actor, input: SupplierInput, requestId?: string): Promise<Supplier> {
    const [row] = await tx.insert(suppliers).values(input).returning(columns);
    const supplier = row as Supplier;
    await this.audit.record(tx, {
      actor,
      entityType: 'supplier',
      entityId: supplier.id,
      action: 'supplier.create',
      region: await this.cityRegion(tx),
      after: supplier,
      requestId,
    });
    return supplier;
  }

  async get(id: string): Promise<Supplier> {
    const [row] = await this.db.select(columns).from(suppliers).where(eq(suppliers.id, id));
    if (!row) throw notFound('SUPPLIER_NOT_FOUND', `Supplier ${id} does not exist`);
    return row as Supplier;
  }

  async list(filter: { kind?: string | undefined; status?: string | undefined }, page: PageRequest): Promise<PageOf<Supplier>> {
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const rows = await this.db
      .select(columns)
      .from(suppliers)
      .where(
        and(
          filter.kind ? eq(suppliers.kind, filter.kind) : undefined,
          filter.status ? eq(suppliers.status, filter.status) : undefined,
          after ? gt(suppliers.id, after) : undefined,
        ),
      )
      .orderBy(asc(suppliers.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID, (r) => [r.id], (r) => r as Supplier);
  }
}
