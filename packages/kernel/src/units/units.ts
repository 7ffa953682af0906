import type { AuditLog } from '../audit/audit-log.js';
import type { RegionService } from '../core/regions.js';
import type { Database } from '../db/database.js';
import { ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { OpenList } from '../plugin/lists.js';
import { RegionalDirectory } from '../directory/regional-directory.js';
import { units } from './schema.js';

/** An organisation that orders (点单单位): a cultural station, a library branch, a school, a barracks, … */
export interface Unit {
  id: string;
  regionCode: string;
  name: string;
  /** One of the deployment's unit kinds. */
  kind: string;
  contactName: string | null;
  contactPhone: string | null;
  version: number;
  extensions?: ExtensionData;
}

export interface UnitInput {
  /** Chosen by an import or a seed (never over HTTP); new records get a random one. */
  id?: string | undefined;
  regionCode: string;
  name: string;
  kind: string;
  contactName?: string | null | undefined;
  contactPhone?: string | null | undefined;
}

type Row = typeof units.$inferSelect;

/** Units, always read and written within the actor's region subtree. */
export class UnitService extends RegionalDirectory<Unit, UnitInput, object> {
  constructor(db: Database, regions: RegionService, audit: AuditLog, extensions: ExtensionRegistry, kinds: OpenList) {
    super(db, regions, audit, extensions, {
      record: 'unit',
      table: units,
      notFoundCode: ProblemCodes.UNIT_NOT_FOUND,
      invalidCode: ProblemCodes.UNIT_INVALID,
      kinds,
      toRecord: (row) => {
        const r = row as Row;
        return { id: r.id, regionCode: r.regionCode, name: r.name, kind: r.kind, contactName: r.contactName, contactPhone: r.contactPhone, version: r.version };
      },
      toColumns: (input) => defined({ ...input }),
      filters: () => [],
    });
  }
}

/** The keys of `values` whose value is not undefined (an update changes only what it names). */
export function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
