/**
 * Assertions the kernel's own tests share. Everything else (actors, the HTTP client,
 * records put in place through the API, the ordering-loop fixture) comes from
 * @diandan/testing, as it would for any plugin author.
 */
import { problem, type Reply } from '@diandan/testing';
import { count, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/**
 * The error `start` rejects with. If it resolves instead, the server it made is
 * closed and the test fails.
 */
export async function startupFailure(start: Promise<FastifyInstance>): Promise<Error & { code?: string; plugin?: string }> {
  let app: FastifyInstance;
  try {
    app = await start;
  } catch (error) {
    return error as Error;
  }
  await app.close();
  throw new Error('expected start-up to fail, but the server started');
}

/** Expects `reply` to be a problem+json answer with `status` and `code`. */
export function expectProblem(reply: Reply, status: number, code: string): void {
  expect(problem(reply), JSON.stringify(reply.body)).toEqual({ status, code, problem: true });
}

/** Rows of a table, optionally filtered, counted straight in the database (what no API shows). */
export async function countRows(app: FastifyInstance, table: PgTable, where?: SQL): Promise<number> {
  const [row] = await app.diandan.database.db.select({ n: count() }).from(table).where(where);
  return Number(row!.n);
}
