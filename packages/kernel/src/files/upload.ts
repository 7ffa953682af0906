import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { and, eq, sql, type Column } from 'drizzle-orm';
import type { Actor } from '../auth/actor.js';
import type { CallContext } from '../call.js';
import { withTransaction, type Database, type Executor, type Transaction } from '../db/database.js';
import { DomainError, ProblemCodes } from '../errors.js';
import type { FileService, SaveFileInput, StoredFile } from './files.js';
import { files } from './schema.js';

/**
 * What `uploadOnce` takes: a `files.save` input, plus how the caller records the file
 * in its own table (a link row naming the file's id, with a unique `uploadKey` column).
 */
export interface UploadOnceInput extends SaveFileInput {
  /** The client's `Idempotency-Key`, if any: a retry with it stores nothing and answers the first upload. */
  readonly idempotencyKey?: string | undefined;
  /** What the key is scoped to besides the uploader (e.g. the application or project id). */
  readonly scope: string;
  /** The file recorded under `uploadKey`, if any. */
  readonly find: (db: Executor, uploadKey: string) => Promise<string | undefined>;
  /**
   * Records the stored file in `tx` (and audits); `false` when a row with `uploadKey`
   * is already there (an `insert … on conflict do nothing` that inserted nothing).
   */
  readonly record: (tx: Transaction, file: StoredFile, uploadKey: string | null) => Promise<boolean>;
  /** The problem code (409) when an identical upload holds the key but its row cannot be read: the client retries. */
  readonly conflictCode: string;
}

/**
 * Stores an upload, then records it in one short transaction, idempotently: no
 * transaction is open while the bytes arrive. With an `idempotencyKey` already
 * recorded (same uploader, scope and key) nothing is stored and the first file is
 * returned (`replayed`), or `422 IDEMPOTENCY_KEY_REUSED` when the bytes differ. When
 * recording fails, or a concurrent upload with the same key recorded first, the
 * stored file is removed; what a crash leaves behind is for `sweepOrphanFiles`.
 */
export async function uploadOnce(
  db: Database,
  service: FileService,
  input: UploadOnceInput,
  ctx: CallContext,
): Promise<{ file: StoredFile; replayed: boolean }> {
  const { idempotencyKey, scope, find, record, conflictCode, ...save } = input;
  const maxBytes = save.maxBytes ?? service.maxBytes;
  // Hashed so the client's key (any text) is a fixed-size column value scoped to the uploader.
  const uploadKey = idempotencyKey === undefined ? null : createHash('sha256').update(JSON.stringify([ctx.actor.userId, scope, idempotencyKey])).digest('hex');
  const same = async (fileId: string, sha256: string | undefined): Promise<StoredFile> => {
    const first = await service.get(fileId, { owner: save.owner });
    if (sha256 === undefined) throw new DomainError('too_large', ProblemCodes.FILE_TOO_LARGE, `The file is larger than ${maxBytes} bytes.`, { maxBytes });
    if (sha256 !== first.sha256) throw new DomainError('invalid', ProblemCodes.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different file');
    return first;
  };
  // What cannot be removed now is an orphan for `sweepOrphanFiles`, not the caller's error.
  const discard = (id: string) => service.remove(id, { actor: ctx.actor, owner: save.owner, requestId: ctx.requestId }).catch(() => undefined);

  if (uploadKey) {
    const first = await find(db, uploadKey);
    if (first) return { file: await same(first, await hashOf(save.data, maxBytes)), replayed: true };
  }
  const file = await service.save(save, { actor: ctx.actor, requestId: ctx.requestId });
  let winner: string | undefined;
  try {
    winner = await withTransaction(db, ctx.tx, async (tx) => {
      if (await record(tx, file, uploadKey)) return undefined;
      // A concurrent upload with the same key recorded its copy first (the insert waited for it).
      const first = uploadKey === null ? undefined : await find(tx, uploadKey);
      if (!first) throw new DomainError('conflict', conflictCode, 'The upload could not be stored; try again');
      return first;
    });
  } catch (error) {
    await discard(file.id);
    throw error;
  }
  if (winner === undefined) return { file, replayed: false };
  await discard(file.id);
  return { file: await same(winner, file.sha256), replayed: true };
}

/** What `files.sweepOrphans` takes. */
export interface OrphanSweepInput {
  /** The plugin whose files are swept. */
  readonly owner: string;
  /** The caller's column (or columns, one per table that links files) naming a file's id: a file no row names is an orphan. */
  readonly linkedBy: Column | readonly Column[];
  readonly olderThanHours?: number | undefined;
  /** Who removes them (audited); a function is called only when there is something to remove. */
  readonly actor: Actor | (() => Promise<Actor>);
}

/**
 * Removes up to 500 files of `owner` older than `olderThanHours` (default 24) that no
 * row of `linkedBy` (the caller's file-id column) names: uploads stored whose
 * recording never committed (a crash between the two). For a plugin's daily job;
 * returns how many it removed.
 */
export async function sweepOrphanFiles(
  db: Database,
  service: FileService,
  input: OrphanSweepInput,
): Promise<number> {
  const hours = input.olderThanHours ?? 24;
  const columns: readonly Column[] = Array.isArray(input.linkedBy) ? input.linkedBy : [input.linkedBy as Column];
  const unlinked = columns.map((column) => sql`not exists (select 1 from ${column.table} where ${column} = ${files.id})`);
  const orphans = await db
    .select({ id: files.id })
    .from(files)
    .where(
      and(
        eq(files.owner, input.owner),
        sql`${files.createdAt} <= now() - make_interval(secs => ${hours * 3600})`,
        ...unlinked,
      ),
    )
    .limit(500);
  if (orphans.length === 0) return 0;
  const actor = typeof input.actor === 'function' ? await input.actor() : input.actor;
  for (const { id } of orphans) await service.remove(id, { actor, owner: input.owner }).catch(() => undefined);
  return orphans.length;
}

/** SHA-256 (hex) of an upload read to its end (so the request completes); undefined when larger than `maxBytes`. */
async function hashOf(data: Buffer | Readable, maxBytes: number): Promise<string | undefined> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(data)) return data.length > maxBytes ? undefined : hash.update(data).digest('hex');
  let size = 0;
  for await (const chunk of data as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size <= maxBytes) hash.update(b);
  }
  return size > maxBytes ? undefined : hash.digest('hex');
}
