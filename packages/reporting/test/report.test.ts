import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { actors, client, createTestServer, type Call } from '@diandan/testing';
import { queryRows } from '@diandan/kernel';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chartsOf, reporting, type ReportData } from '../src/index.js';
import { seedDataset } from './dataset.js';

let app: FastifyInstance;
let call: Call;
const city = actors.cityAdmin('440100');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

beforeAll(async () => {
  // No optional plugin at all: procurement, survey and venues are absent here.
  app = await createTestServer({ plugins: [reporting()] });
  await seedDataset(app);
  call = client(app);
});
afterAll(() => app?.close());

/** Polls the kernel's job route until the job has finished (no fixed sleep longer than 100 ms). */
async function finished(jobId: string, who = city) {
  for (let i = 0; i < 600; i++) {
    const job = await call(who, 'GET', `/v1/jobs/${jobId}`);
    if (['completed', 'failed', 'cancelled'].includes(job.body.state)) return job.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} did not finish`);
}

async function generate(body: object, who = city) {
  const res = await call(who, 'POST', '/v1/reports', body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ status: 'queued' });
  const job = await finished(res.body.jobId, who);
  expect(job.state, JSON.stringify(job)).toBe('completed');
  return { report: res.body, job };
}

describe('the annual report', () => {
  let zh: { id: string };
  it('is generated as a job with progress, stored, and downloadable as HTML, JSON and CSV', async () => {
    const { report, job } = await generate({ year: 2026 });
    zh = report;
    expect(job.progress).toBe(100);
    expect(job.result).toMatchObject({ reportId: report.id, charts: 7 });
    const stored = await call(city, 'GET', `/v1/reports/${report.id}`);
    expect(stored.body).toMatchObject({ status: 'ready', year: 2026, locale: 'zh', regionCode: '440100' });
    const html = await call(city, 'GET', `/v1/reports/${report.id}/report.html`);
    expect(html.contentType).toMatch(/^text\/html/);
    expect(html.body).toContain('测试市公共文化服务年度报告（2026）');
    expect((html.body.match(/<svg/g) ?? []).length).toBe(7);
    expect(html.body).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // self-contained: no script, no external resource
    const json = await call(city, 'GET', `/v1/reports/${report.id}/report.json`);
    expect(json.body.kpis).toMatchObject({ deliveries: 4, participants: 380 });
    expect(json.body.equity.measures.deliveries.giniDistricts).toBeCloseTo(1 / 12, 10);
    const csv = await call(city, 'GET', `/v1/reports/${report.id}/report.csv`);
    expect(csv.contentType).toMatch(/^text\/csv/);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines[0]).toBe('section,key,name,metric,value');
    expect(lines).toContain('total,440100,测试市,deliveries,4');
    expect(lines).toContain('street,440104001,乙一街,participants,30');
    const list = await call(city, 'GET', '/v1/reports?limit=10');
    expect(list.body.items.map((r: any) => r.id)).toContain(report.id);
  });

  it('reports an absent plugin’s section as absent, with a note, never as zeros', async () => {
    const json = await call(city, 'GET', `/v1/reports/${zh.id}/report.json`);
    const sections = json.body.sections as { key: string; available: boolean; note?: string; figures?: object }[];
    for (const key of ['procurement.red-flags', 'survey.demand-met', 'venues.utilisation', 'matching.fairness']) {
      const s = sections.find((x) => x.key === key)!;
      expect(s, key).toMatchObject({ available: false });
      expect(s.note).toBeTruthy();
      expect(s.figures).toBeUndefined();
    }
    const html = await call(city, 'GET', `/v1/reports/${zh.id}/report.html`);
    expect(html.body).toContain('data-absent="procurement.red-flags"');
    expect(html.body).toContain('暂无数据：未启用插件 @diandan/procurement');
  });

  it('is written in English on request, for a subtree, and is scoped to the requester’s region', async () => {
    const district = actors.districtAdmin('440103');
    const { report } = await generate({ year: 2026, regionCode: '440103', locale: 'en' }, district);
    const html = await call(district, 'GET', `/v1/reports/${report.id}/report.html`);
    expect(html.body).toContain('甲区 public cultural services: annual report 2026');
    expect(html.body).toContain('<html lang="en">');
    const other = actors.districtAdmin('440104');
    expect((await call(other, 'GET', `/v1/reports/${report.id}`)).status).toBe(404);
    expect((await call(other, 'POST', '/v1/reports', { year: 2026, regionCode: '440103' })).body.code).toBe('REGION_NOT_FOUND');
    expect((await call(city, 'GET', `/v1/reports/not-a-uuid`)).body.code).toBe('REPORT_NOT_FOUND');
  });

  it('renders every chart with the ECharts parts it uses registered (the package loads ECharts’ core, not the full build)', async () => {
    const json = await call(city, 'GET', `/v1/reports/${zh.id}/report.json`);
    const data = json.body as ReportData;
    // ECharts reports a series or component it has not registered on the console and draws the chart without it.
    const messages: string[] = [];
    const spies = (['error', 'warn', 'log'] as const).map((level) => vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void messages.push(args.join(' '))));
    try {
      // The choropleth (the dataset's streets have boundaries) and the tiles (no boundaries), in both languages.
      for (const d of [data, { ...data, geometry: [] }, { ...data, locale: 'en' as const }]) {
        const charts = chartsOf(d);
        expect(charts.map((c) => c.id)).toEqual(['monthly', 'districts', 'coverage', 'categories', 'groups', 'lorenz', 'efficiency']);
        for (const c of charts) expect(c.svg.match(/ecmeta_ssr_type="chart"/g)?.length ?? 0, c.id).toBeGreaterThan(0); // the series' own shapes
        const byId = Object.fromEntries(charts.map((c) => [c.id, c.svg]));
        expect(byId.coverage).toContain('rgb(192,57,43)'); // visualMap: the highest value takes the scale's last colour
        for (const c of data.kpis.byCategory) expect(byId.categories).toContain(`>${c.name}</text>`); // legend
        // Ids and class names stay unique across the charts of one document.
        const ids = charts.flatMap((c) => [...c.svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
        expect(new Set(ids).size).toBe(ids.length);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(messages.filter((m) => m.includes('ECharts'))).toEqual([]);
  });

  it('keeps the monthly chart’s axis labels inside the picture however large the figures', async () => {
    const data = (await call(city, 'GET', `/v1/reports/${zh.id}/report.json`)).body as ReportData;
    const monthly = (participants: number) => {
      const d = { ...data, kpis: { ...data.kpis, byMonth: data.kpis.byMonth.map((m) => ({ ...m, participants })) } };
      return chartsOf(d).find((c) => c.id === 'monthly')!.svg;
    };
    // The x axis runs from the left margin (60) to the right one (760 − 60) when the right axis's labels fit it…
    expect(monthly(50)).toContain('M60 300.5L700 300.5');
    // …and ends further left when they would not ('1,200,000' does not fit 60 px): ECharts measures the labels then.
    const wide = monthly(1_184_150);
    expect(wide).not.toContain('L700 300.5');
    expect(wide).toMatch(/M60 300\.5L6\d\d(\.\d+)? 300\.5/);
  });

  it('opens in headless Chromium without console errors, every chart an SVG with content', async (t) => {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
      t.skip();
      return;
    }
    const { chromium } = await import('playwright-core');
    const html = await call(city, 'GET', `/v1/reports/${zh.id}/report.html`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent(html.body, { waitUntil: 'load' });
      const charts = await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return { id: f.getAttribute('data-chart'), shapes: svg ? svg.querySelectorAll('path, rect, text, circle, polyline, polygon').length : 0, width: box?.width ?? 0, height: box?.height ?? 0 };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(['monthly', 'districts', 'coverage', 'categories', 'groups', 'lorenz', 'efficiency']);
      for (const c of charts) {
        expect(c.shapes, c.id!).toBeGreaterThan(3);
        expect(c.width * c.height, c.id!).toBeGreaterThan(0);
      }
      expect(errors).toEqual([]);
      if (process.env.REPORTING_SCREENSHOT) {
        // The committed docs/reporting-annual-report.png: the first two pages.
        const docs = fileURLToPath(new URL('../../../docs/', import.meta.url));
        mkdirSync(docs, { recursive: true });
        await page.setViewportSize({ width: 900, height: 2600 });
        await page.screenshot({ path: `${docs}reporting-annual-report.png` });
      }
    } finally {
      await browser.close();
    }
  });
});

describe('the report list', () => {
  it('pages through reports created within one millisecond without skipping or repeating any (microsecond cursor)', async () => {
    // Five reports 1 µs apart, all in the same millisecond (Postgres keeps microseconds; a Date does not).
    const db = app.diandan.database.db;
    const inserted: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const [row] = await queryRows<{ id: string }>(db, sql`insert into reporting.reports (region_code, region_path, year, locale, status, requested_by, created_at)
        select code, path, 2019, 'zh', 'failed', 'test', ${`2020-01-01T00:00:00.12340${i}Z`}::timestamptz from kernel.regions where code = '440100' returning id::text as id`);
      inserted.push(row!.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: { status: number; body: any } = await call(city, 'GET', `/v1/reports?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...res.body.items.map((r: { id: string }) => r.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    // Newest first: the five in reverse order of creation, none missing.
    expect(seen.filter((id) => inserted.includes(id))).toEqual([...inserted].reverse());
  });
});

