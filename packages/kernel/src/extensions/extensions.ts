/**
 * Extension data: what a plugin knows about a kernel record (a supplier's
 * qualification status, a product's quality score, an order's plan), stored in the
 * plugin's own tables and shown with the record.
 *
 * The design follows Medusa's module links more than Vendure's custom fields: the
 * kernel's tables never change shape for a plugin. A plugin registers, per record
 * type, a read schema and a batched `load` (and optionally an input schema and a
 * `save`). The kernel then
 * - shows the data on every read of the record under `extensions.<plugin>` (null when
 *   the plugin has none for that record), loading a whole page with one `load` call
 *   per plugin — never one query per row;
 * - accepts `extensions.<plugin>` on the record's create (and update) bodies,
 *   validated against the plugin's input schema with the rest of the body, and hands it
 *   to `save` inside the same transaction as the kernel's own write, so the record and
 *   its extension data commit or roll back together;
 * - describes both in the OpenAPI document: the record's model gains an `extensions`
 *   object with one property per plugin.
 */
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import type { Actor } from '../auth/actor.js';
import type { Executor, Transaction } from '../db/database.js';
import type { Order } from '../orders/orders.js';
import type { ProductSummary } from '../products/products.js';
import type { Supplier } from '../suppliers/suppliers.js';
import type { Unit } from '../units/units.js';
import type { Venue } from '../venues/venues.js';

/** The kernel records plugins can extend. */
export const EXTENDABLE_RECORDS = ['supplier', 'product', 'unit', 'venue', 'order'] as const;
export type ExtendableRecord = (typeof EXTENDABLE_RECORDS)[number];

/** What `load` is given for each record type: the records as the kernel read them (products in their list form). */
export interface ExtendedRecords {
  supplier: Supplier;
  product: ProductSummary;
  unit: Unit;
  venue: Venue;
  order: Order;
}

/** The shared models that show each record (the product has a list and a full form). */
const MODELS: Readonly<Record<string, ExtendableRecord>> = {
  Supplier: 'supplier',
  Product: 'product',
  ProductSummary: 'product',
  Unit: 'unit',
  Venue: 'venue',
  Order: 'order',
};

/** What `save` is told about the write it is part of. */
export interface ExtensionWrite {
  readonly tx: Transaction;
  readonly actor: Actor;
  /** True when the record was created by this write, false when it was updated. */
  readonly created: boolean;
}

/** One plugin's extension of one record type. */
export interface ExtensionSpec<V, I, R = { readonly id: string }> {
  /** The shape shown on reads under `extensions.<plugin>`. */
  readonly schema: TSchema;
  /** The shape accepted on the record's writes under `extensions.<plugin>`; omit for read-only data. */
  readonly input?: TSchema;
  /**
   * The data of the records being shown (a whole page at once), in one query, by
   * record id. Records without data are left out of the map.
   */
  load(records: readonly R[], ctx: { readonly db: Executor }): Promise<ReadonlyMap<string, V>>;
  /** Stores what a write of the record brought, inside its transaction. Throw a `DomainError` to refuse it. */
  save?(recordId: string, value: I, ctx: ExtensionWrite): Promise<void>;
}

/** An extension bound to its record type; plugins return a list of these from `extensions(ctx)`. */
export interface ExtensionRegistration {
  readonly record: ExtendableRecord;
  readonly spec: ExtensionSpec<any, any, any>;
}

/** Declares extension data on a kernel record; the values follow the schemas, the records their type. */
export function extension<R extends ExtendableRecord, S extends TSchema, I extends TSchema = TObject<Record<never, never>>>(
  record: R,
  spec: {
    readonly schema: S;
    readonly input?: I;
    load(records: readonly ExtendedRecords[R][], ctx: { readonly db: Executor }): Promise<ReadonlyMap<string, Static<S>>>;
    save?(recordId: string, value: Static<I>, ctx: ExtensionWrite): Promise<void>;
  },
): ExtensionRegistration {
  if (spec.input && !spec.save) throw new TypeError(`an extension of "${record}" with an input schema needs save()`);
  return { record, spec };
}

/** Extension data as records carry it: one entry per extending plugin. */
export type ExtensionData = Readonly<Record<string, unknown>>;

interface Bound {
  readonly plugin: string;
  readonly spec: ExtensionSpec<unknown, unknown, any>;
}

/**
 * The extensions of a running deployment. Services hold it from the start; plugins'
 * registrations arrive once every plugin is initialised (like hook handlers).
 */
export class ExtensionRegistry {
  readonly #byRecord = new Map<ExtendableRecord, Bound[]>();

  /** Adds a plugin's extensions; the kernel calls this in plugin dependency order. */
  register(plugin: string, registrations: readonly ExtensionRegistration[]): void {
    for (const { record, spec } of registrations) {
      if (!EXTENDABLE_RECORDS.includes(record)) throw new TypeError(`plugin "${plugin}": "${record}" is not an extendable record`);
      const list = this.#byRecord.get(record) ?? [];
      if (list.some((b) => b.plugin === plugin)) throw new TypeError(`plugin "${plugin}" extends "${record}" twice`);
      list.push({ plugin, spec });
      this.#byRecord.set(record, list);
    }
  }

  /** True when some plugin extends `record`. */
  has(record: ExtendableRecord): boolean {
    return this.#byRecord.has(record);
  }

  /** True when some plugin accepts data on writes of `record`. */
  accepts(record: ExtendableRecord): boolean {
    return (this.#byRecord.get(record) ?? []).some((b) => b.spec.input);
  }

  /** `model` with an `extensions` property when its record is extended (a copy; the original is left alone). */
  extendModel<T extends TSchema & { $id: string }>(model: T): T {
    const record = MODELS[model.$id];
    const bound = record && this.#byRecord.get(record);
    if (!bound) return model;
    const properties = Object.fromEntries(bound.map((b) => [b.plugin, Type.Union([b.spec.schema, Type.Null()])]));
    const extensions = Type.Object(properties, { description: 'Data plugins keep about this record, one property per plugin (null: none)' });
    const object = model as unknown as TObject;
    return {
      ...model,
      properties: { ...object.properties, extensions },
      required: [...(object.required ?? []), 'extensions'],
    } as unknown as T;
  }

  /**
   * `body` (a write's TypeBox object) with an optional `extensions` property naming the
   * plugins that accept data on `record`; `body` itself when none does.
   */
  extendInput<T extends TObject>(record: ExtendableRecord, body: T): T {
    const bound = (this.#byRecord.get(record) ?? []).filter((b) => b.spec.input);
    if (bound.length === 0) return body;
    const properties = Object.fromEntries(bound.map((b) => [b.plugin, Type.Optional(b.spec.input!)]));
    return Type.Object(
      { ...body.properties, extensions: Type.Optional(Type.Object(properties, { description: 'Data for plugins, one property per plugin' })) },
      { ...((body as { description?: string }).description ? { description: (body as { description?: string }).description } : {}) },
    ) as unknown as T;
  }

  /**
   * The records with their extension data, loaded with one `load` per extending plugin
   * for the whole list. Returns `items` itself when nothing extends `record`.
   */
  async attach<T extends { readonly id: string }>(record: ExtendableRecord, items: readonly T[], db: Executor): Promise<T[]> {
    const bound = this.#byRecord.get(record);
    if (!bound || items.length === 0) return items as T[];
    const loaded = await Promise.all(bound.map(async (b) => [b.plugin, await b.spec.load(items, { db })] as const));
    return items.map((item) => ({
      ...item,
      extensions: Object.fromEntries(loaded.map(([plugin, values]) => [plugin, values.get(item.id) ?? null])),
    }));
  }

  /** One record with its extension data. */
  async attachOne<T extends { readonly id: string }>(record: ExtendableRecord, item: T, db: Executor): Promise<T> {
    return (await this.attach(record, [item], db))[0]!;
  }

  /** Hands each plugin its part of a write's `extensions`, inside the write's transaction. */
  async save(record: ExtendableRecord, recordId: string, input: ExtensionData | undefined, write: ExtensionWrite): Promise<void> {
    if (!input) return;
    for (const b of this.#byRecord.get(record) ?? []) {
      if (b.spec.save && input[b.plugin] !== undefined) await b.spec.save(recordId, input[b.plugin], write);
    }
  }
}
