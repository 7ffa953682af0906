import { and, asc, eq, gt } from 'drizzle-orm';
import type { Actor } from '../auth/actor.js';
import { withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import { regions } from '../core/schema.js';
import type { RegionService } from '../core/regions.js';
import type { Database, Executor } from '../db/database.js';
import { notFound } from '../errors.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { units, type UNIT_KINDS } from './schema.js';

/** An organisation that orders (点单单位): a cultural station, a library branch, a school, a barracks, … */
export interface Unit {
  id: string;
  regionCode: string;
  name: string;
  kind: (typeof UNIT_KINDS)[number];
  contactName: string | null;
  contactPhone: string | null;
  version: number;
}

export type UnitInput = Pick<Unit, 'regionCode' | 'name' | 'kind'> & {
  contactName?: string | null | undefined;
  contactPhone?: string | null | undefined;
};

const BY_ID = 'units.by-id';

const columns = {
  id: units.id,
  regionCode: units.regionCode,
  name: units.name,
  kind: units.kind,
  contactName: units.contactName,
  contactPhone: units.contactPhone,
  version: units.version,
};

/** Units, always read and written within the actor's region subtree. */
export class UnitService {
  constructor(
    private readonly db: Database,
    private readonly regionService: RegionService,
    private readonly audit: AuditLog,
  ) {}

  /** Creates a unit in a region of the actor's subtree (any other region is "not found"). */
  async create(tx: Executor, actor: Actor, input: UnitInput, requestId?: string): Promise<Unit> {
    const path = await this.regionService.pathInScope(input.regionCode, actor, tx);
    const [row] = await tx
      .insert(units)
      .values({ ...input, contactName: input.contactName ?? null, contactPhone: input.contactPhone ?? null })
      .returning(columns);
    const unit = row as Unit;
    await this.audit.record(tx, {
      actor,
      entityType: 'unit',
      entityId: unit.id,
      action: 'unit.create',
      region: { code: unit.regionCode, path },
      after: unit,
      requestId,
    });
    return unit;
  }

  /** One unit; `UNIT_NOT_FOUND` when it does not exist or lies outside the actor's subtree. */
  async get(actor: Pick<Actor, 'regionPath'>, id: string, db: Executor = this.db): Promise<Unit> {
    const [row] = await db
      .select(columns)
      .from(units)
      .innerJoin(regions, eq(regions.code, units.regionCode))
      .where(and(eq(units.id, id), withinScope(regions.path, actor)));
    if (!row) throw notFound('UNIT_NOT_FOUND', `Unit ${id} does not exist`);
    return row as Unit;
  }

  /** Units in the actor's subtree, optionally below one region and of one kind. */
  async list(
    actor: Pick<Actor, 'regionPath'>,
    filter: { region?: string | undefined; kind?: string | undefined },
    page: PageRequest,
  ): Promise<PageOf<Unit>> {
    const below = filter.region ? await this.regionService.path(filter.region) : undefined;
    if (filter.region && !below) return { items: [], nextCursor: null };
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const rows = await this.db
      .select(columns)
      .from(units)
      .innerJoin(regions, eq(regions.code, units.regionCode))
      .where(
        and(
          withinScope(regions.path, actor),
          below ? withinScope(regions.path, { regionPath: below }) : undefined,
          filter.kind ? eq(units.kind, filter.kind) : undefined,
          after ? gt(units.id, after) : undefined,
        ),
      )
      .orderBy(asc(units.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID, (r) => [r.id], (r) => r as Unit);
  }
}
