import { integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/** Whether a supplier may be ordered from. The supplier-registry package adds its review workflow. */
export const SUPPLIER_STATUSES = ['active', 'suspended'] as const;
export type SupplierStatus = (typeof SUPPLIER_STATUSES)[number];

/**
 * The minimal supplier record products and orders point at. The supplier-registry
 * package extends it (applications, review, ratings) through the plugin contract.
 */
export const suppliers = kernelSchema.table('suppliers', {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  /** One of the deployment's supplier kinds. */
  kind: text().notNull(),
  status: text().notNull().default('active'),
  /** Why the supplier was last suspended or reinstated. */
  statusReason: text('status_reason'),
  /** The problem code new orders of a suspended supplier are refused with (default `SUPPLIER_SUSPENDED`). */
  statusCode: text('status_code'),
  statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
  version: integer().notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
