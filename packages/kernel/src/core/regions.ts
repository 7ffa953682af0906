import { and, asc, eq, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import { inScope } from '../auth/scope.js';
import type { Actor } from '../auth/actor.js';
import type { ReadOptions } from '../call.js';
import { withTransaction, type Database, type Executor, type Transaction } from '../db/database.js';
import { DomainError, notFound, ProblemCodes } from '../errors.js';
import type { HookBus } from '../hooks.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { regionsImported } from './hooks.js';
import { regions } from './schema.js';

/** A node of the region tree (行政区划): city, district, street, community, … */
export interface Region {
  code: string;
  parentCode: string | null;
  /** One of the deployment's level names, e.g. `street`. */
  level: string;
  name: string;
  population: number | null;
  centroid: { lat: number; lng: number } | null;
  /** True for demo regions that were invented rather than taken from a register. */
  synthetic: boolean;
}

/** A region with its boundary (GeoJSON), as a single-region read returns it. */
export interface RegionDetail extends Region {
  geometry: GeoJsonGeometry | null;
}

/** A GeoJSON geometry object (`{ type: 'Polygon', coordinates: [...] }`). */
export type GeoJsonGeometry = Record<string, unknown>;

/** What `import` accepts: one node; its parent must be in the same batch or already stored. */
export interface RegionInput {
  code: string;
  parentCode?: string | null | undefined;
  level: string;
  name: string;
  population?: number | null | undefined;
  centroid?: { lat: number; lng: number } | null | undefined;
  geometry?: GeoJsonGeometry | null | undefined;
  synthetic?: boolean | undefined;
}

/** Region codes: administrative codes (GB/T 2260) or any short token without separators. */
export const REGION_CODE = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

const listColumns = {
  code: regions.code,
  parentCode: regions.parentCode,
  level: regions.level,
  name: regions.name,
  population: regions.population,
  centroidLat: regions.centroidLat,
  centroidLng: regions.centroidLng,
  synthetic: regions.synthetic,
  path: regions.path,
};
// Names of the two orderings region lists use, carried in their cursors.
const BY_CODE = 'regions.by-code';
const BY_PATH = 'regions.by-path';

/** `path` compared byte by byte, matching the index (see schema.ts). */
const pathInC = sql`${regions.path} collate "C"`;

type ListRow = { [K in keyof typeof listColumns]: (typeof regions.$inferSelect)[K] };

function toRegion(r: ListRow): Region {
  return {
    code: r.code,
    parentCode: r.parentCode,
    level: r.level,
    name: r.name,
    population: r.population,
    centroid: r.centroidLat == null || r.centroidLng == null ? null : { lat: r.centroidLat, lng: r.centroidLng },
    synthetic: r.synthetic,
  };
}

/**
 * Queries and maintains the region tree. Levels come from the deployment. Reads take
 * an optional executor so that callers inside a transaction read through it.
 */
export class RegionService {
  private readonly located = new Map<string, RegionLocation>();

  constructor(
    private readonly db: Database,
    private readonly levels: readonly string[],
    private readonly hooks: HookBus,
  ) {}

  /** One region with its geometry; `REGION_NOT_FOUND` when there is none. */
  async get(code: string, { tx: db = this.db }: ReadOptions = {}): Promise<RegionDetail> {
    const [row] = await db
      .select({ ...listColumns, geometry: regions.geometry })
      .from(regions)
      .where(eq(regions.code, code));
    if (!row) throw regionNotFound(code);
    return { ...toRegion(row), geometry: (row.geometry as GeoJsonGeometry | null) ?? null };
  }

  /** All regions, optionally of one level, ordered by code. */
  async list(query: { level?: string | undefined; page: PageRequest }): Promise<PageOf<Region>> {
    const { page, ...filter } = query;
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_CODE, ['text'])[0]) : undefined;
    const rows = await this.db
      .select(listColumns)
      .from(regions)
      .where(
        and(filter.level ? eq(regions.level, filter.level) : undefined, after ? gt(regions.code, after) : undefined),
      )
      .orderBy(asc(regions.code))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_CODE, (r) => [r.code], toRegion);
  }

  /** Direct children of a region, ordered by code. */
  async children(query: { code: string; page: PageRequest }): Promise<PageOf<Region>> {
    const { code, page } = query;
    await this.requirePath(code);
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_CODE, ['text'])[0]) : undefined;
    const rows = await this.db
      .select(listColumns)
      .from(regions)
      .where(and(eq(regions.parentCode, code), after ? gt(regions.code, after) : undefined))
      .orderBy(asc(regions.code))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_CODE, (r) => [r.code], toRegion);
  }

  /** The chain from the root down to the region's parent (root first). */
  async ancestors(code: string, { tx: db = this.db }: ReadOptions = {}): Promise<Region[]> {
    const path = await this.requirePath(code, db);
    const codes = path.split('/').filter(Boolean).slice(0, -1);
    if (codes.length === 0) return [];
    const rows = await db.select(listColumns).from(regions).where(inArray(regions.code, codes));
    return rows.sort((a, b) => a.path.length - b.path.length).map(toRegion);
  }

  /**
   * The region and everything below it, depth-first (a parent comes right before its
   * children). `depth` limits how many levels below the region are included.
   */
  async subtree(query: { code: string; depth?: number | undefined; page: PageRequest }): Promise<PageOf<Region>> {
    const { code, page, ...options } = query;
    const path = await this.requirePath(code);
    const base = path.split('/').filter(Boolean).length - 1;
    const after = page.cursor ? String(decodeCursor(page.cursor, BY_PATH, ['text'])[0]) : undefined;
    const rows = await this.db
      .select(listColumns)
      .from(regions)
      .where(
        and(
          sql`${pathInC} like ${`${path}%`}`,
          options.depth === undefined ? undefined : lte(regions.depth, base + options.depth),
          after ? sql`${pathInC} > ${after}` : undefined,
        ),
      )
      .orderBy(pathInC)
      .limit(page.limit + 1);
    return toPage(rows, page.limit, BY_PATH, (r) => [r.path], toRegion);
  }

  /**
   * Where a region sits: its materialised path (`440100/440103/`) and level, or
   * undefined when it does not exist. Regions never move or change level, so this is
   * remembered.
   */
  async locate(code: string, { tx: db = this.db }: ReadOptions = {}): Promise<RegionLocation | undefined> {
    const known = this.located.get(code);
    if (known) return known;
    const [row] = await db.select({ path: regions.path, level: regions.level }).from(regions).where(eq(regions.code, code));
    if (row) this.located.set(code, row);
    return row;
  }

  /** The materialised path of a region, or undefined when it does not exist. */
  async path(code: string, options?: ReadOptions): Promise<string | undefined> {
    return (await this.locate(code, options))?.path;
  }

  /**
   * The path of a region inside the actor's subtree; `REGION_NOT_FOUND` when it does not
   * exist or lies outside (out-of-scope regions answer as if they did not exist).
   */
  async pathInScope(code: string, actor: Pick<Actor, 'regionPath'>, options?: ReadOptions): Promise<string> {
    const path = await this.path(code, options);
    if (!path || !inScope(actor, path)) throw regionNotFound(code);
    return path;
  }

  /** The top of the tree (the city), or undefined before any region is imported. */
  async root({ tx: db = this.db }: ReadOptions = {}): Promise<{ code: string; path: string } | undefined> {
    const [row] = await db
      .select({ code: regions.code, path: regions.path })
      .from(regions)
      .where(isNull(regions.parentCode))
      .orderBy(asc(regions.code))
      .limit(1);
    return row;
  }

  /** How many regions there are. */
  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(regions);
    return row?.n ?? 0;
  }

  /**
   * Inserts or updates regions in one transaction. Parents may come in the same batch
   * in any order. Each region's level must be one of the deployment's levels and lie
   * below its parent's; a region cannot move to another parent or change level (its
   * subtree would have to change with it — do that as an explicit migration). Emits `kernel.regions.imported`.
   */
  async import(nodes: readonly RegionInput[], options: { tx?: Transaction | undefined } = {}): Promise<{ created: number; updated: number }> {
    const byCode = new Map<string, RegionInput>();
    for (const node of nodes) {
      if (!REGION_CODE.test(node.code)) throw invalid(`Region code "${node.code}" must match ${REGION_CODE}`);
      if (byCode.has(node.code)) throw invalid(`Region ${node.code} appears twice in the import`);
      if (!this.levels.includes(node.level)) {
        throw invalid(`Region ${node.code}: level "${node.level}" is not one of ${this.levels.join(', ')}`);
      }
      byCode.set(node.code, node);
    }

    return withTransaction(this.db, options.tx, async (tx) => {
      const codes = [...byCode.keys()];
      const parentCodes = [...new Set(nodes.map((n) => n.parentCode).filter((c): c is string => !!c && !byCode.has(c)))];
      const known = new Map(
        (
          await tx
            .select({ code: regions.code, path: regions.path, level: regions.level, parentCode: regions.parentCode })
            .from(regions)
            .where(inArray(regions.code, [...codes, ...parentCodes]))
        ).map((r) => [r.code, r]),
      );

      // Resolve each node's path from its parent, parents first.
      const paths = new Map<string, string>();
      const resolving = new Set<string>();
      const pathOf = (code: string): { path: string; level: string } => {
        const node = byCode.get(code);
        if (!node) {
          const stored = known.get(code);
          if (!stored) throw invalid(`Parent region ${code} does not exist`);
          return stored;
        }
        const done = paths.get(code);
        if (done) return { path: done, level: node.level };
        if (resolving.has(code)) throw invalid(`Regions ${[...resolving].join(', ')} form a cycle`);
        resolving.add(code);
        let path = `${code}/`;
        if (node.parentCode) {
          const parent = pathOf(node.parentCode);
          if (this.levels.indexOf(node.level) <= this.levels.indexOf(parent.level)) {
            throw invalid(`Region ${code} (${node.level}) cannot be below ${node.parentCode} (${parent.level})`);
          }
          path = `${parent.path}${path}`;
        }
        resolving.delete(code);
        paths.set(code, path);
        return { path, level: node.level };
      };

      let created = 0;
      const rows = nodes.map((node) => {
        const { path } = pathOf(node.code);
        const stored = known.get(node.code);
        if (stored && (stored.parentCode ?? null) !== (node.parentCode ?? null)) {
          throw new DomainError(
            'conflict',
            'REGION_PARENT_CHANGE',
            `Region ${node.code} is under ${stored.parentCode ?? 'no parent'}; moving it is not supported`,
          );
        }
        if (stored && stored.level !== node.level) {
          // Its children were checked against the old level; changing it could put a
          // street above its own district.
          throw new DomainError(
            'conflict',
            'REGION_LEVEL_CHANGE',
            `Region ${node.code} is a ${stored.level}; changing its level is not supported`,
          );
        }
        if (!stored) created++;
        return {
          code: node.code,
          parentCode: node.parentCode ?? null,
          level: node.level,
          depth: path.split('/').length - 2,
          path,
          name: node.name,
          population: node.population ?? null,
          centroidLat: node.centroid?.lat ?? null,
          centroidLng: node.centroid?.lng ?? null,
          geometry: node.geometry ?? null,
          synthetic: node.synthetic ?? false,
        };
      });
      // Parents before children so the foreign key holds row by row.
      rows.sort((a, b) => a.depth - b.depth);
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insert(regions)
          .values(rows.slice(i, i + 500))
          .onConflictDoUpdate({
            target: regions.code,
            set: {
              level: sql`excluded.level`,
              name: sql`excluded.name`,
              population: sql`excluded.population`,
              centroidLat: sql`excluded.centroid_lat`,
              centroidLng: sql`excluded.centroid_lng`,
              geometry: sql`excluded.geometry`,
              synthetic: sql`excluded.synthetic`,
              updatedAt: sql`now()`,
            },
          });
      }
      await this.hooks.publish(tx, regionsImported, { codes, created, updated: rows.length - created });
      return { created, updated: rows.length - created };
    });
  }

  private async requirePath(code: string, db: Executor = this.db): Promise<string> {
    const [row] = await db.select({ path: regions.path }).from(regions).where(eq(regions.code, code));
    if (!row) throw regionNotFound(code);
    return row.path;
  }
}

/** Where a region sits in the tree. */
export interface RegionLocation {
  readonly path: string;
  readonly level: string;
}

function regionNotFound(code: string) {
  return notFound(ProblemCodes.REGION_NOT_FOUND, `Region ${code} does not exist`);
}

function invalid(message: string) {
  return new DomainError('invalid', ProblemCodes.REGION_INVALID, message);
}
