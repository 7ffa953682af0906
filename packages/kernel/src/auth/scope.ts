import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Actor } from './actor.js';

/*
 * Region scope (辖区), in one place. A record belongs to the region whose materialised
 * path (`440100/440103/440103001/`) it carries; an actor may see and act on it when
 * that path lies in the actor's home subtree, i.e. starts with the actor's own path.
 * `inScope` is the rule for a path in hand, `withinScope` the same rule as SQL, so
 * lists never read out-of-scope rows. Out-of-scope records answer as if absent (404).
 */

/** True when a record whose region has path `path` lies in the actor's subtree. */
export function inScope(actor: Pick<Actor, 'regionPath'>, path: string): boolean {
  return path.startsWith(actor.regionPath);
}

/** SQL condition: the region path in `pathColumn` lies in the actor's subtree. */
export function withinScope(pathColumn: AnyPgColumn | SQL, actor: Pick<Actor, 'regionPath'>): SQL {
  return sql`${pathColumn} collate "C" like ${`${actor.regionPath.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`;
}
