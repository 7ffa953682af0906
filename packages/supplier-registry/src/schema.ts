import { boolean, date, index, integer, pgSchema, real, serial, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything the supplier registry stores lives in its own Postgres schema. */
export const supplierRegistrySchema = pgSchema('supplier_registry');

/**
 * An application to join the supplier library (入库申请), and — once approved — the
 * registry's profile of the kernel supplier it created (same id). Personal data is
 * never stored readable: an individual's identity number only as a keyed hash and its
 * last four characters.
 */
export const applications = supplierRegistrySchema.table(
  'applications',
  {
    /** Also the id of the kernel supplier created on approval. */
    id: uuid().primaryKey().defaultRandom(),
    name: text().notNull(),
    kind: text().notNull(),
    status: text().notNull(),
    /** The region the applicant is registered in: reviewers and admins of its subtree act on it. */
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    /** Organisations: the Unified Social Credit Code (public register data). */
    creditCode: text('credit_code'),
    /** Individuals: keyed hash of the identity number (to find duplicates), never the number. */
    idNumberHash: text('id_number_hash'),
    idNumberLast4: text('id_number_last4'),
    description: text().notNull().default(''),
    categories: text().array().notNull(),
    regionsServed: text('regions_served').array().notNull(),
    /** Reasons of the last rejection or request for changes. */
    reasons: text().array().notNull().default([]),
    /** Why it was last suspended or blacklisted. */
    statusReason: text('status_reason'),
    /** Why the registry suspended it: `manual` (an admin) or `expired` (a mandatory qualification); null otherwise. */
    suspendedFor: text('suspended_for'),
    /** Blacklisted until this day (exclusive); null with `blacklisted`: indefinitely. */
    blacklistedUntil: date('blacklisted_until', { mode: 'string' }),
    /** Set on approval: the kernel supplier (same id). */
    supplierId: uuid('supplier_id').references(() => kernelTables.suppliers.id),
    /** The user who applied (token `sub`): sees it before the supplier exists. */
    createdBy: text('created_by').notNull(),
    version: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('applications_status_idx').on(t.status, t.id),
    index('applications_created_by_idx').on(t.createdBy),
    index('applications_credit_code_idx').on(t.creditCode),
    index('applications_id_number_idx').on(t.idNumberHash),
  ],
);

/** A contact person of an applicant: name and phone sealed, with a hash to match and what a mask shows. */
export const contacts = supplierRegistrySchema.table(
  'contacts',
  {
    id: serial().primaryKey(),
    applicationId: uuid('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
    /** Encrypted name (kernel personal-data key, bound to the application). */
    nameSealed: text('name_sealed').notNull(),
    /** Encrypted phone number. */
    phoneSealed: text('phone_sealed').notNull(),
    /** Keyed hash of the phone number (to find a contact by phone without reading any). */
    phoneHash: text('phone_hash').notNull(),
    /** The masked forms shown in responses, computed once. */
    nameMasked: text('name_masked').notNull(),
    phoneMasked: text('phone_masked').notNull(),
    title: text().notNull().default(''),
    position: smallint().notNull(),
  },
  (t) => [index('contacts_application_idx').on(t.applicationId, t.position)],
);

/** A qualification document (资质): licence, permit, certificate, with its validity and file. */
export const qualifications = supplierRegistrySchema.table(
  'qualifications',
  {
    id: serial().primaryKey(),
    applicationId: uuid('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
    type: text().notNull(),
    number: text().notNull(),
    issuer: text().notNull(),
    validFrom: date('valid_from', { mode: 'string' }).notNull(),
    validUntil: date('valid_until', { mode: 'string' }),
    /** A mandatory qualification that expires suspends the supplier. */
    mandatory: boolean().notNull().default(false),
    /** A stored file (kernel file storage), if one was uploaded. */
    fileId: text('file_id'),
    /** pending → accepted | rejected, by a reviewer. */
    status: text().notNull().default('pending'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    /** When `qualification.expiring` was emitted for it (once per document). */
    warnedAt: timestamp('warned_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('qualifications_application_idx').on(t.applicationId), index('qualifications_until_idx').on(t.validUntil)],
);

/** Files (kernel file storage) uploaded for an application: who may download them follows the application. */
export const applicationFiles = supplierRegistrySchema.table(
  'application_files',
  {
    /** The kernel's stored-file id. */
    fileId: uuid('file_id').primaryKey(),
    applicationId: uuid('application_id').notNull().references(() => applications.id, { onDelete: 'cascade' }),
    /** SHA-256 of uploader, application and the upload's `Idempotency-Key`: a retry finds its first upload. */
    uploadKey: text('upload_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('application_files_application_idx').on(t.applicationId), uniqueIndex('application_files_upload_key_idx').on(t.uploadKey)],
);

/** An ordering unit's evaluation of a delivered order (履约评价): one per order. */
export const ratings = supplierRegistrySchema.table(
  'ratings',
  {
    id: serial().primaryKey(),
    orderId: uuid('order_id').notNull().unique().references(() => kernelTables.orders.id),
    supplierId: uuid('supplier_id').notNull().references(() => kernelTables.suppliers.id),
    unitId: uuid('unit_id').notNull().references(() => kernelTables.units.id),
    punctuality: smallint().notNull(),
    quality: smallint().notNull(),
    cooperation: smallint().notNull(),
    comment: text().notNull().default(''),
    ratedBy: text('rated_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('ratings_supplier_idx').on(t.supplierId, t.id)],
);

/** Citizens' feedback, as the kernel's `feedback.received` reported it: one row per event. */
export const citizenFeedback = supplierRegistrySchema.table(
  'citizen_feedback',
  {
    eventId: text('event_id').primaryKey(),
    orderId: uuid('order_id').notNull(),
    supplierId: uuid('supplier_id').notNull(),
    rating: smallint().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('citizen_feedback_supplier_idx').on(t.supplierId)],
);

/** The quality score and tier of a supplier, as the last recomputation left them. */
export const scores = supplierRegistrySchema.table('scores', {
  supplierId: uuid('supplier_id').primaryKey().references(() => kernelTables.suppliers.id),
  /** 0–5, or null with fewer ratings than the configured minimum. */
  score: real(),
  unitRatings: integer('unit_ratings').notNull(),
  citizenRatings: integer('citizen_ratings').notNull(),
  /** `quality` (优质供应商) or `standard`. */
  tier: text().notNull(),
  computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Media files (photos, video, a programme PDF) of a kernel product, stored through the
 * kernel's file storage. The file's type, size, name and hash are copied here when it
 * is linked, so a page of products shows its cover without reading the file table.
 */
export const productMedia = supplierRegistrySchema.table(
  'product_media',
  {
    /** The kernel's stored-file id. */
    fileId: uuid('file_id').primaryKey(),
    productId: uuid('product_id')
      .notNull()
      .references(() => kernelTables.products.id),
    /** `image`, `video` or `document`, from the sniffed content type. */
    kind: text().notNull(),
    contentType: text('content_type').notNull(),
    name: text().notNull(),
    size: integer().notNull(),
    sha256: text().notNull(),
    caption: text(),
    /** Display order (the lowest is the cover); new media go last. */
    position: integer().notNull(),
    /** SHA-256 of uploader, product and the upload's `Idempotency-Key`: a retry finds its first upload. */
    uploadKey: text('upload_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('product_media_product_idx').on(t.productId, t.position), uniqueIndex('product_media_upload_key_idx').on(t.uploadKey)],
);
