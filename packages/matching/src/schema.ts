import { index, integer, jsonb, pgSchema, real, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything matching stores lives in its own Postgres schema. */
export const matchingSchema = pgSchema('matching');

/** Demand a unit (or staff over it) posted directly: "we want sessions of this kind, for this group, in this month". */
export const demandRequests = matchingSchema.table(
  'demand_requests',
  {
    id: uuid().primaryKey().defaultRandom(),
    unitId: uuid('unit_id').notNull().references(() => kernelTables.units.id),
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    regionPath: text('region_path').notNull(),
    venueId: uuid('venue_id').references(() => kernelTables.venues.id),
    groupKey: text('group_key').notNull(),
    category: text().notNull(),
    tags: text().array().notNull().default([]),
    period: text().notNull(),
    weight: real().notNull(),
    sessions: integer().notNull(),
    audience: integer(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('demand_requests_path').on(t.regionPath), index('demand_requests_period').on(t.period)],
);

/** A run: the instance (every input after scoring) and, once the job is done, its report. */
export const runs = matchingSchema.table(
  'runs',
  {
    id: uuid().primaryKey().defaultRandom(),
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    regionPath: text('region_path').notNull(),
    status: text().notNull(),
    jobId: text('job_id'),
    options: jsonb().notNull(),
    instance: jsonb().notNull(),
    report: jsonb(),
    error: text(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('runs_path').on(t.regionPath)],
);

/** A plan a run produced: a draft an admin approves, then turns into kernel draft orders. */
export const plans = matchingSchema.table(
  'plans',
  {
    id: uuid().primaryKey().defaultRandom(),
    runId: uuid('run_id').notNull().unique().references(() => runs.id),
    regionCode: text('region_code').notNull(),
    regionPath: text('region_path').notNull(),
    status: text().notNull(),
    allocations: jsonb().notNull(),
    orderIds: jsonb('order_ids').notNull().default([]),
    skipped: jsonb().notNull().default([]),
    version: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    approvedBy: text('approved_by'),
    approvedAt: timestamp('approved_at', { withTimezone: true }),
  },
  (t) => [index('plans_path').on(t.regionPath)],
);

/** Which plan an order came from (the order's `extensions.matching`). */
export const planOrders = matchingSchema.table('plan_orders', {
  orderId: uuid('order_id').primaryKey(),
  planId: uuid('plan_id').notNull().references(() => plans.id),
  demandId: text('demand_id').notNull(),
});
