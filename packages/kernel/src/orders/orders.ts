import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { hasRole, inScope, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import { withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BudgetService } from '../budgets/budgets.js';
import type { RegionService } from '../core/regions.js';
import { regions } from '../core/schema.js';
import { transaction, type Database, type Executor } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
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
}

export interface OrderInput {
  unitId: string;
  productId: string;
  venueId: string;
  windowStart: string;
  windowEnd: string;
  expectedAudience: number;
}

/** What some actions need besides the order. */
export interface OrderActionInput {
  reason?: string | undefined;
  scheduledOn?: string | undefined;
  delivery?: DeliveryReport | undefined;
  requestId?: string | undefined;
}

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
  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly budgets: BudgetService,
    private readonly audit: AuditLog,
    private readonly hooks: HookBus,
    private readonly approvalTopLevel: string,
    private readonly levels: readonly string[],
  ) {
    this.facts = new placement.PlacementFacts(db);
    this.writer = new placement.OrderWriter(db, audit);
  }

  private readonly facts: placement.PlacementFacts;
  private readonly writer: placement.OrderWriter;

  /**
   * A unit (its operator, or staff over it) drafts an order for a listed product that
   * serves its region. With an idempotency `claim`, a retry gets `{ replay }`: the
   * response stored by the first attempt (the route answers with it).
   */
  async place(
    actor: Actor,
    input: OrderInput,
    options: { claim?: IdempotencyClaim | undefined; requestId?: string | undefined } = {},
  ): Promise<{ order: Order } | { replay: StoredResponse | undefined }> {
    const { claim, requestId } = options;
    let context = await this.facts.get(input);
    // Round again only when facts changed under us: remembered ones that went stale, or
    // a product relisted with new content between reading and writing.
    for (let attempt = 1; attempt <= 3; attempt++) {
      let drafted: placement.DraftedOrder;
      try {
        drafted = placement.checkPlacement(actor, input, context);
      } catch (error) {
        if (context.remembered) {
          context = await this.facts.read(input);
          continue;
        }
        // A retry of an order placed before the world changed still gets its first answer.
        const stored = claim && (await storedResponse(this.db, claim));
        if (stored) return { replay: stored };
        throw error;
      }
      const outcome = await this.writer.write(actor, drafted, claim, requestId);
      if (outcome.placed) return { order: drafted.order };
      // The facts held but the key was taken: a concurrent duplicate, committed by now.
      if (outcome.current) return { replay: await storedResponse(this.db, claim!) };
      context = await this.facts.read(input);
    }
    throw new DomainError(
      'conflict',
      'PLACEMENT_CONFLICT',
      'The unit, venue or product changed while the order was being placed; try again',
    );
  }

  /** One order, if the actor may see it (as if it did not exist otherwise). */
  async get(actor: Actor, id: string, db: Executor = this.db): Promise<Order> {
    const [row] = await db
      .select({ order: orders, delivery: deliveries, path: regions.path })
      .from(orders)
      .innerJoin(regions, eq(regions.code, orders.regionCode))
      .leftJoin(deliveries, eq(deliveries.orderId, orders.id))
      .where(eq(orders.id, id));
    if (!row || !this.canSee(actor, row.order, row.path)) throw notFound('ORDER_NOT_FOUND', `Order ${id} does not exist`);
    return toOrder(row.order, row.delivery);
  }

  /** Orders the actor may see: suppliers their own, unit operators their unit's, staff their subtree's. */
  async list(
    actor: Actor,
    filter: { status?: OrderState | undefined; unitId?: string | undefined; awaitingMyApproval?: boolean | undefined },
    page: PageRequest,
  ): Promise<PageOf<Order>> {
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_ID, ['uuid'])[0]) : undefined;
    const isStaff = hasRole(actor, REGION_STAFF);
    const visibility = isStaff
      ? withinScope(regions.path, actor)
      : hasRole(actor, ['supplier']) && actor.supplierId
        ? eq(orders.supplierId, actor.supplierId)
        : hasRole(actor, ['unit-operator']) && actor.unitId
          ? eq(orders.unitId, actor.unitId)
          : sql`false`;
    const rows = await this.db
      .select({ order: orders })
      .from(orders)
      .innerJoin(regions, eq(regions.code, orders.regionCode))
      .where(
        and(
          visibility,
          filter.status ? eq(orders.status, filter.status) : undefined,
          filter.unitId ? eq(orders.unitId, filter.unitId) : undefined,
          filter.awaitingMyApproval
            ? sql`${orders.status} in ('submitted', 'approving') and ${orders.approvalChain}[${orders.approvedSteps} + 1] = ${actor.region}`
            : undefined,
          after ? gt(orders.id, after) : undefined,
        ),
      )
      .orderBy(asc(orders.id))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_ID, (r) => [r.order.id], (r) => toOrder(r.order, null));
  }

  /**
   * Fires an action on an order, in one transaction with its budget effect and audit
   * record; the matching hook is emitted after the commit. `expectedVersion` is the
   * If-Match version.
   */
  async act(actor: Actor, id: string, action: OrderAction, expectedVersion: number, input: OrderActionInput = {}): Promise<Order> {
    const order = await transaction(this.db, async (tx) => {
      const [current] = await tx.select().from(orders).where(eq(orders.id, id)).for('update');
      const path = current ? await this.pathOf(current.regionCode, tx) : undefined;
      if (!current || !path || !this.canSee(actor, current, path)) throw notFound('ORDER_NOT_FOUND', `Order ${id} does not exist`);
      this.checkActor(actor, current, path, action);
      if (current.version !== expectedVersion) throw stale();

      const status = current.status as OrderState;
      const update: Partial<typeof orders.$inferInsert> = {};
      let to: OrderState;
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
            await this.budgets.reserve(tx, current.regionCode, current.budgetYear, current.cost);
            update.reservedAmount = current.cost;
          }
          update.approvedSteps = current.approvedSteps + 1;
          break;
        }
        case 'reject':
        case 'cancel': {
          to = nextState(orderLifecycle, status, action);
          if (!input.reason?.trim()) throw new DomainError('invalid', 'REASON_REQUIRED', `Say why the order is ${to}`);
          if (current.reservedAmount > 0) {
            await this.budgets.release(tx, current.regionCode, current.budgetYear, current.reservedAmount);
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
          await tx.insert(deliveries).values({ orderId: id, ...input.delivery, reportedBy: actor.userId });
          await this.budgets.settle(tx, current.regionCode, current.budgetYear, current.reservedAmount);
          update.reservedAmount = 0;
          break;
        }
        case 'close': {
          to = nextState(orderLifecycle, status, 'close');
          break;
        }
      }
      const [row] = await tx
        .update(orders)
        .set({ ...update, status: to, version: current.version + 1, updatedAt: sql`now()` })
        .where(eq(orders.id, id))
        .returning();
      const [delivery] = await tx.select().from(deliveries).where(eq(deliveries.orderId, id));
      const after = toOrder(row!, delivery ?? null);
      await this.audit.record(tx, {
        actor,
        entityType: 'order',
        entityId: id,
        action: `order.${action}`,
        region: { code: current.regionCode, path },
        before: { status, approvedSteps: current.approvedSteps, version: current.version },
        after: { status: after.status, approvedSteps: after.approvedSteps, version: after.version, ...update },
        requestId: input.requestId,
      });
      return after;
    });
    const hook = EVENTS[order.status];
    // `approving` is a step, not an event: `order.approved` fires once the whole chain approved.
    if (hook && !(action === 'approve' && order.status !== 'approved')) await this.hooks.emit(hook, { order, actorId: actor.userId });
    return order;
  }

  private async approvalChain(tx: Executor, current: Row, unitPath: string): Promise<string[]> {
    const top = this.levels.indexOf(this.approvalTopLevel);
    const ancestors = await this.regions.ancestors(current.regionCode, tx);
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
      if (!(await this.regions.path(code, tx))) throw new DomainError('invalid', 'APPROVAL_CHAIN_INVALID', `Approval chain region ${code} does not exist`);
    }
    return proposed;
  }

  /** Staff see their subtree; a supplier its own orders; a unit operator its unit's. */
  private canSee(actor: Actor, order: Row, path: string): boolean {
    return (
      (hasRole(actor, REGION_STAFF) && inScope(actor, path)) ||
      (hasRole(actor, ['supplier']) && actor.supplierId === order.supplierId) ||
      (hasRole(actor, ['unit-operator']) && actor.unitId === order.unitId)
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
      deliver: () => isSupplier || (hasRole(actor, ['unit-operator']) && actor.unitId === order.unitId),
    }[action]();
    if (!allowed) {
      throw new DomainError('forbidden', 'FORBIDDEN', `You may not ${action} this order`, {
        ...(currentApprover && (action === 'approve' || action === 'reject') ? { awaitingApprovalBy: currentApprover } : {}),
      });
    }
  }

  private async pathOf(code: string, db: Executor): Promise<string> {
    const path = await this.regions.path(code, db);
    if (!path) throw notFound('REGION_NOT_FOUND', `Region ${code} does not exist`);
    return path;
  }
}

function toOrder(r: Row, d: typeof deliveries.$inferSelect | null): Order {
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
