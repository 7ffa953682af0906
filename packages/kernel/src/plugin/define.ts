import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { Static, TObject, TSchema } from 'typebox';
import type { Database, DatabaseConnection } from '../db/database.js';
import type { HookBus, HookRegistration } from '../hooks.js';

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

/** Finds the services another plugin's `init` returned. */
export interface ServiceLocator {
  /** Services of `plugin`; it must be a declared dependency (or optional dependency that is present). */
  get<S>(plugin: PluginDefinition<any, S>): S;
  /** Services of an optional dependency, or `undefined` when it is absent or disabled. */
  find<S>(plugin: PluginDefinition<any, S>): S | undefined;
}

/** Everything a plugin is given: its validated config and the kernel's facilities. */
export interface PluginContext<Config = unknown> {
  readonly name: string;
  readonly config: Readonly<Config>;
  readonly deployment: DeploymentInfo;
  readonly db: Database;
  /** Subscribes to a Postgres NOTIFY channel; resolves to an unsubscribe function. */
  readonly listen: DatabaseConnection['listen'];
  readonly hooks: HookBus;
  readonly log: FastifyBaseLogger;
  readonly services: ServiceLocator;
}

/** The config schema's value after defaults have been applied. */
export type ConfigOf<C extends TObject | undefined> = C extends TObject ? Static<C> : Record<string, never>;

/** The `definePlugin({...})` argument: one metadata object per package. */
export interface PluginSpec<C extends TObject | undefined = undefined, S = void> {
  /** kebab-case id, unique in a deployment; names the migrations table. */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** The semver range of kernel versions this plugin works with, e.g. `^0.1.0`. */
  readonly kernel: string;
  /** Plugins that must be present and enabled; they start (and migrate) first. */
  readonly dependsOn?: readonly string[];
  /** Plugins that, when present, start first; their absence is fine. */
  readonly optionalDependsOn?: readonly string[];
  /** TypeBox object schema of the plugin's config; `default`s are applied, unknown keys rejected. */
  readonly config?: C;
  /** The plugin's tables: its own Postgres schema and the drizzle-kit migrations folder. */
  readonly db?: { readonly schema: string; readonly migrations: string };
  /** Shared models (TypeBox schemas with an `$id`) the routes reference with `ref(...)`. */
  readonly schemas?: readonly (TSchema & { $id: string })[];
  /** OpenAPI tags the plugin's routes use, with descriptions. */
  readonly tags?: readonly { readonly name: string; readonly description: string }[];
  /** Creates the plugin's services; what it returns is what `ctx.services.get(plugin)` gives others. */
  readonly init?: (ctx: PluginContext<ConfigOf<C>>) => S | Promise<S>;
  /** Hook handlers, made with `on(...)` and `filter(...)`. Registered once every plugin is initialised. */
  readonly hooks?: (ctx: PluginContext<ConfigOf<C>>, services: S) => readonly HookRegistration[];
  /** Runs after every plugin's hooks are registered, in start order: seed data, start background work. */
  readonly ready?: (ctx: PluginContext<ConfigOf<C>>, services: S) => void | Promise<void>;
  /** Registers HTTP routes on an encapsulated Fastify instance. */
  readonly routes?: (app: DiandanApp, ctx: PluginContext<ConfigOf<C>>, services: S) => void | Promise<void>;
  /** Releases resources; plugins are closed in reverse start order. */
  readonly close?: (ctx: PluginContext<ConfigOf<C>>, services: S) => void | Promise<void>;
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
  readonly definition: PluginDefinition<any, any>;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A defined plugin. Its package exports a factory that calls `configure`. */
export interface PluginDefinition<C extends TObject | undefined = any, S = unknown> extends PluginSpec<C, S> {
  /** Binds deployment options to this plugin: `export const survey = (o = {}) => surveyPlugin.configure(o)`. */
  configure(options?: PluginOptions<C>): PluginInstance;
}

/** Declares a plugin. Validation of the spec happens when a deployment starts. */
export function definePlugin<C extends TObject | undefined = undefined, S = void>(
  spec: PluginSpec<C, S>,
): PluginDefinition<C, S> {
  const definition: PluginDefinition<C, S> = Object.freeze({
    ...spec,
    configure(options?: PluginOptions<C>): PluginInstance {
      return Object.freeze({ definition, options: Object.freeze({ ...(options ?? {}) }) });
    },
  });
  return definition;
}
