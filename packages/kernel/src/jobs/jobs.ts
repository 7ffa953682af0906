/**
 * Durable background jobs, for every plugin through `ctx.jobs`.
 *
 * INTERFACE ONLY — the runner (pg-boss on PostgreSQL and on PGlite) is being built in
 * this folder; `JobRunner` below is the contract `startKernel` uses.
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
  readonly data: Readonly<D>;
  /** 1 on the first run, 2 on the first retry, … */
  readonly attempt: number;
  /** Reports progress, 0–100, with an optional message; visible at `GET /v1/jobs/{id}`. */
  progress(percent: number, message?: string): Promise<void>;
  /** Aborted when the job is cancelled or the process stops. */
  readonly signal: AbortSignal;
  readonly log: FastifyBaseLogger;
}

/** How a job is run. */
export interface JobOptions {
  /** Retries after a failure (default 3), waiting `retryDelaySeconds` (default 5), doubling each time unless `retryBackoff: false`. */
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  readonly retryBackoff?: boolean;
  /** A run that takes longer is failed (and retried): default 15 minutes. */
  readonly expireInSeconds?: number;
  /** How many runs of this job one process works on at once (default 1). */
  readonly concurrency?: number;
}

/** A CPU-heavy job's module: its default export runs in a worker thread. */
export interface WorkerJobOptions extends JobOptions {
  /** The module (e.g. `new URL('./solve.worker.js', import.meta.url)`) whose default export is `(data, { progress }) => result`. */
  readonly module: URL;
}

/** How a job is sent. */
export interface SendOptions {
  /** At most one queued or active job with this key (a second send answers `null`). */
  readonly singletonKey?: string;
  /** Not before this time (a Date) or this many seconds from now. */
  readonly startAfter?: Date | number;
  /** Who may see and cancel it over HTTP (besides administrators within its region). */
  readonly owner?: Actor;
  /** Sends inside this transaction: the job exists only if it commits. */
  readonly tx?: Transaction;
}

export type JobState = 'queued' | 'active' | 'retry' | 'completed' | 'failed' | 'cancelled';

/** A job as `GET /v1/jobs/{id}` shows it. */
export interface JobStatus {
  id: string;
  queue: string;
  plugin: string;
  state: JobState;
  progress: number;
  message: string | null;
  result: unknown;
  error: string | null;
  attempts: number;
  ownerId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The job facilities of one plugin (`ctx.jobs`). */
export interface Jobs {
  /** Defines a job (in `init`); the handler's result is kept as the job's result. */
  define<D extends object, R = unknown>(name: string, handler: (job: JobRun<D>) => Promise<R>, options?: JobOptions): JobDefinition<D, R>;
  /** Defines a CPU-heavy job whose handler runs off the event loop, in a worker thread. */
  defineWorker<D extends object, R = unknown>(name: string, options: WorkerJobOptions): JobDefinition<D, R>;
  /** Queues a run; resolves to its id, or `null` when `singletonKey` matched a queued or active one. */
  send<D extends object>(job: JobDefinition<D, unknown>, data: D, options?: SendOptions): Promise<string | null>;
  /** Runs `job` on a cron schedule (UTC unless `tz`), once per tick across all processes. */
  schedule<D extends object>(job: JobDefinition<D, unknown>, cron: string, data: D, options?: { key?: string; tz?: string }): Promise<void>;
  unschedule(job: JobDefinition<any, unknown>, key?: string): Promise<void>;
  /** A job, if `actor` may see it (its owner, or an administrator within its region). */
  get(id: string, ctx: { actor: Actor }): Promise<JobStatus>;
  list(filter: { queue?: string; state?: JobState }, page: PageRequest, ctx: { actor: Actor }): Promise<PageOf<JobStatus>>;
  cancel(id: string, ctx: { actor: Actor }): Promise<JobStatus>;
  /** Resolves when the job has finished (completed, failed or cancelled); for seeds and tests. */
  wait(id: string, options?: { timeoutMs?: number }): Promise<JobStatus>;
}

/** The kernel's one job runner; `startKernel` opens it, hands each plugin its `Jobs`, starts it, stops it. */
export interface JobRunner extends Outbox {
  forPlugin(plugin: string): Jobs;
  /** Creates queues (jobs defined so far and durable subscriptions), starts workers and schedules. */
  start(subscriptions: readonly DurableSubscription[]): Promise<void>;
  stop(): Promise<void>;
}

export interface JobRunnerOptions {
  readonly connection: DatabaseConnection;
  readonly log: FastifyBaseLogger;
}

export { openJobRunner } from './memory-runner.js';
