import { createHash } from 'node:crypto';
import { and, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { transaction, type Database, type Executor, type Transaction } from '../db/database.js';
import Type from 'typebox';
import { DomainError, ProblemCodes } from '../errors.js';
import type { JobDefinition, Jobs } from '../jobs/jobs.js';
import { idempotencyKeys } from './schema.js';

/** What a creating write answers: the status and body to send (and to replay). */
export interface WriteResult<T> {
  readonly status: number;
  readonly body: T;
}

/** A request's `Idempotency-Key`, with what identifies the request it was first sent with. */
export interface IdempotencyClaim {
  /** Caller, method and route: the same key from another caller or route is another key. */
  readonly scope: string;
  readonly key: string;
  /** sha256 of method, URL and body (keys sorted). */
  readonly fingerprint: string;
}

/** A response stored under a key, as read back. */
export interface StoredResponse {
  readonly fingerprint: string;
  readonly status: number;
  readonly response: unknown;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` request header, for the schemas of routes that write. */
export const IdempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'A key of your choosing (1–255 visible ASCII characters): a retry with the same key gets the first answer' }),
  ),
});

/** Options of `idempotentWrite`. */
export interface IdempotentWriteOptions {
  /**
   * Who the key belongs to when the caller is anonymous (no actor): e.g. a resume
   * token, an invitation, or a value of the client's own. Keys are then kept per scope
   * (hashed, never stored as given), so two anonymous callers who pick the same key
   * never get each other's answer replayed. Signed-in callers' keys are always kept
   * per user; a scope given for them narrows it further.
   */
  readonly scope?: string | undefined;
}

/**
 * The request's `Idempotency-Key` (1–255 visible ASCII characters; `400
 * INVALID_IDEMPOTENCY_KEY` otherwise), or undefined when it sent none. For routes that
 * keep keys themselves, such as uploads (`files.uploadOnce`).
 */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0]! : header;
  if (!KEY.test(key)) {
    throw new DomainError('bad_request', ProblemCodes.INVALID_IDEMPOTENCY_KEY, 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return key;
}

/** The request's idempotency claim, or undefined when it sent no `Idempotency-Key`. */
export function idempotencyClaim(request: FastifyRequest, options: IdempotentWriteOptions = {}): IdempotencyClaim | undefined {
  const key = readIdempotencyKey(request);
  if (key === undefined) return undefined;
  return {
    scope: `${request.actor?.userId ?? 'anonymous'}${options.scope === undefined ? '' : `:${createHash('sha256').update(options.scope).digest('base64url')}`} ${request.method} ${request.routeOptions.url}`,
    key,
    fingerprint: createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
      .digest('hex'),
  };
}

/**
 * Answers a retry with the stored response (and `idempotent-replayed: true`), or
 * refuses a key first used with a different request (422 IDEMPOTENCY_KEY_REUSED).
 */
export function replay<T>(reply: FastifyReply, claim: IdempotencyClaim, stored: StoredResponse | undefined): T {
  if (stored?.fingerprint !== claim.fingerprint) {
    throw new DomainError('invalid', ProblemCodes.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different request');
  }
  reply.header('idempotent-replayed', 'true');
  reply.code(stored.status);
  return stored.response as T;
}

/** The response stored under `claim`'s key, if a write with it has committed. */
export async function storedResponse(db: Executor, claim: IdempotencyClaim): Promise<StoredResponse | undefined> {
  const [stored] = await db
    .select({ fingerprint: idempotencyKeys.fingerprint, status: idempotencyKeys.status, response: idempotencyKeys.response })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, claim.scope), eq(idempotencyKeys.key, claim.key)));
  return stored;
}

/**
 * SQL that claims keys with their final responses, for writes done in a single
 * statement (see `orders/placement.ts`): `insert … select … from <source> on conflict
 * do nothing returning scope, key, response`. `source` yields the columns `scope,
 * key, fingerprint, status, response`. A key that is taken is not returned — after
 * waiting for the transaction that took it to commit or roll back — and when `source`
 * holds one key twice, only one of its rows is: tell them apart by `response`.
 */
export function claimKeysSql(source: SQL): SQL {
  return sql`insert into ${idempotencyKeys} (scope, key, fingerprint, status, response)
    select scope, key, fingerprint, status, response from ${source}
    on conflict do nothing returning scope, key, response`;
}

/**
 * Runs a creating write in one transaction, at most once per `Idempotency-Key`.
 *
 * The key row is inserted first, in the same transaction as the write. A concurrent
 * request with the same key blocks on that row until the first commits, then finds
 * it and replays the stored response — so 100 identical concurrent POSTs create one
 * record. If the write fails, nothing (not even the key) is stored and a retry runs
 * afresh. The same key with a different body is refused (422 IDEMPOTENCY_KEY_REUSED).
 * Without a key, the write simply runs in a transaction.
 */
export async function idempotentWrite<T>(
  db: Database,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (tx: Transaction) => Promise<WriteResult<T>>,
  options: IdempotentWriteOptions = {},
): Promise<T> {
  const claim = idempotencyClaim(request, options);
  if (!claim) {
    const result = await transaction(db, work);
    reply.code(result.status);
    return result.body;
  }
  const outcome = await transaction(db, async (tx): Promise<{ stored: StoredResponse | undefined } | WriteResult<T>> => {
    const claimed = await tx
      .insert(idempotencyKeys)
      .values({ ...claim, status: 0, response: {} })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 0) {
      // The row exists and has committed (we waited for it): a retry.
      return { stored: await storedResponse(tx, claim) };
    }
    const result = await work(tx);
    await tx
      .update(idempotencyKeys)
      .set({ status: result.status, response: result.body as object })
      .where(and(eq(idempotencyKeys.scope, claim.scope), eq(idempotencyKeys.key, claim.key)));
    return result;
  });
  if ('stored' in outcome) return replay(reply, claim, outcome.stored);
  reply.code(outcome.status);
  return outcome.body;
}

/** JSON with object keys sorted, so that the same body with its keys reordered is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Forgets stored responses after `hours`, so the key table does not grow for ever: a
 * client retries within seconds or minutes, not days. After that, the same key is a
 * new request. The purge is a job scheduled hourly (once per hour across all
 * processes); it is idempotent.
 */
export class IdempotencyKeyRetention {
  private readonly job: JobDefinition<Record<string, never>, { purged: number }>;

  constructor(
    private readonly db: Database,
    readonly hours: number,
    private readonly jobs: Jobs,
  ) {
    this.job = jobs.define('purge-idempotency-keys', async () => ({ purged: await this.purge() }), { retryLimit: 2 });
  }

  /** Deletes the keys older than the retention; returns how many. */
  async purge(): Promise<number> {
    const deleted = await this.db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.createdAt, sql`now() - make_interval(hours => ${this.hours}::integer)`))
      .returning({ key: idempotencyKeys.key });
    return deleted.length;
  }

  /** Schedules the hourly purge (at minute 17, away from the top of the hour). */
  async schedule(): Promise<void> {
    await this.jobs.schedule(this.job, '17 * * * *', {});
  }
}
