import { date, index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema, regions } from '../core/schema.js';
import { products } from '../products/schema.js';
import { suppliers } from '../suppliers/schema.js';
import { units } from '../units/schema.js';
import { venues } from '../venues/schema.js';

/**
 * Orders (点单): a unit orders a listed product for a date window at a venue. The
 * order keeps the product's content version and cost as they were when ordered, and
 * the approval chain (region codes, nearest first) fixed when it was submitted.
 */
export const orders = kernelSchema.table(
  'orders',
  {
    id: uuid().primaryKey().defaultRandom(),
    unitId: uuid('unit_id')
      .notNull()
      .references(() => units.id),
    /** The ordering unit's region: whose budget pays and whose staff may act. */
    regionCode: text('region_code')
      .notNull()
      .references(() => regions.code),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id),
    productContentVersion: integer('product_content_version').notNull(),
    supplierId: uuid('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    venueId: uuid('venue_id')
      .notNull()
      .references(() => venues.id),
    windowStart: date('window_start').notNull(),
    windowEnd: date('window_end').notNull(),
    expectedAudience: integer('expected_audience').notNull(),
    cost: integer().notNull(),
    budgetYear: integer('budget_year').notNull(),
    status: text().notNull().default('draft'),
    approvalChain: text('approval_chain').array().notNull().default([]),
    approvedSteps: integer('approved_steps').notNull().default(0),
    /** Cost currently reserved in the budget (0 or `cost`). */
    reservedAmount: integer('reserved_amount').notNull().default(0),
    scheduledOn: date('scheduled_on'),
    rejectionReason: text('rejection_reason'),
    cancellationReason: text('cancellation_reason'),
    version: integer().notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('orders_region_idx').on(t.regionCode, t.id),
    index('orders_supplier_idx').on(t.supplierId, t.id),
    index('orders_status_idx').on(t.status, t.id),
  ],
);

/** The delivery report (配送报告) of a delivered order. */
export const deliveries = kernelSchema.table('deliveries', {
  orderId: uuid('order_id')
    .primaryKey()
    .references(() => orders.id),
  deliveredOn: date('delivered_on').notNull(),
  actualAudience: integer('actual_audience').notNull(),
  notes: text().notNull().default(''),
  photos: text().array().notNull().default([]),
  reportedBy: text('reported_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
