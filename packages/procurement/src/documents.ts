import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { DomainError, ProblemCodes, kernelTables, withTransaction, type Actor, type CallContext, type Database, type StoredFile } from '@diandan/kernel';
import { projectFiles } from './schema.js';
import { auditRegion, isBuyerAdmin, readProject, requireBuyerAdmin, type Kernel } from './support.js';

/** Options of the procurement document files. */
export interface DocumentFileOptions {
  /** The plugin's name: the owner of the files it stores. */
  readonly owner: string;
  readonly maxBytes: number;
  /** Content types accepted, decided from the bytes. */
  readonly accept: readonly string[];
}

/**
 * Files of procurement documents (招标文件, 公告 …) through the kernel's file storage. The
 * buyer's administrators upload a file to a project, then name it in a document's
 * `fileId`. A file named by a document of a published project is public, like the
 * document; any other file of the project (a draft's, or one no document names) only
 * for the buyer's administrators.
 *
 * No transaction is open while the bytes arrive: the kernel stores the file (and its
 * row, in its own short transaction), then one short transaction links it to the
 * project and audits; a failure removes the stored file. With an Idempotency-Key, a
 * retry stores nothing and answers the first upload.
 */
export class DocumentFileService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Kernel,
    private readonly options: DocumentFileOptions,
  ) {}

  async upload(
    input: { projectId: string; data: Buffer | NodeJS.ReadableStream; name: string; idempotencyKey?: string | undefined },
    ctx: CallContext,
  ): Promise<{ file: StoredFile; replayed: boolean }> {
    let row;
    try {
      row = await readProject(this.db, input.projectId, ctx.actor);
      requireBuyerAdmin(ctx.actor, row);
      if (row.status === 'complete' || row.status === 'cancelled' || row.status === 'unsuccessful') {
        throw new DomainError('conflict', 'PROCUREMENT_PROJECT_LOCKED', `A ${row.status} project takes no more documents`);
      }
    } catch (error) {
      if (typeof (input.data as NodeJS.ReadableStream).resume === 'function') (input.data as NodeJS.ReadableStream).resume();
      throw error;
    }
    const uploadKey = input.idempotencyKey === undefined ? null : createHash('sha256').update(JSON.stringify([ctx.actor.userId, row.id, input.idempotencyKey])).digest('hex');
    if (uploadKey) {
      const first = await this.uploadOf(this.db, uploadKey);
      if (first) return { file: await this.sameUpload(first, await hashOf(input.data, this.options.maxBytes)), replayed: true };
    }
    const file = await this.kernel.files.save({ data: input.data as Buffer, name: input.name, owner: this.options.owner, accept: this.options.accept, maxBytes: this.options.maxBytes }, { actor: ctx.actor, requestId: ctx.requestId });
    let winner: string | undefined;
    try {
      winner = await withTransaction(this.db, ctx.tx, async (tx) => {
        const linked = await tx.insert(projectFiles).values({ fileId: file.id, projectId: row.id, uploadKey }).onConflictDoNothing().returning({ fileId: projectFiles.fileId });
        if (linked.length === 0) {
          const first = await this.uploadOf(tx, uploadKey!);
          if (!first) throw new DomainError('conflict', 'PROCUREMENT_UPLOAD_CONFLICT', 'The upload could not be stored; try again');
          return first;
        }
        await this.kernel.audit.record(
          { actor: ctx.actor, entityType: 'procurement-project', entityId: row.id, action: 'procurement.project.file-upload', region: auditRegion(row), after: { file: { id: file.id, contentType: file.contentType, size: file.size, sha256: file.sha256 } }, requestId: ctx.requestId },
          { tx },
        );
        return undefined;
      });
    } catch (error) {
      await this.discard(file.id, ctx);
      throw error;
    }
    if (winner === undefined) return { file, replayed: false };
    await this.discard(file.id, ctx);
    return { file: await this.sameUpload(winner, file.sha256), replayed: true };
  }

  /** A project's file, for whoever may read it (see the class); `FILE_NOT_FOUND` otherwise. */
  async open(input: { projectId: string; fileId: string }, ctx: { actor: Actor | null }) {
    // PROCUREMENT_PROJECT_NOT_FOUND for a draft the caller may not see.
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const [link] = await this.db.select().from(projectFiles).where(and(eq(projectFiles.fileId, input.fileId), eq(projectFiles.projectId, row.id)));
    const named = row.publishedAt !== null && row.documents.some((d) => d.fileId === input.fileId);
    if (!link || (!named && !isBuyerAdmin(ctx.actor, row))) throw new DomainError('not_found', ProblemCodes.FILE_NOT_FOUND, `File ${input.fileId} does not exist`);
    return this.kernel.files.open(input.fileId, { owner: this.options.owner });
  }

  /** Removes files of projects that no project links (a crash between storing and linking), older than `olderThanHours`. */
  async cleanOrphans(actor: Actor, input: { olderThanHours?: number } = {}): Promise<number> {
    const f = kernelTables.files;
    const hours = input.olderThanHours ?? 24;
    const orphans = await this.db
      .select({ id: f.id })
      .from(f)
      .where(and(eq(f.owner, this.options.owner), sql`${f.createdAt} <= now() - make_interval(secs => ${hours * 3600})`, sql`not exists (select 1 from ${projectFiles} where ${projectFiles.fileId} = ${f.id})`))
      .limit(500);
    for (const { id } of orphans) await this.kernel.files.remove(id, { actor, owner: this.options.owner }).catch(() => undefined);
    return orphans.length;
  }

  private async uploadOf(db: Pick<Database, 'select'>, uploadKey: string): Promise<string | undefined> {
    const [link] = await db.select({ fileId: projectFiles.fileId }).from(projectFiles).where(eq(projectFiles.uploadKey, uploadKey));
    return link?.fileId;
  }

  private async sameUpload(fileId: string, sha256: string | undefined): Promise<StoredFile> {
    const first = await this.kernel.files.get(fileId, { owner: this.options.owner });
    if (sha256 === undefined) throw new DomainError('too_large', ProblemCodes.FILE_TOO_LARGE, `The file is larger than ${this.options.maxBytes} bytes.`, { maxBytes: this.options.maxBytes });
    if (sha256 !== first.sha256) throw new DomainError('invalid', ProblemCodes.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different file');
    return first;
  }

  private async discard(fileId: string, ctx: CallContext): Promise<void> {
    await this.kernel.files.remove(fileId, { actor: ctx.actor, owner: this.options.owner, requestId: ctx.requestId }).catch(() => undefined);
  }
}

/** SHA-256 (hex) of an upload read to its end; undefined when larger than `maxBytes`. */
async function hashOf(data: Buffer | NodeJS.ReadableStream, maxBytes: number): Promise<string | undefined> {
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
