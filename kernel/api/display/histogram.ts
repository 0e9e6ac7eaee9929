/**
 * `histogram(values, options)`: the distribution of some numbers as a chart, as counts or as a
 * probability density (plotly's own `histnorm: 'probability density'`, area 1), optionally with a
 * Gaussian kernel density estimate (simple-statistics, bandwidth by the `nrd` rule of thumb) and
 * labelled vertical markers at percentiles (numpy's linear interpolation) and at named values.
 * The bins are fixed here (`xbins`), so plotly and the SVG fallback draw the same bars.
 */
import type * as tf from '@tensorflow/tfjs';
import { kernelDensityEstimation } from 'simple-statistics';
import { DEFAULT_CHART_HEIGHT } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { percentile } from '../evaluate/radius';
import { Chart } from './chart';
import { formatNumber } from './html';

export interface HistogramOptions {
  /** A probability density on the y axis (the bars' area is 1) instead of counts. Default false. */
  density?: boolean;
  /** Draw a Gaussian kernel density estimate over the bars; implies `density`. Default false. */
  kde?: boolean;
  /** Percentiles q in [0, 100] to mark with labelled vertical lines, e.g. `[50, 75, 99.9]` (0 and 100 read "min" and "max"). */
  percentiles?: number[];
  /** Further labelled vertical lines at named values, e.g. `{ 'ε': 28 }`. */
  marks?: Record<string, number>;
  /** Number of equal-width bins over [min, max] (default: Rice's rule 2·n^⅓, between 5 and 60). */
  bins?: number;
  title?: string;
  xLabel?: string;
  /** Default "probability density" or "count". */
  yLabel?: string;
  /** Legend name of the bars (default "values"). */
  name?: string;
}

function isTensor(x: unknown): x is tf.Tensor {
  return typeof x === 'object' && x !== null && typeof (x as tf.Tensor).dataSync === 'function' && Array.isArray((x as tf.Tensor).shape);
}

/** Rough width in px of a label at 11 px, to keep neighbouring labels apart. */
const labelPx = (s: string): number => 6.5 * s.length + 10;

function markerName(q: number): string {
  return q === 0 ? 'min' : q === 100 ? 'max' : `p${q}`;
}

/** A histogram chart of `values` (numbers, a typed array or a tensor); non-finite values are left out and counted. */
export function histogram(values: ArrayLike<number> | tf.Tensor, options: HistogramOptions = {}): Chart {
  const raw: ArrayLike<number> = isTensor(values) ? values.dataSync() : values;
  if (raw === null || typeof raw !== 'object' || typeof raw.length !== 'number') {
    throw new ArgumentError('histogram: "values" must be an array of numbers, a typed array or a tensor');
  }
  const finite: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (typeof v !== 'number') throw new ArgumentError(`histogram: values[${i}] is ${typeof v}, not a number`);
    if (Number.isFinite(v)) finite.push(v);
  }
  if (finite.length === 0) throw new ArgumentError(`histogram: no finite values among ${raw.length}`);
  const left = raw.length - finite.length;
  const density = options.density === true || options.kde === true;
  const sorted = Float64Array.from(finite).sort();
  const lo = sorted[0];
  const hi = sorted[sorted.length - 1];

  const bins = options.bins ?? Math.min(60, Math.max(5, Math.ceil(2 * Math.cbrt(finite.length))));
  if (!Number.isInteger(bins) || bins < 1) throw new ArgumentError(`histogram: "bins" must be a positive integer, got ${bins}`);
  // Slightly wider than (max − min)/bins so the maximum falls inside the last bin.
  const size = hi > lo ? ((hi - lo) / bins) * (1 + 1e-9) : 1;
  const start = hi > lo ? lo : lo - 0.5;

  const name = `${options.name ?? 'values'}${left ? ` (${left} non-finite left out)` : ''}`;
  const data: Array<Record<string, unknown>> = [{
    type: 'histogram', name, x: finite, histnorm: density ? 'probability density' : '',
    xbins: { start, end: start + bins * size, size }, autobinx: false, opacity: options.kde ? 0.55 : 0.8,
  }];
  if (options.kde) {
    const f = kernelDensityEstimation(finite, 'gaussian', 'nrd');
    const span = hi > lo ? hi - lo : 1;
    const x = Array.from({ length: 200 }, (_, i) => lo - 0.1 * span + (1.2 * span * i) / 199);
    data.push({ type: 'scatter', mode: 'lines', name: 'kernel density estimate', x, y: x.map((t) => f(t)), line: { width: 2 } });
  }

  // Markers: percentiles, then named values; labels stacked on rows above the plot where they would touch.
  const marks: Array<{ label: string; value: number; named: boolean }> = [];
  for (const q of options.percentiles ?? []) {
    if (typeof q !== 'number' || !(q >= 0 && q <= 100)) throw new ArgumentError(`histogram: percentiles must be numbers in [0, 100], got ${q}`);
    const v = percentile(sorted, q);
    marks.push({ label: `${markerName(q)} = ${formatNumber(v, 3)}`, value: v, named: false });
  }
  for (const [label, v] of Object.entries(options.marks ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`histogram: mark "${label}" must be a finite number, got ${v}`);
    marks.push({ label: `${label} = ${formatNumber(v, 3)}`, value: v, named: true });
  }
  const xMin = Math.min(start, ...marks.map((m) => m.value));
  const xMax = Math.max(start + bins * size, ...marks.map((m) => m.value));
  // A conservative plot width (a narrow output with a legend), so labels on one row never touch.
  const pxPerUnit = 300 / (xMax - xMin || 1);
  const rowEnds: number[] = [];
  const placed = [...marks].sort((a, b) => a.value - b.value).map((m) => {
    const half = labelPx(m.label) / 2 / pxPerUnit;
    let row = rowEnds.findIndex((end) => m.value - half > end);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = m.value + half;
    return { ...m, row };
  });
  const rows = rowEnds.length;
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: options.xLabel ?? '' } },
    yaxis: { title: { text: options.yLabel ?? (density ? 'probability density' : 'count') } },
    bargap: 0.03,
    showlegend: data.length > 1,
    shapes: placed.map((m) => ({
      type: 'line', xref: 'x', yref: 'paper', x0: m.value, x1: m.value, y0: 0, y1: 1,
      line: { color: m.named ? '#c0392b' : '#555', width: 1.5, dash: m.named ? 'dash' : 'dot' },
    })),
    annotations: placed.map((m) => ({
      x: m.value, xref: 'x', y: 1, yref: 'paper', yanchor: 'bottom', yshift: 14 * m.row, showarrow: false,
      text: m.label, font: m.named ? { size: 11, color: '#c0392b' } : { size: 11 },
    })),
    // Room above the plot for the title and the rows of marker labels, added to the default height.
    margin: { t: (options.title !== undefined ? 50 : 20) + 14 * rows, b: 60 },
    height: DEFAULT_CHART_HEIGHT + 14 * rows,
  };
  // The title at the top of the margin, above the marker labels.
  if (options.title !== undefined) layout.title = { text: options.title, y: 1, yref: 'container', yanchor: 'top', pad: { t: 14 } };
  return new Chart({ data, layout });
}
