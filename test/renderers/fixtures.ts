/**
 * Payloads for the renderer tests, the demo notebook and the benchmark. Pixel values are simple
 * functions of (image, y, x, channel) so a test can compute what any pixel must be.
 */
import type { ImageGridPayload, LatentTraversalPayload, PlotlyFigure } from '../../kernel/contract/payloads';

export type PixelFn = (image: number, y: number, x: number, channel: number) => number;

/** Grey value of grid image i at (y, x): distinct per image and position. */
export const greyPixel: PixelFn = (i, y, x) => (i * 37 + y * 11 + x * 5) % 256;
/** RGB: red encodes x, green y, blue the image index. */
export const rgbPixel: PixelFn = (i, y, x, c) => [x * 40, y * 40, i * 50][c] % 256;

export function pixelBytes(count: number, height: number, width: number, channels: number, fn: PixelFn): Buffer {
  const out = Buffer.alloc(count * height * width * channels);
  let k = 0;
  for (let i = 0; i < count; i++)
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[k++] = fn(i, y, x, c);
  return out;
}

export function gridPayload(opts: Partial<ImageGridPayload> & { fn?: PixelFn } = {}): ImageGridPayload {
  const { fn, ...rest } = opts;
  const base = { version: 1 as const, height: 4, width: 4, channels: 1 as 1 | 3, count: 6, columns: 3, ...rest };
  const pixels = pixelBytes(base.count, base.height, base.width, base.channels, fn ?? (base.channels === 1 ? greyPixel : rgbPixel));
  return { ...base, pixels: pixels.toString('base64') };
}

/** Frame value of traversal frame `step` of direction `d`: a uniform image, easy to probe. */
export const traversalValue = (d: number, step: number): number => (d * 100 + step * 30 + 10) % 256;

export function traversalPayload(opts: { radii?: number[]; epsilon?: number; directions?: string[]; grid?: boolean; size?: number } = {}): LatentTraversalPayload {
  const radii = opts.radii ?? [-2, -1, -0.5, 0, 0.5, 1, 2];
  const names = opts.directions ?? ['z1', 'z2'];
  const size = opts.size ?? 8;
  const uniform = (values: number[]): string =>
    Buffer.concat(values.map((v) => Buffer.alloc(size * size, v))).toString('base64');
  const n = radii.length;
  return {
    version: 1,
    title: 'Traversal',
    height: size,
    width: size,
    channels: 1,
    clean: Buffer.alloc(size * size, 128).toString('base64'),
    epsilon: opts.epsilon ?? 1.5,
    radii,
    directions: names.map((name, d) => ({ name, frames: uniform(radii.map((_, s) => traversalValue(d, s))) })),
    ...(opts.grid
      ? { grid: { directions: [names[0], names[1]] as [string, string], frames: uniform(Array.from({ length: n * n }, (_, k) => (k * 7) % 256)) } }
      : {}),
  };
}

export function plotlyFigure(title = 'training'): PlotlyFigure {
  return {
    data: [
      { type: 'scatter', mode: 'lines+markers', name: 'loss', x: [1, 2, 3, 4, 5], y: [1.2, 0.8, 0.6, 0.5, 0.45] },
      { type: 'bar', name: 'accuracy', x: [1, 2, 3, 4, 5], y: [0.3, 0.5, 0.7, 0.8, 0.85] },
    ],
    layout: { title: { text: title }, height: 360, showlegend: true, xaxis: { title: { text: 'epoch' } } },
  };
}

/** Strings that would run script if a renderer ever inserted them as HTML. */
export const HOSTILE = '<img src=x onerror="window.__pwned=1">';
export const HOSTILE_SCRIPT = '<script>window.__pwned=2</script>';
