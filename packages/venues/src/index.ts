/** @diandan/venues — venues' rooms, equipment and opening hours, activity sessions, reservations without overbooking, waiting lists, check-in and utilisation. */
export { venues, venuesPlugin } from './plugin.js';
export { VenueDetails, type Profile, type Room, type Equipment, type EquipmentUse, type HoursChange, type NetworkRole } from './details.js';
export { hoursOn, openState, localParts, instantOf, weekdayOf, SHANGHAI_OFFSET_MS, type HoursRules, type DayHours, type OpenState, type WeeklyInterval, type Interval } from './hours.js';
export { CALENDAR_2026, CALENDAR_2027, SHIPPED_CALENDARS, type CalendarDay, type HolidayCalendar } from './calendar-data.js';
export { VenueProblems } from './problems.js';
