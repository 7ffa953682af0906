import { integer, jsonb, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/**
 * Responses of creating requests sent with an `Idempotency-Key`, per caller and
 * route, so a retry gets the first response instead of a second record.
 */
export const idempotencyKeys = kernelSchema.table(
  'idempotency_keys',
  {
    scope: text().notNull(),
    key: text().notNull(),
    /** sha256 of method, route and body: the same key with another body is refused. */
    fingerprint: text().notNull(),
    status: integer().notNull(),
    response: jsonb().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);
