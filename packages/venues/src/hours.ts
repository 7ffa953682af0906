/**
 * Opening hours as data, and the pure rules that turn them into "open now" and the next
 * change. All local times are Asia/Shanghai, which has been UTC+8 all year since 1991
 * (no daylight saving), so a fixed offset is exact.
 */

export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** `[opens, closes]` as `HH:MM`, closes may be `24:00`. */
export type Interval = [string, string];

export interface WeeklyInterval {
  /** 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
  readonly opens: string;
  readonly closes: string;
}

export interface HoursRules {
  readonly weekly: readonly WeeklyInterval[];
  /** Dated exceptions, by day: the intervals (empty = closed) and why. */
  readonly exceptions: ReadonlyMap<string, { intervals: readonly Interval[]; reason: string }>;
  /** The holiday calendar, by day. */
  readonly calendar: ReadonlyMap<string, { kind: string; name: string; asWeekday: number | null }>;
  readonly onHoliday: 'closed' | 'weekly' | 'sunday';
  readonly onMakeUpDay: 'weekly' | 'workday';
}

export interface DayHours {
  readonly day: string;
  readonly weekday: number;
  readonly intervals: Interval[];
  /** Which rule decided: `weekly`, `exception`, `holiday`, `make-up-day`. */
  readonly rule: 'weekly' | 'exception' | 'holiday' | 'make-up-day';
  readonly note: string | null;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
export const isTime = (v: string): boolean => TIME.test(v);
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The Asia/Shanghai calendar day and minute of the day of an instant. */
export function localParts(at: Date): { day: string; minute: number; weekday: number } {
  const local = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  const day = local.toISOString().slice(0, 10);
  return { day, minute: local.getUTCHours() * 60 + local.getUTCMinutes(), weekday: weekdayOf(day) };
}

/** 1 = Monday … 7 = Sunday. */
export function weekdayOf(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

/** The instant of `HH:MM` on `day`, Asia/Shanghai. */
export function instantOf(day: string, hhmm: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_OFFSET_MS + minutesOf(hhmm) * 60_000);
}

export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

const weeklyOf = (rules: HoursRules, weekday: number): Interval[] =>
  rules.weekly
    .filter((w) => w.weekday === weekday)
    .map((w) => [w.opens, w.closes] as Interval)
    .sort((a, b) => minutesOf(a[0]) - minutesOf(b[0]));

/**
 * The hours of one day. Precedence: a dated exception; then the holiday calendar (a
 * public holiday follows `onHoliday`, a make-up working day `onMakeUpDay`); then the
 * weekly hours of the day's weekday.
 */
export function hoursOn(rules: HoursRules, day: string): DayHours {
  const weekday = weekdayOf(day);
  const exception = rules.exceptions.get(day);
  if (exception) return { day, weekday, intervals: [...exception.intervals], rule: 'exception', note: exception.reason };
  const entry = rules.calendar.get(day);
  if (entry?.kind === 'holiday') {
    const intervals = rules.onHoliday === 'closed' ? [] : weeklyOf(rules, rules.onHoliday === 'sunday' ? 7 : weekday);
    return { day, weekday, intervals, rule: 'holiday', note: entry.name };
  }
  if (entry?.kind === 'workday') {
    const intervals = weeklyOf(rules, rules.onMakeUpDay === 'workday' ? (entry.asWeekday ?? 1) : weekday);
    return { day, weekday, intervals, rule: 'make-up-day', note: entry.name };
  }
  return { day, weekday, intervals: weeklyOf(rules, weekday), rule: 'weekly', note: null };
}

export interface OpenState {
  readonly open: boolean;
  /** The next time the venue opens or closes, within two weeks; null if it never changes in that time. */
  readonly nextChange: { at: string; to: 'open' | 'closed' } | null;
  readonly today: DayHours;
}

/** Whether the venue is open at `at`, and when that next changes. */
export function openState(rules: HoursRules, at: Date): OpenState {
  const { day, minute } = localParts(at);
  const today = hoursOn(rules, day);
  const openAt = (d: DayHours, m: number) => d.intervals.some(([o, c]) => minutesOf(o) <= m && m < minutesOf(c));
  const open = openAt(today, minute);
  // Walk the boundaries of the next 14 days in order; the first one that flips the state is the change.
  for (let i = 0; i < 15; i++) {
    const d = i === 0 ? today : hoursOn(rules, addDays(day, i));
    const boundaries = d.intervals.flatMap(([o, c]) => [minutesOf(o), minutesOf(c)]).sort((a, b) => a - b);
    for (const b of [...new Set([0, ...boundaries])]) {
      if (i === 0 && b <= minute) continue;
      const state = b >= 1440 ? openAt(hoursOn(rules, addDays(d.day, 1)), 0) : openAt(d, b);
      if (state !== open) {
        const when = b >= 1440 ? instantOf(addDays(d.day, 1), '00:00') : instantOf(d.day, `${String(Math.floor(b / 60)).padStart(2, '0')}:${String(b % 60).padStart(2, '0')}`);
        return { open, nextChange: { at: when.toISOString(), to: state ? 'open' : 'closed' }, today };
      }
    }
  }
  return { open, nextChange: null, today };
}

/** Checks a set of intervals: valid times, each opening before it closes, no overlaps. Returns a problem or null. */
export function intervalsProblem(intervals: readonly Interval[]): string | null {
  for (const [o, c] of intervals) {
    if (!isTime(o) || !isTime(c) || o === '24:00') return `"${o}"–"${c}" is not a pair of HH:MM times`;
    if (minutesOf(o) >= minutesOf(c)) return `${o}–${c} closes before it opens`;
  }
  const sorted = [...intervals].sort((a, b) => minutesOf(a[0]) - minutesOf(b[0]));
  for (let i = 1; i < sorted.length; i++) if (minutesOf(sorted[i]![0]) < minutesOf(sorted[i - 1]![1])) return `${sorted[i - 1]!.join('–')} and ${sorted[i]!.join('–')} overlap`;
  return null;
}
