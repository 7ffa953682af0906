import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernel, MIGRATIONS_SCHEMA, openDatabase, queryRows, type Executor } from '@diandan/kernel';
import { createTestDatabase, createTestServer, seedRegions, TEST_REGIONS } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { brokenMigration } from './fixtures/broken-migration/plugin.js';
import { lateComer, lateComerPlugin } from './fixtures/late-comer/plugin.js';
import { noticeBoard, noticeBoardPlugin } from './fixtures/notice-board/plugin.js';
import { oldTimer, oldTimerPlugin } from './fixtures/old-timer/plugin.js';
import { startupFailure } from './support.js';

/** The `when` of each migration in a drizzle-kit folder's journal. */
function journalTimes(folder: string): number[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number }[] };
  return journal.entries.map((e) => e.when);
}

/** What `diandan_migrations."<plugin>"` records (created_at is the journal's `when`). */
async function recorded(db: Executor, plugin: string): Promise<{ hash: string; createdAt: number }[]> {
  const rows = await queryRows<{ hash: string; created_at: string | number }>(
    db,
    sql`select hash, created_at from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(plugin)} order by id`,
  );
  return rows.map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }));
}

async function schemas(db: Executor): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(db, sql`select schema_name as name from information_schema.schemata`);
  return rows.map((r) => r.name);
}

describe('migrations', () => {
  const kernelTotal = journalTimes(kernel.db!.migrations).length;

  it('applies each migration once, keeps data across restarts and migrates plugins added later, however old', async () => {
    const database = await createTestDatabase({ persistent: true });
    try {
      // First start: the kernel's and notice-board's migrations are applied.
      let app = await createTestServer({ database: database.config, plugins: [noticeBoard()] });
      let appliedFirst: number[];
      try {
        expect(app.diandan.migrations).toEqual([
          { plugin: 'kernel', applied: kernelTotal, total: kernelTotal },
          { plugin: 'notice-board', applied: 1, total: 1 },
        ]);
        const db = app.diandan.database.db;
        const rows = await recorded(db, 'notice-board');
        expect(rows).toHaveLength(1);
        expect(rows.map((r) => r.createdAt)).toEqual(journalTimes(noticeBoardPlugin.db!.migrations));
        appliedFirst = [...rows, ...(await recorded(db, 'kernel'))].map((r) => r.createdAt);
        await seedRegions(app, TEST_REGIONS.slice(0, 2));
        const posted = await app.inject({ method: 'POST', url: '/v1/notices', payload: { regionCode: '440103', body: '图书馆周一闭馆' } });
        expect(posted.statusCode).toBe(201);
      } finally {
        await app.close();
      }

      // The premise: old-timer's migrations are older than every migration applied above.
      const oldTimes = journalTimes(oldTimerPlugin.db!.migrations);
      expect(Math.max(...oldTimes)).toBeLessThan(Math.min(...appliedFirst));

      // Second start, with late-comer and old-timer added: nothing is re-applied, and
      // both newcomers get all of their migrations.
      app = await createTestServer({ database: database.config, plugins: [oldTimer(), lateComer(), noticeBoard()] });
      try {
        expect(app.diandan.migrations).toEqual([
          { plugin: 'kernel', applied: 0, total: kernelTotal },
          { plugin: 'late-comer', applied: 2, total: 2 },
          { plugin: 'notice-board', applied: 0, total: 1 },
          { plugin: 'old-timer', applied: 2, total: 2 },
        ]);
        const db = app.diandan.database.db;
        expect(await recorded(db, 'notice-board')).toHaveLength(1);
        expect(await recorded(db, 'kernel')).toHaveLength(kernelTotal);
        expect((await recorded(db, 'late-comer')).map((r) => r.createdAt)).toEqual(journalTimes(lateComerPlugin.db!.migrations));
        expect((await recorded(db, 'old-timer')).map((r) => r.createdAt)).toEqual(oldTimes);

        // Data written before the restart is still there.
        const notices = (await app.inject('/v1/notices/440103')).json().items as { body: string }[];
        expect(notices.map((n) => n.body)).toContain('你好 图书馆周一闭馆');
        expect((await app.inject('/v1/regions/440103')).json().name).toBe('荔湾区');

        // The newcomers' tables exist, with the columns of their second migrations.
        expect(
          await queryRows(db, sql`insert into late_comer.entries (title, note) values ('读书会', '每月一次') returning id, title, note`),
        ).toEqual([{ id: 1, title: '读书会', note: '每月一次' }]);
        expect(await queryRows(db, sql`insert into old_timer.archive (title, year) values ('老照片', 1958) returning title, year`)).toEqual([
          { title: '老照片', year: 1958 },
        ]);
      } finally {
        await app.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('fails start-up with DIANDAN_ERR_MIGRATION_FAILED and leaves a fresh database untouched', async () => {
    const database = await createTestDatabase({ persistent: true });
    try {
      const error = await startupFailure(createTestServer({ database: database.config, plugins: [brokenMigration(), lateComer()] }));
      expect(error).toMatchObject({ code: 'DIANDAN_ERR_MIGRATION_FAILED', plugin: 'broken-migration' });
      expect(error.message).toMatch(/plugin "broken-migration": migration \d+ failed/i);
      expect(error.message).toContain('nowhere');

      // Everything ran in one transaction: the kernel's tables, late-comer's migrations
      // and broken-migration's first (good) migration were all rolled back.
      const connection = await openDatabase(database.config);
      try {
        const present = await schemas(connection.db);
        expect(present).toContain('public');
        for (const schema of ['kernel', 'late_comer', 'broken_migration', MIGRATIONS_SCHEMA]) {
          expect(present, schema).not.toContain(schema);
        }
      } finally {
        await connection.close();
      }
    } finally {
      await database.drop();
    }
  });
});
