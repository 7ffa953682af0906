import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import Type from 'typebox';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallContext, ReadOptions } from '../call.js';
import { afterCommit, afterRollback, withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, ProblemCodes } from '../errors.js';
import { model } from '../http/schemas.js';
import type { FileStore } from './store.js';
import { accepts, DEFAULT_FILE_TYPES, SNIFF_BYTES, sniffContentType } from './sniff.js';
import { files } from './schema.js';
import { sweepOrphanFiles, uploadOnce, type OrphanSweepInput, type UploadOnceInput } from './upload.js';

/** A stored file, as services return it and routes show it (`StoredFileSchema`). */
export interface StoredFile {
  id: string;
  /** The plugin that stored it. */
  owner: string;
  /** The client's file name, sanitised: for display and `Content-Disposition`, never a path. */
  name: string;
  /** Sniffed from the contents, e.g. `application/pdf`. */
  contentType: string;
  size: number;
  /** Hex SHA-256 of the contents. */
  sha256: string;
  createdAt: string;
  createdBy: string;
}

/** The model of a stored file, for route responses: `ref(StoredFileSchema)` (registered by the kernel). */
export const StoredFileSchema = model(
  'StoredFile',
  Type.Object(
    {
      id: Type.String({ format: 'uuid' }),
      owner: Type.String({ description: 'The plugin that stored the file' }),
      name: Type.String({ description: 'The uploaded file name, sanitised; for display only' }),
      contentType: Type.String({ description: 'Decided from the contents, not from what the client said' }),
      size: Type.Integer({ minimum: 0, description: 'Bytes' }),
      sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the contents' }),
      createdAt: Type.String({ format: 'date-time' }),
      createdBy: Type.String(),
    },
    { description: 'A file stored by a plugin (the kernel’s file service)' },
  ),
);

/** What `files.save` takes. */
export interface SaveFileInput {
  /** The contents: a buffer, or a stream (e.g. `readUpload(request)`'s), read once. */
  readonly data: Buffer | Readable;
  /** The client's file name; sanitised before it is stored, and never used as a path. */
  readonly name: string;
  /** The plugin storing it (`ctx.name`). */
  readonly owner: string;
  /** Content types allowed (`image/*` wildcards allowed); default `DEFAULT_FILE_TYPES`. A type not sniffable is always refused. */
  readonly accept?: readonly string[];
  /** Largest size in bytes; default the deployment's `files.maxBytes`. */
  readonly maxBytes?: number;
}

/** `get`/`open`/`remove` options: `owner` makes a file of another plugin "not found". */
export type FileReadOptions = ReadOptions & { readonly owner?: string | undefined };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OWNER = /^[a-z][a-z0-9-]*$/;
const NAME_LIMIT = 255;

/**
 * A client's file name made safe to store and show: the last path segment only,
 * without control characters, quotes or backslashes, NFC-normalised, at most 255
 * characters; `file` when nothing is left. It is still only ever a display name.
 */
export function safeFileName(name: unknown): string {
  const raw = typeof name === 'string' ? name : '';
  const last = raw.split(/[/\\]/).pop() ?? '';
  const cleaned = last
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f"<>|?*:]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^\.+/, '');
  const chars = Array.from(cleaned);
  const short = chars.length > NAME_LIMIT ? chars.slice(0, NAME_LIMIT).join('') : cleaned;
  return short === '' ? 'file' : short;
}

const tooLarge = (limit: number) =>
  new DomainError('too_large', ProblemCodes.FILE_TOO_LARGE, `The file is larger than ${limit} bytes.`, { maxBytes: limit });

/**
 * Files plugins store (`ctx.deps.kernel.files`): contents in the deployment's
 * `FileStore`, one row in `kernel.files`. A refused or failed save leaves neither a
 * row nor stored contents. Who may download a file is decided by the plugin that owns
 * it; the kernel has no download route.
 */
export class FileService {
  constructor(
    private readonly db: Database,
    /** Where contents live. */
    readonly store: FileStore,
    private readonly audit: AuditLog,
    /** The deployment's default size limit (`files.maxBytes`). */
    readonly maxBytes: number,
    private readonly log?: FastifyBaseLogger,
  ) {}

  /**
   * Streams `data` into the store while counting and hashing it, with its type
   * sniffed from the first bytes: `413 FILE_TOO_LARGE` past the limit,
   * `415 FILE_TYPE_NOT_ALLOWED` for a type not accepted or not recognised. The row is
   * written in `ctx.tx` when given (and the contents removed if that transaction
   * rolls back).
   */
  async save(input: SaveFileInput, ctx: CallContext): Promise<StoredFile> {
    if (typeof input.owner !== 'string' || !OWNER.test(input.owner)) throw new TypeError('files.save: owner must be a plugin name');
    const limit = input.maxBytes ?? this.maxBytes;
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError('files.save: maxBytes must be a positive integer');
    const accept = input.accept ?? DEFAULT_FILE_TYPES;
    const name = safeFileName(input.name);
    const source = input.data;
    const id = randomUUID();
    const hash = createHash('sha256');
    let size = 0;

    const iterator = (Buffer.isBuffer(source) ? Readable.from([source]) : source)[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    const next = async (): Promise<Buffer | undefined> => {
      let r: IteratorResult<Buffer | string>;
      try {
        r = await iterator.next();
      } catch (error) {
        throw fromSource(error, limit);
      }
      if (r.done) return undefined;
      const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      hash.update(chunk);
      return chunk;
    };
    let stored = false;
    try {
      // The head decides the type before anything is stored.
      const head: Buffer[] = [];
      let headBytes = 0;
      let ended = false;
      while (headBytes < SNIFF_BYTES) {
        const chunk = await next();
        if (!chunk) {
          ended = true;
          break;
        }
        head.push(chunk);
        headBytes += chunk.length;
      }
      const headBuffer = Buffer.concat(head);
      const contentType = await sniffContentType(headBuffer, accept);
      if (!contentType || !accepts(accept, contentType)) {
        throw new DomainError(
          'unsupported_media_type',
          ProblemCodes.FILE_TYPE_NOT_ALLOWED,
          contentType ? `Files of type ${contentType} are not accepted here.` : 'The type of this file is not recognised, so it is not accepted.',
          { accepted: [...accept], ...(contentType ? { detected: contentType } : {}) },
        );
      }
      const body = Readable.from(
        (async function* () {
          yield headBuffer;
          if (ended) return;
          for (let chunk = await next(); chunk; chunk = await next()) yield chunk;
        })(),
      );
      stored = true;
      await this.store.put(id, body);
      // busboy ends a file at its size limit without an error, marking it truncated.
      if (!Buffer.isBuffer(source) && (source as Readable & { truncated?: boolean }).truncated) throw tooLarge(limit);
      const row = {
        id,
        owner: input.owner,
        name,
        contentType,
        size,
        sha256: hash.digest('hex'),
        createdBy: ctx.actor.userId,
      };
      const saved = await withTransaction(this.db, ctx.tx, async (tx) => {
        const [inserted] = await tx.insert(files).values(row).returning();
        await this.audit.record(
          {
            actor: ctx.actor,
            entityType: 'file',
            entityId: id,
            action: 'file.save',
            // No name: a file name can hold personal data.
            after: { owner: row.owner, contentType, size, sha256: row.sha256 },
            requestId: ctx.requestId,
          },
          { tx },
        );
        if (ctx.tx) afterRollback(ctx.tx, () => void this.discard(id));
        return inserted!;
      });
      return toStoredFile(saved);
    } catch (error) {
      if (stored) await this.discard(id);
      if (!Buffer.isBuffer(source)) drain(iterator, limit + SNIFF_BYTES);
      throw error;
    }
  }

  /**
   * `save`, then the caller's `record` in one short transaction, idempotently on the
   * client's `Idempotency-Key` (see `UploadOnceInput`): a retry answers the first
   * upload (`replayed`); a failed record or a lost race removes what was stored.
   */
  uploadOnce(input: UploadOnceInput, ctx: CallContext): Promise<{ file: StoredFile; replayed: boolean }> {
    return uploadOnce(this.db, this, input, ctx);
  }

  /** Removes files of `owner` that no row of `linkedBy` names, older than a day by default (see `OrphanSweepInput`); returns how many. */
  sweepOrphans(input: OrphanSweepInput): Promise<number> {
    return sweepOrphanFiles(this.db, this, input);
  }

  /** A stored file's facts; `404 FILE_NOT_FOUND` when there is none (or it is another `owner`'s). */
  async get(id: string, options: FileReadOptions = {}): Promise<StoredFile> {
    const row = await this.#row(options.tx ?? this.db, id, options.owner);
    return toStoredFile(row);
  }

  /** A stored file and a stream of its contents (read it once). */
  async open(id: string, options: FileReadOptions = {}): Promise<{ file: StoredFile; stream: Readable }> {
    const file = await this.get(id, options);
    try {
      return { file, stream: await this.store.get(file.id) };
    } catch (cause) {
      throw new Error(`file ${file.id} has a row but no stored contents`, { cause });
    }
  }

  /** Removes a file: its row in the caller's transaction, its contents once that commits. */
  async remove(id: string, ctx: CallContext & { readonly owner?: string | undefined }): Promise<void> {
    await withTransaction(this.db, ctx.tx, async (tx) => {
      const row = await this.#row(tx, id, ctx.owner, true);
      await tx.delete(files).where(eq(files.id, row.id));
      await this.audit.record(
        { actor: ctx.actor, entityType: 'file', entityId: row.id, action: 'file.remove', before: { owner: row.owner, size: row.size, sha256: row.sha256 }, requestId: ctx.requestId },
        { tx },
      );
      afterCommit(tx, () => void this.discard(row.id));
    });
  }

  async #row(db: Executor, id: string, owner: string | undefined, lock = false): Promise<typeof files.$inferSelect> {
    if (typeof id !== 'string' || !UUID.test(id)) throw notFound(id);
    const where = owner === undefined ? eq(files.id, id) : and(eq(files.id, id), eq(files.owner, owner));
    const query = db.select().from(files).where(where);
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw notFound(id);
    return row;
  }

  /** Deletes stored contents, logging (not throwing) a failure: what is left is an orphan, not an error for the caller. */
  private async discard(id: string): Promise<void> {
    try {
      await this.store.delete(id);
    } catch (err) {
      this.log?.error({ err, file: id }, 'could not delete stored file contents');
    }
  }
}

/**
 * Reads and discards what a refused source still holds, up to `budget` bytes, then
 * lets it go. An upload's stream must be read to its end, or the request it comes
 * from stalls (and with it the connection); busboy ends it at its size limit.
 */
function drain(iterator: AsyncIterator<Buffer | string>, budget: number): void {
  void (async () => {
    let left = budget;
    try {
      while (left > 0) {
        const r = await iterator.next();
        if (r.done) return;
        left -= r.value.length;
      }
      await iterator.return?.();
    } catch {
      // The source failed: there is nothing more to read.
    }
  })();
}

const notFound = (id: unknown) =>
  new DomainError('not_found', ProblemCodes.FILE_NOT_FOUND, `No file ${typeof id === 'string' ? id.slice(0, 64) : ''}`.trim());

function fromSource(error: unknown, limit: number): unknown {
  if (error instanceof DomainError) return error;
  if ((error as { code?: string })?.code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(limit);
  return new DomainError('bad_request', ProblemCodes.MALFORMED_BODY, 'The upload ended early or is malformed.');
}

function toStoredFile(row: typeof files.$inferSelect): StoredFile {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    contentType: row.contentType,
    size: Number(row.size),
    sha256: row.sha256,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
  };
}
