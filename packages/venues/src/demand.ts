import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { transaction, type Database, type Executor } from '@diandan/kernel';
import { localParts } from './hours.js';
import { sessions, waitlist } from './schema.js';

/** One demand signal, in the survey package's shape (`DemandSignal` of `@diandan/survey`). */
export interface WaitlistDemandSignal {
  regionCode: string;
  group: string;
  category: string;
  tags: string[];
  /** `YYYY-MM` of the session's local start. */
  period: string;
  /** Seats asked for and not served. */
  weight: number;
}

/** What one closed session's waiting list left unserved. */
export interface UnservedDemand {
  sessionId: string;
  /** Entries still waiting, or offered and never accepted, when booking closed. */
  entries: number;
  seats: number;
  /** The signals sent (none when the session has no category or nothing was left unserved). */
  signals: WaitlistDemandSignal[];
}

/** The group a signal goes to when a session names no audience group. */
export const GENERAL_PUBLIC = 'general-public';
/** The tag every waiting-list signal carries. */
export const WAITLIST_TAG = 'venue-waitlist';

/**
 * Waiting-list demand (需求信号): once a session's booking has closed (it starts, or staff
 * closed booking early), the seats its waiting list still asked for — entries waiting, or
 * offered and not accepted — are demand the venue did not serve. They go to the survey
 * package as demand signals (`survey.demand-signalled`, published in the same transaction
 * as the session's mark, so each session is counted once); without the survey plugin the
 * session is only marked. A session without a category cannot be placed in the needs map:
 * it is marked with no signal.
 */
export class DemandSignals {
  /** Publishes the signals inside the transaction (the plugin sets it when the survey plugin is present). */
  publish: ((tx: Executor, signals: WaitlistDemandSignal[]) => Promise<void>) | undefined;

  constructor(
    private readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Signals every due session's unserved waiting list, once each (the `signal-demand` job). */
  async signalDue(limit = 200): Promise<UnservedDemand[]> {
    const due = await this.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(and(isNull(sessions.demandSignalledAt), lte(sessions.bookingClosesAt, this.now())))
      .orderBy(asc(sessions.bookingClosesAt))
      .limit(limit);
    const out: UnservedDemand[] = [];
    for (const { id } of due) {
      const done = await this.signal(id);
      if (done) out.push(done);
    }
    return out;
  }

  /** Counts one session's unserved waiting list and signals it, once (null: not due, or counted already). */
  async signal(sessionId: string): Promise<UnservedDemand | null> {
    return transaction(this.db, async (tx) => {
      const [s] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for('update');
      const now = this.now();
      if (!s || s.demandSignalledAt || s.bookingClosesAt > now) return null;
      const [left] = await tx
        .select({ entries: sql<number>`count(*)::int`, seats: sql<number>`coalesce(sum(${waitlist.quantity}), 0)::int` })
        .from(waitlist)
        .where(and(eq(waitlist.sessionId, s.id), inArray(waitlist.status, ['waiting', 'offered'])));
      const entries = Number(left!.entries);
      const seats = Number(left!.seats);
      const signals = s.category && seats > 0 ? signalsOf({ ...s, category: s.category }, seats) : [];
      if (signals.length && this.publish) await this.publish(tx, signals);
      await tx.update(sessions).set({ demandSignalledAt: now }).where(eq(sessions.id, s.id));
      return { sessionId: s.id, entries, seats, signals: this.publish ? signals : [] };
    });
  }
}

/** A session's unserved seats as signals: split evenly over its audience groups (or the general public). */
export function signalsOf(s: { regionCode: string; category: string; audienceGroups: string[]; startsAt: Date }, seats: number): WaitlistDemandSignal[] {
  const groups = s.audienceGroups.length ? s.audienceGroups : [GENERAL_PUBLIC];
  const period = localParts(s.startsAt).day.slice(0, 7);
  return groups.map((group) => ({ regionCode: s.regionCode, group, category: s.category, tags: [WAITLIST_TAG], period, weight: Math.round((seats / groups.length) * 10_000) / 10_000 }));
}
