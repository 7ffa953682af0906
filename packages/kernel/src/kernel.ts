import type { FastifyBaseLogger } from 'fastify';
import type { Static } from 'typebox';
import type { Actor } from './auth/actor.js';
import { checkKernelConfig, kernel as kernelPlugin, type KernelConfigSchema, type KernelServices } from './core/plugin.js';
import { kernelReady } from './core/hooks.js';
import { openDatabase, type DatabaseConnection } from './db/database.js';
import { migrate, type MigrationReport, type MigrationSource } from './db/migrate.js';
import { checkDeployment, type Deployment } from './deployment.js';
import { DiandanStartupError, StartupErrorCodes } from './errors.js';
import { ExtensionRegistry } from './extensions/extensions.js';
import { HookBus } from './hooks.js';
import { openJobRunner, resolveJobsConfig, type JobRunner } from './jobs/jobs.js';
import type { DeploymentInfo, PluginContext, PluginDefinition } from './plugin/define.js';
import { validateConfig } from './plugin/config.js';
import { buildLists, type DeploymentLists } from './plugin/deployment-lists.js';
import { resolvePlugins, type ResolvedPlugin } from './plugin/resolve.js';
import { openPersonalData } from './personal-data/config.js';
import type { PersonalData } from './personal-data/personal-data.js';

/** A started plugin: its definition, context and the services its `init` returned. */
export interface StartedPlugin {
  readonly definition: PluginDefinition<any, any, any, any>;
  readonly context: PluginContext<any, any>;
  readonly services: unknown;
}

/** A running kernel: database, hooks and started plugins, without HTTP. */
export interface Kernel {
  readonly deployment: DeploymentInfo;
  readonly database: DatabaseConnection;
  readonly hooks: HookBus;
  /** Extension data plugins attach to kernel records. */
  readonly extensions: ExtensionRegistry;
  /** Started plugins, kernel first, in dependency order. */
  readonly plugins: readonly StartedPlugin[];
  readonly migrations: readonly MigrationReport[];
  /** The kernel core's services. */
  readonly services: KernelServices;
  /**
   * Starts working jobs and durable deliveries (see `JobRunner.startWorkers`): done by
   * `startKernel` once every plugin is ready, unless `deferWorkers` left it to the caller
   * (the HTTP server does it once its routes are ready). Safe to call twice.
   */
  startWorkers(): Promise<void>;
  /** Closes plugins in reverse order, then the job runner and the database. Safe to call twice. */
  close(): Promise<void>;
}

/** How `startKernel` starts, besides the deployment. */
export interface StartKernelOptions {
  /**
   * Leave the job workers stopped until `kernel.startWorkers()` (default false: they
   * start once every plugin is ready and `kernel.ready` was emitted).
   */
  readonly deferWorkers?: boolean;
}

/** What the kernel plugin's own `init` is given besides its context (built before any plugin starts). */
export interface KernelRuntime {
  readonly lists: DeploymentLists;
  readonly extensions: ExtensionRegistry;
  readonly jobs: JobRunner;
  readonly personalData: PersonalData;
  /** What the kernel's file service is built from. */
  readonly files: Pick<Deployment, 'files' | 'database'>;
}

const runtimes = new WeakMap<object, KernelRuntime>();

/** The runtime of the kernel plugin's context; only the kernel's own `init` asks. */
export function kernelRuntime(ctx: object): KernelRuntime {
  const runtime = runtimes.get(ctx);
  if (!runtime) throw new Error('the kernel plugin can only start inside startKernel');
  return runtime;
}

/**
 * A deployment's migrations in the order a start applies them: the kernel's, then each
 * plugin's (dependency order). What a deployment's own PGlite image is built from
 * (`buildPgliteImage(file, { migrations: deploymentMigrations(deployment) })`).
 */
export function deploymentMigrations(deployment: Deployment): MigrationSource[] {
  return migrationSourcesOf([{ definition: kernelPlugin }, ...resolvePlugins(deployment.plugins ?? [])]);
}

function migrationSourcesOf(resolved: readonly Pick<ResolvedPlugin, 'definition'>[]): MigrationSource[] {
  return resolved.filter((r) => r.definition.db).map((r) => ({ plugin: r.definition.name, folder: r.definition.db!.migrations }));
}

/**
 * Boots a deployment without HTTP, in this order:
 * 1. check the deployment, resolve plugins (dependencies, ranges, configs) and build
 *    the open lists (roles, kinds) — nothing touches the database before the whole
 *    configuration is known to be valid;
 * 2. open the database, apply migrations (kernel first, then plugins in order), open
 *    the job runner;
 * 3. `init` each plugin in order; 4. register every plugin's hook handlers and
 *    extensions; 5. start the job runner (queues; from here jobs can be sent and scheduled);
 * 6. `ready` each plugin in order; 7. emit `kernel.ready`; 8. start the job workers
 *    (unless `deferWorkers`: then `kernel.startWorkers()` does).
 * On any failure, what was started is closed again and the error is rethrown.
 */
export async function startKernel(deployment: Deployment, log: FastifyBaseLogger, options: StartKernelOptions = {}): Promise<Kernel> {
  checkDeployment(deployment);
  const kernelConfig = validateConfig('kernel', kernelPlugin.config, { ...(deployment.kernel ?? {}) }) as Static<typeof KernelConfigSchema>;
  checkKernelConfig(kernelConfig, deployment.levels);
  const personalData = openPersonalData(deployment.personalData, log);
  const resolved: ResolvedPlugin[] = [{ definition: kernelPlugin, config: kernelConfig }, ...resolvePlugins(deployment.plugins ?? [])];
  const lists = buildLists(kernelConfig, deployment.levels, resolved.map((r) => r.definition));
  const info: DeploymentInfo = Object.freeze({
    city: deployment.city,
    levels: Object.freeze([...deployment.levels]),
    plugins: Object.freeze(resolved.map((r) => Object.freeze({ name: r.definition.name, version: r.definition.version }))),
  });

  const migrationSources = migrationSourcesOf(resolved);
  // How long each step of the start took (ms), and each plugin's init and ready together,
  // logged once the kernel is up: where a slow start went.
  const phases: Record<string, number> = {};
  const pluginMs = new Map<string, number>();
  let phaseStart = performance.now();
  /** Adds the time since the last call to `name` (and to `plugin`, when one was running). */
  const phase = (name: string, plugin?: string) => {
    const now = performance.now();
    const ms = now - phaseStart;
    phaseStart = now;
    phases[name] = (phases[name] ?? 0) + ms;
    if (plugin) pluginMs.set(plugin, (pluginMs.get(plugin) ?? 0) + ms);
  };
  const database = await openDatabase(deployment.database, { log, migrations: migrationSources });
  const hooks = new HookBus(log);
  const extensions = new ExtensionRegistry();
  const started: StartedPlugin[] = [];
  let jobs: JobRunner | undefined;
  const closeAll = async () => {
    // In-request event handlers get the same grace period as the jobs, beside them: one that
    // hangs must not keep the process from closing its plugins and the database.
    const [, settled] = await Promise.all([
      jobs?.stop().catch((err: unknown) => log.error({ err }, 'job runner stop failed')),
      hooks.settled(resolveJobsConfig(kernelConfig.jobs).shutdownTimeoutSeconds * 1000),
    ]);
    if (!settled) log.warn({ running: hooks.running }, 'in-request event handlers still running at shutdown; closing without waiting for them');
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
    phase('database');
    const migrations = await migrate(database.db, migrationSources);
    phase('migrations');
    for (const m of migrations) if (m.applied > 0) log.info({ plugin: m.plugin, applied: m.applied }, 'migrations applied');
    jobs = await openJobRunner({ connection: database, log: log.child({ component: 'jobs' }), config: kernelConfig.jobs });
    hooks.useOutbox(jobs);
    phase('jobRunner');

    const servicesByName = new Map<string, unknown>();
    for (const { definition, config } of resolved) {
      const context: PluginContext<any, any> = Object.freeze({
        name: definition.name,
        config: Object.freeze(config),
        deployment: info,
        deps: depsOf(definition, servicesByName),
        db: database.db,
        driver: database.driver,
        listen: database.listen,
        hooks,
        jobs: jobs.forPlugin(definition.name),
        log: log.child({ plugin: definition.name }),
        systemActor: (grant) => grantSystemActor(definition.name, grant, servicesByName.get(kernelPlugin.name) as KernelServices),
      } satisfies PluginContext<any, any>);
      if (definition === kernelPlugin) runtimes.set(context, { lists, extensions, jobs, personalData, files: { files: deployment.files, database: deployment.database } });
      let services: unknown;
      try {
        services = await definition.init?.(context);
      } catch (cause) {
        if (cause instanceof DiandanStartupError) throw cause;
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_INIT_FAILED,
          `plugin "${definition.name}" failed to start: ${(cause as Error).message}`,
          { plugin: definition.name, cause },
        );
      }
      servicesByName.set(definition.name, services);
      started.push({ definition, context, services });
      phase('init', definition.name);
    }
    for (const p of started) {
      try {
        hooks.register(p.definition.name, p.definition.hooks?.(p.context, p.services) ?? []);
        extensions.register(p.definition.name, p.definition.extensions?.(p.context, p.services) ?? []);
      } catch (cause) {
        throw new DiandanStartupError(StartupErrorCodes.PLUGIN_INIT_FAILED, `plugin "${p.definition.name}": ${(cause as Error).message}`, {
          plugin: p.definition.name,
          cause,
        });
      }
    }
    await jobs.start(hooks.durableSubscriptions());
    phase('jobQueues');
    for (const p of started) {
      try {
        await p.definition.ready?.(p.context, p.services);
        phase('ready', p.definition.name);
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
    phase('kernelReady');
    // The ten slowest plugins (a log line's objects keep twenty keys).
    const round = (entries: Iterable<[string, number]>) => Object.fromEntries([...entries].map(([name, ms]) => [name, Math.round(ms)]));
    const plugins = round([...pluginMs].sort((a, b) => b[1] - a[1]).slice(0, 10));
    log.info({ phases: round(Object.entries(phases)), plugins }, 'kernel started');
    // Jobs already due (and the deliveries of what the plugins did while starting) wait
    // until now: on PGlite each of their queries would hold the main thread the start runs on.
    const runner = jobs;
    const startWorkers = () => runner.startWorkers();
    if (!options.deferWorkers) await startWorkers();

    let closing: Promise<void> | undefined;
    return {
      deployment: info,
      database,
      hooks,
      extensions,
      plugins: started,
      migrations,
      services: servicesByName.get(kernelPlugin.name) as KernelServices,
      startWorkers,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * `ctx.deps` of a plugin: its required dependencies' services (they started first, so
 * they are there) and its optional ones' (undefined when absent or disabled), under
 * the keys the plugin chose.
 */
function depsOf(definition: PluginDefinition<any, any, any, any>, services: Map<string, unknown>): Record<string, unknown> {
  const deps: Record<string, unknown> = {};
  const named = (d: unknown) => Object.entries((d ?? {}) as Record<string, PluginDefinition>);
  for (const [key, dep] of [...named(definition.deps), ...named(definition.optionalDeps)]) deps[key] = services.get(dep.name);
  return Object.freeze(deps);
}

async function grantSystemActor(plugin: string, grant: Parameters<PluginContext['systemActor']>[0], kernel: KernelServices | undefined): Promise<Actor> {
  if (!kernel) throw new Error('system actors exist once the kernel has started');
  return kernel.access.systemActor(plugin, grant);
}

