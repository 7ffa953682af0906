import { loadCharts, registerGeometry, renderChart, type RenderedChart } from './charts.js';
import { t, type Locale, type StringKey } from './i18n.js';
import type { ReportData } from './report.js';

/** Width in pixels of a 12 px axis label, rounded up (CJK 12, digits and punctuation 7, other Latin 12.5). */
const labelWidth = (text: string) => [...text].reduce((w, c) => w + (c.codePointAt(0)! >= 0x2e80 ? 12 : /[\d.,-]/.test(c) ? 7 : 12.5), 0);
/** The longest label a value axis up to `max` can have: its ticks end below twice the largest value (and for fractions, three more characters). */
const valueLabel = (max: number, fractions = false) => `${Math.ceil(2 * Math.max(max, 1)).toLocaleString('en')}${fractions ? '.00' : ''}`;
/**
 * A grid's `outerBoundsMode`: ECharts 6 by default ('auto') measures every axis label and
 * name to shrink the grid until they fit the canvas, the largest single cost of a small
 * chart's layout (≈ 8 % of a district report's rendering). Where every label surely fits
 * the margin it lies in (`labels` with their room in pixels, 8 px apart from the axis), the
 * grid could not move and the measuring is skipped ('none'); otherwise ECharts measures as before.
 */
const outerBounds = (...labels: [text: string, room: number][]) => (labels.every(([text, room]) => labelWidth(text) + 8 <= room) ? 'none' : 'auto');

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const FORMATS = { int: {}, pct: { maximumFractionDigits: 1, minimumFractionDigits: 1 }, dec: { maximumFractionDigits: 3, minimumFractionDigits: 0 } } as const;
/**
 * One Intl.NumberFormat per locale and kind, made once: `toLocaleString(tag, options)`
 * builds a new formatter on every call, which was most of the tables' rendering time.
 */
const formatters = new Map<string, Intl.NumberFormat>();
function formatter(locale: Locale, kind: keyof typeof FORMATS): Intl.NumberFormat {
  const key = `${locale}:${kind}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.NumberFormat(locale === 'zh' ? 'zh-CN' : 'en-GB', FORMATS[kind])));
  return f;
}

/** Formats a number for the report: integers with separators, ratios as percentages. */
function fmt(value: number | null | undefined, kind: 'int' | 'pct' | 'dec' = 'int', locale: Locale = 'zh'): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (kind === 'pct') return `${formatter(locale, 'pct').format(value * 100)}%`;
  if (kind === 'dec') return formatter(locale, 'dec').format(value);
  return formatter(locale, 'int').format(Math.round(value));
}

/** The charts of the report, each rendered to SVG on the server (after `await loadCharts()`; `renderHtml` does it). */
export function chartsOf(data: ReportData): RenderedChart[] {
  const L = data.locale;
  const k = data.kpis;
  const charts: RenderedChart[] = [];
  const grid = { left: 60, right: 60, top: 50, bottom: 60 };
  charts.push(
    renderChart('monthly', t(L, 'monthly'), {
      title: { text: `${t(L, 'deliveries')} / ${t(L, 'participants')}`, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      grid: {
        ...grid,
        outerBoundsMode: outerBounds(
          [valueLabel(Math.max(0, ...k.byMonth.map((m) => m.deliveries))), grid.left],
          [valueLabel(Math.max(0, ...k.byMonth.map((m) => m.participants))), grid.right],
          // Axis names are centred over the axes; a month is centred in its twelfth of the width.
          [t(L, 'deliveries'), 2 * grid.left],
          [t(L, 'participants'), 2 * grid.right],
        ),
      },
      xAxis: { type: 'category', data: k.byMonth.map((m) => m.month) },
      yAxis: [{ type: 'value', name: t(L, 'deliveries') }, { type: 'value', name: t(L, 'participants') }],
      series: [
        { name: t(L, 'deliveries'), type: 'bar', data: k.byMonth.map((m) => m.deliveries), itemStyle: { color: '#c0392b' } },
        { name: t(L, 'participants'), type: 'line', yAxisIndex: 1, data: k.byMonth.map((m) => m.participants), itemStyle: { color: '#2c3e50' } },
      ],
    }),
  );
  const districts = k.byDistrict.length ? k.byDistrict : k.byStreet;
  charts.push(
    renderChart('districts', t(L, 'districts'), {
      title: { text: t(L, 'per10kDeliveries'), left: 'center', textStyle: { fontSize: 14 } },
      // Names rotated by 30° end at their tick: one up to 52 px wide stays clear of the left margin and the bottom.
      grid: { ...grid, bottom: 90, outerBoundsMode: outerBounds(...districts.map((d): [string, number] => [d.name, 60]), [valueLabel(Math.max(0, ...districts.map((d) => d.deliveriesPer10k ?? 0)), true), grid.left]) },
      xAxis: { type: 'category', data: districts.map((d) => d.name), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value' },
      series: [{ type: 'bar', data: districts.map((d) => Number((d.deliveriesPer10k ?? 0).toFixed(3))), itemStyle: { color: '#d35400' }, label: { show: true, position: 'top' } }],
    }),
  );
  charts.push(coverageChart(data));
  charts.push(
    renderChart('categories', t(L, 'categories'), {
      title: { text: t(L, 'categories'), left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0 },
      series: [{ type: 'pie', radius: ['35%', '65%'], data: k.byCategory.map((c) => ({ name: c.name, value: c.deliveries })), label: { formatter: '{b}: {c}' } }],
    }),
  );
  charts.push(
    renderChart('groups', t(L, 'groups'), {
      title: { text: t(L, 'groups'), left: 'center', textStyle: { fontSize: 14 } },
      // Group names left of the bars; the value axis's last label is centred on the grid's right edge.
      grid: { ...grid, left: 130, outerBoundsMode: outerBounds(...k.groups.map((g): [string, number] => [g.name, 130]), [valueLabel(Math.max(0, ...k.groups.map((g) => g.deliveries))), 2 * grid.right]) },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: k.groups.map((g) => g.name), inverse: true },
      series: [{ type: 'bar', data: k.groups.map((g) => g.deliveries), itemStyle: { color: '#16a085' }, label: { show: true, position: 'right' } }],
    }),
  );
  charts.push(lorenzChart(data));
  const ind = data.efficiency.indicators;
  charts.push(
    renderChart('efficiency', t(L, 'efficiency'), {
      title: { text: `${t(L, 'composite')}: ${fmt(data.efficiency.composite, 'dec', L)}`, left: 'center', textStyle: { fontSize: 14 } },
      radar: { indicator: ind.map((i) => ({ name: L === 'zh' ? i.name : i.nameEn, max: 1 })), radius: '62%', center: ['50%', '56%'] },
      series: [{ type: 'radar', data: [{ name: t(L, 'score'), value: ind.map((i) => i.score ?? 0) }], areaStyle: { opacity: 0.3 }, itemStyle: { color: '#8e44ad' } }],
    }),
  );
  return charts;
}

/** Whether every street (or else every district) has a boundary to draw. */
function hasShapes(data: ReportData): boolean {
  const shapes = new Set(data.geometry.map((g) => g.code));
  const all = (rows: { code: string }[]) => rows.length > 0 && rows.every((r) => shapes.has(r.code));
  return all(data.kpis.byStreet) || all(data.kpis.byDistrict);
}

/** Coverage by street (or district) as a choropleth where boundaries exist, else one tile per street. */
function coverageChart(data: ReportData): RenderedChart {
  const L = data.locale;
  const streets = data.kpis.byStreet;
  const withShape = (level: 'street' | 'district') => {
    const rows = level === 'street' ? streets : data.kpis.byDistrict;
    const shapes = new Map(data.geometry.map((g) => [g.code, g.geometry]));
    return rows.length > 0 && rows.every((r) => shapes.has(r.code)) ? rows.map((r) => ({ code: r.code, geometry: shapes.get(r.code), row: r })) : null;
  };
  const shaped = withShape('street') ?? withShape('district');
  if (shaped) {
    const map = registerGeometry(shaped);
    const values = shaped.map((s) => s.row.deliveriesPer10k ?? 0);
    return renderChart(
      'coverage',
      t(L, 'coverageMap'),
      {
        title: { text: `${t(L, 'streetCoverage')}: ${fmt(data.kpis.coverage.streets.share, 'pct', L)} — ${t(L, 'per10kDeliveries')}`, left: 'center', textStyle: { fontSize: 14 } },
        visualMap: { min: 0, max: Math.max(...values, 0.001), left: 10, bottom: 10, calculable: false, inRange: { color: ['#f5f5f5', '#f39c12', '#c0392b'] }, text: ['', ''] },
        series: [
          {
            type: 'map',
            map,
            roam: false,
            label: { show: true, fontSize: 10, formatter: (p: { name: string }) => shaped.find((s) => s.code === p.name)?.row.name ?? p.name },
            data: shaped.map((s) => ({ name: s.code, value: s.row.deliveriesPer10k ?? 0 })),
          },
        ],
      },
      { width: 760, height: 480 },
    );
  }
  // No boundaries: a grid of tiles, one per street, coloured by deliveries per 10,000 residents.
  const cols = Math.max(1, Math.ceil(Math.sqrt(streets.length)));
  return renderChart('coverage', t(L, 'coverageMap'), {
    title: { text: `${t(L, 'streetCoverage')}: ${fmt(data.kpis.coverage.streets.share, 'pct', L)}`, left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 20, right: 20, top: 50, bottom: 50 },
    xAxis: { type: 'category', show: false, data: Array.from({ length: cols }, (_, i) => i) },
    yAxis: { type: 'category', show: false, inverse: true, data: Array.from({ length: Math.ceil(streets.length / cols) }, (_, i) => i) },
    visualMap: { min: 0, max: Math.max(...streets.map((s) => s.deliveriesPer10k ?? s.deliveries), 0.001), orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#f5f5f5', '#f39c12', '#c0392b'] } },
    series: [
      {
        type: 'heatmap',
        data: streets.map((s, i) => ({ value: [i % cols, Math.floor(i / cols), s.deliveriesPer10k ?? s.deliveries], name: s.name })),
        label: { show: true, fontSize: 10, formatter: (p: { dataIndex: number }) => streets[p.dataIndex]?.name ?? '' },
      },
    ],
  });
}

function lorenzChart(data: ReportData): RenderedChart {
  const L = data.locale;
  const rows = data.kpis.byStreet.filter((s) => s.population).map((s) => ({ p: s.population!, x: s.deliveries }));
  rows.sort((a, b) => a.x / a.p - b.x / b.p);
  const P = rows.reduce((s, r) => s + r.p, 0) || 1;
  const X = rows.reduce((s, r) => s + r.x, 0) || 1;
  const points: [number, number][] = [[0, 0]];
  let cp = 0;
  let cx = 0;
  for (const r of rows) {
    cp += r.p;
    cx += r.x;
    points.push([cp / P, cx / X]);
  }
  return renderChart('lorenz', t(L, 'lorenz'), {
    title: { text: `${t(L, 'lorenz')} — Gini ${fmt(data.equity.measures.deliveries.giniStreets, 'dec', L)}`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    // Shares from 0 to 1; the y axis's name is centred over it.
    grid: { ...grid, outerBoundsMode: outerBounds([t(L, 'deliveryShare'), 2 * grid.left]) },
    xAxis: { type: 'value', min: 0, max: 1, name: t(L, 'populationShare'), nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', min: 0, max: 1, name: t(L, 'deliveryShare') },
    series: [
      { name: t(L, 'lorenz'), type: 'line', data: points, itemStyle: { color: '#c0392b' }, areaStyle: { opacity: 0.15 } },
      { name: t(L, 'equality'), type: 'line', data: [[0, 0], [1, 1]], lineStyle: { type: 'dashed' }, itemStyle: { color: '#7f8c8d' }, symbol: 'none' },
    ],
  });
}
const grid = { left: 60, right: 40, top: 50, bottom: 60 };

function table(columns: string[], rows: (string | number | null)[][]): string {
  return `<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="n"' : ''}>${esc(c ?? '—')}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/**
 * The annual service report (服务年报) as one self-contained HTML document: inline CSS,
 * charts as inline SVG, no script and no external resource, so it opens offline and
 * prints cleanly (each chapter starts a new page).
 */
export async function renderHtml(data: ReportData, year: number): Promise<{ html: string; charts: RenderedChart[] }> {
  await loadCharts();
  const L = data.locale;
  const k = data.kpis;
  const s = (key: StringKey, vars?: Record<string, string | number>) => t(L, key, vars);
  const charts = chartsOf(data);
  const chart = (id: string) => {
    const c = charts.find((x) => x.id === id)!;
    return `<figure class="chart" data-chart="${esc(c.id)}">${c.svg}</figure>`;
  };
  const headline: [StringKey, string, string][] = [
    ['deliveries', fmt(k.deliveries, 'int', L), fmt(k.yearEarlier.deliveries, 'int', L)],
    ['participants', fmt(k.participants, 'int', L), fmt(k.yearEarlier.participants, 'int', L)],
    ['satisfaction', fmt(k.satisfactionRate, 'pct', L), fmt(k.yearEarlier.satisfactionRate, 'pct', L)],
    ['meanRating', fmt(k.meanRating, 'dec', L), fmt(k.yearEarlier.meanRating, 'dec', L)],
    ['streetCoverage', fmt(k.coverage.streets.share, 'pct', L), fmt(k.yearEarlier.streetCoverage, 'pct', L)],
    ['communityCoverage', fmt(k.coverage.communities.share, 'pct', L), '—'],
    ['per10kDeliveries', fmt(k.per10k.deliveries, 'dec', L), '—'],
    ['per10kParticipants', fmt(k.per10k.participants, 'dec', L), '—'],
    ['leadTime', fmt(k.approvalLeadTime.meanHours, 'dec', L), '—'],
    ['budgetExecution', fmt(k.budget?.execution ?? null, 'pct', L), '—'],
    ['catalogueUse', fmt(k.catalogue.utilisation, 'pct', L), '—'],
  ];
  const regionRows = (rows: typeof k.byDistrict) =>
    rows.map((r) => [r.name, r.population, r.deliveries, r.participants, r.deliveriesPer10k === null ? null : Number(r.deliveriesPer10k.toFixed(3)), fmt(r.satisfactionRate, 'pct', L)]);
  const regionCols = [s('name'), s('population'), s('deliveries'), s('participants'), s('per10kDeliveries'), s('satisfaction')];
  const eq = data.equity.measures.deliveries;
  const sectionHtml = data.sections
    .map((x) =>
      x.available
        ? `<h3>${esc(x.title)}</h3>${x.figures ? `<dl class="figures">${Object.entries(x.figures).map(([a, b]) => `<div><dt>${esc(a)}</dt><dd>${esc(typeof b === 'number' && !Number.isInteger(b) ? fmt(b, 'dec', L) : (b ?? '—'))}</dd></div>`).join('')}</dl>` : ''}${
            x.table ? table([...x.table.columns], x.table.rows.map((r) => [...r])) : ''
          }${(x.paragraphs ?? []).map((p) => `<p>${esc(p)}</p>`).join('')}`
        : `<h3>${esc(x.title)}</h3><p class="absent" data-absent="${esc(x.key)}">${esc(s('absentNote', { note: x.note ?? '' }))}</p>`,
    )
    .join('');
  const noGeometry = !hasShapes(data);
  const html = `<!doctype html>
<html lang="${L === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s('reportTitle', { region: k.region.name, year }))}</title>
<style>
  @page { size: A4; margin: 16mm 14mm; }
  body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #222; max-width: 800px; margin: 0 auto; padding: 24px; line-height: 1.5; }
  h1 { color: #a93226; border-bottom: 3px solid #a93226; padding-bottom: 8px; }
  h2 { color: #a93226; margin-top: 32px; page-break-before: always; break-before: page; }
  h2.first { page-break-before: avoid; break-before: avoid; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0 16px; }
  th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  th { background: #f6ecea; }
  figure.chart { margin: 12px 0; page-break-inside: avoid; break-inside: avoid; }
  figure.chart svg { max-width: 100%; height: auto; }
  dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 8px; }
  dl.figures div { background: #f9f3f2; padding: 8px; border-radius: 4px; }
  dt { font-size: 12px; color: #666; } dd { margin: 0; font-size: 18px; font-weight: bold; }
  .absent { color: #888; font-style: italic; }
  .meta { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>${esc(s('reportTitle', { region: k.region.name, year }))}</h1>
<p class="meta">${esc(s('periodLine', { from: k.period.from, to: k.period.to }))} · ${esc(s('generated', { at: data.generatedAt.slice(0, 16).replace('T', ' ') }))}</p>
<h2 class="first">${esc(s('overview'))}</h2>
${table([s('indicator'), s('value'), s('yearEarlier')], headline.map(([key, v, b]) => [s(key), v, b]))}
<h3>${esc(s('ordersByStatus'))}</h3>
${table(Object.keys(k.ordersByStatus), [Object.values(k.ordersByStatus)])}
<h2>${esc(s('monthly'))}</h2>
${chart('monthly')}
${table([s('month'), s('deliveries'), s('participants'), s('meanRating'), s('satisfaction')], k.byMonth.map((m) => [m.month, m.deliveries, m.participants, fmt(m.meanRating, 'dec', L), fmt(m.satisfactionRate, 'pct', L)]))}
<h2>${esc(s('districts'))}</h2>
${chart('districts')}
${table(regionCols, regionRows(k.byDistrict))}
<h3>${esc(s('streets'))}</h3>
${table(regionCols, regionRows(k.byStreet))}
<h2>${esc(s('coverageMap'))}</h2>
${noGeometry ? `<p class="meta">${esc(s('coverageMapNoGeometry'))}</p>` : ''}
${chart('coverage')}
<h2>${esc(s('categories'))}</h2>
${chart('categories')}
${table([s('category'), s('deliveries'), s('participants'), s('satisfaction')], k.byCategory.map((c) => [c.name, c.deliveries, c.participants, fmt(c.satisfactionRate, 'pct', L)]))}
<h2>${esc(s('groups'))}</h2>
${chart('groups')}
${table([s('name'), s('deliveries'), s('participants'), s('responses'), s('meanRating')], k.groups.map((g) => [g.name, g.deliveries, g.participants, g.respondents, fmt(g.meanRating, 'dec', L)]))}
<h2>${esc(s('equity'))}</h2>
<dl class="figures">
  <div><dt>${esc(s('giniDistricts'))}</dt><dd>${fmt(eq.giniDistricts, 'dec', L)}</dd></div>
  <div><dt>${esc(s('giniStreets'))}</dt><dd>${fmt(eq.giniStreets, 'dec', L)}</dd></div>
  <div><dt>${esc(s('theilTotal'))}</dt><dd>${fmt(eq.theil?.total, 'dec', L)}</dd></div>
  <div><dt>${esc(s('theilBetween'))}</dt><dd>${fmt(eq.theil?.between, 'dec', L)}</dd></div>
  <div><dt>${esc(s('theilWithin'))}</dt><dd>${fmt(eq.theil?.within, 'dec', L)}</dd></div>
  <div><dt>${esc(s('balanceIndex'))}</dt><dd>${fmt(data.equity.balance.index, 'dec', L)}</dd></div>
</dl>
${chart('lorenz')}
<h3>${esc(s('gaps'))}</h3>
${table([s('name'), s('deliveries'), s('expected'), s('shortfall')], data.equity.gaps.map((g) => [g.name, g.deliveries, Number(g.expected.toFixed(2)), Number(g.shortfall.toFixed(2))]))}
<h2>${esc(s('efficiency'))}</h2>
${chart('efficiency')}
${table(
  [s('indicator'), s('value'), s('target'), s('weight'), s('score'), s('formula')],
  data.efficiency.indicators.map((i) => [L === 'zh' ? i.name : i.nameEn, i.value === null ? (i.note ?? '—') : fmt(i.value, 'dec', L), i.target, i.weight, fmt(i.score, 'dec', L), i.formula]),
)}
<h2>${esc(s('suppliers'))}</h2>
${table([s('name'), s('deliveries'), s('participants'), s('meanRating'), s('satisfaction')], k.suppliers.slice(0, 20).map((x) => [x.name, x.deliveries, x.participants, fmt(x.meanRating, 'dec', L), fmt(x.satisfactionRate, 'pct', L)]))}
<h2>${esc(s('products'))}</h2>
<h3>${esc(s('topProducts'))}</h3>
${table([s('name'), s('deliveries'), s('participants'), s('meanRating')], k.products.top.map((p) => [p.title, p.deliveries, p.participants, fmt(p.meanRating, 'dec', L)]))}
<h3>${esc(s('bottomProducts'))}</h3>
${table([s('name'), s('responses'), s('meanRating')], k.products.bottom.map((p) => [p.title, p.responses, fmt(p.meanRating, 'dec', L)]))}
<h3>${esc(s('unusedProducts'))} (${k.catalogue.unusedTotal})</h3>
${table([s('name'), s('category')], k.catalogue.unused.map((p) => [p.title, p.category]))}
<h2>${esc(s('otherSections'))}</h2>
${sectionHtml}
</body>
</html>
`;
  return { html, charts };
}
