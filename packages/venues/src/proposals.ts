import { and, desc, eq, lt } from 'drizzle-orm';
import { DomainError, createFilter, notFound, withTransaction, type Actor, type CallContext, type Database, type Executor, type HookBus } from '@diandan/kernel';
import type { VenueDetails } from './details.js';
import type { WeeklyInterval } from './hours.js';
import { VenueProblems } from './problems.js';
import { hourChanges, hourProposals } from './schema.js';
import type { Figures, UtilisationReport } from './utilisation.js';

/** One proposed change of a venue's weekly hours: the whole new week, why, and the figures behind it. */
export interface HoursProposalDraft {
  weekly: WeeklyInterval[];
  reason: string;
  /** What the proposal rests on (the slots' figures, a plugin's own data…). */
  basis: Record<string, unknown>;
  /** `venues` for the built-in rule; a plugin that replaces it names itself. */
  proposedBy: string;
}

/** What the `venues.hours-proposals` filter is given besides the built-in drafts. */
export interface HoursProposalContext {
  venueId: string;
  from: string;
  to: string;
  /** The weekly hours in force. */
  weekly: readonly WeeklyInterval[];
  /** Utilisation by weekday × hour of the sessions' local start (only slots with sessions). */
  slots: readonly (Figures & { weekday: number; hour: number })[];
  totals: Figures;
}

/**
 * The extension point of opening-hours proposals: the built-in rule's drafts pass through
 * every handler, which may change, add or replace them (Hangzhou's plugin proposes hours
 * from its own usage model). Register with `filter(hoursProposals, (drafts, ctx) => …)`.
 */
export const hoursProposals = createFilter<HoursProposalDraft[], HoursProposalContext>('venues.hours-proposals');

export interface HoursProposal extends HoursProposalDraft {
  id: number;
  venueId: string;
  status: 'open' | 'accepted' | 'dismissed';
  decidedBy: string | null;
  decidedAt: string | null;
  /** The hours change (history entry) it became. */
  hourChangeId: number | null;
  createdAt: string;
}

export interface ProposalRule {
  /** A last opening hour whose sessions are booked at least this much (and had a waiting list) → stay open an hour longer. */
  busyBookingRate: number;
  /** A first opening hour whose sessions are checked in less than this → open an hour later. */
  idleUtilisation: number;
  /** Never proposed past this local time. */
  latestClose: string;
  /** The period looked at when none is given. */
  windowDays: number;
}

const hh = (t: string) => Number(t.slice(0, 2));
const at = (h: number) => `${String(h).padStart(2, '0')}:00`;
type Row = typeof hourProposals.$inferSelect;
const view = (r: Row): HoursProposal => ({
  id: r.id,
  venueId: r.venueId,
  weekly: r.weekly,
  reason: r.reason,
  basis: r.basis as Record<string, unknown>,
  proposedBy: r.proposedBy,
  status: r.status as HoursProposal['status'],
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt?.toISOString() ?? null,
  hourChangeId: r.hourChangeId,
  createdAt: r.createdAt.toISOString(),
});

/**
 * The built-in rule, per weekday with hours: its last opening hour busy (booking rate ≥
 * `busyBookingRate` and someone on a waiting list) → close an hour later (at most at
 * `latestClose`); its first opening hour idle (utilisation < `idleUtilisation`) and not busy
 * → open an hour later. All changed weekdays make one proposal.
 */
export function proposeFromSlots(ctx: HoursProposalContext, rule: ProposalRule): HoursProposalDraft[] {
  const weekly = ctx.weekly.map((w) => ({ ...w }));
  const changes: { weekday: number; change: string; figures: Figures & { weekday: number; hour: number } }[] = [];
  for (let day = 1; day <= 7; day++) {
    const intervals = weekly.filter((w) => w.weekday === day).sort((a, b) => a.opens.localeCompare(b.opens));
    if (!intervals.length) continue;
    const first = intervals[0]!;
    const last = intervals[intervals.length - 1]!;
    const slot = (hour: number) => ctx.slots.find((s) => s.weekday === day && s.hour === hour);
    const lastHour = hh(last.closes) - (last.closes.endsWith(':00') ? 1 : 0);
    const late = slot(lastHour);
    if (late && (late.bookingRate ?? 0) >= rule.busyBookingRate && late.waitlistJoined > 0 && hh(last.closes) + 1 <= hh(rule.latestClose)) {
      last.closes = at(hh(last.closes) + 1);
      changes.push({ weekday: day, change: `close at ${last.closes}`, figures: late });
    }
    const early = slot(hh(first.opens));
    const busy = early && (early.bookingRate ?? 0) >= rule.busyBookingRate;
    if (early && !busy && early.reservationUtilisation !== null && early.reservationUtilisation < rule.idleUtilisation && hh(first.opens) + 1 < hh(first.closes)) {
      first.opens = at(hh(first.opens) + 1);
      changes.push({ weekday: day, change: `open at ${first.opens}`, figures: early });
    }
  }
  if (!changes.length) return [];
  return [
    {
      weekly,
      reason: `From utilisation ${ctx.from.slice(0, 10)}–${ctx.to.slice(0, 10)}: ${changes.map((c) => `weekday ${c.weekday} ${c.change}`).join('; ')}`,
      basis: { from: ctx.from, to: ctx.to, changes },
      proposedBy: 'venues',
    },
  ];
}

/** Opening-hours proposals from utilisation (Hangzhou adjusts hours from usage data), kept until staff accept or dismiss them. */
export class HoursProposals {
  constructor(
    private readonly db: Database,
    private readonly hooks: HookBus,
    private readonly details: VenueDetails,
    private readonly utilisation: UtilisationReport,
    readonly rule: ProposalRule,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Computes proposals for a venue over [from, to) (default: the last `windowDays`) and keeps them open; earlier open ones are dismissed as superseded. */
  async propose(input: { venueId: string; from?: string | undefined; to?: string | undefined }, ctx: CallContext): Promise<HoursProposal[]> {
    const to = input.to ?? this.now().toISOString();
    const from = input.from ?? new Date(new Date(to).getTime() - this.rule.windowDays * 86_400_000).toISOString();
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const figures = await this.utilisation.of({ venueId: input.venueId, from, to }, { actor: ctx.actor, tx });
      const weekly = await this.details.weekly(figures.venueId, tx);
      const context: HoursProposalContext = { venueId: figures.venueId, from: figures.from, to: figures.to, weekly, slots: figures.slots, totals: figures.totals };
      const drafts = await this.hooks.apply(hoursProposals, proposeFromSlots(context, this.rule), context);
      await tx
        .update(hourProposals)
        .set({ status: 'dismissed', decidedBy: 'superseded', decidedAt: this.now() })
        .where(and(eq(hourProposals.venueId, figures.venueId), eq(hourProposals.status, 'open')));
      if (!drafts.length) return [];
      const rows = await tx
        .insert(hourProposals)
        .values(drafts.map((d) => ({ venueId: figures.venueId, weekly: d.weekly, reason: d.reason.slice(0, 1000), basis: d.basis, proposedBy: d.proposedBy, createdAt: this.now() })))
        .returning();
      return rows.map(view);
    });
  }

  /** A venue's proposals, newest first (staff of its region). */
  async list(input: { venueId: string; status?: HoursProposal['status'] | undefined; limit: number; after?: number | undefined }, ctx: { actor: Actor }): Promise<HoursProposal[]> {
    const venue = await this.details.venue(input.venueId, { actor: ctx.actor, manage: true });
    const rows = await this.db
      .select()
      .from(hourProposals)
      .where(and(eq(hourProposals.venueId, venue.id), input.status ? eq(hourProposals.status, input.status) : undefined, input.after ? lt(hourProposals.id, input.after) : undefined))
      .orderBy(desc(hourProposals.id))
      .limit(input.limit);
    return rows.map(view);
  }

  private async open(tx: Executor, id: number, actor: Actor): Promise<Row> {
    const [p] = await tx.select().from(hourProposals).where(eq(hourProposals.id, id)).for('update');
    if (!p) throw notFound(VenueProblems.PROPOSAL_NOT_FOUND, `No hours proposal ${id}`);
    await this.details.venue(p.venueId, { actor, tx, manage: true });
    if (p.status !== 'open') throw new DomainError('conflict', VenueProblems.PROPOSAL_DECIDED, `This proposal is ${p.status}`, { status: p.status });
    return p;
  }

  /** Accepts a proposal: the venue's weekly hours become the proposed ones, through the hours-change history (`expectedVersion` of the profile). */
  async accept(input: { id: number; expectedVersion: number }, ctx: CallContext): Promise<{ proposal: HoursProposal; profileVersion: number }> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const p = await this.open(tx, input.id, ctx.actor);
      const profile = await this.details.setWeekly({ venueId: p.venueId, expectedVersion: input.expectedVersion, weekly: p.weekly, reason: `Hours proposal #${p.id} (${p.proposedBy}): ${p.reason}`.slice(0, 1000) }, { ...ctx, tx });
      const [change] = await tx.select({ id: hourChanges.id }).from(hourChanges).where(eq(hourChanges.venueId, p.venueId)).orderBy(desc(hourChanges.id)).limit(1);
      const [row] = await tx.update(hourProposals).set({ status: 'accepted', decidedBy: ctx.actor.userId, decidedAt: this.now(), hourChangeId: change?.id ?? null }).where(eq(hourProposals.id, p.id)).returning();
      return { proposal: view(row!), profileVersion: profile.version };
    });
  }

  /** Dismisses a proposal; the hours stay as they are. */
  async dismiss(id: number, ctx: CallContext): Promise<HoursProposal> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const p = await this.open(tx, id, ctx.actor);
      const [row] = await tx.update(hourProposals).set({ status: 'dismissed', decidedBy: ctx.actor.userId, decidedAt: this.now() }).where(eq(hourProposals.id, p.id)).returning();
      return view(row!);
    });
  }
}
