import { and, asc, desc, eq, gt, ilike, inArray, lt, sql } from 'drizzle-orm';
import {
  DomainError,
  decodeCursor,
  kernelTables,
  forbidden,
  hasRole,
  toPage,
  withTransaction,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type KernelServices,
  type PageOf,
  type PageRequest,
} from '@diandan/kernel';
import { RegistryProblems, type SupplierRegistry } from './registry.js';
import { applications, citizenFeedback, ratings, scores } from './schema.js';

/** How the quality score is computed (see the README, "Quality score"). */
export interface ScoreConfig {
  /** Weights of the three criteria of a unit's evaluation. */
  readonly criteria: { readonly punctuality: number; readonly quality: number; readonly cooperation: number };
  /** Weights of the units' evaluations and of citizens' feedback in the score. */
  readonly sources: { readonly units: number; readonly citizens: number };
  /** Fewer unit evaluations than this: no score (and not a quality supplier). */
  readonly minRatings: number;
  /** An evaluation this many days old counts half as much as one made today. */
  readonly halfLifeDays: number;
  /** The quality tier (优质供应商名录): a score of at least this. */
  readonly qualityScore: number;
}

/** A unit's evaluation of a delivered order (履约评价). */
export interface Rating {
  id: number;
  orderId: string;
  supplierId: string;
  unitId: string;
  punctuality: number;
  quality: number;
  cooperation: number;
  comment: string;
  ratedBy: string;
  createdAt: string;
}

/** A supplier's score and tier, as shown on kernel records and in the directory. */
export interface SupplierQuality {
  /** 0–5, null until the supplier has `minRatings` unit evaluations. */
  score: number | null;
  /** `quality` (优质供应商) or `standard`. */
  tier: 'quality' | 'standard';
  unitRatings: number;
  citizenRatings: number;
  computedAt: string;
}

/** A public directory entry (供应商名录): no personal data. */
export interface DirectoryEntry {
  id: string;
  name: string;
  kind: string;
  description: string;
  categories: string[];
  regionsServed: string[];
  tier: 'quality' | 'standard';
  score: number | null;
  unitRatings: number;
}

const RATINGS = 'supplier-ratings.by-id-desc';
const DIRECTORY = 'supplier-directory.by-id';

/** Ratings, citizen feedback, the quality score and tier, and the public directory. */
export class SupplierQualityService {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly registry: SupplierRegistry,
    private readonly config: ScoreConfig,
  ) {}

  /** The operator of the ordering unit rates a delivered order, once (punctuality, quality, cooperation: 1–5). */
  async rate(input: { orderId: string; punctuality: number; quality: number; cooperation: number; comment?: string | undefined }, ctx: CallContext): Promise<Rating> {
    if (!hasRole(ctx.actor, ['unit-operator']) || !ctx.actor.unitId) throw forbidden('Only the ordering unit’s operators rate a delivery');
    for (const [k, v] of Object.entries({ punctuality: input.punctuality, quality: input.quality, cooperation: input.cooperation })) {
      if (!Number.isInteger(v) || v < 1 || v > 5) throw new DomainError('invalid', 'REGISTRY_INVALID_RATING', `${k} is rated 1 to 5`);
    }
    return withTransaction(this.db, ctx.tx, async (tx) => {
      // ORDER_NOT_FOUND for an order the actor may not see.
      const order = await this.kernel.orders.get(input.orderId, { actor: ctx.actor, tx });
      if (order.unitId !== ctx.actor.unitId) throw forbidden('Only the ordering unit rates its delivery');
      if (order.status !== 'delivered' && order.status !== 'closed') {
        throw new DomainError('conflict', RegistryProblems.ORDER_NOT_DELIVERED, `Order ${order.id} is ${order.status}: only a delivered order is rated`, { state: order.status });
      }
      const [row] = await tx
        .insert(ratings)
        .values({
          orderId: order.id,
          supplierId: order.supplierId,
          unitId: order.unitId,
          punctuality: input.punctuality,
          quality: input.quality,
          cooperation: input.cooperation,
          comment: input.comment ?? '',
          ratedBy: ctx.actor.userId,
        })
        .onConflictDoNothing({ target: ratings.orderId })
        .returning();
      if (!row) throw new DomainError('conflict', RegistryProblems.ALREADY_RATED, `Order ${order.id} has been rated`);
      const rating = toRating(row);
      const path = (await this.kernel.regions.path(order.regionCode, { tx }))!;
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'supplier-rating', entityId: String(rating.id), action: 'supplier-rating.create', region: { code: order.regionCode, path }, after: rating, requestId: ctx.requestId },
        { tx },
      );
      return rating;
    });
  }

  /** The evaluations of one supplier, newest first, for whoever may see its application. */
  async ratingsOf(input: { applicationId: string; page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Rating>> {
    const application = await this.registry.get(input.applicationId, ctx);
    const before = input.page.cursor ? Number(decodeCursor(input.page.cursor, RATINGS, ['integer'])[0]) : undefined;
    if (!application.supplierId) return { items: [], nextCursor: null };
    const rows = await this.db
      .select()
      .from(ratings)
      .where(and(eq(ratings.supplierId, application.supplierId), before === undefined ? undefined : lt(ratings.id, before)))
      .orderBy(desc(ratings.id))
      .limit(input.page.limit + 1);
    return toPage(rows, input.page.limit, RATINGS, (r) => [r.id], toRating);
  }

  /** Stores a citizen's feedback once per event (the durable `feedback.received` subscription). */
  async recordFeedback(eventId: string, event: { orderId: string; supplierId: string; rating: number }): Promise<void> {
    await this.db
      .insert(citizenFeedback)
      .values({ eventId, orderId: event.orderId, supplierId: event.supplierId, rating: event.rating })
      .onConflictDoNothing();
  }

  /**
   * Recomputes every supplier's score and tier (the `recompute-scores` job). Each
   * evaluation is weighted by `0.5 ^ (age in days / halfLifeDays)`:
   *
   *   unit(s)    = Σ w·(wp·punctuality + wq·quality + wc·cooperation)/(wp+wq+wc) / Σ w
   *   citizen(s) = Σ w·rating / Σ w
   *   score(s)   = (Wu·unit + Wc·citizen) / (Wu + Wc), the citizens' part only where there is feedback
   *
   * A supplier with fewer than `minRatings` unit evaluations has no score; an approved
   * supplier whose score is at least `qualityScore` is in the quality tier.
   */
  async recompute(input: { asOf?: string | undefined } = {}): Promise<{ suppliers: number; quality: number }> {
    const { criteria: c, sources, halfLifeDays, minRatings, qualityScore } = this.config;
    const asOf = input.asOf ? new Date(input.asOf) : new Date();
    const weight = (at: unknown) => sql`power(0.5, greatest(0, extract(epoch from (${asOf.toISOString()}::timestamptz - ${at})) / 86400.0) / ${halfLifeDays}::float8)`;
    return withTransaction(this.db, undefined, async (tx) => {
      const unit = await tx
        .select({
          supplierId: ratings.supplierId,
          n: sql<number>`count(*)::int`,
          w: sql<number>`sum(${weight(ratings.createdAt)})::float8`,
          s: sql<number>`sum(${weight(ratings.createdAt)} * (${c.punctuality}::float8 * ${ratings.punctuality} + ${c.quality}::float8 * ${ratings.quality} + ${c.cooperation}::float8 * ${ratings.cooperation}) / ${c.punctuality + c.quality + c.cooperation}::float8)::float8`,
        })
        .from(ratings)
        .groupBy(ratings.supplierId);
      const citizens = await tx
        .select({
          supplierId: citizenFeedback.supplierId,
          n: sql<number>`count(*)::int`,
          w: sql<number>`sum(${weight(citizenFeedback.createdAt)})::float8`,
          s: sql<number>`sum(${weight(citizenFeedback.createdAt)} * ${citizenFeedback.rating})::float8`,
        })
        .from(citizenFeedback)
        .groupBy(citizenFeedback.supplierId);
      const approved = await tx.select({ id: applications.supplierId }).from(applications).where(eq(applications.status, 'approved'));
      const approvedIds = new Set(approved.map((a) => a.id));
      const ids = new Set([...unit.map((u) => u.supplierId), ...citizens.map((x) => x.supplierId), ...approved.flatMap((a) => (a.id ? [a.id] : []))]);
      if (ids.size === 0) return { suppliers: 0, quality: 0 };
      // Only suppliers the kernel knows (citizen feedback names kernel suppliers); reading a kernel table is fine, writing never.
      const known = await tx.select({ id: kernelTables.suppliers.id }).from(kernelTables.suppliers).where(inArray(kernelTables.suppliers.id, [...ids]));
      const knownIds = new Set(known.map((k) => k.id));
      const unitBy = new Map(unit.map((x) => [x.supplierId, x]));
      const citizensBy = new Map(citizens.map((x) => [x.supplierId, x]));
      const rows = [...knownIds].map((supplierId) => {
        const u = unitBy.get(supplierId);
        const z = citizensBy.get(supplierId);
        const unitMean = u && u.w > 0 ? u.s / u.w : null;
        const citizenMean = z && z.w > 0 ? z.s / z.w : null;
        let score: number | null = null;
        if (unitMean !== null && (u?.n ?? 0) >= minRatings) {
          const wc = citizenMean === null ? 0 : sources.citizens;
          score = Math.round(((sources.units * unitMean + wc * (citizenMean ?? 0)) / (sources.units + wc)) * 100) / 100;
        }
        const tier = score !== null && score >= qualityScore && approvedIds.has(supplierId) ? 'quality' : 'standard';
        return { supplierId, score, unitRatings: u?.n ?? 0, citizenRatings: z?.n ?? 0, tier, computedAt: asOf };
      });
      if (rows.length) {
        await tx
          .insert(scores)
          .values(rows)
          .onConflictDoUpdate({
            target: scores.supplierId,
            set: { score: sql`excluded.score`, unitRatings: sql`excluded.unit_ratings`, citizenRatings: sql`excluded.citizen_ratings`, tier: sql`excluded.tier`, computedAt: sql`excluded.computed_at` },
          });
      }
      // The product list is cached with its extension data: every process drops it on commit.
      await this.kernel.products.announceChange({ tx });
      return { suppliers: rows.length, quality: rows.filter((r) => r.tier === 'quality').length };
    });
  }

  /** Score and tier of a page of suppliers, in one query (extension data). */
  async qualityOf(supplierIds: readonly string[], db: Executor): Promise<Map<string, SupplierQuality>> {
    const ids = [...new Set(supplierIds)];
    if (ids.length === 0) return new Map();
    const rows = await db.select().from(scores).where(inArray(scores.supplierId, ids));
    return new Map(
      rows.map((r) => [
        r.supplierId,
        { score: r.score, tier: r.tier as SupplierQuality['tier'], unitRatings: r.unitRatings, citizenRatings: r.citizenRatings, computedAt: r.computedAt.toISOString() },
      ]),
    );
  }

  /** The public directory of approved suppliers (供应商名录), searchable; no personal data. */
  async directory(query: {
    q?: string | undefined;
    kind?: string | undefined;
    category?: string | undefined;
    region?: string | undefined;
    tier?: 'quality' | 'standard' | undefined;
    page: PageRequest;
  }): Promise<PageOf<DirectoryEntry>> {
    const after = query.page.cursor ? String(decodeCursor(query.page.cursor, DIRECTORY, ['uuid'])[0]) : undefined;
    let served: string[] | undefined;
    if (query.region) {
      // A supplier serving a region serves everything below it: match the region and its ancestors.
      const path = await this.kernel.regions.path(query.region);
      if (!path) return { items: [], nextCursor: null };
      served = path.split('/').filter(Boolean);
    }
    const tier = sql`coalesce(${scores.tier}, 'standard')`;
    const rows = await this.db
      .select({ a: applications, score: scores.score, tier: sql<string>`${tier}`, unitRatings: sql<number>`coalesce(${scores.unitRatings}, 0)` })
      .from(applications)
      .leftJoin(scores, eq(scores.supplierId, applications.supplierId))
      .where(
        and(
          eq(applications.status, 'approved'),
          query.q ? ilike(applications.name, `%${query.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`) : undefined,
          query.kind ? eq(applications.kind, query.kind) : undefined,
          query.category ? sql`${applications.categories} @> array[${query.category}]::text[]` : undefined,
          served ? sql`${applications.regionsServed} && array[${sql.join(served.map((s) => sql`${s}`), sql`, `)}]::text[]` : undefined,
          query.tier ? sql`${tier} = ${query.tier}` : undefined,
          after ? gt(applications.id, after) : undefined,
        ),
      )
      .orderBy(asc(applications.id))
      .limit(query.page.limit + 1);
    return toPage(rows, query.page.limit, DIRECTORY, (r) => [r.a.id], (r) => ({
      id: r.a.id,
      name: r.a.name,
      kind: r.a.kind,
      description: r.a.description,
      categories: r.a.categories,
      regionsServed: r.a.regionsServed,
      tier: r.tier as DirectoryEntry['tier'],
      score: r.score,
      unitRatings: r.unitRatings,
    }));
  }

  /** One approved supplier of the directory; `SUPPLIER_NOT_FOUND` otherwise. */
  async directoryEntry(id: string): Promise<DirectoryEntry> {
    const [row] = await this.db
      .select({ a: applications, score: scores.score, tier: scores.tier, unitRatings: scores.unitRatings })
      .from(applications)
      .leftJoin(scores, eq(scores.supplierId, applications.supplierId))
      .where(and(eq(applications.id, id), eq(applications.status, 'approved')));
    if (!row) throw new DomainError('not_found', 'SUPPLIER_NOT_FOUND', `Supplier ${id} is not in the directory`);
    return {
      id: row.a.id,
      name: row.a.name,
      kind: row.a.kind,
      description: row.a.description,
      categories: row.a.categories,
      regionsServed: row.a.regionsServed,
      tier: (row.tier ?? 'standard') as DirectoryEntry['tier'],
      score: row.score,
      unitRatings: row.unitRatings ?? 0,
    };
  }
}

function toRating(r: typeof ratings.$inferSelect): Rating {
  return {
    id: r.id,
    orderId: r.orderId,
    supplierId: r.supplierId,
    unitId: r.unitId,
    punctuality: r.punctuality,
    quality: r.quality,
    cooperation: r.cooperation,
    comment: r.comment,
    ratedBy: r.ratedBy,
    createdAt: r.createdAt.toISOString(),
  };
}
