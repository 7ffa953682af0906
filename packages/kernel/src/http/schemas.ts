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
