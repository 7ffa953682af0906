import { and, desc, eq, sql } from 'drizzle-orm';
import { DomainError, decodeCursor, notFound, toPage, withinScope, type Actor, type Executor, type PageOf, type PageRequest } from '@diandan/kernel';
import { toCsv } from './csv.js';
import { renderHtml } from './html.js';
import type { Locale } from './i18n.js';
import { yearPeriod } from './period.js';
import type { ReportData, ReportingService } from './report.js';
import { reports } from './schema.js';

/** A stored annual report, as the API lists it (without its content). */
export interface StoredReport {
  id: string;
  regionCode: string;
  year: number;
  locale: Locale;
  status: 'queued' | 'ready' | 'failed';
  jobId: string | null;
  error: string | null;
  requestedBy: string;
  createdAt: string;
  finishedAt: string | null;
}

/** What the report job receives. */
export interface ReportJobData {
  reportId: string;
  /** Who asked: the job reads optional plugins' data as a system actor with these roles at this region. */
  roles: string[];
  region: string;
}

const LIST = 'reporting.reports.by-created-desc';

/** Stores generated reports and generates them (the job's work). */
export class ReportStore {
  constructor(private readonly db: Executor, private readonly reporting: ReportingService) {}

  async create(input: { regionCode: string; regionPath: string; year: number; locale: Locale }, actor: Actor, db: Executor = this.db): Promise<StoredReport> {
    const [row] = await db.insert(reports).values({ ...input, requestedBy: actor.userId }).returning();
    return toStored(row!);
  }

  async attachJob(id: string, jobId: string | null, db: Executor = this.db): Promise<void> {
    await db.update(reports).set({ jobId }).where(eq(reports.id, id));
  }

  /** Generates a report and stores its HTML, JSON and CSV; safe to run twice (it overwrites). */
  async generate(id: string, actor: Actor | undefined, progress: (percent: number, message: string) => Promise<void>): Promise<{ reportId: string; charts: number; bytes: number }> {
    const [row] = await this.db.select().from(reports).where(eq(reports.id, id));
    if (!row) throw new Error(`report ${id} does not exist`);
    try {
      const data = await this.reporting.reportData(this.db, { regionCode: row.regionCode, regionPath: row.regionPath, period: yearPeriod(row.year), locale: row.locale as Locale }, actor, progress);
      await progress(75, 'charts');
      const { html, charts } = await renderHtml(data, row.year);
      await progress(90, 'storing');
      await this.db.update(reports).set({ status: 'ready', html, data, csv: toCsv(data), error: null, finishedAt: sql`now()` }).where(eq(reports.id, id));
      return { reportId: id, charts: charts.length, bytes: html.length };
    } catch (error) {
      await this.db.update(reports).set({ status: 'failed', error: error instanceof Error ? error.message : String(error), finishedAt: sql`now()` }).where(eq(reports.id, id));
      throw error;
    }
  }

  async get(id: string, actor: Actor): Promise<StoredReport> {
    return toStored(await this.row(id, actor));
  }

  /** The report's HTML; 409 REPORT_NOT_READY while it is not ready. */
  async html(id: string, actor: Actor): Promise<string> {
    return (await this.ready(id, actor)).html!;
  }

  /** The report's data (the JSON download). */
  async data(id: string, actor: Actor): Promise<ReportData> {
    return (await this.ready(id, actor)).data as ReportData;
  }

  /** The report's figures as CSV. */
  async csv(id: string, actor: Actor): Promise<string> {
    return (await this.ready(id, actor)).csv!;
  }

  private async ready(id: string, actor: Actor) {
    const row = await this.row(id, actor);
    if (row.status !== 'ready') throw new DomainError('conflict', 'REPORT_NOT_READY', `Report ${id} is ${row.status}`, { status: row.status });
    return row;
  }

  /** Reports of the actor's subtree, newest first. */
  async list(input: { page: PageRequest }, actor: Actor): Promise<PageOf<StoredReport>> {
    const after = input.page.cursor ? (decodeCursor(input.page.cursor, LIST, ['text', 'uuid']) as [string, string]) : undefined;
    // The cursor keeps `created_at` as Postgres prints it (microseconds): a JavaScript
    // Date has milliseconds only, and reports created within one millisecond would be
    // skipped or repeated across pages.
    const rows = await this.db
      .select({ row: reports, at: sql<string>`${reports.createdAt}::text` })
      .from(reports)
      .where(and(withinScope(reports.regionPath, actor), after ? sql`(${reports.createdAt}, ${reports.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : undefined))
      .orderBy(desc(reports.createdAt), desc(reports.id))
      .limit(input.page.limit + 1);
    return toPage(rows, input.page.limit, LIST, (r) => [r.at, r.row.id], (r) => toStored(r.row));
  }

  private async row(id: string, actor: Actor) {
    const [row] = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.select().from(reports).where(and(eq(reports.id, id), withinScope(reports.regionPath, actor))) : [];
    if (!row) throw notFound('REPORT_NOT_FOUND', `Report ${id} does not exist`);
    return row;
  }
}

function toStored(r: Pick<typeof reports.$inferSelect, 'id' | 'regionCode' | 'year' | 'locale' | 'status' | 'jobId' | 'error' | 'requestedBy' | 'createdAt' | 'finishedAt'>): StoredReport {
  return {
    id: r.id,
    regionCode: r.regionCode,
    year: r.year,
    locale: r.locale as Locale,
    status: r.status as StoredReport['status'],
    jobId: r.jobId,
    error: r.error,
    requestedBy: r.requestedBy,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
