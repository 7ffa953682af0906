import { and, eq } from 'drizzle-orm';
import { DomainError, ProblemCodes, type Actor, type CallContext, type Database, type StoredFile } from '@diandan/kernel';
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
    return this.kernel.files.uploadOnce(
      {
        data: input.data as Buffer,
        name: input.name,
        owner: this.options.owner,
        accept: this.options.accept,
        maxBytes: this.options.maxBytes,
        idempotencyKey: input.idempotencyKey,
        scope: row.id,
        conflictCode: 'PROCUREMENT_UPLOAD_CONFLICT',
        find: async (db, uploadKey) => (await db.select({ fileId: projectFiles.fileId }).from(projectFiles).where(eq(projectFiles.uploadKey, uploadKey)))[0]?.fileId,
        record: async (tx, file, uploadKey) => {
          const linked = await tx.insert(projectFiles).values({ fileId: file.id, projectId: row.id, uploadKey }).onConflictDoNothing().returning({ fileId: projectFiles.fileId });
          if (linked.length === 0) return false;
          await this.kernel.audit.record(
            { actor: ctx.actor, entityType: 'procurement-project', entityId: row.id, action: 'procurement.project.file-upload', region: auditRegion(row), after: { file: { id: file.id, contentType: file.contentType, size: file.size, sha256: file.sha256 } }, requestId: ctx.requestId },
            { tx },
          );
          return true;
        },
      },
      ctx,
    );
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
  cleanOrphans(actor: Actor, input: { olderThanHours?: number } = {}): Promise<number> {
    return this.kernel.files.sweepOrphans({ owner: this.options.owner, linkedBy: projectFiles.fileId, olderThanHours: input.olderThanHours, actor });
  }
}
