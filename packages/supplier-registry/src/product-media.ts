import type { Readable } from 'node:stream';
import { and, asc, count, eq, inArray, sql } from 'drizzle-orm';
import {
  DomainError,
  EDITABLE_STATES,
  ProblemCodes,
  forbidden,
  kernelTables,
  notFound,
  withTransaction,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type KernelServices,
  type ProductState,
  type StoredFile,
  type Transaction,
} from '@diandan/kernel';
import { productMedia } from './schema.js';

/** What a product's media file is, from its sniffed content type. */
export type MediaKind = 'image' | 'video' | 'document';

/** A media file of a product, as every response shows it. */
export interface ProductMediaFile {
  fileId: string;
  productId: string;
  kind: MediaKind;
  contentType: string;
  name: string;
  size: number;
  sha256: string;
  caption: string | null;
  position: number;
  /** Where to download it (public once the product is listed). */
  url: string;
  createdAt: string;
}

/** What product reads carry: how many media files and the cover (the first image, else the first file). */
export interface ProductMediaSummary {
  count: number;
  cover: ProductMediaFile | null;
}

/** Problem codes of product media (besides the kernel's file codes and `PRODUCT_NOT_EDITABLE`). */
export const MediaProblems = {
  MEDIA_NOT_FOUND: 'PRODUCT_MEDIA_NOT_FOUND',
  MEDIA_LIMIT: 'PRODUCT_MEDIA_LIMIT',
  UPLOAD_CONFLICT: 'PRODUCT_MEDIA_UPLOAD_CONFLICT',
} as const;

export interface ProductMediaOptions {
  /** The registry's plugin name: the owner of the stored files. */
  readonly owner: string;
  readonly maxBytes: number;
  readonly types: readonly string[];
  readonly maxPerProduct: number;
}

type Row = typeof productMedia.$inferSelect;

const kindOf = (contentType: string): MediaKind => (contentType.startsWith('image/') ? 'image' : contentType.startsWith('video/') ? 'video' : 'document');

export const toMediaFile = (r: Row): ProductMediaFile => ({
  fileId: r.fileId,
  productId: r.productId,
  kind: r.kind as MediaKind,
  contentType: r.contentType,
  name: r.name,
  size: r.size,
  sha256: r.sha256,
  caption: r.caption,
  position: r.position,
  url: `/v1/products/${r.productId}/media/${r.fileId}`,
  createdAt: r.createdAt.toISOString(),
});

/**
 * Photos, video and programme PDFs of kernel products (产品展示素材), stored through the
 * kernel's file storage like qualification files. The product's supplier adds and
 * removes them while the product is editable in the kernel's review workflow (draft,
 * rejected, delisted), so reviewers review what will be shown; once the product is
 * listed anyone may see and download them, before that its supplier and the curators
 * who may see the product.
 */
export class ProductMediaLibrary {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly options: ProductMediaOptions,
  ) {}

  /**
   * The product's supplier uploads a file. No transaction is open while the bytes
   * arrive (`files.uploadOnce`): the file is stored, then one short transaction locks the
   * product's row (so a concurrent submit or a second upload waits), checks it is still
   * editable and under the limit, links the file and audits (a refused upload's stored
   * copy is removed again). A route checks `editable` before it reads the bytes, so a
   * client that may not upload is refused without sending them. With an
   * `idempotencyKey` a retry stores nothing and answers the first upload.
   */
  async upload(
    input: { productId: string; data: Buffer | NodeJS.ReadableStream; name: string; caption?: string | undefined; idempotencyKey?: string | undefined },
    ctx: CallContext,
  ): Promise<{ media: ProductMediaFile; replayed: boolean }> {
    const { file, replayed } = await this.kernel.files.uploadOnce(
      {
        data: input.data as Buffer,
        name: input.name,
        owner: this.options.owner,
        accept: this.options.types,
        maxBytes: this.options.maxBytes,
        idempotencyKey: input.idempotencyKey,
        scope: `product:${input.productId}`,
        conflictCode: MediaProblems.UPLOAD_CONFLICT,
        find: async (db, uploadKey) => (await db.select({ fileId: productMedia.fileId }).from(productMedia).where(eq(productMedia.uploadKey, uploadKey)))[0]?.fileId,
        record: (tx, stored, uploadKey) => this.link(tx, input.productId, stored, input.caption ?? null, uploadKey, ctx),
      },
      ctx,
    );
    return { media: toMediaFile(await this.row(this.db, input.productId, file.id)), replayed };
  }

  /** The product's media in display order, for those who may see the product. */
  async list(productId: string, actor: Actor | null): Promise<ProductMediaFile[]> {
    await this.visible(productId, actor);
    const rows = await this.db.select().from(productMedia).where(eq(productMedia.productId, productId)).orderBy(asc(productMedia.position), asc(productMedia.createdAt));
    return rows.map(toMediaFile);
  }

  /** One media file of the product, for those who may see the product. */
  async get(productId: string, fileId: string, actor: Actor | null): Promise<ProductMediaFile> {
    await this.visible(productId, actor);
    return toMediaFile(await this.row(this.db, productId, fileId));
  }

  /** The file's contents; `public` when the product is listed (anyone may read it). */
  async open(productId: string, fileId: string, actor: Actor | null): Promise<{ file: StoredFile; stream: Readable; public: boolean }> {
    const status = await this.visible(productId, actor);
    await this.row(this.db, productId, fileId);
    return { ...(await this.kernel.files.open(fileId, { owner: this.options.owner })), public: status === 'listed' };
  }

  /** The supplier removes a file: its link and the stored file, in one transaction (the bytes go once it commits). */
  async remove(input: { productId: string; fileId: string }, ctx: CallContext): Promise<void> {
    await withTransaction(this.db, ctx.tx, async (tx) => {
      await this.editable(tx, input.productId, ctx.actor, true);
      const before = await this.row(tx, input.productId, input.fileId);
      await tx.delete(productMedia).where(eq(productMedia.fileId, before.fileId));
      await this.kernel.files.remove(before.fileId, { actor: ctx.actor, owner: this.options.owner, requestId: ctx.requestId, tx });
      await this.audit(tx, ctx, input.productId, 'product.media-remove', toMediaFile(before), undefined);
    });
  }

  /** Count and cover of each product's media, for a page of product reads in one query. */
  async summaries(productIds: readonly string[], db: Executor): Promise<Map<string, ProductMediaSummary>> {
    const ids = [...new Set(productIds)];
    if (ids.length === 0) return new Map();
    // The cover: the first image in display order, else the first file.
    const rows = await db
      .selectDistinctOn([productMedia.productId], {
        media: productMedia,
        count: sql<number>`count(*) over (partition by ${productMedia.productId})`.mapWith(Number),
      })
      .from(productMedia)
      .where(inArray(productMedia.productId, ids))
      .orderBy(productMedia.productId, sql`${productMedia.kind} <> 'image'`, asc(productMedia.position), asc(productMedia.createdAt));
    return new Map(rows.map((r) => [r.media.productId, { count: r.count, cover: toMediaFile(r.media) }]));
  }

  /** Links a stored file to the product (in `uploadOnce`'s transaction); `false` when a concurrent upload with the key won. */
  private async link(tx: Transaction, productId: string, file: StoredFile, caption: string | null, uploadKey: string | null, ctx: CallContext): Promise<boolean> {
    await this.editable(tx, productId, ctx.actor, true);
    const [{ n, last }] = (await tx
      .select({ n: count(), last: sql<number | null>`max(${productMedia.position})` })
      .from(productMedia)
      .where(eq(productMedia.productId, productId))) as [{ n: number; last: number | null }];
    if (Number(n) >= this.options.maxPerProduct) {
      throw new DomainError('conflict', MediaProblems.MEDIA_LIMIT, `A product has at most ${this.options.maxPerProduct} media files`, { max: this.options.maxPerProduct });
    }
    const [linked] = await tx
      .insert(productMedia)
      .values({
        fileId: file.id,
        productId,
        kind: kindOf(file.contentType),
        contentType: file.contentType,
        name: file.name,
        size: file.size,
        sha256: file.sha256,
        caption,
        position: last === null ? 0 : Number(last) + 1,
        uploadKey,
      })
      .onConflictDoNothing()
      .returning();
    if (!linked) return false;
    await this.audit(tx, ctx, productId, 'product.media-upload', undefined, toMediaFile(linked));
    return true;
  }

  /**
   * The product, if `actor` is its supplier and it is in a state its supplier may edit.
   * With `lock`, its row is locked until the transaction ends (the kernel's transitions
   * lock it too), so no file is added to a product being submitted meanwhile.
   */
  async editable(db: Executor | undefined, productId: string, actor: Actor, lock = false): Promise<void> {
    const p = kernelTables.products;
    const query = (db ?? this.db).select({ status: p.status, supplierId: p.supplierId }).from(p).where(eq(p.id, productId));
    const [row] = lock ? await query.for('update') : await query;
    if (!row || (row.supplierId !== actor.supplierId && row.status !== 'listed')) throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${productId} does not exist`);
    if (row.supplierId !== actor.supplierId) throw forbidden('Only the product’s supplier may change its media');
    if (!EDITABLE_STATES.includes(row.status as ProductState)) {
      throw new DomainError('conflict', 'PRODUCT_NOT_EDITABLE', `A ${row.status} product’s media cannot be changed; it can be in ${EDITABLE_STATES.join(', ')}`, { state: row.status });
    }
  }

  /** The product's status, if `actor` (or anyone, when it is listed) may see it; as the kernel decides for product reads. */
  private async visible(productId: string, actor: Actor | null): Promise<string> {
    const p = kernelTables.products;
    const [row] = await this.db.select({ status: p.status }).from(p).where(eq(p.id, productId));
    if (row?.status === 'listed') return 'listed';
    if (!actor) throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${productId} does not exist`);
    return (await this.kernel.products.get(productId, { actor })).status;
  }

  private async row(db: Executor, productId: string, fileId: string): Promise<Row> {
    const [row] = await db.select().from(productMedia).where(and(eq(productMedia.fileId, fileId), eq(productMedia.productId, productId)));
    if (!row) throw notFound(MediaProblems.MEDIA_NOT_FOUND, `Product ${productId} has no media file ${fileId}`);
    return row;
  }

  private async audit(tx: Transaction, ctx: CallContext, productId: string, action: string, before: ProductMediaFile | undefined, after: ProductMediaFile | undefined): Promise<void> {
    await this.kernel.audit.record(
      { actor: ctx.actor, entityType: 'product', entityId: productId, action, region: await this.kernel.regions.root({ tx }), before, after, requestId: ctx.requestId },
      { tx },
    );
  }
}
