/** An image grid: `application/vnd.pertset.image-grid+json` with HTML (PNG data URIs) and text fallbacks. */
import { MIME, MIME_BUNDLE, type Displayable, type MimeBundle } from '../../contract/mime';
import { validateImageGridPayload, type ImageGridPayload } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { escapeHtml } from './html';
import { imageAt, packImages, type ImageBatch, type PackedImages } from './images';
import { pngDataUri } from './png';

export interface ImageGridOptions {
  /** Images per row (default: all in one row, at most 10). */
  columns?: number;
  /** One caption per image. */
  captions?: string[];
  /** One label per grid row / per column. */
  rowLabels?: string[];
  columnLabels?: string[];
  title?: string;
  /** Screen pixels per image pixel in the renderers (default: about 64 px per image). */
  scale?: number;
}

export class ImageGrid implements Displayable {
  readonly payload: ImageGridPayload;

  constructor(images: PackedImages, options: ImageGridOptions = {}) {
    const columns = options.columns ?? Math.min(images.count, 10);
    if (!Number.isInteger(columns) || columns < 1) throw new ArgumentError(`imageGrid: "columns" must be a positive integer, got ${columns}`);
    const payload: ImageGridPayload = {
      version: 1,
      height: images.height,
      width: images.width,
      channels: images.channels,
      count: images.count,
      columns,
      pixels: Buffer.from(images.bytes.buffer, images.bytes.byteOffset, images.bytes.byteLength).toString('base64'),
    };
    if (options.title !== undefined) payload.title = options.title;
    if (options.captions !== undefined) payload.captions = options.captions;
    if (options.rowLabels !== undefined) payload.rowLabels = options.rowLabels;
    if (options.columnLabels !== undefined) payload.columnLabels = options.columnLabels;
    if (options.scale !== undefined) payload.scale = options.scale;
    try {
      this.payload = validateImageGridPayload(payload);
    } catch (e) {
      throw new ArgumentError(`imageGrid: ${(e as Error).message}`);
    }
    this.images = images;
  }

  private readonly images: PackedImages;

  [MIME_BUNDLE](): MimeBundle {
    return {
      data: {
        [MIME.imageGrid]: this.payload,
        [MIME.html]: this.html(),
        [MIME.plain]: this.toString(),
      },
    };
  }

  toString(): string {
    const p = this.payload;
    const rows = Math.ceil(p.count / p.columns);
    return `${p.title ? `${p.title}: ` : ''}ImageGrid ${p.count} images of ${p.height}x${p.width}x${p.channels} in ${rows}x${Math.min(p.columns, p.count)}`;
  }

  private html(): string {
    const p = this.payload;
    const scale = p.scale ?? Math.max(1, Math.round(64 / Math.max(p.height, p.width)));
    const style = `width:${p.width * scale}px;height:${p.height * scale}px;image-rendering:pixelated`;
    const rows = Math.ceil(p.count / p.columns);
    const parts: string[] = ['<div class="pertset-image-grid">'];
    if (p.title) parts.push(`<div style="font-weight:bold">${escapeHtml(p.title)}</div>`);
    parts.push('<table style="border-collapse:collapse">');
    if (p.columnLabels) {
      parts.push(`<tr>${p.rowLabels ? '<th></th>' : ''}${p.columnLabels.map((l) => `<th>${escapeHtml(l)}</th>`).join('')}</tr>`);
    }
    for (let r = 0; r < rows; r++) {
      parts.push('<tr>');
      if (p.rowLabels) parts.push(`<th style="text-align:right">${escapeHtml(p.rowLabels[r])}</th>`);
      for (let c = 0; c < p.columns && r * p.columns + c < p.count; c++) {
        const i = r * p.columns + c;
        const src = pngDataUri(imageAt(this.images, i), 0, p.height, p.width, p.channels);
        const caption = p.captions ? `<div style="font-size:smaller;text-align:center">${escapeHtml(p.captions[i])}</div>` : '';
        parts.push(`<td style="padding:2px"><img src="${src}" style="${style}" alt="image ${i}"/>${caption}</td>`);
      }
      parts.push('</tr>');
    }
    parts.push('</table></div>');
    return parts.join('');
  }
}

/**
 * Several batches laid out together (all images the same size):
 * - `{ rows: [a, b, c] }`: each batch is one grid row, e.g. clean / perturbed / reconstruction
 *   strips; every batch holds the same number of images.
 * - `{ columns: [a, b] }`: the batches side by side, each spread over the same rows in
 *   row-major order: with `a` of n images and `b` of n·k images, row i holds `a[i]` and then
 *   `b[i·k .. i·k + k − 1]` (e.g. each input followed by its k samples).
 */
export type ImageGridParts = { rows: ImageBatch[] } | { columns: ImageBatch[] };

function isParts(x: unknown): x is ImageGridParts {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || 'shape' in x) return false;
  return Array.isArray((x as { rows?: unknown }).rows) || Array.isArray((x as { columns?: unknown }).columns);
}

/** Packs the batches of `parts` into one row-major grid; returns the images and the images per row. */
function packParts(parts: ImageGridParts): { images: PackedImages; columns: number } {
  const key = 'rows' in parts && Array.isArray(parts.rows) ? 'rows' : 'columns';
  const list = key === 'rows' ? (parts as { rows: ImageBatch[] }).rows : (parts as { columns: ImageBatch[] }).columns;
  if (list.length === 0) throw new ArgumentError(`imageGrid: "${key}" must hold at least one batch`);
  const packed = list.map((b, i) => packImages(`imageGrid(${key}[${i}])`, b));
  const first = packed[0];
  packed.forEach((p, i) => {
    if (p.height !== first.height || p.width !== first.width || p.channels !== first.channels) {
      throw new ArgumentError(`imageGrid: ${key}[${i}] holds ${p.height}x${p.width}x${p.channels} images but ${key}[0] holds ${first.height}x${first.width}x${first.channels}`);
    }
  });
  const size = first.height * first.width * first.channels;
  if (key === 'rows') {
    packed.forEach((p, i) => {
      if (p.count !== first.count) throw new ArgumentError(`imageGrid: rows[${i}] has ${p.count} images but rows[0] has ${first.count}; every row needs the same number`);
    });
    const bytes = new Uint8Array(packed.length * first.count * size);
    packed.forEach((p, i) => bytes.set(p.bytes, i * first.count * size));
    return { images: { ...first, count: packed.length * first.count, bytes }, columns: first.count };
  }
  // Side by side: the first batch fixes the number of rows; each batch contributes count/rows columns.
  const rows = first.count;
  const perRow = packed.map((p, i) => {
    if (p.count % rows !== 0) throw new ArgumentError(`imageGrid: columns[${i}] has ${p.count} images, not a multiple of the ${rows} rows set by columns[0]`);
    return p.count / rows;
  });
  const columns = perRow.reduce((a, b) => a + b, 0);
  const bytes = new Uint8Array(rows * columns * size);
  let offset = 0;
  for (let r = 0; r < rows; r++) {
    packed.forEach((p, i) => {
      const chunk = p.bytes.subarray(r * perRow[i] * size, (r + 1) * perRow[i] * size);
      bytes.set(chunk, offset);
      offset += chunk.length;
    });
  }
  return { images: { ...first, count: rows * columns, bytes }, columns };
}

/**
 * A grid of images for notebooks. `images` is one batch `[n, h, w(, c)]` (tensor, `{data, shape}`
 * or nested arrays, floats in [0, 1]) or a list of single images, laid out `columns` per row; or
 * several batches as `{ rows: [...] }` / `{ columns: [...] }` (see `ImageGridParts`), where the
 * batches fix the layout.
 */
export function imageGrid(images: ImageBatch | ImageGridParts, options: ImageGridOptions = {}): ImageGrid {
  if (!isParts(images)) return new ImageGrid(packImages('imageGrid(images)', images), options);
  const { images: packed, columns } = packParts(images);
  if (options.columns !== undefined && options.columns !== columns) {
    throw new ArgumentError(`imageGrid: "columns" is ${options.columns}, but the batches make rows of ${columns} images; leave "columns" out`);
  }
  return new ImageGrid(packed, { ...options, columns });
}
