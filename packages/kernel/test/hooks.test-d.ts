/**
 * Type tests (vitest typecheck): a hook reference decides the types of its handlers,
 * the service locator returns what a plugin's `init` returned, and `ctx.config`
 * follows the config schema. Each `@ts-expect-error` line must fail to compile.
 */
import {
  categoryList,
  createFilter,
  createHook,
  definePlugin,
  filter,
  kernel,
  on,
  regionsImported,
  type HookMeta,
  type HookRegistration,
  type KernelServices,
  type ReferenceEntry,
} from '@diandan/kernel';
import Type from 'typebox';
import { describe, expectTypeOf, it } from 'vitest';

interface Order {
  id: string;
  units: number;
}
const orderSubmitted = createHook<Order>('order.submitted');
const score = createFilter<number, { productId: string }>('matching.score');
const labels = createFilter<string[]>('catalog.labels');

describe('event handlers', () => {
  it('infer the payload and meta types from the hook', () => {
    const registration = on(orderSubmitted, (order, meta) => {
      expectTypeOf(order).toEqualTypeOf<Order>();
      expectTypeOf(meta).toEqualTypeOf<HookMeta>();
    });
    expectTypeOf(registration).toEqualTypeOf<HookRegistration>();
    on(regionsImported, ({ codes, created, updated }) => {
      expectTypeOf(codes).toEqualTypeOf<string[]>();
      expectTypeOf(created).toEqualTypeOf<number>();
      expectTypeOf(updated).toEqualTypeOf<number>();
    });
    // Async handlers are fine.
    on(orderSubmitted, async (order) => {
      await Promise.resolve(order.units);
    });
  });

  it('reject a handler whose payload type does not match the hook', () => {
    // @ts-expect-error `units` is a number, not a string
    on(orderSubmitted, (order: { id: string; units: string }) => void order);
    // @ts-expect-error the payload is an Order, not a string
    on(orderSubmitted, (order: string) => void order);
    // @ts-expect-error regions.imported carries codes, not an Order
    on(regionsImported, (order: Order) => void order);
  });

  it('reject using an undeclared payload property', () => {
    on(orderSubmitted, (order) => {
      // @ts-expect-error Order has no `total`
      void order.total;
    });
  });

  it('reject a filter hook where an event hook is expected', () => {
    // @ts-expect-error `on` takes event hooks; `score` is a filter
    on(score, () => {});
  });
});

describe('filter handlers', () => {
  it('infer the value and context types from the filter', () => {
    filter(score, (value, context) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      expectTypeOf(context).toEqualTypeOf<{ productId: string }>();
      return value * 2;
    });
    filter(categoryList, (items, { cursor }) => {
      expectTypeOf(items).toEqualTypeOf<ReferenceEntry[]>();
      expectTypeOf(cursor).toEqualTypeOf<string | undefined>();
      return items.filter((c) => c.key !== 'lecture');
    });
    filter(labels, async (value, context) => {
      expectTypeOf(context).toEqualTypeOf<undefined>();
      return [...value, 'new'];
    });
  });

  it('reject a handler returning the wrong type', () => {
    // @ts-expect-error a score filter must return a number
    filter(score, (value) => String(value));
    // @ts-expect-error nor a promise of something else
    filter(score, async (value) => `${value}`);
    // @ts-expect-error the category list filter must return entries, not their keys
    filter(categoryList, (items) => items.map((c) => c.key));
  });

  it('reject a handler with the wrong context type', () => {
    // @ts-expect-error the context is { productId: string }
    filter(score, (value, context: { userId: string }) => value + context.userId.length);
    // @ts-expect-error the category list context has a cursor, not a page number
    filter(categoryList, (items, context: { page: number }) => items.slice(context.page));
  });

  it('reject an event hook where a filter is expected', () => {
    // @ts-expect-error `filter` takes filter hooks; orderSubmitted is an event
    filter(orderSubmitted, (order) => order);
  });
});

describe('plugin services and config', () => {
  const counter = definePlugin({
    name: 'counter',
    version: '1.0.0',
    kernel: '^0.1.0',
    init: () => ({ next: (by: number) => by + 1, label: 'counter' as const }),
  });
  const ledger = definePlugin({
    name: 'ledger',
    version: '1.0.0',
    kernel: '^0.1.0',
    async init() {
      await Promise.resolve();
      return { balance: 10n };
    },
  });

  it('type ctx.services.get(plugin) as what that plugin’s init returned', () => {
    definePlugin({
      name: 'consumer',
      version: '1.0.0',
      kernel: '^0.1.0',
      dependsOn: ['counter'],
      optionalDependsOn: ['ledger'],
      init(ctx) {
        expectTypeOf(ctx.services.get(counter)).toEqualTypeOf<{ next: (by: number) => number; label: 'counter' }>();
        expectTypeOf(ctx.services.get(ledger)).toEqualTypeOf<{ balance: bigint }>();
        expectTypeOf(ctx.services.find(ledger)).toEqualTypeOf<{ balance: bigint } | undefined>();
        expectTypeOf(ctx.services.get(kernel)).toEqualTypeOf<KernelServices>();
        // @ts-expect-error counter's services have no `reset`
        ctx.services.get(counter).reset();
        return { total: ctx.services.get(counter).next(1) };
      },
      hooks(_ctx, services) {
        expectTypeOf(services).toEqualTypeOf<{ total: number }>();
        return [];
      },
    });
  });

  it('type ctx.config from the config schema, defaults included', () => {
    const board = definePlugin({
      name: 'board',
      version: '1.0.0',
      kernel: '^0.1.0',
      config: Type.Object({
        greeting: Type.String({ default: '你好' }),
        hideCategories: Type.Array(Type.String(), { default: [] }),
        maxPerDay: Type.Optional(Type.Integer()),
      }),
      init(ctx) {
        expectTypeOf(ctx.config.greeting).toEqualTypeOf<string>();
        expectTypeOf(ctx.config.hideCategories).toEqualTypeOf<string[]>();
        expectTypeOf(ctx.config.maxPerDay).toEqualTypeOf<number | undefined>();
        // @ts-expect-error there is no `colour` in the schema
        void ctx.config.colour;
        // @ts-expect-error the config is read-only
        ctx.config.greeting = 'hi';
      },
    });
    board.configure({ greeting: '您好', enabled: false });
    board.configure();
    // @ts-expect-error greeting is a string
    board.configure({ greeting: 42 });
    // @ts-expect-error unknown option
    board.configure({ greting: '您好' });
  });

  it('give a plugin without a config schema an empty config', () => {
    definePlugin({
      name: 'bare',
      version: '1.0.0',
      kernel: '^0.1.0',
      init(ctx) {
        expectTypeOf(ctx.config).toEqualTypeOf<Readonly<Record<string, never>>>();
      },
    });
  });
});
