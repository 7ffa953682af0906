import type { Role } from './roles.js';

/**
 * Who is acting: a user, as established from a verified bearer token, or a plugin's
 * system actor (`systemActor`). `regionPath` is the materialised path of the home
 * region (`440100/440103/`), so "is this record in my subtree" is a prefix test.
 */
export interface Actor {
  /** The token's `sub`; `system:<plugin>` for a system actor. */
  readonly userId: string;
  readonly roles: readonly Role[];
  /** Home region code: the top of the subtree this actor may see and act in (empty: the whole tree). */
  readonly region: string;
  readonly regionPath: string;
  /** The ordering unit a `unit-operator` acts for. */
  readonly unitId?: string | undefined;
  /** The supplier a `supplier` acts for. */
  readonly supplierId?: string | undefined;
  /** For a system actor, the plugin it acts for. */
  readonly system?: string | undefined;
}

/** What a plugin's system actor is granted: roles, and optionally a home region, unit or supplier. */
export interface SystemGrant {
  readonly roles: readonly Role[];
  /** Home region code; without it the actor's scope is the whole region tree. */
  readonly region?: string | undefined;
  readonly unit?: string | undefined;
  readonly supplier?: string | undefined;
}

/**
 * The actor a plugin uses for its own work (jobs, seeds, reactions to events). It is
 * authorised exactly as a user holding the granted roles at the granted region would
 * be — nothing more — and audited as `system:<plugin>` with the role `system` added.
 * `regionPath` is the granted region's path (`''` for the whole tree).
 */
export function systemActor(plugin: string, grant: SystemGrant, regionPath = ''): Actor {
  return Object.freeze({
    userId: `system:${plugin}`,
    roles: Object.freeze([...grant.roles]),
    region: grant.region ?? '',
    regionPath,
    unitId: grant.unit,
    supplierId: grant.supplier,
    system: plugin,
  });
}

/** True when the actor holds at least one of `roles`. */
export function hasRole(actor: Actor, roles: readonly Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}
