import { index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema, populationGroups } from '../core/schema.js';
import { orders } from '../orders/schema.js';

/**
 * Single-use feedback tokens of a delivery. Only the sha256 of a token is stored; the
 * token itself is handed to citizens (a link or QR code) once, when minted.
 */
export const feedbackTokens = kernelSchema.table(
  'feedback_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('feedback_tokens_order_idx').on(t.orderId)],
);

/** Citizens' feedback (群众评价) on a delivery: anonymous, one per token. */
export const feedback = kernelSchema.table(
  'feedback',
  {
    id: uuid().primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    rating: integer().notNull(),
    content: integer(),
    performance: integer(),
    organisation: integer(),
    comment: text(),
    respondentGroup: text('respondent_group').references(() => populationGroups.key),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('feedback_order_idx').on(t.orderId)],
);
