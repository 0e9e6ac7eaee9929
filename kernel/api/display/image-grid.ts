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
 * A grid of images for notebooks: `images` is a batch `[n, h, w(, c)]` (tensor, `{data, shape}`
 * or nested arrays, floats in [0, 1]) or a list of single images.
 */
export function imageGrid(images: ImageBatch, options: ImageGridOptions = {}): ImageGrid {
  return new ImageGrid(packImages('imageGrid(images)', images), options);
}
