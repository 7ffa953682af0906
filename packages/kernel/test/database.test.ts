import {
  afterCommit,
  DiandanStartupError,
  OuterHandleInTransactionError,
  openDatabase,
  pgErrorCode,
  prepareRows,
  queryRows,
  redact,
  transaction,
  transactionBatch,
  type DatabaseConnection,
} from '@diandan/kernel';
import { createTestDatabase, createTestServer, testDriver, type TestDatabase } from '@diandan/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startupFailure } from './support.js';

let testDb: TestDatabase;
let connection: DatabaseConnection;
beforeAll(async () => {
  testDb = await createTestDatabase();
  connection = await openDatabase(testDb.config);
  await queryRows(connection.db, sql`create table counters (id int primary key, n int not null)`);
  await queryRows(connection.db, sql`create table entries (id int primary key, label text not null)`);
});
afterAll(async () => {
  await connection?.close();
  await testDb?.drop();
});

const countEntries = async () =>
  (await queryRows<{ n: number }>(connection.db, sql`select count(*)::int as n from entries`))[0]!.n;

describe('openDatabase', () => {
  it('opens the driver the test run uses', () => {
    expect(connection.driver).toBe(testDriver());
  });
});

describe('prepareRows', () => {
  it('runs one prepared statement many times with different values, inside and outside a transaction', async () => {
    await queryRows(connection.db, sql`delete from entries`);
    const insert = prepareRows<{ id: number; label: string }>(
      connection.db,
      'test.insert-entry',
      sql`insert into entries (id, label) values (${sql.placeholder('id')}, ${sql.placeholder('label')}) returning id, label`,
    );
    expect(await Promise.all([1, 2, 3].map((id) => insert({ id, label: `第${id}条` })))).toEqual([
      [{ id: 1, label: '第1条' }],
      [{ id: 2, label: '第2条' }],
      [{ id: 3, label: '第3条' }],
    ]);
    await transaction(connection.db, async (tx) => {
      const byLabel = prepareRows<{ id: number }>(tx, 'test.entry-by-label', sql`select id from entries where label = ${sql.placeholder('label')}`);
      expect(await byLabel({ label: '第2条' })).toEqual([{ id: 2 }]);
      expect(await byLabel({ label: '没有' })).toEqual([]);
    });
    await expect(insert({ id: 1, label: 'duplicate' })).rejects.toSatisfy((e: unknown) => pgErrorCode(e) === '23505');
  });
});

describe('transactionBatch', () => {
  const insert = () => prepareRows<{ id: number }>(connection.db, 'test.batch-insert', sql`insert into entries (id, label) values (${sql.placeholder('id')}, 'batch') returning id`);
  const count = () => prepareRows<{ n: number }>(connection.db, 'test.batch-count', sql`select count(*)::int as n from entries`);
  beforeEach(async () => {
    await queryRows(connection.db, sql`delete from entries`);
  });

  it('runs the statements in order in one transaction, each seeing those before it', async () => {
    const [a, b, c] = await transactionBatch(connection.db, [insert().bind({ id: 1 }), insert().bind({ id: 2 }), count().bind({})] as const);
    expect([a, b, c]).toEqual([[{ id: 1 }], [{ id: 2 }], [{ n: 2 }]]);
    expect(await countEntries()).toBe(2);
  });

  it('writes nothing when a statement fails, throws its error, and leaves the connection usable', async () => {
    await expect(transactionBatch(connection.db, [insert().bind({ id: 10 }), insert().bind({ id: 10 }), insert().bind({ id: 11 })])).rejects.toSatisfy((e: unknown) => pgErrorCode(e) === '23505');
    expect(await countEntries()).toBe(0);
    // Every pooled connection is out of the failed transaction: batches on all of them commit.
    await Promise.all([20, 21, 22, 23].map((id) => transactionBatch(connection.db, [insert().bind({ id })])));
    expect(await countEntries()).toBe(4);
  });
});

describe('transaction', () => {
  beforeEach(async () => {
    await queryRows(connection.db, sql`delete from entries`);
  });

  it('commits everything the work wrote and returns its result', async () => {
    const result = await transaction(connection.db, async (tx) => {
      await tx.execute(sql`insert into entries values (1, 'one'), (2, 'two')`);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await countEntries()).toBe(2);
  });

  it('rolls back every row when the work throws, and rethrows the error', async () => {
    const failure = new Error('budget exceeded');
    await expect(
      transaction(connection.db, async (tx) => {
        await tx.execute(sql`insert into entries values (1, 'one')`);
        await tx.execute(sql`insert into entries values (2, 'two')`);
        expect(await queryRows(tx, sql`select id from entries order by id`)).toEqual([{ id: 1 }, { id: 2 }]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await countEntries()).toBe(0);
  });

  it('rolls back earlier statements when a later one fails in the database', async () => {
    const error = await transaction(connection.db, async (tx) => {
      await tx.execute(sql`insert into entries values (1, 'one')`);
      await tx.execute(sql`insert into entries values (1, 'again')`);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pgErrorCode(error)).toBe('23505'); // unique_violation, found through drizzle's wrapping
    expect(await countEntries()).toBe(0);
  });

  it('retries serialization failures and deadlocks, but nothing else', async () => {
    const conflict = () => Object.assign(new Error('could not serialize access'), { code: '40001' });
    let attempts = 0;
    const result = await transaction(connection.db, async (tx) => {
      attempts++;
      await tx.execute(sql`insert into entries values (${attempts}, 'try')`);
      if (attempts < 3) throw conflict();
      return attempts;
    });
    expect(result).toBe(3);
    // Only the last attempt's row was kept.
    expect(await queryRows(connection.db, sql`select id from entries`)).toEqual([{ id: 3 }]);

    attempts = 0;
    await expect(
      transaction(
        connection.db,
        async () => {
          attempts++;
          throw conflict();
        },
        { retries: 2 },
      ),
    ).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(3);

    attempts = 0;
    await expect(
      transaction(connection.db, async () => {
        attempts++;
        throw Object.assign(new Error('check violation'), { code: '23514' });
      }),
    ).rejects.toMatchObject({ code: '23514' });
    expect(attempts).toBe(1);
  });

  it('gives the exact total when concurrent transactions read, modify and write one counter', async () => {
    await queryRows(connection.db, sql`insert into counters values (1, 0) on conflict (id) do update set n = 0`);
    const workers = 25;
    await Promise.all(
      Array.from({ length: workers }, () =>
        transaction(connection.db, async (tx) => {
          // On Postgres the row lock makes the others wait; PGlite runs transactions one at a time.
          const [row] = await queryRows<{ n: number }>(tx, sql`select n from counters where id = 1 for update`);
          await new Promise((resolve) => setTimeout(resolve, 2)); // widen the window for lost updates
          await tx.execute(sql`update counters set n = ${row!.n + 1} where id = 1`);
        }),
      ),
    );
    const [row] = await queryRows<{ n: number }>(connection.db, sql`select n from counters where id = 1`);
    expect(row!.n).toBe(workers);
  });
});

describe('the outer handle inside one of its own transactions', () => {
  it('is refused at once with a clear error, instead of waiting for ever (PGlite) or running outside (PostgreSQL)', async () => {
    const started = performance.now();
    const error = await transaction(connection.db, async (tx) => {
      await tx.execute(sql`insert into entries values (900, 'inside')`);
      // The mistake: reading through the outer handle instead of `tx`.
      return queryRows(connection.db, sql`select count(*) from entries`).catch((e: unknown) => e);
    });
    // drizzle wraps what the driver throws; the cause is ours.
    const cause = error instanceof OuterHandleInTransactionError ? error : (error as Error).cause;
    expect(cause).toBeInstanceOf(OuterHandleInTransactionError);
    expect(cause).toMatchObject({ code: 'DIANDAN_ERR_OUTER_HANDLE_IN_TRANSACTION', message: expect.stringContaining('Pass the transaction you were given') });
    expect(performance.now() - started).toBeLessThan(5000);
    // The transaction itself was fine and committed; the outer handle works again outside it.
    expect((await queryRows<{ label: string }>(connection.db, sql`select label from entries where id = 900`))[0]?.label).toBe('inside');
  });

  it('does not mistake concurrent work of other callers for the mistake', async () => {
    const inside = transaction(connection.db, async (tx) => {
      await tx.execute(sql`insert into entries values (901, 'slow')`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    // Another caller, not inside that transaction, waits its turn (PGlite) or runs alongside (PostgreSQL).
    const outside = queryRows(connection.db, sql`select 1 as one`);
    await expect(outside).resolves.toEqual([{ one: 1 }]);
    await inside;
  });

  it('runs callbacks registered with afterCommit only once the transaction has committed', async () => {
    const seen: string[] = [];
    await transaction(connection.db, async (tx) => {
      afterCommit(tx, () => seen.push('committed'));
      seen.push('working');
    });
    await transaction(connection.db, async (tx) => {
      afterCommit(tx, () => seen.push('never'));
      throw new Error('rolled back');
    }).catch(() => {});
    expect(seen).toEqual(['working', 'committed']);
    expect(() => afterCommit(connection.db, () => {})).toThrow(/needs a transaction opened with transaction\(\)/);
  });
});

describe('unreachable database', () => {
  const url = 'postgres://diandan:s3cret-Passw0rd@127.0.0.1:1/diandan';

  it('fails with DIANDAN_ERR_DATABASE_UNREACHABLE and keeps the password out of the message', async () => {
    const error = await openDatabase({ url }).then(
      () => undefined,
      (e: unknown) => e as DiandanStartupError,
    );
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_DATABASE_UNREACHABLE' });
    expect(error!.message).toContain('127.0.0.1:1');
    expect(error!.message).not.toContain('s3cret-Passw0rd');
  });

  it('stops a server from starting, with the same error', async () => {
    const error = await startupFailure(createTestServer({ database: { url } }));
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_DATABASE_UNREACHABLE' });
    expect(error.message).not.toContain('s3cret-Passw0rd');
    expect(JSON.stringify({ ...error })).not.toContain('s3cret-Passw0rd');
  });
});

describe('redact', () => {
  it('hides the password of a connection string', () => {
    expect(redact('postgres://app:hunter2@db.example.org:5432/diandan?sslmode=require')).toBe(
      'postgres://app:***@db.example.org:5432/diandan?sslmode=require',
    );
    const encoded = redact('postgresql://app:p%40ss%3Aword@db/diandan');
    expect(encoded).toBe('postgresql://app:***@db/diandan');
    expect(encoded).not.toContain('p%40ss');
  });

  it('leaves a connection string without a password as it is', () => {
    expect(redact('postgres://app@db.example.org/diandan')).toBe('postgres://app@db.example.org/diandan');
  });

  it('does not echo a string it cannot parse', () => {
    const garbled = 'postgres://app:hunter2@db:notaport/diandan';
    expect(redact(garbled)).not.toContain('hunter2');
  });
});
