import { sql, type SQL } from 'drizzle-orm';
import { kernelTables, queryRows, type Executor } from '@diandan/kernel';
import { monthsOf, yearEarlier, type Period } from './period.js';

const { regions, orders, deliveries, feedback, products, suppliers, budgets, auditLog, categories, populationGroups, venues, units } = kernelTables;

/** Which of the deployment's region levels the breakdowns use. */
export interface LevelIndex {
  /** Position (0 = root) of the district level in `deployment.levels`. */
  readonly district: number;
  readonly street: number;
  readonly community: number;
  readonly names: { readonly district: string; readonly street: string; readonly community: string };
}

/** Counts of one slice (a district, a month, a category…). */
export interface Tally {
  deliveries: number;
  participants: number;
  /** Sum of the audiences the orders expected. */
  expectedAudience: number;
  /** Feedback responses on these deliveries. */
  responses: number;
  /** Mean rating (1–5) of those responses; null without any. */
  meanRating: number | null;
  /** Share of those responses rating 4 or 5 (满意率); null without any. */
  satisfactionRate: number | null;
}

/** A region's slice, with its population and rates per 10,000 residents. */
export interface RegionTally extends Tally {
  code: string;
  name: string;
  population: number | null;
  deliveriesPer10k: number | null;
  participantsPer10k: number | null;
}

/** A share of a whole: `covered` of `total`. */
export interface Share {
  covered: number;
  total: number;
  /** covered / total; null when total is 0. */
  share: number | null;
}

/** The key performance indicators (关键指标) of a region subtree over a period. */
export interface Kpis extends Tally {
  region: { code: string; name: string; level: string; population: number | null };
  period: Period;
  /** Orders whose service window starts in the period, by status. */
  ordersByStatus: Record<string, number>;
  /** Orders whose whole approval chain finished in the period: hours from the (last) submission to the final approval. */
  approvalLeadTime: { approved: number; meanHours: number | null; medianHours: number | null };
  /** Streets and communities of the subtree with at least one delivery. */
  coverage: { streets: Share; communities: Share };
  /** Per 10,000 residents of the subtree (null without a population). */
  per10k: { population: number | null; deliveries: number | null; participants: number | null };
  /** Reach of each population group: deliveries of products aimed at it, and respondents who said they belong to it. */
  groups: GroupReach[];
  /** The budget year of the period's start: allocated to the subtree's root, reserved and spent across the subtree. */
  budget: { year: number; allocated: number; reserved: number; spent: number; execution: number | null } | null;
  suppliers: (Tally & { id: string; name: string })[];
  products: { top: ProductTally[]; bottom: ProductTally[] };
  /**
   * Who took part: venues of the subtree and those that hosted a delivery in the period;
   * ordering units and those with a delivery; suppliers with a listed product and those
   * that delivered in the subtree (the efficiency indicators' venue use and participation).
   */
  participation: Participation;
  /** Listed products ordered at least once in the period (orders of the subtree, drafts aside). */
  catalogue: { listed: number; ordered: number; utilisation: number | null; unused: { id: string; title: string; category: string }[]; unusedTotal: number };
  byDistrict: RegionTally[];
  byStreet: RegionTally[];
  byCategory: (Tally & { key: string; name: string })[];
  byMonth: (Tally & { month: string })[];
  /** The same figures for the same period a year earlier. */
  yearEarlier: YearOnYear;
}

export interface Participation {
  venues: { total: number; used: number };
  units: { total: number; active: number };
  suppliers: { total: number; active: number };
}

export interface GroupReach {
  key: string;
  name: string;
  deliveries: number;
  participants: number;
  respondents: number;
  meanRating: number | null;
}

export interface ProductTally extends Tally {
  id: string;
  title: string;
  category: string;
}

export interface YearOnYear {
  period: Period;
  deliveries: number;
  participants: number;
  responses: number;
  satisfactionRate: number | null;
  meanRating: number | null;
  streetCoverage: number | null;
  /** (this − earlier) / earlier; null when the earlier figure is 0. */
  change: { deliveries: number | null; participants: number | null };
}

interface SliceRow extends Record<string, unknown> {
  dim: string;
  key: string | null;
  deliveries: number;
  participants: number;
  expected: number;
  responses: number;
  rating_sum: number;
  satisfied: number;
  /** The same on every row of the detailed slices (the participation counts); absent on the year-earlier ones. */
  venues?: number;
  used_venues?: number;
  units?: number;
  active_units?: number;
  suppliers?: number;
  active_suppliers?: number;
}

/** Escapes a region path for a `like 'prefix%'` match. */
export function pathPrefix(path: string): string {
  return `${path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/**
 * Computes the KPIs in a handful of SQL statements (each one aggregation over the
 * subtree, selected by region path), whatever the size of the subtree: no query per
 * region, supplier or product.
 */
export class KpiService {
  constructor(private readonly levels: LevelIndex, private readonly options: { topProducts: number; minRatingsForBottom: number; unusedListed: number }) {}

  async compute(db: Executor, input: { regionCode: string; regionPath: string; period: Period; detail?: boolean }): Promise<Kpis> {
    const { regionPath, period } = input;
    const [root] = await queryRows<{ code: string; name: string; level: string; population: number | null }>(
      db,
      sql`select ${regions.code} as code, ${regions.name} as name, ${regions.level} as level, ${regions.population} as population from ${regions} where ${regions.code} = ${input.regionCode}`,
    );
    if (!root) throw new Error(`region ${input.regionCode} vanished`);
    const places = await this.places(db, regionPath);
    const [slices, groups, status, lead, budget, catalogue, earlier] = await Promise.all([
      this.slices(db, regionPath, period, true),
      this.groups(db, regionPath, period),
      this.ordersByStatus(db, regionPath, period),
      this.leadTime(db, regionPath, period),
      this.budget(db, input.regionCode, regionPath, Number(period.from.slice(0, 4))),
      this.catalogue(db, regionPath, period),
      this.slices(db, regionPath, yearEarlier(period), false),
    ]);
    const names = await this.names(db, slices);
    const by = (dim: string) => slices.filter((r) => r.dim === dim);
    const total = tally(by('all')[0]);
    const population = root.population ?? sumPopulation(places.filter((p) => p.level === this.levels.names.street));
    const regionTallies = (level: string, dim: string): RegionTally[] => {
      const counts = new Map(by(dim).map((r) => [r.key!, tally(r)]));
      return places
        .filter((p) => p.level === level)
        .map((p) => {
          const t = counts.get(p.code) ?? tally(undefined);
          return { code: p.code, name: p.name, population: p.population, ...t, deliveriesPer10k: per10k(t.deliveries, p.population), participantsPer10k: per10k(t.participants, p.population) };
        });
    };
    const covered = (dim: string, level: string): Share => {
      const inTree = new Set(places.filter((p) => p.level === level).map((p) => p.code));
      const hit = by(dim).filter((r) => r.key && inTree.has(r.key) && r.deliveries > 0).length;
      return { covered: hit, total: inTree.size, share: ratio(hit, inTree.size) };
    };
    const months = new Map(by('month').map((r) => [r.key!, tally(r)]));
    const productTallies = by('product').map((r) => ({ id: r.key!, title: names.products.get(r.key!)?.title ?? r.key!, category: names.products.get(r.key!)?.category ?? '', ...tally(r) }));
    const top = [...productTallies].sort((a, b) => b.deliveries - a.deliveries || b.participants - a.participants || a.id.localeCompare(b.id)).slice(0, this.options.topProducts);
    const bottom = productTallies
      .filter((p) => p.responses >= this.options.minRatingsForBottom && p.meanRating !== null)
      .sort((a, b) => a.meanRating! - b.meanRating! || a.responses - b.responses || a.id.localeCompare(b.id))
      .slice(0, this.options.topProducts);
    const counted = slices[0];
    const n = (v: unknown) => Number(v ?? 0);
    const participation: Participation = counted
      ? { venues: { total: n(counted.venues), used: n(counted.used_venues) }, units: { total: n(counted.units), active: n(counted.active_units) }, suppliers: { total: n(counted.suppliers), active: n(counted.active_suppliers) } }
      : { venues: { total: 0, used: 0 }, units: { total: 0, active: 0 }, suppliers: { total: 0, active: 0 } };
    const before = tally(earlier.find((r) => r.dim === 'all'));
    const streetsBefore = (() => {
      const inTree = new Set(places.filter((p) => p.level === this.levels.names.street).map((p) => p.code));
      return ratio(earlier.filter((r) => r.dim === 'street' && r.key && inTree.has(r.key) && r.deliveries > 0).length, inTree.size);
    })();
    return {
      region: root,
      period,
      ...total,
      ordersByStatus: status,
      approvalLeadTime: lead,
      coverage: { streets: covered('street', this.levels.names.street), communities: covered('community', this.levels.names.community) },
      per10k: { population, deliveries: per10k(total.deliveries, population), participants: per10k(total.participants, population) },
      groups,
      budget,
      suppliers: by('supplier')
        .map((r) => ({ id: r.key!, name: names.suppliers.get(r.key!) ?? r.key!, ...tally(r) }))
        .sort((a, b) => b.deliveries - a.deliveries || a.id.localeCompare(b.id)),
      products: { top, bottom },
      participation,
      catalogue,
      byDistrict: regionTallies(this.levels.names.district, 'district'),
      byStreet: regionTallies(this.levels.names.street, 'street'),
      byCategory: by('category')
        .map((r) => ({ key: r.key!, name: names.categories.get(r.key!) ?? r.key!, ...tally(r) }))
        .sort((a, b) => b.deliveries - a.deliveries || a.key.localeCompare(b.key)),
      byMonth: monthsOf(period).map((month) => ({ month, ...(months.get(month) ?? tally(undefined)) })),
      yearEarlier: {
        period: yearEarlier(period),
        deliveries: before.deliveries,
        participants: before.participants,
        responses: before.responses,
        satisfactionRate: before.satisfactionRate,
        meanRating: before.meanRating,
        streetCoverage: streetsBefore,
        change: { deliveries: change(total.deliveries, before.deliveries), participants: change(total.participants, before.participants) },
      },
    };
  }

  /** The districts, streets and communities of the subtree, with their populations. */
  async places(db: Executor, regionPath: string): Promise<{ code: string; name: string; level: string; population: number | null; path: string }[]> {
    const { district, street, community } = this.levels.names;
    return queryRows(
      db,
      sql`select ${regions.code} as code, ${regions.name} as name, ${regions.level} as level, ${regions.population} as population, ${regions.path} as path
          from ${regions} where ${regions.path} collate "C" like ${pathPrefix(regionPath)} and ${regions.level} in (${district}, ${street}, ${community})
          order by ${regions.path} collate "C"`,
    );
  }

  /**
   * Deliveries of the period in the subtree, with their feedback, summed up by every
   * breakdown at once (GROUPING SETS): one scan of deliveries and one of feedback. The
   * detailed slices also carry the participation counts on every row, from the same scan
   * (a second statement would scan the period's deliveries again).
   */
  private async slices(db: Executor, regionPath: string, period: Period, detail: boolean): Promise<SliceRow[]> {
    const { district, street, community } = this.levels;
    const part = (i: number) => sql.raw(`nullif(split_part(r_path, '/', ${i + 1}), '')`);
    const sets = detail
      ? sql`grouping sets ((), (district), (street), (community), (category), (month), (supplier_id), (product_id))`
      : sql`grouping sets ((), (street))`;
    const rows = await queryRows<SliceRow & { g: number }>(
      db,
      sql`with d as (
            select o.id, o.supplier_id, o.product_id, o.venue_id, o.unit_id, o.expected_audience, dl.actual_audience, dl.delivered_on, r.path as r_path
            from ${deliveries} dl
            join ${orders} o on o.id = dl.order_id
            join ${regions} r on r.code = o.region_code
            where dl.delivered_on >= ${period.from}::date and dl.delivered_on < ${period.to}::date
              and r.path collate "C" like ${pathPrefix(regionPath)}
          ), fb as (
            select f.order_id, count(*)::float8 as n, sum(f.rating)::float8 as s, (count(*) filter (where f.rating >= 4))::float8 as sat
            from ${feedback} f join d on d.id = f.order_id
            group by f.order_id
          ), x as (
            select d.*, ${part(district)} as district, ${part(street)} as street, ${part(community)} as community,
                   p.category, to_char(d.delivered_on, 'YYYY-MM') as month,
                   coalesce(fb.n, 0) as fn, coalesce(fb.s, 0) as fs, coalesce(fb.sat, 0) as fsat
            from d join ${products} p on p.id = d.product_id left join fb on fb.order_id = d.id
          )${detail ? sql`, taking_part as (
            select (select count(*) from ${venues} v join ${regions} r on r.code = v.region_code where r.path collate "C" like ${pathPrefix(regionPath)})::float8 as venues,
                   (select count(distinct venue_id) from d)::float8 as used_venues,
                   (select count(*) from ${units} u join ${regions} r on r.code = u.region_code where r.path collate "C" like ${pathPrefix(regionPath)})::float8 as units,
                   (select count(distinct unit_id) from d)::float8 as active_units,
                   (select count(distinct supplier_id) from ${products} where status = 'listed')::float8 as suppliers,
                   (select count(distinct supplier_id) from d)::float8 as active_suppliers
          )` : sql``}
          select ${detail ? sql`grouping(district, street, community, category, month, supplier_id, product_id)` : sql`grouping(street)`}::int as g,
                 ${detail ? sql`coalesce(district, street, community, category, month, supplier_id::text, product_id::text)` : sql`street`} as key,
                 count(*)::float8 as deliveries, coalesce(sum(actual_audience), 0)::float8 as participants, coalesce(sum(expected_audience), 0)::float8 as expected,
                 coalesce(sum(fn), 0)::float8 as responses, coalesce(sum(fs), 0)::float8 as rating_sum, coalesce(sum(fsat), 0)::float8 as satisfied
          ${detail ? sql`, (select venues from taking_part) as venues, (select used_venues from taking_part) as used_venues, (select units from taking_part) as units,
                 (select active_units from taking_part) as active_units, (select suppliers from taking_part) as suppliers, (select active_suppliers from taking_part) as active_suppliers` : sql``}
          from x group by ${sets}`,
    );
    // grouping() sets bit (n - 1 - i) for each listed column i NOT grouped; a non-empty set groups exactly one.
    const dims = detail ? ['district', 'street', 'community', 'category', 'month', 'supplier', 'product'] : ['street'];
    return rows
      .map((r) => {
        const g = Number(r.g);
        const grouped = dims.filter((_, i) => (g & (1 << (dims.length - 1 - i))) === 0);
        return { ...r, dim: grouped.length === 0 ? 'all' : grouped.length === 1 ? grouped[0]! : 'mixed' };
      })
      .filter((r) => r.dim === 'all' || r.key !== null);
  }

  /** Reach of each population group. */
  private async groups(db: Executor, regionPath: string, period: Period): Promise<GroupReach[]> {
    const rows = await queryRows<{ key: string; name: string; deliveries: number; participants: number; respondents: number; rating_sum: number }>(
      db,
      sql`with d as (
            select o.id, o.product_id, dl.actual_audience
            from ${deliveries} dl join ${orders} o on o.id = dl.order_id join ${regions} r on r.code = o.region_code
            where dl.delivered_on >= ${period.from}::date and dl.delivered_on < ${period.to}::date and r.path collate "C" like ${pathPrefix(regionPath)}
          ), aimed as (
            select g as key, count(*)::float8 as deliveries, coalesce(sum(d.actual_audience), 0)::float8 as participants
            from d join ${products} p on p.id = d.product_id cross join lateral unnest(p.target_groups) as g
            group by g
          ), said as (
            select f.respondent_group as key, count(*)::float8 as respondents, sum(f.rating)::float8 as rating_sum
            from ${feedback} f join d on d.id = f.order_id where f.respondent_group is not null
            group by f.respondent_group
          )
          select pg.key, pg.name, coalesce(aimed.deliveries, 0)::float8 as deliveries, coalesce(aimed.participants, 0)::float8 as participants,
                 coalesce(said.respondents, 0)::float8 as respondents, coalesce(said.rating_sum, 0)::float8 as rating_sum
          from ${populationGroups} pg left join aimed on aimed.key = pg.key left join said on said.key = pg.key
          where pg.active or aimed.key is not null or said.key is not null
          order by pg.position, pg.key`,
    );
    return rows.map((r) => ({
      key: r.key,
      name: r.name,
      deliveries: Number(r.deliveries),
      participants: Number(r.participants),
      respondents: Number(r.respondents),
      meanRating: ratio(Number(r.rating_sum), Number(r.respondents)),
    }));
  }

  private async ordersByStatus(db: Executor, regionPath: string, period: Period): Promise<Record<string, number>> {
    const rows = await queryRows<{ status: string; n: number }>(
      db,
      sql`select o.status, count(*)::int as n from ${orders} o join ${regions} r on r.code = o.region_code
          where o.window_start >= ${period.from}::date and o.window_start < ${period.to}::date and r.path collate "C" like ${pathPrefix(regionPath)}
          group by o.status order by o.status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** From the kernel's audit log: each order's last submission and its final approval. */
  private async leadTime(db: Executor, regionPath: string, period: Period): Promise<Kpis['approvalLeadTime']> {
    const [row] = await queryRows<{ approved: number; mean: number | null; median: number | null }>(
      db,
      sql`with t as (
            select a.entity_id,
                   max(a.at) filter (where a.action = 'order.submit') as submitted,
                   max(a.at) filter (where a.action = 'order.approve' and a.after ->> 'status' = 'approved') as approved
            from ${auditLog} a
            where a.entity_type = 'order' and a.action in ('order.submit', 'order.approve') and a.region_path collate "C" like ${pathPrefix(regionPath)}
            group by a.entity_id
          ), h as (
            select extract(epoch from (approved - submitted)) / 3600.0 as hours from t
            where approved >= ${period.from}::timestamptz and approved < ${period.to}::timestamptz and submitted is not null
          )
          select count(*)::int as approved, avg(hours)::float8 as mean, (percentile_cont(0.5) within group (order by hours))::float8 as median from h`,
    );
    return { approved: Number(row?.approved ?? 0), meanHours: row?.mean ?? null, medianHours: row?.median ?? null };
  }

  private async budget(db: Executor, regionCode: string, regionPath: string, year: number): Promise<Kpis['budget']> {
    const [row] = await queryRows<{ allocated: number | null; reserved: number; spent: number }>(
      db,
      sql`select (sum(b.allocated) filter (where b.region_code = ${regionCode}))::float8 as allocated,
                 coalesce(sum(b.reserved), 0)::float8 as reserved, coalesce(sum(b.spent), 0)::float8 as spent
          from ${budgets} b join ${regions} r on r.code = b.region_code
          where b.year = ${year} and r.path collate "C" like ${pathPrefix(regionPath)}`,
    );
    if (!row || row.allocated === null) return null;
    const allocated = Number(row.allocated);
    return { year, allocated, reserved: Number(row.reserved), spent: Number(row.spent), execution: ratio(Number(row.spent), allocated) };
  }

  private async catalogue(db: Executor, regionPath: string, period: Period): Promise<Kpis['catalogue']> {
    const used = sql`exists (select 1 from ${orders} o join ${regions} r on r.code = o.region_code
                       where o.product_id = p.id and o.status <> 'draft' and o.window_start >= ${period.from}::date and o.window_start < ${period.to}::date
                         and r.path collate "C" like ${pathPrefix(regionPath)})`;
    const [counts] = await queryRows<{ listed: number; ordered: number }>(
      db,
      sql`select count(*)::int as listed, (count(*) filter (where ${used}))::int as ordered from ${products} p where p.status = 'listed'`,
    );
    const unused = await queryRows<{ id: string; title: string; category: string }>(
      db,
      sql`select p.id, p.title, p.category from ${products} p where p.status = 'listed' and not ${used} order by p.listed_at nulls first, p.id limit ${this.options.unusedListed}`,
    );
    const listed = Number(counts?.listed ?? 0);
    const ordered = Number(counts?.ordered ?? 0);
    return { listed, ordered, utilisation: ratio(ordered, listed), unused, unusedTotal: listed - ordered };
  }

  /** Names of the suppliers, products and categories the slices mention, in three queries. */
  private async names(db: Executor, slices: SliceRow[]) {
    const ids = (dim: string) => slices.filter((r) => r.dim === dim).map((r) => r.key!);
    const list = (xs: string[]): SQL => sql.join(xs.map((x) => sql`${x}`), sql`, `);
    const supplierIds = ids('supplier');
    const productIds = ids('product');
    const [s, p, c] = await Promise.all([
      supplierIds.length ? queryRows<{ id: string; name: string }>(db, sql`select id::text, name from ${suppliers} where id::text in (${list(supplierIds)})`) : [],
      productIds.length ? queryRows<{ id: string; title: string; category: string }>(db, sql`select id::text, title, category from ${products} where id::text in (${list(productIds)})`) : [],
      queryRows<{ key: string; name: string }>(db, sql`select key, name from ${categories}`),
    ]);
    return {
      suppliers: new Map(s.map((r) => [r.id, r.name])),
      products: new Map(p.map((r) => [r.id, r])),
      categories: new Map(c.map((r) => [r.key, r.name])),
    };
  }
}

function tally(r: SliceRow | undefined): Tally {
  if (!r) return { deliveries: 0, participants: 0, expectedAudience: 0, responses: 0, meanRating: null, satisfactionRate: null };
  const responses = Number(r.responses);
  return {
    deliveries: Number(r.deliveries),
    participants: Number(r.participants),
    expectedAudience: Number(r.expected),
    responses,
    meanRating: ratio(Number(r.rating_sum), responses),
    satisfactionRate: ratio(Number(r.satisfied), responses),
  };
}

function per10k(count: number, population: number | null): number | null {
  return population ? (count * 10_000) / population : null;
}

function change(now: number, before: number): number | null {
  return before === 0 ? null : (now - before) / before;
}

function sumPopulation(places: { population: number | null }[]): number | null {
  const known = places.filter((p) => p.population !== null);
  return known.length ? known.reduce((s, p) => s + p.population!, 0) : null;
}
