import Type, { type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * A `$ref` to a shared model registered through `definePlugin({ schemas })`, typed as
 * the model itself. The OpenAPI document shows it under `components.schemas.<$id>`.
 */
export function ref<T extends TSchema & { $id: string }>(schema: T): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** A shared model: `schema` with an `$id`, to list in `definePlugin({ schemas })` and point at with `ref`. */
export function model<T extends TSchema>(id: string, schema: T): T & { $id: string } {
  return Object.assign(schema, { $id: id, title: (schema as { title?: string }).title ?? id });
}

/** A copy of `schema` in which every object without an explicit `additionalProperties` is closed. */
export function closeObjects(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'const' ? v : closeObjects(v);
  if (out.type === 'object' && out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}
