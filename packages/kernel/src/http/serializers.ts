import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { lazyFunction } from './lazy-compile.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

type Serializer = (data: unknown) => string;
type RouteSchema = { schema: unknown; contentType?: string };

/**
 * Fastify's response-serializer factory, with two economies that make start-up
 * cheaper without changing a byte of any answer:
 *
 * - Problem documents (`application/problem+json`, listed for half a dozen statuses on
 *   every route) are built by the kernel itself (`sendProblem`), so they are written
 *   with `JSON.stringify` instead of a fast-json-stringify function compiled for each
 *   route and status — most of the serializers a deployment would compile.
 * - Identical success schemas (every `ref(OrderSchema)`) are compiled once.
 * - Each is compiled when a response first needs it, not while the server gets ready
 *   (see lazy-compile.ts): a start compiles none.
 */
export function responseSerializers() {
  const select = SerializerSelector();
  return (externalSchemas: unknown, options: unknown) => {
    const compile = select(externalSchemas as never, options as never) as (route: RouteSchema) => Serializer;
    const compiled = new Map<string, Serializer>();
    return (route: RouteSchema): Serializer => {
      if (route.contentType === PROBLEM_CONTENT_TYPE) return problemJson;
      const key = `${route.contentType ?? ''} ${JSON.stringify(route.schema)}`;
      let serializer = compiled.get(key);
      if (!serializer) compiled.set(key, (serializer = lazyFunction(() => compile(route))));
      return serializer;
    };
  };
}

const problemJson: Serializer = (problem) => JSON.stringify(problem);
