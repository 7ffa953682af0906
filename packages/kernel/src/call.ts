import type { Actor } from './auth/actor.js';
import type { Executor, Transaction } from './db/database.js';

/**
 * The second argument of every kernel service method: `service.method(input, { actor, tx })`.
 * - `actor` is who acts (a token's user, or a plugin's `ctx.systemActor(...)`); the
 *   service authorises it as the HTTP API would.
 * - `tx`, when given, makes the call part of the caller's transaction: it commits or
 *   rolls back with the caller's other writes, and its events are published when the
 *   caller's transaction commits. Without it the service opens its own.
 * - `requestId` ties the audit record to a request.
 */
export interface CallContext {
  readonly actor: Actor;
  readonly tx?: Transaction | undefined;
  readonly requestId?: string | undefined;
}

/** The second argument of service methods that need no actor (region tree, reference data). */
export interface ReadOptions {
  readonly tx?: Executor | undefined;
}
