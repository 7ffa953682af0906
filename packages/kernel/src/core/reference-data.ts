import { and, asc, eq, getTableName, gt, inArray, notInArray, or, sql } from 'drizzle-orm';
import type { ReadOptions } from '../call.js';
import type { Database, Executor } from '../db/database.js';
import { decodeCursor, toPage, type PageOf, type PageRequest } from '../http/pagination.js';
import { type categories, type populationGroups } from './schema.js';

/** A population group or a category: a key integrators use and names people read. */
export interface ReferenceEntry {
  key: string;
  /** Chinese name, as residents and staff see it. */
  name: string;
  nameEn: string;
  description?: string | undefined;
}

/**
 * Built-in population groups, from the groups the source texts single out for
 * service (children, the elderly, the disabled, migrant workers' children, soldiers,
 * firefighters, returned overseas Chinese, …). Deployments add their own by config.
 */
export const BUILTIN_POPULATION_GROUPS: readonly ReferenceEntry[] = [
  { key: 'children', name: '少年儿童', nameEn: 'Children' },
  { key: 'youth', name: '青少年', nameEn: 'Youth' },
  { key: 'young-adults', name: '中青年', nameEn: 'Young and middle-aged adults' },
  { key: 'elderly', name: '老年人', nameEn: 'Elderly people' },
  { key: 'elderly-living-alone', name: '独居老人', nameEn: 'Elderly people living alone' },
  { key: 'disabled', name: '残障人士', nameEn: 'People with disabilities' },
  { key: 'migrant-workers', name: '来穗务工人员', nameEn: 'Migrant workers' },
  { key: 'migrant-workers-children', name: '外来务工人员子女', nameEn: "Migrant workers' children" },
  { key: 'rural-children', name: '乡村儿童', nameEn: 'Rural children' },
  { key: 'low-income', name: '低保人员', nameEn: 'Low-income households' },
  { key: 'soldiers', name: '部队官兵', nameEn: 'Soldiers' },
  { key: 'firefighters', name: '消防员', nameEn: 'Firefighters' },
  { key: 'returned-overseas-chinese', name: '归侨侨眷', nameEn: 'Returned overseas Chinese and relatives' },
  { key: 'hk-macao-taiwan', name: '港澳台同胞', nameEn: 'Compatriots from Hong Kong, Macao and Taiwan' },
  { key: 'general-public', name: '普通市民', nameEn: 'General public' },
];

/** Built-in product categories, from the kinds of products the source texts list. */
export const BUILTIN_CATEGORIES: readonly ReferenceEntry[] = [
  { key: 'performance', name: '文艺演出', nameEn: 'Performance' },
  { key: 'exhibition', name: '展览', nameEn: 'Exhibition' },
  { key: 'lecture', name: '讲座', nameEn: 'Lecture' },
  { key: 'training', name: '培训辅导', nameEn: 'Training' },
  { key: 'reading-promotion', name: '阅读推广', nameEn: 'Reading promotion' },
  { key: 'intangible-heritage', name: '非遗体验', nameEn: 'Intangible-heritage experience' },
  { key: 'screening', name: '电影放映', nameEn: 'Film screening' },
  { key: 'handcraft-workshop', name: '手工工作坊', nameEn: 'Handcraft workshop' },
  { key: 'art-education', name: '美育课堂', nameEn: 'Arts education' },
  { key: 'festival-event', name: '节庆活动', nameEn: 'Festival event' },
];

type ReferenceTable = typeof populationGroups | typeof categories;

/** Reads and maintains one reference-data table (population groups or categories). */
export class ReferenceData {
  private readonly listName: string;

  constructor(
    private readonly db: Database,
    private readonly table: ReferenceTable,
  ) {
    this.listName = `${getTableName(table)}.by-position`;
  }

  /**
   * Makes the table hold the built-ins plus the deployment's extras, in that order.
   * Extras a deployment no longer lists are deactivated, not deleted: records may
   * still point at them.
   */
  async sync(tx: Executor, builtin: readonly ReferenceEntry[], extra: readonly ReferenceEntry[]): Promise<void> {
    const rows = [...builtin, ...extra].map((e, i) => ({
      ...e,
      description: e.description ?? null,
      position: i,
      builtin: i < builtin.length,
      active: true,
    }));
    const t = this.table;
    await tx
      .insert(t)
      .values(rows)
      .onConflictDoUpdate({
        target: t.key,
        set: {
          name: sql`excluded.name`,
          nameEn: sql`excluded.name_en`,
          description: sql`excluded.description`,
          position: sql`excluded.position`,
          builtin: sql`excluded.builtin`,
          active: true,
        },
      });
    await tx
      .update(t)
      .set({ active: false })
      .where(notInArray(t.key, rows.map((r) => r.key)));
  }

  /** A page of entries in configured order. */
  async list({ page }: { page: PageRequest }): Promise<PageOf<ReferenceEntry>> {
    const t = this.table;
    const after = page.cursor ? decodeCursor(page.cursor, this.listName, ['integer', 'text']) : undefined;
    const rows = await this.db
      .select()
      .from(t)
      .where(
        and(
          eq(t.active, true),
          after
            ? or(gt(t.position, Number(after[0])), and(eq(t.position, Number(after[0])), gt(t.key, String(after[1]))))
            : undefined,
        ),
      )
      .orderBy(asc(t.position), asc(t.key))
      .limit(page.limit + 1);
    return toPage(rows, page.limit, this.listName, (r) => [r.position, r.key], toEntry);
  }

  /** Which of `keys` do not exist; used to validate references. */
  async missing(keys: readonly string[], { tx: db = this.db }: ReadOptions = {}): Promise<string[]> {
    if (keys.length === 0) return [];
    const found = await db.select({ key: this.table.key }).from(this.table).where(and(eq(this.table.active, true), inArray(this.table.key, [...keys])));
    const have = new Set(found.map((r) => r.key));
    return keys.filter((k) => !have.has(k));
  }
}

function toEntry(r: { key: string; name: string; nameEn: string; description: string | null }): ReferenceEntry {
  return { key: r.key, name: r.name, nameEn: r.nameEn, ...(r.description ? { description: r.description } : {}) };
}
