import { bigint, index, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/**
 * Files plugins stored (`ctx.deps.kernel.files`): one row per file, its contents in the
 * deployment's file store under the row's id. `name` is the client's file name, for
 * display only (sanitised, never a path); `content_type` is sniffed from the bytes.
 */
export const files = kernelSchema.table(
  'files',
  {
    id: uuid().primaryKey(),
    /** The plugin that stored it, and that decides who may read it. */
    owner: text().notNull(),
    name: text().notNull(),
    contentType: text('content_type').notNull(),
    size: bigint({ mode: 'number' }).notNull(),
    /** Hex SHA-256 of the contents. */
    sha256: text().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('files_owner_idx').on(t.owner, t.createdAt), index('files_sha256_idx').on(t.sha256)],
);
