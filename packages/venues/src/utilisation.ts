import { and, eq, gte, inArray, lt, ne, sql } from 'drizzle-orm';
import { DomainError, REGION_STAFF, hasRole, inScope, kernelTables, queryRows, type Actor, type Database, type Executor } from '@diandan/kernel';
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

/** A venue's figures in a region's utilisation (`UtilisationReport.ofRegion`). */
export interface VenueFigures {
  venueId: string;
  name: string;
  regionCode: string;
  figures: Figures;
}

function period(input: { from: string; to: string }): { from: Date; to: Date } {
  const from = new Date(input.from);
  const to = new Date(input.to);
  if (!(to > from) || to.getTime() - from.getTime() > MAX_DAYS * 86_400_000) throw new DomainError('invalid', VenueProblems.REPORT_INVALID, `A period ends after it starts and spans at most ${MAX_DAYS} days`);
  return { from, to };
}

/** Utilisation of a venue's sessions starting in [from, to): for its staff, and for the reporting package. */
export class UtilisationReport {
  constructor(
    private readonly db: Database,
    private readonly details: VenueDetails,
  ) {}

  async of(input: { venueId: string; from: string; to: string; roomId?: string | undefined }, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<Utilisation> {
    const db = ctx.tx ?? this.db;
    const venue = await this.details.venue(input.venueId, { actor: ctx.actor, tx: ctx.tx, manage: true });
    const { from, to } = period(input);
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

  /**
   * The figures of every venue of a region subtree (`regionPath`, the kernel region's
   * path) with sessions starting in [from, to), and their totals, in one statement: for
   * the reporting package's venues section and region dashboards. Region staff whose
   * subtree holds the region (`FORBIDDEN` otherwise), as for one venue.
   */
  async ofRegion(input: { regionPath: string; from: string; to: string }, ctx: { actor: Actor; tx?: Executor | undefined }): Promise<{ venues: VenueFigures[]; totals: Figures }> {
    if (!ctx.actor.system && (!hasRole(ctx.actor, REGION_STAFF) || !inScope(ctx.actor, input.regionPath))) {
      throw new DomainError('forbidden', 'FORBIDDEN', 'Utilisation of a region needs a region staff role in a region above it');
    }
    const { from, to } = period(input);
    const prefix = `${input.regionPath.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await queryRows<{ venue_id: string; name: string; region_code: string } & Record<'sessions' | 'capacity' | 'reserved' | 'checked_in' | 'no_show' | 'joined' | 'accepted', number>>(
      ctx.tx ?? this.db,
      sql`with s as (
            select s.id, s.venue_id, s.capacity from ${sessions} s
            join ${kernelTables.venues} v on v.id = s.venue_id
            join ${kernelTables.regions} r on r.code = v.region_code
            where r.path collate "C" like ${prefix} and s.status <> 'cancelled' and s.starts_at >= ${from.toISOString()}::timestamptz and s.starts_at < ${to.toISOString()}::timestamptz
          ),
          seats as (
            select session_id,
              sum(quantity) filter (where status <> 'cancelled') as reserved,
              sum(quantity) filter (where status = 'checked-in') as checked_in,
              sum(quantity) filter (where status = 'no-show') as no_show
            from ${reservations} where session_id in (select id from s) group by session_id
          ),
          entries as (
            select session_id, count(*) as joined, count(*) filter (where status = 'accepted') as accepted
            from ${waitlist} where session_id in (select id from s) group by session_id
          )
          select s.venue_id::text as venue_id, v.name, v.region_code,
            count(*)::int as sessions, sum(s.capacity)::int as capacity,
            coalesce(sum(seats.reserved), 0)::int as reserved, coalesce(sum(seats.checked_in), 0)::int as checked_in,
            coalesce(sum(seats.no_show), 0)::int as no_show, coalesce(sum(entries.joined), 0)::int as joined,
            coalesce(sum(entries.accepted), 0)::int as accepted
          from s join ${kernelTables.venues} v on v.id = s.venue_id
          left join seats on seats.session_id = s.id left join entries on entries.session_id = s.id
          group by s.venue_id, v.name, v.region_code
          order by v.region_code collate "C", v.name, s.venue_id`,
    );
    const totals = zero();
    const venues = rows.map((r) => {
      const c: Counts = {
        sessions: Number(r.sessions),
        capacityOffered: Number(r.capacity),
        seatsReserved: Number(r.reserved),
        seatsCheckedIn: Number(r.checked_in),
        seatsNoShow: Number(r.no_show),
        waitlistJoined: Number(r.joined),
        waitlistAccepted: Number(r.accepted),
      };
      add(totals, c);
      return { venueId: r.venue_id, name: r.name, regionCode: r.region_code, figures: figuresOf(c) };
    });
    return { venues, totals: figuresOf(totals) };
  }
}
