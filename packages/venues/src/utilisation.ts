import { and, eq, gte, inArray, lt, ne, sql } from 'drizzle-orm';
import { DomainError, type Actor, type Database, type Executor } from '@diandan/kernel';
import type { VenueDetails } from './details.js';
import { localParts } from './hours.js';
import { VenueProblems } from './problems.js';
import { reservations, rooms, sessions, waitlist } from './schema.js';

/**
 * The figures of a set of sessions (see the README for the formulas):
 * - capacityOffered = Σ capacity of the sessions not cancelled
 * - seatsReserved = Σ seats of reservations confirmed, checked in or no-show (not cancelled)
 * - bookingRate = seatsReserved ÷ capacityOffered
 * - reservationUtilisation = seatsCheckedIn ÷ capacityOffered
 * - noShowRate = seatsNoShow ÷ (seatsCheckedIn + seatsNoShow): among seats whose outcome is known
 * - waitlistConversion = entries accepted ÷ entries joined
 * A ratio with a zero denominator is null; ratios are rounded to 4 decimals.
 */
export interface Figures {
  sessions: number;
  capacityOffered: number;
  seatsReserved: number;
  seatsCheckedIn: number;
  seatsNoShow: number;
  bookingRate: number | null;
  reservationUtilisation: number | null;
  noShowRate: number | null;
  waitlistJoined: number;
  waitlistAccepted: number;
  waitlistConversion: number | null;
}

export interface Utilisation {
  venueId: string;
  from: string;
  to: string;
  totals: Figures;
  /** Per room; `roomId` null: sessions in the venue as a whole. */
  rooms: (Figures & { roomId: string | null; name: string | null })[];
  /** By the sessions' local start (Asia/Shanghai): weekday 1 = Monday … 7 = Sunday, hour 0–23; only slots with sessions. */
  slots: (Figures & { weekday: number; hour: number })[];
}

interface Counts {
  sessions: number;
  capacityOffered: number;
  seatsReserved: number;
  seatsCheckedIn: number;
  seatsNoShow: number;
  waitlistJoined: number;
  waitlistAccepted: number;
}

const zero = (): Counts => ({ sessions: 0, capacityOffered: 0, seatsReserved: 0, seatsCheckedIn: 0, seatsNoShow: 0, waitlistJoined: 0, waitlistAccepted: 0 });
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);
const COUNTS = Object.keys(zero()) as (keyof Counts)[];
const add = (into: Counts, c: Counts) => {
  for (const k of COUNTS) into[k] += c[k];
};

export function figuresOf(c: Counts): Figures {
  return {
    ...c,
    bookingRate: ratio(c.seatsReserved, c.capacityOffered),
    reservationUtilisation: ratio(c.seatsCheckedIn, c.capacityOffered),
    noShowRate: ratio(c.seatsNoShow, c.seatsCheckedIn + c.seatsNoShow),
    waitlistConversion: ratio(c.waitlistAccepted, c.waitlistJoined),
  };
}

const MAX_DAYS = 400;

/** Utilisation of a venue's sessions starting in [from, to): for its staff, and for the reporting package. */
export class UtilisationReport {
  constructor(
    private readonly db: Database,
    private readonly details: VenueDetails,
  ) {}

  async of(input: { venueId: string; from: string; to: string; roomId?: string | undefined }, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Utilisation> {
    const db = ctx.tx ?? this.db;
    const venue = await this.details.venue(input.venueId, { actor: ctx.actor, tx: ctx.tx, manage: true });
    const from = new Date(input.from);
    const to = new Date(input.to);
    if (!(to > from) || to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw new DomainError('invalid', VenueProblems.REPORT_INVALID, `A period ends after it starts and spans at most ${MAX_DAYS} days`);
    const rows = await db
      .select({ id: sessions.id, roomId: sessions.roomId, startsAt: sessions.startsAt, capacity: sessions.capacity })
      .from(sessions)
      .where(and(eq(sessions.venueId, venue.id), ne(sessions.status, 'cancelled'), gte(sessions.startsAt, from), lt(sessions.startsAt, to), input.roomId ? eq(sessions.roomId, input.roomId) : undefined))
      .limit(20_000);
    const ids = rows.map((r) => r.id);
    const seatRows = ids.length
      ? await db
          .select({ sessionId: reservations.sessionId, status: reservations.status, seats: sql<number>`sum(${reservations.quantity})::int` })
          .from(reservations)
          .where(inArray(reservations.sessionId, ids))
          .groupBy(reservations.sessionId, reservations.status)
      : [];
    const entryRows = ids.length
      ? await db
          .select({ sessionId: waitlist.sessionId, status: waitlist.status, n: sql<number>`count(*)::int` })
          .from(waitlist)
          .where(inArray(waitlist.sessionId, ids))
          .groupBy(waitlist.sessionId, waitlist.status)
      : [];
    const per = new Map<string, Counts>(rows.map((r) => [r.id, { ...zero(), sessions: 1, capacityOffered: r.capacity }]));
    for (const { sessionId, status, seats } of seatRows) {
      const c = per.get(sessionId)!;
      const n = Number(seats);
      if (status !== 'cancelled') c.seatsReserved += n;
      if (status === 'checked-in') c.seatsCheckedIn += n;
      if (status === 'no-show') c.seatsNoShow += n;
    }
    for (const { sessionId, status, n } of entryRows) {
      const c = per.get(sessionId)!;
      c.waitlistJoined += Number(n);
      if (status === 'accepted') c.waitlistAccepted += Number(n);
    }
    const totals = zero();
    const byRoom = new Map<string | null, Counts>();
    const bySlot = new Map<string, Counts & { weekday: number; hour: number }>();
    for (const r of rows) {
      const c = per.get(r.id)!;
      add(totals, c);
      if (!byRoom.has(r.roomId)) byRoom.set(r.roomId, zero());
      add(byRoom.get(r.roomId)!, c);
      const local = localParts(r.startsAt);
      const slot = { weekday: local.weekday, hour: Math.floor(local.minute / 60) };
      const key = `${slot.weekday}:${slot.hour}`;
      if (!bySlot.has(key)) bySlot.set(key, { ...zero(), ...slot });
      add(bySlot.get(key)!, c);
    }
    const roomIds = [...byRoom.keys()].filter((id): id is string => id !== null);
    const names = new Map(roomIds.length ? (await db.select({ id: rooms.id, name: rooms.name }).from(rooms).where(inArray(rooms.id, roomIds))).map((r) => [r.id, r.name]) : []);
    return {
      venueId: venue.id,
      from: from.toISOString(),
      to: to.toISOString(),
      totals: figuresOf(totals),
      rooms: [...byRoom.entries()].map(([roomId, c]) => ({ roomId, name: roomId ? (names.get(roomId) ?? null) : null, ...figuresOf(c) })).sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
      slots: [...bySlot.values()].map(({ weekday, hour, ...c }) => ({ weekday, hour, ...figuresOf(c) })).sort((a, b) => a.weekday - b.weekday || a.hour - b.hour),
    };
  }
}
