/**
 * A latent traversal: frames generated while walking along latent directions of a perturbation
 * set, as `application/vnd.pertset.latent-traversal+json` (the renderer draws a slider) with a
 * static HTML strip per direction and a text summary as fallbacks.
 */
import { MIME, MIME_BUNDLE, type Displayable, type MimeBundle } from '../../contract/mime';
import { validateLatentTraversalPayload, type LatentTraversalPayload } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { escapeHtml, formatNumber } from './html';
import { packImages, type ImageBatch, type PackedImages, type SingleImage } from './images';
import { pngDataUri } from './png';

export interface LatentTraversalOptions {
  /** The clean input x (one image, `[h, w(, c)]` or a batch of one). */
  clean: SingleImage | ImageBatch;
  /** Radius ε of the perturbation set. */
  epsilon: number;
  /** Signed position of each frame along a direction. */
  radii: number[];
  /** Each direction's frames: one image per radius, `[radii.length, h, w(, c)]`. */
  directions: Array<{ name: string; frames: ImageBatch }>;
  /** Optional 2-D traversal over two named directions: radii.length² frames, row-major. */
  grid?: { directions: [string, string]; frames: ImageBatch };
  title?: string;
  initialIndex?: number;
}

function base64(p: PackedImages): string {
  return Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength).toString('base64');
}

function packOne(what: string, x: SingleImage | ImageBatch): PackedImages {
  // A single image [h, w] / [h, w, c] is accepted by wrapping it as a list of one.
  try {
    return packImages(what, [x] as ImageBatch);
  } catch {
    return packImages(what, x as ImageBatch);
  }
}

export class LatentTraversal implements Displayable {
  readonly payload: LatentTraversalPayload;
  private readonly clean: PackedImages;
  private readonly frames: PackedImages[];

  constructor(options: LatentTraversalOptions) {
    const clean = packOne('latentTraversal({clean})', options.clean);
    if (clean.count !== 1) throw new ArgumentError(`latentTraversal: "clean" must be one image, got ${clean.count}`);
    const frames = options.directions.map((d, i) => packImages(`latentTraversal({directions[${i}].frames})`, d.frames));
    frames.forEach((f, i) => {
      if (f.height !== clean.height || f.width !== clean.width || f.channels !== clean.channels) {
        throw new ArgumentError(`latentTraversal: directions[${i}] frames are ${f.height}x${f.width}x${f.channels}, the clean image is ${clean.height}x${clean.width}x${clean.channels}`);
      }
    });
    const payload: LatentTraversalPayload = {
      version: 1,
      height: clean.height,
      width: clean.width,
      channels: clean.channels,
      clean: base64(clean),
      epsilon: options.epsilon,
      radii: options.radii,
      directions: options.directions.map((d, i) => ({ name: d.name, frames: base64(frames[i]) })),
    };
    if (options.title !== undefined) payload.title = options.title;
    if (options.initialIndex !== undefined) payload.initialIndex = options.initialIndex;
    if (options.grid) payload.grid = { directions: options.grid.directions, frames: base64(packImages('latentTraversal({grid.frames})', options.grid.frames)) };
    try {
      this.payload = validateLatentTraversalPayload(payload);
    } catch (e) {
      throw new ArgumentError(`latentTraversal: ${(e as Error).message}`);
    }
    this.clean = clean;
    this.frames = frames;
  }

  [MIME_BUNDLE](): MimeBundle {
    return { data: { [MIME.latentTraversal]: this.payload, [MIME.html]: this.html(), [MIME.plain]: this.toString() } };
  }

  toString(): string {
    const p = this.payload;
    return `${p.title ? `${p.title}: ` : ''}LatentTraversal ${p.directions.length} direction(s) x ${p.radii.length} radii ` +
      `[${formatNumber(p.radii[0])} .. ${formatNumber(p.radii[p.radii.length - 1])}], epsilon ${formatNumber(p.epsilon)}, images ${p.height}x${p.width}x${p.channels}`;
  }

  private html(): string {
    const p = this.payload;
    const scale = Math.max(1, Math.round(48 / Math.max(p.height, p.width)));
    const img = (bytes: Uint8Array, offset: number, alt: string) =>
      `<img src="${pngDataUri(bytes, offset, p.height, p.width, p.channels)}" alt="${escapeHtml(alt)}" style="width:${p.width * scale}px;height:${p.height * scale}px;image-rendering:pixelated"/>`;
    const size = p.height * p.width * p.channels;
    const rows = p.directions.map((d, di) => {
      const cells = p.radii.map((r, k) => `<td style="padding:1px">${img(this.frames[di].bytes, k * size, `${d.name} r=${r}`)}</td>`).join('');
      return `<tr><th style="text-align:right">${escapeHtml(d.name)}</th>${cells}</tr>`;
    });
    const header = `<tr><th>clean ${img(this.clean.bytes, 0, 'clean')}</th>${p.radii.map((r) => `<th style="font-size:smaller">${escapeHtml(formatNumber(r, 3))}</th>`).join('')}</tr>`;
    const title = p.title ? `<div style="font-weight:bold">${escapeHtml(p.title)}</div>` : '';
    return `<div class="pertset-latent-traversal">${title}<table style="border-collapse:collapse">${header}${rows.join('')}</table>` +
      `<div style="font-size:smaller">ε = ${escapeHtml(formatNumber(p.epsilon))}</div></div>`;
  }
}

/** A latent traversal built from generated frames (see `LatentTraversalOptions`). */
export function latentTraversal(options: LatentTraversalOptions): LatentTraversal {
  return new LatentTraversal(options);
}
