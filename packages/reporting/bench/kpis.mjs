// The reporting KPIs and the annual report over 100,000 synthetic deliveries and
// 1,000,000 feedback rows on PostgreSQL, next to raw SQL GROUP BYs over the same rows,
// measured in the same run.
//
//   pnpm --filter @diandan/reporting bench
//   BENCH_DELIVERIES=20000 BENCH_FEEDBACK=200000 pnpm --filter @diandan/reporting bench   (quicker)
//
// A reporting deployment boots in this process on a throw-away database
// (createTestServer; DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres,
// must allow creating databases). The Guangzhou tree (11 real districts × 12 synthetic
// streets × 6 synthetic communities) is imported through the kernel's region service;
// suppliers and listed products are made through the kernel's services. The bulk rows
// — one unit and one venue per community, the orders, their deliveries and the feedback
// — are written by SQL `generate_series` straight into the kernel's tables: this is
// a bench-only database, not the package's runtime code (which only reads them). Orders
// pick a district by population, then a community skewed towards the first ones; the
// demo year 2026 gets BENCH_DELIVERIES deliveries, 2025 a fifth as many (the year-earlier
// comparison), and the feedback rows (ratings 1–5, a third naming a group) go to random
// deliveries of either year.
//
// Measured (median of BENCH_ROUNDS, default 5, after one warm-up, the two alternating):
// for the city (440100) and one district (荔湾区 440103), each KPI function — kpis()
// (GET /v1/reporting/kpis), kpis + equityFor (…/equity), kpis + efficiency
// (…/efficiency), and reportData + renderHtml (the annual report job's work) — against
// the raw SQL a DBA would write for the same rows: deliveries GROUP BY street × category
// × month and feedback ⋈ deliveries GROUP BY the same, for the period and for the year
// before (four statements, run concurrently as the package runs its own).
import { createTestServer, guangzhouBenchRegions, seedRegions } from '@diandan/testing';
import { queryRows } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import { reporting, renderHtml, yearPeriod } from '@diandan/reporting';

process.env.DATABASE_URL ||= 'postgres://postgres@127.0.0.1:5432/postgres';
const N = Number(process.env.BENCH_DELIVERIES ?? 100_000);
const F = Number(process.env.BENCH_FEEDBACK ?? 1_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const YEAR = 2026;

const regions = guangzhouBenchRegions();
const CATEGORIES = ['performance', 'lecture', 'reading-promotion', 'intangible-heritage', 'exhibition', 'screening'];
const GROUPS = ['elderly', 'children', 'youth', 'disabled', 'migrant-workers', 'general-public'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const app = await createTestServer({ plugins: [reporting()] });
try {
  await seedRegions(app, regions);
  const kernel = app.diandan.services;
  const as = (roles, extra = {}) => kernel.access.systemActor('bench', { roles, ...extra });
  const city = await as(['city-admin'], { region: '440100' });
  const reviewer = await as(['reviewer'], { region: '440100' });
  // 10 suppliers × 4 listed products, through the kernel's services.
  for (let s = 0; s < 10; s++) {
    const supplier = (await kernel.suppliers.create({ name: `基准供应商${s + 1}（虚构）`, kind: 'troupe' }, { actor: city })).id;
    const actor = await as(['supplier'], { supplier });
    for (let p = 0; p < 4; p++) {
      const i = s * 4 + p;
      let product = await kernel.products.create(
        {
          title: `基准产品${i + 1}（虚构）`, summary: '基准测试（虚构）', description: '基准测试数据，虚构。', category: CATEGORIES[i % CATEGORIES.length], form: '现场',
          targetGroups: [GROUPS[i % GROUPS.length], GROUPS[(i + 2) % GROUPS.length]], audienceMin: 10, audienceMax: 500, durationMinutes: 60, costPerSession: 500 + 100 * (i % 10),
          serviceableRegions: ['440100'], tags: [], media: [],
        },
        { actor },
      );
      for (const [action, by] of [['submit', actor], ['startReview', reviewer], ['list', reviewer]]) product = await kernel.products.transition({ id: product.id, action, expectedVersion: product.version }, { actor: by });
    }
  }
  const plugin = app.diandan.plugins.find((p) => p.definition.name === 'reporting');
  const service = plugin.services.reporting;
  const db = app.diandan.database.db;
  const rowsOf = (query) => queryRows(db, query);

  const t0 = process.hrtime.bigint();
  const step = (what) => process.env.BENCH_VERBOSE && console.log(`  … ${what} after ${(ms(t0) / 1000).toFixed(1)} s`);
  await db.transaction(async (tx) => {
    const exec = (query) => tx.execute(query);
    await exec(sql`set local statement_timeout = 0`);
    // Bulk load of rows consistent by construction: foreign-key triggers skipped (superuser; the database is thrown away).
    await exec(sql`set local session_replication_role = replica`);
    await exec(sql`select setseed(0.2026)`);
    await exec(sql`insert into kernel.units (region_code, name, kind) select code, '基准文化室' || code || '（虚构）', 'cultural-station' from kernel.regions where level = 'community'`);
    await exec(sql`insert into kernel.venues (region_code, name, kind, capacity, address) select code, '基准活动室' || code || '（虚构）', 'community-room', 300, '基准路（虚构）' from kernel.regions where level = 'community'`);
    await exec(sql`create table public.bench_communities as
      select row_number() over (partition by substr(r.code, 1, 6) order by r.code) - 1 as i, substr(r.code, 1, 6) as district, r.code, u.id as unit_id, v.id as venue_id
      from kernel.regions r join kernel.units u on u.region_code = r.code join kernel.venues v on v.region_code = r.code where r.level = 'community'`);
    await exec(sql`create table public.bench_districts as
      select d.code, (sum(d.population) over (order by d.code) - d.population)::float8 / sum(d.population) over () as lo,
        sum(d.population) over (order by d.code)::float8 / sum(d.population) over () as upto, (select count(*) from bench_communities c where c.district = d.code) as n
      from kernel.regions d where d.level = 'district'`);
    await exec(sql`create table public.bench_products as select row_number() over (order by id) - 1 as i, id, supplier_id, cost_per_session from kernel.products where status = 'listed'`);
    const earlier = Math.round(N / 5);
    // Orders (delivered) and their deliveries: N in the demo year, N/5 the year before.
    await exec(sql`create table public.bench_orders as
      select gen_random_uuid() as id, g.n, c.unit_id, c.code as region_code, c.venue_id, p.id as product_id, p.supplier_id, p.cost_per_session as cost,
        (case when g.n <= ${N} then date '${sql.raw(`${YEAR}-01-01`)}' else date '${sql.raw(`${YEAR - 1}-01-01`)}' end + floor(g.rt * 365)::int) as day,
        20 + floor(g.ra * 180)::int as expected, 10 + floor(g.rb * 250)::int as actual
      from (select n, random() as rd, random() as rc, random() as rp, random() as rt, random() as ra, random() as rb from generate_series(1, ${N + earlier}) as n) g
      join bench_districts d on g.rd >= d.lo and g.rd < d.upto
      join bench_communities c on c.district = d.code and c.i = floor(power(g.rc, 2) * d.n)::int
      join bench_products p on p.i = floor(g.rp * 40)::int`);
    await exec(sql`insert into kernel.orders (id, unit_id, region_code, product_id, product_content_version, supplier_id, venue_id, window_start, window_end, expected_audience, cost, budget_year, status, approval_chain, approved_steps, scheduled_on, created_by)
      select id, unit_id, region_code, product_id, 1, supplier_id, venue_id, day, day, expected, cost, extract(year from day)::int, 'delivered', array[substr(region_code, 1, 9), substr(region_code, 1, 6)], 2, day, 'bench'
      from bench_orders`);
    await exec(sql`insert into kernel.deliveries (order_id, delivered_on, actual_audience, reported_by) select id, day, actual, 'bench' from bench_orders`);
    step('orders and deliveries');
    await exec(sql`create index on bench_orders (n)`);
    await exec(sql`insert into kernel.feedback (order_id, rating, respondent_group)
      select o.id, 1 + floor(power(g.rr, 0.6) * 5)::int, case when g.rg < 0.33 then (array[${sql.raw(GROUPS.map((x) => `'${x}'`).join(','))}])[1 + floor(g.rg * 18)::int] end
      from (select 1 + floor(random() * ${N + earlier})::int as n, random() as rr, random() as rg from generate_series(1, ${F})) g join bench_orders o on o.n = g.n`);
    step('feedback');
    await exec(sql`insert into kernel.budgets (region_code, year, allocated, spent) select code, ${YEAR}, case when level = 'city' then 500000000 else 40000000 end, 0 from kernel.regions where level in ('city', 'district')`);
  });
  for (const t of ['orders', 'deliveries', 'feedback', 'units', 'venues', 'budgets']) await db.execute(sql.raw(`analyze kernel.${t}`));
  const [counts] = await rowsOf(sql`select (select count(*)::int from kernel.deliveries where delivered_on >= '2026-01-01') as now, (select count(*)::int from kernel.deliveries) as deliveries, (select count(*)::int from kernel.feedback) as feedback`);
  console.log(
    `Reporting on PostgreSQL — ${counts.deliveries.toLocaleString('en')} synthetic deliveries (${counts.now.toLocaleString('en')} in ${YEAR}), ${counts.feedback.toLocaleString('en')} feedback rows ` +
      `(generated in ${(ms(t0) / 1000).toFixed(1)} s); median of ${rounds} rounds after a warm-up`,
  );

  /** The hand-written baseline: deliveries and feedback GROUP BY street × category × month, this period and the year before (four statements, concurrently). */
  const raw = async (path, period) => {
    const before = { from: `${Number(period.from.slice(0, 4)) - 1}${period.from.slice(4)}`, to: `${Number(period.to.slice(0, 4)) - 1}${period.to.slice(4)}` };
    const d = (p) => sql`select split_part(r.path, '/', 3) as street, pr.category, to_char(dl.delivered_on, 'YYYY-MM') as month, count(*)::int as n, sum(dl.actual_audience)::int as participants, sum(o.expected_audience)::int as expected
      from kernel.deliveries dl join kernel.orders o on o.id = dl.order_id join kernel.regions r on r.code = o.region_code join kernel.products pr on pr.id = o.product_id
      where dl.delivered_on >= ${p.from}::date and dl.delivered_on < ${p.to}::date and r.path collate "C" like ${`${path}%`}
      group by 1, 2, 3`;
    const f = (p) => sql`select split_part(r.path, '/', 3) as street, pr.category, to_char(dl.delivered_on, 'YYYY-MM') as month, count(*)::int as n, sum(f.rating)::int as ratings, count(*) filter (where f.rating >= 4)::int as satisfied
      from kernel.feedback f join kernel.deliveries dl on dl.order_id = f.order_id join kernel.orders o on o.id = dl.order_id join kernel.regions r on r.code = o.region_code join kernel.products pr on pr.id = o.product_id
      where dl.delivered_on >= ${p.from}::date and dl.delivered_on < ${p.to}::date and r.path collate "C" like ${`${path}%`}
      group by 1, 2, 3`;
    const parts = await Promise.all([rowsOf(d(period)), rowsOf(f(period)), rowsOf(d(before)), rowsOf(f(before))]);
    return parts.reduce((n, p) => n + p.length, 0);
  };
  const FUNCTIONS = [
    ['kpis()  — GET /v1/reporting/kpis', (s) => service.kpis(db, s)],
    ['+ equityFor — …/equity', async (s) => service.equityFor(db, await service.kpis(db, s), s.regionPath)],
    ['+ efficiency — …/efficiency', async (s) => service.efficiency(await service.kpis(db, s), s)],
    ['annual report data (reportData)', (s) => service.reportData(db, { ...s, locale: 'zh' }, undefined)],
    ['annual report (reportData + renderHtml)', async (s) => renderHtml(await service.reportData(db, { ...s, locale: 'zh' }, undefined), YEAR)],
  ];

  const rows = [];
  for (const [label, code] of [['广州市 (city)', '440100'], ['荔湾区 (district)', '440103']]) {
    const [{ path }] = await rowsOf(sql`select path from kernel.regions where code = ${code}`);
    const scope = { regionCode: code, regionPath: path, period: yearPeriod(YEAR) };
    const k = await service.kpis(db, scope);
    for (const [name, fn] of FUNCTIONS) {
      await raw(path, scope.period);
      await fn(scope);
      const times = { pkg: [], raw: [] };
      for (let r = 0; r < rounds; r++) {
        for (const which of r % 2 ? ['raw', 'pkg'] : ['pkg', 'raw']) {
          const t = process.hrtime.bigint();
          await (which === 'pkg' ? fn(scope) : raw(path, scope.period));
          times[which].push(ms(t));
        }
      }
      const p = median(times.pkg), b = median(times.raw);
      rows.push([`${label}: ${name}`, k.deliveries.toLocaleString('en'), k.responses.toLocaleString('en'), `${p.toFixed(0)} ms`, `${b.toFixed(0)} ms`, `× ${(p / b).toFixed(2)}`]);
    }
  }
  const all = [['function', 'deliveries', 'feedback', 'package', 'raw GROUP BYs', 'ratio (target ≤ 1.5)'], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  for (const r of all) console.log(`  ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('   ')}`);
} finally {
  await app.close();
}
