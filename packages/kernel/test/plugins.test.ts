import {
  DiandanStartupError,
  KERNEL_VERSION,
  definePlugin,
  kernel,
  resolvePlugins,
  type PluginInstance,
} from '@diandan/kernel';
import { createTestServer } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from './fixtures/notice-board/plugin.js';
import { probeCalled, probePlugin } from './fixtures/probe/plugin.js';
import { startupFailure } from './support.js';

/**
 * Boots a deployment whose database cannot be reached: every error expected here must
 * be raised before the kernel touches the database (and it keeps these tests fast).
 */
function bootWithoutDatabase(plugins: readonly PluginInstance[], levels?: readonly string[]) {
  return createTestServer({ database: { url: 'postgres://postgres@127.0.0.1:1/never-opened' }, plugins, ...(levels ? { levels } : {}) });
}

const names = (resolved: { definition: { name: string } }[]) => resolved.map((r) => r.definition.name);

describe('plugin start-up time', () => {
  it('gives plugins two minutes to start, not Fastify’s 10 s (seeds and migrations run there)', async () => {
    const app = await createTestServer();
    try {
      expect(app.initialConfig.pluginTimeout).toBe(120_000);
    } finally {
      await app.close();
    }
  });
});

describe('start-up log', () => {
  it('says how long each step of the start took, and each plugin’s init and ready', async () => {
    const lines: string[] = [];
    const slow = definePlugin({
      name: 'slow-start',
      version: '1.0.0',
      kernel: '^0.1.0',
      deps: { kernel },
      ready: () => new Promise<void>((resolve) => setTimeout(resolve, 120)),
    });
    const app = await createTestServer({ plugins: [slow.configure()], logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
    await app.close();
    const started = lines.map((l) => JSON.parse(l) as { msg: string; phases?: Record<string, number>; plugins?: Record<string, number> }).find((l) => l.msg === 'kernel started');
    expect(Object.keys(started?.phases ?? {})).toEqual(['database', 'migrations', 'jobRunner', 'init', 'jobQueues', 'ready', 'kernelReady']);
    expect(started!.phases!.ready).toBeGreaterThanOrEqual(110);
    expect(started!.plugins!['slow-start']).toBeGreaterThanOrEqual(110);
    const ms = Object.values(started!.plugins!);
    expect(ms).toEqual([...ms].sort((a, b) => b - a)); // the slowest first
  });
});

describe('start order', () => {
  // zeta and beta depend on nothing; alpha needs zeta; mid optionally follows zeta and
  // an absent plugin; beta optionally follows gamma, which is disabled.
  const log: string[] = [];
  const zeta = probePlugin('zeta', log);
  const gamma = probePlugin('gamma', log);
  const beta = probePlugin('beta', log, { optionalDeps: { gamma } });
  const alpha = probePlugin('alpha', log, { deps: { zeta } });
  const mid = probePlugin('mid', log, { optionalDeps: { zeta, absent: probePlugin('not-installed', log) } });
  const expected = ['beta', 'zeta', 'alpha', 'mid'];

  // Records what `ctx.deps` holds, for plugins present, disabled and absent.
  const seen: Record<string, unknown> = {};
  const prober = definePlugin({
    name: 'prober',
    version: '2.3.4',
    kernel: '^0.1.0',
    deps: { kernel, zeta },
    optionalDeps: { gamma, alpha, absent: probePlugin('not-installed', log) },
    init(ctx) {
      seen.city = ctx.deps.kernel.deployment().city;
      seen.zeta = ctx.deps.zeta;
      seen.gamma = ctx.deps.gamma;
      seen.alpha = ctx.deps.alpha;
      seen.absent = ctx.deps.absent;
    },
  });

  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createTestServer({
      plugins: [mid.configure(), prober.configure(), alpha.configure(), gamma.configure({ enabled: false }), zeta.configure(), beta.configure()],
    });
  });
  afterAll(() => app?.close());

  it('starts plugins in dependency order, whatever order the deployment lists them in', async () => {
    const res = await app.inject('/v1/deployment');
    expect(res.statusCode).toBe(200);
    expect(res.json().plugins).toEqual([
      { name: 'kernel', version: KERNEL_VERSION },
      { name: 'beta', version: '1.0.0' },
      { name: 'zeta', version: '1.0.0' },
      { name: 'alpha', version: '1.0.0' },
      { name: 'mid', version: '1.0.0' },
      { name: 'prober', version: '2.3.4' },
    ]);
    expect(log.filter((l) => l.startsWith('init'))).toEqual(expected.map((n) => `init ${n}`));
  });

  it('runs hook handlers in start order', async () => {
    expect(app.diandan.hooks.handlersOf(probeCalled)).toEqual(expected);
    expect(await app.diandan.hooks.emit(probeCalled, { round: 1 })).toEqual([]);
    expect(log.filter((l) => l.startsWith('called'))).toEqual(expected.map((n) => `called ${n} 1`));
  });

  it('does not start a disabled plugin: no init, no routes, no hook handlers', async () => {
    expect(log).not.toContain('init gamma');
    const res = await app.inject('/v1/probe/gamma');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('ROUTE_NOT_FOUND');
    expect((await app.inject('/v1/probe/beta')).json()).toEqual({ name: 'beta' });
  });

  it('gives each plugin the services of its dependencies under its own keys; absent optional ones are undefined', () => {
    expect(seen).toEqual({ city: 'Test City', zeta: { name: 'zeta' }, gamma: undefined, alpha: { name: 'alpha' }, absent: undefined });
  });

  // Runs last: it closes the shared server.
  it('closes plugins in reverse start order when the server closes', async () => {
    log.length = 0;
    await app.close();
    expect(log).toEqual([...expected].reverse().map((n) => `close ${n}`));
  });
});

describe('resolvePlugins ordering', () => {
  const log: string[] = [];
  const defs = {
    zeta: probePlugin('zeta', log),
    beta: probePlugin('beta', log),
    alpha: probePlugin('alpha', log, { deps: { zeta: probePlugin('zeta', log) } }),
    mid: probePlugin('mid', log, { optionalDeps: { zeta: probePlugin('zeta', log), absent: probePlugin('not-installed', log) } }),
  };

  function permutations<T>(items: T[]): T[][] {
    if (items.length <= 1) return [items];
    return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
  }

  it('gives the same order for every order of the list', () => {
    const all = permutations(Object.values(defs));
    expect(all).toHaveLength(24);
    for (const list of all) {
      expect(names(resolvePlugins(list.map((d) => d.configure())))).toEqual(['beta', 'zeta', 'alpha', 'mid']);
    }
  });

  it('breaks ties by name, not by position in the list', () => {
    const independent = ['delta', 'alpha', 'charlie', 'bravo'].map((n) => probePlugin(n, log).configure());
    expect(names(resolvePlugins(independent))).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
    expect(names(resolvePlugins([...independent].reverse()))).toEqual(['alpha', 'bravo', 'charlie', 'delta']);
  });

  it('orders by an optional dependency when it is present and ignores it when absent', () => {
    const early = probePlugin('zz-early', log);
    const late = probePlugin('aa-late', log, { optionalDeps: { early } });
    expect(names(resolvePlugins([late.configure(), early.configure()]))).toEqual(['zz-early', 'aa-late']);
    expect(names(resolvePlugins([late.configure()]))).toEqual(['aa-late']);
    expect(names(resolvePlugins([late.configure(), early.configure({ enabled: false })]))).toEqual(['aa-late']);
  });

  it('accepts an explicit dependency on the kernel', () => {
    const onKernel = probePlugin('on-kernel', log, { deps: { kernel } });
    expect(names(resolvePlugins([onKernel.configure()]))).toEqual(['on-kernel']);
  });

  it('leaves disabled plugins out entirely, even when they would not fit this kernel', () => {
    const future = definePlugin({ name: 'future', version: '1.0.0', kernel: '^9.0.0' });
    expect(names(resolvePlugins([future.configure({ enabled: false }), defs.beta.configure()]))).toEqual(['beta']);
  });
});

describe('start-up errors', () => {
  const log: string[] = [];
  const zeta = probePlugin('zeta', log);
  const alpha = probePlugin('alpha', log, { deps: { zeta } });

  it('DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY when a dependency is not in the deployment', async () => {
    const error = await startupFailure(bootWithoutDatabase([alpha.configure()]));
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY',
      plugin: 'alpha',
      message: 'DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY: plugin "alpha" depends on "zeta", which is not in the deployment',
    });
  });

  it('DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY when a dependency is disabled', async () => {
    await expect(bootWithoutDatabase([alpha.configure(), zeta.configure({ enabled: false })])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_MISSING_DEPENDENCY',
      plugin: 'alpha',
      message: expect.stringContaining('plugin "alpha" depends on "zeta", which is disabled'),
    });
  });

  it('DIANDAN_ERR_PLUGIN_CYCLE shows the cycle', async () => {
    // Values cannot reference each other in a cycle, but names can: c follows a definition
    // named cyc-a, and the cyc-a in the deployment depends on b.
    const c = probePlugin('cyc-c', log, { optionalDeps: { a: probePlugin('cyc-a', log) } });
    const b = probePlugin('cyc-b', log, { deps: { c } });
    const a = probePlugin('cyc-a', log, { deps: { b } });
    await expect(bootWithoutDatabase([c.configure(), b.configure(), a.configure(), zeta.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CYCLE',
      plugin: 'cyc-a',
      message: expect.stringContaining('cycle: cyc-a → cyc-b → cyc-c → cyc-a'),
    });

    // A plugin that merely depends on the cycle is not part of the path shown.
    const tail = probePlugin('aa-tail', log, { deps: { b } });
    const error = await startupFailure(bootWithoutDatabase([a.configure(), b.configure(), c.configure(), tail.configure()]));
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_PLUGIN_CYCLE', plugin: 'cyc-b' });
    expect(error.message).toContain('cyc-b → cyc-c → cyc-a → cyc-b');
    expect(error.message).not.toContain('aa-tail');

    const selfish = probePlugin('selfish', log, { deps: { self: probePlugin('selfish', log) } });
    await expect(bootWithoutDatabase([selfish.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CYCLE',
      plugin: 'selfish',
      message: expect.stringContaining('selfish → selfish'),
    });
  });

  it('DIANDAN_ERR_PLUGIN_KERNEL_RANGE names the plugin, its range and the kernel version', async () => {
    const future = definePlugin({ name: 'future', version: '1.0.0', kernel: '^1.0.0' });
    await expect(bootWithoutDatabase([future.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_KERNEL_RANGE',
      plugin: 'future',
      message: expect.stringContaining(`plugin "future" supports kernel ^1.0.0, but this kernel is ${KERNEL_VERSION}`),
    });
    expect(names(resolvePlugins([future.configure()], '1.4.0'))).toEqual(['future']);
    expect(() => resolvePlugins([noticeBoard()], '0.2.0')).toThrow(
      expect.objectContaining({ code: 'DIANDAN_ERR_PLUGIN_KERNEL_RANGE', plugin: 'notice-board' }),
    );
  });

  it('DIANDAN_ERR_PLUGIN_DUPLICATE for a plugin listed twice and for the reserved name "kernel"', async () => {
    await expect(bootWithoutDatabase([zeta.configure(), alpha.configure(), zeta.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_DUPLICATE',
      plugin: 'zeta',
      message: expect.stringContaining('plugin "zeta" is listed more than once'),
    });
    const impostor = definePlugin({ name: 'kernel', version: '1.0.0', kernel: '^0.1.0' });
    await expect(bootWithoutDatabase([impostor.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_DUPLICATE',
      plugin: 'kernel',
      message: expect.stringContaining('plugin name "kernel" is reserved for the kernel'),
    });
  });

  it('DIANDAN_ERR_PLUGIN_INVALID for a name that is not kebab-case', async () => {
    for (const name of ['NoticeBoard', 'notice_board', 'notice-', '1st-plugin', '']) {
      await expect(bootWithoutDatabase([definePlugin({ name, version: '1.0.0', kernel: '^0.1.0' }).configure()])).rejects.toMatchObject({
        code: 'DIANDAN_ERR_PLUGIN_INVALID',
        plugin: name,
        message: expect.stringContaining(`plugin name "${name}" must be kebab-case`),
      });
    }
  });

  it('DIANDAN_ERR_PLUGIN_INVALID when two plugins claim one database schema, or a reserved one', async () => {
    const first = definePlugin({ name: 'first', version: '1.0.0', kernel: '^0.1.0', db: { schema: 'shared', migrations: '/x' } });
    const second = definePlugin({ name: 'second', version: '1.0.0', kernel: '^0.1.0', db: { schema: 'shared', migrations: '/y' } });
    await expect(bootWithoutDatabase([first.configure(), second.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'second',
      message: expect.stringContaining('database schema "shared" already belongs to plugin "first"'),
    });
    const squatter = definePlugin({ name: 'squatter', version: '1.0.0', kernel: '^0.1.0', db: { schema: 'kernel', migrations: '/z' } });
    await expect(bootWithoutDatabase([squatter.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'squatter',
    });
  });

  it('DIANDAN_ERR_PLUGIN_INVALID for a version or kernel range that is not semver', async () => {
    const badVersion = definePlugin({ name: 'bad-version', version: '1.0', kernel: '^0.1.0' });
    await expect(bootWithoutDatabase([badVersion.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'bad-version',
      message: expect.stringContaining('plugin "bad-version": version "1.0" is not semver'),
    });
    const badRange = definePlugin({ name: 'bad-range', version: '1.0.0', kernel: 'the latest one' });
    await expect(bootWithoutDatabase([badRange.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'bad-range',
      message: expect.stringContaining('kernel range "the latest one" is not a semver range'),
    });
  });

  it('DIANDAN_ERR_PLUGIN_INVALID for a definition listed without calling its factory, and for a config key "enabled"', async () => {
    await expect(bootWithoutDatabase([zeta as unknown as PluginInstance])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      message: expect.stringContaining('call the factory'),
    });
    const switchy = definePlugin({
      name: 'switchy',
      version: '1.0.0',
      kernel: '^0.1.0',
      config: Type.Object({ enabled: Type.Boolean({ default: true }) }),
    });
    await expect(bootWithoutDatabase([switchy.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'switchy',
      message: expect.stringContaining('config key "enabled" is reserved'),
    });
  });

  it('DIANDAN_ERR_DEPLOYMENT_INVALID for no region levels or a level listed twice', async () => {
    await expect(bootWithoutDatabase([], [])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_DEPLOYMENT_INVALID',
      path: 'levels',
      message: expect.stringContaining('deployment.levels: must list at least one region level'),
    });
    await expect(bootWithoutDatabase([], ['city', 'district', 'city'])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_DEPLOYMENT_INVALID',
      path: 'levels[2]',
      message: expect.stringContaining('deployment.levels[2]: "city" is listed twice'),
    });
  });

  it('DIANDAN_ERR_PLUGIN_INIT_FAILED when init throws, after closing the plugins already started', async () => {
    const log: string[] = [];
    const base = probePlugin('base', log);
    const middle = probePlugin('middle', log, { deps: { base } });
    const faulty = probePlugin('faulty', log, { deps: { middle }, failInit: true });
    const after = probePlugin('after', log, { deps: { faulty } });
    const error = await startupFailure(
      createTestServer({ plugins: [after.configure(), faulty.configure(), middle.configure(), base.configure()] }),
    );
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INIT_FAILED',
      plugin: 'faulty',
      message: expect.stringContaining('plugin "faulty" failed to start: faulty cannot reach its upstream service'),
      cause: expect.objectContaining({ message: 'faulty cannot reach its upstream service' }),
    });
    // The failing plugin was never started, so only the two before it are closed, in reverse.
    expect(log).toEqual(['init base', 'init middle', 'init faulty', 'close middle', 'close base']);
  });

  it('DIANDAN_ERR_PLUGIN_INVALID when a dependency is not a plugin definition (e.g. undefined from an import cycle)', async () => {
    const broken = definePlugin({ name: 'broken-deps', version: '1.0.0', kernel: '^0.1.0', deps: { peer: undefined as never } });
    await expect(bootWithoutDatabase([broken.configure()])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_INVALID',
      plugin: 'broken-deps',
      message: expect.stringContaining('deps.peer is not a plugin definition'),
    });
  });
});
