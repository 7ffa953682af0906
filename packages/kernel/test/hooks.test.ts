import {
  BUILTIN_CATEGORIES,
  DomainError,
  HookBus,
  HookHandlerError,
  categoryList,
  createFilter,
  createGuard,
  createHook,
  definePlugin,
  filter,
  guard,
  guardBatch,
  on,
  regionsImported,
  systemActor,
  transaction,
  type HookMeta,
} from '@diandan/kernel';
import { createTestServer, seedRegions, TEST_REGIONS } from '@diandan/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { noticeBoard } from './fixtures/notice-board/plugin.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quietBus() {
  const log = { error: vi.fn() };
  return { bus: new HookBus(log), log };
}

describe('createHook and createFilter', () => {
  it('accept ids of the form "<plugin>.<event>"', () => {
    for (const id of ['order.submitted', 'kernel.regions.imported', 'matching.score', 'supplier-registry.supplierApproved']) {
      expect(createHook<void>(id)).toMatchObject({ kind: 'event', id, mode: 'series' });
      expect(createFilter<number>(id)).toMatchObject({ kind: 'filter', id });
    }
    expect(createHook<void>('report.ready', { mode: 'parallel' }).mode).toBe('parallel');
  });

  it('reject ids that are not "<plugin>.<event>"', () => {
    for (const id of ['submitted', 'Order.submitted', 'order.', '.submitted', 'order submitted', 'order..submitted', 'order.1st', '']) {
      expect(() => createHook<void>(id), id).toThrow(TypeError);
      expect(() => createFilter<number>(id), id).toThrow(/must look like "<plugin>.<event>"/);
    }
  });
});

describe('events', () => {
  it('run handlers in series: each finishes before the next starts', async () => {
    const { bus } = quietBus();
    const hook = createHook<{ round: number }>('test.series');
    const trace: string[] = [];
    const step = (name: string, ms: number) =>
      on(hook, async () => {
        trace.push(`${name} start`);
        await sleep(ms);
        trace.push(`${name} end`);
      });
    bus.register('first', [step('first', 30)]);
    bus.register('second', [step('second', 5)]);
    bus.register('third', [step('third', 1)]);
    expect(await bus.emit(hook, { round: 1 })).toEqual([]);
    expect(trace).toEqual(['first start', 'first end', 'second start', 'second end', 'third start', 'third end']);
  });

  it('run handlers in parallel when the hook says so: they overlap in time', async () => {
    const { bus } = quietBus();
    const hook = createHook<{ round: number }>('test.parallel', { mode: 'parallel' });
    const trace: string[] = [];
    const step = (name: string, ms: number) =>
      on(hook, async () => {
        trace.push(`${name} start`);
        await sleep(ms);
        trace.push(`${name} end`);
      });
    bus.register('slow', [step('slow', 40)]);
    bus.register('quick', [step('quick', 5)]);
    await bus.emit(hook, { round: 1 });
    // quick starts before slow has finished, and finishes first.
    expect(trace).toEqual(['slow start', 'quick start', 'quick end', 'slow end']);
  });

  it('pass every handler the payload, the hook id and one event id', async () => {
    const { bus } = quietBus();
    const hook = createHook<{ orderId: string }>('order.submitted');
    const seen: [unknown, HookMeta][] = [];
    bus.register('audit', [on(hook, (payload, meta) => void seen.push([payload, meta]))]);
    bus.register('mailer', [on(hook, (payload, meta) => void seen.push([payload, meta]))]);
    await bus.emit(hook, { orderId: 'o-1' });
    expect(seen.map(([p]) => p)).toEqual([{ orderId: 'o-1' }, { orderId: 'o-1' }]);
    expect(seen[0]![1]).toEqual({ hookId: 'order.submitted', eventId: expect.stringMatching(/^[0-9a-f-]{36}$/), attempt: 1 });
    expect(seen[1]![1].eventId).toBe(seen[0]![1].eventId);
    expect(await bus.emit(createHook<number>('nobody.listens'), 1)).toEqual([]);
  });

  it('give handlers a frozen copy: a handler cannot change what the caller or the next handler sees', async () => {
    const { bus, log } = quietBus();
    const hook = createHook<{ order: { status: string; tags: string[] } }>('order.approved');
    const seenByLater: unknown[] = [];
    bus.register('meddler', [
      on(hook, ({ order }) => {
        (order as { status: string }).status = 'closed';
      }),
      on(hook, ({ order }) => void order.tags.push('meddled')),
    ]);
    bus.register('later', [on(hook, (payload) => void seenByLater.push(structuredClone(payload)))]);
    const payload = { order: { status: 'approved', tags: ['a'] } };
    const failures = await bus.emit(hook, payload);
    expect(failures.map((f) => [f.plugin, (f.error as Error).name])).toEqual([
      ['meddler', 'TypeError'],
      ['meddler', 'TypeError'],
    ]);
    expect(log.error).toHaveBeenCalledTimes(2);
    expect(payload).toEqual({ order: { status: 'approved', tags: ['a'] } });
    expect(seenByLater).toEqual([{ order: { status: 'approved', tags: ['a'] } }]);
  });

  for (const mode of ['series', 'parallel'] as const) {
    it(`keep running the other handlers when one throws (${mode}) and report the failure`, async () => {
      const { bus, log } = quietBus();
      const hook = createHook<{ round: number }>(`test.failing-${mode}`, { mode });
      const boom = new Error('mailer is down');
      const calls: string[] = [];
      bus.register('before', [on(hook, () => void calls.push('before'))]);
      bus.register('mailer', [
        on(hook, async () => {
          await sleep(1);
          throw boom;
        }),
      ]);
      bus.register('after', [on(hook, () => void calls.push('after'))]);
      const failures = await bus.emit(hook, { round: 1 });
      expect(calls).toEqual(['before', 'after']);
      expect(failures).toEqual([{ plugin: 'mailer', error: boom }]);
      expect(log.error).toHaveBeenCalledTimes(1);
      expect(log.error.mock.calls[0]![0]).toMatchObject({ err: boom, hook: hook.id, plugin: 'mailer' });
    });
  }
});

describe('events published with a transaction', () => {
  const noted = createHook<{ body: string }>('test.noted');
  let app: FastifyInstance;
  const heard: string[] = [];
  const listener = definePlugin({
    name: 'listener',
    version: '1.0.0',
    kernel: '^0.1.0',
    hooks: () => [
      on(noted, async ({ body }) => {
        await sleep(body === 'slow' ? 1500 : 0);
        heard.push(body);
      }),
    ],
  });
  beforeAll(async () => {
    app = await createTestServer({ plugins: [listener.configure()] });
  });
  afterAll(() => app?.close());
  const publish = (body: string, fail = false) =>
    transaction(app.diandan.database.db, async (tx) => {
      await app.diandan.hooks.publish(tx, noted, { body });
      if (fail) throw new Error('rolled back');
    });

  it('runs in-request handlers after the commit, without holding the caller', async () => {
    const started = performance.now();
    await publish('slow');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(heard).toEqual([]);
    await app.diandan.hooks.settled();
    expect(heard).toEqual(['slow']);
  });

  it('runs nothing when the transaction rolls back', async () => {
    heard.length = 0;
    await expect(publish('never', true)).rejects.toThrow('rolled back');
    await app.diandan.hooks.settled();
    expect(heard).toEqual([]);
  });
});

describe('filters', () => {
  it('pass the value through every handler in turn (waterfall), with the context', async () => {
    const { bus } = quietBus();
    const score = createFilter<number, { productId: string }>('matching.score');
    const seen: unknown[] = [];
    bus.register('base', [filter(score, (v, ctx) => (seen.push([v, ctx.productId]), v + 10))]);
    bus.register('double', [filter(score, async (v) => (seen.push(v), v * 2))]);
    bus.register('cap', [filter(score, (v) => (seen.push(v), Math.min(v, 25)))]);
    expect(await bus.apply(score, 3, { productId: 'p-9' })).toBe(25);
    expect(seen).toEqual([[3, 'p-9'], 13, 26]);
    expect(bus.handlersOf(score)).toEqual(['base', 'double', 'cap']);
  });

  it('return the value unchanged when nobody filters', async () => {
    const { bus } = quietBus();
    expect(await bus.apply(createFilter<string[]>('nobody.filters'), ['a'], undefined)).toEqual(['a']);
  });

  it('stop at a handler that throws and reject with HookHandlerError naming the plugin', async () => {
    const { bus } = quietBus();
    const visibility = createFilter<string[]>('catalog.visibility');
    const cause = new Error('rules file missing');
    const later = vi.fn((v: string[]) => v);
    bus.register('first', [filter(visibility, (v) => [...v, 'first'])]);
    bus.register('strict-rules', [
      filter(visibility, () => {
        throw cause;
      }),
    ]);
    bus.register('later', [filter(visibility, later)]);
    const error = await bus.apply(visibility, [], undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookHandlerError);
    expect(error).toMatchObject({
      code: 'DIANDAN_ERR_HOOK_HANDLER_FAILED',
      plugin: 'strict-rules',
      hookId: 'catalog.visibility',
      cause,
      message: expect.stringContaining('plugin "strict-rules"'),
    });
    expect((error as Error).message).toContain('rules file missing');
    expect(later).not.toHaveBeenCalled();
  });
});

describe('refusals', () => {
  it('let a DomainError thrown by a filter handler through as itself', async () => {
    const { bus } = quietBus();
    const visibility = createFilter<string[]>('catalog.visibility');
    const refusal = new DomainError('forbidden', 'CATALOG_CLOSED', 'The catalogue is closed for the night');
    bus.register('night', [
      filter(visibility, () => {
        throw refusal;
      }),
    ]);
    await expect(bus.apply(visibility, [], undefined)).rejects.toBe(refusal);
  });

  it('run guards in order on a frozen copy; the first DomainError refuses, anything else names the plugin', async () => {
    const { bus } = quietBus();
    const publishing = createGuard<{ title: string }>('notice.publish');
    const order: string[] = [];
    bus.register('polite', [guard(publishing, ({ title }) => void order.push(`polite ${title}`))]);
    bus.register('strict', [
      guard(publishing, (subject) => {
        order.push('strict');
        if (subject.title.includes('!')) throw new DomainError('invalid', 'NOTICE_SHOUTING', 'No shouting');
      }),
    ]);
    bus.register('later', [guard(publishing, () => void order.push('later'))]);
    const context = { tx: {} as never, actor: systemActor('test', { roles: ['city-admin'] }) };
    await bus.check(publishing, { title: 'hello' }, context);
    expect(order).toEqual(['polite hello', 'strict', 'later']);
    order.length = 0;
    await expect(bus.check(publishing, { title: 'hello!' }, context)).rejects.toMatchObject({ code: 'NOTICE_SHOUTING', kind: 'invalid' });
    expect(order).toEqual(['polite hello!', 'strict']);

    const mutating = createGuard<{ title: string }>('notice.edit');
    bus.register('meddler', [guard(mutating, (s) => void ((s as { title: string }).title = 'changed'))]);
    const error = await bus.check(mutating, { title: 'x' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookHandlerError);
    expect(error).toMatchObject({ plugin: 'meddler', hookId: 'notice.edit' });
  });
});

describe('batch guards', () => {
  const admin = systemActor('test', { roles: ['city-admin'] });
  const items = (...titles: string[]) => titles.map((title) => ({ subject: { title }, actor: admin }));

  it('see every item still passing in one call, after the per-item guards registered before them', async () => {
    const { bus } = quietBus();
    const publishing = createGuard<{ title: string }>('notice.publish');
    const seen: string[][] = [];
    bus.register('first', [guard(publishing, ({ title }) => { if (title === 'b') throw new DomainError('invalid', 'NO_B', 'no b'); })]);
    bus.register('batch', [
      guardBatch(publishing, (batch) => {
        seen.push(batch.map((i) => i.subject.title));
        return batch.map((i) => (i.subject.title === 'c' ? new DomainError('conflict', 'NO_C', 'no c') : undefined));
      }),
    ]);
    const refusals = await bus.checkMany(publishing, items('a', 'b', 'c', 'd'), {} as never);
    expect(refusals.map((r) => (r as DomainError | undefined)?.code)).toEqual([undefined, 'NO_B', 'NO_C', undefined]);
    expect(seen).toEqual([['a', 'c', 'd']]);
    // A single check runs the batch handler with one item and throws its refusal.
    await expect(bus.check(publishing, { title: 'c' }, { tx: {} as never, actor: admin })).rejects.toMatchObject({ code: 'NO_C' });
  });

  it('fail every item, naming the plugin, when the handler throws or answers for the wrong number of items', async () => {
    const { bus } = quietBus();
    const throwing = createGuard<{ title: string }>('notice.throwing');
    bus.register('broken', [guardBatch(throwing, () => { throw new Error('database on fire'); })]);
    const thrown = await bus.checkMany(throwing, items('a', 'b'), {} as never);
    expect(thrown).toHaveLength(2);
    for (const refusal of thrown) expect(refusal).toMatchObject({ name: 'HookHandlerError', plugin: 'broken' });

    const short = createGuard<{ title: string }>('notice.short');
    bus.register('sloppy', [guardBatch(short, () => [undefined])]);
    const answered = await bus.checkMany(short, items('a', 'b'), {} as never);
    for (const refusal of answered) expect(refusal).toBeInstanceOf(HookHandlerError);
  });
});

describe('hooks in a running deployment', () => {
  // Two plugins listed against their dependency order: relay must run after source.
  const importedBy: string[] = [];
  const source = definePlugin({
    name: 'zz-source',
    version: '1.0.0',
    kernel: '^0.1.0',
    hooks: () => [
      on(regionsImported, ({ codes }) => {
        importedBy.push('zz-source');
        if (codes.includes('440199')) throw new Error('zz-source cannot handle 440199');
      }),
      filter(categoryList, (items) => items.map((c) => ({ ...c, name: `${c.name}·zz` }))),
    ],
  });
  const relay = definePlugin({
    name: 'aa-relay',
    version: '1.0.0',
    kernel: '^0.1.0',
    deps: { source },
    hooks: () => [
      on(regionsImported, () => void importedBy.push('aa-relay')),
      filter(categoryList, (items, { cursor }) => items.map((c) => ({ ...c, name: `${c.name}·aa${cursor ? '+' : ''}` }))),
    ],
  });

  let app: FastifyInstance;
  beforeAll(async () => {
    app = await createTestServer({
      plugins: [relay.configure(), noticeBoard({ hideCategories: ['lecture', 'screening'] }), source.configure()],
    });
  });
  afterAll(() => app?.close());

  it('registers handlers in plugin dependency order', () => {
    expect(app.diandan.hooks.handlersOf(regionsImported)).toEqual(['notice-board', 'zz-source', 'aa-relay']);
    expect(app.diandan.hooks.handlersOf(categoryList)).toEqual(['notice-board', 'zz-source', 'aa-relay']);
  });

  it('delivers kernel.regions.imported to plugins after an import', async () => {
    await seedRegions(app);
    await app.diandan.hooks.settled();
    expect(importedBy).toEqual(['zz-source', 'aa-relay']);
    const res = await app.inject('/v1/notices/440100');
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([
      expect.objectContaining({ regionCode: '440100', body: 'regions imported', regionsImported: TEST_REGIONS.length }),
    ]);

    // Importing again reports no new regions.
    await seedRegions(app, TEST_REGIONS.slice(0, 1));
    await app.diandan.hooks.settled();
    const items = (await app.inject('/v1/notices/440100')).json().items as { regionsImported: number }[];
    expect(items.map((n) => n.regionsImported)).toEqual([0, TEST_REGIONS.length]);
  });

  it('keeps an import when one plugin’s handler fails, and still runs the handlers after it', async () => {
    importedBy.length = 0;
    const result = await app.diandan.services.regions.import([{ code: '440199', parentCode: '440100', level: 'district', name: '测试区' }]);
    expect(result).toEqual({ created: 1, updated: 0 });
    await app.diandan.hooks.settled();
    expect(importedBy).toEqual(['zz-source', 'aa-relay']);
    expect((await app.inject('/v1/regions/440199')).statusCode).toBe(200);
    const notices = (await app.inject('/v1/notices/440199')).json().items;
    expect(notices).toHaveLength(1);
  });

  it('filters kernel.categories.list through every plugin, in order, over HTTP', async () => {
    const res = await app.inject('/v1/categories?limit=200');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { key: string; name: string }[];
    const shown = BUILTIN_CATEGORIES.filter((c) => c.key !== 'lecture' && c.key !== 'screening');
    expect(items.map((c) => c.key)).toEqual(shown.map((c) => c.key));
    // zz-source renames first, then aa-relay sees zz-source's name (a waterfall).
    expect(items.map((c) => c.name)).toEqual(shown.map((c) => `${c.name}·zz·aa`));

    // The filter's context carries the page asked for.
    const first = (await app.inject('/v1/categories?limit=3')).json();
    const next = (await app.inject(`/v1/categories?limit=3&cursor=${first.nextCursor}`)).json();
    expect(next.items[0].name).toMatch(/·zz·aa\+$/);
  });
});

describe('shutting down with an in-request handler that never finishes', () => {
  it('closes after the jobs’ grace period instead of waiting for it', async () => {
    let started = false;
    const stuck = definePlugin({
      name: 'stuck-listener',
      version: '1.0.0',
      kernel: '^0.1.0',
      hooks: () => [
        on(regionsImported, () => {
          started = true;
          return new Promise<void>(() => {}); // never settles
        }),
      ],
    });
    const app = await createTestServer({ plugins: [stuck.configure()], kernel: { jobs: { shutdownTimeoutSeconds: 1 } } });
    await seedRegions(app);
    for (let i = 0; i < 100 && !started; i++) await new Promise((r) => setTimeout(r, 20));
    expect(started).toBe(true);
    expect(await app.diandan.hooks.settled(50)).toBe(false);
    const t0 = Date.now();
    await app.close();
    // The grace period (1 s) and the rest of the shutdown, not the test's 30 s timeout.
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
