import { bigint, index, integer, text } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/**
 * Request counts of rate-limited routes, shared by every process of a deployment: one
 * row per client and route, counting the hits of its current window. The key is a
 * hash of the client address and the route, so no address is stored.
 */
export const rateLimits = kernelSchema.table(
  'rate_limits',
  {
    key: text().primaryKey(),
    hits: integer().notNull(),
    /** When the current window began, ms since the epoch (database clock). */
    windowStart: bigint('window_start', { mode: 'number' }).notNull(),
    /** When the current window ends; rows past it are deleted from time to time. */
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('rate_limits_expires_at').on(t.expiresAt)],
);
