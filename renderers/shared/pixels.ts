/** Decoding of the payloads' base64 uint8 pixels (HWC order) into canvases. */

export function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export interface ImageShape {
  height: number;
  width: number;
  channels: 1 | 3;
}

/** RGBA image data of image number `index` in a run of HWC images. */
export function imageDataAt(bytes: Uint8Array, index: number, shape: ImageShape): ImageData {
  const { height, width, channels } = shape;
  const n = height * width;
  const img = new ImageData(width, height);
  const rgba = img.data;
  let src = index * n * channels;
  for (let p = 0, dst = 0; p < n; p++, dst += 4) {
    if (channels === 1) {
      const v = bytes[src++];
      rgba[dst] = v;
      rgba[dst + 1] = v;
      rgba[dst + 2] = v;
    } else {
      rgba[dst] = bytes[src++];
      rgba[dst + 1] = bytes[src++];
      rgba[dst + 2] = bytes[src++];
    }
    rgba[dst + 3] = 255;
  }
  return img;
}

/** The pixel value(s) at (x, y) of image `index`, e.g. "128" or "rgb(255, 0, 12)". */
export function pixelText(bytes: Uint8Array, index: number, x: number, y: number, shape: ImageShape): string {
  const { height, width, channels } = shape;
  const at = ((index * height + y) * width + x) * channels;
  return channels === 1 ? String(bytes[at]) : `rgb(${bytes[at]}, ${bytes[at + 1]}, ${bytes[at + 2]})`;
}

/**
 * A canvas holding the image at native resolution; CSS scales it with nearest-neighbour. Without
 * `scale` the display size is left to the style sheet (the grid sizes all cells by one variable).
 */
export function pixelCanvas(img: ImageData, scale?: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.className = 'pertset-pixels';
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(img, 0, 0);
  if (scale !== undefined) setDisplaySize(canvas, scale);
  return canvas;
}

export function setDisplaySize(canvas: HTMLCanvasElement, scale: number): void {
  canvas.style.width = `${canvas.width * scale}px`;
  canvas.style.height = `${canvas.height * scale}px`;
}

/** Image pixel under a pointer event on a CSS-scaled canvas. */
export function pointerPixel(canvas: HTMLCanvasElement, ev: { clientX: number; clientY: number }): { x: number; y: number } | undefined {
  const rect = canvas.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return undefined;
  const x = Math.floor(((ev.clientX - rect.left) / rect.width) * canvas.width);
  const y = Math.floor(((ev.clientY - rect.top) / rect.height) * canvas.height);
  if (x < 0 || y < 0 || x >= canvas.width || y >= canvas.height) return undefined;
  return { x, y };
}

/** Default zoom: about 64 screen pixels per image side, at least 1. */
export function defaultScale(height: number, width: number): number {
  return Math.max(1, Math.round(64 / Math.max(height, width)));
}
