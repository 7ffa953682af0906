import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import { DomainError, hasRole, notFound, REGION_STAFF, stale, withTransaction, type Actor, type CallContext, type Database, type Executor, type KernelServices, type Venue } from '@diandan/kernel';
import { SHIPPED_CALENDARS, type CalendarDay } from './calendar-data.js';
import { hoursOn, intervalsProblem, openState, weekdayOf, addDays, localParts, type DayHours, type HoursRules, type Interval, type OpenState, type WeeklyInterval } from './hours.js';
import { VenueProblems } from './problems.js';
import { equipment, equipmentUses, holidayYears, holidays, hourChanges, hourExceptions, profiles, rooms, weeklyHours } from './schema.js';

export type NetworkRole = 'main' | 'branch';
export interface Profile {
  venueId: string;
  networkRole: NetworkRole | null;
  mainVenueId: string | null;
  description: string;
  onHoliday: 'closed' | 'weekly' | 'sunday';
  onMakeUpDay: 'weekly' | 'workday';
  /** 0 until the profile is first written. */
  version: number;
}
export interface Room {
  id: string;
  venueId: string;
  name: string;
  capacity: number;
}
export interface Equipment {
  id: string;
  venueId: string;
  roomId: string | null;
  name: string;
  kind: string;
  quantity: number;
}
export interface EquipmentUse {
  id: number;
  equipmentId: string;
  sessionId: string | null;
  usedOn: string;
  hours: number;
  purpose: string;
  recordedBy: string;
  createdAt: string;
}
export interface HoursChange {
  id: number;
  venueId: string;
  changedBy: string;
  reason: string;
  before: unknown;
  after: unknown;
  changedAt: string;
}

const defaultProfile = (venueId: string): Profile => ({ venueId, networkRole: null, mainVenueId: null, description: '', onHoliday: 'sunday', onMakeUpDay: 'workday', version: 0 });
const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

/** Venue details: the network, rooms, equipment and its use, opening hours, the holiday calendar. */
export class VenueDetails {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly reader: () => Promise<Actor>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The kernel venue as `actor` may see it (404 otherwise); with `manage`, region staff only. */
  async venue(id: string, ctx: { actor?: Actor | undefined; tx?: Executor | undefined; manage?: boolean }): Promise<Venue> {
    const actor = ctx.actor ?? (await this.reader());
    if (ctx.manage && !hasRole(actor, REGION_STAFF) && !actor.system) throw new DomainError('forbidden', 'FORBIDDEN', 'Managing a venue needs a region staff role');
    try {
      return await this.kernel.venues.get(id, { actor, tx: ctx.tx });
    } catch (error) {
      if (error instanceof DomainError && error.kind === 'not_found') throw notFound(VenueProblems.VENUE_NOT_FOUND, `No venue ${id}`);
      throw error;
    }
  }

  async profile(venueId: string, db: Executor = this.db): Promise<Profile> {
    const [row] = await db.select().from(profiles).where(eq(profiles.venueId, venueId));
    return row ? (toProfile(row) as Profile) : defaultProfile(venueId);
  }

  async profiles(venueIds: readonly string[], db: Executor = this.db): Promise<Map<string, { networkRole: NetworkRole | null; mainVenueId: string | null; rooms: number }>> {
    if (!venueIds.length) return new Map();
    const rows = await db.select().from(profiles).where(inArray(profiles.venueId, [...venueIds]));
    const counts = await db.select({ venueId: rooms.venueId, n: sql<number>`count(*)::int` }).from(rooms).where(inArray(rooms.venueId, [...venueIds])).groupBy(rooms.venueId);
    const out = new Map<string, { networkRole: NetworkRole | null; mainVenueId: string | null; rooms: number }>();
    for (const r of rows) out.set(r.venueId, { networkRole: r.networkRole as NetworkRole | null, mainVenueId: r.mainVenueId, rooms: 0 });
    for (const c of counts) out.set(c.venueId, { ...(out.get(c.venueId) ?? { networkRole: null, mainVenueId: null }), rooms: Number(c.n) });
    return out;
  }

  /** Writes the profile (If-Match on its version; 0 before the first write). */
  async setProfile(
    input: { venueId: string; expectedVersion?: number | undefined; networkRole?: NetworkRole | null | undefined; mainVenueId?: string | null | undefined; description?: string | undefined; onHoliday?: Profile['onHoliday'] | undefined; onMakeUpDay?: Profile['onMakeUpDay'] | undefined },
    ctx: CallContext,
  ): Promise<Profile> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      const before = await this.lockedProfile(tx, venue.id);
      if (input.expectedVersion !== undefined && before.version !== input.expectedVersion) throw stale();
      const next: Profile = {
        ...before,
        ...(input.networkRole !== undefined ? { networkRole: input.networkRole } : {}),
        ...(input.mainVenueId !== undefined ? { mainVenueId: input.mainVenueId } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.onHoliday !== undefined ? { onHoliday: input.onHoliday } : {}),
        ...(input.onMakeUpDay !== undefined ? { onMakeUpDay: input.onMakeUpDay } : {}),
        version: before.version + 1,
      };
      if (next.networkRole !== 'branch') next.mainVenueId = null;
      if (next.networkRole === 'branch') {
        if (!next.mainVenueId) throw new DomainError('invalid', VenueProblems.NETWORK_INVALID, 'A branch (分馆) names its main venue (`mainVenueId`)');
        if (next.mainVenueId === venue.id) throw new DomainError('invalid', VenueProblems.NETWORK_INVALID, 'A venue is not its own main venue');
        await this.venue(next.mainVenueId, { tx }).catch((e) => {
          throw e instanceof DomainError && e.kind === 'not_found' ? new DomainError('invalid', VenueProblems.NETWORK_INVALID, 'The main venue does not exist') : e;
        });
        const main = await this.profile(next.mainVenueId, tx);
        if (main.networkRole !== 'main') throw new DomainError('invalid', VenueProblems.NETWORK_INVALID, 'The main venue must be marked `main` (总馆) first');
      }
      await this.writeProfile(tx, next);
      await this.audit(ctx, tx, venue, 'venue-profile.update', before, next);
      return next;
    });
  }

  private async lockedProfile(tx: Executor, venueId: string): Promise<Profile> {
    await tx.insert(profiles).values({ venueId, version: 0 }).onConflictDoNothing();
    const [row] = await tx.select().from(profiles).where(eq(profiles.venueId, venueId)).for('update');
    return toProfile(row!) as Profile;
  }

  private async writeProfile(tx: Executor, p: Profile): Promise<void> {
    await tx
      .update(profiles)
      .set({ networkRole: p.networkRole, mainVenueId: p.mainVenueId, description: p.description, onHoliday: p.onHoliday, onMakeUpDay: p.onMakeUpDay, version: p.version, updatedAt: new Date() })
      .where(eq(profiles.venueId, p.venueId));
  }

  private async audit(ctx: CallContext, tx: Executor, venue: Venue, action: string, before: unknown, after: unknown): Promise<void> {
    const path = (await this.kernel.regions.path(venue.regionCode, { tx })) ?? '';
    await this.kernel.audit.record({ actor: ctx.actor, entityType: 'venue', entityId: venue.id, action, region: { code: venue.regionCode, path }, before, after, requestId: ctx.requestId }, { tx });
  }

  // ── rooms and equipment ─────────────────────────────────────────────────────

  async rooms(venueId: string, db: Executor = this.db): Promise<Room[]> {
    return db.select({ id: rooms.id, venueId: rooms.venueId, name: rooms.name, capacity: rooms.capacity }).from(rooms).where(eq(rooms.venueId, venueId)).orderBy(asc(rooms.createdAt), asc(rooms.id));
  }

  async room(roomId: string, venueId: string, db: Executor = this.db): Promise<Room> {
    const [room] = await db.select({ id: rooms.id, venueId: rooms.venueId, name: rooms.name, capacity: rooms.capacity }).from(rooms).where(and(eq(rooms.id, roomId), eq(rooms.venueId, venueId)));
    if (!room) throw notFound(VenueProblems.ROOM_NOT_FOUND, `No room ${roomId} in this venue`);
    return room;
  }

  async addRoom(input: { venueId: string; name: string; capacity: number }, ctx: CallContext): Promise<Room> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      if (input.capacity > venue.capacity) throw new DomainError('invalid', VenueProblems.ROOM_INVALID, `A room holds at most the venue's capacity (${venue.capacity})`);
      const [room] = await tx.insert(rooms).values({ venueId: venue.id, name: input.name, capacity: input.capacity }).returning({ id: rooms.id, venueId: rooms.venueId, name: rooms.name, capacity: rooms.capacity });
      await this.audit(ctx, tx, venue, 'venue-room.create', null, room);
      return room!;
    });
  }

  async equipment(venueId: string, db: Executor = this.db): Promise<Equipment[]> {
    return db.select({ id: equipment.id, venueId: equipment.venueId, roomId: equipment.roomId, name: equipment.name, kind: equipment.kind, quantity: equipment.quantity }).from(equipment).where(eq(equipment.venueId, venueId)).orderBy(asc(equipment.createdAt), asc(equipment.id));
  }

  async addEquipment(input: { venueId: string; roomId?: string | null | undefined; name: string; kind: string; quantity?: number | undefined }, ctx: CallContext): Promise<Equipment> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      if (input.roomId) await this.room(input.roomId, venue.id, tx);
      const [item] = await tx
        .insert(equipment)
        .values({ venueId: venue.id, roomId: input.roomId ?? null, name: input.name, kind: input.kind, quantity: input.quantity ?? 1 })
        .returning({ id: equipment.id, venueId: equipment.venueId, roomId: equipment.roomId, name: equipment.name, kind: equipment.kind, quantity: equipment.quantity });
      await this.audit(ctx, tx, venue, 'venue-equipment.create', null, item);
      return item!;
    });
  }

  private async equipmentItem(id: string, ctx: { actor: Actor; tx?: Executor | undefined; manage?: boolean }): Promise<{ item: Equipment; venue: Venue }> {
    const db = ctx.tx ?? this.db;
    const [item] = await db.select({ id: equipment.id, venueId: equipment.venueId, roomId: equipment.roomId, name: equipment.name, kind: equipment.kind, quantity: equipment.quantity }).from(equipment).where(eq(equipment.id, id));
    if (!item) throw notFound(VenueProblems.EQUIPMENT_NOT_FOUND, `No equipment ${id}`);
    const venue = await this.venue(item.venueId, ctx).catch((e) => {
      throw e instanceof DomainError && e.kind === 'not_found' ? notFound(VenueProblems.EQUIPMENT_NOT_FOUND, `No equipment ${id}`) : e;
    });
    return { item, venue };
  }

  /** Records a use of a piece of equipment (the record Changning evaluates). */
  async recordUse(input: { equipmentId: string; usedOn: string; hours: number; purpose: string; sessionId?: string | null | undefined }, ctx: CallContext): Promise<EquipmentUse> {
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const { item, venue } = await this.equipmentItem(input.equipmentId, { actor: ctx.actor, tx, manage: true });
      const [row] = await tx
        .insert(equipmentUses)
        .values({ equipmentId: item.id, usedOn: input.usedOn, hours: input.hours, purpose: input.purpose, sessionId: input.sessionId ?? null, recordedBy: ctx.actor.userId })
        .returning();
      await this.audit(ctx, tx, venue, 'venue-equipment.use', null, { equipmentId: item.id, usedOn: input.usedOn, hours: input.hours });
      return toUse(row!);
    });
  }

  async uses(input: { equipmentId: string; limit: number; after?: number | undefined }, ctx: { actor: Actor }): Promise<{ items: EquipmentUse[]; total: { uses: number; hours: number } }> {
    const { item } = await this.equipmentItem(input.equipmentId, { actor: ctx.actor, manage: true });
    const rows = await this.db.select().from(equipmentUses).where(and(eq(equipmentUses.equipmentId, item.id), input.after ? lt(equipmentUses.id, input.after) : undefined)).orderBy(desc(equipmentUses.id)).limit(input.limit);
    const [total] = await this.db.select({ uses: sql<number>`count(*)::int`, hours: sql<number>`coalesce(sum(${equipmentUses.hours}), 0)::int` }).from(equipmentUses).where(eq(equipmentUses.equipmentId, item.id));
    return { items: rows.map(toUse), total: { uses: Number(total!.uses), hours: Number(total!.hours) } };
  }

  // ── opening hours ───────────────────────────────────────────────────────────

  async weekly(venueId: string, db: Executor = this.db): Promise<WeeklyInterval[]> {
    return db.select({ weekday: weeklyHours.weekday, opens: weeklyHours.opens, closes: weeklyHours.closes }).from(weeklyHours).where(eq(weeklyHours.venueId, venueId)).orderBy(asc(weeklyHours.weekday), asc(weeklyHours.opens));
  }

  async exceptions(venueId: string, from: string, to: string, db: Executor = this.db): Promise<{ day: string; intervals: Interval[]; reason: string }[]> {
    const rows = await db.select().from(hourExceptions).where(and(eq(hourExceptions.venueId, venueId), gte(hourExceptions.day, from), lte(hourExceptions.day, to))).orderBy(asc(hourExceptions.day));
    return rows.map((r) => ({ day: r.day, intervals: r.intervals, reason: r.reason }));
  }

  /** Replaces a venue's weekly hours; the change is kept in its history. */
  async setWeekly(input: { venueId: string; expectedVersion: number; weekly: WeeklyInterval[]; reason: string }, ctx: CallContext): Promise<Profile> {
    for (let d = 1; d <= 7; d++) {
      const problem = intervalsProblem(input.weekly.filter((w) => w.weekday === d).map((w) => [w.opens, w.closes] as Interval));
      if (problem) throw new DomainError('invalid', VenueProblems.HOURS_INVALID, `Weekday ${d}: ${problem}`);
    }
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      const profile = await this.lockedProfile(tx, venue.id);
      if (profile.version !== input.expectedVersion) throw stale();
      const before = await this.weekly(venue.id, tx);
      await tx.delete(weeklyHours).where(eq(weeklyHours.venueId, venue.id));
      if (input.weekly.length) await tx.insert(weeklyHours).values(input.weekly.map((w) => ({ venueId: venue.id, ...w })));
      const next = { ...profile, version: profile.version + 1 };
      await this.writeProfile(tx, next);
      const after = [...input.weekly].sort((a, b) => a.weekday - b.weekday || a.opens.localeCompare(b.opens));
      await tx.insert(hourChanges).values({ venueId: venue.id, changedBy: ctx.actor.userId, reason: input.reason, before: { weekly: before }, after: { weekly: after } });
      await this.audit(ctx, tx, venue, 'venue-hours.update', { weekly: before }, { weekly: after });
      return next;
    });
  }

  /** Sets (or, with `intervals: null`, removes) the exception of one day. */
  async setException(input: { venueId: string; day: string; intervals: Interval[] | null; reason: string }, ctx: CallContext): Promise<{ day: string; intervals: Interval[] | null; reason: string }> {
    if (input.intervals) {
      const problem = intervalsProblem(input.intervals);
      if (problem) throw new DomainError('invalid', VenueProblems.HOURS_INVALID, problem);
    }
    return withTransaction(this.db, ctx.tx, async (tx) => {
      const venue = await this.venue(input.venueId, { actor: ctx.actor, tx, manage: true });
      const [old] = await tx.select().from(hourExceptions).where(and(eq(hourExceptions.venueId, venue.id), eq(hourExceptions.day, input.day))).for('update');
      const before = old ? { day: old.day, intervals: old.intervals, reason: old.reason } : null;
      if (old) await tx.delete(hourExceptions).where(eq(hourExceptions.id, old.id));
      if (input.intervals) await tx.insert(hourExceptions).values({ venueId: venue.id, day: input.day, intervals: input.intervals.map(([o, c]) => [o, c] as [string, string]), reason: input.reason });
      const after = input.intervals ? { day: input.day, intervals: input.intervals, reason: input.reason } : null;
      await tx.insert(hourChanges).values({ venueId: venue.id, changedBy: ctx.actor.userId, reason: input.reason, before: { exception: before }, after: { exception: after } });
      await this.audit(ctx, tx, venue, 'venue-hours.exception', before, after);
      return { day: input.day, intervals: input.intervals, reason: input.reason };
    });
  }

  async history(input: { venueId: string; limit: number; after?: number | undefined }, ctx: { actor: Actor }): Promise<HoursChange[]> {
    const venue = await this.venue(input.venueId, { actor: ctx.actor, manage: true });
    const rows = await this.db.select().from(hourChanges).where(and(eq(hourChanges.venueId, venue.id), input.after ? lt(hourChanges.id, input.after) : undefined)).orderBy(desc(hourChanges.id)).limit(input.limit);
    return rows.map((r) => ({ id: r.id, venueId: r.venueId, changedBy: r.changedBy, reason: r.reason, before: r.before, after: r.after, changedAt: iso(r.changedAt) }));
  }

  /** The rules of a venue for the days `from`…`to` (the calendar and exceptions of that span only). */
  async rules(venueId: string, from: string, to: string, db: Executor = this.db): Promise<HoursRules> {
    const [profile, weekly, exceptions, calendar] = await Promise.all([
      this.profile(venueId, db),
      this.weekly(venueId, db),
      this.exceptions(venueId, from, to, db),
      db.select().from(holidays).where(and(gte(holidays.day, from), lte(holidays.day, to))),
    ]);
    return {
      weekly,
      exceptions: new Map(exceptions.map((e) => [e.day, { intervals: e.intervals, reason: e.reason }])),
      calendar: new Map(calendar.map((c) => [c.day, { kind: c.kind, name: c.name, asWeekday: c.asWeekday }])),
      onHoliday: profile.onHoliday,
      onMakeUpDay: profile.onMakeUpDay,
    };
  }

  /** Open now (or at `at`), the next change, and the hours of the next `days` days. */
  async opening(input: { venueId: string; at?: Date | undefined; days?: number | undefined }, ctx: { actor?: Actor | undefined } = {}): Promise<OpenState & { at: string; days: DayHours[] }> {
    const venue = await this.venue(input.venueId, { actor: ctx.actor });
    const at = input.at ?? this.now();
    const today = localParts(at).day;
    const days = input.days ?? 7;
    const rules = await this.rules(venue.id, today, addDays(today, Math.max(days, 16)));
    return { at: at.toISOString(), ...openState(rules, at), days: Array.from({ length: days }, (_, i) => hoursOn(rules, addDays(today, i))) };
  }

  // ── holiday calendar ────────────────────────────────────────────────────────

  async calendar(year: number, db: Executor = this.db): Promise<{ year: number; source: string; days: CalendarDay[] }> {
    const [meta] = await db.select().from(holidayYears).where(eq(holidayYears.year, year));
    if (!meta) throw notFound(VenueProblems.CALENDAR_NOT_FOUND, `No holiday calendar for ${year}: load one with PUT /v1/venue-holidays/${year}`);
    const rows = await db.select().from(holidays).where(eq(holidays.year, year)).orderBy(asc(holidays.day));
    return { year, source: meta.source, days: rows.map((r) => ({ day: r.day, kind: r.kind as CalendarDay['kind'], name: r.name, ...(r.asWeekday ? { asWeekday: r.asWeekday } : {}) })) };
  }

  /** Replaces a year's calendar (city administrators). Make-up working days must fall on a weekend. */
  async setCalendar(input: { year: number; source: string; days: CalendarDay[] }, ctx: CallContext): Promise<{ year: number; source: string; days: CalendarDay[] }> {
    if (!hasRole(ctx.actor, ['city-admin']) && !ctx.actor.system) throw new DomainError('forbidden', 'FORBIDDEN', 'The holiday calendar is set by city administrators');
    const seen = new Set<string>();
    for (const d of input.days) {
      if (!d.day.startsWith(`${input.year}-`)) throw new DomainError('invalid', VenueProblems.CALENDAR_INVALID, `${d.day} is not in ${input.year}`);
      if (seen.has(d.day)) throw new DomainError('invalid', VenueProblems.CALENDAR_INVALID, `${d.day} is given twice`);
      seen.add(d.day);
      if (d.kind === 'workday' && weekdayOf(d.day) < 6) throw new DomainError('invalid', VenueProblems.CALENDAR_INVALID, `${d.day} is a weekday: a make-up working day (调休) falls on a weekend`);
    }
    return withTransaction(this.db, ctx.tx, async (tx) => {
      await tx.delete(holidays).where(eq(holidays.year, input.year));
      if (input.days.length) await tx.insert(holidays).values(input.days.map((d) => ({ day: d.day, year: input.year, kind: d.kind, name: d.name, asWeekday: d.asWeekday ?? null })));
      await tx.insert(holidayYears).values({ year: input.year, source: input.source }).onConflictDoUpdate({ target: holidayYears.year, set: { source: input.source, updatedAt: new Date() } });
      await this.kernel.audit.record({ actor: ctx.actor, entityType: 'venue-holiday-calendar', entityId: String(input.year), action: 'venue-holidays.set', after: { source: input.source, days: input.days.length }, requestId: ctx.requestId }, { tx });
      return { year: input.year, source: input.source, days: input.days };
    });
  }

  /** Loads the shipped calendars of years the table does not have yet (at start-up). */
  async seedCalendars(actor: Actor): Promise<void> {
    for (const cal of SHIPPED_CALENDARS) {
      const [have] = await this.db.select().from(holidayYears).where(eq(holidayYears.year, cal.year));
      if (!have) await this.setCalendar({ year: cal.year, source: cal.source, days: [...cal.days] }, { actor }).catch(() => undefined);
    }
  }
}

function toProfile(row: typeof profiles.$inferSelect): Profile {
  return {
    venueId: row.venueId,
    networkRole: row.networkRole as NetworkRole | null,
    mainVenueId: row.mainVenueId,
    description: row.description,
    onHoliday: row.onHoliday as Profile['onHoliday'],
    onMakeUpDay: row.onMakeUpDay as Profile['onMakeUpDay'],
    version: row.version,
  };
}
const toUse = (r: typeof equipmentUses.$inferSelect): EquipmentUse => ({
  id: r.id,
  equipmentId: r.equipmentId,
  sessionId: r.sessionId,
  usedOn: r.usedOn,
  hours: r.hours,
  purpose: r.purpose,
  recordedBy: r.recordedBy,
  createdAt: iso(r.createdAt),
});
