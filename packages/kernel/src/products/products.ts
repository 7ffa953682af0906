import { and, arrayContains, arrayOverlaps, asc, eq, gt, gte, ilike, lte, or, sql } from 'drizzle-orm';
import { hasRole, type Actor } from '../auth/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallContext } from '../call.js';
import type { ReferenceData } from '../core/reference-data.js';
import type { RegionService } from '../core/regions.js';
import { withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, forbidden, notFound, ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { HookBus } from '../hooks.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { stale } from '../safe-writes/etag.js';
import { nextState } from '../workflow/state-machine.js';
import { productDelisted, productListed, productSubmitted, productTransitionGuard } from './hooks.js';
import { EDITABLE_STATES, PRODUCT_ACTORS, productLifecycle, type ProductAction, type ProductState } from './lifecycle.js';
import type { LibraryCache } from './list-cache.js';
import { suppliers } from '../suppliers/schema.js';
import { products, productVersions } from './schema.js';

/** A link to a photo, video or document about the product. */
export interface MediaLink {
  url: string;
  kind: 'image' | 'video' | 'document';
  caption?: string | undefined;
}

/** What a supplier writes about a product. */
export interface ProductContent {
  title: string;
  /** One or two sentences, shown in lists. */
  summary: string;
  description: string;
  category: string;
  /** How it is delivered, e.g. 现场演出 / 线上直播 / 巡演. */
  form: string;
  targetGroups: string[];
  audienceMin: number;
  audienceMax: number;
  durationMinutes: number;
  costPerSession: number;
  serviceableRegions: string[];
  tags: string[];
  media: MediaLink[];
}

/** A product as lists show it: no long text, no media. */
export interface ProductSummary extends Omit<ProductContent, 'description' | 'media'> {
  id: string;
  supplierId: string;
  status: ProductState;
  version: number;
  contentVersion: number;
  extensions?: ExtensionData;
}

/** A product with everything. */
export interface Product extends ProductSummary {
  description: string;
  media: MediaLink[];
  rejectionReasons: string[] | null;
}

/** Filters of the library search. */
export interface ProductFilter {
  status?: ProductState | undefined;
  category?: string | undefined;
  group?: string | undefined;
  /** Products that can be delivered to this region (they serve it or an ancestor). */
  region?: string | undefined;
  /** Text in the title or summary (Chinese included: substring match). */
  q?: string | undefined;
  costMin?: number | undefined;
  costMax?: number | undefined;
  supplierId?: string | undefined;
}

const summaryColumns = {
  id: products.id,
  supplierId: products.supplierId,
  status: products.status,
  title: products.title,
  summary: products.summary,
  category: products.category,
  form: products.form,
  targetGroups: products.targetGroups,
  audienceMin: products.audienceMin,
  audienceMax: products.audienceMax,
  durationMinutes: products.durationMinutes,
  costPerSession: products.costPerSession,
  serviceableRegions: products.serviceableRegions,
  tags: products.tags,
  version: products.version,
  contentVersion: products.contentVersion,
};

const BY_ID = 'products.by-id';

/** Staff who see products in every state. */
const CURATORS = ['reviewer', 'city-admin'] as const;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The product library (产品库): suppliers write, reviewers list, everyone signed in searches. */
export class ProductService {
  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly groups: ReferenceData,
    private readonly categories: ReferenceData,
    private readonly audit: AuditLog,
    private readonly hooks: HookBus,
    private readonly cache: LibraryCache<ProductSummary>,
    private readonly extensions: ExtensionRegistry,
  ) {}

  /** A supplier drafts a product. References (category, groups, regions) must exist. */
  async create(content: ProductContent & { id?: string | undefined; extensions?: ExtensionData | undefined }, ctx: CallContext): Promise<Product> {
    const supplierId = this.ownSupplier(ctx.actor);
    const { extensions, id, ...fields } = content;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [own] = await tx.select({ id: suppliers.id }).from(suppliers).where(eq(suppliers.id, supplierId));
      if (!own) throw forbidden(`Supplier ${supplierId} of your token is not in the supplier directory`);
      await this.checkContent(fields, tx);
      const [row] = await tx.insert(products).values({ ...fields, supplierId, ...(id ? { id } : {}) }).returning();
      const product = toProduct(row!);
      await this.hooks.check(productTransitionGuard, { action: 'create', before: null, after: product }, { tx, actor: ctx.actor });
      await tx.insert(productVersions).values({ productId: product.id, contentVersion: 1, content: fields, savedBy: ctx.actor.userId });
      await this.extensions.save('product', product.id, extensions, { tx, actor: ctx.actor, created: true });
      await this.audit.record(
        { actor: ctx.actor, entityType: 'product', entityId: product.id, action: 'product.create', region: await this.regions.root({ tx }), after: product, requestId: ctx.requestId },
        { tx },
      );
      return this.extensions.attachOne('product', product, tx);
    });
  }

  /** One product, if the actor may see it: listed ones to all, others to their supplier and curators. */
  async get(id: string, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Product> {
    const db = ctx.tx ?? this.db;
    const [row] = await db.select().from(products).where(eq(products.id, id));
    if (!row || !this.canSee(ctx.actor, row.status as ProductState, row.supplierId)) {
      throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${id} does not exist`);
    }
    return this.extensions.attachOne('product', toProduct(row), db);
  }

  /**
   * Searches the library. Without `status` only listed products of active suppliers
   * are shown; other states are for curators, and a supplier sees its own products in
   * any state. Listed searches are cached (see list-cache.ts), extension data included.
   */
  async list(query: ProductFilter & { page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<ProductSummary>> {
    const { page, ...filter } = query;
    const { actor } = ctx;
    const status = filter.status ?? 'listed';
    let supplierId = filter.supplierId;
    if (status !== 'listed' && !hasRole(actor, CURATORS)) {
      if (!actor.supplierId || (supplierId && supplierId !== actor.supplierId)) return { items: [], nextCursor: null };
      supplierId = actor.supplierId;
    }
    let servedBy: string[] | undefined;
    if (filter.region) {
      const path = await this.regions.path(filter.region);
      if (!path) return { items: [], nextCursor: null };
      servedBy = path.split('/').filter(Boolean);
    }
    const query_ = async () => {
      const found = await this.search(status, supplierId, servedBy, filter, page);
      return { ...found, items: await this.extensions.attach('product', found.items, this.db) };
    };
    if (status !== 'listed') return query_();
    // Listed products look the same to everyone signed in, so one cache serves all.
    const key = JSON.stringify([supplierId, servedBy, filter.category, filter.group, filter.q, filter.costMin, filter.costMax, page.limit, page.cursor]);
    return this.cache.get(key, query_);
  }
  private async search(
    status: ProductState,
    supplierId: string | undefined,
    servedBy: string[] | undefined,
    filter: ProductFilter,
    page: PageRequest,
  ): Promise<PageOf<ProductSummary>> {
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const text = filter.q ? `%${escapeLike(filter.q)}%` : undefined;
    const rows = await this.db
      .select(summaryColumns)
      .from(products)
      .innerJoin(suppliers, eq(suppliers.id, products.supplierId))
      .where(
        and(
          eq(products.status, status),
          // A suspended supplier's products leave the library until it is reinstated.
          status === 'listed' ? eq(suppliers.status, 'active') : undefined,
          supplierId ? eq(products.supplierId, supplierId) : undefined,
          filter.category ? eq(products.category, filter.category) : undefined,
          filter.group ? arrayContains(products.targetGroups, [filter.group]) : undefined,
          servedBy ? arrayOverlaps(products.serviceableRegions, servedBy) : undefined,
          text ? or(ilike(products.title, text), ilike(products.summary, text)) : undefined,
          filter.costMin !== undefined ? gte(products.costPerSession, filter.costMin) : undefined,
          filter.costMax !== undefined ? lte(products.costPerSession, filter.costMax) : undefined,
          after ? gt(products.id, after) : undefined,
        ),
      )
      .orderBy(asc(products.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID, (r) => [r.id], (r) => r as ProductSummary);
  }

  /**
   * The supplier changes the content of a draft, rejected or delisted product. Saves
   * a new content version; `expectedVersion` is the If-Match version.
   */
  async update(
    input: { id: string; expectedVersion: number; content: ProductContent; extensions?: ExtensionData | undefined },
    ctx: CallContext,
  ): Promise<Product> {
    const { id, expectedVersion, content } = input;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const current = await this.lockOwn(tx, ctx.actor, id);
      if (current.version !== expectedVersion) throw stale();
      if (!EDITABLE_STATES.includes(current.status as ProductState)) {
        throw new DomainError('conflict', 'PRODUCT_NOT_EDITABLE', `A ${current.status} product cannot be changed; it can be in ${EDITABLE_STATES.join(', ')}`);
      }
      await this.checkContent(content, tx);
      const contentVersion = current.contentVersion + 1;
      const before = toProduct(current);
      const proposed: Product = { ...before, ...content, version: current.version + 1, contentVersion };
      await this.hooks.check(productTransitionGuard, { action: 'update', before, after: proposed }, { tx, actor: ctx.actor });
      const [row] = await tx
        .update(products)
        .set({ ...content, version: current.version + 1, contentVersion, updatedAt: sql`now()` })
        .where(eq(products.id, id))
        .returning();
      await tx.insert(productVersions).values({ productId: id, contentVersion, content, savedBy: ctx.actor.userId });
      const after = toProduct(row!);
      await this.extensions.save('product', id, input.extensions, { tx, actor: ctx.actor, created: false });
      await this.audit.record(
        { actor: ctx.actor, entityType: 'product', entityId: id, action: 'product.update', region: await this.regions.root({ tx }), before, after, requestId: ctx.requestId },
        { tx },
      );
      return this.extensions.attachOne('product', after, tx);
    });
  }

  /** Fires a review-workflow transition; registered guards may refuse it; its hook follows the commit. */
  async transition(
    input: { id: string; action: ProductAction; expectedVersion: number; reasons?: string[] | undefined },
    ctx: CallContext,
  ): Promise<Product> {
    const { id, action, expectedVersion, reasons } = input;
    const { actor } = ctx;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [current] = await tx.select().from(products).where(eq(products.id, id)).for('update');
      if (!current || !this.canSee(actor, current.status as ProductState, current.supplierId)) {
        throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${id} does not exist`);
      }
      const allowed = PRODUCT_ACTORS[action];
      // A supplier acts only on its own products (a curator who is also a supplier acts as curator).
      const asCurator = hasRole(actor, allowed.filter((role) => role !== 'supplier'));
      if (!hasRole(actor, allowed) || (!asCurator && actor.supplierId !== current.supplierId)) {
        throw forbidden(`Only ${allowed.join(' or ')} may ${action} a product`);
      }
      if (current.version !== expectedVersion) throw stale();
      const to = nextState(productLifecycle, current.status as ProductState, action);
      if (action === 'reject' && (!reasons?.length || reasons.some((r) => !r.trim()))) {
        throw new DomainError('invalid', 'REJECTION_REASONS_REQUIRED', 'Say why the product is rejected');
      }
      const before = toProduct(current);
      const rejectionReasons = action === 'reject' ? reasons! : action === 'submit' ? null : current.rejectionReasons;
      const proposed: Product = { ...before, status: to, version: current.version + 1, rejectionReasons };
      await this.hooks.check(productTransitionGuard, { action, before, after: proposed }, { tx, actor });
      const [row] = await tx
        .update(products)
        .set({
          status: to,
          version: current.version + 1,
          rejectionReasons,
          listedAt: action === 'list' ? sql`now()` : current.listedAt,
          updatedAt: sql`now()`,
        })
        .where(eq(products.id, id))
        .returning();
      const after = await this.extensions.attachOne('product', toProduct(row!), tx);
      await this.audit.record(
        {
          actor,
          entityType: 'product',
          entityId: id,
          action: `product.${action}`,
          region: await this.regions.root({ tx }),
          before: { status: current.status, version: current.version },
          after: { status: after.status, version: after.version, rejectionReasons: after.rejectionReasons },
          requestId: ctx.requestId,
        },
        { tx },
      );
      if (action === 'list' || action === 'delist') await this.cache.announce(tx);
      const hook = { submit: productSubmitted, list: productListed, delist: productDelisted }[action as 'submit' | 'list' | 'delist'];
      if (hook) await this.hooks.publish(tx, hook, { product: after, actorId: actor.userId });
      return after;
    });
  }

  /**
   * Tells every process that what the library shows changed, inside `tx` — for plugins
   * whose product extension data changes outside a product write (a new quality score).
   */
  async announceChange(ctx: { tx: Executor }): Promise<void> {
    await this.cache.announce(ctx.tx);
  }

  private canSee(actor: Actor, status: ProductState, supplierId: string): boolean {
    return status === 'listed' || actor.supplierId === supplierId || hasRole(actor, CURATORS);
  }

  private ownSupplier(actor: Actor): string {
    if (!hasRole(actor, ['supplier']) || !actor.supplierId) {
      throw forbidden('Only a supplier (with a supplier id in its token) may write products');
    }
    return actor.supplierId;
  }

  private async lockOwn(tx: Executor, actor: Actor, id: string) {
    const supplierId = this.ownSupplier(actor);
    const [row] = await tx.select().from(products).where(eq(products.id, id)).for('update');
    if (!row || (row.supplierId !== supplierId && row.status !== 'listed')) throw notFound(ProblemCodes.PRODUCT_NOT_FOUND, `Product ${id} does not exist`);
    if (row.supplierId !== supplierId) throw forbidden('Only the product’s supplier may change it');
    return row;
  }

  private async checkContent(content: ProductContent, db: Executor): Promise<void> {
    const problems: string[] = [];
    if (content.audienceMin > content.audienceMax) problems.push('audienceMin is larger than audienceMax');
    const [missingCategory] = await this.categories.missing([content.category], { tx: db });
    if (missingCategory) problems.push(`category "${missingCategory}" does not exist`);
    const missingGroups = await this.groups.missing(content.targetGroups, { tx: db });
    if (missingGroups.length) problems.push(`population groups ${missingGroups.join(', ')} do not exist`);
    for (const code of content.serviceableRegions) {
      if (!(await this.regions.path(code, { tx: db }))) problems.push(`region ${code} does not exist`);
    }
    if (problems.length) throw new DomainError('invalid', ProblemCodes.PRODUCT_INVALID, problems.join('; '), { problems });
  }
}

function toProduct(r: typeof products.$inferSelect): Product {
  return {
    id: r.id,
    supplierId: r.supplierId,
    status: r.status as ProductState,
    title: r.title,
    summary: r.summary,
    description: r.description,
    category: r.category,
    form: r.form,
    targetGroups: r.targetGroups,
    audienceMin: r.audienceMin,
    audienceMax: r.audienceMax,
    durationMinutes: r.durationMinutes,
    costPerSession: r.costPerSession,
    serviceableRegions: r.serviceableRegions,
    tags: r.tags,
    media: r.media as MediaLink[],
    rejectionReasons: r.rejectionReasons,
    version: r.version,
    contentVersion: r.contentVersion,
  };
}
