/** PNG encoding of uint8 images for the `text/html` fallbacks (images as data URIs), on `pngjs`. */
import { PNG } from 'pngjs';

/**
 * Encodes one HWC uint8 image (channels 1 or 3) starting at `offset` in `bytes` as a
 * `data:image/png;base64,...` URI.
 */
export function pngDataUri(bytes: Uint8Array, offset: number, height: number, width: number, channels: 1 | 3): string {
  const png = new PNG({ width, height, colorType: channels === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  const rgba = png.data;
  for (let p = 0; p < height * width; p++) {
    const src = offset + p * channels;
    const r = bytes[src];
    rgba[4 * p] = r;
    rgba[4 * p + 1] = channels === 1 ? r : bytes[src + 1];
    rgba[4 * p + 2] = channels === 1 ? r : bytes[src + 2];
    rgba[4 * p + 3] = 255;
  }
  const buf = PNG.sync.write(png, { colorType: channels === 1 ? 0 : 2 });
  return `data:image/png;base64,${buf.toString('base64')}`;
}

/**
 * One PNG file of packed images laid out `columns` per row, each scaled by `scale` (nearest
 * neighbour) with `gap` grey pixels between them: a grid a reader of a run folder can open.
 */
export function gridPng(images: { count: number; height: number; width: number; channels: 1 | 3; bytes: Uint8Array }, columns: number, options: { scale?: number; gap?: number } = {}): Buffer {
  const scale = options.scale ?? 2;
  const gap = options.gap ?? 2;
  const { count, height: h, width: w, channels: c, bytes } = images;
  const rows = Math.ceil(count / columns);
  const cellW = w * scale + gap;
  const cellH = h * scale + gap;
  const png = new PNG({ width: columns * cellW + gap, height: rows * cellH + gap });
  png.data.fill(128);
  for (let p = 3; p < png.data.length; p += 4) png.data[p] = 255;
  for (let i = 0; i < count; i++) {
    const left = gap + (i % columns) * cellW;
    const top = gap + Math.floor(i / columns) * cellH;
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const src = ((i * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
        const dst = 4 * ((top + y) * png.width + left + x);
        png.data[dst] = bytes[src];
        png.data[dst + 1] = bytes[src + (c === 3 ? 1 : 0)];
        png.data[dst + 2] = bytes[src + (c === 3 ? 2 : 0)];
      }
    }
  }
  return PNG.sync.write(png);
}
