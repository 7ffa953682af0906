import { date, index, integer, jsonb, pgSchema, serial, smallint, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { kernelTables } from '@diandan/kernel';

/** Everything the venues plugin stores lives in its own Postgres schema; kernel venues are referenced, never written. */
export const venuesSchema = pgSchema('venues');

/** What the plugin knows about a kernel venue: its place in the main/branch network and its hours rules. */
export const profiles = venuesSchema.table('profiles', {
  venueId: uuid('venue_id').primaryKey().references(() => kernelTables.venues.id),
  /** `main` (总馆), `branch` (分馆) or null (not part of a network). */
  networkRole: text('network_role'),
  /** The main venue of a branch. */
  mainVenueId: uuid('main_venue_id'),
  description: text().notNull().default(''),
  /** On a public holiday: `closed`, `weekly` (its weekday's hours) or `sunday` (Sunday's hours). */
  onHoliday: text('on_holiday').notNull().default('sunday'),
  /** On a make-up working day (调休): `weekly` (its own weekday's hours) or `workday` (the hours of the weekday it stands in for). */
  onMakeUpDay: text('on_make_up_day').notNull().default('workday'),
  version: integer().notNull().default(1),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const rooms = venuesSchema.table(
  'rooms',
  {
    id: uuid().primaryKey().defaultRandom(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    name: text().notNull(),
    capacity: integer().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('rooms_venue_idx').on(t.venueId)],
);

export const equipment = venuesSchema.table(
  'equipment',
  {
    id: uuid().primaryKey().defaultRandom(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    roomId: uuid('room_id').references(() => rooms.id),
    name: text().notNull(),
    kind: text().notNull(),
    quantity: integer().notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('equipment_venue_idx').on(t.venueId)],
);

/** The equipment-use record (设施设备使用记录): who used what, when, for how long. */
export const equipmentUses = venuesSchema.table(
  'equipment_uses',
  {
    id: serial().primaryKey(),
    equipmentId: uuid('equipment_id').notNull().references(() => equipment.id),
    sessionId: uuid('session_id'),
    usedOn: date('used_on', { mode: 'string' }).notNull(),
    hours: integer().notNull(),
    purpose: text().notNull(),
    recordedBy: text('recorded_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('equipment_uses_equipment_idx').on(t.equipmentId, t.id)],
);

/** Weekly opening hours: one row per interval (a venue may open twice a day). Weekday 1 = Monday … 7 = Sunday. */
export const weeklyHours = venuesSchema.table(
  'weekly_hours',
  {
    id: serial().primaryKey(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    weekday: smallint().notNull(),
    opens: text().notNull(),
    closes: text().notNull(),
  },
  (t) => [index('weekly_hours_venue_idx').on(t.venueId, t.weekday)],
);

/** A dated exception: a closure (no intervals) or special hours, replacing every other rule on that day. */
export const hourExceptions = venuesSchema.table(
  'hour_exceptions',
  {
    id: serial().primaryKey(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    day: date({ mode: 'string' }).notNull(),
    /** `[["09:00","12:00"], …]`; empty: closed all day. */
    intervals: jsonb().$type<[string, string][]>().notNull(),
    reason: text().notNull(),
  },
  (t) => [uniqueIndex('hour_exceptions_venue_day_idx').on(t.venueId, t.day)],
);

/** The history of opening-hours changes (Hangzhou adjusts hours from usage data): before and after, who and why. */
export const hourChanges = venuesSchema.table(
  'hour_changes',
  {
    id: serial().primaryKey(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    changedBy: text('changed_by').notNull(),
    reason: text().notNull(),
    before: jsonb().notNull(),
    after: jsonb().notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('hour_changes_venue_idx').on(t.venueId, t.id)],
);

/** The deployment's holiday calendar, a year at a time: public holidays and make-up working days (调休). */
export const holidays = venuesSchema.table(
  'holidays',
  {
    day: date({ mode: 'string' }).primaryKey(),
    year: smallint().notNull(),
    /** `holiday` (放假) or `workday` (调休上班). */
    kind: text().notNull(),
    name: text().notNull(),
    /** A make-up working day works as this weekday (1–5); null: as a Monday–Friday day generally (Monday's hours). */
    asWeekday: smallint('as_weekday'),
  },
  (t) => [index('holidays_year_idx').on(t.year)],
);

/** Which years' calendars are in the table, and where they came from. */
export const holidayYears = venuesSchema.table('holiday_years', {
  year: smallint().primaryKey(),
  source: text().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** An activity session (活动场次): from a scheduled kernel order, or the venue's own programme. */
export const sessions = venuesSchema.table(
  'sessions',
  {
    id: uuid().primaryKey().defaultRandom(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    roomId: uuid('room_id').references(() => rooms.id),
    /** The venue's region (copied so that scope is checked in one query). */
    regionCode: text('region_code').notNull(),
    regionPath: text('region_path').notNull(),
    /** Set for a session made from a scheduled order: at most one session per order. */
    orderId: uuid('order_id').unique(),
    source: text().notNull(),
    title: text().notNull(),
    description: text().notNull().default(''),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    capacity: integer().notNull(),
    /** Seats of confirmed reservations (not cancelled). */
    confirmed: integer().notNull().default(0),
    /** Seats held for waiting-list offers not yet accepted or lapsed. */
    held: integer().notNull().default(0),
    /**
     * Entries of its waiting list still waiting (not yet offered seats), changed with them
     * under the session's lock: a booking reads it instead of counting the list (which grows
     * by one with every booking of a full session).
     */
    waiting: integer().notNull().default(0),
    bookingOpensAt: timestamp('booking_opens_at', { withTimezone: true }).notNull(),
    bookingClosesAt: timestamp('booking_closes_at', { withTimezone: true }).notNull(),
    checkInOpensAt: timestamp('check_in_opens_at', { withTimezone: true }).notNull(),
    checkInClosesAt: timestamp('check_in_closes_at', { withTimezone: true }).notNull(),
    /** Cancellation allowed until this many minutes before the start. */
    cancelUntilMinutes: integer('cancel_until_minutes').notNull(),
    /** Most seats one citizen may hold in this session (group bookings: `maxGroupSeats`). */
    perCitizenLimit: integer('per_citizen_limit').notNull(),
    audienceGroups: text('audience_groups').array().notNull(),
    /** A kernel category (`lecture`, `performance`, …): what a waiting list's unserved demand is for. Null: uncategorised (no demand signal). */
    category: text(),
    status: text().notNull().default('open'),
    version: integer().notNull().default(1),
    /** When the no-show sweep released this session's unclaimed seats (null: not yet). */
    noShowsReleasedAt: timestamp('no_shows_released_at', { withTimezone: true }),
    /** When the waiting list's unserved entries were counted (and signalled to the survey as demand) after booking closed. */
    demandSignalledAt: timestamp('demand_signalled_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sessions_venue_idx').on(t.venueId, t.startsAt), index('sessions_starts_idx').on(t.startsAt, t.id)],
);

/** A citizen known by a verified phone: a keyed hash to find them, the phone sealed, and its mask. */
export const citizens = venuesSchema.table('citizens', {
  id: uuid().primaryKey().defaultRandom(),
  phoneHash: text('phone_hash').notNull().unique(),
  phoneSealed: text('phone_sealed').notNull(),
  phoneMasked: text('phone_masked').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A one-time code sent to a phone: only its keyed hash is kept. */
export const otpChallenges = venuesSchema.table(
  'otp_challenges',
  {
    id: uuid().primaryKey().defaultRandom(),
    phoneHash: text('phone_hash').notNull(),
    phoneSealed: text('phone_sealed').notNull(),
    codeHash: text('code_hash').notNull(),
    attempts: integer().notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('otp_challenges_phone_idx').on(t.phoneHash, t.createdAt)],
);

/** A citizen's session token (given after a verified code): only its hash is kept. */
export const citizenTokens = venuesSchema.table('citizen_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  citizenId: uuid('citizen_id').notNull().references(() => citizens.id),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

/** A reservation: one or more seats of one session, all or nothing. */
export const reservations = venuesSchema.table(
  'reservations',
  {
    id: uuid().primaryKey().defaultRandom(),
    sessionId: uuid('session_id').notNull().references(() => sessions.id),
    citizenId: uuid('citizen_id').notNull().references(() => citizens.id),
    quantity: integer().notNull(),
    /** A family or school class booking together. */
    groupName: text('group_name'),
    /** `confirmed` → `checked-in` | `cancelled` | `no-show`. */
    status: text().notNull(),
    /** Random secret printed in the QR code. */
    code: text().notNull().unique(),
    /** Set when it came from a waiting-list offer. */
    waitlistEntryId: integer('waitlist_entry_id'),
    checkedInAt: timestamp('checked_in_at', { withTimezone: true }),
    checkedInBy: text('checked_in_by'),
    /** `online` (the door was connected) or `offline` (a signed ticket, reconciled later). */
    checkedInVia: text('checked_in_via'),
    /** The offline device that scanned it, when reconciled. */
    checkedInDevice: text('checked_in_device'),
    noShowAt: timestamp('no_show_at', { withTimezone: true }),
    /** When its holder was sent the reminder before the session (once per reservation). */
    remindedAt: timestamp('reminded_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('reservations_session_idx').on(t.sessionId, t.status), index('reservations_citizen_idx').on(t.citizenId, t.createdAt), index('reservations_no_show_idx').on(t.citizenId, t.noShowAt)],
);

/** A booking block after repeated no-shows: from when, until when, and which no-shows caused it. */
export const citizenBlocks = venuesSchema.table(
  'citizen_blocks',
  {
    id: serial().primaryKey(),
    citizenId: uuid('citizen_id').notNull().references(() => citizens.id),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    reason: text().notNull(),
    /** The no-show reservations that counted. */
    reservationIds: uuid('reservation_ids').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('citizen_blocks_citizen_idx').on(t.citizenId, t.endsAt)],
);

/** Offline scans uploaded by door devices, each kept with its outcome (conflicts are reported, never lost). */
export const offlineScans = venuesSchema.table(
  'offline_scans',
  {
    id: serial().primaryKey(),
    sessionId: uuid('session_id').notNull().references(() => sessions.id),
    reservationId: uuid('reservation_id').notNull(),
    deviceId: text('device_id').notNull(),
    scannedAt: timestamp('scanned_at', { withTimezone: true }).notNull(),
    /** `checked-in` or the refusal's problem code. */
    outcome: text().notNull(),
    uploadedBy: text('uploaded_by').notNull(),
    uploadedAt: timestamp('uploaded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('offline_scans_once_idx').on(t.reservationId, t.deviceId, t.scannedAt), index('offline_scans_session_idx').on(t.sessionId, t.id)],
);

/** A waiting-list entry; its id gives the arrival order. */
export const waitlist = venuesSchema.table(
  'waitlist',
  {
    id: serial().primaryKey(),
    sessionId: uuid('session_id').notNull().references(() => sessions.id),
    citizenId: uuid('citizen_id').notNull().references(() => citizens.id),
    quantity: integer().notNull(),
    /** `waiting` → `offered` → `accepted` | `lapsed`; `waiting`/`offered` → `left`. */
    status: text().notNull(),
    offerExpiresAt: timestamp('offer_expires_at', { withTimezone: true }),
    reservationId: uuid('reservation_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // A citizen's entries (their list, and the booking's duplicate check: a few rows, not the session's whole list).
  (t) => [index('waitlist_session_idx').on(t.sessionId, t.status, t.id), index('waitlist_offer_idx').on(t.status, t.offerExpiresAt), index('waitlist_citizen_idx').on(t.citizenId, t.sessionId)],
);

/** Orders already turned into sessions (or skipped), once per durable event. */
export const processedEvents = venuesSchema.table('processed_events', {
  eventId: text('event_id').primaryKey(),
  outcome: text().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});


/** A proposed change of a venue's weekly hours, from its utilisation (Hangzhou adjusts hours from usage); accepting it changes the hours through the history. */
export const hourProposals = venuesSchema.table(
  'hour_proposals',
  {
    id: serial().primaryKey(),
    venueId: uuid('venue_id').notNull().references(() => kernelTables.venues.id),
    /** The weekly hours proposed, whole (what `setWeekly` would store). */
    weekly: jsonb().$type<{ weekday: number; opens: string; closes: string }[]>().notNull(),
    /** Why, in words, and the figures it came from. */
    reason: text().notNull(),
    basis: jsonb().notNull(),
    /** The proposer: `venues` (the built-in rule) or the plugin whose filter replaced it. */
    proposedBy: text('proposed_by').notNull(),
    /** `open` → `accepted` | `dismissed`. */
    status: text().notNull().default('open'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    /** The hours change it became. */
    hourChangeId: integer('hour_change_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('hour_proposals_venue_idx').on(t.venueId, t.id)],
);
