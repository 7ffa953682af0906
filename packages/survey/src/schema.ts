import { boolean, date, index, integer, jsonb, pgSchema, primaryKey, real, serial, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { kernelTables } from '@diandan/kernel';

/** Everything the survey package stores lives in its own Postgres schema. */
export const surveySchema = pgSchema('survey');

/** A questionnaire (问卷): settings that are not part of the form, and which version is live. */
export const questionnaires = surveySchema.table(
  'questionnaires',
  {
    id: uuid().primaryKey().defaultRandom(),
    /** The public link's key: random, so questionnaires cannot be enumerated. */
    slug: text().notNull().unique(),
    /** The region that owns it: staff of that subtree manage it. */
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    regionPath: text('region_path').notNull(),
    status: text().notNull(),
    /** The newest definition version (drafts are edited in place until published). */
    currentVersion: integer('current_version').notNull().default(1),
    /** The version the public link serves; null before the first publication. */
    publishedVersion: integer('published_version'),
    opensAt: timestamp('opens_at', { withTimezone: true }),
    closesAt: timestamp('closes_at', { withTimezone: true }),
    targetRegions: text('target_regions').array().notNull().default([]),
    targetGroups: text('target_groups').array().notNull().default([]),
    invitationOnly: boolean('invitation_only').notNull().default(false),
    /** Questions whose results anyone may read (aggregated, small cells suppressed); chosen by staff. */
    publicResults: text('public_results').array().notNull().default([]),
    createdBy: text('created_by').notNull(),
    /** Optimistic concurrency (ETag). */
    version: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('questionnaires_region_idx').on(t.regionPath)],
);

/** Every version of a questionnaire's definition: responses keep theirs. */
export const definitions = surveySchema.table(
  'definitions',
  {
    questionnaireId: uuid('questionnaire_id').notNull().references(() => questionnaires.id, { onDelete: 'cascade' }),
    number: integer().notNull(),
    json: jsonb().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.questionnaireId, t.number] })],
);

/** A quota cell (region × group × age band; null = any) and its completed responses. */
export const quotas = surveySchema.table('quotas', {
  id: serial().primaryKey(),
  questionnaireId: uuid('questionnaire_id').notNull().references(() => questionnaires.id, { onDelete: 'cascade' }),
  regionCode: text('region_code'),
  regionPath: text('region_path'),
  groupKey: text('group_key'),
  ageBand: text('age_band'),
  limit: integer().notNull(),
  completed: integer().notNull().default(0),
});

/**
 * Invitations for one-response-per-person questionnaires: only a keyed hash of the token
 * and whether it was used — no time, no response id, so a response cannot be linked to
 * its invitee.
 */
export const invitations = surveySchema.table(
  'invitations',
  {
    tokenHash: text('token_hash').primaryKey(),
    questionnaireId: uuid('questionnaire_id').notNull().references(() => questionnaires.id, { onDelete: 'cascade' }),
    used: boolean().notNull().default(false),
  },
  (t) => [index('invitations_questionnaire_idx').on(t.questionnaireId)],
);

/**
 * A response (答卷): anonymous. Respondent attributes are coarse (age band, region,
 * group, language); the only time kept is the day. A partial response has a keyed hash
 * of its resume token, cleared on completion.
 */
export const responses = surveySchema.table(
  'responses',
  {
    id: uuid().primaryKey().defaultRandom(),
    questionnaireId: uuid('questionnaire_id').notNull().references(() => questionnaires.id, { onDelete: 'cascade' }),
    definitionVersion: integer('definition_version').notNull(),
    status: text().notNull(),
    answers: jsonb().notNull(),
    regionCode: text('region_code'),
    regionPath: text('region_path'),
    groupKey: text('group_key'),
    ageBand: text('age_band'),
    language: text(),
    /** `online`, `paper` (a CSV import) or `demo` (synthetic demo data). */
    source: text().notNull(),
    resumeTokenHash: text('resume_token_hash').unique(),
    /** The day it was last saved (Asia/Shanghai): no finer time is kept. */
    day: date({ mode: 'string' }).notNull(),
  },
  (t) => [
    index('responses_questionnaire_idx').on(t.questionnaireId, t.status),
    // Byte order ("C"), as the subtree filters (`region_path collate "C" like '440100/440103/%'`) compare: completed responses only, what every aggregate reads.
    index('responses_completed_path_idx').on(sql`${t.regionPath} collate "C"`).where(sql`${t.status} = 'completed'`),
  ],
);

/**
 * A unit's direct demand request (直接点单需求): "Cantonese opera for elderly residents in
 * November", with the audience it expects. It becomes one demand record.
 */
export const demandRequests = surveySchema.table(
  'demand_requests',
  {
    id: uuid().primaryKey().defaultRandom(),
    unitId: uuid('unit_id').notNull().references(() => kernelTables.units.id),
    regionCode: text('region_code').notNull(),
    regionPath: text('region_path').notNull(),
    title: text().notNull(),
    description: text().notNull().default(''),
    groupKey: text('group_key').notNull(),
    category: text().notNull(),
    tags: text().array().notNull().default([]),
    /** `YYYY-MM`. */
    period: text().notNull(),
    expectedAudience: integer('expected_audience').notNull(),
    weight: real().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when the unit (or staff) withdrew it: its demand record is removed then. */
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    withdrawnBy: text('withdrawn_by'),
  },
  (t) => [index('demand_requests_region_idx').on(t.regionPath), index('demand_requests_unit_idx').on(t.unitId)],
);

/**
 * Demand records (需求): what completed responses (and other packages' signals) say is
 * wanted, by region, group, category, tag and month, with a weight.
 */
export const demandRecords = surveySchema.table(
  'demand_records',
  {
    id: serial().primaryKey(),
    /** `survey` (a response), or the plugin that contributed it. */
    source: text().notNull(),
    questionnaireId: uuid('questionnaire_id').references(() => questionnaires.id, { onDelete: 'cascade' }),
    responseId: uuid('response_id').references(() => responses.id, { onDelete: 'cascade' }),
    /** A contributed signal's event id (durable delivery) and its position in it: each is stored once. */
    eventId: text('event_id'),
    seq: integer(),
    regionCode: text('region_code').notNull(),
    regionPath: text('region_path').notNull(),
    groupKey: text('group_key').notNull(),
    category: text().notNull(),
    tags: text().array().notNull().default([]),
    /** `YYYY-MM`. */
    period: text().notNull(),
    weight: real().notNull(),
    /** A unit's direct demand request (source `unit-request`): the request and the unit that asked. */
    requestId: uuid('request_id').references(() => demandRequests.id, { onDelete: 'cascade' }),
    unitId: uuid('unit_id'),
  },
  (t) => [index('demand_records_path_idx').on(sql`${t.regionPath} collate "C"`), uniqueIndex('demand_records_event_idx').on(t.eventId, t.seq), index('demand_records_period_idx').on(t.period)],
);

/** A paper / street-event import (CSV), run as a job. */
export const imports = surveySchema.table('imports', {
  id: uuid().primaryKey().defaultRandom(),
  questionnaireId: uuid('questionnaire_id').notNull().references(() => questionnaires.id, { onDelete: 'cascade' }),
  status: text().notNull(),
  csv: text().notNull(),
  rows: integer().notNull().default(0),
  imported: integer().notNull().default(0),
  errors: jsonb().notNull().default([]),
  jobId: text('job_id'),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** When the retention job cleared the uploaded CSV text (the result and errors stay). */
  csvClearedAt: timestamp('csv_cleared_at', { withTimezone: true }),
});
