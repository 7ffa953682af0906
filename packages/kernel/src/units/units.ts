import { and, eq, isNotNull, or } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import type { RegionService } from '../core/regions.js';
import { transaction, type Database } from '../db/database.js';
import { ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { OpenList } from '../plugin/lists.js';
import { RegionalDirectory } from '../directory/regional-directory.js';
import { maskName, maskPhone } from '../personal-data/masks.js';
import type { PersonalData } from '../personal-data/personal-data.js';
import { units } from './schema.js';

/** An organisation that orders (点单单位): a cultural station, a library branch, a school, a barracks, … */
export interface Unit {
  id: string;
  regionCode: string;
  name: string;
  /** One of the deployment's unit kinds. */
  kind: string;
  /** The contact's name, masked (`张**`): sealed at rest like the phone. */
  contactName: string | null;
  /**
   * The contact's phone, masked (`138****5678`, `020-****5678`): personal data is
   * stored sealed and never shown in full, to anyone.
   */
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
  /** The full name; it is sealed before it is stored, and only its mask is ever returned. */
  contactName?: string | null | undefined;
  /** The full number; it is sealed before it is stored, and only its mask is ever returned. */
  contactPhone?: string | null | undefined;
}

type Row = typeof units.$inferSelect;

/** The context a unit's sealed contact field is bound to: a sealed value copied to another unit (or field) does not open. */
const contactContext = (unitId: string, field: 'phone' | 'name') => `kernel.unit:${unitId}:contact-${field}`;

/** Legacy rows sealed per transaction at start. */
const SEAL_BATCH = 200;

/** Units, always read and written within the actor's region subtree. */
export class UnitService extends RegionalDirectory<Unit, UnitInput, object> {
  constructor(
    private readonly database: Database,
    regions: RegionService,
    audit: AuditLog,
    extensions: ExtensionRegistry,
    kinds: OpenList,
    private readonly personalData: PersonalData,
  ) {
    super(database, regions, audit, extensions, {
      record: 'unit',
      table: units,
      notFoundCode: ProblemCodes.UNIT_NOT_FOUND,
      invalidCode: ProblemCodes.UNIT_INVALID,
      kinds,
      toRecord: (row) => {
        const r = row as Row;
        // A legacy plain value not sealed yet (a row written by an older process) is masked all the same.
        const phone = r.contactPhoneMasked ?? (r.legacyContactPhone ? maskPhone(r.legacyContactPhone) : null);
        const name = r.contactNameMasked ?? (r.legacyContactName ? maskName(r.legacyContactName) : null);
        return { id: r.id, regionCode: r.regionCode, name: r.name, kind: r.kind, contactName: name, contactPhone: phone, version: r.version };
      },
      toColumns: ({ contactPhone, contactName, ...input }, id) => ({
        ...defined({ ...input }),
        ...(contactPhone === undefined ? {} : phoneColumns(personalData, id, contactPhone)),
        ...(contactName === undefined ? {} : nameColumns(personalData, id, contactName)),
      }),
      filters: () => [],
    });
  }

  /**
   * Seals the phones and names that units stored in plain text before 0009 and 0010 and
   * empties the plain columns, in batches of 200 rows per transaction. Run by the kernel at every start: it
   * finds nothing once done (idempotent), and several processes starting at once share
   * the work (`FOR UPDATE SKIP LOCKED`; a row is re-checked under its lock). Returns how
   * many rows it sealed.
   */
  async sealLegacyContacts(): Promise<number> {
    const legacy = or(isNotNull(units.legacyContactPhone), isNotNull(units.legacyContactName));
    let sealed = 0;
    for (;;) {
      const done = await transaction(this.database, async (tx) => {
        const rows = await tx
          .select({ id: units.id, phone: units.legacyContactPhone, name: units.legacyContactName })
          .from(units)
          .where(legacy)
          .orderBy(units.id)
          .limit(SEAL_BATCH)
          .for('update', { skipLocked: true });
        for (const row of rows) {
          await tx
            .update(units)
            // A legacy row's version is unchanged: the record a client read is the same.
            .set({
              ...(row.phone === null ? {} : phoneColumns(this.personalData, row.id, row.phone)),
              ...(row.name === null ? {} : nameColumns(this.personalData, row.id, row.name)),
            })
            .where(and(eq(units.id, row.id), legacy));
        }
        return rows.length;
      });
      sealed += done;
      if (done < SEAL_BATCH) return sealed;
    }
  }
}

/** The stored columns of a phone: sealed, masked, and never the plain value. */
function phoneColumns(
  personalData: PersonalData,
  unitId: string,
  phone: string | null,
): { contactPhoneSealed: string | null; contactPhoneMasked: string | null; legacyContactPhone: null } {
  const value = phone?.trim() ?? '';
  if (value === '') return { contactPhoneSealed: null, contactPhoneMasked: null, legacyContactPhone: null };
  return { contactPhoneSealed: personalData.encrypt(value, contactContext(unitId, 'phone')), contactPhoneMasked: maskPhone(value), legacyContactPhone: null };
}

/** The stored columns of a contact's name: sealed, masked, and never the plain value. */
function nameColumns(
  personalData: PersonalData,
  unitId: string,
  name: string | null,
): { contactNameSealed: string | null; contactNameMasked: string | null; legacyContactName: null } {
  const value = name?.trim() ?? '';
  if (value === '') return { contactNameSealed: null, contactNameMasked: null, legacyContactName: null };
  return { contactNameSealed: personalData.encrypt(value, contactContext(unitId, 'name')), contactNameMasked: maskName(value), legacyContactName: null };
}

/** The keys of `values` whose value is not undefined (an update changes only what it names). */
export function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
