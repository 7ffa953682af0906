import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Static, TObject, TSchema } from 'typebox';
import type { Actor, SystemGrant } from '../auth/actor.js';
import type { Database, DatabaseConnection } from '../db/database.js';
import type { ExtensionRegistration } from '../extensions/extensions.js';
import type { HookBus, HookRegistration } from '../hooks.js';
import type { Jobs } from '../jobs/jobs.js';
import type { ListEntry } from './lists.js';

/** The Fastify instance a plugin's routes are registered on (encapsulated, TypeBox-typed). */
export type DiandanApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What a deployment says about itself that plugins may read. */
export interface DeploymentInfo {
  /** The city (or district) this deployment serves, e.g. `广州市`. */
  readonly city: string;
  /** Names of the region levels from the top down, e.g. `['city','district','street','community']`. */
  readonly levels: readonly string[];
  /** The plugins that are running, kernel first, in start order. */
  readonly plugins: readonly { readonly name: string; readonly version: string }[];
}

/** Named plugin definitions a plugin depends on: `{ kernel, survey }`. */
export type PluginDeps = Readonly<Record<string, PluginDefinition<any, any, any, any>>>;

/** No dependencies: `ctx.deps` then has no properties at all. */
export type NoDeps = Record<never, never>;

/** The services `init` of `P` returned. */
export type ServicesOf<P> = P extends PluginDefinition<any, infer S, any, any> ? S : never;

/**
 * What `ctx.deps` holds: the services of each required dependency, and of each
 * optional one that is running (`undefined` when it is absent or disabled).
 */
export type DepServices<D extends PluginDeps, O extends PluginDeps> = {
  readonly [K in keyof D]: ServicesOf<D[K]>;
} & {
  readonly [K in keyof O]: ServicesOf<O[K]> | undefined;
};

/** Everything a plugin is given: its validated config, its dependencies' services and the kernel's facilities. */
export interface PluginContext<Config = unknown, Deps = NoDeps> {
  readonly name: string;
  readonly config: Readonly<Config>;
  readonly deployment: DeploymentInfo;
  /** Services of the plugins named in `deps` and `optionalDeps`, under the same keys. */
  readonly deps: Deps;
  readonly db: Database;
  /** Which database runs underneath: embedded PGlite (one statement at a time) or a PostgreSQL server. */
  readonly driver: DatabaseConnection['driver'];
  /** Subscribes to a Postgres NOTIFY channel; resolves to an unsubscribe function. */
  readonly listen: DatabaseConnection['listen'];
  readonly hooks: HookBus;
  /** Durable background jobs: define them in `init`, send and schedule them from then on. */
  readonly jobs: Jobs;
  readonly log: FastifyBaseLogger;
  /**
   * An actor for this plugin's own work (jobs, seeds, reactions to events), holding
   * exactly the roles and home region it is granted here; the audit log records it as
   * `system:<plugin>`. Without `region`, its scope is the whole region tree.
   */
  systemActor(grant: SystemGrant): Promise<Actor>;
}

/** A shared model: a TypeBox schema with an `$id` (see `model`). */
export type Model = TSchema & { $id: string };

/** The config schema's value after defaults have been applied. */
export type ConfigOf<C extends TObject | undefined> = C extends TObject ? Static<C> : Record<string, never>;

/** The context a plugin's own functions receive. */
export type ContextOf<C extends TObject | undefined, D extends PluginDeps, O extends PluginDeps> = PluginContext<ConfigOf<C>, DepServices<D, O>>;

/** Entries a plugin adds to the lists a city can extend (roles and kinds). */
export interface PluginContributions {
  /** Roles this plugin's routes authorise; `level` pins the region level its tokens must be signed at. */
  readonly roles?: readonly (ListEntry & { readonly level?: string })[];
  readonly unitKinds?: readonly ListEntry[];
  readonly venueKinds?: readonly ListEntry[];
  readonly supplierKinds?: readonly ListEntry[];
}

/** The `definePlugin({...})` argument: one metadata object per package. */
export interface PluginSpec<
  C extends TObject | undefined = undefined,
  S = void,
  D extends PluginDeps = NoDeps,
  O extends PluginDeps = NoDeps,
> {
  /** kebab-case id, unique in a deployment; names the migrations table. */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** The semver range of kernel versions this plugin works with, e.g. `^0.2.0`. */
  readonly kernel: string;
  /**
   * Plugins that must be present and enabled, by definition: `{ kernel, survey }`. They
   * start (and migrate) first; their services are `ctx.deps.<key>`.
   */
  readonly deps?: D;
  /** Plugins that start first when present; `ctx.deps.<key>` is `undefined` when they are not. */
  readonly optionalDeps?: O;
  /** TypeBox object schema of the plugin's config; `default`s are applied, unknown keys rejected. */
  readonly config?: C;
  /** The plugin's tables: its own Postgres schema and the drizzle-kit migrations folder. */
  readonly db?: { readonly schema: string; readonly migrations: string };
  /**
   * Shared models (TypeBox schemas with an `$id`) the routes reference with `ref(...)`;
   * registered once for the whole server. A function builds them once the plugin has
   * started (for models that depend on the deployment).
   */
  readonly schemas?: readonly Model[] | ((ctx: ContextOf<C, D, O>, services: S) => readonly Model[]);
  /** OpenAPI tags the plugin's routes use, with descriptions. */
  readonly tags?: readonly { readonly name: string; readonly description: string }[];
  /** Roles and kinds this plugin adds to the deployment's lists. */
  readonly contributes?: PluginContributions;
  /** Creates the plugin's services; what it returns is what dependants find in `ctx.deps`. */
  readonly init?: (ctx: ContextOf<C, D, O>) => S | Promise<S>;
  /** Hook handlers, made with `on`, `filter` and `guard`. Registered once every plugin is initialised. */
  readonly hooks?: (ctx: ContextOf<C, D, O>, services: S) => readonly HookRegistration[];
  /** Data this plugin attaches to kernel records, made with `extension(...)`. */
  readonly extensions?: (ctx: ContextOf<C, D, O>, services: S) => readonly ExtensionRegistration[];
  /** Runs after every plugin's hooks are registered, in start order: seed data, schedule jobs. */
  readonly ready?: (ctx: ContextOf<C, D, O>, services: S) => void | Promise<void>;
  /** Registers HTTP routes on an encapsulated Fastify instance. */
  readonly routes?: (app: DiandanApp, ctx: ContextOf<C, D, O>, services: S) => void | Promise<void>;
  /** Releases resources; plugins are closed in reverse start order. */
  readonly close?: (ctx: ContextOf<C, D, O>, services: S) => void | Promise<void>;
}

/** `T` with every property optional at every depth (defaults fill the rest). */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The options a deployment passes to a plugin's factory: its config plus `enabled`. */
export type PluginOptions<C extends TObject | undefined> = (C extends TObject ? DeepPartial<Static<C>> : object) & {
  /** `false` keeps the plugin installed but does not start it (its tables stay). */
  readonly enabled?: boolean;
};

/** A plugin as a deployment lists it: the definition with the options it was given. */
export interface PluginInstance {
  readonly definition: PluginDefinition<any, any, any, any>;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A defined plugin. Its package exports it and a factory that calls `configure`. */
export interface PluginDefinition<
  C extends TObject | undefined = any,
  S = unknown,
  D extends PluginDeps = any,
  O extends PluginDeps = any,
> extends PluginSpec<C, S, D, O> {
  /** Names of the required dependencies, derived from `deps` (the kernel is always there). */
  readonly dependsOn: readonly string[];
  /** Names of the optional dependencies, derived from `optionalDeps`. */
  readonly optionalDependsOn: readonly string[];
  /** Binds deployment options to this plugin: `export const survey = (o = {}) => surveyPlugin.configure(o)`. */
  configure(options?: PluginOptions<C>): PluginInstance;
}

/**
 * Declares a plugin. Dependencies are named once, as values, so that a dependency a
 * plugin uses but does not declare cannot compile. Validation of the spec happens when
 * a deployment starts.
 */
export function definePlugin<
  C extends TObject | undefined = undefined,
  S = void,
  D extends PluginDeps = NoDeps,
  O extends PluginDeps = NoDeps,
>(spec: PluginSpec<C, S, D, O>): PluginDefinition<C, S, D, O> {
  const names = (deps: PluginDeps | undefined) => Object.freeze(Object.values(deps ?? {}).map((d) => d?.name));
  const definition: PluginDefinition<C, S, D, O> = Object.freeze({
    ...spec,
    dependsOn: names(spec.deps),
    optionalDependsOn: names(spec.optionalDeps),
    configure(options?: PluginOptions<C>): PluginInstance {
      return Object.freeze({ definition, options: Object.freeze({ ...(options ?? {}) }) });
    },
  });
  return definition;
}
