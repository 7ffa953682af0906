/** ECharts keeps registered maps for the life of the process: one per distinct geometry, not one per report. */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCharts, registerGeometry, renderChart } from '../src/charts.js';

beforeAll(() => loadCharts());

const square = (x: number) => ({ type: 'Polygon', coordinates: [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]] });

describe('region geometry for the coverage map', () => {
  it('registers the same features once, and other features under another name', () => {
    const features = [{ code: '440103', geometry: square(0) }, { code: '440104', geometry: square(1) }];
    const first = registerGeometry(features);
    expect(registerGeometry(features.map((f) => ({ ...f })))).toBe(first);
    expect(registerGeometry([{ code: '440103', geometry: square(5) }])).not.toBe(first);
    // The registered map draws.
    const chart = renderChart('map', 'map', { series: [{ type: 'map', map: first, data: [{ name: '440103', value: 1 }] }] });
    expect(chart.svg).toContain('<path');
  });
});
