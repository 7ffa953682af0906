import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DomainError, stale, withTransaction, type Actor, type CallContext, type Database, type HookBus, type Order } from '@diandan/kernel';
import { awardNotFound, toAward } from './evaluation.js';
import type { ProcurementClock } from './clock.js';
import { contractSigned } from './hooks.js';
import type { OcdsService } from './ocds.js';
import type { ProjectService } from './projects.js';
import { awards, callOffs, contracts, type MilestoneData } from './schema.js';
import { auditRegion, isBuyerAdmin, lockProject, readProject, supplierOf } from './support.js';
import type { Kernel } from './support.js';

/** A contract (合同) as the API shows it. */
export interface Contract {
  id: string;
  projectId: string;
  awardId: string;
  supplierId: string;
  title: string;
  value: number;
  period: { startDate: string; endDate: string };
  status: 'active' | 'terminated';
  milestones: MilestoneData[];
  signedAt: string;
  /** Under a framework agreement: the value already called off. */
  calledOff: number;
  version: number;
}

/** A call-off under a framework contract, and the kernel order it became. */
export interface CallOff {
  id: string;
  contractId: string;
  orderId: string;
  cost: number;
  createdBy: string;
  createdAt: string;
}

export interface ContractInput {
  awardId: string;
  expectedVersion: number;
  title: string;
  value: number;
  periodStart: string;
  periodEnd: string;
  milestones: { id: string; title: string; dueDate: string; value: number }[];
}

type ContractRow = typeof contracts.$inferSelect;

/** Contracts: signing after the standstill period, milestones (implementation), framework call-offs as kernel orders. */
export class ContractService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Kernel,
    private readonly hooks: HookBus,
    private readonly projects: ProjectService,
    private readonly ocds: OcdsService,
    private readonly clock: ProcurementClock,
  ) {}

  /** Signs the contract of a pending award once its standstill period has ended (DB clock). */
  async sign(input: ContractInput, ctx: CallContext): Promise<Contract> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [a] = await tx.select().from(awards).where(eq(awards.id, input.awardId)).for('update');
      if (!a) throw awardNotFound(input.awardId);
      const row = await lockProject(tx, a.projectId, ctx.actor);
      if (!isBuyerAdmin(ctx.actor, row)) throw awardNotFound(input.awardId);
      if (a.version !== input.expectedVersion) throw stale();
      if (a.status !== 'pending' || row.status !== 'awarded') throw new DomainError('conflict', 'PROCUREMENT_AWARD_NOT_PENDING', `A ${a.status} award has no contract to sign`);
      const now = await this.clock.now(tx);
      if (a.standstillEnd && now < a.standstillEnd) {
        throw new DomainError('conflict', 'PROCUREMENT_STANDSTILL', `The standstill period runs until ${a.standstillEnd.toISOString()}: the contract cannot be signed before`, {
          standstillEnd: a.standstillEnd.toISOString(),
        });
      }
      if (input.value > (a.value ?? 0)) throw new DomainError('invalid', 'PROCUREMENT_CONTRACT_EXCEEDS_AWARD', 'The contract value exceeds the awarded value', { awarded: a.value });
      const start = new Date(input.periodStart);
      const end = new Date(input.periodEnd);
      if (!(start < end)) throw new DomainError('invalid', 'PROCUREMENT_PERIOD_INVALID', 'The contract period must end after it starts');
      if (new Set(input.milestones.map((m) => m.id)).size !== input.milestones.length) throw new DomainError('invalid', 'PROCUREMENT_MILESTONE_DUPLICATE', 'Milestone ids must be unique');
      const paid = input.milestones.reduce((s, m) => s + m.value, 0);
      if (paid > input.value) throw new DomainError('invalid', 'PROCUREMENT_MILESTONES_EXCEED_CONTRACT', 'The milestones’ payments add up to more than the contract value');
      await tx.update(awards).set({ status: 'active', version: sql`${awards.version} + 1` }).where(eq(awards.id, a.id));
      const [c] = await tx
        .insert(contracts)
        .values({
          projectId: row.id,
          awardId: a.id,
          supplierId: a.supplierId!,
          title: input.title,
          value: input.value,
          periodStart: start,
          periodEnd: end,
          status: 'active',
          milestones: input.milestones.map((m) => ({ ...m, status: 'scheduled', dateMet: null })),
          signedAt: now,
        })
        .returning();
      const contract = toContract(c!, 0);
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-contract', entityId: c!.id, action: 'procurement.contract.sign', region: auditRegion(row), before: toAward(a), after: contract, requestId: ctx.requestId },
        { tx },
      );
      await this.ocds.record(tx, row.id, 'contract');
      await this.hooks.publish(tx, contractSigned, { contractId: c!.id, projectId: row.id, supplierId: c!.supplierId, value: c!.value, actorId: ctx.actor.userId });
      return contract;
    });
  }

  /** Confirms a milestone (履约验收): its payment is an OCDS implementation transaction; the last one terminates the contract and may complete the project. */
  async completeMilestone(input: { contractId: string; milestoneId: string; expectedVersion: number }, ctx: CallContext): Promise<Contract> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [c] = await tx.select().from(contracts).where(eq(contracts.id, input.contractId)).for('update');
      if (!c) throw contractNotFound(input.contractId);
      const row = await lockProject(tx, c.projectId, ctx.actor);
      if (!isBuyerAdmin(ctx.actor, row)) throw contractNotFound(input.contractId);
      if (c.version !== input.expectedVersion) throw stale();
      const milestone = c.milestones.find((m) => m.id === input.milestoneId);
      if (!milestone) throw new DomainError('not_found', 'PROCUREMENT_MILESTONE_NOT_FOUND', `Milestone ${input.milestoneId} does not exist`);
      if (milestone.status === 'met') throw new DomainError('conflict', 'PROCUREMENT_MILESTONE_MET', 'This milestone has been met already');
      if (c.status !== 'active') throw new DomainError('conflict', 'PROCUREMENT_CONTRACT_NOT_ACTIVE', `The contract is ${c.status}`);
      const now = await this.clock.now(tx);
      const milestones = c.milestones.map((m) => (m.id === milestone.id ? { ...m, status: 'met' as const, dateMet: now.toISOString() } : m));
      const done = milestones.every((m) => m.status === 'met');
      const [updated] = await tx
        .update(contracts)
        .set({ milestones, status: done ? 'terminated' : 'active', version: sql`${contracts.version} + 1` })
        .where(eq(contracts.id, c.id))
        .returning();
      const contract = toContract(updated!, await this.calledOff(tx, c.id));
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-contract', entityId: c.id, action: 'procurement.contract.milestone', region: auditRegion(row), before: { milestone }, after: { milestone: milestones.find((m) => m.id === milestone.id), status: contract.status }, requestId: ctx.requestId },
        { tx },
      );
      await this.ocds.record(tx, row.id, 'implementation');
      if (done && row.status === 'awarded') {
        // Complete once every lot has a fulfilled contract or no award left.
        const live = await tx.select().from(awards).where(and(eq(awards.projectId, row.id), inArray(awards.status, ['pending', 'active'])));
        const open = await tx.select({ id: contracts.id }).from(contracts).where(and(eq(contracts.projectId, row.id), eq(contracts.status, 'active')));
        const unsigned = live.filter((a) => a.status === 'pending');
        if (open.length === 0 && unsigned.length === 0) await this.projects.transition({ id: row.id }, 'complete', { ...ctx, tx }, async () => ({}));
      }
      return contract;
    });
  }

  /** One contract: public (contracts are published), with what was called off. */
  async get(id: string, ctx: { actor: Actor | null }): Promise<Contract> {
    const [c] = await this.db.select().from(contracts).where(eq(contracts.id, id));
    if (!c) throw contractNotFound(id);
    await readProject(this.db, c.projectId, ctx.actor);
    return toContract(c, await this.calledOff(this.db, c.id));
  }

  /** A project's contracts. */
  async list(input: { projectId: string }, ctx: { actor: Actor | null }): Promise<{ items: Contract[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const rows = await this.db.select().from(contracts).where(eq(contracts.projectId, row.id)).orderBy(asc(contracts.signedAt));
    const totals = await Promise.all(rows.map((c) => this.calledOff(this.db, c.id)));
    return { items: rows.map((c, i) => toContract(c, totals[i]!)) };
  }

  /**
   * A call-off (框架协议下单) under an active framework contract: a kernel order for one of
   * the contract supplier's listed products, placed and submitted by the caller (the
   * unit's operator or staff over it) into the normal approval chain, within the
   * contract's remaining value, for a unit inside the buyer's region.
   */
  async callOff(
    input: { contractId: string; unitId: string; productId: string; venueId: string; windowStart: string; windowEnd: string; expectedAudience: number },
    ctx: CallContext,
  ): Promise<{ callOff: CallOff; order: Order }> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [c] = await tx.select().from(contracts).where(eq(contracts.id, input.contractId)).for('update');
      if (!c) throw contractNotFound(input.contractId);
      const row = await lockProject(tx, c.projectId, ctx.actor);
      if (!row.framework) throw new DomainError('conflict', 'PROCUREMENT_NOT_FRAMEWORK', 'Only a framework agreement’s contract takes call-offs');
      if (c.status !== 'active') throw new DomainError('conflict', 'PROCUREMENT_CONTRACT_NOT_ACTIVE', `The contract is ${c.status}`);
      const now = await this.clock.now(tx);
      if (now > c.periodEnd) throw new DomainError('conflict', 'PROCUREMENT_CONTRACT_NOT_ACTIVE', 'The framework agreement’s period has ended');
      // UNIT_NOT_FOUND / PRODUCT_NOT_FOUND (404) for what the caller may not see.
      const unit = await this.kernel.units.get(input.unitId, { actor: ctx.actor, tx });
      const unitPath = await this.kernel.regions.path(unit.regionCode, { tx });
      if (!unitPath?.startsWith(row.regionPath)) throw new DomainError('invalid', 'PROCUREMENT_CALL_OFF_OUTSIDE_REGION', 'The unit lies outside the buyer’s region');
      const product = await this.kernel.products.get(input.productId, { actor: ctx.actor, tx });
      if (product.supplierId !== c.supplierId) throw new DomainError('invalid', 'PROCUREMENT_CALL_OFF_SUPPLIER', 'The product is not the framework supplier’s');
      const used = await this.calledOff(tx, c.id);
      const placed = await this.kernel.orders.place({ ...input }, { actor: ctx.actor, tx, requestId: ctx.requestId });
      if (!('order' in placed)) throw new DomainError('conflict', 'PROCUREMENT_CALL_OFF_CONFLICT', 'The order could not be placed; try again');
      if (used + placed.order.cost > c.value) {
        throw new DomainError('conflict', 'PROCUREMENT_CALL_OFF_EXCEEDS_CONTRACT', 'The call-off exceeds the framework contract’s remaining value', { remaining: c.value - used, cost: placed.order.cost });
      }
      const order = await this.kernel.orders.act({ id: placed.order.id, action: 'submit', expectedVersion: placed.order.version }, { actor: ctx.actor, tx, requestId: ctx.requestId });
      const id = randomUUID();
      const supplier = await this.kernel.suppliers.get(c.supplierId, { tx });
      const release = this.ocds.callOffRelease({
        callOffId: id,
        orderId: order.id,
        framework: { projectId: row.id, title: row.title, contractId: c.id },
        unit: { id: unit.id, name: unit.name },
        supplier: { id: supplier.id, name: supplier.name },
        product: { id: product.id, title: product.title },
        cost: order.cost,
        window: { start: input.windowStart, end: input.windowEnd },
        date: now,
      });
      const [call] = await tx.insert(callOffs).values({ id, contractId: c.id, orderId: order.id, cost: order.cost, release, createdBy: ctx.actor.userId, createdAt: now }).returning();
      const callOff = toCallOff(call!);
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-contract', entityId: c.id, action: 'procurement.contract.callOff', region: auditRegion(row), after: callOff, requestId: ctx.requestId },
        { tx },
      );
      return { callOff, order };
    });
  }

  /** A contract's call-offs (the buyer's administrators and the supplier). */
  async callOffs(input: { contractId: string }, ctx: { actor: Actor }): Promise<{ items: CallOff[] }> {
    const [c] = await this.db.select().from(contracts).where(eq(contracts.id, input.contractId));
    if (!c) throw contractNotFound(input.contractId);
    const row = await readProject(this.db, c.projectId, ctx.actor);
    if (!isBuyerAdmin(ctx.actor, row) && supplierOf(ctx.actor) !== c.supplierId) {
      throw new DomainError('forbidden', 'PROCUREMENT_CALL_OFFS_FORBIDDEN', 'Only the buyer’s administrators and the supplier see the call-offs');
    }
    const rows = await this.db.select().from(callOffs).where(eq(callOffs.contractId, c.id)).orderBy(asc(callOffs.createdAt)).limit(1000);
    return { items: rows.map(toCallOff) };
  }

  private async calledOff(db: Pick<Database, 'select'>, contractId: string): Promise<number> {
    const [r] = await db.select({ total: sql<number>`coalesce(sum(${callOffs.cost}), 0)::int` }).from(callOffs).where(eq(callOffs.contractId, contractId));
    return Number(r?.total ?? 0);
  }
}

export function toContract(c: ContractRow, calledOff: number): Contract {
  return {
    id: c.id,
    projectId: c.projectId,
    awardId: c.awardId,
    supplierId: c.supplierId,
    title: c.title,
    value: c.value,
    period: { startDate: c.periodStart.toISOString(), endDate: c.periodEnd.toISOString() },
    status: c.status as Contract['status'],
    milestones: c.milestones,
    signedAt: c.signedAt.toISOString(),
    calledOff,
    version: c.version,
  };
}

function toCallOff(c: typeof callOffs.$inferSelect): CallOff {
  return { id: c.id, contractId: c.contractId, orderId: c.orderId, cost: c.cost, createdBy: c.createdBy, createdAt: c.createdAt.toISOString() };
}

function contractNotFound(id: string): DomainError {
  return new DomainError('not_found', 'PROCUREMENT_CONTRACT_NOT_FOUND', `Contract ${id} does not exist`);
}
