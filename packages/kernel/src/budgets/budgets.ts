import { and, eq, sql } from 'drizzle-orm';
import { hasRole, inScope, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import { withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RegionService } from '../core/regions.js';
import { regions } from '../core/schema.js';
import { transaction, type Database, type Executor } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import { stale } from '../safe-writes/etag.js';
import { budgets } from './schema.js';

/** A region's budget for a year, with what is still free to reserve or pass down. */
export interface Budget {
  regionCode: string;
  year: number;
  allocated: number;
  /** Allocated to the region's children. */
  allocatedToChildren: number;
  reserved: number;
  spent: number;
  /** allocated − allocatedToChildren − reserved − spent */
  available: number;
  version: number;
}

/**
 * Budgets and quotas (预算与配额). A parent region allocates to its children and the
 * children's allocations never exceed the parent's; approving an order reserves its
 * cost, rejecting or cancelling releases it, delivering settles it. Every change
 * locks the budget row it draws on, so concurrent approvals never overspend.
 */
export class BudgetService {
  constructor(
    private readonly db: Database,
    private readonly regions: RegionService,
    private readonly audit: AuditLog,
  ) {}

  /** A region's budget; 404 when there is none or the region is outside the actor's scope. */
  async get(actor: Actor, regionCode: string, year: number): Promise<Budget> {
    await this.regions.pathInScope(regionCode, actor);
    return this.read(this.db, regionCode, year);
  }

  /** Budgets of a year for every region in the actor's subtree that has one. */
  async list(actor: Actor, year: number): Promise<Budget[]> {
    const rows = await this.db
      .select({ regionCode: budgets.regionCode })
      .from(budgets)
      .innerJoin(regions, eq(regions.code, budgets.regionCode))
      .where(and(eq(budgets.year, year), withinScope(regions.path, actor)))
      .orderBy(sql`${regions.path} collate "C"`)
      .limit(2000);
    return Promise.all(rows.map((r) => this.read(this.db, r.regionCode, year)));
  }

  /**
   * Sets a region's allocation for a year. The root's is set by a city administrator;
   * any other region's by staff whose subtree holds its parent. The parent's
   * allocation must cover all its children's, and the new amount must cover what the
   * region has already passed down, reserved and spent. Updating an existing budget
   * needs its version (If-Match).
   */
  async allocate(
    actor: Actor,
    regionCode: string,
    year: number,
    amount: number,
    expectedVersion: number | undefined,
    requestId?: string,
  ): Promise<Budget> {
    const region = await this.regions.get(regionCode).catch(() => undefined);
    const path = region && (await this.regions.path(regionCode));
    if (!region || !path) throw notFound('REGION_NOT_FOUND', `Region ${regionCode} does not exist`);
    const parentPath = region.parentCode ? await this.regions.path(region.parentCode) : undefined;
    const allowed = region.parentCode
      ? hasRole(actor, REGION_STAFF) && !!parentPath && inScope(actor, parentPath)
      : hasRole(actor, ['city-admin']) && inScope(actor, path);
    if (!inScope(actor, path) && !(parentPath && inScope(actor, parentPath))) {
      throw notFound('REGION_NOT_FOUND', `Region ${regionCode} does not exist`);
    }
    if (!allowed) throw new DomainError('forbidden', 'FORBIDDEN', 'Only staff of the parent region may allocate to a region');

    return transaction(this.db, async (tx) => {
      if (region.parentCode) {
        // Lock the parent first: sibling allocations and the parent's own reservations queue here.
        const parent = await this.lock(tx, region.parentCode, year);
        if (!parent) {
          throw new DomainError('conflict', 'BUDGET_NOT_ALLOCATED', `Region ${region.parentCode} has no ${year} budget to allocate from`);
        }
        const siblings = await this.childrenAllocated(tx, region.parentCode, year, regionCode);
        if (siblings + amount + parent.reserved + parent.spent > parent.allocated) {
          throw new DomainError(
            'conflict',
            'BUDGET_EXCEEDS_PARENT',
            `Region ${region.parentCode} has ${parent.allocated - siblings - parent.reserved - parent.spent} left to allocate in ${year}`,
            { available: parent.allocated - siblings - parent.reserved - parent.spent },
          );
        }
      }
      const current = await this.lock(tx, regionCode, year);
      if (current) {
        if (expectedVersion === undefined) {
          throw new DomainError('precondition_required', 'PRECONDITION_REQUIRED', 'Send the budget’s ETag in If-Match to change it');
        }
        if (current.version !== expectedVersion) throw stale();
        const committed = (await this.childrenAllocated(tx, regionCode, year)) + current.reserved + current.spent;
        if (amount < committed) {
          throw new DomainError(
            'conflict',
            'BUDGET_BELOW_COMMITMENTS',
            `Region ${regionCode} has already committed ${committed} of its ${year} budget`,
            { committed },
          );
        }
        await tx
          .update(budgets)
          .set({ allocated: amount, version: current.version + 1, updatedAt: sql`now()` })
          .where(and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)));
      } else {
        await tx.insert(budgets).values({ regionCode, year, allocated: amount });
      }
      const after = await this.read(tx, regionCode, year);
      await this.audit.record(tx, {
        actor,
        entityType: 'budget',
        entityId: `${regionCode}/${year}`,
        action: 'budget.allocate',
        region: { code: regionCode, path },
        before: current ? { allocated: current.allocated, version: current.version } : null,
        after: { allocated: after.allocated, version: after.version },
        requestId,
      });
      return after;
    });
  }

  /** Reserves `amount` in the region's budget inside the caller's transaction; 409 when it does not fit. */
  async reserve(tx: Executor, regionCode: string, year: number, amount: number): Promise<void> {
    const row = await this.lock(tx, regionCode, year);
    if (!row) throw new DomainError('conflict', 'BUDGET_NOT_ALLOCATED', `Region ${regionCode} has no ${year} budget`);
    const available = row.allocated - (await this.childrenAllocated(tx, regionCode, year)) - row.reserved - row.spent;
    if (amount > available) {
      throw new DomainError('conflict', 'BUDGET_EXCEEDED', `Region ${regionCode} has ${available} left in its ${year} budget; this needs ${amount}`, {
        available,
        needed: amount,
      });
    }
    await this.adjust(tx, regionCode, year, { reserved: amount });
  }

  /** Gives a reservation back (rejection, cancellation). */
  async release(tx: Executor, regionCode: string, year: number, amount: number): Promise<void> {
    await this.lock(tx, regionCode, year);
    await this.adjust(tx, regionCode, year, { reserved: -amount });
  }

  /** Turns a reservation into spending (delivery). */
  async settle(tx: Executor, regionCode: string, year: number, amount: number): Promise<void> {
    await this.lock(tx, regionCode, year);
    await this.adjust(tx, regionCode, year, { reserved: -amount, spent: amount });
  }

  private async adjust(tx: Executor, regionCode: string, year: number, delta: { reserved?: number; spent?: number }) {
    await tx
      .update(budgets)
      .set({
        reserved: sql`${budgets.reserved} + ${delta.reserved ?? 0}`,
        spent: sql`${budgets.spent} + ${delta.spent ?? 0}`,
        version: sql`${budgets.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)));
  }

  private async lock(tx: Executor, regionCode: string, year: number) {
    const [row] = await tx
      .select()
      .from(budgets)
      .where(and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)))
      .for('update');
    return row;
  }

  private async childrenAllocated(tx: Executor, parentCode: string, year: number, except?: string): Promise<number> {
    const [row] = await tx
      .select({ total: sql<string>`coalesce(sum(${budgets.allocated}), 0)` })
      .from(budgets)
      .innerJoin(regions, eq(regions.code, budgets.regionCode))
      .where(
        and(
          eq(regions.parentCode, parentCode),
          eq(budgets.year, year),
          except ? sql`${budgets.regionCode} <> ${except}` : undefined,
        ),
      );
    return Number(row?.total ?? 0);
  }

  private async read(tx: Executor, regionCode: string, year: number): Promise<Budget> {
    const [row] = await tx.select().from(budgets).where(and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)));
    if (!row) throw notFound('BUDGET_NOT_FOUND', `Region ${regionCode} has no ${year} budget`);
    const allocatedToChildren = await this.childrenAllocated(tx, regionCode, year);
    return {
      regionCode,
      year,
      allocated: row.allocated,
      allocatedToChildren,
      reserved: row.reserved,
      spent: row.spent,
      available: row.allocated - allocatedToChildren - row.reserved - row.spent,
      version: row.version,
    };
  }
}
