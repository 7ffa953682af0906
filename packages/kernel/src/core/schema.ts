import { sql } from 'drizzle-orm';
import { type AnyPgColumn, boolean, doublePrecision, index, integer, jsonb, pgSchema, text, timestamp } from 'drizzle-orm/pg-core';

/** The kernel's own Postgres schema; every plugin has one of its own. */
export const kernelSchema = pgSchema('kernel');

/**
 * Regions form one tree per deployment. `path` is the materialised chain of codes
 * from the root (`440100/440103/`), so a subtree is one indexed prefix scan and
 * ancestors need no recursion.
 */
export const regions = kernelSchema.table(
  'regions',
  {
    code: text().primaryKey(),
    parentCode: text('parent_code').references((): AnyPgColumn => regions.code),
    level: text().notNull(),
    depth: integer().notNull(),
    path: text().notNull(),
    name: text().notNull(),
    population: integer(),
    centroidLat: doublePrecision('centroid_lat'),
    centroidLng: doublePrecision('centroid_lng'),
    /** GeoJSON Polygon or MultiPolygon. */
    geometry: jsonb(),
    /** True when the region was invented for demo data, not taken from a real register. */
    synthetic: boolean().notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('regions_parent_idx').on(t.parentCode, t.code),
    // Byte order ("C"): depth-first order by path must not depend on the database's
    // locale, which may ignore '/' when comparing; it also serves `like 'prefix%'`.
    index('regions_path_idx').on(sql`${t.path} collate "C"`),
    index('regions_level_idx').on(t.level, t.code),
  ],
);

/** Population groups (人群): who a product is for and whose share matching protects. */
export const populationGroups = kernelSchema.table('population_groups', {
  key: text().primaryKey(),
  name: text().notNull(),
  nameEn: text('name_en').notNull(),
  description: text(),
  position: integer().notNull(),
  builtin: boolean().notNull(),
  /** False once a deployment stops configuring it; kept because records may point at it. */
  active: boolean().notNull().default(true),
});

/** Product categories (产品类别): performance, exhibition, lecture, … */
export const categories = kernelSchema.table('categories', {
  key: text().primaryKey(),
  name: text().notNull(),
  nameEn: text('name_en').notNull(),
  description: text(),
  position: integer().notNull(),
  builtin: boolean().notNull(),
  /** False once a deployment stops configuring it; kept because records may point at it. */
  active: boolean().notNull().default(true),
});
