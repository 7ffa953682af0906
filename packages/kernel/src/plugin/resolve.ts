import semver from 'semver';
import { DiandanStartupError, StartupErrorCodes } from '../errors.js';
import { KERNEL_VERSION } from '../version.js';
import { validateConfig } from './config.js';
import type { PluginDefinition, PluginInstance } from './define.js';

/** A plugin ready to start: enabled, with its validated config. */
export interface ResolvedPlugin {
  readonly definition: PluginDefinition<any, any>;
  readonly config: unknown;
}

/** The name the kernel's own core plugin uses; no other plugin may take it. */
export const KERNEL_PLUGIN_NAME = 'kernel';

const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Checks a deployment's plugin list and puts the enabled plugins in start order.
 * Order comes from the dependency graph only (ties broken by name), never from the
 * order of the array. Throws a `DiandanStartupError` naming the plugin on any of:
 * invalid definition, duplicate name, kernel range mismatch, missing or disabled
 * dependency, dependency cycle, invalid config, unknown config key.
 */
export function resolvePlugins(instances: readonly PluginInstance[], kernelVersion = KERNEL_VERSION): ResolvedPlugin[] {
  const all = new Map<string, PluginInstance>();
  for (const instance of instances) {
    const def = instance?.definition;
    checkDefinition(def);
    if (all.has(def.name) || def.name === KERNEL_PLUGIN_NAME) {
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_DUPLICATE,
        def.name === KERNEL_PLUGIN_NAME
          ? `plugin name "${KERNEL_PLUGIN_NAME}" is reserved for the kernel`
          : `plugin "${def.name}" is listed more than once`,
        { plugin: def.name },
      );
    }
    all.set(def.name, instance);
  }

  const schemaOwners = new Map<string, string>([['kernel', KERNEL_PLUGIN_NAME], ['diandan_migrations', KERNEL_PLUGIN_NAME], ['public', 'PostgreSQL']]);
  for (const { definition: def } of all.values()) {
    if (!def.db) continue;
    const owner = schemaOwners.get(def.db.schema);
    if (owner) {
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_INVALID,
        `plugin "${def.name}": database schema "${def.db.schema}" already belongs to ${owner === 'PostgreSQL' ? 'PostgreSQL' : `plugin "${owner}"`}; each plugin keeps its tables in a schema of its own`,
        { plugin: def.name },
      );
    }
    schemaOwners.set(def.db.schema, def.name);
  }

  const enabled = [...all.values()].filter((i) => i.options.enabled !== false);
  const enabledNames = new Set(enabled.map((i) => i.definition.name));

  for (const { definition: def } of enabled) {
    if (!semver.satisfies(kernelVersion, def.kernel, { includePrerelease: true })) {
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_KERNEL_RANGE,
        `plugin "${def.name}" supports kernel ${def.kernel}, but this kernel is ${kernelVersion}`,
        { plugin: def.name },
      );
    }
    for (const dep of def.dependsOn ?? []) {
      if (dep === KERNEL_PLUGIN_NAME || enabledNames.has(dep)) continue;
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_MISSING_DEPENDENCY,
        all.has(dep)
          ? `plugin "${def.name}" depends on "${dep}", which is disabled`
          : `plugin "${def.name}" depends on "${dep}", which is not in the deployment`,
        { plugin: def.name },
      );
    }
  }

  const ordered = topologicalOrder(enabled.map((i) => i.definition), enabledNames);
  return ordered.map((def) => {
    const { enabled: _enabled, ...config } = all.get(def.name)!.options;
    return { definition: def, config: validateConfig(def.name, def.config, config) };
  });
}

function checkDefinition(def: PluginDefinition | undefined): asserts def is PluginDefinition {
  const fail = (msg: string, plugin?: string) => {
    throw new DiandanStartupError(StartupErrorCodes.PLUGIN_INVALID, msg, plugin === undefined ? {} : { plugin });
  };
  if (!def || typeof def !== 'object' || typeof def.configure !== 'function') {
    fail('a deployment lists something that is not a plugin instance; call the factory, e.g. `survey()`');
  }
  const d = def!;
  if (typeof d.name !== 'string' || !PLUGIN_NAME.test(d.name)) fail(`plugin name "${String(d.name)}" must be kebab-case`, String(d.name));
  if (!semver.valid(d.version)) fail(`plugin "${d.name}": version "${d.version}" is not semver`, d.name);
  if (!semver.validRange(d.kernel)) fail(`plugin "${d.name}": kernel range "${d.kernel}" is not a semver range`, d.name);
  for (const field of ['deps', 'optionalDeps'] as const) {
    for (const [key, dep] of Object.entries((d[field] ?? {}) as Record<string, any>)) {
      if (!dep || typeof dep !== 'object' || typeof dep.name !== 'string' || typeof dep.configure !== 'function') {
        fail(`plugin "${d.name}": ${field}.${key} is not a plugin definition (is it imported in a cycle?)`, d.name);
      }
    }
  }
  if (d.config && (d.config as { properties?: Record<string, unknown> }).properties?.enabled) {
    fail(`plugin "${d.name}": config key "enabled" is reserved`, d.name);
  }
}

/** Kahn's algorithm with a name-ordered ready set, so the order is deterministic. */
function topologicalOrder(defs: PluginDefinition[], present: Set<string>): PluginDefinition[] {
  const byName = new Map(defs.map((d) => [d.name, d]));
  const deps = new Map(
    defs.map((d) => [
      d.name,
      [...(d.dependsOn ?? []), ...(d.optionalDependsOn ?? [])].filter((n) => n !== KERNEL_PLUGIN_NAME && present.has(n)),
    ]),
  );
  const remaining = new Map([...deps].map(([n, ds]) => [n, new Set(ds)]));
  const order: PluginDefinition[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, ds]) => ds.size === 0).map(([n]) => n).sort();
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      throw new DiandanStartupError(
        StartupErrorCodes.PLUGIN_CYCLE,
        `plugins depend on each other in a cycle: ${cycle.join(' → ')}`,
        { plugin: cycle[0]! },
      );
    }
    for (const name of ready) {
      order.push(byName.get(name)!);
      remaining.delete(name);
      for (const ds of remaining.values()) ds.delete(name);
    }
  }
  return order;
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()].sort()[0]!;
  const path: string[] = [];
  const seen = new Map<string, number>();
  let node = start;
  // Every remaining node has an unresolved dependency inside the graph, so walking
  // from any node must revisit one.
  while (!seen.has(node)) {
    seen.set(node, path.length);
    path.push(node);
    node = [...graph.get(node)!].sort()[0]!;
  }
  return [...path.slice(seen.get(node)!), node];
}
