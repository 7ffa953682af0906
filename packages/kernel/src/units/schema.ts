import { index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema, regions } from '../core/schema.js';

/** Kinds of ordering unit (点单单位) the source texts name. */
export const UNIT_KINDS = [
  'cultural-station', // 综合文化站 / 文化室
  'library-branch', // 图书馆分馆
  'culture-centre-branch', // 文化馆分馆
  'school',
  'barracks', // 军营
  'enterprise',
  'alliance', // 联盟
  'other',
] as const;

/** Organisations that order cultural products, attached to a region. */
export const units = kernelSchema.table(
  'units',
  {
    id: uuid().primaryKey().defaultRandom(),
    regionCode: text('region_code')
      .notNull()
      .references(() => regions.code),
    name: text().notNull(),
    kind: text().notNull(),
    /**
     * Where the contact's name was stored in plain text before 0010: always emptied now.
     * The kernel seals what a legacy row still holds at start (`UnitService.sealLegacyContacts`).
     */
    legacyContactName: text('contact_name'),
    /** The contact's name, sealed with the deployment's personal-data key (bound to the unit's id). */
    contactNameSealed: text('contact_name_sealed'),
    /** What responses and audit records show of it (`maskName`), computed once. */
    contactNameMasked: text('contact_name_masked'),
    /**
     * Where the phone was stored in plain text before 0.2 (0009): always emptied now.
     * The kernel seals what a legacy row still holds at start (`UnitService.sealLegacyContacts`).
     */
    legacyContactPhone: text('contact_phone'),
    /** The contact's phone, sealed with the deployment's personal-data key (bound to the unit's id). */
    contactPhoneSealed: text('contact_phone_sealed'),
    /** What responses and audit records show of it (`maskPhone`), computed once. */
    contactPhoneMasked: text('contact_phone_masked'),
    version: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('units_region_idx').on(t.regionCode, t.id)],
);
