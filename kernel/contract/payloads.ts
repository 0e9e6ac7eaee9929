/**
 * JSON payloads of our two MIME types (documented in docs/payloads.md). Version 1.
 *
 * Pixels travel as base64 of uint8 bytes, HWC order, row-major, one image after another:
 * byte (i, y, x, c) of image i sits at ((i*height + y)*width + x)*channels + c.
 * 0 = black, 255 = white. Grey images have channels = 1, colour images channels = 3 (RGB).
 *
 * The validators are used by the kernel before emitting and by the renderers before drawing,
 * so a malformed payload becomes a readable error naming the field instead of a broken output.
 */

export interface ImageGridPayload {
  version: 1;
  title?: string;
  /** Size of one image. */
  height: number;
  width: number;
  channels: 1 | 3;
  /** Number of images in `pixels`. */
  count: number;
  /** Images per row of the grid. */
  columns: number;
  /** base64 of count*height*width*channels uint8 bytes. */
  pixels: string;
  /** One caption per image (optional); shown under the image and in the hover read-out. */
  captions?: string[];
  /** One label per grid row / column (optional). */
  rowLabels?: string[];
  columnLabels?: string[];
  /** Initial screen pixels per image pixel (nearest-neighbour scaling). Default: fit about 64 px. */
  scale?: number;
}

export interface TraversalDirection {
  name: string;
  /** base64 of radii.length frames (each height*width*channels bytes), one per entry of `radii`. */
  frames: string;
}

export interface LatentTraversalPayload {
  version: 1;
  title?: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** The clean input x that conditions the generator (base64, one image). */
  clean: string;
  /** Radius ε of the perturbation set; the slider marks |r| = ε. */
  epsilon: number;
  /** Signed position along the direction (in prior-normalised latent units) of each frame. */
  radii: number[];
  /** One or more latent directions, each with one frame per radius. */
  directions: TraversalDirection[];
  /** Optional 2-D traversal over two directions: radii.length² frames, row-major (row = first direction). */
  grid?: {
    directions: [string, string];
    frames: string;
  };
  /** Index into `radii` shown first (default: the frame closest to radius 0). */
  initialIndex?: number;
}

/**
 * Height in px of a chart whose layout names none. The kernel writes it into every chart it
 * makes and the renderer applies it to figures from elsewhere: with no height, VS Code's output
 * area lets plotly collapse to a strip about 50 px tall.
 */
export const DEFAULT_CHART_HEIGHT = 400;

/** A plotly figure as carried by `application/vnd.plotly.v1+json`. */
export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

type Obj = Record<string, unknown>;

function fail(mime: string, msg: string): never {
  throw new PayloadError(`invalid ${mime} payload: ${msg}`);
}

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function positiveInt(mime: string, o: Obj, key: string, max = 1 << 24): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    fail(mime, `"${key}" must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function optionalString(mime: string, o: Obj, key: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'string') fail(mime, `"${key}" must be a string`);
}

function optionalStrings(mime: string, o: Obj, key: string, length?: number): void {
  const v = o[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(mime, `"${key}" must be an array of strings`);
  if (length !== undefined && v.length !== length) fail(mime, `"${key}" has ${v.length} entries, expected ${length}`);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Number of bytes a base64 string decodes to, or throws naming the field. */
export function base64ByteLength(mime: string, field: string, s: unknown): number {
  if (typeof s !== 'string') fail(mime, `"${field}" must be a base64 string`);
  if (s.length % 4 !== 0 || !BASE64.test(s)) fail(mime, `"${field}" is not valid base64`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

function imageShape(mime: string, o: Obj): { height: number; width: number; channels: 1 | 3; bytes: number } {
  const height = positiveInt(mime, o, 'height', 4096);
  const width = positiveInt(mime, o, 'width', 4096);
  if (o.channels !== 1 && o.channels !== 3) fail(mime, `"channels" must be 1 or 3, got ${JSON.stringify(o.channels)}`);
  const channels = o.channels as 1 | 3;
  return { height, width, channels, bytes: height * width * channels };
}

export function validateImageGridPayload(x: unknown): ImageGridPayload {
  const mime = 'image-grid';
  if (!isObj(x)) fail(mime, 'expected a JSON object');
  if (x.version !== 1) fail(mime, `unsupported "version" ${JSON.stringify(x.version)} (this renderer reads version 1)`);
  const { bytes } = imageShape(mime, x);
  const count = positiveInt(mime, x, 'count', 100000);
  const columns = positiveInt(mime, x, 'columns', 100000);
  const got = base64ByteLength(mime, 'pixels', x.pixels);
  if (got !== count * bytes) fail(mime, `"pixels" holds ${got} bytes, expected count*height*width*channels = ${count * bytes}`);
  optionalString(mime, x, 'title');
  optionalStrings(mime, x, 'captions', count);
  optionalStrings(mime, x, 'rowLabels', Math.ceil(count / columns));
  optionalStrings(mime, x, 'columnLabels', Math.min(columns, count));
  if (x.scale !== undefined && (typeof x.scale !== 'number' || !(x.scale > 0) || x.scale > 64)) {
    fail(mime, `"scale" must be a number in (0, 64], got ${JSON.stringify(x.scale)}`);
  }
  return x as unknown as ImageGridPayload;
}

export function validateLatentTraversalPayload(x: unknown): LatentTraversalPayload {
  const mime = 'latent-traversal';
  if (!isObj(x)) fail(mime, 'expected a JSON object');
  if (x.version !== 1) fail(mime, `unsupported "version" ${JSON.stringify(x.version)} (this renderer reads version 1)`);
  const { bytes } = imageShape(mime, x);
  optionalString(mime, x, 'title');
  if (base64ByteLength(mime, 'clean', x.clean) !== bytes) fail(mime, `"clean" must hold exactly one image (${bytes} bytes)`);
  if (typeof x.epsilon !== 'number' || !Number.isFinite(x.epsilon) || x.epsilon <= 0) {
    fail(mime, `"epsilon" must be a positive number, got ${JSON.stringify(x.epsilon)}`);
  }
  const radii = x.radii;
  if (!Array.isArray(radii) || radii.length < 1 || radii.length > 1000 || !radii.every((r) => typeof r === 'number' && Number.isFinite(r))) {
    fail(mime, '"radii" must be an array of 1 to 1000 finite numbers');
  }
  const steps = radii.length;
  const dirs = x.directions;
  if (!Array.isArray(dirs) || dirs.length < 1 || dirs.length > 64) fail(mime, '"directions" must be an array of 1 to 64 directions');
  dirs.forEach((d, i) => {
    if (!isObj(d) || typeof d.name !== 'string') fail(mime, `"directions[${i}].name" must be a string`);
    const got = base64ByteLength(mime, `directions[${i}].frames`, d.frames);
    if (got !== steps * bytes) fail(mime, `"directions[${i}].frames" holds ${got} bytes, expected radii.length*image bytes = ${steps * bytes}`);
  });
  if (x.grid !== undefined) {
    const g = x.grid;
    if (!isObj(g) || !Array.isArray(g.directions) || g.directions.length !== 2 || !g.directions.every((s) => typeof s === 'string')) {
      fail(mime, '"grid.directions" must be two direction names');
    }
    const got = base64ByteLength(mime, 'grid.frames', (g as Obj).frames);
    if (got !== steps * steps * bytes) fail(mime, `"grid.frames" holds ${got} bytes, expected radii.length²*image bytes = ${steps * steps * bytes}`);
  }
  if (x.initialIndex !== undefined && (typeof x.initialIndex !== 'number' || !Number.isInteger(x.initialIndex) || x.initialIndex < 0 || x.initialIndex >= steps)) {
    fail(mime, `"initialIndex" must be an integer in [0, ${steps - 1}]`);
  }
  return x as unknown as LatentTraversalPayload;
}

export function validatePlotlyFigure(x: unknown): PlotlyFigure {
  const mime = 'plotly';
  if (!isObj(x)) fail(mime, 'expected a JSON object');
  if (!Array.isArray(x.data) || !x.data.every(isObj)) fail(mime, '"data" must be an array of trace objects');
  if (x.layout !== undefined && !isObj(x.layout)) fail(mime, '"layout" must be an object');
  if (x.config !== undefined && !isObj(x.config)) fail(mime, '"config" must be an object');
  return x as unknown as PlotlyFigure;
}
