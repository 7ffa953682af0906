// ECharts' core with only what the report's seven charts use. The full 'echarts' entry
// registers every series, component and feature, and each adds component types,
// preprocessors and processors that every setOption walks (the component dependency
// graph is sorted anew on each call; dataZoom, brush, timeline, aria and the rest are
// consulted though no chart has them). The SVG is what the full build renders for the
// same option, byte for byte but for ECharts' running id counters; a chart type or
// component left out would be drawn without it, and ECharts says so on the console
// (test/report.test.ts fails).
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

let maps = 0;

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

/** Registers GeoJSON features under a fresh map name (ECharts keeps maps in a global registry). */
export function registerGeometry(features: { code: string; geometry: unknown }[]): string {
  const name = `diandan-report-${++maps}`;
  echarts.registerMap(name, {
    type: 'FeatureCollection',
    features: features.map((f) => ({ type: 'Feature', properties: { name: f.code }, geometry: f.geometry })),
  } as never);
  return name;
}
