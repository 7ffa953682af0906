import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DomainError, kernelTables, withTransaction, type Actor, type CallContext, type Database, type Executor, type HookBus } from '@diandan/kernel';
import type { ProcurementClock } from './clock.js';
import { bidSubmitted } from './hooks.js';
import type { ProjectService } from './projects.js';
import { type BidSealer, type BidContent } from './sealing.js';
import { bids, type DocumentData } from './schema.js';
import { auditRegion, isBuyerAdmin, lockProject, readProject, requireEligibleSupplier, supplierOf, type Kernel, type Project, type ProjectRow } from './support.js';

export type BidStatus = 'sealed' | 'withdrawn' | 'replaced' | 'valid' | 'disqualified';

/**
 * A bid as the API shows it. Before the opening it is a receipt (no content); after it,
 * `price`, `proposal`, `documents` and the commitment's `nonce` are shown to the
 * buyer's administrators, the panel and the bidder — so anyone can recompute the commitment.
 */
export interface Bid {
  id: string;
  projectId: string;
  lotId: string;
  supplierId: string;
  status: BidStatus;
  statusReason: string | null;
  /** SHA-256 (hex) over the bid's binding, content and a secret nonce: the bidder's receipt. */
  commitment: string;
  submittedAt: string;
  withdrawnAt: string | null;
  sealed: boolean;
  price: number | null;
  proposal: string | null;
  documents: DocumentData[] | null;
  nonce: string | null;
}

type BidRow = typeof bids.$inferSelect;

export function toBid(r: BidRow): Bid {
  const opened = r.status === 'valid' || r.status === 'disqualified';
  return {
    id: r.id,
    projectId: r.projectId,
    lotId: r.lotId,
    supplierId: r.supplierId,
    status: r.status as BidStatus,
    statusReason: r.statusReason,
    commitment: r.commitment,
    submittedAt: r.submittedAt.toISOString(),
    withdrawnAt: r.withdrawnAt?.toISOString() ?? null,
    sealed: !opened,
    price: opened ? r.price : null,
    proposal: opened ? r.proposal : null,
    documents: opened ? r.documents : null,
    nonce: opened ? r.nonce : null,
  };
}

const sealedError = (row: ProjectRow) =>
  new DomainError('conflict', 'PROCUREMENT_BIDS_SEALED', `Bids are sealed until the tender period ends and the bids are opened (${row.tenderEnd.toISOString()})`, {
    tenderPeriodEnd: row.tenderEnd.toISOString(),
  });

/** Sealed bids (密封投标): submission, withdrawal, opening (开标) after the deadline, reading. */
export class BidService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Kernel,
    private readonly hooks: HookBus,
    private readonly projects: ProjectService,
    private readonly sealer: BidSealer,
    private readonly clock: ProcurementClock,
  ) {}

  /** An eligible, active supplier submits (or replaces) its sealed bid for a lot before the tender deadline. */
  async submit(input: { projectId: string; lotId: string } & BidContent, ctx: CallContext): Promise<Bid> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let row = await lockProject(tx, input.projectId, ctx.actor);
      const now = await this.clock.now(tx);
      row = await this.projects.advance(tx, row, now);
      this.requireOpenForBids(row, now);
      const supplierId = await requireEligibleSupplier(this.kernel, tx, row, ctx.actor);
      if (!row.lots.some((l) => l.id === input.lotId)) throw new DomainError('invalid', 'PROCUREMENT_LOT_UNKNOWN', `Lot ${input.lotId} is not a lot of this project`);
      const replaced = await tx
        .update(bids)
        .set({ status: 'replaced', withdrawnAt: now })
        .where(and(eq(bids.projectId, row.id), eq(bids.lotId, input.lotId), eq(bids.supplierId, supplierId), eq(bids.status, 'sealed')))
        .returning({ id: bids.id });
      const id = randomUUID();
      const binding = { bidId: id, projectId: row.id, lotId: input.lotId, supplierId };
      const { sealed, commitment } = this.sealer.seal(binding, { price: input.price, proposal: input.proposal, documents: input.documents });
      const [bid] = await tx.insert(bids).values({ id, projectId: row.id, lotId: input.lotId, supplierId, status: 'sealed', sealed, commitment, submittedAt: now }).returning();
      // The audit record and the event carry the receipt, never the content.
      await this.kernel.audit.record(
        {
          actor: ctx.actor,
          entityType: 'procurement-bid',
          entityId: id,
          action: 'procurement.bid.submit',
          region: auditRegion(row),
          after: { projectId: row.id, lotId: input.lotId, supplierId, commitment, replaces: replaced[0]?.id ?? null },
          requestId: ctx.requestId,
        },
        { tx },
      );
      await this.hooks.publish(tx, bidSubmitted, { bidId: id, projectId: row.id, lotId: input.lotId, supplierId, commitment });
      return toBid(bid!);
    });
  }

  /** The bidder withdraws its sealed bid before the deadline. */
  async withdraw(input: { projectId: string; bidId: string }, ctx: CallContext): Promise<Bid> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let row = await lockProject(tx, input.projectId, ctx.actor);
      const now = await this.clock.now(tx);
      row = await this.projects.advance(tx, row, now);
      const bid = await this.ownBid(tx, row, input.bidId, ctx.actor);
      this.requireOpenForBids(row, now);
      if (bid.status !== 'sealed') throw new DomainError('conflict', 'PROCUREMENT_BID_NOT_LIVE', `This bid is ${bid.status}`);
      const [updated] = await tx.update(bids).set({ status: 'withdrawn', withdrawnAt: now }).where(eq(bids.id, bid.id)).returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-bid', entityId: bid.id, action: 'procurement.bid.withdraw', region: auditRegion(row), before: { status: 'sealed' }, after: { status: 'withdrawn' }, requestId: ctx.requestId },
        { tx },
      );
      return toBid(updated!);
    });
  }

  /**
   * Opens the bids (开标), only once the tender period has ended by the database's clock:
   * unseals every live bid, disqualifies those of suppliers no longer active, and fails
   * the project when no valid bid remains.
   */
  async open(input: { projectId: string; expectedVersion: number }, ctx: CallContext): Promise<Project> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let failed = false;
      const project = await this.projects.transition({ id: input.projectId, expectedVersion: input.expectedVersion }, 'open', { ...ctx, tx }, async (tx2, row, now) => {
        if (now < row.tenderEnd) {
          throw new DomainError('conflict', 'PROCUREMENT_TENDER_PERIOD_OPEN', `The tender period ends at ${row.tenderEnd.toISOString()}: bids cannot be opened before`, {
            tenderPeriodEnd: row.tenderEnd.toISOString(),
          });
        }
        const live = await tx2.select().from(bids).where(and(eq(bids.projectId, row.id), eq(bids.status, 'sealed'))).for('update');
        const supplierIds = [...new Set(live.map((b) => b.supplierId))];
        const statuses = supplierIds.length
          ? await tx2.select({ id: kernelTables.suppliers.id, status: kernelTables.suppliers.status }).from(kernelTables.suppliers).where(inArray(kernelTables.suppliers.id, supplierIds))
          : [];
        const active = new Set(statuses.filter((s) => s.status === 'active').map((s) => s.id));
        // Unsealed in the process (the key never reaches the database), written back in one
        // set-based statement: the opened contents travel as one JSON parameter.
        const contents = this.sealer.unsealTender(
          row.id,
          live.map((b) => ({ binding: { bidId: b.id, projectId: b.projectId, lotId: b.lotId, supplierId: b.supplierId }, sealed: b.sealed })),
        );
        const opened = live.map((b, i) => {
          const content = contents[i]!;
          const ok = active.has(b.supplierId);
          return {
            id: b.id,
            status: ok ? 'valid' : 'disqualified',
            reason: ok ? null : 'The supplier was not active at the opening',
            price: content.price,
            proposal: content.proposal,
            documents: content.documents,
            nonce: content.nonce,
          };
        });
        if (opened.length > 0) {
          await tx2.execute(sql`
            update ${bids} set
              status = v.status, status_reason = v.reason, price = v.price, proposal = v.proposal, documents = v.documents, nonce = v.nonce
            from jsonb_to_recordset(${JSON.stringify(opened)}::jsonb)
              as v(id uuid, status text, reason text, price integer, proposal text, documents jsonb, nonce text)
            where ${bids.id} = v.id and ${bids.projectId} = ${row.id} and ${bids.status} = 'sealed'`);
        }
        failed = !live.some((b) => active.has(b.supplierId));
        return { openedAt: now };
      });
      await this.projects.recordOpening(tx, project.id);
      if (failed) return this.projects.transition({ id: project.id }, 'fail', { ...ctx, tx }, async () => ({ statusReason: 'No valid bid was received' }));
      return project;
    });
  }

  /** A project's bids: the bidder its own (receipts until the opening); administrators and the panel all of them, once opened. */
  async list(input: { projectId: string }, ctx: { actor: Actor }): Promise<{ items: Bid[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const supplierId = supplierOf(ctx.actor);
    const staff = isBuyerAdmin(ctx.actor, row) || row.panel.includes(ctx.actor.userId);
    if (!staff && !supplierId) throw new DomainError('forbidden', 'PROCUREMENT_BIDS_FORBIDDEN', 'Only the bidders, the buyer’s administrators and the panel read bids');
    if (!supplierId && !row.openedAt) throw sealedError(row);
    const rows = await this.db
      .select()
      .from(bids)
      .where(and(eq(bids.projectId, row.id), supplierId && !staff ? eq(bids.supplierId, supplierId) : undefined))
      .orderBy(asc(bids.submittedAt), asc(bids.id))
      .limit(1000);
    return { items: rows.map(toBid) };
  }

  /** One bid, under the rules of `list`. */
  async get(input: { projectId: string; bidId: string }, ctx: { actor: Actor }): Promise<Bid> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const staff = isBuyerAdmin(ctx.actor, row) || row.panel.includes(ctx.actor.userId);
    if (!staff) return toBid(await this.ownBid(this.db, row, input.bidId, ctx.actor));
    if (!row.openedAt) throw sealedError(row);
    const [bid] = await this.db.select().from(bids).where(and(eq(bids.id, input.bidId), eq(bids.projectId, row.id)));
    if (!bid) throw bidNotFound(input.bidId);
    return toBid(bid);
  }

  private async ownBid(db: Executor, row: ProjectRow, bidId: string, actor: Actor): Promise<BidRow> {
    const supplierId = supplierOf(actor);
    if (!supplierId) throw new DomainError('forbidden', 'PROCUREMENT_BIDS_FORBIDDEN', 'Only the bidders, the buyer’s administrators and the panel read bids');
    const [bid] = await db.select().from(bids).where(and(eq(bids.id, bidId), eq(bids.projectId, row.id), eq(bids.supplierId, supplierId)));
    // Another supplier's bid answers as if it did not exist.
    if (!bid) throw bidNotFound(bidId);
    return bid;
  }

  private requireOpenForBids(row: ProjectRow, now: Date): void {
    if ((row.status !== 'published' && row.status !== 'tendering') || now >= row.tenderEnd) {
      throw new DomainError('conflict', 'PROCUREMENT_TENDER_PERIOD_CLOSED', 'Bids are taken during the tender period only', { tenderPeriodEnd: row.tenderEnd.toISOString() });
    }
  }
}

export function bidNotFound(id: string): DomainError {
  return new DomainError('not_found', 'PROCUREMENT_BID_NOT_FOUND', `Bid ${id} does not exist`);
}
