import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { transaction, type Database, type Transaction } from '../db/database.js';
import { DomainError } from '../errors.js';
import { idempotencyKeys } from './schema.js';

/** What a creating write answers: the status and body to send (and to replay). */
export interface WriteResult<T> {
  readonly status: number;
  readonly body: T;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

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
): Promise<T> {
  const header = request.headers['idempotency-key'];
  if (header === undefined) {
    const result = await transaction(db, work);
    reply.code(result.status);
    return result.body;
  }
  const key = Array.isArray(header) ? header[0]! : header;
  if (!KEY.test(key)) {
    throw new DomainError('bad_request', 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  const scope = `${request.actor?.userId ?? 'anonymous'} ${request.method} ${request.routeOptions.url}`;
  const fingerprint = createHash('sha256')
    .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
    .digest('hex');

  const outcome = await transaction(db, async (tx) => {
    const claimed = await tx
      .insert(idempotencyKeys)
      .values({ scope, key, fingerprint, status: 0, response: {} })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (claimed.length === 0) {
      const [stored] = await tx
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
      if (!stored || stored.fingerprint !== fingerprint) {
        throw new DomainError('invalid', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request');
      }
      return { replayed: true, status: stored.status, body: stored.response as T };
    }
    const result = await work(tx);
    await tx
      .update(idempotencyKeys)
      .set({ status: result.status, response: result.body as object })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
    return { replayed: false, ...result };
  });
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
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
