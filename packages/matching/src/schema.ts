import { index, integer, jsonb, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything matching stores lives in its own Postgres schema. */
export const matchingSchema = pgSchema('matching');

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

/** Which plan an order came from (shown as the order's `extensions.matching`). */
export const planOrders = matchingSchema.table('plan_orders', {
  orderId: uuid('order_id').primaryKey(),
  planId: uuid('plan_id').notNull().references(() => plans.id),
  demandId: text('demand_id').notNull(),
});

/** A residents' ballot over a street's own budget: approval voting over library products. */
export const ballots = matchingSchema.table(
  'ballots',
  {
    id: uuid().primaryKey().defaultRandom(),
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    regionPath: text('region_path').notNull(),
    title: text().notNull(),
    budget: integer().notNull(),
    /** `[{ productId, sessions, cost, title, category }]`: the cost is fixed when the ballot is drafted. */
    options: jsonb().notNull(),
    /** The rule's parameters; locked once voting opens. */
    rule: jsonb().notNull(),
    status: text().notNull(),
    result: jsonb(),
    version: integer().notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    openedAt: timestamp('opened_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [index('ballots_path').on(t.regionPath)],
);

/** One resident's approvals; the voter is a keyed hash (never the identifier itself). */
export const ballotVotes = matchingSchema.table(
  'ballot_votes',
  {
    id: uuid().primaryKey().defaultRandom(),
    ballotId: uuid('ballot_id').notNull().references(() => ballots.id),
    voterHash: text('voter_hash').notNull(),
    groupKey: text('group_key').notNull(),
    approvals: jsonb().notNull(),
    recordedBy: text('recorded_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('ballot_votes_voter').on(t.ballotId, t.voterHash)],
);

