import type { Role } from './roles.js';

/**
 * Who is making a request, as established from a verified bearer token. `regionPath`
 * is the materialised path of the home region (`440100/440103/`), so "is this record
 * in my subtree" is a prefix test.
 */
export interface Actor {
  readonly userId: string;
  readonly roles: readonly Role[];
  /** Home region code: the top of the subtree this actor may see and act in. */
  readonly region: string;
  readonly regionPath: string;
  /** The ordering unit a `unit-operator` acts for. */
  readonly unitId?: string | undefined;
  /** The supplier a `supplier` acts for. */
  readonly supplierId?: string | undefined;
}

/** True when the actor holds at least one of `roles`. */
export function hasRole(actor: Actor, roles: readonly Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}

/** True when a record whose region has path `path` lies in the actor's subtree. */
export function inScope(actor: Actor, path: string): boolean {
  return path.startsWith(actor.regionPath);
}
