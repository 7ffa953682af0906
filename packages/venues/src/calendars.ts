import { createHmac, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, gte, lt } from 'drizzle-orm';
import ical, { ICalEventStatus } from 'ical-generator';
import { DateTime } from 'luxon';
import { notFound, type Database } from '@diandan/kernel';
import type { Citizen } from './citizens.js';
import type { VenueDetails } from './details.js';
import { VenueProblems } from './problems.js';
import { reservations, sessions } from './schema.js';

export const TIMEZONE = 'Asia/Shanghai';
/** China keeps UTC+8 all year (no daylight saving since 1991): one fixed STANDARD rule. */
const VTIMEZONE = ['BEGIN:VTIMEZONE', `TZID:${TIMEZONE}`, 'X-LIC-LOCATION:Asia/Shanghai', 'BEGIN:STANDARD', 'TZOFFSETFROM:+0800', 'TZOFFSETTO:+0800', 'TZNAME:CST', 'DTSTART:19700101T000000', 'END:STANDARD', 'END:VTIMEZONE'].join('\r\n');
const DAY = 86_400_000;
// ical-generator writes a native Date in the process's own zone; a luxon DateTime it moves to the event's zone.
const local = (d: Date) => DateTime.fromJSDate(d, { zone: TIMEZONE });

/**
 * iCalendar feeds: a venue's sessions (public) and a citizen's reservations. Calendar
 * apps cannot send a header, so a citizen's feed is addressed by a feed key — the
 * citizen id and a keyed MAC of it (from the deployment's secret) — instead of the token.
 */
export class CalendarFeeds {
  constructor(
    private readonly db: Database,
    private readonly details: VenueDetails,
    private readonly feedSecret: Buffer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private calendar(name: string) {
    return ical({ name, prodId: { company: 'diandan', product: 'venues', language: 'ZH' }, timezone: { name: TIMEZONE, generator: () => VTIMEZONE } });
  }

  /** A venue's sessions from 30 days ago to 180 days ahead; cancelled ones as CANCELLED. */
  async venueFeed(venueId: string): Promise<string> {
    const venue = await this.details.venue(venueId, {});
    const now = this.now().getTime();
    const rows = await this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.venueId, venue.id), gte(sessions.startsAt, new Date(now - 30 * DAY)), lt(sessions.startsAt, new Date(now + 180 * DAY))))
      .orderBy(asc(sessions.startsAt))
      .limit(2000);
    const cal = this.calendar(venue.name);
    for (const s of rows) {
      cal.createEvent({
        id: `session-${s.id}@diandan`,
        start: local(s.startsAt),
        end: local(s.endsAt),
        timezone: TIMEZONE,
        stamp: s.createdAt,
        summary: s.title,
        description: `${s.description}\n余位 ${Math.max(0, s.capacity - s.confirmed - s.held)} / ${s.capacity}`.trim(),
        location: `${venue.name}，${venue.address}`,
        status: s.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      });
    }
    return cal.toString();
  }

  feedKey(citizenId: string): string {
    return `${citizenId}.${createHmac('sha256', this.feedSecret).update(citizenId).digest('base64url').slice(0, 32)}`;
  }

  /** The citizen whose feed key this is (404 for anything else). */
  citizenOfKey(key: string): string {
    const [id, mac] = key.split('.');
    const expected = id && /^[0-9a-f-]{36}$/.test(id) ? this.feedKey(id).split('.')[1]! : '';
    if (!id || !mac || mac.length !== expected.length || !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) throw notFound(VenueProblems.CALENDAR_FEED_NOT_FOUND, 'No such calendar feed');
    return id;
  }

  /** A citizen's reservations (cancelled and released ones as CANCELLED), sessions from 30 days ago on. */
  async citizenFeed(citizen: Pick<Citizen, 'id'>): Promise<string> {
    const rows = await this.db
      .select({ r: reservations, s: sessions })
      .from(reservations)
      .innerJoin(sessions, eq(sessions.id, reservations.sessionId))
      .where(and(eq(reservations.citizenId, citizen.id), gte(sessions.startsAt, new Date(this.now().getTime() - 30 * DAY))))
      .orderBy(asc(sessions.startsAt))
      .limit(1000);
    const venueIds = [...new Set(rows.map(({ s }) => s.venueId))];
    const venues = new Map<string, { name: string; address: string }>();
    for (const id of venueIds) venues.set(id, await this.details.venue(id, {}));
    const cal = this.calendar('我的预约');
    for (const { r, s } of rows) {
      const v = venues.get(s.venueId)!;
      cal.createEvent({
        id: `reservation-${r.id}@diandan`,
        start: local(s.startsAt),
        end: local(s.endsAt),
        timezone: TIMEZONE,
        stamp: r.createdAt,
        summary: `${s.title}（${r.quantity} 位）`,
        // No door code here: feeds end up on third-party calendar servers.
        description: `预约 ${r.id.slice(0, 8)}\n签到 ${s.checkInOpensAt.toISOString()} – ${s.checkInClosesAt.toISOString()}`,
        location: `${v.name}，${v.address}`,
        status: r.status === 'cancelled' || r.status === 'no-show' || s.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      });
    }
    return cal.toString();
  }
}
