/*
 * The job runner: pg-boss (schema `pgboss`) on the kernel's own database connection,
 * PostgreSQL or PGlite (see adapters.ts), plus the kernel's `kernel.jobs` table.
 *
 * Queues. Each job is a pg-boss queue `<plugin>.<name>` with the `exclusive` policy (a
 * unique index: at most one queued, retrying or active job per singleton key). A send
 * without `singletonKey` gets a key of its own (`id:<job id>`), so only the sends that
 * ask for it are deduplicated; a key from the caller is stored as `key:<key>`, a
 * schedule's runs as `schedule:<key>` (a tick is skipped while the last one runs).
 * Durable hook subscriptions are `standard` queues `events.<plugin>.<hook>.<name>`,
 * retried with exponential back-off up to the subscription's `retryLimit`, and then
 * copied to the dead-letter queue `events.dead-letters` (kept a year, worked by nobody:
 * pg-boss's `redrive` moves them back).
 *
 * Waking up. Every queue has `notify` on and pg-boss listens (LISTEN/NOTIFY works on
 * both drivers, in-process on PGlite): a job inserted — also inside a transaction, at
 * its commit — wakes the workers of every process at once. A send outside a
 * transaction also wakes this process's worker directly. Polling every
 * `pollingIntervalSeconds` remains the floor (retries and `startAfter` come due
 * without a notification).
 *
 * The mirror. `kernel.jobs` gets its row in the same transaction as pg-boss's job; the
 * handler wrapper records each start (attempts), progress, the result or the error.
 * Jobs pg-boss creates by itself (schedules) get their row when they start.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { PgBoss, type Db, type JobWithMetadata, type Queue } from 'pg-boss';
import type { Actor } from '../auth/actor.js';
import { hasRole } from '../auth/actor.js';
import { ADMIN_ROLES } from '../auth/roles.js';
import { withinScope } from '../auth/scope.js';
import { transaction, type Database, type Transaction } from '../db/database.js';
import { DomainError, ProblemCodes } from '../errors.js';
import { frozenCopy, type DurableDelivery, type DurableSubscription } from '../hooks.js';
import { decodeCursor, toPage } from '../http/pagination.js';
import { bossDatabase, PGBOSS_SCHEMA, transactionDatabase } from './adapters.js';
import type {
  JobDefinition,
  JobOptions,
  JobRun,
  JobRunner,
  JobRunnerOptions,
  Jobs,
  JobsConfig,
  JobState,
  JobStatus,
  ScheduleOptions,
  SendOptions,
  WorkerJobOptions,
} from './jobs.js';
import { jobs as jobsTable } from './schema.js';
import { ThreadRunner } from './threads.js';

/** Where durable deliveries that failed for good are kept. */
export const DEAD_LETTER_QUEUE = 'events.dead-letters';
/** The NOTIFY channel on which a cancellation reaches the process running the job. */
const CANCEL_CHANNEL = 'diandan_job_cancel';

const JOB_NAME = /^[a-z][a-z0-9-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FINISHED: readonly JobState[] = ['completed', 'failed', 'cancelled'];
const UNFINISHED: readonly JobState[] = ['queued', 'active', 'retry'];
const LIST = 'jobs.newest';
const MAX_MESSAGE = 1000;

// Durable deliveries: 1 s, 2 s, 4 s … (with jitter), at most 10 minutes apart.
const DELIVERY_RETRY_DELAY = 1;
const DELIVERY_RETRY_DELAY_MAX = 600;
const YEAR_SECONDS = 365 * 24 * 3600;

interface Definition {
  readonly plugin: string;
  readonly name: string;
  readonly queue: string;
  readonly options: Required<JobOptions>;
  readonly run: (run: JobRun<any>, data: unknown) => Promise<unknown>;
}

type Row = typeof jobsTable.$inferSelect;

/** The `jobs` section with the config schema's defaults filled in for the keys left out. */
export function resolveJobsConfig(config: Partial<JobsConfig> = {}): JobsConfig {
  return { workers: config.workers ?? true, pollingIntervalSeconds: config.pollingIntervalSeconds ?? 2, shutdownTimeoutSeconds: config.shutdownTimeoutSeconds ?? 5 };
}

/** Opens the runner: installs or migrates pg-boss's schema and starts its maintenance. Workers start with `start`. */
export async function openJobRunner(options: JobRunnerOptions): Promise<JobRunner> {
  const runner = new PgBossRunner(options, resolveJobsConfig(options.config));
  await runner.open();
  return runner;
}

class PgBossRunner implements JobRunner {
  readonly #db: Database;
  readonly #log: FastifyBaseLogger;
  readonly #config: JobsConfig;
  readonly #connection: JobRunnerOptions['connection'];
  readonly #boss: PgBoss;
  readonly #definitions = new Map<string, Definition>();
  /** Runs in progress in this process, by job id. */
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Callbacks waiting for a job of this process to finish (for `wait`). */
  readonly #finished = new Map<string, Set<() => void>>();
  readonly #threads = new ThreadRunner();
  /** The first worker of each queue this process works, for `notifyWorker`. */
  readonly #workers = new Map<string, string>();
  #started = false;
  #subscriptions: readonly DurableSubscription[] = [];
  /** The workers' start, once asked for (`startWorkers`). */
  #working: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(options: JobRunnerOptions, config: JobsConfig) {
    this.#connection = options.connection;
    this.#db = options.connection.db;
    this.#log = options.log;
    this.#config = config;
    const postgres = options.connection.driver === 'postgres';
    this.#boss = new PgBoss({
      db: bossDatabase(options.connection),
      schema: PGBOSS_SCHEMA,
      backend: postgres ? 'postgres' : 'pglite',
      useListenNotify: true,
      // The cron clock runs where jobs run; any process may store a schedule.
      schedule: config.workers,
      // The instance registry (pg-boss's `getInstances`) is for deployments of many processes.
      registerInstance: postgres,
    });
    this.#boss.on('error', (err) => this.#log.error({ err }, 'job runner error'));
    this.#boss.on('warning', (warning: { message: string; data?: unknown }) => this.#log.warn({ data: warning.data }, warning.message));
  }

  async open(): Promise<void> {
    const started = performance.now();
    try {
      await this.#boss.start();
    } catch (error) {
      // Whatever pg-boss started before failing (its timers) is stopped again.
      await this.#boss.stop({ graceful: false }).catch(() => {});
      throw error;
    }
    this.#log.debug({ ms: Math.round(performance.now() - started) }, 'pg-boss started');
  }

  forPlugin(plugin: string): Jobs {
    return {
      define: (name, handler, options) => this.#define(plugin, name, options ?? {}, (run) => handler(run)),
      defineWorker: (name, options: WorkerJobOptions) => {
        if (!(options?.module instanceof URL)) throw new TypeError(`plugin "${plugin}": job "${name}" needs \`module\`, a URL`);
        const { module, ...jobOptions } = options;
        return this.#define(plugin, name, jobOptions, (run, data) =>
          this.#threads.run(module, data, {
            signal: run.signal,
            progress: (percent, message) => run.progress(percent, message),
            onProgressError: (err) => run.log.warn({ err }, 'job progress not recorded'),
          }),
        );
      },
      send: (job, data, options) => this.#send(job, data, options ?? {}),
      schedule: (job, cron, data, options) => this.#schedule(job, cron, data, options ?? {}),
      unschedule: async (job, key) => {
        this.#definition(job);
        await this.#boss.unschedule(job.queue, key ?? '');
      },
      get: async (id, { actor }) => toStatus(await this.#visible(id, actor)),
      list: (filter, page, { actor }) => this.#list(filter, page, actor),
      cancel: (id, { actor }) => this.#cancel(id, actor),
      wait: (id, options) => this.#wait(id, options?.timeoutMs ?? 30_000),
    };
  }

  // ---- defining ----

  #define<D, R>(plugin: string, name: string, options: JobOptions, run: Definition['run']): JobDefinition<D, R> {
    const where = `plugin "${plugin}": job "${name}"`;
    if (!JOB_NAME.test(name)) throw new TypeError(`${where}: a job name is lower-case letters, digits and hyphens, starting with a letter`);
    if (this.#started) throw new Error(`${where}: jobs are defined in init(), before the kernel starts its job runner`);
    const queue = `${plugin}.${name}`;
    if (this.#definitions.has(queue)) throw new TypeError(`${where} is defined twice`);
    const resolved: Required<JobOptions> = {
      retryLimit: wholeNumber(where, 'retryLimit', options.retryLimit ?? 3, 0),
      retryDelaySeconds: wholeNumber(where, 'retryDelaySeconds', options.retryDelaySeconds ?? 5, 0),
      retryBackoff: options.retryBackoff ?? true,
      expireInSeconds: wholeNumber(where, 'expireInSeconds', options.expireInSeconds ?? 900, 1, 86_400),
      concurrency: wholeNumber(where, 'concurrency', options.concurrency ?? 1, 1, 100),
    };
    this.#definitions.set(queue, { plugin, name, queue, options: resolved, run });
    return Object.freeze({ plugin, name, queue }) as JobDefinition<D, R>;
  }

  #definition(job: JobDefinition<any, unknown>): Definition {
    const definition = this.#definitions.get(job?.queue);
    if (!definition) throw new TypeError(`No job "${job?.queue}" is defined in this deployment`);
    if (!this.#started) throw new Error(`Job "${job.queue}": jobs are sent and scheduled once the kernel has started (from ready() on, not in init())`);
    return definition;
  }

  // ---- starting and stopping ----

  async start(subscriptions: readonly DurableSubscription[]): Promise<void> {
    if (this.#started) throw new Error('the job runner is already started');
    this.#started = true;
    const queues: Queue[] = [
      { name: DEAD_LETTER_QUEUE, policy: 'standard', retentionSeconds: YEAR_SECONDS, deleteAfterSeconds: YEAR_SECONDS },
      ...[...this.#definitions.values()].map(
        (d): Queue => ({
          name: d.queue,
          policy: 'exclusive',
          retryLimit: d.options.retryLimit,
          retryDelay: d.options.retryDelaySeconds,
          retryBackoff: d.options.retryBackoff,
          expireInSeconds: d.options.expireInSeconds,
          // Queued (or deferred) up to a year; pg-boss's default is 14 days.
          retentionSeconds: YEAR_SECONDS,
          notify: true,
        }),
      ),
      ...subscriptions.map(
        (s): Queue => ({
          name: s.queue,
          policy: 'standard',
          retryLimit: s.retryLimit,
          retryDelay: DELIVERY_RETRY_DELAY,
          retryBackoff: true,
          retryDelayMax: DELIVERY_RETRY_DELAY_MAX,
          notify: true,
          deadLetter: DEAD_LETTER_QUEUE,
        }),
      ),
    ];
    await this.#ensureQueues(queues);
    this.#unlisten = await this.#connection.listen(CANCEL_CHANNEL, (id) => this.#running.get(id)?.controller.abort(cancelled()));
    this.#subscriptions = subscriptions;
  }

  startWorkers(): Promise<void> {
    if (!this.#started) return Promise.reject(new Error('the job runner starts its workers once it is started'));
    return (this.#working ??= this.#work(this.#subscriptions));
  }

  async #work(subscriptions: readonly DurableSubscription[]): Promise<void> {
    if (!this.#config.workers || this.#stopping) return;
    const polling = {
      pollingIntervalSeconds: this.#config.pollingIntervalSeconds,
      notifyPollingIntervalSeconds: this.#config.pollingIntervalSeconds,
      includeMetadata: true as const,
      batchSize: 1,
    };
    for (const d of this.#definitions.values()) {
      if (this.#stopping) return;
      const id = await this.#boss.work<unknown>(d.queue, { ...polling, localConcurrency: d.options.concurrency }, (batch) =>
        this.#runJob(d, batch[0] as JobWithMetadata<unknown>),
      );
      this.#workers.set(d.queue, id);
    }
    for (const s of subscriptions) {
      if (this.#stopping) return;
      const id = await this.#boss.work<DurableDelivery['data']>(s.queue, polling, (batch) =>
        this.#deliver(s, batch[0] as JobWithMetadata<DurableDelivery['data']>),
      );
      this.#workers.set(s.queue, id);
    }
  }

  /** Creates missing queues and brings existing ones to the options defined now (a queue's policy never changes). */
  async #ensureQueues(queues: readonly Queue[]): Promise<void> {
    const existing = new Map((await this.#boss.getQueues(queues.map((q) => q.name))).map((q) => [q.name, q]));
    for (const { name, policy, ...options } of queues) {
      const current = existing.get(name);
      if (!current) {
        await this.#boss.createQueue(name, { policy, ...options });
        continue;
      }
      if (current.policy !== policy) {
        this.#log.warn({ queue: name, policy: current.policy, expected: policy }, 'job queue has another policy than expected; keeping it');
      }
      const changed = Object.entries(options).some(([k, v]) => (current as unknown as Record<string, unknown>)[k] !== v);
      if (changed) await this.#boss.updateQueue(name, options);
    }
  }

  stop(): Promise<void> {
    return (this.#stopping ??= this.#stop());
  }

  async #stop(): Promise<void> {
    // Workers being started finish starting first (each sees #stopping and the rest are not started), then all stop.
    await this.#working?.catch(() => {});
    await this.#unlisten?.().catch((err: unknown) => this.#log.warn({ err }, 'job runner: unlisten failed'));
    const timeout = this.#config.shutdownTimeoutSeconds * 1000;
    // pg-boss bounds its wait for running jobs by `timeout`, but not each step of its stop
    // (a query that hangs on a sick database): the process still closes, a few seconds later.
    const stopped = await Promise.race([this.#boss.stop({ graceful: true, timeout, close: true }).then(() => true), delay(timeout + 5000).then(() => false)]);
    if (!stopped) this.#log.warn('job runner: pg-boss did not stop in time; closing without it');
    // Handlers still running after the grace period are told to stop, and threads ended.
    for (const { controller } of this.#running.values()) controller.abort(new Error('The process is stopping'));
    await this.#threads.terminateAll();
    await Promise.race([Promise.allSettled([...this.#running.values()].map((r) => r.done)), delay(1000)]);
  }

  // ---- sending ----

  async #send(job: JobDefinition<any, unknown>, data: object, options: SendOptions): Promise<string | null> {
    const definition = this.#definition(job);
    const id = randomUUID();
    const singletonKey = options.singletonKey !== undefined ? `key:${options.singletonKey}` : `id:${id}`;
    const startAfter = options.startAfter;
    const owner = options.owner;
    const write = async (tx: Transaction) => {
      const sent = await this.#boss.send(definition.queue, data, {
        id,
        singletonKey,
        ...(startAfter !== undefined ? { startAfter } : {}),
        db: transactionDatabase(tx),
      });
      if (sent === null) return null;
      await tx.insert(jobsTable).values({
        id,
        queue: definition.queue,
        plugin: definition.plugin,
        ownerId: owner?.userId ?? null,
        regionPath: owner?.regionPath || null,
      });
      return sent;
    };
    if (options.tx) return write(options.tx);
    const sent = await transaction(this.#db, write);
    if (sent) this.#wake(definition.queue);
    return sent;
  }

  async #schedule(job: JobDefinition<any, unknown>, cron: string, data: object, options: ScheduleOptions): Promise<void> {
    const definition = this.#definition(job);
    const key = options.key ?? '';
    await this.#boss.schedule(definition.queue, cron, data, {
      key,
      singletonKey: `schedule:${key}`,
      ...(options.tz ? { tz: options.tz } : {}),
    });
  }

  /** The outbox: durable deliveries, inside the change's transaction when there is one. */
  async write(deliveries: readonly DurableDelivery[], tx?: Parameters<JobRunner['write']>[1]): Promise<void> {
    if (!this.#started) throw new Error('durable events can be published once the kernel has started its job runner');
    const db: Db | undefined = tx ? transactionDatabase(tx) : undefined;
    for (const d of deliveries) {
      await this.#boss.send(d.queue, d.data, { retryLimit: d.retryLimit, ...(db ? { db } : {}) });
    }
    if (!tx) for (const d of deliveries) this.#wake(d.queue);
  }

  #wake(queue: string): void {
    const worker = this.#workers.get(queue);
    if (worker) this.#boss.notifyWorker(worker);
  }

  // ---- running ----

  async #runJob(definition: Definition, job: JobWithMetadata<unknown>): Promise<unknown> {
    const attempt = job.retryCount + 1;
    const controller = new AbortController();
    const onAbort = () => controller.abort(job.signal.reason);
    job.signal.addEventListener('abort', onAbort, { once: true });
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    this.#running.set(job.id, { controller, done });
    const log = this.#log.child({ plugin: definition.plugin, job: job.id, queue: definition.queue });
    let progress: Promise<void> = Promise.resolve();
    let final = false;
    try {
      const started = await this.#markActive(definition, job.id, attempt);
      if (!started) return null; // cancelled in the meantime
      const run: JobRun<any> = Object.freeze({
        id: job.id,
        queue: definition.queue,
        data: frozenCopy(job.data) as object,
        attempt,
        signal: controller.signal,
        log,
        progress: (percent: number, message?: string) => {
          const [p, m] = checkProgress(percent, message);
          // One after another, so that the last report wins.
          progress = progress.catch(() => {}).then(() => this.#recordProgress(job.id, p, m));
          return progress;
        },
      });
      try {
        const result = (await definition.run(run, job.data)) ?? null;
        await progress.catch(() => {});
        final = true;
        await this.#markFinished(job.id, 'completed', { result: toJson(result), error: null });
        return result;
      } catch (error) {
        await progress.catch(() => {});
        if (controller.signal.aborted && isCancellation(controller.signal.reason)) {
          final = true;
          throw error;
        }
        final = job.retryCount >= job.retryLimit;
        await this.#markFinished(job.id, final ? 'failed' : 'retry', { error: messageOf(error) });
        log[final ? 'error' : 'warn']({ err: error, attempt }, final ? 'job failed for good' : 'job failed; it will be retried');
        throw error;
      }
    } finally {
      job.signal.removeEventListener('abort', onAbort);
      this.#running.delete(job.id);
      release();
      if (final) this.#notifyFinished(job.id);
    }
  }

  async #deliver(subscription: DurableSubscription, job: JobWithMetadata<DurableDelivery['data']>): Promise<void> {
    const { eventId, hookId, payload } = job.data;
    const attempt = job.retryCount + 1;
    try {
      await subscription.handler(frozenCopy(payload) as never, { hookId, eventId, attempt });
    } catch (err) {
      const final = job.retryCount >= job.retryLimit;
      this.#log[final ? 'error' : 'warn'](
        { err, plugin: subscription.plugin, hook: hookId, eventId, attempt, queue: subscription.queue },
        final ? `durable event delivery failed for good; kept in ${DEAD_LETTER_QUEUE}` : 'durable event delivery failed; it will be retried',
      );
      throw err;
    }
  }

  /** Records a run's start (creating the row of a job pg-boss made itself); false if the job was cancelled meanwhile. */
  async #markActive(definition: Definition, id: string, attempt: number): Promise<boolean> {
    const rows = await this.#db
      .insert(jobsTable)
      .values({ id, queue: definition.queue, plugin: definition.plugin, state: 'active', attempts: attempt, startedAt: sql`now()` })
      .onConflictDoUpdate({
        target: jobsTable.id,
        set: { state: 'active', attempts: attempt, startedAt: sql`coalesce(${jobsTable.startedAt}, now())` },
        setWhere: sql`${jobsTable.state} <> 'cancelled'`,
      })
      .returning({ id: jobsTable.id });
    return rows.length > 0;
  }

  async #recordProgress(id: string, progress: number, message: string | null): Promise<void> {
    await this.#db
      .update(jobsTable)
      .set({ progress, message })
      .where(and(eq(jobsTable.id, id), eq(jobsTable.state, 'active')));
  }

  async #markFinished(id: string, state: JobState, values: { result?: unknown; error: string | null }): Promise<void> {
    await this.#db
      .update(jobsTable)
      .set({
        state,
        error: values.error,
        ...(values.result !== undefined ? { result: values.result as object } : {}),
        ...(state === 'completed' ? { progress: 100 } : {}),
        finishedAt: FINISHED.includes(state) ? sql`now()` : null,
      })
      .where(and(eq(jobsTable.id, id), inArray(jobsTable.state, UNFINISHED as JobState[])));
  }

  // ---- reading, cancelling, waiting ----

  async #visible(id: string, actor: Actor): Promise<Row> {
    const [row] = UUID.test(id)
      ? await this.#db
          .select()
          .from(jobsTable)
          .where(and(eq(jobsTable.id, id), visibleTo(actor)))
      : [];
    if (!row) throw new DomainError('not_found', ProblemCodes.JOB_NOT_FOUND, `Job ${id} does not exist`);
    return row;
  }

  async #list(filter: { queue?: string | undefined; state?: JobState | undefined }, page: { limit: number; cursor?: string | undefined }, actor: Actor) {
    const conditions: (SQL | undefined)[] = [visibleTo(actor)];
    if (filter.queue !== undefined) conditions.push(eq(jobsTable.queue, filter.queue));
    if (filter.state !== undefined) conditions.push(eq(jobsTable.state, filter.state));
    if (page.cursor) {
      const [at, id] = decodeCursor(page.cursor, LIST, ['text', 'uuid']);
      conditions.push(sql`(${jobsTable.createdAt}, ${jobsTable.id}) < (${at}::timestamptz, ${id}::uuid)`);
    }
    const rows = await this.#db
      .select({ row: jobsTable, at: sql<string>`${jobsTable.createdAt}::text` })
      .from(jobsTable)
      .where(and(...conditions))
      .orderBy(sql`${jobsTable.createdAt} desc, ${jobsTable.id} desc`)
      .limit(page.limit + 1);
    return toPage(rows, page.limit, LIST, (r) => [r.at, r.row.id], (r) => toStatus(r.row));
  }

  async #cancel(id: string, actor: Actor): Promise<JobStatus> {
    const row = await this.#visible(id, actor);
    if (FINISHED.includes(row.state as JobState)) {
      throw new DomainError('conflict', ProblemCodes.INVALID_TRANSITION, `Job ${id} has already finished (${row.state})`, { state: row.state });
    }
    await this.#boss.cancel(row.queue, id);
    const [updated] = await this.#db
      .update(jobsTable)
      .set({ state: 'cancelled', finishedAt: sql`now()` })
      .where(and(eq(jobsTable.id, id), inArray(jobsTable.state, UNFINISHED as JobState[])))
      .returning();
    if (!updated) {
      // It finished while we were cancelling it.
      const now = await this.#visible(id, actor);
      throw new DomainError('conflict', ProblemCodes.INVALID_TRANSITION, `Job ${id} has already finished (${now.state})`, { state: now.state });
    }
    // This process, at once; any other (and this one again, harmlessly) through NOTIFY.
    this.#running.get(id)?.controller.abort(cancelled());
    await this.#db.execute(sql`select pg_notify(${CANCEL_CHANNEL}, ${id})`);
    this.#notifyFinished(id);
    return toStatus(updated);
  }

  async #wait(id: string, timeoutMs: number): Promise<JobStatus> {
    const deadline = Date.now() + timeoutMs;
    // A start-up step (a seed in `ready`) waiting for a job would otherwise wait for workers that start after it.
    if (this.#started && !this.#working) void this.startWorkers().catch((err: unknown) => this.#log.error({ err }, 'job workers failed to start'));
    let pause = 25;
    for (;;) {
      const [row] = UUID.test(id) ? await this.#db.select().from(jobsTable).where(eq(jobsTable.id, id)) : [];
      if (!row) throw new DomainError('not_found', ProblemCodes.JOB_NOT_FOUND, `Job ${id} does not exist`);
      if (FINISHED.includes(row.state as JobState)) return toStatus(row);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Job ${id} did not finish within ${timeoutMs} ms (it is ${row.state})`);
      // Woken at once when this process finishes it; polled for the others.
      await new Promise<void>((resolve) => {
        const waiters = this.#finished.get(id) ?? new Set();
        const timer = setTimeout(done, Math.min(pause, left));
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
        this.#finished.set(id, waiters);
      });
      if (this.#finished.get(id)?.size === 0) this.#finished.delete(id);
      pause = Math.min(pause * 2, 500);
    }
  }

  #notifyFinished(id: string): void {
    for (const done of [...(this.#finished.get(id) ?? [])]) done();
  }
}

/**
 * Who may see a job: its owner; administrators whose subtree holds the job's region;
 * jobs without a region (no owner, or an owner whose scope is the whole tree) to
 * administrators at the top of the tree and to system actors.
 */
function visibleTo(actor: Actor): SQL {
  const admin = hasRole(actor, ADMIN_ROLES);
  const topLevel = actor.regionPath.split('/').filter(Boolean).length <= 1;
  return or(
    eq(jobsTable.ownerId, actor.userId),
    admin ? withinScope(jobsTable.regionPath, actor) : undefined,
    (admin && topLevel) || actor.system !== undefined ? isNull(jobsTable.regionPath) : undefined,
  )!;
}

function toStatus(row: Row): JobStatus {
  return {
    id: row.id,
    queue: row.queue,
    plugin: row.plugin,
    state: row.state as JobState,
    progress: row.progress,
    message: row.message,
    result: row.result ?? null,
    error: row.error,
    attempts: row.attempts,
    ownerId: row.ownerId,
    createdAt: iso(row.createdAt)!,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}

function iso(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function checkProgress(percent: number, message: string | undefined): [number, string | null] {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) throw new TypeError('progress() takes a number from 0 to 100');
  const p = Math.round(Math.min(100, Math.max(0, percent)));
  return [p, message === undefined || message === null ? null : String(message).slice(0, MAX_MESSAGE)];
}

function wholeNumber(where: string, key: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${where}: ${key} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`);
  }
  return value;
}

/** A handler's result as it is stored (JSON); undefined becomes null. */
function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, MAX_MESSAGE);
}

const CANCELLED = Symbol('job cancelled');

function cancelled(): Error {
  return Object.assign(new Error('The job was cancelled'), { [CANCELLED]: true });
}

function isCancellation(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && CANCELLED in reason;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
