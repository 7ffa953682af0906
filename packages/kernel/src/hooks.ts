/**
 * Typed hooks. The owner of an extension point exports a reference made by
 * `createHook` (an event), `createFilter` (a waterfall) or `createGuard` (a check a
 * transition must pass); handlers registered with `on` / `filter` / `guard` infer their
 * types from that reference, so a handler of the wrong shape does not compile.
 * Handlers run in plugin dependency order.
 *
 * Events report something that has happened. Their payload is a frozen copy: a
 * handler cannot change what other handlers, the caller or the HTTP response see.
 * - In-request handlers (`on(hook, handler)`) run after the change commits, without
 *   holding the response; at most once (a crash in between loses them). A handler
 *   that throws is logged; the others still run.
 * - Durable handlers (`on(hook, handler, { durable: true })`) get every event at least
 *   once: the delivery is written in the same transaction as the change and run by the
 *   job runner after the commit, retried with back-off until it succeeds. `meta.eventId`
 *   is the same on every attempt, so a handler can make itself idempotent.
 *
 * Filters compute a value the caller is about to use; guards decide whether a
 * transition may happen. Both run inside the caller's work (guards inside its
 * transaction). A `DomainError` thrown by a filter or guard handler reaches the client
 * as itself (its status and `code`); any other error stops the work with a
 * `HookHandlerError` naming the plugin (a 500).
 */
import { randomUUID } from 'node:crypto';
import type { Actor } from './auth/actor.js';
import { afterCommit, type Transaction } from './db/database.js';
import { DomainError } from './errors.js';

/** How an event's in-request handlers are run: one after another, or all at once. */
export type EventMode = 'series' | 'parallel';

declare const payloadType: unique symbol;
declare const filterTypes: unique symbol;
declare const subjectType: unique symbol;

/** A reference to an event hook whose handlers receive a `T`. */
export interface EventHook<T> {
  readonly kind: 'event';
  readonly id: string;
  readonly mode: EventMode;
  // Phantom member: makes `T` invariant so handlers must match exactly.
  readonly [payloadType]?: (payload: T) => T;
}

/** A reference to a filter that passes a `V` through every handler, with a read-only `C`. */
export interface FilterHook<V, C = undefined> {
  readonly kind: 'filter';
  readonly id: string;
  readonly [filterTypes]?: (value: V, context: C) => V;
}

/** A reference to a guard: handlers may refuse a transition of an `S` by throwing a `DomainError`. */
export interface GuardHook<S> {
  readonly kind: 'guard';
  readonly id: string;
  readonly [subjectType]?: (subject: S) => S;
}

/** What every event handler is told besides the payload. */
export interface HookMeta {
  /** The hook being run, e.g. `order.delivered`. */
  readonly hookId: string;
  /** The same for every handler and every delivery attempt of one event. */
  readonly eventId: string;
  /** 1 for the first delivery; higher on durable retries. */
  readonly attempt: number;
}

/** What a guard handler is given besides the subject: the transaction the transition runs in, and who fires it. */
export interface GuardContext {
  readonly tx: Transaction;
  readonly actor: Actor;
}

export type EventHandler<T> = (payload: Readonly<T>, meta: HookMeta) => void | Promise<void>;
export type FilterHandler<V, C> = (value: V, context: C) => V | Promise<V>;
export type GuardHandler<S> = (subject: Readonly<S>, context: GuardContext) => void | Promise<void>;

/** One subject of a batch guard check, with who fires its transition. */
export interface GuardItem<S> {
  readonly subject: Readonly<S>;
  readonly actor: Actor;
}

/**
 * A guard handler that checks many transitions at once (e.g. one query for a whole
 * batch of order placements). It returns, for each item in order, `undefined` to let
 * it pass or the `DomainError` refusing it; throwing fails every item of the batch.
 */
export type BatchGuardHandler<S> = (
  items: readonly GuardItem<S>[],
  context: { readonly tx: Transaction },
) => readonly (unknown | undefined)[] | Promise<readonly (unknown | undefined)[]>;

const HOOK_ID = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;

function checkId(id: string): void {
  if (!HOOK_ID.test(id)) {
    throw new TypeError(`Hook id "${id}" must look like "<plugin>.<event>", e.g. "order.submitted"`);
  }
}

/** Declares an event hook. `mode: 'parallel'` runs its in-request handlers concurrently. */
export function createHook<T>(id: string, options: { mode?: EventMode } = {}): EventHook<T> {
  checkId(id);
  return Object.freeze({ kind: 'event', id, mode: options.mode ?? 'series' });
}

/** Declares a filter (waterfall): each handler gets the previous handler's value. */
export function createFilter<V, C = undefined>(id: string): FilterHook<V, C> {
  checkId(id);
  return Object.freeze({ kind: 'filter', id });
}

/** Declares a guard: every handler must let the transition pass. */
export function createGuard<S>(id: string): GuardHook<S> {
  checkId(id);
  return Object.freeze({ kind: 'guard', id });
}

/** How an event subscription wants its events. */
export interface SubscriptionOptions {
  /** At-least-once delivery through the job runner, written in the change's transaction. */
  readonly durable?: boolean;
  /**
   * Names a durable subscription, unique per plugin and hook; it names the job queue
   * its deliveries wait in (default: the handler's position among the plugin's durable
   * handlers of that hook). Give one if you may reorder handlers while events are queued.
   */
  readonly name?: string;
  /** Durable only: how often a failing delivery is retried (default 10), with exponential back-off. */
  readonly retryLimit?: number;
}

/** A handler bound to its hook; plugins return a list of these from `hooks(ctx)`. */
export type HookRegistration =
  | { readonly hook: EventHook<any>; readonly handler: EventHandler<any>; readonly options?: SubscriptionOptions }
  | { readonly hook: FilterHook<any, any>; readonly handler: FilterHandler<any, any> }
  | { readonly hook: GuardHook<any>; readonly handler: GuardHandler<any> }
  | { readonly hook: GuardHook<any>; readonly handler: BatchGuardHandler<any>; readonly batch: true };

/** Subscribes to an event hook; `{ durable: true }` for at-least-once delivery. */
export function on<T>(hook: EventHook<T>, handler: NoInfer<EventHandler<T>>, options?: SubscriptionOptions): HookRegistration {
  return options ? { hook, handler, options } : { hook, handler };
}

/** Adds a step to a filter hook. */
export function filter<V, C>(hook: FilterHook<V, C>, handler: NoInfer<FilterHandler<V, C>>): HookRegistration {
  return { hook, handler };
}

/** Adds a check to a guard: throw a `DomainError` (your own `code`) to refuse the transition. */
export function guard<S>(hook: GuardHook<S>, handler: NoInfer<GuardHandler<S>>): HookRegistration {
  return { hook, handler };
}

/**
 * Adds a check that sees many transitions at once: where the kernel checks several
 * together (order placements written in one batch), the handler runs once for all of
 * them, so it can read what it needs with one query instead of one per order. Elsewhere
 * it runs with a single item. Return one refusal or `undefined` per item.
 */
export function guardBatch<S>(hook: GuardHook<S>, handler: NoInfer<BatchGuardHandler<S>>): HookRegistration {
  return { hook, handler, batch: true };
}

/** Thrown when a filter or guard handler fails with anything but a `DomainError`; names the plugin. */
export class HookHandlerError extends Error {
  override readonly name = 'HookHandlerError';
  readonly code = 'DIANDAN_ERR_HOOK_HANDLER_FAILED';
  constructor(
    readonly hookId: string,
    readonly plugin: string,
    cause: unknown,
  ) {
    super(`Handler of plugin "${plugin}" for hook "${hookId}" failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
  }
}

/** One failed event handler, as reported by `emit`. */
export interface HookFailure {
  readonly plugin: string;
  readonly error: unknown;
}

interface BoundHandler {
  readonly plugin: string;
  readonly handler: (...args: any[]) => unknown;
  /** A guard handler registered with `guardBatch`. */
  readonly batch?: boolean;
}

/** A durable subscription: the queue its deliveries wait in, and the handler that takes them. */
export interface DurableSubscription {
  readonly plugin: string;
  readonly hookId: string;
  /** Job queue name: `events.<plugin>.<hook id>.<name>`. */
  readonly queue: string;
  readonly retryLimit: number;
  readonly handler: EventHandler<any>;
}

/** One delivery to write with the change, for a durable subscription. */
export interface DurableDelivery {
  readonly queue: string;
  readonly retryLimit: number;
  readonly data: { readonly eventId: string; readonly hookId: string; readonly payload: unknown };
}

/** Where durable deliveries are written: inside the change's transaction, or (for `emit`) on their own. */
export interface Outbox {
  write(deliveries: readonly DurableDelivery[], tx?: Transaction): Promise<void>;
}

/** Minimal logger the bus needs (pino and Fastify's logger satisfy it). */
export interface HookLogger {
  error(obj: object, msg: string): void;
}

/** A deep-frozen copy of a payload: handlers see the event, not the caller's objects. */
export function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Runs handlers for hooks; built by the kernel from every enabled plugin's registrations. */
export class HookBus {
  readonly #handlers = new Map<string, BoundHandler[]>();
  readonly #durable = new Map<string, DurableSubscription[]>();
  readonly #running = new Set<Promise<unknown>>();
  readonly #log: HookLogger;
  #outbox: Outbox | undefined;

  constructor(log: HookLogger) {
    this.#log = log;
  }

  /** Adds a plugin's handlers; the kernel calls this in plugin dependency order. */
  register(plugin: string, registrations: readonly HookRegistration[]): void {
    for (const registration of registrations) {
      const { hook, handler } = registration;
      const options = 'options' in registration ? registration.options : undefined;
      if (hook.kind === 'event' && options?.durable) {
        const list = this.#durable.get(hook.id) ?? [];
        const name = options.name ?? String(list.filter((s) => s.plugin === plugin).length + 1);
        const queue = `events.${plugin}.${hook.id}.${name}`;
        if (list.some((s) => s.queue === queue)) {
          throw new TypeError(`Plugin "${plugin}" has two durable subscriptions to "${hook.id}" named "${name}"`);
        }
        list.push({ plugin, hookId: hook.id, queue, retryLimit: options.retryLimit ?? 10, handler: handler as EventHandler<any> });
        this.#durable.set(hook.id, list);
        continue;
      }
      const list = this.#handlers.get(hook.id) ?? [];
      list.push('batch' in registration ? { plugin, handler, batch: true } : { plugin, handler });
      this.#handlers.set(hook.id, list);
    }
  }

  /** The plugins with an in-request handler for `hook`, in the order they run. */
  handlersOf(hook: EventHook<any> | FilterHook<any, any> | GuardHook<any>): string[] {
    return (this.#handlers.get(hook.id) ?? []).map((h) => h.plugin);
  }

  /** True when `guard` has handlers (callers skip building its subject otherwise). */
  guarded(hook: GuardHook<any>): boolean {
    return (this.#handlers.get(hook.id)?.length ?? 0) > 0;
  }

  /** Every durable subscription, in registration order (the job runner takes their deliveries). */
  durableSubscriptions(): DurableSubscription[] {
    return [...this.#durable.values()].flat();
  }

  /** Where durable deliveries go; set by the kernel once the job runner is up. */
  useOutbox(outbox: Outbox): void {
    this.#outbox = outbox;
  }

  /**
   * Publishes an event of a change made in `tx`: durable deliveries are written in
   * `tx`; in-request handlers run once it commits, without holding the caller (see
   * `settled`). Nothing happens if the transaction rolls back.
   */
  async publish<T>(tx: Transaction, hook: EventHook<T>, payload: T): Promise<void> {
    const event = frozenCopy(payload);
    const eventId = randomUUID();
    await this.#writeDurable(hook, eventId, event, tx);
    if (!this.#handlers.has(hook.id)) return;
    afterCommit(tx, () => {
      const run = this.#dispatch(hook, event, { hookId: hook.id, eventId, attempt: 1 });
      this.#running.add(run);
      void run.finally(() => this.#running.delete(run));
    });
  }

  /**
   * Notifies every handler of `hook` now, for events that belong to no transaction
   * (`kernel.ready`); resolves once the in-request handlers are done, with their
   * failures. Durable subscribers get the event through the job runner.
   */
  async emit<T>(hook: EventHook<T>, payload: T): Promise<HookFailure[]> {
    const event = frozenCopy(payload);
    const eventId = randomUUID();
    await this.#writeDurable(hook, eventId, event);
    return this.#dispatch(hook, event, { hookId: hook.id, eventId, attempt: 1 });
  }

  /**
   * Resolves when every in-request handler started so far has finished (for tests and
   * shutdown) — true — or, given `timeoutMs`, false once that long has passed with some still
   * running (a shutdown does not wait for ever on a handler that hangs).
   */
  async settled(timeoutMs?: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = timeoutMs === undefined ? undefined : new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      while (this.#running.size > 0) {
        const all = Promise.allSettled([...this.#running]).then(() => true as const);
        if (!(await (timedOut ? Promise.race([all, timedOut]) : all))) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** How many in-request handlers are running now. */
  get running(): number {
    return this.#running.size;
  }

  /** Passes `value` through every handler of `hook` in order and returns the result. */
  async apply<V, C>(hook: FilterHook<V, C>, value: V, context: C): Promise<V> {
    let current = value;
    for (const { plugin, handler } of this.#handlers.get(hook.id) ?? []) {
      try {
        current = (await handler(current, context)) as V;
      } catch (error) {
        throw handlerError(hook.id, plugin, error);
      }
    }
    return current;
  }

  /**
   * Runs every handler of `hook` on a frozen copy of `subject`, in order; the first
   * refusal (a `DomainError`) is thrown as itself, so the client gets the plugin's
   * problem code. Call it inside the transition's transaction, before writing.
   */
  async check<S>(hook: GuardHook<S>, subject: S, context: GuardContext): Promise<void> {
    if (!this.#handlers.has(hook.id)) return;
    const [refusal] = await this.checkMany(hook, [{ subject, actor: context.actor }], context.tx);
    if (refusal !== undefined) throw refusal;
  }

  /**
   * Checks many transitions made in one transaction: each handler in order, batch
   * handlers once for the items still passing, the others once per item (concurrently
   * when `concurrent`, e.g. on PostgreSQL where queries share the connection's
   * pipeline). Returns each item's refusal, or `undefined` where every handler let it pass.
   */
  async checkMany<S>(
    hook: GuardHook<S>,
    items: readonly { subject: S; actor: Actor }[],
    tx: Transaction,
    options: { concurrent?: boolean } = {},
  ): Promise<unknown[]> {
    const refusals: unknown[] = items.map(() => undefined);
    const handlers = this.#handlers.get(hook.id);
    if (!handlers) return refusals;
    const frozen: GuardItem<S>[] = items.map(({ subject, actor }) => ({ subject: frozenCopy(subject), actor }));
    for (const { plugin, handler, batch } of handlers) {
      const open = frozen.flatMap((_, i) => (refusals[i] === undefined ? [i] : []));
      if (open.length === 0) break;
      if (batch) {
        let answers: readonly unknown[];
        try {
          answers = await (handler as BatchGuardHandler<S>)(open.map((i) => frozen[i]!), { tx });
        } catch (error) {
          const failure = handlerError(hook.id, plugin, error);
          for (const i of open) refusals[i] = failure;
          continue;
        }
        if (!Array.isArray(answers) || answers.length !== open.length) {
          const failure = handlerError(hook.id, plugin, new TypeError(`a batch guard must return one answer per item (${open.length}), got ${Array.isArray(answers) ? answers.length : typeof answers}`));
          for (const i of open) refusals[i] = failure;
          continue;
        }
        open.forEach((i, k) => {
          if (answers[k] !== undefined) refusals[i] = handlerError(hook.id, plugin, answers[k]);
        });
        continue;
      }
      const one = async (i: number) => {
        try {
          await handler(frozen[i]!.subject, { tx, actor: frozen[i]!.actor });
        } catch (error) {
          refusals[i] = handlerError(hook.id, plugin, error ?? new Error('the guard refused without saying why'));
        }
      };
      if (options.concurrent) await Promise.all(open.map(one));
      else for (const i of open) await one(i);
    }
    return refusals;
  }

  async #writeDurable(hook: EventHook<any>, eventId: string, payload: unknown, tx?: Transaction): Promise<void> {
    const subscriptions = this.#durable.get(hook.id);
    if (!subscriptions?.length) return;
    if (!this.#outbox) throw new Error(`durable subscribers of "${hook.id}" exist but the job runner is not started`);
    await this.#outbox.write(
      subscriptions.map((s) => ({ queue: s.queue, retryLimit: s.retryLimit, data: { eventId, hookId: hook.id, payload } })),
      tx,
    );
  }

  async #dispatch(hook: EventHook<any>, payload: unknown, meta: HookMeta): Promise<HookFailure[]> {
    const handlers = this.#handlers.get(hook.id) ?? [];
    const failures: HookFailure[] = [];
    const run = async ({ plugin, handler }: BoundHandler) => {
      try {
        await handler(payload, meta);
      } catch (error) {
        failures.push({ plugin, error });
        this.#log.error({ err: error, hook: hook.id, plugin, eventId: meta.eventId }, `hook handler failed`);
      }
    };
    if (hook.mode === 'parallel') {
      await Promise.all(handlers.map(run));
    } else {
      for (const h of handlers) await run(h);
    }
    return failures;
  }
}

/** A refusal passes through as itself; anything else names the plugin whose handler broke. */
function handlerError(hookId: string, plugin: string, error: unknown): Error {
  return error instanceof DomainError ? error : new HookHandlerError(hookId, plugin, error);
}
