import { DiandanStartupError, StartupErrorCodes } from '../errors.js';

/** One entry of a list a city can extend: a key integrators use and names people read. */
export interface ListEntry {
  readonly key: string;
  /** Chinese name, as residents and staff see it. */
  readonly name: string;
  readonly nameEn: string;
  readonly description?: string | undefined;
}

/** Where an entry came from, for error messages and `/v1/deployment`. */
export type ListSource = 'kernel' | 'deployment' | `plugin ${string}`;

/**
 * A list that is closed at run time but open to the deployment and its plugins: roles,
 * unit kinds, venue kinds, supplier kinds. Built once at start-up from the built-in
 * entries, the deployment's config and each plugin's `contributes`; a key given twice
 * is a start-up error naming both sources.
 */
export class OpenList<E extends ListEntry = ListEntry> {
  readonly #entries = new Map<string, E & { readonly source: ListSource }>();

  constructor(readonly name: string) {}

  /** Adds entries from `source`; throws `DIANDAN_ERR_PLUGIN_CONFIG_INVALID` on a key already taken. */
  add(source: ListSource, entries: readonly E[], at: string): this {
    entries.forEach((entry, i) => {
      const taken = this.#entries.get(entry.key);
      if (taken) {
        const plugin = source.startsWith('plugin ') ? source.slice(7) : 'kernel';
        throw new DiandanStartupError(
          StartupErrorCodes.PLUGIN_CONFIG_INVALID,
          `${at}[${i}].key: ${this.name} "${entry.key}" is already defined by ${taken.source === 'kernel' ? 'the kernel' : `the ${taken.source}`}; choose another key`,
          { plugin, path: `${at}[${i}].key` },
        );
      }
      this.#entries.set(entry.key, Object.freeze({ ...entry, source }));
    });
    return this;
  }

  has(key: unknown): key is string {
    return typeof key === 'string' && this.#entries.has(key);
  }

  get(key: string): (E & { readonly source: ListSource }) | undefined {
    return this.#entries.get(key);
  }

  /** Keys in the order they were added (built-ins first). */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  entries(): (E & { readonly source: ListSource })[] {
    return [...this.#entries.values()];
  }
}
