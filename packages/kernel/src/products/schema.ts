import { sql } from 'drizzle-orm';
import { index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { categories, kernelSchema } from '../core/schema.js';
import { suppliers } from '../suppliers/schema.js';

/**
 * Products of the library (产品库). The row holds the current version; every saved
 * version is kept in `product_versions`. `summary` is the short text lists show;
 * the long `description` is read only on a single product.
 */
export const products = kernelSchema.table(
  'products',
  {
    id: uuid().primaryKey().defaultRandom(),
    supplierId: uuid('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    status: text().notNull().default('draft'),
    title: text().notNull(),
    summary: text().notNull(),
    description: text().notNull(),
    category: text()
      .notNull()
      .references(() => categories.key),
    form: text().notNull(),
    targetGroups: text('target_groups').array().notNull(),
    audienceMin: integer('audience_min').notNull(),
    audienceMax: integer('audience_max').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    /** Cost of one session, in whole yuan. */
    costPerSession: integer('cost_per_session').notNull(),
    /** Region codes whose subtrees the product can be delivered to. */
    serviceableRegions: text('serviceable_regions').array().notNull(),
    tags: text().array().notNull(),
    media: jsonb().notNull().default([]),
    rejectionReasons: text('rejection_reasons').array(),
    /** Bumped by every change; the ETag. */
    version: integer().notNull().default(1),
    /** Bumped by every content edit: the version a reviewer lists and an order buys. */
    contentVersion: integer('content_version').notNull().default(1),
    listedAt: timestamp('listed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('products_status_idx').on(t.status, t.id),
    index('products_supplier_idx').on(t.supplierId, t.id),
    index('products_category_idx').on(t.category, t.id),
    index('products_groups_idx').using('gin', t.targetGroups),
    index('products_regions_idx').using('gin', t.serviceableRegions),
    index('products_listed_idx').on(t.id).where(sql`${t.status} = 'listed'`),
  ],
);

/** Every saved content version of a product, as it was. */
export const productVersions = kernelSchema.table(
  'product_versions',
  {
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    contentVersion: integer('content_version').notNull(),
    content: jsonb().notNull(),
    savedBy: text('saved_by').notNull(),
    savedAt: timestamp('saved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.contentVersion] })],
);
