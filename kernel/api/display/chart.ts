/**
 * Charts as plotly figures (`application/vnd.plotly.v1+json`, so JupyterLab's own plotly
 * renderer shows them too) with an inline SVG drawing of the same figure as `text/html` fallback
 * (chart-svg.ts). Every chart gets an explicit height: without one, VS Code's output area
 * collapses a plotly chart to a thin strip.
 */
import { MIME, MIME_BUNDLE, type Displayable, type MimeBundle } from '../../contract/mime';
import { DEFAULT_CHART_HEIGHT, validatePlotlyFigure, type PlotlyFigure } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { chartSvg, layeredLineWidth, titleText } from './chart-svg';
import { formatNumber } from './html';

function lastFinite(v: unknown): number | undefined {
  if (!Array.isArray(v)) return undefined;
  for (let k = v.length - 1; k >= 0; k--) if (typeof v[k] === 'number' && Number.isFinite(v[k])) return v[k] as number;
  return undefined;
}

export class Chart implements Displayable {
  readonly figure: PlotlyFigure;

  constructor(figure: PlotlyFigure) {
    let valid: PlotlyFigure;
    try {
      valid = validatePlotlyFigure(figure);
    } catch (e) {
      throw new ArgumentError(`chart: ${(e as Error).message}`);
    }
    // A figure's own height and margins win; the caller's object is not modified. Plotly's default
    // margins (100 px above, 80 below) would leave a 400 px chart a 220 px plot area.
    const margin = { t: valid.layout?.title !== undefined ? 60 : 30, b: 60 };
    this.figure = { ...valid, layout: { height: DEFAULT_CHART_HEIGHT, margin, ...valid.layout } };
  }

  get title(): string | undefined {
    return titleText(this.figure.layout?.title);
  }

  [MIME_BUNDLE](): MimeBundle {
    return { data: { [MIME.plotly]: this.figure, [MIME.html]: chartSvg(this.figure).svg, [MIME.plain]: this.toString() } };
  }

  toString(): string {
    const parts = this.figure.data.map((trace, i) => {
      const name = typeof trace.name === 'string' ? trace.name : `trace ${i}`;
      if (trace.type === 'histogram') {
        const n = Array.isArray(trace.x) ? trace.x.length : 0;
        return `${name}: histogram of ${n} values${typeof trace.histnorm === 'string' && trace.histnorm ? ` (${trace.histnorm})` : ''}`;
      }
      const n = Array.isArray(trace.y) ? trace.y.length : 0;
      const last = lastFinite(trace.y);
      return `${name}: ${n} points${last !== undefined ? `, last ${formatNumber(last)}` : ''}`;
    });
    const notes = Array.isArray(this.figure.layout?.annotations)
      ? (this.figure.layout!.annotations as Array<{ text?: unknown }>).map((a) => a?.text).filter((t): t is string => typeof t === 'string')
      : [];
    return `${this.title ? `${this.title}: ` : ''}Chart (${parts.join('; ') || 'no traces'})${notes.length ? `; marked: ${notes.join(', ')}` : ''}`;
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
    // Earlier lines wider, so a line that coincides with a later one still shows around it.
    return { type: 'scatter', mode: 'lines', name, x, y, line: { width: layeredLineWidth(names.indexOf(name), names.length) } };
  });
  const layout: Record<string, unknown> = {
    xaxis: { title: { text: options.xLabel ?? '' } },
    yaxis: { title: { text: options.yLabel ?? '' }, type: options.logY ? 'log' : 'linear' },
  };
  if (options.title !== undefined) layout.title = { text: options.title };
  return new Chart({ data, layout });
}
