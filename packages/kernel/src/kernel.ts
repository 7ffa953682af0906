import type { FastifyBaseLogger } from 'fastify';
import type { Static } from 'typebox';
import { checkKernelConfig, kernel as kernelPlugin, type KernelConfigSchema, type KernelServices } from './core/plugin.js';
import { kernelReady } from './core/hooks.js';
import { openDatabase, type DatabaseConnection } from './db/database.js';
import { migrate, type MigrationReport } from './db/migrate.js';
import { checkDeployment, type Deployment } from './deployment.js';
import { DiandanStartupError, StartupErrorCodes } from './errors.js';
import { HookBus } from './hooks.js';
import type { DeploymentInfo, PluginContext, PluginDefinition, ServiceLocator } from './plugin/define.js';
import { resolvePlugins, type ResolvedPlugin } from './plugin/resolve.js';
import { validateConfig } from './plugin/config.js';

/** A started plugin: its definition, context and the services its `init` returned. */
export interface StartedPlugin {
  readonly definition: PluginDefinition<any, any>;
  readonly context: PluginContext<any>;
  readonly services: unknown;
}

/** A running kernel: database, hooks and started plugins, without HTTP. */
export interface Kernel {
  readonly deployment: DeploymentInfo;
  readonly database: DatabaseConnection;
  readonly hooks: HookBus;
  /** Started plugins, kernel first, in dependency order. */
  readonly plugins: readonly StartedPlugin[];
  readonly migrations: readonly MigrationReport[];
  /** The kernel core's services (regions, reference data). */
  readonly services: KernelServices;
  /** Closes plugins in reverse order, then the database. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Boots a deployment without HTTP, in this order:
 * 1. check the deployment, resolve plugins (dependencies, ranges, configs) — nothing
 *    touches the database before the whole configuration is known to be valid;
 * 2. open the database and apply migrations (kernel first, then plugins in order);
 * 3. `init` each plugin in order; 4. register every plugin's hook handlers;
 * 5. `ready` each plugin in order; 6. emit `kernel.ready`.
 * On any failure, what was started is closed again and the error is rethrown.
 */
export async function startKernel(deployment: Deployment, log: FastifyBaseLogger): Promise<Kernel> {
  checkDeployment(deployment);
  const kernelConfig = validateConfig('kernel', kernelPlugin.config, { ...(deployment.kernel ?? {}) });
  checkKernelConfig(kernelConfig as Static<typeof KernelConfigSchema>, deployment.levels);
  const resolved: ResolvedPlugin[] = [
    { definition: kernelPlugin, config: kernelConfig },
    ...resolvePlugins(deployment.plugins ?? []),
  ];
  const info: DeploymentInfo = Object.freeze({
    city: deployment.city,
    levels: Object.freeze([...deployment.levels]),
    plugins: Object.freeze(resolved.map((r) => Object.freeze({ name: r.definition.name, version: r.definition.version }))),
  });

  const database = await openDatabase(deployment.database, { log });
  const hooks = new HookBus(log);
  const started: StartedPlugin[] = [];
  const closeAll = async () => {
    for (const p of [...started].reverse()) {
      try {
        await p.definition.close?.(p.context, p.services);
      } catch (err) {
        log.error({ err, plugin: p.definition.name }, 'plugin close failed');
      }
    }
    started.length = 0;
    await database.close();
  };

  try {
    const migrations = await migrate(
      database.db,
      resolved.filter((r) => r.definition.db).map((r) => ({ plugin: r.definition.name, folder: r.definition.db!.migrations })),
    );
    for (const m of migrations) if (m.applied > 0) log.info({ plugin: m.plugin, applied: m.applied }, 'migrations applied');

    const servicesByName = new Map<string, unknown>();
    for (const { definition, config } of resolved) {
      const context: PluginContext<any> = Object.freeze({
        name: definition.name,
        config: Object.freeze(config),
        deployment: info,
        db: database.db,
        listen: database.listen,
        hooks,
        log: log.child({ plugin: definition.name }),
        services: locator(definition, servicesByName),
      });
      let services: unknown;
      try {
        services = await definition.init?.(context);
      } catch (cause) {
        // A named start-up error (e.g. SERVICE_NOT_DECLARED from the locator) keeps its code.
        if (cause instanceof DiandanStartupError) throw cause;
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_INIT_FAILED,
          `plugin "${definition.name}" failed to start: ${(cause as Error).message}`,
          { plugin: definition.name, cause },
        );
      }
      servicesByName.set(definition.name, services);
      started.push({ definition, context, services });
    }
    for (const p of started) hooks.register(p.definition.name, p.definition.hooks?.(p.context, p.services) ?? []);
    for (const p of started) {
      try {
        await p.definition.ready?.(p.context, p.services);
      } catch (cause) {
        if (cause instanceof DiandanStartupError) throw cause;
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_INIT_FAILED,
          `plugin "${p.definition.name}" failed in ready(): ${(cause as Error).message}`,
          { plugin: p.definition.name, cause },
        );
      }
    }
    await hooks.emit(kernelReady, { plugins: info.plugins.map((p) => p.name) });

    let closing: Promise<void> | undefined;
    return {
      deployment: info,
      database,
      hooks,
      plugins: started,
      migrations,
      services: servicesByName.get(kernelPlugin.name) as KernelServices,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Lets a plugin reach the services of the plugins it declared as dependencies. */
function locator(self: PluginDefinition<any, any>, services: Map<string, unknown>): ServiceLocator {
  const declared = new Set(['kernel', ...(self.dependsOn ?? []), ...(self.optionalDependsOn ?? [])]);
  const check = (name: string) => {
    if (!declared.has(name)) {
      throw new DiandanStartupError(
        StartupErrorCodes.SERVICE_NOT_DECLARED,
        `plugin "${self.name}" uses services of "${name}" without declaring it in dependsOn or optionalDependsOn`,
        { plugin: self.name },
      );
    }
  };
  return {
    get(plugin) {
      check(plugin.name);
      if (!services.has(plugin.name)) {
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_MISSING_DEPENDENCY,
          `plugin "${self.name}" needs "${plugin.name}", which is not running`,
          { plugin: self.name },
        );
      }
      return services.get(plugin.name) as never;
    },
    find(plugin) {
      check(plugin.name);
      return services.get(plugin.name) as never;
    },
  };
}
