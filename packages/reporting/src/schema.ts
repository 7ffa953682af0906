import { index, integer, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything this plugin stores lives in its own Postgres schema. */
export const reportingSchema = pgSchema('reporting');

/**
 * Generated annual service reports (服务年报): one row per generation, with the
 * rendered HTML, the same data as JSON and CSV. A report is immutable once `ready`.
 */
export const reports = reportingSchema.table(
  'reports',
  {
    id: uuid().primaryKey().defaultRandom(),
    regionCode: text('region_code')
      .notNull()
      .references(() => kernelTables.regions.code),
    /** The region's path, for region-scoped reads (`440100/440103/`). */
    regionPath: text('region_path').notNull(),
    year: integer().notNull(),
    locale: text().notNull(),
    /** `queued` → `ready` or `failed`. */
    status: text().notNull().default('queued'),
    jobId: text('job_id'),
    html: text(),
    data: jsonb(),
    csv: text(),
    error: text(),
    requestedBy: text('requested_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('reports_region_idx').on(t.regionPath, t.createdAt)],
);
