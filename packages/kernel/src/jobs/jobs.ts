/**
 * Durable background jobs, for every plugin through `ctx.jobs`.
 *
 * Jobs live in the database, through pg-boss (schema `pgboss`), on PostgreSQL and on
 * PGlite alike; what pg-boss does not keep — owner, region, progress, and a mirror of
 * state, attempts, result and error for `GET /v1/jobs` — is in `kernel.jobs`. A job is
 * defined in `init` (`define`, or `defineWorker` for CPU-heavy work in a worker thread),
 * and sent or scheduled from `ready` on. Durable hook subscriptions are delivered by the
 * same runner (see `hooks.ts`). `runner.ts` is the implementation; `JobRunner` below is
 * the contract `startKernel` uses.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Actor } from '../auth/actor.js';
import type { DatabaseConnection, Transaction } from '../db/database.js';
import type { DurableSubscription, Outbox } from '../hooks.js';
import type { PageOf, PageRequest } from '../http/pagination.js';

declare const jobTypes: unique symbol;

/** A job a plugin defined: send it, schedule it. Its queue is `<plugin>.<name>`. */
export interface JobDefinition<D, R> {
  readonly plugin: string;
  readonly name: string;
  readonly queue: string;
  readonly [jobTypes]?: (data: D) => R;
}

/** One run of a job, as its handler sees it. */
export interface JobRun<D> {
  readonly id: string;
  readonly queue: string;
  /** What `send` (or the schedule) gave, deep-frozen. */
  readonly data: Readonly<D>;
  /** 1 on the first run, 2 on the first retry, … */
  readonly attempt: number;
  /** Reports progress, 0–100, with an optional message; visible at `GET /v1/jobs/{id}`. */
  progress(percent: number, message?: string): Promise<void>;
  /** Aborted when the job is cancelled (in any process), expires, or this process stops. */
  readonly signal: AbortSignal;
  /** A logger with the plugin, the job's id and its queue. */
  readonly log: FastifyBaseLogger;
}

/** How a job is run. Whole numbers of seconds throughout. */
export interface JobOptions {
  /** Retries after a failure (default 3), waiting `retryDelaySeconds` (default 5), doubling each time (with jitter) unless `retryBackoff: false`. */
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  readonly retryBackoff?: boolean;
  /** A run that takes longer is failed (and retried): default 900 (15 minutes), at most 86 400. */
  readonly expireInSeconds?: number;
  /** How many runs of this job one process works on at once (default 1). */
  readonly concurrency?: number;
}

/** The worker-thread side of a CPU-heavy job: what its module's default export is given besides the data. */
export interface WorkerJobContext {
  /** Reports progress (posted to the main thread, which records it as `JobRun.progress` does). */
  progress(percent: number, message?: string): Promise<void>;
  /** Aborted when the job is cancelled or the process stops; the thread is terminated a second later. */
  readonly signal: AbortSignal;
}

/** A CPU-heavy job's module: its default export runs in a worker thread. */
export interface WorkerJobOptions extends JobOptions {
  /**
   * An ES module Node can import as it is (JavaScript, e.g. `new URL('./solve.worker.js', import.meta.url)`)
   * whose default export is `(data, context: WorkerJobContext) => result | Promise<result>`. Data and
   * result cross the thread boundary by structured clone.
   */
  readonly module: URL;
}

/** How a job is sent. */
export interface SendOptions {
  /** At most one queued, retrying or active run of this job with this key (a second send answers `null`); finished runs do not count. */
  readonly singletonKey?: string;
  /** Not before this time (a Date) or this many seconds from now; within a year (a job still queued after a year is dropped). */
  readonly startAfter?: Date | number;
  /** Who may see and cancel it over HTTP (besides administrators within its region). */
  readonly owner?: Actor;
  /** Sends inside this transaction: the job exists only if it commits (and no worker sees it before). */
  readonly tx?: Transaction;
}

/** How a job is scheduled. */
export interface ScheduleOptions {
  /** Tells several schedules of one job apart (default `''`): scheduling again with the same key replaces it. */
  readonly key?: string;
  /** The IANA time zone the cron expression is read in (default UTC). */
  readonly tz?: string;
}

/** `queued` (waiting, or deferred by `startAfter`), `active` (running), `retry` (failed, will run again), then one of the three final states. */
export type JobState = 'queued' | 'active' | 'retry' | 'completed' | 'failed' | 'cancelled';

/** A job as `GET /v1/jobs/{id}` shows it. */
export interface JobStatus {
  id: string;
  /** `<plugin>.<job name>`. */
  queue: string;
  /** The plugin that defined the job. */
  plugin: string;
  state: JobState;
  /** 0–100, as the handler last reported it. */
  progress: number;
  message: string | null;
  /** What a completed job returned (null otherwise). */
  result: unknown;
  /** Why the last attempt failed (null once the job completes). */
  error: string | null;
  /** Runs started so far (1 on the first run). */
  attempts: number;
  /** Who sent it; null for the platform's own jobs (schedules, sends without `owner`). */
  ownerId: string | null;
  createdAt: string;
  /** When the first run started. */
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * The job facilities of one plugin (`ctx.jobs`).
 *
 * Who may see a job (`get`, `list`, `cancel` — whichever plugin's `Jobs` is asked, over
 * every plugin's jobs): its owner (the same `userId`); a `city-admin` or
 * `district-admin` whose home subtree holds the owner's home region; and, for jobs
 * without an owner (schedules, system work), administrators at the top of the region
 * tree and system actors. To anyone else a job does not exist (404 `JOB_NOT_FOUND`).
 */
export interface Jobs {
  /**
   * Defines a job (in `init`); the handler's result (JSON) is kept as the job's result,
   * a thrown error fails the run (retried up to `retryLimit`). Handlers must tolerate
   * running twice: a process that dies mid-run leaves the job to be run again.
   */
  define<D extends object, R = unknown>(name: string, handler: (job: JobRun<D>) => Promise<R>, options?: JobOptions): JobDefinition<D, R>;
  /** Defines a CPU-heavy job whose handler runs off the event loop, in a worker thread (see `WorkerJobOptions`). */
  defineWorker<D extends object, R = unknown>(name: string, options: WorkerJobOptions): JobDefinition<D, R>;
  /**
   * Queues a run (any plugin's job); resolves to its id, or `null` when `singletonKey`
   * matched a queued, retrying or active one. From `ready` on, not in `init`.
   */
  send<D extends object>(job: JobDefinition<D, unknown>, data: D, options?: SendOptions): Promise<string | null>;
  /**
   * Runs `job` on a cron schedule (five fields, UTC unless `tz`), once per tick across all
   * processes; stored in the database, so scheduling again (every start) replaces it.
   * A tick is skipped while the previous tick's run of the same schedule is still queued
   * or running.
   */
  schedule<D extends object>(job: JobDefinition<D, unknown>, cron: string, data: D, options?: ScheduleOptions): Promise<void>;
  /** Removes the schedule of `job` with `key` (default `''`). */
  unschedule(job: JobDefinition<any, unknown>, key?: string): Promise<void>;
  /** A job, if `actor` may see it; else 404 `JOB_NOT_FOUND`. */
  get(id: string, ctx: { actor: Actor }): Promise<JobStatus>;
  /** The jobs `actor` may see, newest first. */
  list(filter: { queue?: string | undefined; state?: JobState | undefined }, page: PageRequest, ctx: { actor: Actor }): Promise<PageOf<JobStatus>>;
  /**
   * Cancels a queued, retrying or running job (a running one's `signal` is aborted, in
   * whichever process runs it); 409 `INVALID_TRANSITION` once it has finished.
   */
  cancel(id: string, ctx: { actor: Actor }): Promise<JobStatus>;
  /**
   * Resolves when the job has finished (completed, failed or cancelled), whoever may see
   * it; for seeds and tests. Rejects after `timeoutMs` (default 30 000).
   */
  wait(id: string, options?: { timeoutMs?: number }): Promise<JobStatus>;
}

/** The kernel's one job runner; `startKernel` opens it, hands each plugin its `Jobs`, starts it, stops it. */
export interface JobRunner extends Outbox {
  forPlugin(plugin: string): Jobs;
  /**
   * Creates (or updates) the queues of every job defined so far and of the durable
   * subscriptions. Jobs can be defined until then, and sent from then on; nothing is
   * worked until `startWorkers`.
   */
  start(subscriptions: readonly DurableSubscription[]): Promise<void>;
  /**
   * With `workers` on, starts working the queues `start` created (jobs and durable
   * deliveries): the kernel calls it once every plugin is ready, and the HTTP server
   * once its routes are ready too, so that jobs already due (on PGlite every query holds
   * the main thread) do not compete with the start. Safe to call twice.
   */
  startWorkers(): Promise<void>;
  /**
   * Stops taking work and waits for running handlers up to `shutdownTimeoutSeconds`;
   * then aborts their signals and terminates worker threads. Leaves no timer behind.
   * Safe to call twice.
   */
  stop(): Promise<void>;
}

/** The kernel config's `jobs` section (see `docs/deploying.md`, "Background jobs"). */
export interface JobsConfig {
  /** Run jobs and deliver durable events in this process (default true); false only queues them (a web-only process). */
  readonly workers: boolean;
  /** How often an idle worker looks for due jobs, retries and jobs sent by other processes (default 2, at least 0.5). */
  readonly pollingIntervalSeconds: number;
  /** How long `stop` waits for running handlers before aborting them (default 5, within the server's 10 s to shut down). */
  readonly shutdownTimeoutSeconds: number;
}

export interface JobRunnerOptions {
  readonly connection: DatabaseConnection;
  readonly log: FastifyBaseLogger;
  /** Defaults: workers on, polling every 2 s, 5 s to shut down. */
  readonly config?: Partial<JobsConfig> | undefined;
}

export { openJobRunner, resolveJobsConfig } from './runner.js';
