import { and, eq, sql, type SQL } from 'drizzle-orm';
import { hasRole, type Actor } from '../auth/actor.js';
import { REGION_STAFF } from '../auth/roles.js';
import { inScope, withinScope } from '../auth/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CallContext } from '../call.js';
import type { RegionService } from '../core/regions.js';
import { regions } from '../core/schema.js';
import { withTransaction, type Database, type Executor } from '../db/database.js';
import { DomainError, forbidden, notFound, ProblemCodes } from '../errors.js';
import type { HookBus } from '../hooks.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { stale } from '../safe-writes/etag.js';
import { budgetAllocationGuard } from './hooks.js';
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

/** A draw on a region's budget: reserve, release or settle `amount` of `year`. */
export interface BudgetDraw {
  regionCode: string;
  year: number;
  amount: number;
}

const BY_PATH = 'budgets.by-path';

/** What the region's children were given of its budget, as SQL over the row `b`. */
const childrenAllocated = sql<number>`coalesce((
    select sum(c.allocated) from ${budgets} c join ${regions} cr on cr.code = c.region_code
    where cr.parent_code = ${budgets.regionCode} and c.year = ${budgets.year}), 0)::bigint`;

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
    private readonly hooks: HookBus,
  ) {}

  /** A region's budget; 404 when there is none or the region is outside the actor's scope. */
  async get(input: { regionCode: string; year: number }, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Budget> {
    await this.regions.pathInScope(input.regionCode, ctx.actor, { tx: ctx.tx });
    return this.read(ctx.tx ?? this.db, input.regionCode, input.year);
  }

  /** Budgets of a year for every region in the actor's subtree that has one, depth-first, in one query per page. */
  async list(input: { year: number; page: PageRequest }, ctx: { actor: Actor }): Promise<PageOf<Budget>> {
    const after = input.page.cursor ? String(decodeCursor(input.page.cursor, BY_PATH, ['text'])[0]) : undefined;
    const rows = await this.select(
      this.db,
      and(
        eq(budgets.year, input.year),
        withinScope(regions.path, ctx.actor),
        after ? sql`${regions.path} collate "C" > ${after}` : undefined,
      ),
    )
      .orderBy(sql`${regions.path} collate "C"`)
      .limit(input.page.limit + 1);
    return toPage(rows, input.page.limit, BY_PATH, (r) => [r.path], toBudget);
  }

  /**
   * Sets a region's allocation for a year. The root's is set by a city administrator;
   * any other region's by staff whose subtree holds its parent. The parent's
   * allocation must cover all its children's, and the new amount must cover what the
   * region has already passed down, reserved and spent. Updating an existing budget
   * needs its version (If-Match). Registered guards may refuse the allocation.
   */
  async allocate(input: { regionCode: string; year: number; amount: number; expectedVersion?: number | undefined }, ctx: CallContext): Promise<Budget> {
    const { regionCode, year, amount, expectedVersion } = input;
    const { actor } = ctx;
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const region = await this.regions.get(regionCode, { tx }).catch(() => undefined);
      const path = region && (await this.regions.path(regionCode, { tx }));
      if (!region || !path) throw notFound(ProblemCodes.REGION_NOT_FOUND, `Region ${regionCode} does not exist`);
      const parentPath = region.parentCode ? await this.regions.path(region.parentCode, { tx }) : undefined;
      if (!inScope(actor, path) && !(parentPath && inScope(actor, parentPath))) {
        throw notFound(ProblemCodes.REGION_NOT_FOUND, `Region ${regionCode} does not exist`);
      }
      const allowed = region.parentCode
        ? hasRole(actor, REGION_STAFF) && !!parentPath && inScope(actor, parentPath)
        : hasRole(actor, ['city-admin']) && inScope(actor, path);
      if (!allowed) throw forbidden('Only staff of the parent region may allocate to a region');

      if (region.parentCode) {
        // Lock the parent first: sibling allocations and the parent's own reservations queue here.
        const parent = await this.lock(tx, region.parentCode, year);
        if (!parent) {
          throw new DomainError('conflict', ProblemCodes.BUDGET_NOT_ALLOCATED, `Region ${region.parentCode} has no ${year} budget to allocate from`);
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
      const before = current ? await this.read(tx, regionCode, year) : null;
      if (current) {
        if (expectedVersion === undefined) {
          throw new DomainError('precondition_required', ProblemCodes.PRECONDITION_REQUIRED, 'Send the budget’s ETag in If-Match to change it');
        }
        if (current.version !== expectedVersion) throw stale();
        const committed = before!.allocatedToChildren + current.reserved + current.spent;
        if (amount < committed) {
          throw new DomainError('conflict', 'BUDGET_BELOW_COMMITMENTS', `Region ${regionCode} has already committed ${committed} of its ${year} budget`, {
            committed,
          });
        }
      }
      await this.hooks.check(budgetAllocationGuard, { regionCode, year, before, allocated: amount }, { tx, actor });
      if (current) {
        await tx
          .update(budgets)
          .set({ allocated: amount, version: current.version + 1, updatedAt: sql`now()` })
          .where(and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)));
      } else {
        await tx.insert(budgets).values({ regionCode, year, allocated: amount });
      }
      const after = await this.read(tx, regionCode, year);
      await this.audit.record(
        {
          actor,
          entityType: 'budget',
          entityId: `${regionCode}/${year}`,
          action: 'budget.allocate',
          region: { code: regionCode, path },
          before: current ? { allocated: current.allocated, version: current.version } : null,
          after: { allocated: after.allocated, version: after.version },
          requestId: ctx.requestId,
        },
        { tx },
      );
      return after;
    });
  }

  /** Reserves an order's cost in the region's budget, inside the caller's transaction; 409 when it does not fit. */
  async reserve(draw: BudgetDraw, { tx }: { tx: Executor }): Promise<void> {
    const { regionCode, year, amount } = draw;
    const row = await this.lock(tx, regionCode, year);
    if (!row) throw new DomainError('conflict', ProblemCodes.BUDGET_NOT_ALLOCATED, `Region ${regionCode} has no ${year} budget`);
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
  async release(draw: BudgetDraw, { tx }: { tx: Executor }): Promise<void> {
    await this.lock(tx, draw.regionCode, draw.year);
    await this.adjust(tx, draw.regionCode, draw.year, { reserved: -draw.amount });
  }

  /** Turns a reservation into spending (delivery). */
  async settle(draw: BudgetDraw, { tx }: { tx: Executor }): Promise<void> {
    await this.lock(tx, draw.regionCode, draw.year);
    await this.adjust(tx, draw.regionCode, draw.year, { reserved: -draw.amount, spent: draw.amount });
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

  /** Budget rows with what their children were given, in one statement. */
  private select(db: Executor, where: SQL | undefined) {
    return db
      .select({
        regionCode: budgets.regionCode,
        year: budgets.year,
        allocated: budgets.allocated,
        reserved: budgets.reserved,
        spent: budgets.spent,
        version: budgets.version,
        allocatedToChildren: childrenAllocated,
        path: regions.path,
      })
      .from(budgets)
      .innerJoin(regions, eq(regions.code, budgets.regionCode))
      .where(where);
  }

  private async read(db: Executor, regionCode: string, year: number): Promise<Budget> {
    const [row] = await this.select(db, and(eq(budgets.regionCode, regionCode), eq(budgets.year, year)));
    if (!row) throw notFound(ProblemCodes.BUDGET_NOT_FOUND, `Region ${regionCode} has no ${year} budget`);
    return toBudget(row);
  }
}

function toBudget(r: { regionCode: string; year: number; allocated: number; reserved: number; spent: number; version: number; allocatedToChildren: number }): Budget {
  const allocatedToChildren = Number(r.allocatedToChildren);
  return {
    regionCode: r.regionCode,
    year: r.year,
    allocated: r.allocated,
    allocatedToChildren,
    reserved: r.reserved,
    spent: r.spent,
    available: r.allocated - allocatedToChildren - r.reserved - r.spent,
    version: r.version,
  };
}
