import Type, { type Static, type TSchema } from 'typebox';
import { DomainError } from '../errors.js';

/** Largest page a client may ask for; lists are never unbounded. */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Query parameters every list route accepts. */
export const PageQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: 'Items per page' }),
  ),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 512, description: 'Opaque cursor from a previous page’s `nextCursor`' }),
  ),
});
export type PageQuery = Static<typeof PageQuery>;

/** A page of `item`s; `nextCursor` is null on the last page. */
export function Page<T extends TSchema>(item: T, title: string) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page' }),
    },
    { title },
  );
}

/** A page as domain logic returns it. */
export interface PageOf<T> {
  items: T[];
  nextCursor: string | null;
}

/** What a list query in the domain receives. */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/** The `PageRequest` of a route's validated `PageQuery` (limit defaults to 50). */
export function pageRequest(query: { limit?: number | undefined; cursor?: string | undefined }): PageRequest {
  return { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor };
}

/**
 * Encodes a keyset position (the sort key of the last item) as an opaque string.
 * `list` names the ordering (e.g. `regions.by-path`), so a cursor from another list
 * is refused instead of silently skipping rows.
 */
export function encodeCursor(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** What one part of a cursor's key is: a record id, a piece of text or a number. */
export type CursorKeyKind = 'uuid' | 'text' | 'integer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A forged cursor must fail here, as a 400, not in the database as a 500.
const KEY_CHECKS: Record<CursorKeyKind | 'any', (k: unknown) => boolean> = {
  uuid: (k) => typeof k === 'string' && UUID.test(k),
  text: (k) => typeof k === 'string' && !k.includes('\u0000'),
  integer: (k) => Number.isSafeInteger(k),
  any: (k) => (typeof k === 'string' && !k.includes('\u0000')) || (typeof k === 'number' && Number.isFinite(k)),
};

/**
 * Decodes a cursor made by `encodeCursor` for `list`; a tampered or foreign one is a
 * 400. `shape` is the number of key parts, or better the kind of each part.
 */
export function decodeCursor(cursor: string, list: string, shape: number | readonly CursorKeyKind[]): (string | number)[] {
  const kinds = typeof shape === 'number' ? Array.from({ length: shape }, () => 'any' as const) : shape;
  try {
    const [tag, ...key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (tag === list && key.length === kinds.length && key.every((k, i) => KEY_CHECKS[kinds[i]!](k))) {
      return key as (string | number)[];
    }
  } catch {
    // fall through
  }
  throw new DomainError('bad_request', 'INVALID_CURSOR', 'The cursor is not one this list produced');
}

/**
 * Builds a page from rows fetched with `limit + 1`: the extra row only tells that
 * there is a next page, and the cursor points after the last row returned.
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  list: string,
  key: (row: R) => (string | number)[],
  map: (row: R) => T,
): PageOf<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    nextCursor: more ? encodeCursor(list, key(items[items.length - 1]!)) : null,
  };
}
