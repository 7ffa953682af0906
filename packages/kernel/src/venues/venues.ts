import { and, asc, eq, gt, gte } from 'drizzle-orm';
import type { Actor } from '../auth/actor.js';
import { withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import { regions } from '../core/schema.js';
import type { RegionService } from '../core/regions.js';
import type { Database, Executor } from '../db/database.js';
import { notFound } from '../errors.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { venues, type VENUE_KINDS } from './schema.js';

/** A place where deliveries happen (场馆/阵地). */
export interface Venue {
  id: string;
  regionCode: string;
  name: string;
  kind: (typeof VENUE_KINDS)[number];
  capacity: number;
  address: string;
  location: { lat: number; lng: number } | null;
  version: number;
}

export type VenueInput = Omit<Venue, 'id' | 'version'>;

const BY_ID = 'venues.by-id';

type Row = typeof venues.$inferSelect;
const toVenue = (r: Row): Venue => ({
  id: r.id,
  regionCode: r.regionCode,
  name: r.name,
  kind: r.kind as Venue['kind'],
  capacity: r.capacity,
  address: r.address,
  location: r.lat == null || r.lng == null ? null : { lat: r.lat, lng: r.lng },
  version: r.version,
});

/** Venues, always read and written within the actor's region subtree. */
export class VenueService {
  constructor(
    private readonly db: Database,
    private readonly regionService: RegionService,
    private readonly audit: AuditLog,
  ) {}

  /** Creates a venue in a region of the actor's subtree (any other region is "not found"). */
  async create(tx: Executor, actor: Actor, input: VenueInput, requestId?: string): Promise<Venue> {
    const path = await this.regionService.pathInScope(input.regionCode, actor, tx);
    const { location, ...rest } = input;
    const [row] = await tx
      .insert(venues)
      .values({ ...rest, lat: location?.lat ?? null, lng: location?.lng ?? null })
      .returning();
    const venue = toVenue(row!);
    await this.audit.record(tx, {
      actor,
      entityType: 'venue',
      entityId: venue.id,
      action: 'venue.create',
      region: { code: venue.regionCode, path },
      after: venue,
      requestId,
    });
    return venue;
  }

  /** One venue; `VENUE_NOT_FOUND` when it does not exist or lies outside the actor's subtree. */
  async get(actor: Pick<Actor, 'regionPath'>, id: string, db: Executor = this.db): Promise<Venue> {
    const [row] = await db
      .select({ venue: venues })
      .from(venues)
      .innerJoin(regions, eq(regions.code, venues.regionCode))
      .where(and(eq(venues.id, id), withinScope(regions.path, actor)));
    if (!row) throw notFound('VENUE_NOT_FOUND', `Venue ${id} does not exist`);
    return toVenue(row.venue);
  }

  /** Venues in the actor's subtree, optionally below one region, of one kind, with room for `minCapacity`. */
  async list(
    actor: Pick<Actor, 'regionPath'>,
    filter: { region?: string | undefined; kind?: string | undefined; minCapacity?: number | undefined },
    page: PageRequest,
  ): Promise<PageOf<Venue>> {
    const below = filter.region ? await this.regionService.path(filter.region) : undefined;
    if (filter.region && !below) return { items: [], nextCursor: null };
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const rows = await this.db
      .select({ venue: venues })
      .from(venues)
      .innerJoin(regions, eq(regions.code, venues.regionCode))
      .where(
        and(
          withinScope(regions.path, actor),
          below ? withinScope(regions.path, { regionPath: below }) : undefined,
          filter.kind ? eq(venues.kind, filter.kind) : undefined,
          filter.minCapacity ? gte(venues.capacity, filter.minCapacity) : undefined,
          after ? gt(venues.id, after) : undefined,
        ),
      )
      .orderBy(asc(venues.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID, (r) => [r.venue.id], (r) => toVenue(r.venue));
  }
}
