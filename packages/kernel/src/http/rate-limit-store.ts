import { createHash } from 'node:crypto';
import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import { prepareRows, queryRows, type Database } from '../db/database.js';

/** What `@fastify/rate-limit` asks of a store (at run time it also passes the window, in ms). */
interface RateLimitStore {
  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow?: number): void;
  child(routeOptions: unknown): RateLimitStore;
}

/** How often one process deletes windows that have ended. */
const SWEEP_EVERY_MS = 60_000;

/**
 * A `@fastify/rate-limit` store kept in PostgreSQL (`kernel.rate_limits`), so a limit
 * holds across every process of a deployment rather than per process: one upsert per
 * request counts the hit in the client's current window, on the database's clock.
 * Works on PGlite too. Keys are stored hashed. Supports fixed windows only (the
 * plugin's `continueExceeding` and `exponentialBackoff` are not used by the kernel).
 */
export function postgresRateLimitStore(db: Database): FastifyRateLimitStoreCtor {
  const hit = prepareRows<{ hits: number; ttl: number }>(
    db,
    'kernel.rate-limit-hit',
    sql`insert into kernel.rate_limits as r (key, hits, window_start, expires_at)
      select ${sql.placeholder('key')}, 1, t.now, t.now + ${sql.placeholder('window')}::bigint
      from (select (extract(epoch from statement_timestamp()) * 1000)::bigint as now) t
      on conflict (key) do update set
        hits = case when r.expires_at <= excluded.window_start then 1 else r.hits + 1 end,
        window_start = case when r.expires_at <= excluded.window_start then excluded.window_start else r.window_start end,
        expires_at = case when r.expires_at <= excluded.window_start then excluded.expires_at else r.expires_at end
      returning hits, (r.expires_at - (extract(epoch from statement_timestamp()) * 1000)::bigint)::int as ttl`,
  );
  let lastSweep = 0;
  const sweep = () => {
    const now = Date.now();
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    queryRows(db, sql`delete from kernel.rate_limits where expires_at < (extract(epoch from statement_timestamp()) * 1000)::bigint`).catch(() => {
      lastSweep = 0; // try again on a later hit
    });
  };

  class PostgresStore implements RateLimitStore {
    private readonly prefix: string;
    // The plugin constructs the store with its options; children pass their route.
    constructor(prefix: unknown = '') {
      this.prefix = typeof prefix === 'string' ? prefix : '';
    }

    incr(key: string, callback: Parameters<RateLimitStore['incr']>[1], timeWindow = 60_000): void {
      const hashed = createHash('sha256').update(`${this.prefix}\u0000${key}`).digest('base64url');
      hit({ key: hashed, window: Math.max(1, Math.round(timeWindow)) }).then(
        ([row]) => {
          callback(null, { current: row!.hits, ttl: Math.max(0, row!.ttl) });
          sweep();
        },
        (error: Error) => callback(error),
      );
    }

    child(routeOptions: unknown): RateLimitStore {
      const route = (routeOptions as { routeInfo?: { method?: string; url?: string } }).routeInfo;
      return new PostgresStore(`${this.prefix}${route?.method ?? ''} ${route?.url ?? ''}`);
    }
  }
  return PostgresStore as unknown as FastifyRateLimitStoreCtor;
}
