import { gte } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import type { RegionService } from '../core/regions.js';
import type { Database } from '../db/database.js';
import { RegionalDirectory } from '../directory/regional-directory.js';
import { ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { OpenList } from '../plugin/lists.js';
import { defined } from '../units/units.js';
import { venues } from './schema.js';

/** A place where deliveries happen (场馆/阵地). */
export interface Venue {
  id: string;
  regionCode: string;
  name: string;
  /** One of the deployment's venue kinds. */
  kind: string;
  capacity: number;
  address: string;
  location: { lat: number; lng: number } | null;
  version: number;
  extensions?: ExtensionData;
}

export type VenueInput = Omit<Venue, 'id' | 'version' | 'extensions'> & {
  /** Chosen by an import or a seed (never over HTTP); new records get a random one. */
  id?: string | undefined;
};

type Row = typeof venues.$inferSelect;

/** Venues, always read and written within the actor's region subtree. */
export class VenueService extends RegionalDirectory<Venue, VenueInput, { minCapacity?: number | undefined }> {
  constructor(db: Database, regions: RegionService, audit: AuditLog, extensions: ExtensionRegistry, kinds: OpenList) {
    super(db, regions, audit, extensions, {
      record: 'venue',
      table: venues,
      notFoundCode: ProblemCodes.VENUE_NOT_FOUND,
      invalidCode: ProblemCodes.VENUE_INVALID,
      kinds,
      toRecord: (row) => {
        const r = row as Row;
        return {
          id: r.id,
          regionCode: r.regionCode,
          name: r.name,
          kind: r.kind,
          capacity: r.capacity,
          address: r.address,
          location: r.lat == null || r.lng == null ? null : { lat: r.lat, lng: r.lng },
          version: r.version,
        };
      },
      toColumns: ({ location, ...rest }) =>
        defined({ ...rest, ...(location === undefined ? {} : { lat: location?.lat ?? null, lng: location?.lng ?? null }) }),
      filters: ({ minCapacity }) => [minCapacity ? gte(venues.capacity, minCapacity) : undefined],
    });
  }
}
