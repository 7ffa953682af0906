import { sql } from 'drizzle-orm';
import { boolean, doublePrecision, index, integer, jsonb, pgSchema, primaryKey, serial, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything this plugin stores lives in its own Postgres schema. */
export const procurementSchema = pgSchema('procurement');

/** A lot (标段) of a project: bids and awards are per lot. */
export interface LotData {
  id: string;
  title: string;
  description: string | null;
  /** Estimated value in whole yuan. */
  value: number;
}

/** A line item of what is bought. */
export interface ItemData {
  id: string;
  description: string;
  /** A kernel category key. */
  category: string | null;
  quantity: number;
  unit: string;
  relatedLot: string;
}

/** Metadata of a procurement document (the file itself, if any, lives in a file store). */
export interface DocumentData {
  id: string;
  /** OCDS documentType (open codelist), e.g. `tenderNotice`, `biddingDocuments`. */
  documentType: string;
  title: string;
  url: string | null;
  fileId: string | null;
  datePublished: string | null;
}

/** A procurement project (采购项目): planning, tender, and the award/contract stages hang off it. */
export const projects = procurementSchema.table(
  'projects',
  {
    id: uuid().primaryKey().defaultRandom(),
    buyerUnitId: uuid('buyer_unit_id').notNull().references(() => kernelTables.units.id),
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    regionPath: text('region_path').notNull(),
    title: text().notNull(),
    description: text().notNull(),
    category: text().notNull(),
    method: text().notNull(),
    rationale: text(),
    framework: boolean().notNull().default(false),
    estimate: integer().notNull(),
    lots: jsonb().$type<LotData[]>().notNull(),
    items: jsonb().$type<ItemData[]>().notNull(),
    documents: jsonb().$type<DocumentData[]>().notNull(),
    invitedSupplierIds: jsonb('invited_supplier_ids').$type<string[]>().notNull(),
    panel: jsonb().$type<string[]>().notNull(),
    priceWeight: integer('price_weight').notNull(),
    qualityWeight: integer('quality_weight').notNull(),
    standstillDays: doublePrecision('standstill_days').notNull(),
    enquiryStart: timestamp('enquiry_start', { withTimezone: true }),
    enquiryEnd: timestamp('enquiry_end', { withTimezone: true }).notNull(),
    tenderEnd: timestamp('tender_end', { withTimezone: true }).notNull(),
    status: text().notNull().default('draft'),
    statusReason: text('status_reason'),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    openedAt: timestamp('opened_at', { withTimezone: true }),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer().notNull().default(1),
  },
  (t) => [index('projects_region_idx').on(t.regionPath), index('projects_buyer_idx').on(t.buyerUnitId, t.publishedAt)],
);

/** A change to a published tender (OCDS `tender.amendments`). */
export const amendments = procurementSchema.table(
  'amendments',
  {
    id: serial().primaryKey(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    rationale: text().notNull(),
    changes: jsonb().$type<{ field: string; before: unknown; after: unknown }[]>().notNull(),
    amendsReleaseId: text('amends_release_id'),
    releaseId: text('release_id'),
    date: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('amendments_project_idx').on(t.projectId, t.id)],
);

/** A question of a supplier during the enquiry period, and the buyer's answer (答疑). */
export const enquiries = procurementSchema.table(
  'enquiries',
  {
    id: uuid().primaryKey().defaultRandom(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    supplierId: uuid('supplier_id').notNull().references(() => kernelTables.suppliers.id),
    question: text().notNull(),
    answer: text(),
    askedAt: timestamp('asked_at', { withTimezone: true }).notNull().defaultNow(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    answeredBy: text('answered_by'),
  },
  (t) => [index('enquiries_project_idx').on(t.projectId, t.askedAt)],
);

/**
 * A bid (投标) for one lot. Until the project is opened, only `sealed` (AES-256-GCM
 * ciphertext, see sealing.ts) and `commitment` hold its content; the `price`, `proposal`
 * and `documents` columns are filled at the opening, after the tender deadline.
 */
export const bids = procurementSchema.table(
  'bids',
  {
    id: uuid().primaryKey(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    lotId: text('lot_id').notNull(),
    supplierId: uuid('supplier_id').notNull().references(() => kernelTables.suppliers.id),
    /** sealed | withdrawn | replaced | valid | disqualified */
    status: text().notNull(),
    sealed: text().notNull(),
    commitment: text().notNull(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }).notNull().defaultNow(),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    price: integer(),
    proposal: text(),
    documents: jsonb().$type<DocumentData[]>(),
    nonce: text(),
    statusReason: text('status_reason'),
  },
  (t) => [
    index('bids_project_idx').on(t.projectId, t.lotId),
    // One live bid per supplier and lot: a new one replaces it.
    uniqueIndex('bids_live_idx').on(t.projectId, t.lotId, t.supplierId).where(sql`status = 'sealed'`),
  ],
);

/** A panel member's declaration of (no) conflict of interest (利益冲突声明). */
export const declarations = procurementSchema.table(
  'declarations',
  {
    projectId: uuid('project_id').notNull().references(() => projects.id),
    member: text().notNull(),
    conflict: boolean().notNull(),
    statement: text().notNull(),
    declaredAt: timestamp('declared_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.member] })],
);

/** A panel member's quality score (0–100) of one bid. */
export const scores = procurementSchema.table(
  'scores',
  {
    bidId: uuid('bid_id').notNull().references(() => bids.id),
    member: text().notNull(),
    score: integer().notNull(),
    comment: text().notNull(),
    scoredAt: timestamp('scored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.bidId, t.member] })],
);

/** An award (中标) of a lot to a bid; `pending` during the standstill period. */
export const awards = procurementSchema.table(
  'awards',
  {
    id: uuid().primaryKey().defaultRandom(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    lotId: text('lot_id').notNull(),
    bidId: uuid('bid_id').references(() => bids.id),
    supplierId: uuid('supplier_id').references(() => kernelTables.suppliers.id),
    /** pending | active | cancelled | unsuccessful (OCDS awardStatus) */
    status: text().notNull(),
    value: integer(),
    rank: integer(),
    standstillEnd: timestamp('standstill_end', { withTimezone: true }),
    statusReason: text('status_reason'),
    date: timestamp({ withTimezone: true }).notNull().defaultNow(),
    version: integer().notNull().default(1),
  },
  (t) => [index('awards_project_idx').on(t.projectId, t.lotId)],
);

/** A milestone of a contract; `met` when its delivery is confirmed. */
export interface MilestoneData {
  id: string;
  title: string;
  dueDate: string;
  /** Payment due when it is met, in whole yuan. */
  value: number;
  status: 'scheduled' | 'met';
  dateMet: string | null;
}

/** A signed contract (合同) of an award. */
export const contracts = procurementSchema.table(
  'contracts',
  {
    id: uuid().primaryKey().defaultRandom(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    awardId: uuid('award_id').notNull().unique().references(() => awards.id),
    supplierId: uuid('supplier_id').notNull().references(() => kernelTables.suppliers.id),
    title: text().notNull(),
    value: integer().notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }).notNull(),
    /** active | terminated (OCDS contractStatus) */
    status: text().notNull(),
    milestones: jsonb().$type<MilestoneData[]>().notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer().notNull().default(1),
  },
  (t) => [index('contracts_project_idx').on(t.projectId)],
);

/** A call-off (框架协议下单) under a framework contract: a kernel order. */
export const callOffs = procurementSchema.table(
  'call_offs',
  {
    id: uuid().primaryKey().defaultRandom(),
    contractId: uuid('contract_id').notNull().references(() => contracts.id),
    orderId: uuid('order_id').notNull().references(() => kernelTables.orders.id),
    cost: integer().notNull(),
    /** The call-off's own OCDS release (a contracting process of its own, related to the framework's), frozen when placed. */
    release: jsonb().$type<Record<string, unknown>>(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('call_offs_contract_idx').on(t.contractId)],
);

/** An OCDS release, frozen when its stage happened (OCDS releases are immutable). */
export const releases = procurementSchema.table(
  'releases',
  {
    projectId: uuid('project_id').notNull().references(() => projects.id),
    seq: integer().notNull(),
    tag: text().notNull(),
    date: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** The release without `ocid` and `id` (the prefix is configuration, filled in at read). */
    body: jsonb().$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.seq] })],
);

/** A file uploaded to a project (kernel file storage), for its documents' `fileId`. */
export const projectFiles = procurementSchema.table(
  'project_files',
  {
    /** The kernel's stored-file id. */
    fileId: uuid('file_id').primaryKey(),
    projectId: uuid('project_id').notNull().references(() => projects.id),
    /** SHA-256 of uploader, project and the upload's `Idempotency-Key`: a retry finds its first upload. */
    uploadKey: text('upload_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('project_files_project_idx').on(t.projectId), uniqueIndex('project_files_upload_key_idx').on(t.uploadKey)],
);
