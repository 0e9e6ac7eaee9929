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

  /** The numeric line series of the figure (what the SVG fallback can draw). */
  private series(): XY[] {
    const out: XY[] = [];
    this.figure.data.forEach((trace, i) => {
      const y = numbers(trace.y);
      if (!y) return;
      const x = numbers(trace.x) ?? y.map((_, k) => k);
      out.push({ name: typeof trace.name === 'string' ? trace.name : `trace ${i}`, x, y });
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
    const ys = series.flatMap((s) => s.y).filter(Number.isFinite);
    const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
    const [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
    const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (W - pad.l - pad.r);
    const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0 || 1)) * (H - pad.t - pad.b);
    const lines = series.map((s, i) => {
      const pts = s.x.map((x, k) => (Number.isFinite(s.y[k]) ? `${sx(x).toFixed(1)},${sy(s.y[k]).toFixed(1)}` : '')).filter(Boolean).join(' ');
      return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5" points="${pts}"><title>${escapeHtml(s.name)}</title></polyline>`;
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
