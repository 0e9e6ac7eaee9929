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
