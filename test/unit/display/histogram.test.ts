/** `histogram(values, options)`: a plotly histogram with density, KDE and labelled percentile markers. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { histogram } from '../../../kernel/api/display';
import { percentile } from '../../../kernel/api/evaluate/radius';
import { ArgumentError } from '../../../kernel/api/errors';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';
import { validatePlotlyFigure } from '../../../kernel/contract/payloads';

type Obj = Record<string, any>;

// A skewed sample: 0..99 squared / 100.
const values = Array.from({ length: 100 }, (_, i) => (i * i) / 100);

test('density with percentile markers: plotly normalises the bars, lines and labels sit at numpy percentiles', () => {
  const c = histogram(values, { density: true, percentiles: [50, 75, 99.9], title: 'norms', xLabel: '‖u‖' });
  const fig = validatePlotlyFigure(c.figure);
  const bars = fig.data[0] as Obj;
  assert.equal(bars.type, 'histogram');
  assert.equal(bars.histnorm, 'probability density');
  const layout = fig.layout as Obj;
  assert.equal(layout.yaxis.title.text, 'probability density');
  assert.equal(layout.xaxis.title.text, '‖u‖');
  const sorted = Float64Array.from(values).sort();
  const expected = [50, 75, 99.9].map((q) => percentile(sorted, q));
  assert.deepEqual(layout.shapes.map((s: Obj) => s.x0), expected);
  assert.deepEqual(layout.shapes.map((s: Obj) => [s.x1, s.yref, s.y0, s.y1]), expected.map((v) => [v, 'paper', 0, 1]));
  assert.deepEqual(layout.annotations.map((a: Obj) => a.text), ['p50 = 24.5', 'p75 = 55.1', 'p99.9 = 97.8']);
  assert.ok(layout.height > 0, 'an explicit height');
  assert.match(String(c), /^norms: Chart \(values: histogram of 100 values \(probability density\)\); marked: p50 = 24\.5, p75 = 55\.1, p99\.9 = 97\.8$/);
});

test('the bins are fixed in the figure and hold every value, the maximum included', () => {
  const c = histogram(values, { bins: 10 });
  const xbins = (c.figure.data[0] as Obj).xbins;
  assert.equal(xbins.start, 0);
  assert.ok(xbins.end >= 98.01 && xbins.end < 98.02, `end ${xbins.end}`);
  assert.ok(Math.abs(xbins.size - 9.801) < 1e-6);
  assert.equal(((c.figure.layout as Obj).yaxis.title.text), 'count');
  // The fallback bins the same way: 10 bars whose counts add up to 100.
  const svg = c[MIME_BUNDLE]().data[MIME.html] as string;
  assert.equal([...svg.matchAll(/<g class="bars"[^>]*>.*?<\/g>/g)][0][0].match(/<rect /g)!.length, 10);
});

test('kde adds a kernel density estimate that integrates to about 1 over the plotted range', () => {
  const normal = Array.from({ length: 400 }, (_, i) => Math.sqrt(-2 * Math.log((i + 0.5) / 400)) * Math.cos(2.39996 * i));
  const c = histogram(normal, { kde: true });
  assert.equal((c.figure.data[0] as Obj).histnorm, 'probability density', 'kde implies density');
  const kde = c.figure.data[1] as { x: number[]; y: number[]; name: string };
  assert.equal(kde.name, 'kernel density estimate');
  let area = 0;
  for (let i = 1; i < kde.x.length; i++) area += ((kde.y[i] + kde.y[i - 1]) / 2) * (kde.x[i] - kde.x[i - 1]);
  assert.ok(area > 0.9 && area < 1.01, `area ${area}`);
  assert.equal((c.figure.layout as Obj).showlegend, true);
});

test('close markers get separate label rows; named marks are drawn too', () => {
  const c = histogram(values, { percentiles: [49, 50, 51], marks: { 'ε': 90 } });
  const notes = (c.figure.layout as Obj).annotations as Obj[];
  const shifts = notes.slice(0, 3).map((a) => a.yshift);
  assert.equal(new Set(shifts).size, 3, `three rows for three touching labels, got ${shifts}`);
  assert.equal(notes[3].text, 'ε = 90');
  assert.equal(notes[3].yshift, 0, 'a distant label stays on the first row');
});

test('accepts tensors and typed arrays, leaves out and counts non-finite values, names bad input', () => {
  const t = tf.tensor1d([1, 2, 3]);
  assert.deepEqual((histogram(t).figure.data[0] as Obj).x, [1, 2, 3]);
  t.dispose();
  const c = histogram(new Float32Array([1, NaN, 2, Infinity]));
  assert.deepEqual((c.figure.data[0] as Obj).x, [1, 2]);
  assert.match((c.figure.data[0] as Obj).name, /2 non-finite left out/);
  assert.throws(() => histogram([NaN]), (e: Error) => e instanceof ArgumentError && /no finite values/.test(e.message));
  assert.throws(() => histogram([1, 2], { percentiles: [101] }), /percentiles must be numbers in \[0, 100\]/);
  assert.throws(() => histogram([1, 2], { bins: 0 }), /"bins" must be a positive integer/);
  assert.throws(() => histogram([1, 2], { marks: { eps: NaN } }), /mark "eps" must be a finite number/);
});

test('a constant sample still makes one bar with a width', () => {
  const c = histogram([3, 3, 3], { percentiles: [0, 100] });
  const xbins = (c.figure.data[0] as Obj).xbins;
  assert.ok(xbins.size > 0);
  assert.deepEqual(((c.figure.layout as Obj).annotations as Obj[]).map((a) => a.text), ['min = 3', 'max = 3']);
});
