import { index, pgSchema, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything this plugin stores lives in its own Postgres schema. */
export const noticeBoardSchema = pgSchema('notice_board');

/** A notice (公告) posted for one region. */
export const notices = noticeBoardSchema.table(
  'notices',
  {
    id: serial().primaryKey(),
    regionCode: text('region_code').notNull().references(() => kernelTables.regions.code),
    body: text().notNull(),
    /** Who posted it: a user's `sub`, or `system:<plugin>`. */
    postedBy: text('posted_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('notices_region_idx').on(t.regionCode, t.id)],
);
