/**
 * China's public holidays and make-up working days (调休), as shipped data. A deployment
 * replaces a year with `PUT /v1/venue-holidays/{year}` when the State Council publishes
 * (or corrects) its notice; these tables are only the starting point.
 */

export interface CalendarDay {
  /** YYYY-MM-DD, Asia/Shanghai. */
  readonly day: string;
  /** `holiday`: a day off (放假); `workday`: a weekend day worked instead (调休上班). */
  readonly kind: 'holiday' | 'workday';
  readonly name: string;
  /** A make-up working day works as this weekday (1 = Monday … 5 = Friday); omitted: Monday. */
  readonly asWeekday?: number;
}

export interface HolidayCalendar {
  readonly year: number;
  /** Where the dates come from; `synthetic` when they are not (yet) an official notice. */
  readonly source: string;
  readonly days: readonly CalendarDay[];
}

const range = (from: string, to: string, name: string): CalendarDay[] => {
  const out: CalendarDay[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    out.push({ day: new Date(t).toISOString().slice(0, 10), kind: 'holiday', name });
  }
  return out;
};
const work = (day: string, name: string): CalendarDay => ({ day, kind: 'workday', name });

/**
 * 2026: the State Council General Office's notice on the 2026 holiday arrangement
 * (国务院办公厅关于2026年部分节假日安排的通知, 4 November 2025), checked against its text
 * as Xinhua published it that day: 33 days off in seven holidays and six make-up
 * working days (1月4日, 2月14日, 2月28日, 5月9日, 9月20日, 10月10日).
 */
export const CALENDAR_2026: HolidayCalendar = {
  year: 2026,
  source: '国务院办公厅关于2026年部分节假日安排的通知 (State Council General Office, 4 November 2025; as published by Xinhua)',
  days: [
    ...range('2026-01-01', '2026-01-03', '元旦'),
    work('2026-01-04', '元旦调休'),
    work('2026-02-14', '春节调休'),
    ...range('2026-02-15', '2026-02-23', '春节'),
    work('2026-02-28', '春节调休'),
    ...range('2026-04-04', '2026-04-06', '清明节'),
    ...range('2026-05-01', '2026-05-05', '劳动节'),
    work('2026-05-09', '劳动节调休'),
    ...range('2026-06-19', '2026-06-21', '端午节'),
    work('2026-09-20', '国庆节调休'),
    ...range('2026-09-25', '2026-09-27', '中秋节'),
    ...range('2026-10-01', '2026-10-07', '国庆节'),
    work('2026-10-10', '国庆节调休'),
  ],
};

/**
 * 2027: SYNTHETIC. The festival dates are the real lunar-calendar dates (春节 6 February,
 * 清明 5 April, 端午 9 June, 中秋 15 September), but the spans and make-up days are a
 * plausible arrangement made up for this package, not an official notice. Replace it
 * with the State Council's dates once published.
 */
export const CALENDAR_2027: HolidayCalendar = {
  year: 2027,
  source: 'synthetic: real festival dates, invented spans and make-up days (replace with the State Council notice)',
  days: [
    ...range('2027-01-01', '2027-01-03', '元旦'),
    ...range('2027-02-05', '2027-02-13', '春节'),
    work('2027-02-14', '春节调休'),
    work('2027-02-20', '春节调休'),
    ...range('2027-04-03', '2027-04-05', '清明节'),
    ...range('2027-05-01', '2027-05-05', '劳动节'),
    work('2027-04-25', '劳动节调休'),
    ...range('2027-06-09', '2027-06-11', '端午节'),
    work('2027-06-12', '端午节调休'),
    ...range('2027-09-15', '2027-09-17', '中秋节'),
    work('2027-09-18', '中秋节调休'),
    ...range('2027-10-01', '2027-10-07', '国庆节'),
    work('2027-09-26', '国庆节调休'),
    work('2027-10-09', '国庆节调休'),
  ],
};

export const SHIPPED_CALENDARS: readonly HolidayCalendar[] = [CALENDAR_2026, CALENDAR_2027];
