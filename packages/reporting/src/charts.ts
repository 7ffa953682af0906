// ECharts' core with only what the report's seven charts use. The full 'echarts' entry
// registers every series, component and feature, and each adds component types,
// preprocessors and processors that every setOption walks (the component dependency
// graph is sorted anew on each call; dataZoom, brush, timeline, aria and the rest are
// consulted though no chart has them). The SVG is what the full build renders for the
// same option, byte for byte but for ECharts' running id counters; a chart type or
// component left out would be drawn without it, and ECharts says so on the console
// (test/report.test.ts fails).
import { createHash } from 'node:crypto';
import type * as ECharts from 'echarts/core';

let echarts: typeof ECharts | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads ECharts, the first time a report is rendered rather than when the server starts
 * (its modules take a few hundred milliseconds to load, on every start, for a job that
 * runs a few times a year). `renderHtml` calls it; call it once before `renderChart`.
 */
export function loadCharts(): Promise<void> {
  loading ??= (async () => {
    const [core, charts, components, features, renderers] = await Promise.all([
      import('echarts/core'),
      import('echarts/charts'),
      import('echarts/components'),
      import('echarts/features'),
      import('echarts/renderers'),
    ]);
    core.use([
      charts.BarChart, charts.LineChart, charts.PieChart, charts.RadarChart, charts.HeatmapChart, charts.MapChart,
      components.GridComponent, components.TitleComponent, components.LegendComponent, components.VisualMapComponent, components.GeoComponent, components.RadarComponent,
      features.LabelLayout, renderers.SVGRenderer,
    ]);
    echarts = core;
  })();
  return loading;
}

function loaded(): typeof ECharts {
  if (!echarts) throw new Error('ECharts is not loaded yet: await loadCharts() before rendering a chart');
  return echarts;
}

/** A chart of the report: its id and the inline SVG ECharts rendered on the server. */
export interface RenderedChart {
  id: string;
  title: string;
  svg: string;
}

/** Map names registered with ECharts in this process. */
const registered = new Set<string>();

/**
 * Renders an ECharts option to an SVG string with server-side rendering (no DOM, no
 * browser): the report opens offline and prints as vectors. Animation is off, so the
 * string is the final picture.
 */
export function renderChart(id: string, title: string, option: ECharts.EChartsCoreOption, size: { width: number; height: number } = { width: 760, height: 360 }): RenderedChart {
  const chart = loaded().init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: 'Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif' }, ...option });
    return { id, title, svg: chart.renderToSVGString() };
  } finally {
    chart.dispose();
  }
}

/**
 * Registers GeoJSON features as an ECharts map and returns its name. ECharts keeps maps
 * in a process-wide registry with no way to remove one, so the name is the features'
 * hash: the same geometry (every report of one subtree) is registered once, and a
 * long-running server keeps one map per distinct geometry, not one per report.
 */
export function registerGeometry(features: { code: string; geometry: unknown }[]): string {
  const collection = {
    type: 'FeatureCollection',
    features: features.map((f) => ({ type: 'Feature', properties: { name: f.code }, geometry: f.geometry })),
  };
  const name = `diandan-report-${createHash('sha256').update(JSON.stringify(collection)).digest('base64url').slice(0, 22)}`;
  if (!registered.has(name)) {
    loaded().registerMap(name, collection as never);
    registered.add(name);
  }
  return name;
}
