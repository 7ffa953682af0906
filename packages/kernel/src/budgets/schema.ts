import { bigint, integer, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { kernelSchema, regions } from '../core/schema.js';

/**
 * Yearly budgets per region (配送经费), in whole yuan. A region's money is
 * `allocated`; of it, some is passed down to children (their `allocated`), some is
 * `reserved` by approved orders, some `spent` by delivered ones.
 */
export const budgets = kernelSchema.table(
  'budgets',
  {
    regionCode: text('region_code')
      .notNull()
      .references(() => regions.code),
    year: integer().notNull(),
    allocated: bigint({ mode: 'number' }).notNull(),
    reserved: bigint({ mode: 'number' }).notNull().default(0),
    spent: bigint({ mode: 'number' }).notNull().default(0),
    version: integer().notNull().default(1),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.regionCode, t.year] })],
);
