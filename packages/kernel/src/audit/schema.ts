import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, text, timestamp } from 'drizzle-orm/pg-core';
import { kernelSchema } from '../core/schema.js';

/**
 * Append-only record of every state change (审计日志). A trigger (migration
 * `0002_audit_append_only`) refuses UPDATE and DELETE, so not even a bug can rewrite
 * history. `region_path` is the changed record's region, for region-scoped reads.
 */
export const auditLog = kernelSchema.table(
  'audit_log',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
    actorId: text('actor_id').notNull(),
    actorRoles: text('actor_roles').array().notNull(),
    actorRegion: text('actor_region'),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    action: text().notNull(),
    regionCode: text('region_code'),
    regionPath: text('region_path'),
    before: jsonb(),
    after: jsonb(),
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_log_entity_idx').on(t.entityType, t.entityId, t.id),
    index('audit_log_region_idx').on(sql`${t.regionPath} collate "C"`, t.id),
  ],
);
