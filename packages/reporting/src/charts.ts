// ECharts' core with only what the report's seven charts use. The full 'echarts' entry
// registers every series, component and feature, and each adds component types,
// preprocessors and processors that every setOption walks (the component dependency
// graph is sorted anew on each call; dataZoom, brush, timeline, aria and the rest are
// consulted though no chart has them). The SVG is what the full build renders for the
// same option, byte for byte but for ECharts' running id counters; a chart type or
// component left out would be drawn without it, and ECharts says so on the console
// (test/report.test.ts fails).
import { createHash } from 'node:crypto';
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, MapChart, PieChart, RadarChart } from 'echarts/charts';
import { GeoComponent, GridComponent, LegendComponent, RadarComponent, TitleComponent, VisualMapComponent } from 'echarts/components';
import { LabelLayout } from 'echarts/features';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, PieChart, RadarChart, HeatmapChart, MapChart, GridComponent, TitleComponent, LegendComponent, VisualMapComponent, GeoComponent, RadarComponent, LabelLayout, SVGRenderer]);

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
export function renderChart(id: string, title: string, option: echarts.EChartsCoreOption, size: { width: number; height: number } = { width: 760, height: 360 }): RenderedChart {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
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
    echarts.registerMap(name, collection as never);
    registered.add(name);
  }
  return name;
}
