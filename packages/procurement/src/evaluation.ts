import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { DomainError, stale, withTransaction, type Actor, type CallContext, type Database, type Executor, type HookBus } from '@diandan/kernel';
import type { ProcurementClock } from './clock.js';
import { bidNotFound } from './bids.js';
import { tenderAwarded } from './hooks.js';
import type { OcdsService } from './ocds.js';
import { eventOf, type ProjectService } from './projects.js';
import { awards, bids, declarations, projects, scores } from './schema.js';
import { auditRegion, isBuyerAdmin, lockProject, readProject, requireBuyerAdmin, type Kernel, type Project, type ProjectRow } from './support.js';

/** A panel member's declaration of interests. */
export interface Declaration {
  member: string;
  conflict: boolean;
  statement: string;
  declaredAt: string;
}

/** One bid's place in its lot's ranking. */
export interface RankedBid {
  bidId: string;
  supplierId: string;
  price: number;
  /** lowest valid price of the lot / this price × price weight. */
  priceScore: number;
  /** mean of the scoring members' scores (0–100) / 100 × quality weight. */
  qualityScore: number;
  total: number;
  scoredBy: number;
  rank: number;
}

export interface LotRanking {
  lotId: string;
  /** Every valid bid has a score of every member without a conflict. */
  complete: boolean;
  bids: RankedBid[];
}

/** An award (中标) as the API shows it. */
export interface Award {
  id: string;
  projectId: string;
  lotId: string;
  bidId: string | null;
  supplierId: string | null;
  status: 'pending' | 'active' | 'cancelled' | 'unsuccessful';
  statusReason: string | null;
  value: number | null;
  rank: number | null;
  date: string;
  standstillEnd: string | null;
  version: number;
}

type AwardRow = typeof awards.$inferSelect;

export function toAward(r: AwardRow): Award {
  return {
    id: r.id,
    projectId: r.projectId,
    lotId: r.lotId,
    bidId: r.bidId,
    supplierId: r.supplierId,
    status: r.status as Award['status'],
    statusReason: r.statusReason,
    value: r.value,
    rank: r.rank,
    date: r.date.toISOString(),
    standstillEnd: r.standstillEnd?.toISOString() ?? null,
    version: r.version,
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Evaluation (评审): conflicts of interest, scores, ranking, awards with a standstill, and award rejection. */
export class EvaluationService {
  constructor(
    private readonly db: Database,
    private readonly kernel: Kernel,
    private readonly hooks: HookBus,
    private readonly projects: ProjectService,
    private readonly ocds: OcdsService,
    private readonly clock: ProcurementClock,
  ) {}

  /** A panel member declares a conflict of interest, or none, once, before scoring. */
  async declare(input: { projectId: string; conflict: boolean; statement: string }, ctx: CallContext): Promise<Declaration> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const row = await lockProject(tx, input.projectId, ctx.actor);
      this.requireMember(row, ctx.actor);
      if (row.status !== 'evaluation') throw notEvaluating(row);
      const now = await this.clock.now(tx);
      const [d] = await tx.insert(declarations).values({ projectId: row.id, member: ctx.actor.userId, conflict: input.conflict, statement: input.statement, declaredAt: now }).onConflictDoNothing().returning();
      if (!d) throw new DomainError('conflict', 'PROCUREMENT_ALREADY_DECLARED', 'You have declared your interests for this project already');
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-project', entityId: row.id, action: 'procurement.panel.declare', region: auditRegion(row), after: { conflict: d.conflict, statement: d.statement }, requestId: ctx.requestId },
        { tx },
      );
      return toDeclaration(d);
    });
  }

  /** A panel member without a conflict scores a valid bid's quality (0–100); a new score replaces the member's earlier one. */
  async score(input: { projectId: string; bidId: string; score: number; comment: string }, ctx: CallContext): Promise<{ bidId: string; member: string; score: number; comment: string }> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const row = await lockProject(tx, input.projectId, ctx.actor);
      this.requireMember(row, ctx.actor);
      if (row.status !== 'evaluation') throw notEvaluating(row);
      const [d] = await tx.select().from(declarations).where(and(eq(declarations.projectId, row.id), eq(declarations.member, ctx.actor.userId)));
      if (!d) throw new DomainError('conflict', 'PROCUREMENT_DECLARATION_REQUIRED', 'Declare your interests before scoring');
      if (d.conflict) throw new DomainError('forbidden', 'PROCUREMENT_CONFLICT_OF_INTEREST', 'You declared a conflict of interest: you cannot score this project');
      const [bid] = await tx.select().from(bids).where(and(eq(bids.id, input.bidId), eq(bids.projectId, row.id)));
      if (!bid) throw bidNotFound(input.bidId);
      if (bid.status !== 'valid') throw new DomainError('conflict', 'PROCUREMENT_BID_NOT_VALID', `A ${bid.status} bid is not scored`);
      const values = { bidId: bid.id, member: ctx.actor.userId, score: input.score, comment: input.comment };
      const now = await this.clock.now(tx);
      await tx.insert(scores).values({ ...values, scoredAt: now }).onConflictDoUpdate({ target: [scores.bidId, scores.member], set: { score: input.score, comment: input.comment, scoredAt: now } });
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-bid', entityId: bid.id, action: 'procurement.bid.score', region: auditRegion(row), after: { score: input.score, comment: input.comment }, requestId: ctx.requestId },
        { tx },
      );
      return values;
    });
  }

  /** The buyer's administrators disqualify a bid (非实质性响应) during the evaluation. */
  async disqualify(input: { projectId: string; bidId: string; reason: string }, ctx: CallContext): Promise<void> {
    await withTransaction(this.db, ctx.tx, async (tx) => {
      const row = await lockProject(tx, input.projectId, ctx.actor);
      requireBuyerAdmin(ctx.actor, row);
      if (row.status !== 'evaluation') throw notEvaluating(row);
      const [bid] = await tx.select().from(bids).where(and(eq(bids.id, input.bidId), eq(bids.projectId, row.id))).for('update');
      if (!bid) throw bidNotFound(input.bidId);
      if (bid.status !== 'valid') throw new DomainError('conflict', 'PROCUREMENT_BID_NOT_VALID', `A ${bid.status} bid cannot be disqualified`);
      await tx.update(bids).set({ status: 'disqualified', statusReason: input.reason }).where(eq(bids.id, bid.id));
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-bid', entityId: bid.id, action: 'procurement.bid.disqualify', region: auditRegion(row), before: { status: 'valid' }, after: { status: 'disqualified', reason: input.reason }, requestId: ctx.requestId },
        { tx },
      );
    });
  }

  /** The declarations so far (administrators and the panel). */
  async declarations(input: { projectId: string }, ctx: { actor: Actor }): Promise<{ items: Declaration[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    this.requireStaff(row, ctx.actor);
    const rows = await this.db.select().from(declarations).where(eq(declarations.projectId, row.id)).orderBy(asc(declarations.declaredAt));
    return { items: rows.map(toDeclaration) };
  }

  /** The ranking per lot (administrators and the panel), once the bids are opened. */
  async ranking(input: { projectId: string }, ctx: { actor: Actor }): Promise<{ lots: LotRanking[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    this.requireStaff(row, ctx.actor);
    if (!row.openedAt) throw new DomainError('conflict', 'PROCUREMENT_BIDS_SEALED', 'Bids are sealed until the tender period ends and the bids are opened');
    return { lots: await this.rank(this.db, row) };
  }

  /**
   * Ranks each lot's valid bids: total = price score + quality score (see the README),
   * ties broken by the lower price, then the earlier submission.
   */
  async rank(db: Executor, row: ProjectRow): Promise<LotRanking[]> {
    const valid = await db.select().from(bids).where(and(eq(bids.projectId, row.id), eq(bids.status, 'valid'))).orderBy(asc(bids.submittedAt));
    const scoreRows = valid.length ? await db.select().from(scores).where(inArray(scores.bidId, valid.map((b) => b.id))) : [];
    const decl = await db.select().from(declarations).where(eq(declarations.projectId, row.id));
    const scorers = new Set(decl.filter((d) => !d.conflict).map((d) => d.member));
    const declaredAll = row.panel.every((m) => decl.some((d) => d.member === m));
    return row.lots.map((lot) => {
      const lotBids = valid.filter((b) => b.lotId === lot.id);
      const lowest = Math.min(...lotBids.map((b) => b.price!));
      let complete = row.qualityWeight === 0 || (declaredAll && scorers.size > 0);
      const ranked = lotBids.map((b) => {
        const mine = scoreRows.filter((s) => s.bidId === b.id && scorers.has(s.member));
        if (row.qualityWeight > 0 && mine.length < scorers.size) complete = false;
        const mean = mine.length ? mine.reduce((s, x) => s + x.score, 0) / mine.length : 0;
        const priceScore = round2((lowest / b.price!) * row.priceWeight);
        const qualityScore = round2((mean / 100) * row.qualityWeight);
        return { bidId: b.id, supplierId: b.supplierId, price: b.price!, priceScore, qualityScore, total: round2(priceScore + qualityScore), scoredBy: mine.length, rank: 0, at: b.submittedAt.getTime() };
      });
      ranked.sort((a, b) => b.total - a.total || a.price - b.price || a.at - b.at);
      return { lotId: lot.id, complete, bids: ranked.map(({ at: _at, ...r }, i) => ({ ...r, rank: i + 1 })) };
    });
  }

  /** Awards each lot to its best-ranked bid (pending through the standstill period); lots without a valid bid are unsuccessful. */
  async award(input: { projectId: string; expectedVersion: number }, ctx: CallContext): Promise<Project> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      let made: AwardRow[] = [];
      let anyAwarded = false;
      let locked: ProjectRow | undefined;
      const project = await this.projects.transition({ id: input.projectId, expectedVersion: input.expectedVersion }, 'award', { ...ctx, tx }, async (tx2, row, now) => {
        locked = row;
        const decl = await tx2.select().from(declarations).where(eq(declarations.projectId, row.id));
        const missing = row.panel.filter((m) => !decl.some((d) => d.member === m));
        if (row.qualityWeight > 0 && missing.length > 0) {
          throw new DomainError('conflict', 'PROCUREMENT_DECLARATIONS_MISSING', 'Every panel member declares their interests before the award', { members: missing });
        }
        if (row.qualityWeight > 0 && !decl.some((d) => !d.conflict)) {
          throw new DomainError('conflict', 'PROCUREMENT_PANEL_CONFLICTED', 'Every panel member declared a conflict: nobody can score');
        }
        const lots = await this.rank(tx2, row);
        const incomplete = lots.filter((l) => !l.complete && l.bids.length > 0).map((l) => l.lotId);
        if (incomplete.length > 0) throw new DomainError('conflict', 'PROCUREMENT_SCORES_MISSING', 'Every valid bid needs a score of every member without a conflict', { lots: incomplete });
        made = [];
        for (const lot of lots) {
          const best = lot.bids[0];
          const [a] = await tx2
            .insert(awards)
            .values(
              best
                ? { projectId: row.id, lotId: lot.lotId, bidId: best.bidId, supplierId: best.supplierId, status: 'pending', value: best.price, rank: 1, standstillEnd: standstillEnd(now, row.standstillDays), date: now }
                : { projectId: row.id, lotId: lot.lotId, status: 'unsuccessful', statusReason: 'No valid bid for this lot', date: now },
            )
            .returning();
          made.push(a!);
        }
        anyAwarded = made.some((a) => a.status === 'pending');
        return {};
      });
      await this.auditAwards(tx, locked!, made, ctx);
      if (!anyAwarded) return this.projects.transition({ id: project.id }, 'fail', { ...ctx, tx }, async () => ({ statusReason: 'No lot could be awarded' }));
      await this.ocds.record(tx, project.id, 'award');
      const [row] = await tx.select().from(projects).where(eq(projects.id, project.id));
      await this.hooks.publish(tx, tenderAwarded, {
        ...eventOf(row!, ctx.actor),
        awards: made.map((a) => ({ awardId: a.id, lotId: a.lotId, supplierId: a.supplierId, status: a.status })),
      });
      return project;
    });
  }

  /**
   * Rejects a pending award (the winner declines, or is found ineligible): the lot goes
   * to the next-ranked valid bid with a new standstill period, or is unsuccessful when
   * none is left — and the project, when no lot remains awarded.
   */
  async rejectAward(input: { awardId: string; expectedVersion: number; reason: string }, ctx: CallContext): Promise<{ rejected: Award; next: Award }> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [a] = await tx.select().from(awards).where(eq(awards.id, input.awardId)).for('update');
      if (!a) throw awardNotFound(input.awardId);
      const row = await lockProject(tx, a.projectId, ctx.actor);
      if (!isBuyerAdmin(ctx.actor, row)) throw awardNotFound(input.awardId);
      if (a.version !== input.expectedVersion) throw stale();
      if (a.status !== 'pending') throw new DomainError('conflict', 'PROCUREMENT_AWARD_NOT_PENDING', `A ${a.status} award cannot be rejected`);
      const now = await this.clock.now(tx);
      const [rejected] = await tx
        .update(awards)
        .set({ status: 'cancelled', statusReason: input.reason, version: sql`${awards.version} + 1` })
        .where(eq(awards.id, a.id))
        .returning();
      const tried = await tx.select({ bidId: awards.bidId }).from(awards).where(and(eq(awards.projectId, row.id), eq(awards.lotId, a.lotId)));
      const lot = (await this.rank(tx, row)).find((l) => l.lotId === a.lotId)!;
      const candidate = lot.bids.find((b) => !tried.some((t) => t.bidId === b.bidId));
      const [next] = await tx
        .insert(awards)
        .values(
          candidate
            ? { projectId: row.id, lotId: a.lotId, bidId: candidate.bidId, supplierId: candidate.supplierId, status: 'pending', value: candidate.price, rank: candidate.rank, standstillEnd: standstillEnd(now, row.standstillDays), date: now }
            : { projectId: row.id, lotId: a.lotId, status: 'unsuccessful', statusReason: 'No further valid bid for this lot', date: now },
        )
        .returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-award', entityId: a.id, action: 'procurement.award.reject', region: auditRegion(row), before: toAward(a), after: { rejected: toAward(rejected!), next: toAward(next!) }, requestId: ctx.requestId },
        { tx },
      );
      await this.ocds.record(tx, row.id, 'awardUpdate');
      const live = await tx.select({ id: awards.id }).from(awards).where(and(eq(awards.projectId, row.id), inArray(awards.status, ['pending', 'active'])));
      if (live.length === 0) await this.projects.transition({ id: row.id }, 'fail', { ...ctx, tx }, async () => ({ statusReason: 'Every award was rejected' }));
      return { rejected: toAward(rejected!), next: toAward(next!) };
    });
  }

  /** A project's awards: public once made. */
  async awards(input: { projectId: string }, ctx: { actor: Actor | null }): Promise<{ items: Award[] }> {
    const row = await readProject(this.db, input.projectId, ctx.actor);
    const rows = await this.db.select().from(awards).where(eq(awards.projectId, row.id)).orderBy(asc(awards.date), asc(awards.id));
    return { items: rows.map(toAward) };
  }

  private async auditAwards(tx: Executor, row: ProjectRow, made: AwardRow[], ctx: CallContext): Promise<void> {
    for (const a of made) {
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'procurement-award', entityId: a.id, action: 'procurement.award.make', region: auditRegion(row), after: toAward(a), requestId: ctx.requestId },
        { tx },
      );
    }
  }

  private requireMember(row: ProjectRow, actor: Actor): void {
    if (!row.panel.includes(actor.userId)) throw new DomainError('forbidden', 'PROCUREMENT_NOT_PANEL_MEMBER', 'Only the project’s evaluation panel does this');
  }

  private requireStaff(row: ProjectRow, actor: Actor): void {
    if (!isBuyerAdmin(actor, row) && !row.panel.includes(actor.userId)) {
      throw new DomainError('forbidden', 'PROCUREMENT_EVALUATION_FORBIDDEN', 'Only the buyer’s administrators and the panel see the evaluation');
    }
  }
}

function standstillEnd(now: Date, days: number): Date {
  return new Date(now.getTime() + days * 86_400_000);
}

function notEvaluating(row: ProjectRow): DomainError {
  return new DomainError('conflict', 'PROCUREMENT_NOT_IN_EVALUATION', `The project is ${row.status}, not in evaluation`);
}

export function awardNotFound(id: string): DomainError {
  return new DomainError('not_found', 'PROCUREMENT_AWARD_NOT_FOUND', `Award ${id} does not exist`);
}

function toDeclaration(d: typeof declarations.$inferSelect): Declaration {
  return { member: d.member, conflict: d.conflict, statement: d.statement, declaredAt: d.declaredAt.toISOString() };
}
