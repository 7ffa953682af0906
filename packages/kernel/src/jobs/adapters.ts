/*
 * pg-boss's database, built on the kernel's own connection: pg-boss never opens a pool
 * of its own (its bundled `pg` stays unused). pg-boss talks to a database through one
 * method, `executeSql(text, values)`, plus an optional `listen`:
 *
 * - PGlite: pg-boss's own `fromPglite` adapter, on the kernel's PGlite instance, so
 *   pg-boss's statements join the one queue every kernel query goes through (a poll
 *   waits behind an open transaction instead of interleaving with it). Statements with
 *   values go through `query`; scripts without values (pg-boss's `BEGIN; …; COMMIT;`
 *   maintenance and schema installation) through `exec`, with the rows of every
 *   statement concatenated.
 * - PostgreSQL: the kernel's postgres.js client. `unsafe(text, values)` runs a statement
 *   with values on the extended protocol; `unsafe(text)` without values uses the simple
 *   protocol, which accepts several statements and answers one result per statement
 *   (flattened here). postgres.js refuses a `BEGIN` on a pooled connection, so a script
 *   that opens a transaction runs on one reserved connection, and is rolled back before
 *   that connection goes back to the pool if it fails half-way.
 * - A transaction (sends and durable deliveries written with the change): pg-boss's
 *   `fromDrizzle` on the caller's drizzle transaction, both drivers.
 *
 * The kernel's postgres.js client is shared with drizzle, which switches off
 * postgres.js's serialisation of dates and JSON and its parsing of timestamps (drizzle
 * maps them itself). pg-boss expects node-postgres's conventions — it binds `Date`s and
 * objects and reads `Date`s back — so values are serialised here as node-postgres would
 * (dates as ISO text, objects as JSON text) and timestamp columns parsed back to `Date`s.
 */
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, type Db } from 'pg-boss';
import type { Sql } from 'postgres';
import type { DatabaseConnection, Transaction } from '../db/database.js';

/** The schema pg-boss installs its tables and functions in (the kernel's own are in `kernel`). */
export const PGBOSS_SCHEMA = 'pgboss';

const STARTS_TRANSACTION = /^\s*BEGIN\b/i;
// timestamptz, timestamp
const TIMESTAMP_TYPES = new Set([1184, 1114]);

/** pg-boss's database on the kernel's connection (outside any transaction). */
export function bossDatabase(connection: DatabaseConnection): Db {
  const client = (connection.db as unknown as { $client: unknown }).$client;
  if (connection.driver === 'pglite') return fromPglite(client as PGlite);
  return postgresDatabase(client as Sql, connection.listen);
}

/** pg-boss's database inside `tx`: what it writes commits or rolls back with the transaction. */
export function transactionDatabase(tx: Transaction): Db {
  const inner = fromDrizzle(tx as never, sql as never);
  return { executeSql: (text, values) => inner.executeSql(text, values?.map(toParameter)) };
}

function postgresDatabase(client: Sql, listen: DatabaseConnection['listen']): Db {
  return {
    async executeSql(text, values) {
      const parameters = values?.length ? (values.map(toParameter) as never[]) : undefined;
      const run = (target: Sql) => (parameters ? target.unsafe(text, parameters) : target.unsafe(text));
      if (!STARTS_TRANSACTION.test(text)) return { rows: rowsOf(await run(client)) };
      const reserved = await client.reserve();
      try {
        return { rows: rowsOf(await run(reserved)) };
      } catch (error) {
        await reserved.unsafe('rollback').catch(() => {});
        throw error;
      } finally {
        reserved.release();
      }
    },
    async listen(channel, onNotification, onReconnect) {
      const unlisten = await listen(channel, onNotification, onReconnect);
      return { close: unlisten };
    },
  };
}

/** A value as node-postgres would bind it. Arrays stay arrays (pg-boss binds `uuid[]`s), with their elements converted. */
function toParameter(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toParameter);
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) return JSON.stringify(value);
  return value;
}

type Result = Record<string, unknown>[] & { columns?: readonly { name: string; type: number }[] };

/** The rows of one statement, or of every statement of a script, with timestamps as `Date`s. */
function rowsOf(result: unknown): Record<string, unknown>[] {
  const results = result as Result | Result[];
  const statements = results.length > 0 && results.some((r) => Array.isArray(r)) ? (results as Result[]) : [results as Result];
  return statements.flatMap((statement) => {
    const timestamps = (statement.columns ?? []).filter((c) => TIMESTAMP_TYPES.has(c.type)).map((c) => c.name);
    const rows = [...statement];
    for (const row of timestamps.length ? rows : []) {
      for (const name of timestamps) {
        const v = row[name];
        if (typeof v === 'string') row[name] = new Date(v);
      }
    }
    return rows;
  });
}
