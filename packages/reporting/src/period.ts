import { DomainError } from '@diandan/kernel';

/** A reporting period: days from `from` (inclusive) to `to` (exclusive), ISO dates. */
export interface Period {
  readonly from: string;
  readonly to: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The period of a calendar year. */
export function yearPeriod(year: number): Period {
  return { from: `${year}-01-01`, to: `${year + 1}-01-01` };
}

/** Checks a period from a query: `year`, or `from` and `to` (exclusive); at most ten years. */
export function periodOf(query: { year?: number | undefined; from?: string | undefined; to?: string | undefined }): Period {
  if (query.year !== undefined) {
    if (query.from !== undefined || query.to !== undefined) throw new DomainError('bad_request', 'REPORTING_PERIOD_INVALID', 'Give either `year` or `from` and `to`, not both');
    return yearPeriod(query.year);
  }
  if (query.from === undefined || query.to === undefined) throw new DomainError('bad_request', 'REPORTING_PERIOD_INVALID', 'Give `year`, or both `from` and `to`');
  const { from, to } = query;
  if (!DAY.test(from) || !DAY.test(to) || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) {
    throw new DomainError('bad_request', 'REPORTING_PERIOD_INVALID', '`from` and `to` are dates (YYYY-MM-DD)');
  }
  if (to <= from) throw new DomainError('bad_request', 'REPORTING_PERIOD_INVALID', '`to` must lie after `from` (it is exclusive)');
  if (Date.parse(to) - Date.parse(from) > 3660 * 86_400_000) throw new DomainError('bad_request', 'REPORTING_PERIOD_INVALID', 'A period is at most ten years long');
  return { from, to };
}

/** The same period one year earlier (29 February becomes 28 February). */
export function yearEarlier(period: Period): Period {
  const shift = (day: string) => {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const last = new Date(Date.UTC(y - 1, m, 0)).getUTCDate();
    return `${y - 1}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
  };
  return { from: shift(period.from), to: shift(period.to) };
}

/** The months (`YYYY-MM`) a period touches, in order. */
export function monthsOf(period: Period): string[] {
  const months: string[] = [];
  let [y, m] = period.from.split('-').map(Number) as [number, number];
  const end = period.to.slice(0, 7);
  const lastDay = period.to.endsWith('-01') ? monthBefore(end) : end;
  for (;;) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    if (key > lastDay) break;
    months.push(key);
    m += 1;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return months;
}

function monthBefore(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
