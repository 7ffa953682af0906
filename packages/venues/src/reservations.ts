import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import { DomainError, inScope, notFound, prepareRows, transaction, transactionBatch, withTransaction, type Actor, type Database, type Executor, type PreparedRows, type Transaction } from '@diandan/kernel';
import type { Citizen } from './citizens.js';
import type { TicketSigner } from './tickets.js';
import { VenueProblems } from './problems.js';
import { citizenBlocks, citizens, reservations, sessions, waitlist } from './schema.js';
import { toSession, type Session } from './sessions.js';

export interface ReservationConfig {
  /** Most seats of one group booking (a family, a school class). */
  maxGroupSeats: number;
  /** Most reservations (not cancelled) of one citizen for sessions starting in one calendar month (Asia/Shanghai). */
  monthlyLimit: number;
  /** How long a waiting-list offer holds its seats. */
  offerHoldMinutes: number;
  /** An offer lapses at the latest this many minutes before the start… */
  offerCloseMinutesBeforeStart: number;
  /** …but is never shorter than this (capped by the session's booking close). */
  minOfferMinutes: number;
}

export interface Reservation {
  id: string;
  sessionId: string;
  quantity: number;
  groupName: string | null;
  status: 'confirmed' | 'checked-in' | 'cancelled' | 'no-show';
  /** The door code (typed in at the door when a QR code cannot be read). */
  code: string;
  /** The signed ticket the QR code carries: verifiable at the door without the database. */
  ticket: string;
  waitlistEntryId: number | null;
  checkedInAt: string | null;
  /** `online`, or `offline` (a signed ticket scanned while the door was offline, reconciled later). */
  checkedInVia: 'online' | 'offline' | null;
  cancelledAt: string | null;
  /** When the no-show sweep released its seats. */
  noShowAt: string | null;
  createdAt: string;
  /** The citizen's phone, masked. */
  phone: string;
}

export interface WaitlistEntry {
  id: number;
  sessionId: string;
  quantity: number;
  status: 'waiting' | 'offered' | 'accepted' | 'lapsed' | 'left';
  /** 1 for the next to be offered seats, among those still waiting; null once not waiting. */
  position: number | null;
  offerExpiresAt: string | null;
  reservationId: string | null;
  createdAt: string;
}

/** What a reservation request ended as: booked, or (with `waitlist: true`) on the waiting list. */
export type BookingOutcome = { kind: 'reserved'; reservation: Reservation } | { kind: 'waitlisted'; entry: WaitlistEntry };

type ReservationRow = typeof reservations.$inferSelect;
type SessionRow = typeof sessions.$inferSelect;
type EntryRow = typeof waitlist.$inferSelect;
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const placeholder = sql.placeholder;
/** A timestamptz as `Date#toISOString` writes it (raw rows carry no driver-specific dates). */
const isoText = (column: ReturnType<typeof sql>) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * What the booking statement read and did: the session and the citizen's standing for it
 * (null columns: no such session), then a reservation, a waiting-list entry, or neither.
 */
interface BookingRow extends Record<string, unknown> {
  id: string | null;
  status: string | null;
  capacity: number;
  confirmed: number;
  held: number;
  perCitizenLimit: number;
  opensAt: string;
  closesAt: string;
  /** Seats the citizen holds in this session (reservations not cancelled). */
  mine: number;
  /** The citizen's reservations (not cancelled) for sessions in the session's month (Asia/Shanghai). */
  monthCount: number;
  month: string;
  blockedUntil: string | null;
  blockReason: string | null;
  waiting: number;
  reservationId: string | null;
  entryId: number | null;
  duplicateId: number | null;
  waitingBefore: number;
  /** When the row was made: the statement's start (under the session's lock), on the service's clock. */
  createdAt: string;
}
/** The booking statement's values. */
interface BookingValues extends Record<string, unknown> {
  citizenId: string; sessionId: string; quantity: number; groupName: string | null; id: string; code: string; now: string; offsetMs: number; waitlist: boolean;
  seatLimit: number | null; monthlyLimit: number; write: boolean;
}
/** A booking waiting for its session's bookings under way (see `lockAndBook`). */
interface QueuedBooking {
  values: BookingValues;
  early: boolean;
  resolve(row: BookingRow): void;
  reject(error: unknown): void;
}
/** Most bookings of one session sent together. */
const MAX_BATCH = 50;
const MINUTE = 60_000;

/**
 * How far the service's clock is from real time: 0 unless a test or simulation moved it
 * (under a second is the time between the two readings, not a moved clock). Rows stamped
 * under the session's lock take the database's clock plus this, so that the order of their
 * times is the order of the lock.
 */
const clockOffset = (now: Date) => {
  const diff = now.getTime() - Date.now();
  return Math.abs(diff) < 1000 ? 0 : diff;
};

/** A reservation as its citizen and the venue's staff see it (the phone masked), with its signed ticket. */
export const reservationView = (r: ReservationRow, phone: string, signer: TicketSigner): Reservation => ({
  id: r.id,
  sessionId: r.sessionId,
  quantity: r.quantity,
  groupName: r.groupName,
  status: r.status as Reservation['status'],
  code: r.code,
  ticket: signer.sign({ reservationId: r.id, sessionId: r.sessionId, seats: r.quantity }),
  waitlistEntryId: r.waitlistEntryId,
  checkedInAt: iso(r.checkedInAt),
  checkedInVia: r.checkedInVia as Reservation['checkedInVia'],
  cancelledAt: iso(r.cancelledAt),
  noShowAt: iso(r.noShowAt),
  createdAt: r.createdAt.toISOString(),
  phone,
});

/** The events the service reports to its plugin (jobs to send, offers to announce), inside the transaction. */
export interface ReservationEffects {
  offered(tx: Executor, entry: { id: number; expiresAt: Date }): Promise<void>;
}

/**
 * Reservations, waiting lists and check-in. Capacity is enforced in the database: every
 * booking locks its session row (`select … for update`) and moves seats with a
 * conditional update (`confirmed + held + n <= capacity`), so concurrent bookings queue
 * on the row and none oversells — on PGlite and on PostgreSQL.
 *
 * availability = capacity − confirmed − held, where `confirmed` counts the seats of
 * reservations not cancelled (checked in or not) and `held` the seats of waiting-list
 * offers not yet accepted or lapsed.
 */
export class ReservationService {
  effects: ReservationEffects = { offered: async () => {} };

  /*
   * A booking runs three statements prepared once (their text built once, planned once per
   * connection), sent together in one round trip (see `reserve`).
   */
  private readonly lockCitizen: PreparedRows<Record<string, unknown>>;
  private readonly lockBookedSession: PreparedRows<Record<string, unknown>>;
  private readonly book: PreparedRows<BookingRow>;
  private readonly flush: PreparedRows<Record<string, unknown>>;

  constructor(
    private readonly db: Database,
    private readonly config: ReservationConfig,
    readonly signer: TicketSigner,
    private readonly now: () => Date = () => new Date(),
  ) {
    // With `early`, the transaction's commit does not wait for its WAL flush (`synchronous_commit`
    // off for this transaction only), so the session's row lock is released without the disk's
    // flush time (2–3 ms here): the caller then waits for the flush with `flushCommitted()`
    // before it answers. Set in this statement to cost no round trip of its own.
    // The citizens of the bookings sent together (one, or several: see `lockAndBook`), given
    // as comma-separated ids, are locked in the order of their ids, so that two such
    // transactions never wait for each other's citizens. The booking statements after it use
    // their generic plan (for this transaction only): PostgreSQL's default planned the
    // booking statement anew for every booking (a custom plan: 0.7–1 ms of the session's
    // lock each), and the generic one is as good (every lookup is by key).
    this.lockCitizen = prepareRows(
      db,
      'venues.booking.lock-citizens',
      sql`select ${citizens.id}, case when ${placeholder('early')}::boolean then set_config('synchronous_commit', 'off', true) end as "commit",
            set_config('plan_cache_mode', 'force_generic_plan', true) as "plans"
          from ${citizens} where ${citizens.id} = any(string_to_array(${placeholder('citizenIds')}::text, ',')::uuid[]) order by ${citizens.id} for update`,
    );
    this.flush = prepareRows(db, 'venues.booking.flush', sql`select pg_logical_emit_message(true, 'diandan.venues.flush', '') as "lsn"`);
    // The session's row locked, with the citizen's block and limits. Those are read after the
    // citizen's row was locked (the statement before), so every earlier booking of theirs is
    // seen; the session's month is its month in Asia/Shanghai (UTC+8, no daylight saving).
    // The session's row locked (after the citizen's: always in this order). Alone in its
    // statement, so that the next one's snapshot is taken after the lock: it sees every
    // booking made before this one.
    this.lockBookedSession = prepareRows(db, 'venues.booking.lock-session', sql`select ${sessions.id} from ${sessions} where ${sessions.id} = ${placeholder('sessionId')}::uuid for update`);
    // Then, with both rows locked, one statement reads the session and the citizen's standing
    // (no-show block, per-session and per-month limits; the session's month is its month in
    // Asia/Shanghai, UTC+8, no daylight saving) and, only when all of them allow it (`ok`:
    // the same rules `refusal` reports; the month's count looks up the session of each of the
    // citizen's reservations, not every session of the month), takes the waiting list's length (the session's
    // `waiting` counter and its open offers, not a count of the list), moves the seats, inserts
    // the reservation from the updated row (all or nothing) or — without seats, when asked —
    // the waiting-list entry. The conditional update cannot take seats that are not there.
    // Nothing in it waits for the client: the statements before it are sent with it.
    this.book = prepareRows(
      db,
      'venues.booking.book',
      sql`with f as (
            select s.id, s.status, s.capacity, s.confirmed, s.held, s.waiting, s.per_citizen_limit as "perCitizenLimit",
              s.booking_opens_at, s.booking_closes_at,
              (select coalesce(sum(r.quantity), 0)::int from ${reservations} r
                where r.session_id = s.id and r.citizen_id = ${placeholder('citizenId')}::uuid and r.status <> 'cancelled') as "mine",
              (select count(*)::int from ${reservations} r
                where r.citizen_id = ${placeholder('citizenId')}::uuid and r.status <> 'cancelled'
                  and (select o.starts_at >= m.starts and o.starts_at < m.ends from ${sessions} o where o.id = r.session_id)) as "monthCount",
              to_char(m.local, 'YYYY-MM') as "month", b.ends_at as blocked_until, b.reason as "blockReason"
            from ${sessions} s
            cross join lateral (select date_trunc('month', (s.starts_at at time zone 'UTC') + interval '8 hours') as local) l
            cross join lateral (select l.local, (l.local - interval '8 hours') at time zone 'UTC' as starts, (l.local + interval '1 month' - interval '8 hours') at time zone 'UTC' as ends) m
            left join lateral (select cb.ends_at, cb.reason from ${citizenBlocks} cb
              where cb.citizen_id = ${placeholder('citizenId')}::uuid and cb.starts_at <= ${placeholder('now')}::timestamptz and cb.ends_at > ${placeholder('now')}::timestamptz
              order by cb.ends_at desc limit 1) b on true
            where s.id = ${placeholder('sessionId')}::uuid
          ), ok as (
            select f.id from f
            where ${placeholder('write')}::boolean and f.status = 'open' and ${placeholder('now')}::timestamptz >= f.booking_opens_at and ${placeholder('now')}::timestamptz < f.booking_closes_at
              and f.blocked_until is null
              and f."mine" + ${placeholder('quantity')}::int <= coalesce(${placeholder('seatLimit')}::int, f."perCitizenLimit")
              and f."monthCount" < ${placeholder('monthlyLimit')}::int
          ), t as (
            select statement_timestamp() + ${placeholder('offsetMs')}::float8 * interval '1 millisecond' as at
          ), q as (
            select coalesce((select f.waiting from f), 0) as queued
          ), w as (
            select q.queued + (select count(*)::int from ${waitlist} where session_id = ${placeholder('sessionId')}::uuid and status = 'offered') as n, q.queued from q
          ), moved as (
            update ${sessions} set confirmed = confirmed + ${placeholder('quantity')}::int
            where id = (select id from ok) and confirmed + held + ${placeholder('quantity')}::int <= capacity and (select n from w) = 0
            returning id
          ), booked as (
            insert into ${reservations} (id, session_id, citizen_id, quantity, group_name, status, code, created_at)
            select ${placeholder('id')}::uuid, moved.id, ${placeholder('citizenId')}::uuid, ${placeholder('quantity')}::int, ${placeholder('groupName')}::text, 'confirmed', ${placeholder('code')}::text, (select at from t)
            from moved
            returning id
          ), duplicate as (
            select id from ${waitlist}
            where session_id = ${placeholder('sessionId')}::uuid and citizen_id = ${placeholder('citizenId')}::uuid and status in ('waiting', 'offered')
              and ${placeholder('waitlist')}::boolean and exists (select from ok) and not exists (select from moved)
            limit 1
          ), entry as (
            insert into ${waitlist} (session_id, citizen_id, quantity, status, created_at, updated_at)
            select ${placeholder('sessionId')}::uuid, ${placeholder('citizenId')}::uuid, ${placeholder('quantity')}::int, 'waiting', (select at from t), (select at from t)
            where ${placeholder('waitlist')}::boolean and exists (select from ok) and not exists (select from moved) and not exists (select from duplicate)
            returning id
          ), counted as (
            update ${sessions} set waiting = waiting + 1
            where id = ${placeholder('sessionId')}::uuid and exists (select from entry)
            returning id
          )
          select f.id, f.status, f.capacity, f.confirmed, f.held, f."perCitizenLimit",
            ${isoText(sql`f.booking_opens_at`)} as "opensAt", ${isoText(sql`f.booking_closes_at`)} as "closesAt",
            f."mine", f."monthCount", f."month", ${isoText(sql`f.blocked_until`)} as "blockedUntil", f."blockReason",
            (select n from w) as "waiting", (select queued from w) as "waitingBefore",
            (select id from booked) as "reservationId", (select id from entry) as "entryId", (select id from duplicate) as "duplicateId",
            ${isoText(sql`(select at from t)`)} as "createdAt"
          from (select 1) one left join f on true`,
    );
  }

  private view(r: ReservationRow, phone: string): Reservation {
    return reservationView(r, phone, this.signer);
  }

  async lockSession(tx: Executor, id: string): Promise<SessionRow> {
    const [row] = await tx.select().from(sessions).where(eq(sessions.id, id)).for('update');
    if (!row) throw notFound(VenueProblems.SESSION_NOT_FOUND, `No session ${id}`);
    return row;
  }

  /**
   * Why the session or the citizen's standing rule out `quantity` more seats, if they do: a
   * closed session, a no-show block, the per-session and per-month limits — the rules the
   * booking statement's `ok` applies (it wrote nothing then).
   */
  private refusal(s: BookingRow, sessionId: string, quantity: number, group: boolean, now: Date): DomainError | undefined {
    if (!s.id) return notFound(VenueProblems.SESSION_NOT_FOUND, `No session ${sessionId}`);
    if (s.status !== 'open') return new DomainError('conflict', VenueProblems.SESSION_CLOSED, 'This session was cancelled');
    if (now.getTime() < Date.parse(s.opensAt)) return new DomainError('conflict', VenueProblems.BOOKING_NOT_OPEN, `Booking opens at ${s.opensAt}`, { opensAt: s.opensAt });
    if (now.getTime() >= Date.parse(s.closesAt)) return new DomainError('conflict', VenueProblems.BOOKING_CLOSED, `Booking closed at ${s.closesAt}`, { closedAt: s.closesAt });
    if (s.blockedUntil) {
      return new DomainError('conflict', VenueProblems.BOOKING_BLOCKED, `Booking is blocked until ${s.blockedUntil}: ${s.blockReason} (see GET /v1/venue-citizen/standing)`, { until: s.blockedUntil, reason: s.blockReason });
    }
    const limit = group ? this.config.maxGroupSeats : s.perCitizenLimit;
    if (Number(s.mine) + quantity > limit) {
      return new DomainError('invalid', VenueProblems.LIMIT_PER_SESSION, `At most ${limit} seats per ${group ? 'group booking' : 'person'} in this session`, { limit, held: Number(s.mine) });
    }
    if (Number(s.monthCount) >= this.config.monthlyLimit) {
      return new DomainError('invalid', VenueProblems.LIMIT_PER_PERIOD, `At most ${this.config.monthlyLimit} reservations for sessions in one month`, { limit: this.config.monthlyLimit, month: s.month });
    }
    return undefined;
  }

  /**
   * Locks the citizen's row, then the session's, and runs the booking statement (`write:
   * false`: reads only) in `tx`. Without `tx`, in a transaction of their own sent in one
   * round trip with its BEGIN and COMMIT (`transactionBatch`), so that the session's lock is
   * held only while the database runs the booking — not while this process reads the answer
   * and sends the COMMIT — and the bookings of one session that arrive while one is under way
   * wait for it here and then go together, in arrival order, in one such transaction: one
   * lock of the session (and one round trip) for all of them rather than one each. Each has
   * its own booking statement, which sees those before it, so each gets what it would alone.
   */
  private async lockAndBook(tx: Executor | undefined, values: BookingValues, early = false): Promise<BookingRow> {
    if (tx) {
      const [, , [row]] = await Promise.all([this.lockCitizen({ citizenIds: values.citizenId, early }, tx), this.lockBookedSession({ sessionId: values.sessionId }, tx), this.book(values, tx)]);
      return row!;
    }
    return new Promise((resolve, reject) => {
      const booking = { values, early, resolve, reject };
      const queue = this.queued.get(values.sessionId);
      if (queue) queue.push(booking);
      else {
        const started = [booking];
        this.queued.set(values.sessionId, started);
        void this.drain(values.sessionId, started);
      }
    });
  }

  /** Bookings waiting to be sent, by session; a session is here while its bookings are under way. */
  private readonly queued = new Map<string, QueuedBooking[]>();

  private async drain(sessionId: string, queue: QueuedBooking[]): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const rows = await this.bookTogether(sessionId, batch);
        batch.forEach((b, i) => b.resolve(rows[i]!));
      } catch (error) {
        // One failing statement rolls back the whole transaction: each then goes alone, so
        // that the others are not refused for it.
        if (batch.length === 1) batch[0]!.reject(error);
        else for (const b of batch) await this.bookTogether(sessionId, [b]).then(([row]) => b.resolve(row!), b.reject);
      }
    }
    this.queued.delete(sessionId);
  }

  private async bookTogether(sessionId: string, batch: QueuedBooking[]): Promise<BookingRow[]> {
    // Commits early only if every booking's caller waits for the flush.
    const early = batch.every((b) => b.early);
    const citizenIds = [...new Set(batch.map((b) => b.values.citizenId))].join(',');
    const rows = await transactionBatch(this.db, [this.lockCitizen.bind({ citizenIds, early }), this.lockBookedSession.bind({ sessionId }), ...batch.map((b) => this.book.bind(b.values))]);
    return rows.slice(2).map((r) => r[0] as BookingRow);
  }

  private async insertReservation(tx: Executor, s: SessionRow, citizenId: string, quantity: number, groupName: string | null, entryId: number | null): Promise<ReservationRow> {
    const [row] = await tx
      .insert(reservations)
      .values({ sessionId: s.id, citizenId, quantity, groupName, status: 'confirmed', code: randomBytes(12).toString('base64url'), waitlistEntryId: entryId, createdAt: this.now() })
      .returning();
    return row!;
  }

  /**
   * Books `quantity` seats for `citizen`, all or nothing. With `waitlist`, a session
   * without room puts the request on its waiting list instead of refusing it. With
   * `earlyLockRelease`, the transaction (`outer`'s, if given) commits without waiting for the
   * disk, so the session's lock is not held for the flush; the caller must then
   * `flushCommitted()` after the commit and before it tells anyone of the booking.
   */
  async reserve(
    input: { sessionId: string; quantity: number; groupName?: string | undefined; waitlist?: boolean | undefined },
    citizen: Citizen,
    outer?: Transaction,
    options: { earlyLockRelease?: boolean } = {},
  ): Promise<BookingOutcome> {
    const now = this.now();
    const group = Boolean(input.groupName);
    const code = randomBytes(12).toString('base64url');
    const groupName = input.groupName ?? null;
    const values: BookingValues = {
      citizenId: citizen.id, sessionId: input.sessionId, quantity: input.quantity, groupName, id: randomUUID(), code, now: now.toISOString(), waitlist: Boolean(input.waitlist),
      offsetMs: clockOffset(now),
      seatLimit: group ? this.config.maxGroupSeats : null,
      monthlyLimit: this.config.monthlyLimit,
      write: true,
    };
    // The three statements go out together (PostgreSQL runs them in order on the
    // transaction's connection; PGlite one after another): the session's row is locked from
    // the second to the commit, and between them the server waits for nothing of ours.
    // Without an outer transaction the COMMIT goes with them: the booking statement writes
    // only what `refusal` allows (it decides in SQL), so what is read below needs no
    // transaction of its own.
    const s = await this.lockAndBook(outer, values, Boolean(options.earlyLockRelease));
    const refused = this.refusal(s, input.sessionId, input.quantity, group, now);
    if (refused) throw refused;
    const { waiting, reservationId, entryId, duplicateId, waitingBefore, createdAt } = s;
    const at = new Date(createdAt);
    if (reservationId) {
      const row: ReservationRow = {
        id: reservationId, sessionId: input.sessionId, citizenId: citizen.id, quantity: input.quantity, groupName, status: 'confirmed', code, waitlistEntryId: null,
        checkedInAt: null, checkedInBy: null, checkedInVia: null, checkedInDevice: null, noShowAt: null, remindedAt: null, cancelledAt: null, createdAt: at,
      };
      return { kind: 'reserved', reservation: this.view(row, citizen.phone) };
    }
    if (duplicateId !== null) throw new DomainError('conflict', VenueProblems.WAITLIST_DUPLICATE, 'You are on this session’s waiting list already', { entryId: Number(duplicateId) });
    if (entryId !== null) {
      // Entries of a session are made only under its lock, so those still waiting came before this one.
      const entry: WaitlistEntry = { id: Number(entryId), sessionId: input.sessionId, quantity: input.quantity, status: 'waiting', position: Number(waitingBefore) + 1, offerExpiresAt: null, reservationId: null, createdAt: at.toISOString() };
      return { kind: 'waitlisted', entry };
    }
    const available = s.capacity - s.confirmed - s.held;
    const free = Math.max(0, available);
    throw new DomainError('conflict', VenueProblems.SESSION_FULL, waiting > 0 && input.quantity <= available ? 'Freed seats go to the waiting list first' : `Only ${free} seats are left`, { available: free, waiting: Number(waiting) });
  }

  /**
   * Waits until every transaction committed so far is on disk: a transaction of its own
   * that writes one WAL record (a logical message, ignored by everything that decodes
   * the WAL) and commits synchronously, which flushes the WAL up to it — and so every
   * commit before it. For `reserve(…, { earlyLockRelease: true })`: its caller answers only
   * after this. Callers share flushes: one asking while a flush is under way (it may have
   * begun before the caller's commit) waits for the next one, which starts when that ends
   * and serves everyone who asked meanwhile — one statement per flush rather than per booking.
   */
  flushCommitted(): Promise<void> {
    if (!this.flushing) return this.startFlush();
    const settled = this.flushing.then(
      () => undefined,
      () => undefined,
    );
    return (this.nextFlush ??= settled.then(() => {
      this.nextFlush = undefined;
      return this.startFlush();
    }));
  }

  private flushing: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;

  private startFlush(): Promise<void> {
    const flushed = this.flush({}).then(() => undefined);
    this.flushing = flushed;
    const done = () => {
      if (this.flushing === flushed) this.flushing = undefined;
    };
    flushed.then(done, done);
    return flushed;
  }

  private async insertEntry(tx: Executor, sessionId: string, citizenId: string, quantity: number): Promise<WaitlistEntry> {
    const [dup] = await tx.select({ id: waitlist.id }).from(waitlist).where(and(eq(waitlist.sessionId, sessionId), eq(waitlist.citizenId, citizenId), inArray(waitlist.status, ['waiting', 'offered'])));
    if (dup) throw new DomainError('conflict', VenueProblems.WAITLIST_DUPLICATE, 'You are on this session’s waiting list already', { entryId: dup.id });
    const [row] = await tx.insert(waitlist).values({ sessionId, citizenId, quantity, status: 'waiting', createdAt: this.now(), updatedAt: this.now() }).returning();
    await tx.update(sessions).set({ waiting: sql`${sessions.waiting} + 1` }).where(eq(sessions.id, sessionId));
    return this.toEntry(tx, row!);
  }

  private async toEntry(tx: Executor, r: EntryRow): Promise<WaitlistEntry> {
    let position: number | null = null;
    if (r.status === 'waiting') {
      const [ahead] = await tx.select({ n: sql<number>`count(*)::int` }).from(waitlist).where(and(eq(waitlist.sessionId, r.sessionId), eq(waitlist.status, 'waiting'), sql`${waitlist.id} <= ${r.id}`));
      position = Number(ahead!.n);
    }
    return {
      id: r.id,
      sessionId: r.sessionId,
      quantity: r.quantity,
      status: r.status as WaitlistEntry['status'],
      position,
      offerExpiresAt: iso(r.offerExpiresAt),
      reservationId: r.reservationId,
      createdAt: r.createdAt.toISOString(),
    };
  }

  /** Joins a session's waiting list (when it is full, or others wait already). */
  async join(input: { sessionId: string; quantity: number }, citizen: Citizen, outer?: Transaction): Promise<WaitlistEntry> {
    return withTransaction(this.db, outer, async (tx) => {
      const now = this.now();
      const s = await this.lockAndBook(tx, {
        citizenId: citizen.id, sessionId: input.sessionId, quantity: input.quantity, groupName: null, id: randomUUID(), code: '', now: now.toISOString(), waitlist: false,
        offsetMs: 0, seatLimit: null, monthlyLimit: this.config.monthlyLimit, write: false,
      });
      const refused = this.refusal(s, input.sessionId, input.quantity, false, now);
      if (refused) throw refused;
      if (input.quantity <= s.capacity - s.confirmed - s.held && Number(s.waiting) === 0) {
        throw new DomainError('conflict', VenueProblems.WAITLIST_NOT_NEEDED, 'There are seats: book them directly');
      }
      return this.insertEntry(tx, input.sessionId, citizen.id, input.quantity);
    });
  }

  /** When an offer made now lapses (see the README). */
  offerExpiry(now: Date, s: Pick<SessionRow, 'startsAt' | 'bookingClosesAt'>): Date {
    const latest = Math.min(now.getTime() + this.config.offerHoldMinutes * MINUTE, s.startsAt.getTime() - this.config.offerCloseMinutesBeforeStart * MINUTE);
    const floor = Math.min(now.getTime() + this.config.minOfferMinutes * MINUTE, s.bookingClosesAt.getTime());
    return new Date(Math.max(latest, floor));
  }

  /**
   * Offers freed seats to the waiting list, strictly in arrival order: the first entry
   * still waiting gets an offer when its whole quantity fits; if it does not, nobody
   * behind it is offered (no overtaking). The session row must be locked by the caller.
   */
  async promote(tx: Executor, sessionId: string): Promise<number> {
    const now = this.now();
    let offered = 0;
    for (;;) {
      const [s] = await tx.select().from(sessions).where(eq(sessions.id, sessionId));
      if (!s || s.status !== 'open' || now >= s.bookingClosesAt) return offered;
      const [head] = await tx.select().from(waitlist).where(and(eq(waitlist.sessionId, sessionId), eq(waitlist.status, 'waiting'))).orderBy(asc(waitlist.id)).limit(1).for('update');
      if (!head || head.quantity > s.capacity - s.confirmed - s.held) return offered;
      const expiresAt = this.offerExpiry(now, s);
      await tx.update(sessions).set({ held: sql`${sessions.held} + ${head.quantity}`, waiting: sql`${sessions.waiting} - 1` }).where(eq(sessions.id, sessionId));
      await tx.update(waitlist).set({ status: 'offered', offerExpiresAt: expiresAt, updatedAt: now }).where(eq(waitlist.id, head.id));
      await this.effects.offered(tx, { id: head.id, expiresAt });
      offered++;
    }
  }

  /** Cancels a reservation (its citizen), until `cancelUntilMinutes` before the start; freed seats go to the waiting list. */
  async cancel(id: string, citizen: Citizen, outer?: Transaction): Promise<Reservation> {
    return withTransaction(this.db, outer, async (tx) => {
      const [r] = await tx.select().from(reservations).where(and(eq(reservations.id, id), eq(reservations.citizenId, citizen.id))).for('update');
      if (!r) throw notFound(VenueProblems.RESERVATION_NOT_FOUND, `No reservation ${id}`);
      if (r.status !== 'confirmed') throw new DomainError('conflict', VenueProblems.RESERVATION_NOT_ACTIVE, `This reservation is ${r.status}`);
      const s = await this.lockSession(tx, r.sessionId);
      const deadline = new Date(s.startsAt.getTime() - s.cancelUntilMinutes * MINUTE);
      if (this.now() > deadline) throw new DomainError('conflict', VenueProblems.CANCEL_TOO_LATE, `Cancellation closed at ${deadline.toISOString()}`, { deadline: deadline.toISOString() });
      const [row] = await tx.update(reservations).set({ status: 'cancelled', cancelledAt: this.now() }).where(eq(reservations.id, r.id)).returning();
      await tx.update(sessions).set({ confirmed: sql`${sessions.confirmed} - ${r.quantity}` }).where(eq(sessions.id, s.id));
      await this.promote(tx, s.id);
      return this.view(row!, citizen.phone);
    });
  }

  /** Accepts a waiting-list offer: the held seats become a reservation. */
  async accept(entryId: number, citizen: Citizen, outer?: Transaction): Promise<Reservation> {
    return withTransaction(this.db, outer, async (tx) => {
      const [e] = await tx.select().from(waitlist).where(and(eq(waitlist.id, entryId), eq(waitlist.citizenId, citizen.id))).for('update');
      if (!e) throw notFound(VenueProblems.WAITLIST_NOT_FOUND, `No waiting-list entry ${entryId}`);
      if (e.status !== 'offered' || !e.offerExpiresAt || e.offerExpiresAt <= this.now()) {
        throw new DomainError('conflict', VenueProblems.OFFER_NOT_OPEN, e.status === 'offered' ? 'The offer has lapsed' : `This entry is ${e.status}`, { status: e.status });
      }
      const s = await this.lockSession(tx, e.sessionId);
      await tx.update(sessions).set({ held: sql`${sessions.held} - ${e.quantity}`, confirmed: sql`${sessions.confirmed} + ${e.quantity}` }).where(eq(sessions.id, s.id));
      const r = await this.insertReservation(tx, s, citizen.id, e.quantity, null, e.id);
      await tx.update(waitlist).set({ status: 'accepted', reservationId: r.id, updatedAt: this.now() }).where(eq(waitlist.id, e.id));
      return this.view(r, citizen.phone);
    });
  }

  /** Leaves a waiting list (waiting, or declining an offer: its seats go to the next entry). */
  async leave(entryId: number, citizen: Citizen, outer?: Transaction): Promise<WaitlistEntry> {
    return withTransaction(this.db, outer, async (tx) => {
      const [e] = await tx.select().from(waitlist).where(and(eq(waitlist.id, entryId), eq(waitlist.citizenId, citizen.id))).for('update');
      if (!e) throw notFound(VenueProblems.WAITLIST_NOT_FOUND, `No waiting-list entry ${entryId}`);
      if (e.status !== 'waiting' && e.status !== 'offered') throw new DomainError('conflict', VenueProblems.OFFER_NOT_OPEN, `This entry is ${e.status}`, { status: e.status });
      await this.lockSession(tx, e.sessionId);
      const [row] = await tx.update(waitlist).set({ status: 'left', updatedAt: this.now() }).where(eq(waitlist.id, e.id)).returning();
      if (e.status === 'waiting') await tx.update(sessions).set({ waiting: sql`${sessions.waiting} - 1` }).where(eq(sessions.id, e.sessionId));
      if (e.status === 'offered') {
        await tx.update(sessions).set({ held: sql`${sessions.held} - ${e.quantity}` }).where(eq(sessions.id, e.sessionId));
        await this.promote(tx, e.sessionId);
      }
      return this.toEntry(tx, row!);
    });
  }

  /** Declines an open offer: its seats go to the next entry at once. */
  async decline(entryId: number, citizen: Citizen, outer?: Transaction): Promise<WaitlistEntry> {
    return withTransaction(this.db, outer, async (tx) => {
      const [e] = await tx.select().from(waitlist).where(and(eq(waitlist.id, entryId), eq(waitlist.citizenId, citizen.id))).for('update');
      if (!e) throw notFound(VenueProblems.WAITLIST_NOT_FOUND, `No waiting-list entry ${entryId}`);
      if (e.status !== 'offered') throw new DomainError('conflict', VenueProblems.OFFER_NOT_OPEN, `This entry is ${e.status}`, { status: e.status });
      return this.leave(entryId, citizen, tx as Transaction);
    });
  }

  /** Lapses one offer if it is due (a job runs this at the offer's expiry); its seats go to the next entry. */
  async lapse(entryId: number): Promise<boolean> {
    return transaction(this.db, async (tx) => {
      const [e] = await tx.select().from(waitlist).where(eq(waitlist.id, entryId)).for('update');
      if (!e || e.status !== 'offered' || !e.offerExpiresAt || e.offerExpiresAt > this.now()) return false;
      await this.lockSession(tx, e.sessionId);
      await tx.update(waitlist).set({ status: 'lapsed', updatedAt: this.now() }).where(eq(waitlist.id, e.id));
      await tx.update(sessions).set({ held: sql`${sessions.held} - ${e.quantity}` }).where(eq(sessions.id, e.sessionId));
      await this.promote(tx, e.sessionId);
      return true;
    });
  }

  /** Lapses every due offer (the periodic sweep, in case a timed job was lost). */
  async lapseDue(): Promise<number> {
    const due = await this.db.select({ id: waitlist.id }).from(waitlist).where(and(eq(waitlist.status, 'offered'), lte(waitlist.offerExpiresAt, this.now()))).orderBy(asc(waitlist.id)).limit(500);
    let n = 0;
    for (const { id } of due) if (await this.lapse(id)) n++;
    return n;
  }

  async mine(citizen: Citizen, limit: number): Promise<Reservation[]> {
    const rows = await this.db.select().from(reservations).where(eq(reservations.citizenId, citizen.id)).orderBy(desc(reservations.createdAt), desc(reservations.id)).limit(limit);
    return rows.map((r) => this.view(r, citizen.phone));
  }

  async one(id: string, citizen: Citizen): Promise<{ reservation: Reservation; session: Session }> {
    const [r] = await this.db.select().from(reservations).where(and(eq(reservations.id, id), eq(reservations.citizenId, citizen.id)));
    if (!r) throw notFound(VenueProblems.RESERVATION_NOT_FOUND, `No reservation ${id}`);
    const [s] = await this.db.select().from(sessions).where(eq(sessions.id, r.sessionId));
    return { reservation: this.view(r, citizen.phone), session: toSession(s!) };
  }

  async myEntries(citizen: Citizen, limit: number): Promise<WaitlistEntry[]> {
    const rows = await this.db.select().from(waitlist).where(eq(waitlist.citizenId, citizen.id)).orderBy(desc(waitlist.id)).limit(limit);
    return Promise.all(rows.map((r) => this.toEntry(this.db, r)));
  }

  /** A session as staff see it: in their subtree, or not found. */
  async staffSession(sessionId: string, actor: Actor, db: Executor = this.db): Promise<SessionRow> {
    const [s] = await db.select().from(sessions).where(eq(sessions.id, sessionId));
    if (!s || !inScope(actor, s.regionPath)) throw notFound(VenueProblems.SESSION_NOT_FOUND, `No session ${sessionId}`);
    return s;
  }

  /** A session's reservations for its staff, phones masked. */
  async ofSession(sessionId: string, actor: Actor, limit: number): Promise<Reservation[]> {
    const s = await this.staffSession(sessionId, actor);
    const rows = await this.db.select({ r: reservations, phone: citizens.phoneMasked }).from(reservations).innerJoin(citizens, eq(citizens.id, reservations.citizenId)).where(eq(reservations.sessionId, s.id)).orderBy(asc(reservations.createdAt), asc(reservations.id)).limit(limit);
    return rows.map(({ r, phone }) => this.view(r, phone));
  }

  /** A session's waiting list for its staff, in arrival order. */
  async waitlistOf(sessionId: string, actor: Actor, limit: number): Promise<WaitlistEntry[]> {
    const s = await this.staffSession(sessionId, actor);
    const rows = await this.db.select().from(waitlist).where(eq(waitlist.sessionId, s.id)).orderBy(asc(waitlist.id)).limit(limit);
    return Promise.all(rows.map((r) => this.toEntry(this.db, r)));
  }
}
