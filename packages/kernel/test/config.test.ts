import {
  BUILTIN_CATEGORIES,
  BUILTIN_POPULATION_GROUPS,
  DiandanStartupError,
  definePlugin,
  type Deployment,
  type PluginInstance,
} from '@diandan/kernel';
import { authHeader, createTestServer, seedRegions, TEST_REGIONS } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeBoard } from './fixtures/notice-board/plugin.js';
import { startupFailure } from './support.js';

/** A plugin that shows its validated config at `GET /v1/settings-echo`. */
const settingsEcho = definePlugin({
  name: 'settings-echo',
  version: '1.0.0',
  kernel: '^0.1.0',
  config: Type.Object({
    title: Type.String({ default: '文化点单' }),
    reminders: Type.Object(
      {
        days: Type.Integer({ minimum: 1, default: 3 }),
        channels: Type.Array(Type.String(), { default: ['sms'] }),
      },
      { default: {} },
    ),
    contacts: Type.Array(Type.Object({ name: Type.String(), phone: Type.Optional(Type.String()) }), { default: [] }),
  }),
  routes(app, ctx) {
    app.get('/v1/settings-echo', async () => ctx.config);
  },
});

/**
 * Boots with a database URL that leads nowhere: a config error must be reported
 * before the kernel opens the database, so these fail with the config error, not
 * DIANDAN_ERR_DATABASE_UNREACHABLE.
 */
function bootWithoutDatabase(plugins: readonly PluginInstance[], kernel?: Deployment['kernel']) {
  return createTestServer({ database: { url: 'postgres://postgres@127.0.0.1:1/never-opened' }, plugins, ...(kernel ? { kernel } : {}) });
}

const fishing = { key: 'fishing-community', name: '渔民群众', nameEn: 'Fishing communities' };
const dragonBoat = { key: 'dragon-boat', name: '龙舟文化', nameEn: 'Dragon-boat culture', description: '端午龙舟' };

describe('defaults and kernel config', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createTestServer({
      plugins: [noticeBoard(), settingsEcho.configure({ enabled: true, reminders: { days: 7 } as never })],
      kernel: { populationGroups: [fishing], categories: [dragonBoat] },
    });
    await seedRegions(app, TEST_REGIONS.slice(0, 2));
  });
  afterAll(() => app?.close());

  it('applies a default the deployment left out (notice-board greets with 你好)', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/notices', payload: { regionCode: '440103', body: '周末有粤剧演出' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().body).toBe('你好 周末有粤剧演出');
  });

  it('fills nested defaults around the values given, and keeps `enabled` out of the config', async () => {
    const res = await app.inject('/v1/settings-echo');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ title: '文化点单', reminders: { days: 7, channels: ['sms'] }, contacts: [] });
  });

  it('lists the deployment’s extra population groups after the built-in ones', async () => {
    const res = await app.inject('/v1/population-groups?limit=200');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { key: string }[];
    expect(items.map((g) => g.key)).toEqual([...BUILTIN_POPULATION_GROUPS.map((g) => g.key), 'fishing-community']);
    expect(items.at(-1)).toEqual(fishing);
  });

  it('lists the deployment’s extra categories after the built-in ones', async () => {
    const items = (await app.inject('/v1/categories?limit=200')).json().items as { key: string }[];
    expect(items.map((c) => c.key)).toEqual([...BUILTIN_CATEGORIES.map((c) => c.key), 'dragon-boat']);
    expect(items.at(-1)).toEqual(dragonBoat);
  });
});

describe('invalid plugin config', () => {
  it('rejects a value of the wrong type, naming the plugin and the key path', async () => {
    const error = await startupFailure(bootWithoutDatabase([noticeBoard({ greeting: 42 as never })]));
    expect(error).toBeInstanceOf(DiandanStartupError);
    expect(error).toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'notice-board',
      path: 'config.greeting',
      message: expect.stringContaining('plugin "notice-board": config.greeting: must be string'),
    });
  });

  it('names the index of a bad array item', async () => {
    await expect(bootWithoutDatabase([noticeBoard({ hideCategories: ['lecture', 5] as never })])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'notice-board',
      path: 'config.hideCategories[1]',
      message: expect.stringContaining('plugin "notice-board": config.hideCategories[1]:'),
    });
  });

  it('names the path of a bad nested value', async () => {
    await expect(bootWithoutDatabase([settingsEcho.configure({ reminders: { days: 0, channels: [] } })])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'settings-echo',
      path: 'config.reminders.days',
      message: expect.stringContaining('plugin "settings-echo": config.reminders.days:'),
    });
    await expect(bootWithoutDatabase([settingsEcho.configure({ contacts: [{ name: '王' }, { name: 7 as never }] })])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      path: 'config.contacts[1].name',
      message: expect.stringContaining('config.contacts[1].name'),
    });
  });

  it('lists every invalid value in the message', async () => {
    const error = await startupFailure(bootWithoutDatabase([noticeBoard({ greeting: 1, hideCategories: 'lecture' } as never)]));
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID', path: 'config.greeting' });
    expect(error.message).toContain('config.greeting');
    expect(error.message).toContain('config.hideCategories');
  });

  it('rejects an unknown top-level key instead of falling back to the default', async () => {
    await expect(bootWithoutDatabase([noticeBoard({ greting: '您好' } as never)])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
      plugin: 'notice-board',
      path: 'config.greting',
      message: expect.stringContaining('plugin "notice-board": unknown config key config.greting'),
    });
  });

  it('rejects unknown nested keys, in objects and in array items', async () => {
    await expect(
      bootWithoutDatabase([settingsEcho.configure({ reminders: { days: 2, channels: [], hour: 9 } as never })]),
    ).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
      plugin: 'settings-echo',
      path: 'config.reminders.hour',
      message: expect.stringContaining('plugin "settings-echo": unknown config key config.reminders.hour'),
    });
    await expect(
      bootWithoutDatabase([settingsEcho.configure({ contacts: [{ name: '王', phoen: '123' }] as never })]),
    ).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
      path: 'config.contacts[0].phoen',
    });
  });

  it('rejects config given to a plugin that declares none', async () => {
    const bare = definePlugin({ name: 'bare', version: '1.0.0', kernel: '^0.1.0' });
    await expect(bootWithoutDatabase([bare.configure({ colour: 'red' } as never)])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
      plugin: 'bare',
      path: 'config.colour',
    });
  });
});

describe('invalid kernel config', () => {
  it('rejects an unknown kernel config key', async () => {
    await expect(bootWithoutDatabase([], { populationGroup: [fishing] } as unknown as Deployment['kernel'])).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_UNKNOWN_KEY',
      plugin: 'kernel',
      path: 'config.populationGroup',
      message: expect.stringContaining('plugin "kernel": unknown config key config.populationGroup'),
    });
  });

  it('rejects an extra entry with an invalid key', async () => {
    await expect(
      bootWithoutDatabase([], { categories: [{ key: 'Dragon Boat', name: '龙舟', nameEn: 'Dragon boat' }] }),
    ).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'kernel',
      path: 'config.categories[0].key',
    });
  });

  it('refuses to start when an extra reuses a built-in key', async () => {
    const elderly = { key: 'elderly', name: '长者', nameEn: 'Seniors' };
    await expect(createTestServer({ kernel: { populationGroups: [fishing, elderly] } })).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'kernel',
      path: 'config.populationGroups[1].key',
      message: expect.stringContaining('config.populationGroups[1].key: "elderly" is built in'),
    });
  });
});

describe('lists a deployment extends: roles, unit, venue and supplier kinds', () => {
  const choir = { key: 'choir', name: '合唱团', nameEn: 'Choir' };
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createTestServer({
      kernel: {
        roles: [{ key: 'volunteer-lead', name: '志愿者队长', nameEn: 'Volunteer lead', level: 'street' }],
        unitKinds: [{ key: 'elderly-home', name: '养老院', nameEn: 'Home for the elderly' }],
        venueKinds: [{ key: 'pier', name: '码头', nameEn: 'Pier' }],
        supplierKinds: [choir],
      },
    });
    await seedRegions(app, TEST_REGIONS);
  });
  afterAll(() => app?.close());

  it('shows every list with where each entry comes from', async () => {
    const d = (await app.inject('/v1/deployment')).json();
    expect(d.roles.at(-1)).toEqual({ key: 'volunteer-lead', name: '志愿者队长', nameEn: 'Volunteer lead', level: 'street', source: 'deployment' });
    expect(d.unitKinds.at(-1)).toMatchObject({ key: 'elderly-home', source: 'deployment' });
    expect(d.venueKinds.at(-1)).toMatchObject({ key: 'pier', source: 'deployment' });
    expect(d.supplierKinds.at(-1)).toEqual({ ...choir, source: 'deployment' });
    expect(d.unitKinds[0]).toMatchObject({ key: 'cultural-station', source: 'kernel' });
  });

  it('accepts the deployment’s kinds on writes and shows them in the OpenAPI document', async () => {
    const headers = await authHeader({ roles: ['city-admin'], region: '440100' });
    const unit = await app.inject({ method: 'POST', url: '/v1/units', headers, payload: { regionCode: '440103', name: '示范养老院（虚构）', kind: 'elderly-home' } });
    expect(unit.statusCode).toBe(201);
    const supplier = await app.inject({ method: 'POST', url: '/v1/suppliers', headers, payload: { name: '示范合唱团（虚构）', kind: 'choir' } });
    expect(supplier.statusCode).toBe(201);
    const doc = (await app.inject('/openapi.json')).json();
    expect(doc.components.schemas.Unit.properties.kind.enum).toContain('elderly-home');
    expect(doc.components.schemas.Venue.properties.kind.enum).toContain('pier');
    expect(doc.paths['/v1/suppliers'].post.requestBody.content['application/json'].schema.properties.kind.enum).toContain('choir');
  });

  it('knows the deployment’s role, at its level: tokens with it are accepted there and refused elsewhere', async () => {
    const at = async (region: string) =>
      (await app.inject({ url: '/v1/suppliers', headers: await authHeader({ roles: ['volunteer-lead'], region }) })).statusCode;
    expect(await at('440103001')).toBe(200);
    expect(await at('440103')).toBe(401);
  });

  it('refuses at start-up a key defined twice, naming where it was defined first', async () => {
    const error = await startupFailure(bootWithoutDatabase([], { unitKinds: [{ key: 'school', name: '学校', nameEn: 'School' }] }));
    expect(error).toMatchObject({ code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID', message: expect.stringContaining('unit kind "school" is already defined by the kernel') });
    const plugin = definePlugin({
      name: 'kind-twin',
      version: '1.0.0',
      kernel: '^0.1.0',
      contributes: { supplierKinds: [choir] },
    });
    await expect(bootWithoutDatabase([plugin.configure()], { supplierKinds: [choir] })).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      plugin: 'kind-twin',
      message: expect.stringContaining('supplier kind "choir" is already defined by the deployment'),
    });
    await expect(bootWithoutDatabase([], { roles: [{ key: 'night-watch', name: '夜巡', nameEn: 'Night watch', level: 'province' }] })).rejects.toMatchObject({
      code: 'DIANDAN_ERR_PLUGIN_CONFIG_INVALID',
      message: expect.stringContaining('"province" is not one of the levels'),
    });
  });
});
