import { AsyncLocalStorage } from 'node:async_hooks';
import { PGlite } from '@electric-sql/pglite';
import { fillPlaceholders, type SQLWrapper } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT, type PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type postgres from 'postgres';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { DatabaseUnavailableError } from './availability.js';
import { DatabaseHealth, withTimeout } from './health.js';
import { migrationHashes, prepareEmbeddedStart, type DatabaseLog, type EmbeddedStart } from './pglite-image.js';
import type { MigrationSource } from './migrate.js';

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
   * PostgreSQL only: `statement_timeout` of every pooled connection, in ms (default
   * 30000; 0 turns it off). A statement running longer is cancelled by the server.
   */
  statementTimeoutMs?: number | undefined;
  /**
   * PostgreSQL only: how long opening one connection may take, in ms (default 2000).
   * While the database is down, requests fail within about this long.
   */
  connectTimeoutMs?: number | undefined;
  /**
   * PGlite only: start from this dump of a data folder (made by PGlite's
   * `dumpDataDir()`) instead of running initdb, which takes seconds. Used by
   * `@diandan/testing` to make each throw-away database quick to create.
   */
  initialData?: Blob | undefined;
  /**
   * PGlite only: the prepared image (`.tar.gz`) an empty or missing data folder starts
   * from instead of running initdb. Default: the blank one the kernel's build ships in
   * `dist/pglite-image.tar.gz`, when the installed PGlite version made it. A
   * deployment's own image (`buildPgliteImage(file, { migrations })`) already holds its
   * migrations; when it cannot be used (missing, another PGlite version, other
   * migrations) the kernel's is, with the reason logged. `false` always runs initdb. A
   * folder that holds a database is never touched.
   */
  pgliteImage?: string | false | undefined;
}

/** How `openDatabase` reports what it did (PGlite: image or initdb, and why). */
export interface OpenDatabaseOptions {
  readonly log?: DatabaseLog | undefined;
  /**
   * PGlite: the migrations the deployment will apply. A configured `pgliteImage` that
   * holds other migrations is then not used (the kernel's blank image is).
   */
  readonly migrations?: readonly MigrationSource[] | undefined;
}

/** An open database connection with its lifecycle. */
export interface DatabaseConnection {
  readonly db: Database;
  readonly driver: 'pglite' | 'postgres';
  /**
   * Resolves when a trivial query succeeds; rejects otherwise — at once while the
   * database is known to be down, and after `timeoutMs` (default 1000) at the latest.
   */
  ping(options?: { timeoutMs?: number }): Promise<void>;
  /** False while the database is known to be unreachable (PostgreSQL; PGlite is always true). */
  readonly available: boolean;
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
  const connection = config.url ? await openPostgres(config.url, config) : await openPglite(config, options.log ?? silent, options.migrations);
  guardOuterHandle(connection.db);
  return connection;
}

/** The clients whose transaction the current async context is inside. */
const openTransactions = new AsyncLocalStorage<ReadonlySet<object>>();

/** Thrown when the outer database handle is used inside one of its own transactions. */
export class OuterHandleInTransactionError extends Error {
  override readonly name = 'OuterHandleInTransactionError';
  readonly code = 'DIANDAN_ERR_OUTER_HANDLE_IN_TRANSACTION';
  constructor() {
    super(
      'The outer database handle was used while a transaction of it is open in the same call chain. ' +
        'Pass the transaction you were given (`tx`) instead: on PGlite the outer call would wait for the transaction, ' +
        'which waits for it, for ever; on PostgreSQL it would run outside the transaction and could deadlock on its locks.',
    );
  }
}

/**
 * Makes the outer handle refuse queries issued from inside one of its own
 * transactions (same async call chain) with `OuterHandleInTransactionError`, instead
 * of hanging on PGlite. Both drivers: PGlite's `query`/`exec`/`transaction` and
 * postgres.js's `unsafe`/`begin` are what drizzle's outer session calls; the
 * transaction's own queries go through the transaction's client and are unaffected.
 */
function guardOuterHandle(db: Database): void {
  const client = (db as unknown as { $client: Record<string, unknown> }).$client;
  const [queries, begin] = client instanceof PGlite ? [['query', 'exec', 'sql'], 'transaction'] : [['unsafe'], 'begin'];
  const check = () => {
    if (openTransactions.getStore()?.has(client)) throw new OuterHandleInTransactionError();
  };
  for (const name of [...queries, begin]) {
    const original = client[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    client[name] =
      name === begin
        ? (...args: unknown[]) => {
            check();
            const work = args[args.length - 1] as (tx: unknown) => unknown;
            const inside = new Set([...(openTransactions.getStore() ?? []), client]);
            args[args.length - 1] = (tx: unknown) => openTransactions.run(inside, () => work(tx));
            return original.apply(client, args);
          }
        : (...args: unknown[]) => {
            check();
            return original.apply(client, args);
          };
  }
}

const silent: DatabaseLog = { info: () => {}, warn: () => {} };

async function openPglite(config: DatabaseConfig, log: DatabaseLog, migrations: readonly MigrationSource[] | undefined): Promise<DatabaseConnection> {
  const dataDir = config.dataDir ?? 'memory://';
  let client: PGlite;
  try {
    // An empty folder starts from the prepared image rather than initdb (pglite-image.ts).
    const start: EmbeddedStart = config.initialData
      ? { options: { loadDataDir: config.initialData } }
      : await prepareEmbeddedStart(dataDir, config.pgliteImage, log, { migrations: migrations && migrationHashes(migrations) });
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
    available: true,
    ping: async ({ timeoutMs = 1000 } = {}) => {
      if (client.closed) throw new DatabaseUnavailableError('The database is closed');
      await withTimeout(client.query('select 1'), timeoutMs);
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

/** Defaults of the PostgreSQL connection settings (see `DatabaseConfig`). */
export const POSTGRES_DEFAULTS = Object.freeze({ maxConnections: 10, statementTimeoutMs: 30_000, connectTimeoutMs: 2_000 });

/** Longest wait before reconnecting a closed connection (postgres.js's own grows to 20 s). */
const MAX_RECONNECT_DELAY_S = 0.5;
/** How often a down database is probed. */
const PROBE_INTERVAL_MS = 250;

async function openPostgres(url: string, config: DatabaseConfig): Promise<DatabaseConnection> {
  const connectTimeoutMs = config.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs;
  const statementTimeoutMs = config.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs;
  // Loaded here, not at the top: an embedded (PGlite) deployment never needs postgres.js.
  const [{ default: connect }, { drizzle: drizzlePostgres }] = await Promise.all([import('postgres'), import('drizzle-orm/postgres-js')]);
  const client = connect(url, {
    max: config.maxConnections ?? POSTGRES_DEFAULTS.maxConnections,
    onnotice: () => {},
    connect_timeout: connectTimeoutMs / 1000,
    // postgres.js waits `backoff(failures)` seconds before reconnecting a connection
    // that closed after an error, growing to 20 s: a query arriving after an outage
    // would wait that long. Start small and stay under half a second.
    backoff: (failures: number) => Math.min(0.02 * 2 ** failures, MAX_RECONNECT_DELAY_S) * (0.5 + Math.random() / 2),
    ...(statementTimeoutMs > 0 ? { connection: { statement_timeout: statementTimeoutMs } } : {}),
  });
  const probe = async () => {
    await client`select 1`;
  };
  const health = new DatabaseHealth(probe, { probeIntervalMs: PROBE_INTERVAL_MS, probeTimeoutMs: connectTimeoutMs });
  guard(client, health);
  healthOf.set(client, health);
  const db = drizzlePostgres({ client }) as unknown as Database;
  try {
    await probe();
  } catch (cause) {
    health.close();
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
    get available() {
      return health.available;
    },
    ping: async ({ timeoutMs = 1000 } = {}) => {
      health.check();
      try {
        await withTimeout(probe(), timeoutMs);
      } catch (error) {
        health.observe(error);
        throw error;
      }
    },
    listen: async (channel, onNotify, onListen) => {
      const subscription = await client.listen(channel, onNotify, onListen);
      return () => subscription.unlisten();
    },
    close: async () => {
      health.close();
      await client.end({ timeout: 5 });
    },
  };
}

/** Each PostgreSQL client's health, for `transactionBatch` (its reserved connections are not behind `guard`). */
const healthOf = new WeakMap<object, DatabaseHealth>();

/**
 * Puts `health` in front of the client's entry points that drizzle uses (`unsafe`,
 * `begin`): while the database is known to be down they fail at once, and every
 * failure they see tells `health`.
 */
function guard(client: postgres.Sql, health: DatabaseHealth): void {
  const unsafe = client.unsafe.bind(client);
  const begin = client.begin.bind(client) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(client, {
    unsafe: (...args: Parameters<typeof unsafe>) => {
      health.check();
      const query = unsafe(...args) as ReturnType<typeof unsafe> & { reject?: (error: unknown) => void };
      // The driver settles a query through its `reject`; watching it there (rather than
      // with `.then`) leaves the query unstarted until drizzle awaits it.
      const reject = query.reject;
      if (typeof reject === 'function') {
        query.reject = (error: unknown) => {
          health.observe(error);
          reject(error);
        };
      }
      return query;
    },
    begin: (...args: unknown[]) => {
      health.check();
      return begin(...args).catch((error: unknown) => {
        health.observe(error);
        throw error;
      });
    },
  });
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
 * must be unique per statement. Pass a transaction as `on` to run it inside that.
 */
export function prepareRows<T extends Record<string, unknown>>(
  db: Executor,
  name: string,
  query: SQLWrapper,
): PreparedRows<T> {
  const built = dialect.sqlToQuery(query.getSQL());
  const prepared = db._.session.prepareQuery(built, undefined, name, false);
  // `on` runs it in a transaction instead (the text is still built once).
  const run = async (values: Record<string, unknown>, on?: Executor) => rowsOf<T>(await (on ? on._.session.prepareQuery(built, undefined, name, false) : prepared).execute(values));
  return Object.assign(run, { bind: (values: Record<string, unknown>): BoundStatement<T> => ({ name, text: built.sql, params: built.params, values }) });
}

/** A statement of `prepareRows` with its values, for `transactionBatch`. */
export interface BoundStatement<T extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly text: string;
  readonly params: unknown[];
  readonly values: Record<string, unknown>;
  /** Only for typing the rows. */
  readonly rows?: T;
}

/** What `prepareRows` returns: run it (`on` a transaction, if given), or `bind` values for `transactionBatch`. */
export type PreparedRows<T extends Record<string, unknown>> = ((values: Record<string, unknown>, on?: Executor) => Promise<T[]>) & {
  bind(values: Record<string, unknown>): BoundStatement<T>;
};

type RowsOf<S> = { [K in keyof S]: S[K] extends BoundStatement<infer T> ? T[] : never };

/**
 * Runs prepared statements (`prepareRows(…).bind(values)`) in one transaction, sent
 * together: on PostgreSQL, BEGIN, the statements and COMMIT go out on one connection in
 * one write and come back in one round trip, so the rows the transaction locks are held
 * only while the server runs it — never while the client is away (its event loop, the
 * network, a write to the socket per statement). For transactions that decide in SQL what
 * to write: no statement needs an earlier one's result in JavaScript, and nothing is left
 * to decide before the commit. If a statement fails, those after it fail too and the
 * COMMIT rolls back: the first failure is thrown. On PGlite they run one after another in
 * a transaction. Deadlocks and serialization failures are retried as by `transaction`.
 */
export async function transactionBatch<S extends readonly BoundStatement<any>[]>(db: Database, statements: S, options: { retries?: number } = {}): Promise<RowsOf<S>> {
  const client = (db as unknown as { $client: { reserve?: () => Promise<postgres.ReservedSql> } }).$client;
  if (typeof client.reserve !== 'function') {
    return transaction(db, async (tx) => {
      const out: unknown[] = [];
      for (const s of statements) out.push(rowsOf(await tx._.session.prepareQuery({ sql: s.text, params: s.params }, undefined, s.name, false).execute(s.values)));
      return out as RowsOf<S>;
    }, options);
  }
  // As the outer handle refuses (see `guardOuterHandle`): a batch on another connection than
  // the open transaction's could wait for that transaction's locks.
  if (openTransactions.getStore()?.has(client)) throw new OuterHandleInTransactionError();
  const health = healthOf.get(client);
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    health?.check();
    const connection = await client.reserve().catch((error: unknown) => {
      health?.observe(error);
      throw error;
    });
    try {
      // Queries of a reserved connection are sent in the order they are started (here:
      // all at once) and pipelined; each has its own Sync, so after a failure the others
      // run, fail in the aborted transaction (25P02) and the COMMIT answers ROLLBACK.
      const settled = await Promise.allSettled([
        connection.unsafe('begin'),
        ...statements.map((s) => connection.unsafe(s.text, fillPlaceholders(s.params, s.values) as never[], { prepare: true })),
        connection.unsafe('commit'),
      ]);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return settled.slice(1, -1).map((r) => [...(r as PromiseFulfilledResult<Record<string, unknown>[]>).value]) as RowsOf<S>;
    } catch (error) {
      health?.observe(error);
      const code = pgErrorCode(error);
      if (attempt >= retries || !code || !RETRYABLE.has(code)) throw error;
    } finally {
      connection.release();
    }
    await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 5));
  }
}

function rowsOf<T>(result: unknown): T[] {
  const r = result as T[] | { rows: T[] };
  return Array.isArray(r) ? r : r.rows;
}

/** Callbacks to run after a transaction of `transaction()` commits, by transaction. */
const afterCommitCallbacks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `effect` once the transaction `tx` has committed (never if it rolls back): for
 * what must not happen before the change is visible — in-request hook handlers,
 * clearing caches. `tx` must come from `transaction()` (or a service given it); the
 * effect runs after the outermost one commits. Errors thrown by `effect` are the
 * effect's to handle: they are not seen by the transaction's caller.
 */
export function afterCommit(tx: Executor, effect: () => void): void {
  const callbacks = afterCommitCallbacks.get(tx);
  if (!callbacks) {
    throw new Error('afterCommit needs a transaction opened with transaction() from @diandan/kernel, not the database handle or db.transaction()');
  }
  callbacks.push(effect);
}

/** Callbacks to run if a transaction of `transaction()` rolls back, by transaction. */
const afterRollbackCallbacks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `effect` if the transaction `tx` rolls back (never if it commits): for undoing
 * what lives outside the database — an object written to a file store for a row that
 * is now not there. Returns false (and registers nothing) when `tx` was not opened with
 * `transaction()`. Errors thrown by `effect` are ignored.
 */
export function afterRollback(tx: Executor, effect: () => void): boolean {
  const callbacks = afterRollbackCallbacks.get(tx);
  if (!callbacks) return false;
  callbacks.push(effect);
  return true;
}

/**
 * Runs `work` in the caller's transaction when one is given (`tx`), else in a new one
 * from `transaction()`. The calling convention of every service: `(input, { actor, tx })`.
 */
export function withTransaction<T>(db: Database, tx: Transaction | undefined, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return tx ? work(tx) : transaction(db, work);
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
    const callbacks: (() => void)[] = [];
    const undo: (() => void)[] = [];
    try {
      const result = await db.transaction(
        async (tx) => {
          afterCommitCallbacks.set(tx, callbacks);
          afterRollbackCallbacks.set(tx, undo);
          return work(tx);
        },
        options.isolation ? { isolationLevel: options.isolation } : undefined,
      );
      for (const effect of callbacks) {
        try {
          effect();
        } catch {
          // The change has committed; an effect's failure is the effect's to report.
        }
      }
      return result;
    } catch (error) {
      for (const effect of undo) {
        try {
          effect();
        } catch {
          // The transaction is gone either way; an undo's failure is the undo's to report.
        }
      }
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

