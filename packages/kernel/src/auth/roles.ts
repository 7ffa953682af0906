import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { OpenList, type ListEntry } from '../plugin/lists.js';

/**
 * The roles every deployment has. Staff roles act within their home region's subtree
 * and are signed at one region level each (see `RoleRegistry.levelOf`); `unit-operator`
 * acts for the unit in its token, `supplier` for its supplier record wherever it
 * delivers, `reviewer` reviews the whole city's product library. Citizens carry no
 * token: they only reach anonymous routes.
 */
export const BUILTIN_ROLES = [
  { key: 'city-admin', name: '市级管理员', nameEn: 'City administrator' },
  { key: 'district-admin', name: '区级管理员', nameEn: 'District administrator' },
  { key: 'street-operator', name: '街道（镇）操作员', nameEn: 'Street (town) operator' },
  { key: 'community-operator', name: '社区（村）操作员', nameEn: 'Community (village) operator' },
  { key: 'unit-operator', name: '点单单位操作员', nameEn: 'Ordering-unit operator' },
  { key: 'supplier', name: '文化供应商', nameEn: 'Cultural supplier' },
  { key: 'reviewer', name: '产品审核员', nameEn: 'Product reviewer' },
] as const satisfies readonly ListEntry[];

/** The keys of the built-in roles. */
export const ROLES = BUILTIN_ROLES.map((r) => r.key);

/** A built-in role. */
export type BuiltinRole = (typeof BUILTIN_ROLES)[number]['key'];

/**
 * A role a token can carry: a built-in one, or one the deployment or a plugin added
 * (`contributes.roles`). Plain strings so plugins can name their own; the registry
 * decides which are known.
 */
export type Role = BuiltinRole | (string & {});

/** True for the built-in roles (a registry knows the deployment's others). */
export function isRole(value: unknown): value is BuiltinRole {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that administer a region (and may read its audit log). */
export const ADMIN_ROLES: readonly Role[] = ['city-admin', 'district-admin'];

/** Roles of staff who operate within a region: they order, approve and manage units and venues. */
export const REGION_STAFF: readonly Role[] = ['city-admin', 'district-admin', 'street-operator', 'community-operator'];

/** The level each staff role is signed at by default: by level name, or by depth when the deployment names it otherwise. */
const DEFAULT_LEVELS: Record<string, { name: string | null; depth: number }> = {
  'city-admin': { name: null, depth: 0 },
  'district-admin': { name: 'district', depth: 1 },
  'street-operator': { name: 'street', depth: 2 },
  'community-operator': { name: 'community', depth: 3 },
};

/** A role of the deployment, with the region level its tokens must be signed at (if any). */
export interface RoleEntry extends ListEntry {
  readonly level?: string | undefined;
}

/**
 * The deployment's roles: the built-in ones, the deployment's `kernel.roles` and each
 * plugin's `contributes.roles`. A token's unknown roles are ignored (a token may carry
 * roles meant for other systems); a token with no known role is refused.
 *
 * The level rule: a role with a level may only be signed at a region of that level —
 * a `street-operator` token names a street, a `district-admin` token a district. The
 * built-in staff roles take the level of the same name (`city-admin` the top level);
 * a deployment whose levels are named otherwise falls back to the level at the same
 * depth, or sets `kernel.roleLevels`.
 */
export class RoleRegistry {
  readonly list = new OpenList<RoleEntry>('role');
  readonly #levels = new Map<string, string>();

  constructor(
    private readonly levels: readonly string[],
    overrides: Readonly<Record<string, string>> = {},
  ) {
    this.list.add('kernel', BUILTIN_ROLES, 'roles');
    for (const [role, { name, depth }] of Object.entries(DEFAULT_LEVELS)) {
      const level = overrides[role] ?? (name && levels.includes(name) ? name : levels[depth]);
      if (level) this.#levels.set(role, level);
    }
    for (const [role, level] of Object.entries(overrides)) {
      if (!this.list.has(role)) {
        throw new DiandanStartupError(StartupErrorCodes.PLUGIN_CONFIG_INVALID, `plugin "kernel": config.roleLevels.${role}: not a built-in role`, {
          plugin: 'kernel',
          path: `config.roleLevels.${role}`,
        });
      }
      this.checkLevel(level, 'kernel', `config.roleLevels.${role}`);
    }
  }

  /** Adds roles of the deployment or a plugin; a role's `level` must be one of the deployment's. */
  add(source: 'deployment' | `plugin ${string}`, roles: readonly RoleEntry[], at: string): void {
    this.list.add(source, roles, at);
    roles.forEach((role, i) => {
      if (role.level === undefined) return;
      this.checkLevel(role.level, source === 'deployment' ? 'kernel' : source.slice(7), `${at}[${i}].level`);
      this.#levels.set(role.key, role.level);
    });
  }

  has(role: unknown): role is Role {
    return this.list.has(role);
  }

  /** The level `role`'s tokens must be signed at, or undefined when any region will do. */
  levelOf(role: string): string | undefined {
    return this.#levels.get(role);
  }

  /**
   * Why `roles` may not be signed at a region of `level`, or undefined when they may.
   * A built-in staff role whose level the deployment lacks cannot be used at all.
   */
  refusal(roles: readonly string[], level: string): string | undefined {
    for (const role of roles) {
      const required = this.#levels.get(role) ?? (role in DEFAULT_LEVELS ? null : undefined);
      if (required === null) return `the role ${role} has no region level in this deployment`;
      if (required !== undefined && required !== level) return `the role ${role} is signed at a ${required}, not at a ${level}`;
    }
    return undefined;
  }

  private checkLevel(level: string, plugin: string, path: string): void {
    if (!this.levels.includes(level)) {
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_CONFIG_INVALID,
        `plugin "${plugin}": ${path}: "${level}" is not one of the levels ${this.levels.join(', ')}`,
        { plugin, path },
      );
    }
  }
}
