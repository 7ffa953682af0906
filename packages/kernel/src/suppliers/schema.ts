import { integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/** Kinds of cultural supplier (文化供应商) the source texts name. */
export const SUPPLIER_KINDS = ['troupe', 'enterprise', 'folk-institution', 'social-organisation', 'individual-artist'] as const;

/** Whether a supplier may be ordered from. The supplier-registry package adds its review workflow. */
export const SUPPLIER_STATUSES = ['active', 'suspended'] as const;

/**
 * The minimal supplier record products and orders point at. The supplier-registry
 * package extends it (applications, review, ratings) through the plugin contract.
 */
export const suppliers = kernelSchema.table('suppliers', {
  id: uuid().primaryKey().defaultRandom(),
  name: text().notNull(),
  kind: text().notNull(),
  status: text().notNull().default('active'),
  version: integer().notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
