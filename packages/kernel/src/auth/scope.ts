import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Actor } from './actor.js';

/**
 * SQL condition: the region path in `pathColumn` lies in the actor's subtree. Lists
 * use it so that out-of-scope records are never read, not filtered afterwards.
 */
export function withinScope(pathColumn: AnyPgColumn | SQL, actor: Pick<Actor, 'regionPath'>): SQL {
  return sql`${pathColumn} collate "C" like ${`${actor.regionPath}%`}`;
}
