import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, smallint, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/**
 * What the kernel knows of each background job besides what pg-boss keeps (schema
 * `pgboss`): who sent it and for which region (for "owner or administrator within
 * scope"), its progress, and a mirror of its state, attempts, result and error kept by
 * the runner's handler wrapper, so `GET /v1/jobs` is one query on this table. The id is
 * pg-boss's job id. A row outlives pg-boss's own copy (which pg-boss deletes after a
 * week); durable event deliveries have no row.
 */
export const jobs = kernelSchema.table(
  'jobs',
  {
    id: uuid().primaryKey(),
    /** `<plugin>.<job name>`: pg-boss's queue. */
    queue: text().notNull(),
    /** The plugin that defined the job. */
    plugin: text().notNull(),
    state: text().notNull().default('queued'),
    progress: smallint().notNull().default(0),
    message: text(),
    result: jsonb(),
    error: text(),
    attempts: integer().notNull().default(0),
    /** The sender's user id; null for the platform's own jobs (schedules, system). */
    ownerId: text('owner_id'),
    /** The sender's home region path; null when the job belongs to the whole platform. */
    regionPath: text('region_path'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check('jobs_state_check', sql`${t.state} in ('queued', 'active', 'retry', 'completed', 'failed', 'cancelled')`),
    check('jobs_progress_check', sql`${t.progress} between 0 and 100`),
    index('jobs_created_idx').on(t.createdAt, t.id),
    index('jobs_owner_idx').on(t.ownerId, t.createdAt, t.id),
    index('jobs_region_idx').on(sql`${t.regionPath} collate "C"`, t.createdAt, t.id),
  ],
);
