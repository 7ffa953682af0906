import { doublePrecision, index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema, regions } from '../core/schema.js';

/** Kinds of venue where deliveries take place. */
export const VENUE_KINDS = [
  'culture-centre', // 文化馆
  'library', // 图书馆
  'cultural-station', // 综合文化站
  'community-room', // 社区活动室
  'theatre',
  'square', // 文化广场
  'school-hall',
  'barracks-hall',
  'other',
] as const;

/** Places where deliveries happen: region, kind, capacity, address, coordinates. */
export const venues = kernelSchema.table(
  'venues',
  {
    id: uuid().primaryKey().defaultRandom(),
    regionCode: text('region_code')
      .notNull()
      .references(() => regions.code),
    name: text().notNull(),
    kind: text().notNull(),
    capacity: integer().notNull(),
    address: text().notNull(),
    lat: doublePrecision(),
    lng: doublePrecision(),
    version: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('venues_region_idx').on(t.regionCode, t.id)],
);
