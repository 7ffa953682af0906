/**
 * Type tests (checked by tsc in `pnpm check` and `pnpm typecheck`, not run by vitest): a hook reference decides the types of its handlers,
 * `ctx.deps` holds what each declared dependency's `init` returned (and nothing
 * undeclared), guards and extensions follow their references and schemas, and
 * `ctx.config` follows the config schema. Each `@ts-expect-error` line must fail to compile.
 */
import {
  categoryList,
  createFilter,
  createGuard,
  createHook,
  definePlugin,
  DomainError,
  extension,
  filter,
  guard,
  kernel,
  on,
  orderPlacementGuard,
  regionsImported,
  Type as KernelType,
  type Actor,
  type HookMeta,
  type HookRegistration,
  type KernelServices,
  type Order as KernelOrder,
  type ReferenceEntry,
  type Supplier,
  type Transaction,
} from '@diandan/kernel';
import Type from 'typebox';
import { describe, expectTypeOf, it } from 'vitest';

interface Order {
  id: string;
  units: number;
}
const orderSubmitted = createHook<Order>('order.submitted');
const publishGuard = createGuard<{ id: string; title: string }>('notice.publish');
const score = createFilter<number, { productId: string }>('matching.score');
const labels = createFilter<string[]>('catalog.labels');

describe('event handlers', () => {
  it('infer the payload and meta types from the hook', () => {
    const registration = on(orderSubmitted, (order, meta) => {
      expectTypeOf(order).toEqualTypeOf<Readonly<Order>>();
      expectTypeOf(meta).toEqualTypeOf<HookMeta>();
      expectTypeOf(meta.eventId).toEqualTypeOf<string>();
    });
    expectTypeOf(registration).toEqualTypeOf<HookRegistration>();
    on(orderSubmitted, (order) => void order, { durable: true });
    // @ts-expect-error a payload is read-only: handlers cannot change what others see
    on(orderSubmitted, (order) => void (order.units = 2));
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

describe('guard handlers', () => {
  it('infer the subject and context from the guard', () => {
    guard(publishGuard, (subject, context) => {
      expectTypeOf(subject).toEqualTypeOf<Readonly<{ id: string; title: string }>>();
      expectTypeOf(context.tx).toEqualTypeOf<Transaction>();
      expectTypeOf(context.actor).toEqualTypeOf<Actor>();
      if (subject.title.length > 100) throw new DomainError('invalid', 'NOTICE_TOO_LONG', 'Keep it short');
    });
    guard(orderPlacementGuard, async ({ order }) => {
      expectTypeOf(order).toEqualTypeOf<KernelOrder>();
    });
  });

  it('reject a guard handler of the wrong subject, and guards where events or filters are expected', () => {
    // @ts-expect-error the subject has a title, not a body
    guard(publishGuard, (subject: { id: string; body: string }) => void subject);
    // @ts-expect-error `on` takes event hooks
    on(publishGuard, () => {});
    // @ts-expect-error `guard` takes guard hooks
    guard(orderSubmitted, () => {});
    // @ts-expect-error a guard decides by throwing; it returns nothing
    guard(publishGuard, () => true);
  });
});

describe('extensions', () => {
  it('type load and save from the schemas', () => {
    extension('supplier', {
      schema: KernelType.Object({ tier: KernelType.String(), score: KernelType.Number() }),
      input: KernelType.Object({ licence: KernelType.String() }),
      async load(suppliers) {
        expectTypeOf(suppliers).toEqualTypeOf<readonly Supplier[]>();
        return new Map([[suppliers[0]!.id, { tier: 'quality', score: 4.5 }]]);
      },
      async save(id, value) {
        expectTypeOf(value).toEqualTypeOf<{ licence: string }>();
        void id;
      },
    });
    extension('product', {
      schema: KernelType.Object({ score: KernelType.Number() }),
      // @ts-expect-error load must give values of the schema: score is a number
      load: async (products) => new Map(products.map((p) => [p.id, { score: 'high' }])),
    });
    // @ts-expect-error only kernel records can be extended
    extension('notice', { schema: KernelType.Object({}), load: async () => new Map() });
  });
});

describe('plugin dependencies and config', () => {
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

  it('type ctx.deps as what each dependency’s init returned; optional ones may be undefined', () => {
    const consumer = definePlugin({
      name: 'consumer',
      version: '1.0.0',
      kernel: '^0.1.0',
      deps: { kernel, counter },
      optionalDeps: { ledger },
      init(ctx) {
        expectTypeOf(ctx.deps.counter).toEqualTypeOf<{ next: (by: number) => number; label: 'counter' }>();
        expectTypeOf(ctx.deps.ledger).toEqualTypeOf<{ balance: bigint } | undefined>();
        expectTypeOf(ctx.deps.kernel).toEqualTypeOf<KernelServices>();
        // @ts-expect-error counter's services have no `reset`
        ctx.deps.counter.reset();
        // @ts-expect-error an optional dependency may be absent
        void ctx.deps.ledger.balance;
        return { total: ctx.deps.counter.next(1) };
      },
      hooks(ctx, services) {
        expectTypeOf(services).toEqualTypeOf<{ total: number }>();
        expectTypeOf(ctx.deps.counter.label).toEqualTypeOf<'counter'>();
        return [];
      },
    });
    expectTypeOf(consumer.dependsOn).toEqualTypeOf<readonly string[]>();
  });

  it('reject using a plugin that is not declared', () => {
    definePlugin({
      name: 'nosy',
      version: '1.0.0',
      kernel: '^0.1.0',
      deps: { counter },
      init(ctx) {
        // @ts-expect-error ledger is not declared, so there is nothing to use
        void ctx.deps.ledger;
        // @ts-expect-error nor the kernel, unless declared
        void ctx.deps.kernel.regions;
      },
    });
    // @ts-expect-error deps are plugin definitions, not names
    definePlugin({ name: 'stringly', version: '1.0.0', kernel: '^0.1.0', deps: { counter: 'counter' } });
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
