/**
 * The frost overlays of the `frost` corruption: Hendrycks' `frost1.png` … `frost5.jpg` (the
 * reference draws one of the first five; `frost6.jpg` is never used), decoded with `pngjs` and
 * `jpeg-js` (alpha dropped, as OpenCV's `imread`) and shrunk ×0.2 as the reference does with
 * OpenCV's bilinear `resize(fx=0.2)`, which for a factor of exactly 1/5 reads the pixel at
 * 5·i + 2. The folder is found like a dataset's: an explicit folder (or its `frost/`
 * sub-folder), then `$PERTSET_DATA/frost`, then the per-user cache's `frost/`. Nothing is
 * downloaded: a missing folder is an error naming every place looked in.
 */
import * as fs from 'fs';
import * as path from 'path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataFormatError } from '../errors';
import { cacheDir } from '../data/locate';
import { image, type Img } from './filters';

export const FROST_FILES = ['frost1.png', 'frost2.png', 'frost3.png', 'frost4.jpg', 'frost5.jpg'] as const;

export interface FrostLocateOptions {
  /** A folder holding the frost images, or a data root with a `frost/` sub-folder. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/** The folder holding all five frost images; a DataFormatError naming every place looked in otherwise. */
export function locateFrost(options: FrostLocateOptions = {}): string {
  const env = options.env ?? process.env;
  const dirs: string[] = [];
  if (options.dir) dirs.push(path.resolve(options.dir), path.resolve(options.dir, 'frost'));
  else {
    if (env.PERTSET_DATA) dirs.push(path.resolve(env.PERTSET_DATA, 'frost'));
    dirs.push(path.join(cacheDir(env), 'frost'));
  }
  const searched: string[] = [];
  for (const dir of dirs) {
    const missing = FROST_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
    if (missing.length === 0) return dir;
    searched.push(`${dir} (${fs.existsSync(dir) ? `no ${missing.join(', ')}` : 'no such folder'})`);
  }
  throw new DataFormatError(
    `the frost corruption needs the frost overlay images ${FROST_FILES.join(', ')} (from Hendrycks' ImageNet-C generator); ` +
      `looked in ${searched.join('; ')}. Pass the folder holding them (--data DIR, or the frostDir option) or set PERTSET_DATA`,
  );
}

function decode(file: string): Img {
  const bytes = fs.readFileSync(file);
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  try {
    if (file.endsWith('.png')) {
      const png = PNG.sync.read(bytes);
      [rgba, width, height] = [png.data, png.width, png.height];
    } else {
      const jpg = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      [rgba, width, height] = [jpg.data, jpg.width, jpg.height];
    }
  } catch (e) {
    throw new DataFormatError(`${file}: cannot decode the frost image (${(e as Error).message})`);
  }
  const out = image(height, width, 3);
  for (let p = 0; p < width * height; p++) for (let ch = 0; ch < 3; ch++) out.data[p * 3 + ch] = rgba[p * 4 + ch] / 255;
  return out;
}

/** OpenCV `resize(img, (0, 0), fx=0.2, fy=0.2)` (bilinear): output ⌊n/5⌉, pixel i reads input 5i + 2. */
function shrinkFifth(a: Img): Img {
  const oh = Math.round(a.h * 0.2);
  const ow = Math.round(a.w * 0.2);
  const out = image(oh, ow, a.c);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(5 * y + 2, a.h - 1);
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(5 * x + 2, a.w - 1);
      for (let ch = 0; ch < a.c; ch++) out.data[(y * ow + x) * a.c + ch] = a.data[(sy * a.w + sx) * a.c + ch];
    }
  }
  return out;
}

const cache = new Map<string, Img[]>();

/** The five overlays of `dir`, shrunk, values in [0, 1] (decoded once per folder). */
export function frostOverlays(dir: string): Img[] {
  let overlays = cache.get(dir);
  if (!overlays) {
    overlays = FROST_FILES.map((f) => shrinkFifth(decode(path.join(dir, f))));
    cache.set(dir, overlays);
  }
  return overlays;
}
