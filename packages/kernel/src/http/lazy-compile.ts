/**
 * Route schemas compiled on first use rather than at start-up.
 *
 * Fastify compiles every route's request validators (Ajv) and response serializers
 * (fast-json-stringify) while the server gets ready: for a deployment of a dozen
 * plugins that is several hundred functions, most of which a given process never
 * calls, and the largest share of a start's CPU after the database. Here each is
 * compiled the first time a request needs it, by the same compiler with the same
 * schema and options — so what is accepted, refused and sent is byte for byte what an
 * eagerly compiled function would do; only the moment of compilation moves.
 *
 * The one visible difference: a schema the compiler rejects (invalid JSON Schema)
 * fails the first request that needs it (a 500) instead of the start. The kernel's
 * bad-input tests (`fuzzRoutes`) call every route, so such a schema is still found by
 * any package's test suite.
 */

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * A function standing for the one `build` returns, built on its first call — or on the
 * first read of one of its properties (Ajv's validators carry `errors`, `schemaEnv`…,
 * which Fastify reads around each call).
 */
export function lazyFunction<F extends AnyFunction>(build: () => F): F {
  let built: F | undefined;
  const get = (): F => (built ??= build());
  return new Proxy(function lazy() {} as unknown as F, {
    apply: (_target, thisArg, args) => Reflect.apply(get(), thisArg, args),
    get: (_target, property) => Reflect.get(get(), property),
    has: (_target, property) => Reflect.has(get(), property),
    set: (_target, property, value) => Reflect.set(get(), property, value),
  });
}

interface AjvLike {
  compile(schema: unknown, meta?: boolean): AnyFunction;
}

/**
 * An Ajv plugin (Fastify's `ajv.plugins`) that makes the instance's `compile` lazy.
 * Fastify's validator compiler calls `ajv.compile(schema)` for each part of each
 * route; the validator returned compiles on first use. Schemas with an `$id` are
 * compiled at once: Ajv registers them under that id, and a later route naming the
 * same id looks it up.
 */
export function lazyAjvCompile(ajv: AjvLike): void {
  const compile = ajv.compile.bind(ajv);
  ajv.compile = (schema: unknown, meta?: boolean) => {
    if (schema === null || typeof schema !== 'object' || '$id' in schema) return compile(schema, meta);
    return lazyFunction(() => compile(schema, meta));
  };
}
