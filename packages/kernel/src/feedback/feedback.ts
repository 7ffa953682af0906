import { createHash, randomBytes } from 'node:crypto';
import { and, avg, count, eq, isNull, sql } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.js';
import { hasRole, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import type { RegionService } from '../core/regions.js';
import type { ReferenceData } from '../core/reference-data.js';
import type { CallContext } from '../call.js';
import { withTransaction, type Database, type Transaction } from '../db/database.js';
import { DomainError, forbidden, notFound } from '../errors.js';
import { orders } from '../orders/schema.js';
import type { HookBus } from '../hooks.js';
import type { OrderService } from '../orders/orders.js';
import { feedbackReceived } from './hooks.js';
import { feedback, feedbackTokens } from './schema.js';

/** What a citizen answers. Ratings are 1–5. */
export interface FeedbackInput {
  rating: number;
  content?: number | undefined;
  performance?: number | undefined;
  organisation?: number | undefined;
  comment?: string | undefined;
  respondentGroup?: string | undefined;
}

/** Feedback on one delivery, summed up. Satisfied means a rating of 4 or 5. */
export interface FeedbackSummary {
  orderId: string;
  responses: number;
  averageRating: number | null;
  /** Share of responses rating 4 or 5 (满意率), 0–1; null without responses. */
  satisfactionRate: number | null;
  dimensions: { content: number | null; performance: number | null; organisation: number | null };
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');
const round = (n: unknown) => (n == null ? null : Math.round(Number(n) * 100) / 100);

/** Anonymous feedback by single-use tokens, and its summary per delivery. */
export class FeedbackService {
  constructor(
    private readonly db: Database,
    private readonly orders: OrderService,
    private readonly regions: RegionService,
    private readonly groups: ReferenceData,
    private readonly audit: AuditLog,
    private readonly hooks: HookBus,
  ) {}

  /**
   * Mints `count` single-use tokens for a delivered order: its unit's operator or
   * staff of a region over it (not the supplier).
   */
  async mintTokens(input: { orderId: string; count: number }, ctx: CallContext): Promise<string[]> {
    const { orderId, count } = input;
    const { actor } = ctx;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const order = await this.orders.get(orderId, { actor, tx });
      // Tokens go to the audience through the ordering unit; a supplier minting them
      // could rate its own delivery.
      const mayMint = (hasRole(actor, ['unit-operator']) && actor.unitId === order.unitId) || hasRole(actor, REGION_STAFF);
      if (!mayMint) throw forbidden('Feedback tokens are handed out by the ordering unit or its region’s staff');
      if (order.status !== 'delivered' && order.status !== 'closed') {
        throw new DomainError('conflict', 'ORDER_NOT_DELIVERED', 'Feedback tokens exist only for delivered orders');
      }
      const tokens = Array.from({ length: count }, () => randomBytes(18).toString('base64url'));
      await tx.insert(feedbackTokens).values(tokens.map((t) => ({ tokenHash: hash(t), orderId })));
      await this.audit.record(
        {
          actor,
          entityType: 'order',
          entityId: orderId,
          action: 'feedback.mintTokens',
          region: { code: order.regionCode, path: (await this.regions.path(order.regionCode, { tx }))! },
          after: { tokens: count },
          requestId: ctx.requestId,
        },
        { tx },
      );
      return tokens;
    });
  }

  /** A citizen's feedback: the token is used up atomically, so it counts once. */
  async submit(input: FeedbackInput & { token: string }, options: { tx?: Transaction | undefined } = {}): Promise<void> {
    const { token, ...answer } = input;
    await withTransaction(this.db, options.tx, async (tx) => {
      if (answer.respondentGroup && (await this.groups.missing([answer.respondentGroup], { tx })).length) {
        throw new DomainError('invalid', 'FEEDBACK_INVALID', `Population group ${answer.respondentGroup} does not exist`);
      }
      const [used] = await tx
        .update(feedbackTokens)
        .set({ usedAt: sql`now()` })
        .where(and(eq(feedbackTokens.tokenHash, hash(token)), isNull(feedbackTokens.usedAt)))
        .returning({ orderId: feedbackTokens.orderId });
      if (!used) throw notFound('FEEDBACK_TOKEN_INVALID', 'This feedback link is unknown or has been used');
      await tx.insert(feedback).values({ orderId: used.orderId, ...answer });
      const [order] = await tx.select({ supplierId: orders.supplierId, productId: orders.productId }).from(orders).where(eq(orders.id, used.orderId));
      await this.hooks.publish(tx, feedbackReceived, {
        orderId: used.orderId,
        supplierId: order!.supplierId,
        productId: order!.productId,
        rating: answer.rating,
        content: answer.content ?? null,
        performance: answer.performance ?? null,
        organisation: answer.organisation ?? null,
      });
    });
  }

  /** Satisfaction of one delivery, for whoever may see the order. */
  async summary(orderId: string, ctx: { actor: Actor }): Promise<FeedbackSummary> {
    await this.orders.get(orderId, ctx);
    const [row] = await this.db
      .select({
        responses: count(),
        averageRating: avg(feedback.rating),
        satisfied: sql<number>`count(*) filter (where ${feedback.rating} >= 4)::int`,
        content: avg(feedback.content),
        performance: avg(feedback.performance),
        organisation: avg(feedback.organisation),
      })
      .from(feedback)
      .where(eq(feedback.orderId, orderId));
    const responses = Number(row?.responses ?? 0);
    return {
      orderId,
      responses,
      averageRating: round(row?.averageRating),
      satisfactionRate: responses ? round(Number(row!.satisfied) / responses) : null,
      dimensions: { content: round(row?.content), performance: round(row?.performance), organisation: round(row?.organisation) },
    };
  }
}

