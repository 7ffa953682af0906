import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { queryRows, type Database, type Transaction } from './database.js';

/** The schema that keeps one migrations table per plugin. */
export const MIGRATIONS_SCHEMA = 'diandan_migrations';

// Any constant will do; it only has to be the same in every Diandan process.
const MIGRATION_LOCK_KEY = 7_420_301;

/** One plugin's migrations: its name names the bookkeeping table. */
export interface MigrationSource {
  readonly plugin: string;
  /** Folder written by `drizzle-kit generate` (SQL files and `meta/_journal.json`). */
  readonly folder: string;
}

/** What `migrate` did for one plugin. */
export interface MigrationReport {
  readonly plugin: string;
  readonly applied: number;
  readonly total: number;
}

/**
 * Applies every plugin's pending migrations, in the order given (the kernel first,
 * then plugins in dependency order).
 *
 * Each plugin has its own table `diandan_migrations."<plugin>"`, so a plugin added
 * to an existing database later gets all of its migrations, however old. A migration
 * counts as applied when its hash is recorded; re-running is a no-op. Everything runs
 * in one transaction under an advisory lock, so two processes starting at once do not
 * both migrate, and a failing migration leaves the database as it was.
 * Migrations are forward-only: there is no down step.
 */
export async function migrate(db: Database, sources: readonly MigrationSource[]): Promise<MigrationReport[]> {
  const plans = sources.map((source) => ({ source, migrations: read(source) }));
  return db.transaction(async (tx) => {
    // Migrations (an index on a big table) may take longer than the pool's
    // statement_timeout allows a request; waiting for another process's lock too.
    await tx.execute(sql`set local statement_timeout = 0`);
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.execute(sql.raw(`create schema if not exists ${MIGRATIONS_SCHEMA}`));
    const reports: MigrationReport[] = [];
    for (const { source, migrations } of plans) {
      const table = sql`${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(source.plugin)}`;
      await tx.execute(
        sql`create table if not exists ${table} (id serial primary key, hash text not null unique, created_at bigint not null, applied_at timestamptz not null default now())`,
      );
      const done = new Set(
        (await queryRows<{ hash: string }>(tx, sql`select hash from ${table}`)).map((r) => r.hash),
      );
      let applied = 0;
      for (const migration of migrations) {
        if (done.has(migration.hash)) continue;
        await applyOne(tx, source, migration.sql, migration.folderMillis);
        await tx.execute(sql`insert into ${table} (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`);
        applied++;
      }
      reports.push({ plugin: source.plugin, applied, total: migrations.length });
    }
    return reports;
  });
}

function read(source: MigrationSource) {
  try {
    return readMigrationFiles({ migrationsFolder: source.folder });
  } catch (cause) {
    throw new DiandanStartupError(
      StartupErrorCodes.MIGRATION_FAILED,
      `plugin "${source.plugin}": cannot read migrations in ${source.folder}: ${(cause as Error).message}`,
      { plugin: source.plugin, cause },
    );
  }
}

async function applyOne(tx: Transaction, source: MigrationSource, statements: string[], when: number) {
  for (const statement of statements) {
    if (!statement.trim()) continue;
    try {
      await tx.execute(sql.raw(statement));
    } catch (cause) {
      throw new DiandanStartupError(
        StartupErrorCodes.MIGRATION_FAILED,
        `plugin "${source.plugin}": migration ${when} failed: ${(cause as Error).message}`,
        { plugin: source.plugin, cause },
      );
    }
  }
}
