import { and, inArray, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import type { JobDefinition, Jobs } from './jobs.js';
import { jobs } from './schema.js';

/**
 * Forgets the records of finished jobs (`kernel.jobs`) after `days`: their state,
 * progress and result stay visible at `GET /v1/jobs/{id}` that long. pg-boss deletes its
 * own copy of a finished job after a week; this is the kernel's side. A daily job.
 */
export class JobRecordRetention {
  private readonly job: JobDefinition<Record<string, never>, { purged: number }>;

  constructor(
    private readonly db: Database,
    readonly days: number,
    private readonly runner: Jobs,
  ) {
    this.job = runner.define('purge-job-records', async () => ({ purged: await this.purge() }), { retryLimit: 2 });
  }

  /** Deletes the records of jobs that finished more than `days` ago; returns how many. */
  async purge(): Promise<number> {
    const deleted = await this.db
      .delete(jobs)
      .where(and(inArray(jobs.state, ['completed', 'failed', 'cancelled']), lt(jobs.finishedAt, sql`now() - make_interval(days => ${this.days}::integer)`)))
      .returning({ id: jobs.id });
    return deleted.length;
  }

  /** Schedules the daily purge (03:41 UTC, away from the top of the hour). */
  async schedule(): Promise<void> {
    await this.runner.schedule(this.job, '41 3 * * *', {});
  }
}
