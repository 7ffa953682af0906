import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import {
  DomainError,
  decodeCursor,
  forbidden,
  hasRole,
  queryRows,
  toPage,
  withinScope,
  type Actor,
  type CallContext,
  type Database,
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
const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

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
    return tx ? run(tx) : this.db.transaction(run);
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
    return toPage(rows, query.page.limit, LIST, (r) => [r.id], (r) => ({
      id: r.id,
      source: r.source,
      questionnaireId: r.questionnaireId,
      regionCode: r.regionCode,
      group: r.groupKey,
      category: r.category,
      tags: r.tags,
      period: r.period,
      weight: r.weight,
    }));
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
    const children = (await this.kernel.regions.children({ code: parentCode, page: { limit: 200 } })).items;
    const k = this.k;
    const nodes = await Promise.all(children.map(async (c) => ({ region: c, path: (await this.kernel.regions.path(c.code))! })));
    const values = nodes.length ? sql.join(nodes.map((n) => sql`(${n.region.code}, ${n.path})`), sql`, `) : undefined;
    const responseFilter: SQL = sql`r.status = 'completed' and r.region_path collate "C" like ${`${parentPath}%`}${query.questionnaireId ? sql` and r.questionnaire_id = ${query.questionnaireId}` : sql``}${query.period ? sql` and to_char(r.day, 'YYYY-MM') = ${query.period}` : sql``}`;
    const counts = async (dimension: SQL | null) =>
      values
        ? queryRows<{ code: string; key: string | null; n: number }>(
            this.db,
            sql`select c.code, ${dimension ?? sql`null`}::text as key, count(*)::int as n
              from survey.responses r join (values ${values}) as c(code, path) on r.region_path collate "C" like c.path || '%'
              where ${responseFilter} group by 1, 2`,
          )
        : [];
    const [totals, ages, groups, languages] = await Promise.all([counts(null), counts(sql`r.age_band`), counts(sql`r.group_key`), counts(sql`r.language`)]);
    const demand = values
      ? await queryRows<{ code: string; key: string; n: number; weight: number }>(
          this.db,
          sql`select c.code, d.category as key, count(distinct d.response_id)::int as n, sum(d.weight)::float8 as weight
            from survey.demand_records d join (values ${values}) as c(code, path) on d.region_path collate "C" like c.path || '%'
            where d.region_path collate "C" like ${`${parentPath}%`}${query.questionnaireId ? sql` and d.questionnaire_id = ${query.questionnaireId}` : sql``}${query.period ? sql` and d.period = ${query.period}` : sql``}
            group by 1, 2`,
        )
      : [];
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

  /** The needs map as a GeoJSON FeatureCollection: each region's boundary, its centroid when it has none. */
  async needsMapGeoJson(query: NeedsMapQuery, context: CallContext): Promise<{ type: 'FeatureCollection'; features: object[] }> {
    const map = await this.needsMap(query, context);
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
