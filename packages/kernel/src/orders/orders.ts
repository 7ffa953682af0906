import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { hasRole, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import { inScope, withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BudgetService } from '../budgets/budgets.js';
import type { CallContext } from '../call.js';
import type { RegionService } from '../core/regions.js';
import { regions } from '../core/schema.js';
import { withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, forbidden, notFound, ProblemCodes } from '../errors.js';
import type { ExtensionData, ExtensionRegistry } from '../extensions/extensions.js';
import type { EventHook, HookBus } from '../hooks.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { stale } from '../safe-writes/etag.js';
import { storedResponse, type IdempotencyClaim, type StoredResponse } from '../safe-writes/idempotency.js';
import { nextState } from '../workflow/state-machine.js';
import {
  orderApprovalChain,
  orderApproved,
  orderCancelled,
  orderClosed,
  orderDelivered,
  orderRejected,
  orderScheduled,
  orderSubmitted,
  orderTransitionGuard,
  type OrderEvent,
} from './hooks.js';
import { orderLifecycle, type OrderAction, type OrderState } from './lifecycle.js';
import * as placement from './placement.js';
import { deliveries, orders } from './schema.js';

/** The delivery report of a delivered order. */
export interface DeliveryReport {
  deliveredOn: string;
  actualAudience: number;
  notes: string;
  /** Links to photos. */
  photos: string[];
}

/** An order (点单) as the API shows it. */
export interface Order {
  id: string;
  unitId: string;
  regionCode: string;
  productId: string;
  productContentVersion: number;
  supplierId: string;
  venueId: string;
  windowStart: string;
  windowEnd: string;
  expectedAudience: number;
  cost: number;
  budgetYear: number;
  status: OrderState;
  approvalChain: string[];
  approvedSteps: number;
  /** The region whose staff approves next, while the order climbs its chain. */
  awaitingApprovalBy: string | null;
  scheduledOn: string | null;
  rejectionReason: string | null;
  cancellationReason: string | null;
  delivery: DeliveryReport | null;
  version: number;
  extensions?: ExtensionData;
}

export interface OrderInput {
  /** Chosen by an import or a seed (never over HTTP); new orders get a random one. */
  id?: string | undefined;
  unitId: string;
  productId: string;
  venueId: string;
  windowStart: string;
  windowEnd: string;
  expectedAudience: number;
  /** Data for plugins that extend orders, under their names. */
  extensions?: ExtensionData | undefined;
}

/** A lifecycle action on an order, at the version the caller read (If-Match); some actions need more. */
export interface OrderActionInput {
  id: string;
  action: OrderAction;
  expectedVersion: number;
  reason?: string | undefined;
  scheduledOn?: string | undefined;
  delivery?: DeliveryReport | undefined;
}

/** How an order was placed: the new order, or what a retry with the same Idempotency-Key replays. */
export type Placed = { order: Order } | { replay: StoredResponse | undefined };

const BY_ID = 'orders.by-id';

const EVENTS: Partial<Record<OrderState, EventHook<OrderEvent>>> = {
  submitted: orderSubmitted,
  approved: orderApproved,
  rejected: orderRejected,
  scheduled: orderScheduled,
  delivered: orderDelivered,
  cancelled: orderCancelled,
  closed: orderClosed,
};

type Row = typeof orders.$inferSelect;

/** Orders: placed by units, approved up the region chain within budget, scheduled and delivered by suppliers. */
export class OrderService {
  private readonly facts: placement.PlacementFacts;
  private readonly writer: placement.OrderWriter;

  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly budgets: BudgetService,
    private readonly audit: AuditLog,
    private readonly hooks: HookBus,
    private readonly extensions: ExtensionRegistry,
    private readonly approvalTopLevel: string,
    private readonly levels: readonly string[],
    options: { concurrentStatements: boolean },
  ) {
    this.facts = new placement.PlacementFacts(db);
    this.writer = new placement.OrderWriter(db, audit, hooks, extensions, options);
  }

  /**
   * A unit (its operator, or staff over it) drafts an order for a listed product that
   * serves its region. With an idempotency `claim`, a retry gets `{ replay }`: the
   * response stored by the first attempt (the route answers with it). Registered
   * placement guards may refuse it. Without `tx`, orders placed at the same moment are
   * written together (see placement.ts); with `tx`, it is written in that transaction.
   */
  async place(input: OrderInput, ctx: CallContext & { claim?: IdempotencyClaim | undefined }): Promise<Placed> {
    const { actor, claim } = ctx;
    let context = await this.facts.get(input, ctx.tx);
    // Round again only when facts changed under us: remembered ones that went stale, or
    // a product relisted with new content between reading and writing.
    for (let attempt = 1; attempt <= 3; attempt++) {
      let drafted: placement.DraftedOrder;
      try {
        drafted = placement.checkPlacement(actor, input, context);
      } catch (error) {
        if (context.remembered) {
          context = await this.facts.read(input, ctx.tx);
          continue;
        }
        // A retry of an order placed before the world changed still gets its first answer.
        const stored = claim && (await storedResponse(ctx.tx ?? this.db, claim));
        if (stored) return { replay: stored };
        throw error;
      }
      const outcome = await this.writer.write({ actor, drafted, claim, requestId: ctx.requestId, extensions: input.extensions }, ctx.tx);
      if (outcome.placed) return { order: outcome.order ?? (await this.extensions.attachOne('order', drafted.order, ctx.tx ?? this.db)) };
      // The facts held but the key was taken: a concurrent duplicate, committed by now.
      if (outcome.current) return { replay: await storedResponse(ctx.tx ?? this.db, claim!) };
      context = await this.facts.read(input, ctx.tx);
    }
    throw new DomainError(
      'conflict',
      'PLACEMENT_CONFLICT',
      'The unit, venue or product changed while the order was being placed; try again',
    );
  }

  /** One order, if the actor may see it (as if it did not exist otherwise). */
  async get(id: string, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Order> {
    const db = ctx.tx ?? this.db;
    const [row] = await db
      .select({ order: orders, delivery: deliveries, path: regions.path })
      .from(orders)
      .innerJoin(regions, eq(regions.code, orders.regionCode))
      .leftJoin(deliveries, eq(deliveries.orderId, orders.id))
      .where(eq(orders.id, id));
    if (!row || !this.canSee(ctx.actor, row.order, row.path)) throw notFound(ProblemCodes.ORDER_NOT_FOUND, `Order ${id} does not exist`);
    return this.extensions.attachOne('order', toOrder(row.order, row.delivery), db);
  }

  /** Orders the actor may see: suppliers their own, unit operators their unit's, staff their subtree's. */
  async list(
    query: { status?: OrderState | undefined; unitId?: string | undefined; awaitingMyApproval?: boolean | undefined; page: PageRequest },
    ctx: { actor: Actor },
  ): Promise<PageOf<Order>> {
    const { actor } = ctx;
    const { page } = query;
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const visibility = hasRole(actor, REGION_STAFF)
      ? withinScope(regions.path, actor)
      : hasRole(actor, ['supplier']) && actor.supplierId
        ? eq(orders.supplierId, actor.supplierId)
        : hasRole(actor, ['unit-operator']) && actor.unitId
          ? and(eq(orders.unitId, actor.unitId), withinScope(regions.path, actor))
          : sql`false`;
    const rows = await this.db
      .select({ order: orders })
      .from(orders)
      .innerJoin(regions, eq(regions.code, orders.regionCode))
      .where(
        and(
          visibility,
          query.status ? eq(orders.status, query.status) : undefined,
          query.unitId ? eq(orders.unitId, query.unitId) : undefined,
          query.awaitingMyApproval
            ? sql`${orders.status} in ('submitted', 'approving') and ${orders.approvalChain}[${orders.approvedSteps} + 1] = ${actor.region}`
            : undefined,
          after ? gt(orders.id, after) : undefined,
        ),
      )
      .orderBy(asc(orders.id))
      .limit(page.limit + 1);
    const result = toPage(rows, page.limit, BY_ID, (r) => [r.order.id], (r) => toOrder(r.order, null));
    return { ...result, items: await this.extensions.attach('order', result.items, this.db) };
  }

  /**
   * Fires an action on an order, in one transaction with its budget effect and audit
   * record; registered transition guards may refuse it; the matching hook is published
   * with the change.
   */
  async act(input: OrderActionInput, ctx: CallContext): Promise<Order> {
    const { id, action, expectedVersion } = input;
    const { actor } = ctx;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [current] = await tx.select().from(orders).where(eq(orders.id, id)).for('update');
      const path = current ? await this.regions.path(current.regionCode, { tx }) : undefined;
      if (!current || !path || !this.canSee(actor, current, path)) throw notFound(ProblemCodes.ORDER_NOT_FOUND, `Order ${id} does not exist`);
      this.checkActor(actor, current, path, action);
      if (current.version !== expectedVersion) throw stale();

      const status = current.status as OrderState;
      const update: Partial<typeof orders.$inferInsert> = {};
      let to: OrderState;
      const draw = { regionCode: current.regionCode, year: current.budgetYear };
      switch (action) {
        case 'submit': {
          to = nextState(orderLifecycle, status, 'submit');
          update.approvalChain = await this.approvalChain(tx, current, path);
          update.approvedSteps = 0;
          break;
        }
        case 'approve': {
          const final = current.approvedSteps + 1 === current.approvalChain.length;
          to = nextState(orderLifecycle, status, final ? 'approveFinal' : 'approveStep');
          // The first approval earmarks the money; later levels only confirm.
          if (current.approvedSteps === 0) {
            await this.budgets.reserve({ ...draw, amount: current.cost }, { tx });
            update.reservedAmount = current.cost;
          }
          update.approvedSteps = current.approvedSteps + 1;
          break;
        }
        case 'reject':
        case 'cancel': {
          to = nextState(orderLifecycle, status, action);
          if (!input.reason?.trim()) throw new DomainError('invalid', ProblemCodes.REASON_REQUIRED, `Say why the order is ${to}`);
          if (current.reservedAmount > 0) {
            await this.budgets.release({ ...draw, amount: current.reservedAmount }, { tx });
            update.reservedAmount = 0;
          }
          if (action === 'reject') update.rejectionReason = input.reason;
          else update.cancellationReason = input.reason;
          break;
        }
        case 'schedule': {
          to = nextState(orderLifecycle, status, 'schedule');
          const date = input.scheduledOn;
          if (!date || date < current.windowStart || date > current.windowEnd) {
            throw new DomainError(
              'invalid',
              'SCHEDULE_OUTSIDE_WINDOW',
              `The date must lie in the ordered window ${current.windowStart} – ${current.windowEnd}`,
            );
          }
          update.scheduledOn = date;
          break;
        }
        case 'deliver': {
          to = nextState(orderLifecycle, status, 'deliver');
          if (!input.delivery) throw new DomainError('invalid', 'DELIVERY_REPORT_REQUIRED', 'A delivery needs its report');
          await this.budgets.settle({ ...draw, amount: current.reservedAmount }, { tx });
          update.reservedAmount = 0;
          break;
        }
        case 'close': {
          to = nextState(orderLifecycle, status, 'close');
          break;
        }
      }
      const before = toOrder(current, null);
      const delivery = action === 'deliver' ? input.delivery! : null;
      const proposed = toOrder({ ...current, ...update, status: to, version: current.version + 1 } as Row, delivery);
      const { id: _id, expectedVersion: _v, action: _a, ...details } = input;
      await this.hooks.check(orderTransitionGuard, { action, before, after: proposed, input: details }, { tx, actor });
      if (delivery) await tx.insert(deliveries).values({ orderId: id, ...delivery, reportedBy: actor.userId });
      const [row] = await tx
        .update(orders)
        .set({ ...update, status: to, version: current.version + 1, updatedAt: sql`now()` })
        .where(eq(orders.id, id))
        .returning();
      const [stored] = await tx.select().from(deliveries).where(eq(deliveries.orderId, id));
      const after = await this.extensions.attachOne('order', toOrder(row!, stored ?? null), tx);
      await this.audit.record(
        {
          actor,
          entityType: 'order',
          entityId: id,
          action: `order.${action}`,
          region: { code: current.regionCode, path },
          before: { status, approvedSteps: current.approvedSteps, version: current.version },
          after: { status: after.status, approvedSteps: after.approvedSteps, version: after.version, ...update },
          requestId: ctx.requestId,
        },
        { tx },
      );
      const hook = EVENTS[after.status];
      // `approving` is a step, not an event: `order.approved` fires once the whole chain approved.
      if (hook && !(action === 'approve' && after.status !== 'approved')) await this.hooks.publish(tx, hook, { order: after, actorId: actor.userId });
      return after;
    });
  }

  private async approvalChain(tx: Executor, current: Row, unitPath: string): Promise<string[]> {
    const top = this.levels.indexOf(this.approvalTopLevel);
    const ancestors = await this.regions.ancestors(current.regionCode, { tx });
    const chain = ancestors
      .filter((r) => this.levels.indexOf(r.level) >= top)
      .map((r) => r.code)
      .reverse();
    const proposed = await this.hooks.apply(orderApprovalChain, chain.length ? chain : [current.regionCode], {
      order: toOrder(current, null),
      unitRegionPath: unitPath,
      tx,
    });
    if (proposed.length === 0) throw new DomainError('invalid', 'APPROVAL_CHAIN_EMPTY', 'The approval chain is empty');
    for (const code of proposed) {
      if (!(await this.regions.path(code, { tx }))) throw new DomainError('invalid', 'APPROVAL_CHAIN_INVALID', `Approval chain region ${code} does not exist`);
    }
    return proposed;
  }

  /**
   * Staff see their subtree's orders; a supplier its own; a unit operator its unit's,
   * when the order's region lies in the operator's home subtree (a token whose unit
   * is elsewhere sees nothing, as on every other route).
   */
  private canSee(actor: Actor, order: Row, path: string): boolean {
    return (
      (hasRole(actor, REGION_STAFF) && inScope(actor, path)) ||
      (hasRole(actor, ['supplier']) && actor.supplierId === order.supplierId) ||
      (hasRole(actor, ['unit-operator']) && actor.unitId === order.unitId && inScope(actor, path))
    );
  }

  private checkActor(actor: Actor, order: Row, path: string, action: OrderAction): void {
    // Only an order climbing its chain has a current approver. On any other order,
    // staff who see it get the lifecycle's answer (409), not a misleading 403.
    const climbing = order.status === 'submitted' || order.status === 'approving';
    const currentApprover = climbing ? order.approvalChain[order.approvedSteps] : undefined;
    const isApprover = () => hasRole(actor, REGION_STAFF) && (!climbing || actor.region === currentApprover);
    const isSupplier = hasRole(actor, ['supplier']) && actor.supplierId === order.supplierId;
    const allowed = {
      submit: () => placement.actsForUnit(actor, order.unitId, path),
      close: () => placement.actsForUnit(actor, order.unitId, path),
      cancel: () => placement.actsForUnit(actor, order.unitId, path),
      approve: isApprover,
      reject: isApprover,
      schedule: () => isSupplier,
      deliver: () => isSupplier || (hasRole(actor, ['unit-operator']) && actor.unitId === order.unitId && inScope(actor, path)),
    }[action]();
    if (!allowed) {
      throw forbidden(`You may not ${action} this order`, {
        ...(currentApprover && (action === 'approve' || action === 'reject') ? { awaitingApprovalBy: currentApprover } : {}),
      });
    }
  }
}

function toOrder(r: Row, d: DeliveryReport | null): Order {
  const climbing = r.status === 'submitted' || r.status === 'approving';
  return {
    id: r.id,
    unitId: r.unitId,
    regionCode: r.regionCode,
    productId: r.productId,
    productContentVersion: r.productContentVersion,
    supplierId: r.supplierId,
    venueId: r.venueId,
    windowStart: r.windowStart,
    windowEnd: r.windowEnd,
    expectedAudience: r.expectedAudience,
    cost: r.cost,
    budgetYear: r.budgetYear,
    status: r.status as OrderState,
    approvalChain: r.approvalChain,
    approvedSteps: r.approvedSteps,
    awaitingApprovalBy: climbing ? (r.approvalChain[r.approvedSteps] ?? null) : null,
    scheduledOn: r.scheduledOn,
    rejectionReason: r.rejectionReason,
    cancellationReason: r.cancellationReason,
    delivery: d ? { deliveredOn: d.deliveredOn, actualAudience: d.actualAudience, notes: d.notes, photos: d.photos } : null,
    version: r.version,
  };
}
