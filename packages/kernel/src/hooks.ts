/**
 * Typed hooks. The owner of an extension point exports a reference made by
 * `createHook` (an event) or `createFilter` (a waterfall); handlers registered with
 * `on` / `filter` infer their types from that reference, so a handler of the wrong
 * shape does not compile. Handlers run in plugin dependency order.
 *
 * When a handler throws:
 * - event handlers: the error is logged with the hook id and the plugin, the
 *   remaining handlers still run, and `emit` resolves with the list of failures.
 *   An event reports something that has already happened; one plugin's bug must not
 *   undo it or starve the other listeners.
 * - filter handlers: the filter stops and `apply` rejects with a `HookHandlerError`
 *   naming the plugin. A filter computes a value the caller is about to use; going on
 *   with a half-filtered value would be silently wrong.
 */

/** How an event's handlers are run: one after another, or all at once. */
export type EventMode = 'series' | 'parallel';

declare const payloadType: unique symbol;
declare const filterTypes: unique symbol;

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

/** What every event handler is told besides the payload. */
export interface HookMeta {
  /** The hook being run, e.g. `kernel.regions.imported`. */
  readonly hookId: string;
}

export type EventHandler<T> = (payload: T, meta: HookMeta) => void | Promise<void>;
export type FilterHandler<V, C> = (value: V, context: C) => V | Promise<V>;

const HOOK_ID = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;

function checkId(id: string): void {
  if (!HOOK_ID.test(id)) {
    throw new TypeError(`Hook id "${id}" must look like "<plugin>.<event>", e.g. "order.submitted"`);
  }
}

/** Declares an event hook. `mode: 'parallel'` runs its handlers concurrently. */
export function createHook<T>(id: string, options: { mode?: EventMode } = {}): EventHook<T> {
  checkId(id);
  return Object.freeze({ kind: 'event', id, mode: options.mode ?? 'series' });
}

/** Declares a filter (waterfall): each handler gets the previous handler's value. */
export function createFilter<V, C = undefined>(id: string): FilterHook<V, C> {
  checkId(id);
  return Object.freeze({ kind: 'filter', id });
}

/** A handler bound to its hook; plugins return a list of these from `hooks(ctx)`. */
export type HookRegistration =
  | { readonly hook: EventHook<any>; readonly handler: EventHandler<any> }
  | { readonly hook: FilterHook<any, any>; readonly handler: FilterHandler<any, any> };

/** Subscribes to an event hook. */
export function on<T>(hook: EventHook<T>, handler: NoInfer<EventHandler<T>>): HookRegistration {
  return { hook, handler };
}

/** Adds a step to a filter hook. */
export function filter<V, C>(hook: FilterHook<V, C>, handler: NoInfer<FilterHandler<V, C>>): HookRegistration {
  return { hook, handler };
}

/** Thrown by `apply` when a filter handler fails; names the plugin that registered it. */
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
}

/** Minimal logger the bus needs (pino and Fastify's logger satisfy it). */
export interface HookLogger {
  error(obj: object, msg: string): void;
}

/** Runs handlers for hooks; built by the kernel from every enabled plugin's registrations. */
export class HookBus {
  readonly #handlers = new Map<string, BoundHandler[]>();
  readonly #log: HookLogger;

  constructor(log: HookLogger) {
    this.#log = log;
  }

  /** Adds a plugin's handlers; the kernel calls this in plugin dependency order. */
  register(plugin: string, registrations: readonly HookRegistration[]): void {
    for (const { hook, handler } of registrations) {
      const list = this.#handlers.get(hook.id) ?? [];
      list.push({ plugin, handler });
      this.#handlers.set(hook.id, list);
    }
  }

  /** The plugins with a handler for `hook`, in the order they run. */
  handlersOf(hook: EventHook<any> | FilterHook<any, any>): string[] {
    return (this.#handlers.get(hook.id) ?? []).map((h) => h.plugin);
  }

  /** Notifies every handler of `hook`; never rejects (see the module comment). */
  async emit<T>(hook: EventHook<T>, payload: T): Promise<HookFailure[]> {
    const handlers = this.#handlers.get(hook.id) ?? [];
    const meta: HookMeta = { hookId: hook.id };
    const failures: HookFailure[] = [];
    const run = async ({ plugin, handler }: BoundHandler) => {
      try {
        await handler(payload, meta);
      } catch (error) {
        failures.push({ plugin, error });
        this.#log.error({ err: error, hook: hook.id, plugin }, `hook handler failed`);
      }
    };
    if (hook.mode === 'parallel') {
      await Promise.all(handlers.map(run));
    } else {
      for (const h of handlers) await run(h);
    }
    return failures;
  }

  /** Passes `value` through every handler of `hook` in order and returns the result. */
  async apply<V, C>(hook: FilterHook<V, C>, value: V, context: C): Promise<V> {
    let current = value;
    for (const { plugin, handler } of this.#handlers.get(hook.id) ?? []) {
      try {
        current = (await handler(current, context)) as V;
      } catch (error) {
        throw new HookHandlerError(hook.id, plugin, error);
      }
    }
    return current;
  }
}
