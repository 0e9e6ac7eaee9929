/**
 * The SVG `text/html` fallback of charts says what the plotly figure says: histograms normalised
 * as their `histnorm` asks, bar charts with category labels, marker lines and labels, axis titles
 * and ticks, a legend beside the plot area, lines over bars with earlier lines wider.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { chart, lineChart } from '../../../kernel/api/display';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';
import { DEFAULT_CHART_HEIGHT } from '../../../kernel/contract/payloads';

function fallback(c: ReturnType<typeof chart>): string {
  return c[MIME_BUNDLE]().data[MIME.html] as string;
}

/** The data rects (inside the bar groups), not the clip path or legend swatches. */
function barRects(svg: string): Array<{ x: number; y: number; width: number; height: number }> {
  const groups = [...svg.matchAll(/<g class="bars"[^>]*>(.*?)<\/g>/g)].map((m) => m[1]).join('');
  return [...groups.matchAll(/<rect x="([0-9.-]+)" y="([0-9.-]+)" width="([0-9.]+)" height="([0-9.]+)"/g)]
    .map((m) => ({ x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), height: Number(m[4]) }));
}

const texts = (svg: string, cls: string): string[] => [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);

/** Plot-area y of an SVG tick label's value: reads the y ticks to map data values to pixels. */
function yScale(svg: string): (v: number) => number {
  const ticks = [...svg.matchAll(/<text class="ytick" x="[0-9.]+" y="([0-9.]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ px: Number(m[1]) - 4, v: Number(m[2]) }));
  const [a, b] = [ticks[0], ticks[ticks.length - 1]];
  return (v) => a.px + ((v - a.v) / (b.v - a.v)) * (b.px - a.px);
}

test('a histogram trace is binned into 20 bars whose heights follow the counts', () => {
  const values = [...Array(30).fill(1), ...Array(10).fill(5), 9];
  const svg = fallback(chart({ data: [{ type: 'histogram', x: values, name: 'norms' }], layout: { title: 'latent norms' } }));
  const h = barRects(svg).map((r) => r.height);
  assert.equal(h.length, 20);
  assert.ok(h[0] > 0 && h[19] > 0, 'first and last bins hold the extremes');
  assert.ok(Math.abs(h[0] / h[19] - 30) < 0.5, `heights proportional to counts 30:1, got ${h[0]}:${h[19]}`);
  assert.equal(h.filter((v) => v > 0).length, 3, 'three occupied bins');
  assert.match(svg, /<title>norms<\/title>/);
  assert.doesNotMatch(svg, /<polyline/);
});

test('a probability-density histogram is drawn as a density: bar heights on the y ticks integrate to 1', () => {
  // 100 values evenly spread over [0, 3.96], 5 per bin of width 0.198: density 5 / (100 · 0.198)
  // ≈ 0.2525 in every bin, where a count axis would read 5.
  const values = Array.from({ length: 100 }, (_, i) => (4 * i) / 100);
  const density = 5 / (100 * (3.96 / 20));
  const svg = fallback(chart({
    data: [
      { type: 'histogram', x: values, histnorm: 'probability density', nbinsx: 20, name: 'norms' },
      { type: 'scatter', mode: 'lines', x: [0, 2, 3.96], y: [density, density, density], name: 'KDE' },
    ],
    layout: { yaxis: { title: { text: 'density' } } },
  }));
  const rects = barRects(svg);
  const y = yScale(svg);
  const zero = y(0);
  const perUnit = zero - y(1); // px per density unit
  const densities = rects.map((r) => r.height / perUnit);
  for (const d of densities) assert.ok(Math.abs(d - density) < 0.01, `bin density ${d}, expected ${density}`);
  // A density line at the same value sits on the bars' tops, not flattened onto the axis.
  const line = svg.match(/<polyline[^>]*points="([^"]+)"/)![1].split(' ').map((p) => Number(p.split(',')[1]));
  for (const py of line) assert.ok(Math.abs(py - rects[0].y) < 2, `KDE at ${py} px, bars' top at ${rects[0].y} px`);
  assert.deepEqual(texts(svg, 'ytitle'), ['density']);
});

test('bar traces with category x keep their labels, grouped side by side; lines are drawn over bars', () => {
  const models = ['fresh RTS', 'k = 5', 'k = 1'];
  const svg = fallback(chart({
    data: [
      { type: 'scatter', mode: 'lines', x: models, y: [0.1, 0.2, 0.3], name: 'trend' },
      { type: 'bar', x: models, y: [0.3, 0.2, 0.1], name: 'PGD AE' },
      { type: 'bar', x: models, y: [0.4, 0.3, 0.2], name: 'encoder AE' },
    ],
    layout: { xaxis: { title: { text: 'model' } }, yaxis: { title: { text: 'BCE per pixel' } } },
  }));
  assert.deepEqual(texts(svg, 'xtick'), models);
  assert.deepEqual([...texts(svg, 'xtitle'), ...texts(svg, 'ytitle')], ['model', 'BCE per pixel']);
  const rects = barRects(svg);
  assert.equal(rects.length, 6);
  assert.ok(rects[3].x > rects[0].x, 'the second series sits beside the first in each slot');
  assert.ok(rects[3].height > rects[0].height, 'a larger value is a taller bar');
  assert.ok(svg.indexOf('<polyline') > svg.lastIndexOf('<g class="bars"'), 'the line comes after (over) the bars');
});

test('percentile marker lines and their labels from the layout are kept', () => {
  const svg = fallback(chart({
    data: [{ type: 'histogram', x: [1, 2, 2, 3, 3, 3, 4, 10] }],
    layout: {
      shapes: [{ type: 'line', x0: 3, x1: 3, y0: 0, y1: 1, yref: 'paper', line: { dash: 'dot' } }],
      annotations: [{ x: 3, y: 1, yref: 'paper', yanchor: 'bottom', text: 'p50 = 3', showarrow: false }],
    },
  }));
  const marker = svg.match(/<line class="marker" x1="([0-9.]+)" y1="([0-9.]+)" x2="([0-9.]+)" y2="([0-9.]+)"[^>]*stroke-dasharray/);
  assert.ok(marker, 'a dotted marker line');
  assert.equal(marker![1], marker![3], 'vertical');
  assert.ok(Number(marker![4]) < Number(marker![2]) - 100, 'spanning the plot height');
  const label = svg.match(/<text class="label" x="([0-9.]+)"[^>]*>p50 = 3<\/text>/);
  assert.ok(label, 'the label is drawn');
  assert.equal(label![1], marker![1], 'above its line');
});

test('the legend sits to the right of the plot area, not over the data', () => {
  const svg = fallback(lineChart({ loss: [3, 2, 1], kl: [0.1, 0.2, 0.3] }, { xLabel: 'step', yLabel: 'loss' }));
  const plotRight = Number(svg.match(/<clipPath id="[^"]+"><rect x="([0-9.]+)" y="[0-9.-]+" width="([0-9.]+)"/)!.slice(1, 3).reduce((a, b) => Number(a) + Number(b), 0));
  const legendX = [...svg.matchAll(/<g class="legend-item"><line x1="([0-9.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(legendX.length, 2);
  for (const x of legendX) assert.ok(x > plotRight, `legend at x ${x}, plot area ends at ${plotRight}`);
});

test('overlaid lines: the earlier line is wider, in the plotly figure and in the fallback', () => {
  const c = lineChart({ loss: [3, 2, 1], recon: [3, 2, 1], kl: [0, 0, 0] });
  const widths = c.figure.data.map((t) => (t.line as { width: number }).width);
  assert.ok(widths[0] > widths[1] && widths[1] > widths[2], `widths ${widths}`);
  const drawn = [...fallback(c).matchAll(/stroke-width="([0-9.]+)" stroke-linejoin/g)].map((m) => Number(m[1]));
  assert.deepEqual(drawn, widths);
});

test('a log y axis stays logarithmic: decades are evenly spaced', () => {
  const svg = fallback(lineChart({ v: [1, 10, 100, 1000] }, { logY: true, xLabel: 'i', yLabel: 'v' }));
  const ys = svg.match(/<polyline[^>]*points="([^"]+)"/)![1].split(' ').map((p) => Number(p.split(',')[1]));
  const gaps = ys.slice(1).map((y, k) => ys[k] - y);
  for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 0.5, `decade gaps ${gaps}`);
  assert.ok(texts(svg, 'ytick').includes('1000'));
});

test('every chart gets a default height unless its layout gives one; the caller\'s figure is untouched', () => {
  const figure = { data: [{ type: 'scatter', y: [1, 2] }], layout: { title: 't' } };
  assert.equal(chart(figure).figure.layout!.height, DEFAULT_CHART_HEIGHT);
  assert.equal((figure.layout as Record<string, unknown>).height, undefined);
  assert.equal(chart({ data: [], layout: { height: 250 } }).figure.layout!.height, 250);
  assert.equal(lineChart({ a: [1] }).figure.layout!.height, DEFAULT_CHART_HEIGHT);
});

test('traces the fallback cannot draw are named, not silently dropped', () => {
  const svg = fallback(chart({ data: [{ type: 'heatmap', z: [[1]], name: 'h' }, { type: 'scatter', y: [1, 2], name: 's' }] }));
  assert.match(svg, /not drawn: h \(heatmap\)/);
});

test('hostile trace names are escaped in the fallback', () => {
  const svg = fallback(chart({ data: [{ type: 'bar', y: [1], name: '<img src=x onerror=alert(1)>' }] }));
  assert.doesNotMatch(svg, /<img/);
  assert.match(svg, /&lt;img src=x onerror=alert\(1\)&gt;/);
});
