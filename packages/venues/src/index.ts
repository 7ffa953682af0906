/** @diandan/venues — venues' rooms, equipment and opening hours, activity sessions, reservations without overbooking, waiting lists, check-in and utilisation. */
export { venues, venuesPlugin } from './plugin.js';
export { VenueDetails, type Profile, type Room, type Equipment, type EquipmentUse, type HoursChange, type NetworkRole } from './details.js';
export { hoursOn, openState, localParts, instantOf, weekdayOf, SHANGHAI_OFFSET_MS, type HoursRules, type DayHours, type OpenState, type WeeklyInterval, type Interval } from './hours.js';
export { CALENDAR_2026, CALENDAR_2027, SHIPPED_CALENDARS, type CalendarDay, type HolidayCalendar } from './calendar-data.js';
export { VenueProblems } from './problems.js';
export { DEVELOPMENT_CODE_MESSAGE } from './plugin.js';
export { SessionService, type Session, type SessionInput, type SessionDefaults } from './sessions.js';
export { CitizenService, normalisePhone, type Citizen, type OtpSender, type CitizenConfig } from './citizens.js';
export { ReservationService, reservationView, type Reservation, type WaitlistEntry, type BookingOutcome, type ReservationConfig } from './reservations.js';
export { SessionSchema, ReservationSchema, WaitlistEntrySchema } from './routes/sessions.js';
export { RoomSchema, EquipmentSchema, ProfileSchema, OpeningSchema, CalendarSchema } from './routes/details.js';
export { CheckInService, checkInWindow, refusalOf, type OfflineScan, type ScanResult, type Refusal } from './check-in.js';
export { NoShowService, type NoShowConfig, type Standing, type NoShow } from './no-shows.js';
export { CalendarFeeds, TIMEZONE } from './calendars.js';
export { UtilisationReport, figuresOf, type Figures, type Utilisation } from './utilisation.js';
export { TicketSigner, verifyTicket, TICKET_PREFIX, type TicketClaims, type TicketCheck } from './tickets.js';
export { ScanResultSchema } from './routes/door.js';
export { UtilisationSchema, FiguresSchema, StandingSchema } from './routes/reports.js';
