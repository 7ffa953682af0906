import { and, asc, eq, gt, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import {
  DomainError,
  decodeCursor,
  forbidden,
  notFound,
  hasRole,
  kernelTables,
  queryRows,
  toPage,
  transaction,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
  type Executor,
  type HookBus,
  type KernelServices,
  type PageOf,
  type PageRequest,
  type Transaction,
} from '@diandan/kernel';
import { demandUpdated, type DemandSignalledEvent } from './hooks.js';
import { SURVEY_STAFF_ROLES } from './questionnaires.js';
import { demandRecords } from './schema.js';

export const DemandProblems = {
  INVALID_SIGNAL: 'SURVEY_INVALID_DEMAND_SIGNAL',
  INVALID_QUERY: 'SURVEY_INVALID_MAP_QUERY',
} as const;

/** A demand record (需求记录). */
export interface DemandRecord {
  id: number;
  source: string;
  questionnaireId: string | null;
  regionCode: string;
  group: string;
  category: string;
  tags: string[];
  period: string;
  weight: number;
}

/** A breakdown of respondents: `null` where the cell is suppressed. */
export type Breakdown = Record<string, number | null>;

/** One region of the needs map (文化需求地图). */
export interface NeedsMapRegion {
  regionCode: string;
  name: string;
  level: string;
  population: number | null;
  /** Completed responses from the region's subtree; `null` when suppressed. */
  respondents: number | null;
  /** Respondents per 10,000 residents, where population is known and the count shown. */
  per10k: number | null;
  suppressed: boolean;
  ageBands: Breakdown;
  groups: Breakdown;
  languages: Breakdown;
  /** Demand weight by category (see the README for the weighting); `null` where fewer than k respondents expressed it. */
  categories: Breakdown;
  centroid: { lat: number; lng: number } | null;
}

export interface NeedsMap {
  parentCode: string;
  /** The minimum of respondents a shown cell has. */
  k: number;
  respondents: number | null;
  regions: NeedsMapRegion[];
}

export interface NeedsMapQuery {
  /** The region whose children are mapped (default: the actor's home region). */
  parentCode?: string | undefined;
  questionnaireId?: string | undefined;
  /** `YYYY-MM`: demand of that month only. */
  period?: string | undefined;
}

const LIST = 'survey.demand-records';

const toRecord = (r: typeof demandRecords.$inferSelect): DemandRecord => ({
  id: r.id,
  source: r.source,
  questionnaireId: r.questionnaireId,
  regionCode: r.regionCode,
  group: r.groupKey,
  category: r.category,
  tags: r.tags,
  period: r.period,
  weight: r.weight,
});

/** A demand record with where it came from: what `recordsIn` returns. */
export interface DemandRecordOfOrigin extends DemandRecord {
  regionPath: string;
  /** A unit's direct request: the unit that asked (else null). */
  unitId: string | null;
  requestId: string | null;
}

export interface GapQuery {
  parentCode?: string | undefined;
  /** `YYYY-MM`, inclusive. */
  from: string;
  to: string;
  category?: string | undefined;
  group?: string | undefined;
}

/** One cell of the demand-supply comparison; `null` where suppressed. */
export interface GapCell {
  regionCode: string;
  category: string;
  group: string;
  period: string;
  demandWeight: number | null;
  /** Respondents behind the demand (direct requests and contributed signals have none). */
  respondents: number | null;
  deliveries: number;
  audience: number;
  demandShare: number | null;
  deliveryShare: number;
  /** demandShare − deliveryShare: positive where demand outruns delivery. */
  gap: number | null;
  suppressed: boolean;
}

export interface GapTable {
  parentCode: string;
  from: string;
  to: string;
  k: number;
  cells: GapCell[];
}

/** CSV text of rows (RFC 4180 quoting; a leading =, +, - or @ is prefixed with ' against formula injection). */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  const cell = (v: string | number | boolean | null | undefined) => {
    if (v === null || v === undefined) return '';
    let s = String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** The needs map as CSV: one row per region; breakdown columns `age:<band>`, `group:<key>`, `language:<key>`, `category:<key>`; empty = suppressed. */
export function needsMapCsv(map: NeedsMap): string {
  const keys = (pick: (r: NeedsMapRegion) => Breakdown) => [...new Set(map.regions.flatMap((r) => Object.keys(pick(r))))].sort();
  const dims = [
    ['age', keys((r) => r.ageBands), (r: NeedsMapRegion) => r.ageBands],
    ['group', keys((r) => r.groups), (r: NeedsMapRegion) => r.groups],
    ['language', keys((r) => r.languages), (r: NeedsMapRegion) => r.languages],
    ['category', keys((r) => r.categories), (r: NeedsMapRegion) => r.categories],
  ] as const;
  const header = ['region_code', 'name', 'level', 'population', 'respondents', 'per_10k', 'suppressed', ...dims.flatMap(([d, ks]) => ks.map((k) => `${d}:${k}`))];
  const rows = map.regions.map((r) => [r.regionCode, r.name, r.level, r.population, r.respondents, r.per10k, r.suppressed, ...dims.flatMap(([, ks, pick]) => ks.map((k) => (r.suppressed ? null : (pick(r)[k] ?? 0))))]);
  return toCsv(header, rows);
}
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;
/** `YYYY-MM` of the month after. */
const nextPeriod = (period: string) => {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
};

/**
 * Small-cell suppression of one breakdown whose total is shown: counts from 1 to k−1 are
 * hidden; if that hides exactly one cell, the smallest other non-zero cell is hidden too
 * (complementary suppression), so no hidden count follows from the total by subtraction.
 */
export function suppress(counts: Record<string, number>, k: number): { shown: Record<string, number | null>; hidden: Set<string> } {
  const hidden = new Set(Object.entries(counts).filter(([, n]) => n > 0 && n < k).map(([key]) => key));
  if (hidden.size === 1) {
    const next = Object.entries(counts)
      .filter(([key, n]) => n > 0 && !hidden.has(key))
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0];
    if (next) hidden.add(next[0]);
  }
  return { shown: Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, hidden.has(key) ? null : n])), hidden };
}

/**
 * Which cells of a gap table to hide. Primary: cells whose demand rests on respondents
 * alone (`respondentOnly`) with 1…k−1 of them. Then, until nothing changes:
 * - within each region × month, a lone hidden cell takes the respondent-only cell with
 *   the fewest respondents along (as before: a region's month total could otherwise
 *   give it away);
 * - across the regions, within each category × group × month: a lone hidden cell takes
 *   the shown cell with the smallest demand weight along (any source) — the same column
 *   one level up (the parent's cell in its own parent's table) is the sum of this
 *   column, so with one hidden cell it would follow by subtraction.
 * A column with no other demand cannot be protected by hiding: then its one cell is the
 * whole of the parent's, which has the same respondents and is hidden one level up too.
 */
export function gapSuppression(cells: readonly GapCell[], respondentOnly: (c: GapCell) => boolean, k: number): Set<GapCell> {
  const hidden = new Set(cells.filter((c) => respondentOnly(c) && (c.respondents ?? 0) > 0 && (c.respondents ?? 0) < k));
  const groupBy = (of: (c: GapCell) => string) => {
    const groups = new Map<string, GapCell[]>();
    for (const c of cells) groups.set(of(c), [...(groups.get(of(c)) ?? []), c]);
    return [...groups.values()];
  };
  const rows = groupBy((c) => `${c.regionCode}|${c.period}`);
  const columns = groupBy((c) => `${c.category}|${c.group}|${c.period}`);
  /** Hides the smallest candidate of a group with exactly one hidden cell; true if it did. */
  const complement = (group: GapCell[], candidate: (c: GapCell) => boolean, size: (c: GapCell) => number) => {
    if (group.filter((c) => hidden.has(c)).length !== 1) return false;
    const next = group.filter((c) => !hidden.has(c) && candidate(c)).sort((a, b) => size(a) - size(b) || a.regionCode.localeCompare(b.regionCode) || a.category.localeCompare(b.category) || a.group.localeCompare(b.group))[0];
    if (next) hidden.add(next);
    return next !== undefined;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const row of rows) changed = complement(row, (c) => respondentOnly(c) && (c.respondents ?? 0) > 0, (c) => c.respondents ?? 0) || changed;
    for (const column of columns) changed = complement(column, (c) => (c.demandWeight ?? 0) > 0, (c) => c.demandWeight ?? 0) || changed;
  }
  return hidden;
}

/** Demand records and the needs map; no HTTP. */
export class DemandService {
  constructor(
    private readonly db: Database,
    private readonly kernel: KernelServices,
    private readonly hooks: HookBus,
    private readonly k: number,
  ) {}

  private staffOnly(actor: Actor): void {
    if (!hasRole(actor, SURVEY_STAFF_ROLES)) throw forbidden('Only region staff read demand records');
  }

  /**
   * Stores the signals another package contributed (a durable delivery of
   * `survey.demand-signalled`): once per event, whatever the retries.
   */
  async contribute(eventId: string, event: DemandSignalledEvent, tx?: Transaction): Promise<number> {
    const rows: (typeof demandRecords.$inferInsert)[] = [];
    for (const [seq, s] of event.signals.entries()) {
      const path = await this.kernel.regions.path(s.regionCode, { tx });
      // A signal that cannot be placed is dropped with a log line by the caller, never retried for ever.
      if (!path || !PERIOD.test(s.period) || !(s.weight > 0) || !s.category) throw new DomainError('invalid', DemandProblems.INVALID_SIGNAL, `signal ${seq}: unknown region, bad period or weight`);
      rows.push({ source: event.source, eventId, seq, regionCode: s.regionCode, regionPath: path, groupKey: s.group, category: s.category, tags: [...(s.tags ?? [])], period: s.period, weight: s.weight });
    }
    if (!rows.length) return 0;
    const run = async (tx: Transaction) => {
      const added = await tx.insert(demandRecords).values(rows).onConflictDoNothing().returning({ id: demandRecords.id });
      if (added.length) {
        await this.hooks.publish(tx, demandUpdated, {
          source: event.source,
          questionnaireId: null,
          regions: [...new Set(rows.map((r) => r.regionCode))].sort(),
          categories: [...new Set(rows.map((r) => r.category))].sort(),
          periods: [...new Set(rows.map((r) => r.period))].sort(),
          records: added.length,
        });
      }
      return added.length;
    };
    return tx ? run(tx) : transaction(this.db, run);
  }

  /** Demand records in the actor's subtree, newest last (keyset by id). */
  async list(query: { regionCode?: string | undefined; category?: string | undefined; period?: string | undefined; page: PageRequest }, { actor }: CallContext): Promise<PageOf<DemandRecord>> {
    this.staffOnly(actor);
    const after = query.page.cursor ? (decodeCursor(query.page.cursor, LIST, ['integer']) as [number]) : undefined;
    const path = query.regionCode ? await this.kernel.regions.pathInScope(query.regionCode, actor) : undefined;
    const rows = await this.db
      .select()
      .from(demandRecords)
      .where(
        and(
          withinScope(demandRecords.regionPath, actor),
          path ? sql`${demandRecords.regionPath} collate "C" like ${`${path}%`}` : undefined,
          query.category ? eq(demandRecords.category, query.category) : undefined,
          query.period ? eq(demandRecords.period, query.period) : undefined,
          after ? gt(demandRecords.id, after[0]) : undefined,
        ),
      )
      .orderBy(asc(demandRecords.id))
      .limit(query.page.limit + 1);
    return toPage(rows, query.page.limit, LIST, (r) => [r.id], toRecord);
  }

  /**
   * The needs map one level down from `parentCode`: per child region, respondents by age
   * band, group and language, and demand by category — every count below `k` suppressed,
   * with complementary suppression within each breakdown and across the regions.
   */
  async needsMap(query: NeedsMapQuery, { actor }: CallContext): Promise<NeedsMap> {
    this.staffOnly(actor);
    if (query.period && !PERIOD.test(query.period)) throw new DomainError('bad_request', DemandProblems.INVALID_QUERY, 'period must be YYYY-MM');
    const parentCode = query.parentCode ?? actor.region;
    const parentPath = await this.kernel.regions.pathInScope(parentCode, actor);
    return this.mapOf(parentCode, parentPath, query);
  }

  /**
   * The public needs map (no token): the same aggregates and suppression as staff see,
   * over every questionnaire, for any region of the tree (default: the root).
   */
  async publicNeedsMap(query: { parentCode?: string | undefined; period?: string | undefined }): Promise<NeedsMap> {
    if (query.period && !PERIOD.test(query.period)) throw new DomainError('bad_request', DemandProblems.INVALID_QUERY, 'period must be YYYY-MM');
    const parentCode = query.parentCode ?? (await this.kernel.regions.root())?.code;
    const parentPath = parentCode ? await this.kernel.regions.path(parentCode) : undefined;
    if (!parentCode || !parentPath) throw notFound('REGION_NOT_FOUND', `Region ${query.parentCode ?? ''} does not exist`);
    return this.mapOf(parentCode, parentPath, { period: query.period });
  }

  /**
   * Every count of a needs map in one statement and one pass over each table: the child
   * region of a row is the path segment after the parent's (`440100/440103/…` → `440103`),
   * so no join; the respondents' breakdowns are grouping sets of one GROUP BY. Rows at
   * the parent region itself (no child) are left out.
   */
  private async mapCounts(parentPath: string, query: NeedsMapQuery) {
    const like = `${parentPath}%`;
    const child = (column: SQL) => sql`split_part(substr(${column}, ${parentPath.length + 1}), '/', 1)`;
    const month = query.period ? { from: `${query.period}-01`, to: `${nextPeriod(query.period)}-01` } : undefined;
    const rows = await queryRows<{ dim: string; code: string; key: string | null; n: number; weight: number | null }>(
      this.db,
      sql`select case when grouping(r.age_band) = 0 then 'age' when grouping(r.group_key) = 0 then 'group' when grouping(r.language) = 0 then 'language' else 'total' end as dim,
          r.code, coalesce(r.age_band, r.group_key, r.language) as key, count(*)::int as n, null::float8 as weight
        from (select ${child(sql`region_path`)} as code, age_band, group_key, language from survey.responses
          where status = 'completed' and region_path collate "C" like ${like} and region_path <> ${parentPath}${query.questionnaireId ? sql` and questionnaire_id = ${query.questionnaireId}` : sql``}${month ? sql` and day >= ${month.from}::date and day < ${month.to}::date` : sql``}) r
        group by grouping sets ((r.code), (r.code, r.age_band), (r.code, r.group_key), (r.code, r.language))
        union all
        select 'category', ${child(sql`d.region_path`)}, d.category, count(distinct d.response_id)::int, sum(d.weight)::float8
        from survey.demand_records d
        where d.region_path collate "C" like ${like} and d.region_path <> ${parentPath}${query.questionnaireId ? sql` and d.questionnaire_id = ${query.questionnaireId}` : sql``}${query.period ? sql` and d.period = ${query.period}` : sql``}
        group by 2, 3`,
    );
    const of = (dim: string) => rows.filter((r) => r.dim === dim);
    return { totals: of('total'), ages: of('age'), groups: of('group'), languages: of('language'), demand: of('category').map((r) => ({ code: r.code, key: r.key!, n: r.n, weight: r.weight ?? 0 })) };
  }

  private async mapOf(parentCode: string, parentPath: string, query: NeedsMapQuery): Promise<NeedsMap> {
    const children = (await this.kernel.regions.children({ code: parentCode, page: { limit: 200 } })).items;
    const k = this.k;
    const nodes = children.map((region) => ({ region }));
    const { totals, ages, groups, languages, demand } = nodes.length ? await this.mapCounts(parentPath, query) : { totals: [], ages: [], groups: [], languages: [], demand: [] };
    const by = <T extends { code: string }>(rows: T[], code: string) => rows.filter((r) => r.code === code);
    const total = Object.fromEntries(nodes.map((n) => [n.region.code, by(totals, n.region.code)[0]?.n ?? 0]));
    const regionsHidden = suppress(total, k).hidden;
    const breakdown = (rows: { code: string; key: string | null; n: number }[], code: string, hide: boolean): Breakdown => {
      if (hide) return {};
      return suppress(Object.fromEntries(by(rows, code).map((r) => [r.key ?? 'unknown', r.n])), k).shown;
    };
    const regions = nodes.map(({ region }): NeedsMapRegion => {
      const hide = regionsHidden.has(region.code);
      const n = total[region.code]!;
      const cats = by(demand, region.code);
      // Demand cells: a category expressed by fewer than k respondents is hidden (contributed signals have no respondents and show).
      const catHidden = suppress(Object.fromEntries(cats.filter((c) => c.n > 0).map((c) => [c.key, c.n])), k).hidden;
      return {
        regionCode: region.code,
        name: region.name,
        level: region.level,
        population: region.population,
        respondents: hide ? null : n,
        per10k: hide || !region.population ? null : Math.round((n / region.population) * 10_000 * 100) / 100,
        suppressed: hide,
        ageBands: breakdown(ages, region.code, hide),
        groups: breakdown(groups, region.code, hide),
        languages: breakdown(languages, region.code, hide),
        categories: hide ? {} : Object.fromEntries(cats.map((c) => [c.key, catHidden.has(c.key) ? null : Math.round(c.weight * 1000) / 1000])),
        centroid: region.centroid,
      };
    });
    const sum = Object.values(total).reduce((a, b) => a + b, 0);
    return { parentCode, k, respondents: sum > 0 && sum < k ? null : sum, regions };
  }

  /**
   * Demand records of a region's subtree for a span of months — the read function other
   * packages (matching) use, with no actor: the caller decides who may see the result.
   * `from`/`to` are inclusive `YYYY-MM`; `periods` lists months instead.
   */
  async recordsIn(
    query: { regionCode: string; from?: string | undefined; to?: string | undefined; periods?: readonly string[] | undefined; category?: string | undefined; group?: string | undefined; limit?: number | undefined },
    { tx }: { tx?: Executor | undefined } = {},
  ): Promise<DemandRecordOfOrigin[]> {
    for (const p of [query.from, query.to, ...(query.periods ?? [])]) if (p !== undefined && !PERIOD.test(p)) throw new DomainError('bad_request', DemandProblems.INVALID_QUERY, 'periods are YYYY-MM');
    const db = tx ?? this.db;
    const path = await this.kernel.regions.path(query.regionCode, { tx: db });
    if (!path) throw notFound('REGION_NOT_FOUND', `Region ${query.regionCode} does not exist`);
    const rows = await db
      .select()
      .from(demandRecords)
      .where(
        and(
          sql`${demandRecords.regionPath} collate "C" like ${`${path}%`}`,
          query.from ? gte(demandRecords.period, query.from) : undefined,
          query.to ? lte(demandRecords.period, query.to) : undefined,
          query.periods ? (query.periods.length ? inArray(demandRecords.period, [...query.periods]) : sql`false`) : undefined,
          query.category ? eq(demandRecords.category, query.category) : undefined,
          query.group ? eq(demandRecords.groupKey, query.group) : undefined,
        ),
      )
      .orderBy(asc(demandRecords.id))
      .limit(query.limit ?? 100_000);
    return rows.map((r) => ({ ...toRecord(r), regionPath: r.regionPath, unitId: r.unitId, requestId: r.requestId }));
  }

  /**
   * Demand against supply (需求与供给的差距) one level below `parentCode`, per child region ×
   * category × group × month: the demand weight of the records there, and the kernel's
   * delivered orders (deliveries of products of that category whose target groups include
   * the group; a product for several groups counts in each) with their actual audience.
   * `gap` = demand share − delivery share (each over the whole table): positive where
   * demand outruns what was delivered. Demand from fewer than k respondents (and no other
   * source) is suppressed, with complementary suppression within each region and month.
   */
  async gaps(query: GapQuery, { actor }: CallContext): Promise<GapTable> {
    this.staffOnly(actor);
    for (const p of [query.from, query.to]) if (!PERIOD.test(p)) throw new DomainError('bad_request', DemandProblems.INVALID_QUERY, 'from and to are YYYY-MM');
    if (query.from > query.to) throw new DomainError('bad_request', DemandProblems.INVALID_QUERY, 'from must not be after to');
    const parentCode = query.parentCode ?? actor.region;
    const parentPath = await this.kernel.regions.pathInScope(parentCode, actor);
    const children = (await this.kernel.regions.children({ code: parentCode, page: { limit: 200 } })).items;
    const nodes = await Promise.all(children.map(async (c) => ({ region: c, path: (await this.kernel.regions.path(c.code))! })));
    if (!nodes.length) return { parentCode, from: query.from, to: query.to, k: this.k, cells: [] };
    const values = sql.join(nodes.map((n) => sql`(${n.region.code}, ${n.path})`), sql`, `);
    const filters = (category: SQL, group: SQL) =>
      sql`${query.category ? sql` and ${category} = ${query.category}` : sql``}${query.group ? sql` and ${group} = ${query.group}` : sql``}`;
    const demand = await queryRows<{ code: string; category: string; grp: string; period: string; weight: number; respondents: number; other: number }>(
      this.db,
      sql`select c.code, d.category, d.group_key as grp, d.period, sum(d.weight)::float8 as weight,
          count(distinct d.response_id)::int as respondents, count(*) filter (where d.response_id is null)::int as other
        from survey.demand_records d join (values ${values}) as c(code, path) on d.region_path collate "C" like c.path || '%'
        where d.region_path collate "C" like ${`${parentPath}%`} and d.period between ${query.from} and ${query.to}${filters(sql`d.category`, sql`d.group_key`)}
        group by 1, 2, 3, 4`,
    );
    const { deliveries, orders, products, regions } = kernelTables;
    const supply = await queryRows<{ code: string; category: string; grp: string; period: string; deliveries: number; audience: number }>(
      this.db,
      sql`select c.code, p.category, g.grp, to_char(dl.delivered_on, 'YYYY-MM') as period,
          count(*)::int as deliveries, sum(dl.actual_audience)::int as audience
        from ${deliveries} dl
        join ${orders} o on o.id = dl.order_id
        join ${products} p on p.id = o.product_id
        join ${regions} r on r.code = o.region_code
        join (values ${values}) as c(code, path) on r.path collate "C" like c.path || '%'
        cross join lateral unnest(p.target_groups) as g(grp)
        where to_char(dl.delivered_on, 'YYYY-MM') between ${query.from} and ${query.to}${filters(sql`p.category`, sql`g.grp`)}
        group by 1, 2, 3, 4`,
    );
    const key = (r: { code: string; category: string; grp: string; period: string }) => `${r.code}|${r.category}|${r.grp}|${r.period}`;
    const cells = new Map<string, GapCell>();
    const cell = (r: { code: string; category: string; grp: string; period: string }) => {
      const existing = cells.get(key(r));
      if (existing) return existing;
      const created: GapCell = { regionCode: r.code, category: r.category, group: r.grp, period: r.period, demandWeight: 0, respondents: 0, deliveries: 0, audience: 0, demandShare: 0, deliveryShare: 0, gap: 0, suppressed: false };
      cells.set(key(r), created);
      return created;
    };
    const onlyRespondents = new Map<string, number>();
    for (const d of demand) {
      const c = cell(d);
      c.demandWeight = Math.round(d.weight * 1000) / 1000;
      c.respondents = d.respondents;
      // Only cells whose demand rests on respondents alone can identify anyone.
      if (d.other === 0) onlyRespondents.set(key(d), d.respondents);
    }
    for (const s of supply) Object.assign(cell(s), { deliveries: s.deliveries, audience: s.audience });
    const all = [...cells.values()];
    // Suppression first: respondent counts 1…k−1, then complementary (see `gapSuppression`).
    const hidden = gapSuppression(all, (c) => onlyRespondents.has(key({ code: c.regionCode, category: c.category, grp: c.group, period: c.period })), this.k);
    for (const c of all) if (hidden.has(c)) Object.assign(c, { suppressed: true, demandWeight: null, respondents: null, demandShare: null, gap: null });
    // Shares over the shown cells only: a hidden weight cannot be recovered from them.
    const totalDemand = all.reduce((a, c) => a + (c.demandWeight ?? 0), 0);
    const totalDeliveries = all.reduce((a, c) => a + c.deliveries, 0);
    for (const c of all) {
      c.deliveryShare = totalDeliveries ? Math.round((c.deliveries / totalDeliveries) * 10_000) / 10_000 : 0;
      if (c.suppressed) continue;
      c.demandShare = totalDemand ? Math.round(((c.demandWeight ?? 0) / totalDemand) * 10_000) / 10_000 : 0;
      c.gap = Math.round((c.demandShare - c.deliveryShare) * 10_000) / 10_000;
    }
    all.sort((a, b) => a.regionCode.localeCompare(b.regionCode) || a.period.localeCompare(b.period) || a.category.localeCompare(b.category) || a.group.localeCompare(b.group));
    return { parentCode, from: query.from, to: query.to, k: this.k, cells: all };
  }

  /** The needs map as a GeoJSON FeatureCollection: each region's boundary, its centroid when it has none. */
  async needsMapGeoJson(query: NeedsMapQuery, context: CallContext): Promise<{ type: 'FeatureCollection'; features: object[] }> {
    return this.geoJsonOf(await this.needsMap(query, context));
  }

  /** A needs map as GeoJSON. */
  async geoJsonOf(map: NeedsMap): Promise<{ type: 'FeatureCollection'; features: object[] }> {
    const features = await Promise.all(
      map.regions.map(async (r) => {
        const detail = await this.kernel.regions.get(r.regionCode);
        const geometry = detail.geometry ?? (r.centroid ? { type: 'Point', coordinates: [r.centroid.lng, r.centroid.lat] } : null);
        const { centroid: _c, ...properties } = r;
        return { type: 'Feature', id: r.regionCode, geometry, properties: { ...properties, k: map.k } };
      }),
    );
    return { type: 'FeatureCollection', features };
  }
}
