import { and, asc, eq, gt, gte, lt, sql } from 'drizzle-orm';
import { DomainError, notFound, transaction, withTransaction, type Actor, type CallContext, type Database, type Executor, type KernelServices, type Order } from '@diandan/kernel';
import type { VenueDetails } from './details.js';
import { instantOf } from './hours.js';
import { VenueProblems } from './problems.js';
import { processedEvents, sessions } from './schema.js';

/** What a session's defaults come from (the plugin's `sessions` config). */
export interface SessionDefaults {
  checkInOpensMinutes: number;
  checkInClosesMinutes: number;
  cancelUntilMinutes: number;
  perCitizenLimit: number;
  bookingOpensDays: number;
  /** Local start time (Asia/Shanghai) of a session made from a scheduled order (orders carry a date only). */
  orderSessionStart: string;
}

export interface Session {
  id: string;
  venueId: string;
  roomId: string | null;
  regionCode: string;
  orderId: string | null;
  source: 'order' | 'programme';
  title: string;
  description: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  confirmed: number;
  held: number;
  /** capacity − confirmed − held (never below 0). */
  available: number;
  bookingOpensAt: string;
  bookingClosesAt: string;
  checkInOpensAt: string;
  checkInClosesAt: string;
  cancelUntilMinutes: number;
  perCitizenLimit: number;
  audienceGroups: string[];
  /** A kernel category (null: uncategorised). */
  category: string | null;
  status: 'open' | 'cancelled';
  version: number;
}

export interface SessionInput {
  venueId: string;
  roomId?: string | null | undefined;
  title: string;
  description?: string | undefined;
  startsAt: string;
  endsAt: string;
  capacity?: number | undefined;
  bookingOpensAt?: string | undefined;
  bookingClosesAt?: string | undefined;
  checkInOpensMinutes?: number | undefined;
  checkInClosesMinutes?: number | undefined;
  cancelUntilMinutes?: number | undefined;
  perCitizenLimit?: number | undefined;
  audienceGroups?: string[] | undefined;
  /** A kernel category; a session made from an order takes its product's. */
  category?: string | null | undefined;
}

type Row = typeof sessions.$inferSelect;
const iso = (d: Date) => d.toISOString();
const MINUTE = 60_000;

export function toSession(r: Row): Session {
  return {
    id: r.id,
    venueId: r.venueId,
    roomId: r.roomId,
    regionCode: r.regionCode,
    orderId: r.orderId,
    source: r.source as Session['source'],
    title: r.title,
    description: r.description,
    startsAt: iso(r.startsAt),
    endsAt: iso(r.endsAt),
    capacity: r.capacity,
    confirmed: r.confirmed,
    held: r.held,
    available: Math.max(0, r.capacity - r.confirmed - r.held),
    bookingOpensAt: iso(r.bookingOpensAt),
    bookingClosesAt: iso(r.bookingClosesAt),
    checkInOpensAt: iso(r.checkInOpensAt),
    checkInClosesAt: iso(r.checkInClosesAt),
    cancelUntilMinutes: r.cancelUntilMinutes,
    perCitizenLimit: r.perCitizenLimit,
    audienceGroups: r.audienceGroups,
    category: r.category,
    status: r.status as Session['status'],
    version: r.version,
  };
}

/** Activity sessions (活动场次): the venue's own programme, and one per scheduled kernel order. */
export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly details: VenueDetails,
    private readonly defaults: SessionDefaults,
    private readonly reader: () => Promise<Actor>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: SessionInput, ctx: CallContext & { source?: 'order' | 'programme'; orderId?: string | undefined }): Promise<Session> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.details.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      const room = input.roomId ? await this.details.room(input.roomId, venue.id, tx) : null;
      const most = room?.capacity ?? venue.capacity;
      const capacity = input.capacity ?? most;
      const invalid = (message: string) => new DomainError('invalid', VenueProblems.SESSION_INVALID, message);
      if (capacity > most) throw invalid(`The ${room ? 'room' : 'venue'} holds at most ${most}`);
      const startsAt = new Date(input.startsAt);
      const endsAt = new Date(input.endsAt);
      if (!(endsAt > startsAt)) throw invalid('A session ends after it starts');
      const bookingOpensAt = input.bookingOpensAt ? new Date(input.bookingOpensAt) : new Date(Math.min(this.now().getTime(), startsAt.getTime() - this.defaults.bookingOpensDays * 86_400_000));
      const bookingClosesAt = input.bookingClosesAt ? new Date(input.bookingClosesAt) : startsAt;
      if (!(bookingClosesAt > bookingOpensAt)) throw invalid('Booking closes after it opens');
      if (bookingClosesAt > endsAt) throw invalid('Booking closes by the end of the session');
      const groups = input.audienceGroups ?? [];
      const missing = await this.kernel.populationGroups.missing(groups, { tx });
      if (missing.length) throw invalid(`Unknown audience groups: ${missing.join(', ')}`);
      const category = input.category ?? null;
      if (category && (await this.kernel.categories.missing([category], { tx })).length) throw invalid(`Unknown category: ${category}`);
      const path = (await this.kernel.regions.path(venue.regionCode, { tx })) ?? '';
      const [row] = await tx
        .insert(sessions)
        .values({
          venueId: venue.id,
          roomId: room?.id ?? null,
          regionCode: venue.regionCode,
          regionPath: path,
          orderId: ctx.orderId ?? null,
          source: ctx.source ?? 'programme',
          title: input.title,
          description: input.description ?? '',
          startsAt,
          endsAt,
          capacity,
          bookingOpensAt,
          bookingClosesAt,
          checkInOpensAt: new Date(startsAt.getTime() - (input.checkInOpensMinutes ?? this.defaults.checkInOpensMinutes) * MINUTE),
          checkInClosesAt: new Date(startsAt.getTime() + (input.checkInClosesMinutes ?? this.defaults.checkInClosesMinutes) * MINUTE),
          cancelUntilMinutes: input.cancelUntilMinutes ?? this.defaults.cancelUntilMinutes,
          perCitizenLimit: input.perCitizenLimit ?? this.defaults.perCitizenLimit,
          audienceGroups: groups,
          category,
        })
        .onConflictDoNothing({ target: sessions.orderId })
        .returning();
      if (!row) {
        const [existing] = await tx.select().from(sessions).where(eq(sessions.orderId, ctx.orderId!));
        return toSession(existing!);
      }
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'venue-session', entityId: row.id, action: 'venue-session.create', region: { code: venue.regionCode, path }, after: { title: row.title, startsAt: input.startsAt, capacity, orderId: row.orderId }, requestId: ctx.requestId },
        { tx },
      );
      return toSession(row);
    });
  }

  /**
   * A scheduled order becomes a session at its venue, on its scheduled day at the
   * configured local start time, as long as the product's duration, with the product's
   * target groups. Idempotent per event (a durable delivery may come twice) and per order.
   */
  async fromOrder(eventId: string, order: Order, actor: Actor): Promise<'created' | 'skipped'> {
    return transaction(this.db, async (tx) => {
      const [done] = await tx.insert(processedEvents).values({ eventId, outcome: 'pending' }).onConflictDoNothing().returning();
      if (!done || !order.scheduledOn) return 'skipped';
      const reader = await this.reader();
      const product = await this.kernel.products.get(order.productId, { actor: reader, tx });
      const startsAt = instantOf(order.scheduledOn, this.defaults.orderSessionStart);
      const endsAt = new Date(startsAt.getTime() + product.durationMinutes * MINUTE);
      const venue = await this.details.venue(order.venueId, { tx });
      const known = await this.kernel.populationGroups.missing(product.targetGroups, { tx });
      await this.create(
        {
          venueId: venue.id,
          title: product.title,
          description: product.summary,
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
          capacity: venue.capacity,
          bookingOpensAt: new Date(Math.min(this.now().getTime(), startsAt.getTime() - MINUTE)).toISOString(),
          bookingClosesAt: startsAt.toISOString(),
          audienceGroups: product.targetGroups.filter((g) => !known.includes(g)),
          category: product.category,
        },
        { actor, tx, source: 'order', orderId: order.id },
      );
      await tx.update(processedEvents).set({ outcome: 'created' }).where(eq(processedEvents.eventId, eventId));
      return 'created';
    });
  }

  /** Gives a session its kernel category (staff of its venue): what its waiting list's unserved demand is signalled as. */
  async setCategory(input: { id: string; category: string | null }, ctx: CallContext): Promise<Session> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const [s] = await tx.select().from(sessions).where(eq(sessions.id, input.id)).for('update');
      if (!s) throw notFound(VenueProblems.SESSION_NOT_FOUND, `No session ${input.id}`);
      const venue = await this.details.venue(s.venueId, { actor: ctx.actor, tx, manage: true });
      if (input.category && (await this.kernel.categories.missing([input.category], { tx })).length) {
        throw new DomainError('invalid', VenueProblems.SESSION_INVALID, `Unknown category: ${input.category}`);
      }
      const [row] = await tx.update(sessions).set({ category: input.category, version: sql`${sessions.version} + 1` }).where(eq(sessions.id, s.id)).returning();
      await this.kernel.audit.record(
        { actor: ctx.actor, entityType: 'venue-session', entityId: s.id, action: 'venue-session.category', region: { code: venue.regionCode, path: s.regionPath }, before: { category: s.category }, after: { category: input.category }, requestId: ctx.requestId },
        { tx },
      );
      return toSession(row!);
    });
  }

  async get(id: string, db: Executor = this.db): Promise<Session> {
    const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
    if (!row) throw notFound(VenueProblems.SESSION_NOT_FOUND, `No session ${id}`);
    return toSession(row);
  }

  async ofOrder(orderId: string): Promise<Session | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.orderId, orderId));
    return row && toSession(row);
  }

  /** A venue's sessions starting in [from, to), in start order (public). */
  async list(input: { venueId: string; from?: string | undefined; to?: string | undefined; limit: number; after?: string | undefined }): Promise<Session[]> {
    const venue = await this.details.venue(input.venueId, {});
    const from = input.from ? new Date(input.from) : new Date(this.now().getTime() - 86_400_000);
    const rows = await this.db
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.venueId, venue.id),
          gte(sessions.startsAt, from),
          input.to ? lt(sessions.startsAt, new Date(input.to)) : undefined,
          input.after ? gt(sessions.id, input.after) : undefined,
        ),
      )
      .orderBy(asc(sessions.startsAt), asc(sessions.id))
      .limit(input.limit);
    return rows.map(toSession);
  }

  /** Every session of a venue starting in [from, to) — for reports and feeds. */
  async between(venueId: string, from: Date, to: Date, db: Executor = this.db): Promise<Session[]> {
    const rows = await db.select().from(sessions).where(and(eq(sessions.venueId, venueId), gte(sessions.startsAt, from), lt(sessions.startsAt, to))).orderBy(asc(sessions.startsAt)).limit(5000);
    return rows.map(toSession);
  }

}
