import { PGlite } from '@electric-sql/pglite';
import type { SQLWrapper } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT, type PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { prepareEmbeddedStart, type DatabaseLog, type EmbeddedStart } from './pglite-image.js';

/**
 * The one drizzle handle type services use, whichever driver is underneath.
 * Inside a transaction use the `tx` you are given, never the outer handle: PGlite
 * runs one statement at a time, so an outer call would wait for the transaction
 * that is waiting for it.
 */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
/** A transaction handle; it has the same query API as `Database`. */
export type Transaction = PgTransaction<PgQueryResultHKT, Record<string, unknown>>;
/** Either a database or a transaction, for functions that work inside or outside one. */
export type Executor = Database | Transaction;

/** Where the data lives. `url` (postgres://…) wins over `dataDir`. */
export interface DatabaseConfig {
  /** A PostgreSQL connection string; when set, postgres.js is used. */
  url?: string | undefined;
  /** PGlite data folder; `memory://` (the default) keeps everything in memory. */
  dataDir?: string | undefined;
  /** Pool size for postgres.js (default 10). */
  maxConnections?: number | undefined;
  /**
   * PGlite only: start from this dump of a data folder (made by PGlite's
   * `dumpDataDir()`) instead of running initdb, which takes seconds. Used by
   * `@diandan/testing` to make each throw-away database quick to create.
   */
  initialData?: Blob | undefined;
  /**
   * PGlite only: the prepared image (`.tar.gz`) an empty or missing data folder starts
   * from instead of running initdb. Default: the one the kernel's build ships in
   * `dist/pglite-image.tar.gz`, when the installed PGlite version made it; `false`
   * always runs initdb. A folder that holds a database is never touched.
   */
  pgliteImage?: string | false | undefined;
}

/** How `openDatabase` reports what it did (PGlite: image or initdb, and why). */
export interface OpenDatabaseOptions {
  readonly log?: DatabaseLog | undefined;
}

/** An open database connection with its lifecycle. */
export interface DatabaseConnection {
  readonly db: Database;
  readonly driver: 'pglite' | 'postgres';
  /** Resolves when a trivial query succeeds; rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Subscribes to a Postgres NOTIFY channel (on its own connection with postgres.js);
   * resolves to a function that unsubscribes. Notifications sent inside a transaction
   * arrive when it commits, in every process listening. `onListen` runs whenever the
   * subscription is (re)established: notifications sent while it was down are lost.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens the database described by `config`. PGlite is single-connection: it runs
 * every query and transaction through one internal queue, so concurrent requests
 * are serialised rather than interleaved (see `docs/architecture.md`).
 */
export async function openDatabase(config: DatabaseConfig = {}, options: OpenDatabaseOptions = {}): Promise<DatabaseConnection> {
  if (config.url) return openPostgres(config.url, config.maxConnections ?? 10);
  return openPglite(config, options.log ?? silent);
}

const silent: DatabaseLog = { info: () => {}, warn: () => {} };

async function openPglite(config: DatabaseConfig, log: DatabaseLog): Promise<DatabaseConnection> {
  const dataDir = config.dataDir ?? 'memory://';
  let client: PGlite;
  try {
    // An empty folder starts from the prepared image rather than initdb (pglite-image.ts).
    const start: EmbeddedStart = config.initialData
      ? { options: { loadDataDir: config.initialData } }
      : await prepareEmbeddedStart(dataDir, config.pgliteImage, log);
    client = await PGlite.create(dataDir, start.options);
    await start.afterOpen?.(client).catch(async (error: unknown) => {
      await client.close();
      throw error;
    });
  } catch (cause) {
    throw new DiandanStartupError(
      StartupErrorCodes.DATABASE_UNREACHABLE,
      `Cannot open the embedded PGlite database at "${dataDir}": ${(cause as Error).message}`,
      { cause },
    );
  }
  const db = drizzlePglite({ client }) as unknown as Database;
  return {
    db,
    driver: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    listen: async (channel, onNotify) => {
      const unlisten = await client.listen(channel, onNotify);
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

async function openPostgres(url: string, max: number): Promise<DatabaseConnection> {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
  });
  const db = drizzlePostgres({ client }) as unknown as Database;
  try {
    await client`select 1`;
  } catch (cause) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw new DiandanStartupError(
      StartupErrorCodes.DATABASE_UNREACHABLE,
      `Cannot connect to PostgreSQL at ${redact(url)}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return {
    db,
    driver: 'postgres',
    ping: async () => {
      await client`select 1`;
    },
    listen: async (channel, onNotify, onListen) => {
      const subscription = await client.listen(channel, onNotify, onListen);
      return () => subscription.unlisten();
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** Hides the password of a connection string for messages and logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid connection string>';
  }
}

/**
 * Runs a raw statement and returns its rows, papering over the drivers' different
 * result shapes (postgres.js returns an array, PGlite an object with `rows`).
 */
export async function queryRows<T extends Record<string, unknown>>(db: Executor, query: SQLWrapper): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

const dialect = new PgDialect();

/**
 * Prepares a raw statement once and returns a function that runs it with values for
 * its `sql.placeholder(name)`s. The text is built once, and on PostgreSQL it is parsed
 * and planned once per connection: each run is then a single round trip. (drizzle
 * leaves ad-hoc queries unprepared, and postgres.js then asks the server for the
 * parameter types before every run — two round trips.) For hot statements; `name`
 * must be unique per statement.
 */
export function prepareRows<T extends Record<string, unknown>>(
  db: Executor,
  name: string,
  query: SQLWrapper,
): (values: Record<string, unknown>) => Promise<T[]> {
  const prepared = db._.session.prepareQuery(dialect.sqlToQuery(query.getSQL()), undefined, name, false);
  return async (values) => rowsOf<T>(await prepared.execute(values));
}

function rowsOf<T>(result: unknown): T[] {
  const r = result as T[] | { rows: T[] };
  return Array.isArray(r) ? r : r.rows;
}

/** Postgres error codes worth retrying a whole transaction for. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/**
 * Runs `work` in one transaction: everything or nothing is written. Serialization
 * failures and deadlocks (possible on Postgres under `serializable` or with row
 * locks taken in different orders) are retried a few times with a short back-off.
 */
export async function transaction<T>(
  db: Database,
  work: (tx: Transaction) => Promise<T>,
  options: { isolation?: 'read committed' | 'repeatable read' | 'serializable'; retries?: number } = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(work, options.isolation ? { isolationLevel: options.isolation } : undefined);
    } catch (error) {
      const code = pgErrorCode(error);
      if (attempt >= retries || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 5));
    }
  }
}

/** The SQLSTATE of a driver error, looking through drizzle's wrapping. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let e: any = error; e; e = e.cause) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

