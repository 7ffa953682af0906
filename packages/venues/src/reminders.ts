import { and, asc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { transaction, type Database } from '@diandan/kernel';
import type { CitizenService } from './citizens.js';
import { reservations, sessions } from './schema.js';

/** One reminder to a ticket holder before their session. `phone` is for the sender only: never log it. */
export interface Reminder {
  reservationId: string;
  sessionId: string;
  title: string;
  startsAt: string;
  seats: number;
  phone: string;
  phoneMasked: string;
}

/** Sends reminders (SMS or push in production; the development sender logs them with the phone masked). */
export interface ReminderSender {
  send(reminder: Reminder): Promise<void>;
}

export interface ReminderConfig {
  /** A reminder goes out this long before the session starts. */
  minutesBefore: number;
}

const MINUTE = 60_000;

/**
 * Reminders (活动提醒): once a session is less than `minutesBefore` away, each confirmed
 * reservation's holder is sent one reminder, through a pluggable sender. Once per
 * reservation: the reservation is claimed (`reminded_at`, a conditional update) in the
 * transaction that sends it, so two sweeps never both send, and a failed send leaves it
 * for the next sweep. A reservation made inside the window is reminded on the next sweep.
 */
export class ReminderService {
  private sender: ReminderSender | undefined;

  constructor(
    private readonly db: Database,
    private readonly citizens: CitizenService,
    readonly config: ReminderConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Plugs in the sender of reminders (a notification plugin calls this in its `init`). */
  useSender(sender: ReminderSender | undefined): void {
    this.sender = sender;
  }

  /** Sends every due reminder, each once (the `send-reminders` job). Returns how many were sent. */
  async sendDue(limit = 500): Promise<number> {
    if (!this.sender) return 0;
    const now = this.now();
    const due = await this.db
      .select({ id: reservations.id })
      .from(reservations)
      .innerJoin(sessions, eq(sessions.id, reservations.sessionId))
      .where(
        and(
          eq(reservations.status, 'confirmed'),
          isNull(reservations.remindedAt),
          eq(sessions.status, 'open'),
          gt(sessions.startsAt, now),
          lte(sessions.startsAt, new Date(now.getTime() + this.config.minutesBefore * MINUTE)),
        ),
      )
      .orderBy(asc(sessions.startsAt), asc(reservations.id))
      .limit(limit);
    let sent = 0;
    for (const { id } of due) if (await this.remind(id)) sent++;
    return sent;
  }

  /** Sends one reservation's reminder unless it was sent already (or it is no longer confirmed). */
  async remind(reservationId: string): Promise<boolean> {
    const sender = this.sender;
    if (!sender) return false;
    return transaction(this.db, async (tx) => {
      const [claimed] = await tx
        .update(reservations)
        .set({ remindedAt: this.now() })
        .where(and(eq(reservations.id, reservationId), eq(reservations.status, 'confirmed'), isNull(reservations.remindedAt)))
        .returning();
      if (!claimed) return false;
      const [s] = await tx.select({ title: sessions.title, startsAt: sessions.startsAt }).from(sessions).where(eq(sessions.id, claimed.sessionId));
      const contact = await this.citizens.contactOf(claimed.citizenId, tx);
      if (!s || !contact) return false;
      await sender.send({ reservationId: claimed.id, sessionId: claimed.sessionId, title: s.title, startsAt: s.startsAt.toISOString(), seats: claimed.quantity, ...contact });
      return true;
    });
  }

  /** How many reservations were reminded (for a session's staff view and tests). */
  async remindedCount(sessionId: string): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(reservations).where(and(eq(reservations.sessionId, sessionId), sql`${reservations.remindedAt} is not null`));
    return Number(row!.n);
  }
}
