import { and, eq, inArray, sql } from 'drizzle-orm';
import { DomainError, withTransaction, type Actor, type Database, type Executor, type Transaction } from '@diandan/kernel';
import { VenueProblems } from './problems.js';
import { reservationView, type Reservation, type ReservationService } from './reservations.js';
import { citizens, offlineScans, reservations, type sessions } from './schema.js';
import { signRevocations, type RevocationList, type RevokedTicket, type TicketSigner } from './tickets.js';

/** Most tickets in one revocation list (a door device pages on with `since`). */
export const REVOCATIONS_LIMIT = 5000;

type ReservationRow = typeof reservations.$inferSelect;
type SessionRow = typeof sessions.$inferSelect;

/** Why a reservation cannot be checked in at `at` for session `s` (null: it can). */
export interface Refusal {
  kind: 'invalid' | 'conflict';
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The check-in window of a reservation: from the session's `checkInOpensAt` to its
 * `checkInClosesAt`; a reservation made after that (a late waiting-list offer, or
 * seats released by the no-show sweep) may check in until the session ends.
 */
export function checkInWindow(r: Pick<ReservationRow, 'createdAt'>, s: Pick<SessionRow, 'checkInOpensAt' | 'checkInClosesAt' | 'endsAt'>): { opensAt: Date; closesAt: Date } {
  return { opensAt: s.checkInOpensAt, closesAt: r.createdAt > s.checkInClosesAt ? s.endsAt : s.checkInClosesAt };
}

/** The one rule both the online door and the offline reconciliation apply. */
export function refusalOf(r: ReservationRow, s: SessionRow, at: Date): Refusal | null {
  if (r.sessionId !== s.id) return { kind: 'conflict', code: VenueProblems.CHECKIN_WRONG_SESSION, message: 'This code is for another session', details: { sessionId: r.sessionId } };
  if (r.status === 'cancelled') return { kind: 'conflict', code: VenueProblems.CHECKIN_CANCELLED, message: 'This reservation was cancelled', details: { cancelledAt: r.cancelledAt?.toISOString() } };
  if (r.status === 'checked-in') {
    return { kind: 'conflict', code: VenueProblems.CHECKIN_ALREADY, message: `Checked in already at ${r.checkedInAt!.toISOString()}`, details: { checkedInAt: r.checkedInAt!.toISOString(), via: r.checkedInVia, device: r.checkedInDevice } };
  }
  if (r.status === 'no-show') return { kind: 'conflict', code: VenueProblems.CHECKIN_RELEASED, message: 'Its seats were released as a no-show', details: { noShowAt: r.noShowAt?.toISOString() } };
  const w = checkInWindow(r, s);
  if (at < w.opensAt || at > w.closesAt) {
    return { kind: 'conflict', code: VenueProblems.CHECKIN_OUTSIDE_WINDOW, message: `Check-in is open from ${w.opensAt.toISOString()} to ${w.closesAt.toISOString()}`, details: { opensAt: w.opensAt.toISOString(), closesAt: w.closesAt.toISOString() } };
  }
  return null;
}

export interface OfflineScan {
  ticket: string;
  scannedAt: string;
}

export interface ScanResult {
  /** The scan's place in the upload. */
  index: number;
  reservationId: string | null;
  scannedAt: string;
  /**
   * `checked-in`; `conflict` (the ticket was valid at the door but the reservation had been
   * checked in, cancelled or released meanwhile — double entry is refused); `refused`
   * (forged, malformed, another session's, or outside the window); `duplicate-upload`
   * (this device sent this scan before: its first outcome stands).
   */
  outcome: 'checked-in' | 'conflict' | 'refused' | 'duplicate-upload';
  code: string | null;
  message: string | null;
}

const MINUTE = 60_000;

/** Check-in at the door: online by code or signed ticket, and offline scans reconciled later. */
export class CheckInService {
  constructor(
    private readonly db: Database,
    private readonly reservations: ReservationService,
    private readonly signer: TicketSigner,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * The session's tickets revoked (cancelled, or released as no-shows) after `since`, as of
   * now, signed: what a door device downloads to refuse them offline. At most
   * `REVOCATIONS_LIMIT` per list, oldest first; when cut, `until` is the last one's time
   * and the device asks again from there.
   */
  async revocations(input: { sessionId: string; since?: string | undefined }, actor: Actor): Promise<RevocationList> {
    const s = await this.reservations.staffSession(input.sessionId, actor);
    const since = input.since ? new Date(input.since) : null;
    const until = this.now();
    const at = sql<Date>`coalesce(${reservations.cancelledAt}, ${reservations.noShowAt})`;
    const rows = await this.db
      .select({ id: reservations.id, status: reservations.status, cancelledAt: reservations.cancelledAt, noShowAt: reservations.noShowAt })
      .from(reservations)
      .where(and(eq(reservations.sessionId, s.id), inArray(reservations.status, ['cancelled', 'no-show']), since ? sql`${at} > ${since.toISOString()}` : undefined, sql`${at} <= ${until.toISOString()}`))
      .orderBy(at, reservations.id)
      .limit(REVOCATIONS_LIMIT + 1);
    const all = rows.map((r) => ({ reservationId: r.id, status: r.status as RevokedTicket['status'], at: (r.cancelledAt ?? r.noShowAt)!.toISOString() }));
    const cut = all.length > REVOCATIONS_LIMIT;
    // When cut, the revocations at the first left-out instant all go to the next list (`since` is exclusive).
    const tickets = cut ? all.slice(0, REVOCATIONS_LIMIT).filter((t) => t.at !== all[REVOCATIONS_LIMIT]!.at) : all;
    return signRevocations(this.signer, { sessionId: s.id, since: since?.toISOString() ?? null, until: cut ? (tickets.at(-1)?.at ?? since?.toISOString() ?? new Date(0).toISOString()) : until.toISOString(), tickets });
  }

  private async phoneOf(tx: Executor, citizenId: string): Promise<string> {
    const [c] = await tx.select({ phone: citizens.phoneMasked }).from(citizens).where(eq(citizens.id, citizenId));
    return c!.phone;
  }

  /**
   * Checks a reservation in by its door code or its signed ticket (venue staff of the
   * session's subtree), with a reason for every refusal: an unknown code, a forged
   * ticket, another session's code, cancelled, checked in already, released as a
   * no-show, or outside the check-in window.
   */
  async checkIn(input: { sessionId: string; code?: string | undefined; ticket?: string | undefined }, actor: Actor, outer?: Transaction): Promise<Reservation> {
    return withTransaction(this.db, outer, async (tx) => {
      const s = await this.reservations.staffSession(input.sessionId, actor, tx);
      let r: ReservationRow | undefined;
      if (input.ticket !== undefined) {
        const check = this.signer.verify(input.ticket);
        if (!check.ok) throw new DomainError('invalid', VenueProblems.CHECKIN_BAD_TICKET, check.reason === 'malformed' ? 'This is not a ticket' : 'This ticket’s signature is not ours');
        [r] = await tx.select().from(reservations).where(eq(reservations.id, check.claims.reservationId)).for('update');
      } else if (input.code !== undefined) {
        [r] = await tx.select().from(reservations).where(eq(reservations.code, input.code)).for('update');
      } else {
        throw new DomainError('invalid', VenueProblems.CHECKIN_UNKNOWN_CODE, 'A code or a ticket is needed');
      }
      if (!r) throw new DomainError('invalid', VenueProblems.CHECKIN_UNKNOWN_CODE, 'No reservation has this code');
      const now = this.now();
      const refusal = refusalOf(r, s, now);
      if (refusal) throw new DomainError(refusal.kind, refusal.code, refusal.message, refusal.details);
      const [row] = await tx.update(reservations).set({ status: 'checked-in', checkedInAt: now, checkedInBy: actor.userId, checkedInVia: 'online' }).where(eq(reservations.id, r.id)).returning();
      return reservationView(row!, await this.phoneOf(tx, r.citizenId), this.signer);
    });
  }

  /**
   * Reconciles scans a door device made offline (it verified each ticket's signature with
   * the public key). Scans are applied in the order they were made, so when two devices
   * let the same ticket in, the earlier scan checks it in and the later is a conflict; a
   * scan sent twice by its device keeps its first outcome. All in one transaction.
   */
  async reconcile(input: { sessionId: string; deviceId: string; scans: OfflineScan[] }, actor: Actor, outer?: Transaction): Promise<{ results: ScanResult[]; checkedIn: number; conflicts: number; refused: number }> {
    return withTransaction(this.db, outer, async (tx) => {
      const s = await this.reservations.staffSession(input.sessionId, actor, tx);
      const latest = new Date(this.now().getTime() + 5 * MINUTE);
      const order = input.scans.map((scan, index) => ({ scan, index, at: new Date(scan.scannedAt) })).sort((a, b) => a.at.getTime() - b.at.getTime() || a.index - b.index);
      const results: ScanResult[] = [];
      for (const { scan, index, at } of order) {
        const result = (outcome: ScanResult['outcome'], reservationId: string | null, code: string | null = null, message: string | null = null): ScanResult => ({ index, reservationId, scannedAt: at.toISOString(), outcome, code, message });
        const check = this.signer.verify(scan.ticket);
        if (!check.ok) {
          results.push(result('refused', null, VenueProblems.CHECKIN_BAD_TICKET, check.reason === 'malformed' ? 'Not a ticket' : 'Signature not ours'));
          continue;
        }
        const { reservationId } = check.claims;
        if (at > latest) {
          results.push(result('refused', reservationId, VenueProblems.CHECKIN_SCAN_INVALID, 'Scanned in the future: the device’s clock is wrong'));
          continue;
        }
        const [r] = await tx.select().from(reservations).where(eq(reservations.id, reservationId)).for('update');
        if (!r) {
          results.push(result('refused', reservationId, VenueProblems.CHECKIN_UNKNOWN_CODE, 'No such reservation'));
          continue;
        }
        const [before] = await tx.select().from(offlineScans).where(and(eq(offlineScans.reservationId, r.id), eq(offlineScans.deviceId, input.deviceId), eq(offlineScans.scannedAt, at)));
        if (before) {
          results.push(result('duplicate-upload', r.id, before.outcome === 'checked-in' ? null : before.outcome, 'This device sent this scan before'));
          continue;
        }
        const refusal = refusalOf(r, s, at);
        const outcome: ScanResult = refusal
          ? result([VenueProblems.CHECKIN_ALREADY, VenueProblems.CHECKIN_CANCELLED, VenueProblems.CHECKIN_RELEASED].includes(refusal.code as never) ? 'conflict' : 'refused', r.id, refusal.code, refusal.message)
          : result('checked-in', r.id);
        if (!refusal) {
          await tx.update(reservations).set({ status: 'checked-in', checkedInAt: at, checkedInBy: actor.userId, checkedInVia: 'offline', checkedInDevice: input.deviceId }).where(eq(reservations.id, r.id));
        }
        await tx.insert(offlineScans).values({ sessionId: s.id, reservationId: r.id, deviceId: input.deviceId, scannedAt: at, outcome: refusal ? refusal.code : 'checked-in', uploadedBy: actor.userId, uploadedAt: this.now() });
        results.push(outcome);
      }
      results.sort((a, b) => a.index - b.index);
      return {
        results,
        checkedIn: results.filter((r) => r.outcome === 'checked-in').length,
        conflicts: results.filter((r) => r.outcome === 'conflict').length,
        refused: results.filter((r) => r.outcome === 'refused').length,
      };
    });
  }
}
