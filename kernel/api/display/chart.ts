/**
 * Charts as plotly figures (`application/vnd.plotly.v1+json`, so JupyterLab's own plotly
 * renderer shows them too) with an inline SVG line chart as `text/html` fallback.
 */
import { MIME, MIME_BUNDLE, type Displayable, type MimeBundle } from '../../contract/mime';
import { validatePlotlyFigure, type PlotlyFigure } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { escapeHtml, formatNumber } from './html';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

interface XY {
  name: string;
  x: number[];
  y: number[];
  /** Draw as bars from y = 0 (bar and histogram traces) instead of a line. */
  bars: boolean;
}

/** Equal-width bins over [min, max]: bin centres and counts. */
function histogram(values: number[], bins: number): { x: number[]; y: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const width = (hi - lo) / bins || 1;
  const y = new Array<number>(bins).fill(0);
  for (const v of values) y[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
  return { x: y.map((_, k) => lo + (k + 0.5) * width), y };
}

function numbers(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((n) => typeof n === 'number') ? (v as number[]) : undefined;
}

export class Chart implements Displayable {
  readonly figure: PlotlyFigure;

  constructor(figure: PlotlyFigure) {
    try {
      this.figure = validatePlotlyFigure(figure);
    } catch (e) {
      throw new ArgumentError(`chart: ${(e as Error).message}`);
    }
  }

  get title(): string | undefined {
    const t = this.figure.layout?.title;
    if (typeof t === 'string') return t;
    if (typeof t === 'object' && t !== null && typeof (t as { text?: unknown }).text === 'string') return (t as { text: string }).text;
    return undefined;
  }

  /**
   * What the SVG fallback can draw: line/scatter traces as polylines, bar traces as bars (x by
   * value, or by position for category labels) and histograms binned here (20 equal bins).
   */
  private series(): XY[] {
    const out: XY[] = [];
    this.figure.data.forEach((trace, i) => {
      const name = typeof trace.name === 'string' ? trace.name : `trace ${i}`;
      if (trace.type === 'histogram') {
        const values = numbers(trace.x)?.filter(Number.isFinite);
        if (values?.length) out.push({ name, ...histogram(values, 20), bars: true });
        return;
      }
      const y = numbers(trace.y);
      if (!y) return;
      const x = numbers(trace.x) ?? y.map((_, k) => k);
      out.push({ name, x, y, bars: trace.type === 'bar' });
    });
    return out;
  }

  [MIME_BUNDLE](): MimeBundle {
    return { data: { [MIME.plotly]: this.figure, [MIME.html]: this.svg(), [MIME.plain]: this.toString() } };
  }

  toString(): string {
    const parts = this.series().map((s) => `${s.name}: ${s.y.length} points${s.y.length ? `, last ${formatNumber(s.y[s.y.length - 1])}` : ''}`);
    return `${this.title ? `${this.title}: ` : ''}Chart (${parts.join('; ') || `${this.figure.data.length} traces`})`;
  }

  private svg(): string {
    const W = 480;
    const H = 240;
    const pad = { l: 56, r: 10, t: this.title ? 24 : 10, b: 28 };
    const series = this.series().filter((s) => s.y.some(Number.isFinite));
    const xs = series.flatMap((s) => s.x).filter(Number.isFinite);
    // Bars stand on y = 0, so the axis must include it.
    const ys = series.flatMap((s) => (s.bars ? [...s.y, 0] : s.y)).filter(Number.isFinite);
    let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
    const [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
    // Half a bar of margin on each side, from the narrowest spacing of any bar series.
    const spacing = Math.min(...series.filter((s) => s.bars && s.x.length > 1).map((s) => Math.min(...s.x.slice(1).map((v, k) => Math.abs(v - s.x[k])))), Infinity);
    const barWidth = Number.isFinite(spacing) && spacing > 0 ? spacing : (x1 - x0 || 1);
    if (series.some((s) => s.bars)) [x0, x1] = [x0 - barWidth / 2, x1 + barWidth / 2];
    const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
    const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
    const barSeries = series.filter((s) => s.bars).length;
    let barIndex = 0;
    const lines = series.map((s, i) => {
      const colour = PALETTE[i % PALETTE.length];
      if (s.bars) {
        // Several bar series share each slot side by side.
        const slot = (sx(x0 + barWidth) - sx(x0)) * 0.9;
        const w = slot / barSeries;
        const offset = -slot / 2 + w * barIndex++;
        const rects = s.x.map((x, k) => {
          if (!Number.isFinite(s.y[k])) return '';
          const top = Math.min(sy(s.y[k]), sy(0));
          const h = Math.abs(sy(s.y[k]) - sy(0));
          return `<rect x="${(sx(x) + offset).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(w, 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="${colour}"/>`;
        });
        return `<g class="bars"><title>${escapeHtml(s.name)}</title>${rects.join('')}</g>`;
      }
      const pts = s.x.map((x, k) => (Number.isFinite(s.y[k]) ? `${sx(x).toFixed(1)},${sy(s.y[k]).toFixed(1)}` : '')).filter(Boolean).join(' ');
      return `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts}"><title>${escapeHtml(s.name)}</title></polyline>`;
    });
    const legend = series.map((s, i) => `<text x="${W - pad.r - 4}" y="${pad.t + 12 + 14 * i}" text-anchor="end" fill="${PALETTE[i % PALETTE.length]}">${escapeHtml(s.name)}</text>`);
    const title = this.title ? `<text x="${W / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeHtml(this.title)}</text>` : '';
    const axes = `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#888"/><line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#888"/>` +
      `<text x="${pad.l - 4}" y="${pad.t + 4}" text-anchor="end">${escapeHtml(formatNumber(y1, 3))}</text>` +
      `<text x="${pad.l - 4}" y="${H - pad.b}" text-anchor="end">${escapeHtml(formatNumber(y0, 3))}</text>` +
      `<text x="${pad.l}" y="${H - 8}">${escapeHtml(formatNumber(x0, 3))}</text>` +
      `<text x="${W - pad.r}" y="${H - 8}" text-anchor="end">${escapeHtml(formatNumber(x1, 3))}</text>`;
    return `<svg class="pertset-chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">${title}${axes}${lines.join('')}${legend.join('')}</svg>`;
  }
}

/** A chart from a plotly figure `{data, layout?, config?}`. */
export function chart(figure: PlotlyFigure): Chart {
  return new Chart(figure);
}

export interface LineChartOptions {
  /** Shared x values (default 0, 1, 2, ...). */
  x?: number[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis. */
  logY?: boolean;
}

/** A line chart of named series, e.g. `lineChart({loss: [...], kl: [...]}, {x: steps})`. */
export function lineChart(series: Record<string, number[]>, options: LineChartOptions = {}): Chart {
  const names = Object.keys(series);
  if (names.length === 0) throw new ArgumentError('lineChart: "series" must name at least one series');
  const data = names.map((name) => {
    const y = series[name];
    if (!Array.isArray(y)) throw new ArgumentError(`lineChart: series "${name}" must be an array of numbers`);
    const x = options.x ?? y.map((_, i) => i);
    if (x.length !== y.length) throw new ArgumentError(`lineChart: series "${name}" has ${y.length} values but "x" has ${x.length}`);
    return { type: 'scatter', mode: 'lines', name, x, y };
  });
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: options.xLabel ?? '' } },
    yaxis: { title: { text: options.yLabel ?? '' }, type: options.logY ? 'log' : 'linear' },
  };
  if (options.title !== undefined) layout.title = { text: options.title };
  return new Chart({ data, layout });
}
