import { and, asc, desc, eq, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import { transaction, type Database, type Executor } from '@diandan/kernel';
import type { Citizen } from './citizens.js';
import type { ReservationService } from './reservations.js';
import { citizenBlocks, reservations, sessions } from './schema.js';

export interface NoShowConfig {
  /** Unclaimed seats are released this long after the check-in window closes. */
  graceMinutes: number;
  /** This many no-shows within `periodDays`… */
  blockAfter: number;
  periodDays: number;
  /** …block booking for this many days from the last of them. */
  blockDays: number;
}

export interface Standing {
  blocked: boolean;
  /** The block in force, and the no-shows that caused it. */
  block: { startsAt: string; endsAt: string; reason: string; noShows: NoShow[] } | null;
  /** No-shows counted now (within the period), and the rule. */
  noShows: NoShow[];
  rule: { blockAfter: number; periodDays: number; blockDays: number; graceMinutes: number };
}

export interface NoShow {
  reservationId: string;
  sessionId: string;
  title: string;
  startsAt: string;
  noShowAt: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * No-shows: once a session's check-in window plus the grace period has passed, its
 * reservations not checked in become `no-show` and their seats go back (to the waiting
 * list while booking is still open). A citizen with `blockAfter` no-shows within
 * `periodDays` is blocked from booking for `blockDays`; they can see why.
 */
export class NoShowService {
  constructor(
    private readonly db: Database,
    private readonly reservations: ReservationService,
    readonly config: NoShowConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Releases the due sessions' unclaimed seats (the sweep job). Returns the sessions released. */
  async releaseDue(limit = 200): Promise<number> {
    const cutoff = new Date(this.now().getTime() - this.config.graceMinutes * MINUTE);
    const due = await this.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(eq(sessions.status, 'open'), isNull(sessions.noShowsReleasedAt), lte(sessions.checkInClosesAt, cutoff)))
      .orderBy(asc(sessions.checkInClosesAt))
      .limit(limit);
    let n = 0;
    for (const { id } of due) if ((await this.release(id)) !== null) n++;
    return n;
  }

  /** Releases one session's unclaimed seats, once (null: not due or done already). */
  async release(sessionId: string): Promise<{ seats: number; reservations: number } | null> {
    return transaction(this.db, async (tx) => {
      const s = await this.reservations.lockSession(tx, sessionId);
      const now = this.now();
      if (s.noShowsReleasedAt || s.status !== 'open' || s.checkInClosesAt.getTime() + this.config.graceMinutes * MINUTE > now.getTime()) return null;
      // Reservations made after the window closed (late offers) may still come: not theirs to release.
      const released = await tx
        .update(reservations)
        .set({ status: 'no-show', noShowAt: now })
        .where(and(eq(reservations.sessionId, s.id), eq(reservations.status, 'confirmed'), lte(reservations.createdAt, s.checkInClosesAt)))
        .returning();
      const seats = released.reduce((sum, r) => sum + r.quantity, 0);
      await tx.update(sessions).set({ confirmed: sql`${sessions.confirmed} - ${seats}`, noShowsReleasedAt: now }).where(eq(sessions.id, s.id));
      await this.reservations.promote(tx, s.id);
      for (const citizenId of new Set(released.map((r) => r.citizenId))) await this.blockIfRepeated(tx, citizenId, now);
      return { seats, reservations: released.length };
    });
  }

  private async noShowsOf(db: Executor, citizenId: string, since: Date): Promise<NoShow[]> {
    const rows = await db
      .select({ r: reservations, title: sessions.title, startsAt: sessions.startsAt })
      .from(reservations)
      .innerJoin(sessions, eq(sessions.id, reservations.sessionId))
      .where(and(eq(reservations.citizenId, citizenId), eq(reservations.status, 'no-show'), gt(reservations.noShowAt, since)))
      .orderBy(desc(reservations.noShowAt))
      .limit(100);
    return rows.map(({ r, title, startsAt }) => ({ reservationId: r.id, sessionId: r.sessionId, title, startsAt: startsAt.toISOString(), noShowAt: r.noShowAt!.toISOString() }));
  }

  private async blockIfRepeated(tx: Executor, citizenId: string, now: Date): Promise<void> {
    const recent = await this.noShowsOf(tx, citizenId, new Date(now.getTime() - this.config.periodDays * DAY));
    if (recent.length < this.config.blockAfter) return;
    const [active] = await tx.select({ id: citizenBlocks.id }).from(citizenBlocks).where(and(eq(citizenBlocks.citizenId, citizenId), gt(citizenBlocks.endsAt, now)));
    if (active) return;
    const counted = recent.slice(0, this.config.blockAfter);
    await tx.insert(citizenBlocks).values({
      citizenId,
      startsAt: now,
      endsAt: new Date(now.getTime() + this.config.blockDays * DAY),
      reason: `${counted.length} no-shows within ${this.config.periodDays} days`,
      reservationIds: counted.map((n) => n.reservationId),
      createdAt: now,
    });
  }

  /** Whether the citizen is blocked, why, and the no-shows that count now. */
  async standing(citizen: Citizen): Promise<Standing> {
    const now = this.now();
    const rule = { blockAfter: this.config.blockAfter, periodDays: this.config.periodDays, blockDays: this.config.blockDays, graceMinutes: this.config.graceMinutes };
    const noShows = await this.noShowsOf(this.db, citizen.id, new Date(now.getTime() - this.config.periodDays * DAY));
    const [b] = await this.db.select().from(citizenBlocks).where(and(eq(citizenBlocks.citizenId, citizen.id), lte(citizenBlocks.startsAt, now), gt(citizenBlocks.endsAt, now))).orderBy(desc(citizenBlocks.endsAt)).limit(1);
    if (!b) return { blocked: false, block: null, noShows, rule };
    const causes = await this.db
      .select({ r: reservations, title: sessions.title, startsAt: sessions.startsAt })
      .from(reservations)
      .innerJoin(sessions, eq(sessions.id, reservations.sessionId))
      .where(and(eq(reservations.citizenId, citizen.id), inArray(reservations.id, b.reservationIds.length ? b.reservationIds : ['00000000-0000-0000-0000-000000000000'])))
      .orderBy(desc(reservations.noShowAt));
    return {
      blocked: true,
      block: {
        startsAt: b.startsAt.toISOString(),
        endsAt: b.endsAt.toISOString(),
        reason: b.reason,
        noShows: causes.map(({ r, title, startsAt }) => ({ reservationId: r.id, sessionId: r.sessionId, title, startsAt: startsAt.toISOString(), noShowAt: r.noShowAt!.toISOString() })),
      },
      noShows,
      rule,
    };
  }
}
