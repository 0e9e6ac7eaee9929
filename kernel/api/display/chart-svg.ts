/**
 * The `text/html` fallback of charts (what nbconvert, GitHub and a JupyterLab without plotly show):
 * an inline SVG drawn from the plotly figure itself, so it says what the figure says. Histograms
 * are binned and normalised as their `histnorm` asks (a density stays a density), bar charts keep
 * their category labels, log axes stay logarithmic, axes carry ticks and titles, vertical marker
 * lines and their labels (`layout.shapes`, `layout.annotations`) are kept, the legend sits beside
 * the plot area rather than over the data, and lines are drawn over bars with earlier lines wider,
 * so a line that coincides with a later one still shows around it.
 */
import type { PlotlyFigure } from '../../contract/payloads';
import { escapeHtml, formatNumber } from './html';

/** Plotly's default colour sequence, so the fallback's colours match the interactive chart. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * Stroke width of line `index` of `count` overlaid lines: the first is the widest, so where two
 * lines coincide the earlier one still shows as a border around the later one.
 */
export function layeredLineWidth(index: number, count: number): number {
  return 1.5 + 1.5 * Math.max(0, Math.min(3, count - 1 - index));
}

type Obj = Record<string, unknown>;

interface Series {
  name: string;
  colour: string;
  kind: 'bars' | 'histogram' | 'line' | 'markers' | 'line+markers';
  /** x in axis units (a category's index on a category axis). */
  x: number[];
  y: number[];
  /** Bin width of histogram bars, in x units. */
  binWidth?: number;
  lineWidth?: number;
  dash?: string;
  opacity?: number;
}

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number');
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');

/** A plotly title given as a string or as `{text}`. */
export function titleText(t: unknown): string | undefined {
  return str(t) ?? str(obj(t).text);
}

const DASHES: Record<string, string> = { dot: '2,3', dash: '6,4', dashdot: '6,3,2,3', longdash: '10,4' };

/** Plotly's histogram normalisations of bin counts. */
function normalise(counts: number[], n: number, width: number, histnorm: string): number[] {
  switch (histnorm) {
    case 'percent': return counts.map((c) => (100 * c) / n);
    case 'probability': return counts.map((c) => c / n);
    case 'density': return counts.map((c) => c / width);
    case 'probability density': return counts.map((c) => c / (n * width));
    default: return counts;
  }
}

/** Equal-width bins over [min, max] (or the trace's `xbins`): bin centres, normalised heights, width. */
function binValues(values: number[], trace: Obj): { x: number[]; y: number[]; width: number } {
  const xbins = obj(trace.xbins);
  let lo = num(xbins.start) ?? Math.min(...values);
  let hi = num(xbins.end) ?? Math.max(...values);
  let bins = Math.max(1, Math.round(num(trace.nbinsx) ?? 20));
  const size = num(xbins.size);
  if (size !== undefined && size > 0) bins = Math.max(1, Math.ceil((hi - lo) / size));
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, lo + 0.5];
  const width = size !== undefined && size > 0 ? size : (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
  }
  return {
    x: counts.map((_, k) => lo + (k + 0.5) * width),
    y: normalise(counts, values.length, width, str(trace.histnorm) ?? ''),
    width,
  };
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const r = raw / magnitude;
  const step = (r >= 7.5 ? 10 : r >= 3.5 ? 5 : r >= 1.5 ? 2 : 1) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Rough width of `s` in px at 11 px sans-serif (for layout only). */
const textWidth = (s: string): number => 6.2 * s.length;

/** 32-bit FNV-1a hash as hex (stable ids). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface ChartSvgResult {
  svg: string;
  /** Traces the fallback cannot draw (named by type). */
  skipped: string[];
}

/** Draws `figure` as an SVG string; `skipped` lists traces that could not be drawn. */
export function chartSvg(figure: PlotlyFigure): ChartSvgResult {
  const layout = figure.layout ?? {};
  const xaxis = obj(layout.xaxis);
  const yaxis = obj(layout.yaxis);
  const logY = yaxis.type === 'log';
  const skipped: string[] = [];

  // A category axis when any trace has string x values; categories in order of appearance.
  const categories: string[] = [];
  for (const trace of figure.data) {
    if (isStrings(trace.x)) for (const c of trace.x) if (!categories.includes(c)) categories.push(c);
  }
  const categorical = categories.length > 0;
  const xOf = (v: unknown, k: number): number => (typeof v === 'string' ? categories.indexOf(v) : typeof v === 'number' ? v : k);

  const series: Series[] = [];
  figure.data.forEach((trace, i) => {
    const name = str(trace.name) ?? `trace ${i}`;
    const colour = str(obj(trace.marker).color) ?? str(obj(trace.line).color) ?? PALETTE[i % PALETTE.length];
    const type = str(trace.type) ?? 'scatter';
    const opacity = num(trace.opacity);
    if (type === 'histogram') {
      if (isStrings(trace.x)) {
        const counts = categories.map((c) => (trace.x as string[]).filter((v) => v === c).length);
        const n = (trace.x as string[]).length;
        series.push({ name, colour, kind: 'bars', x: categories.map((_, k) => k), y: normalise(counts, n, 1, str(trace.histnorm) ?? ''), opacity });
        return;
      }
      const values = isNumbers(trace.x) ? trace.x.filter(Number.isFinite) : [];
      if (!values.length) return;
      const b = binValues(values, trace);
      series.push({ name, colour, kind: 'histogram', x: b.x, y: b.y, binWidth: b.width, opacity });
      return;
    }
    if (type !== 'bar' && type !== 'scatter' && type !== 'scattergl') {
      skipped.push(`${name} (${type})`);
      return;
    }
    if (!isNumbers(trace.y)) {
      skipped.push(`${name} (no numeric y)`);
      return;
    }
    const y = trace.y;
    const x = Array.isArray(trace.x) ? y.map((_, k) => xOf((trace.x as unknown[])[k], k)) : y.map((_, k) => k);
    if (type === 'bar') {
      series.push({ name, colour, kind: 'bars', x, y, opacity });
      return;
    }
    const mode = str(trace.mode) ?? (y.length > 20 ? 'lines' : 'lines+markers');
    const kind = mode.includes('lines') ? (mode.includes('markers') ? 'line+markers' : 'line') : 'markers';
    const line = obj(trace.line);
    series.push({ name, colour, kind, x, y, lineWidth: num(line.width), dash: str(line.dash), opacity });
  });

  // Vertical and horizontal marker lines, and text labels, from the layout.
  const shapes = (Array.isArray(layout.shapes) ? layout.shapes : []).map(obj).filter((s) => (s.type ?? 'line') === 'line');
  const annotations = (Array.isArray(layout.annotations) ? layout.annotations : []).map(obj).filter((a) => typeof a.text === 'string');
  const dataX = (v: unknown): number | undefined => (typeof v === 'string' && categorical ? categories.indexOf(v) : num(v));

  // --- ranges (log axes work in log10 units, as plotly's) ---
  const ty = (v: number): number => (logY ? (v > 0 ? Math.log10(v) : NaN) : v);
  const givenX = isNumbers(xaxis.range) && xaxis.range.length === 2 ? xaxis.range : undefined;
  const givenY = isNumbers(yaxis.range) && yaxis.range.length === 2 ? yaxis.range : undefined;
  const bars = series.filter((s) => s.kind === 'bars');
  const barSlot = categorical ? 1 : (() => {
    const gaps = bars.flatMap((s) => s.x.slice(1).map((v, k) => Math.abs(v - s.x[k]))).filter((g) => g > 0);
    return gaps.length ? Math.min(...gaps) : 1;
  })();
  let x0: number;
  let x1: number;
  if (givenX) [x0, x1] = givenX;
  else if (categorical) [x0, x1] = [-0.5, categories.length - 0.5];
  else {
    const xs = series.flatMap((s) => s.x.flatMap((v) => {
      const half = s.kind === 'histogram' ? s.binWidth! / 2 : s.kind === 'bars' ? barSlot / 2 : 0;
      return [v - half, v + half];
    }));
    for (const s of shapes) if (s.xref !== 'paper') xs.push(...[dataX(s.x0), dataX(s.x1)].filter((v): v is number => v !== undefined));
    for (const a of annotations) if (a.xref !== 'paper' && dataX(a.x) !== undefined) xs.push(dataX(a.x)!);
    const finite = xs.filter(Number.isFinite);
    [x0, x1] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
    if (!series.some((s) => s.kind === 'bars' || s.kind === 'histogram')) {
      const pad = (x1 - x0) * 0.02;
      [x0, x1] = [x0 - pad, x1 + pad];
    }
  }
  let y0: number;
  let y1: number;
  if (givenY) [y0, y1] = givenY;
  else {
    const standsOnZero = series.some((s) => s.kind === 'bars' || s.kind === 'histogram') && !logY;
    const ys = series.flatMap((s) => s.y.map(ty)).filter(Number.isFinite);
    for (const s of shapes) if (s.yref !== 'paper') ys.push(...[num(s.y0), num(s.y1)].filter((v): v is number => v !== undefined).map(ty));
    if (standsOnZero) ys.push(0);
    [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
    const pad = (y1 - y0 || Math.abs(y1) || 1) * 0.05;
    y1 += pad;
    if (!(standsOnZero && y0 === 0)) y0 -= pad;
  }
  if (x1 === x0) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];

  // --- geometry ---
  const title = titleText(layout.title);
  const xTitle = titleText(xaxis.title);
  const yTitle = titleText(yaxis.title);
  const showLegend = layout.showlegend === true || (layout.showlegend !== false && series.length > 1);
  const legendWidth = showLegend ? Math.min(200, 28 + Math.max(...series.map((s) => textWidth(truncate(s.name, 28))))) : 0;
  const labelRise = annotations.reduce((m, a) => (a.yref === 'paper' && (num(a.y) ?? 0) >= 1 ? Math.max(m, 14 + Math.max(0, num(a.yshift) ?? 0)) : m), 0);
  const yTicks = logY ? niceTicks(y0, y1, 4) : niceTicks(y0, y1, 5);
  const yTickText = yTicks.map((t) => formatNumber(logY ? 10 ** t : t, 3));
  const W = 640;
  const H = 340;
  const pad = {
    l: 18 + (yTitle ? 16 : 0) + Math.max(24, ...yTickText.map(textWidth)),
    r: 12 + legendWidth,
    t: (title ? 26 : 10) + labelRise,
    b: 24 + (xTitle ? 18 : 0),
  };
  const plotW = W - pad.l - pad.r;
  // Category labels: rotated (with room below) when they do not fit their slot.
  let catRotate = false;
  let xTicks: Array<{ x: number; text: string }>;
  if (categorical) {
    const labels = categories.map((c) => truncate(c, 18));
    catRotate = Math.max(...labels.map(textWidth)) > plotW / categories.length - 4;
    xTicks = labels.map((text, k) => ({ x: k, text }));
  } else {
    xTicks = niceTicks(x0, x1, Math.max(2, Math.floor(plotW / 80))).map((x) => ({ x, text: formatNumber(x, 3) }));
  }
  if (catRotate) pad.b += 30;
  const plotH = H - pad.t - pad.b;
  const sx = (x: number): number => pad.l + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number): number => pad.t + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f1 = (v: number): string => v.toFixed(1);

  const parts: string[] = [];
  // Grid lines and tick labels.
  for (let k = 0; k < yTicks.length; k++) {
    const y = sy(yTicks[k]);
    parts.push(`<line class="grid" x1="${pad.l}" x2="${pad.l + plotW}" y1="${f1(y)}" y2="${f1(y)}" stroke="#ddd"/>`);
    parts.push(`<text class="ytick" x="${pad.l - 5}" y="${f1(y + 4)}" text-anchor="end">${escapeHtml(yTickText[k])}</text>`);
  }
  for (const t of xTicks) {
    const x = sx(t.x);
    if (x < pad.l - 0.5 || x > pad.l + plotW + 0.5) continue;
    parts.push(`<line x1="${f1(x)}" x2="${f1(x)}" y1="${pad.t + plotH}" y2="${pad.t + plotH + 4}" stroke="#888"/>`);
    parts.push(catRotate
      ? `<text class="xtick" transform="translate(${f1(x + 3)},${pad.t + plotH + 14}) rotate(-35)" text-anchor="end">${escapeHtml(t.text)}</text>`
      : `<text class="xtick" x="${f1(x)}" y="${pad.t + plotH + 16}" text-anchor="middle">${escapeHtml(t.text)}</text>`);
  }
  parts.push(`<line x1="${pad.l}" y1="${pad.t + plotH}" x2="${pad.l + plotW}" y2="${pad.t + plotH}" stroke="#888"/>`);
  parts.push(`<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${pad.t + plotH}" stroke="#888"/>`);
  if (xTitle) parts.push(`<text class="xtitle" x="${f1(pad.l + plotW / 2)}" y="${H - 6}" text-anchor="middle">${escapeHtml(xTitle)}</text>`);
  if (yTitle) parts.push(`<text class="ytitle" transform="translate(12,${f1(pad.t + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(yTitle)}</text>`);

  // Data, clipped to the plot area: histograms and bars first, then lines on top.
  const data: string[] = [];
  const y0px = sy(Math.max(y0, Math.min(y1, logY ? y0 : 0)));
  const barGroups = bars.length;
  let barIndex = 0;
  for (const s of series.filter((q) => q.kind === 'bars' || q.kind === 'histogram')) {
    const rects: string[] = [];
    let left: (x: number) => number;
    let w: number;
    if (s.kind === 'histogram') {
      w = Math.max(0.5, (s.binWidth! / (x1 - x0)) * plotW - 1);
      left = (x) => sx(x - s.binWidth! / 2) + 0.5;
    } else {
      const slot = (barSlot / (x1 - x0)) * plotW * 0.8;
      w = Math.max(0.5, slot / barGroups);
      const offset = -slot / 2 + w * barIndex++;
      left = (x) => sx(x) + offset;
    }
    s.x.forEach((x, k) => {
      const v = ty(s.y[k]);
      if (!Number.isFinite(v) || !Number.isFinite(x)) return;
      const top = Math.min(sy(v), y0px);
      rects.push(`<rect x="${f1(left(x))}" y="${f1(top)}" width="${f1(w)}" height="${f1(Math.abs(sy(v) - y0px))}"/>`);
    });
    const opacity = s.opacity ?? (s.kind === 'histogram' ? 0.6 : 0.85);
    data.push(`<g class="bars" fill="${escapeHtml(s.colour)}" fill-opacity="${opacity}"><title>${escapeHtml(s.name)}</title>${rects.join('')}</g>`);
  }
  const lines = series.filter((s) => s.kind !== 'bars' && s.kind !== 'histogram');
  lines.forEach((s, i) => {
    const pts = s.x.map((x, k) => [sx(x), sy(ty(s.y[k]))]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const items: string[] = [];
    if (s.kind !== 'markers') {
      const width = s.lineWidth ?? layeredLineWidth(i, lines.length);
      const dash = s.dash && DASHES[s.dash] ? ` stroke-dasharray="${DASHES[s.dash]}"` : '';
      items.push(`<polyline fill="none" stroke="${escapeHtml(s.colour)}" stroke-width="${width}" stroke-linejoin="round"${dash} points="${pts.map(([x, y]) => `${f1(x)},${f1(y)}`).join(' ')}"/>`);
    }
    if (s.kind !== 'line') items.push(...pts.map(([x, y]) => `<circle cx="${f1(x)}" cy="${f1(y)}" r="2.5" fill="${escapeHtml(s.colour)}"/>`));
    data.push(`<g class="line"><title>${escapeHtml(s.name)}</title>${items.join('')}</g>`);
  });

  // Marker lines (e.g. percentiles) and their labels.
  const markY = (v: unknown, ref: unknown): number | undefined => {
    const n = num(v);
    if (n === undefined) return undefined;
    return ref === 'paper' ? pad.t + plotH - n * plotH : sy(ty(n));
  };
  const markX = (v: unknown, ref: unknown): number | undefined => {
    if (ref === 'paper') return num(v) === undefined ? undefined : pad.l + num(v)! * plotW;
    const d = dataX(v);
    return d === undefined ? undefined : sx(d);
  };
  for (const s of shapes) {
    const [ax, bx] = [markX(s.x0, s.xref), markX(s.x1, s.xref)];
    const [ay, by] = [markY(s.y0, s.yref), markY(s.y1, s.yref)];
    if ([ax, bx, ay, by].some((v) => v === undefined || !Number.isFinite(v))) continue;
    const line = obj(s.line);
    const dash = DASHES[str(line.dash) ?? ''] ? ` stroke-dasharray="${DASHES[str(line.dash)!]}"` : '';
    data.push(`<line class="marker" x1="${f1(ax!)}" y1="${f1(ay!)}" x2="${f1(bx!)}" y2="${f1(by!)}" stroke="${escapeHtml(str(line.color) ?? '#444')}" stroke-width="${num(line.width) ?? 1}"${dash}/>`);
  }
  const labels: string[] = [];
  for (const a of annotations) {
    const x = markX(a.x, a.xref);
    const y = markY(a.y, a.yref);
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    const anchor = a.xanchor === 'left' ? 'start' : a.xanchor === 'right' ? 'end' : 'middle';
    const baseline = a.yanchor === 'bottom' ? -3 : a.yanchor === 'top' ? 11 : 4;
    const colour = str(obj(a.font).color);
    labels.push(`<text class="label" x="${f1(x + (num(a.xshift) ?? 0))}" y="${f1(y + baseline - (num(a.yshift) ?? 0))}" text-anchor="${anchor}"${colour ? ` fill="${escapeHtml(colour)}"` : ''}>${escapeHtml(a.text as string)}</text>`);
  }

  const legend = showLegend
    ? series.map((s, i) => {
      const ly = pad.t + 8 + 16 * i;
      const lx = W - legendWidth;
      const swatch = s.kind === 'bars' || s.kind === 'histogram'
        ? `<rect x="${lx}" y="${ly - 8}" width="14" height="10" fill="${escapeHtml(s.colour)}" fill-opacity="${s.opacity ?? 0.8}"/>`
        : `<line x1="${lx}" x2="${lx + 14}" y1="${ly - 3}" y2="${ly - 3}" stroke="${escapeHtml(s.colour)}" stroke-width="2.5"/>`;
      return `<g class="legend-item">${swatch}<text x="${lx + 19}" y="${ly + 1}">${escapeHtml(truncate(s.name, 28))}</text></g>`;
    })
    : [];
  const heading = title ? `<text class="title" x="${f1(pad.l + plotW / 2)}" y="17" text-anchor="middle" font-weight="bold" font-size="13">${escapeHtml(title)}</text>` : '';
  const note = skipped.length ? `<text x="${W - 4}" y="${H - 4}" text-anchor="end" fill="#a00">not drawn: ${escapeHtml(skipped.join(', '))}</text>` : '';
  // The clip path's id must be unique in the page that shows many charts, and stable per figure.
  const body = `${heading}${parts.join('')}${data.join('')}${labels.join('')}${legend.join('')}${note}`;
  const clip = `pertset-clip-${fnv1a(body)}`;
  const svg = `<svg class="pertset-chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" fill="#333">` +
    `<defs><clipPath id="${clip}"><rect x="${pad.l}" y="${pad.t - 1}" width="${plotW}" height="${plotH + 1}"/></clipPath></defs>` +
    `${heading}${parts.join('')}<g clip-path="url(#${clip})">${data.join('')}</g>${labels.join('')}<g class="legend">${legend.join('')}</g>${note}</svg>`;
  return { svg, skipped };
}
