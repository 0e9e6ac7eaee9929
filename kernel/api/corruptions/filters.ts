/**
 * The image operations the corruptions are built from, on float HWC images. Each follows the
 * library call of the reference generator it stands in for (SciPy's `gaussian_filter` /
 * `map_coordinates` / `zoom`, OpenCV's `filter2D` / `warpAffine` / `Canny` / `distanceTransform` /
 * `equalizeHist`, PIL's box resize, ImageMagick's motion blur, scikit-image's HSV), including
 * its border rule, so the corruptions inherit the reference's edge behaviour. Images are 32×32
 * or 28×28 and every corruption draws its own random parameters per image, so plain loops over
 * typed arrays are used: a tfjs op per image would cost more in dispatch than the work itself.
 */

/** A float image, row-major HWC. */
export interface Img {
  data: Float32Array;
  h: number;
  w: number;
  c: number;
}

export function image(h: number, w: number, c: number, data?: Float32Array): Img {
  return { data: data ?? new Float32Array(h * w * c), h, w, c };
}

export function cloneImg(a: Img): Img {
  return { data: a.data.slice(), h: a.h, w: a.w, c: a.c };
}

/**
 * Border rules by SciPy's names: `nearest` (aaa|abcd|ddd, OpenCV's REPLICATE), `reflect`
 * (half-sample symmetric, cba|abcd|dcb, OpenCV's REFLECT), `mirror` (whole-sample symmetric,
 * dcb|abcd|cba, OpenCV's REFLECT_101 and its default border).
 */
export type Border = 'nearest' | 'reflect' | 'mirror';

export function borderIndex(i: number, n: number, mode: Border): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'nearest' || n === 1) return i < 0 ? 0 : n - 1;
  if (mode === 'reflect') {
    const p = 2 * n;
    let k = ((i % p) + p) % p;
    if (k >= n) k = p - 1 - k;
    return k;
  }
  const p = 2 * n - 2;
  let k = ((i % p) + p) % p;
  if (k >= n) k = p - k;
  return k;
}

export const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Clips every value to [0, 1] in place. */
export function clipImg(a: Img): Img {
  const d = a.data;
  for (let i = 0; i < d.length; i++) d[i] = clip01(d[i]);
  return a;
}

/** x → uint8 → x, truncating like NumPy's `np.uint8(x * 255)` (the reference's intermediate 8-bit steps). */
export function truncateTo8bit(a: Img): Img {
  const d = a.data;
  // The small epsilon keeps values that are exactly k/255 in float64 at k despite float32 rounding.
  for (let i = 0; i < d.length; i++) d[i] = Math.floor(clip01(d[i]) * 255 + 1e-4) / 255;
  return a;
}

/** x → uint8 → x, rounding (PIL's, OpenCV's and ImageMagick's 8-bit outputs). */
export function roundTo8bit(a: Img): Img {
  const d = a.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.round(clip01(d[i]) * 255) / 255;
  return a;
}

/** SciPy's 1-D Gaussian kernel: radius ⌊truncate·σ + 0.5⌋, normalised. */
export function gaussianKernel1d(sigma: number, truncate: number): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable correlation with a centred odd 1-D kernel along rows then columns, per channel. */
export function separable(a: Img, ky: ArrayLike<number>, kx: ArrayLike<number>, mode: Border): Img {
  const { h, w, c } = a;
  const tmp = new Float64Array(a.data.length);
  const out = image(h, w, c);
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let j = 0; j < kx.length; j++) s += kx[j] * a.data[(y * w + borderIndex(x + j - rx, w, mode)) * c + ch];
        tmp[(y * w + x) * c + ch] = s;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let j = 0; j < ky.length; j++) s += ky[j] * tmp[(borderIndex(y + j - ry, h, mode) * w + x) * c + ch];
        out.data[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}

/**
 * `scipy.ndimage.gaussian_filter` over the two spatial axes of each channel (scikit-image's
 * `gaussian(..., multichannel=True)` is this with mode `nearest`, truncate 4).
 */
export function gaussianFilter(a: Img, sigma: number, mode: Border = 'nearest', truncate = 4): Img {
  if (sigma <= 0) return cloneImg(a);
  const k = gaussianKernel1d(sigma, truncate);
  return separable(a, k, k, mode);
}

/** OpenCV's `getGaussianKernel(ksize, sigma)`. */
export function cvGaussianKernel(ksize: number, sigma: number): Float64Array {
  const k = new Float64Array(ksize);
  const r = (ksize - 1) / 2;
  let sum = 0;
  for (let i = 0; i < ksize; i++) {
    k[i] = Math.exp(-((i - r) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < ksize; i++) k[i] /= sum;
  return k;
}

/** OpenCV's `filter2D` (correlation, border REFLECT_101) with a square odd kernel, per channel. */
export function filter2d(a: Img, kernel: ArrayLike<number>, size: number): Img {
  const { h, w, c } = a;
  const r = (size - 1) / 2;
  const out = image(h, w, c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let j = 0; j < size; j++) {
          const yy = borderIndex(y + j - r, h, 'mirror');
          for (let i = 0; i < size; i++) {
            const kv = kernel[j * size + i];
            if (kv !== 0) s += kv * a.data[(yy * w + borderIndex(x + i - r, w, 'mirror')) * c + ch];
          }
        }
        out.data[(y * w + x) * c + ch] = s;
      }
    }
  }
  return out;
}

/** OpenCV's `blur(src, (k, k))`: box mean, border REFLECT_101. */
export function boxBlur(a: Img, k: number): Img {
  const box = new Float64Array(k).fill(1 / k);
  return separable(a, box, box, 'mirror');
}

/** Bilinear sample of channel `ch` at (row y, column x), border by `mode` (SciPy `map_coordinates`, order 1). */
export function bilinear(a: Img, y: number, x: number, ch: number, mode: Border): number {
  const { h, w, c } = a;
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const ya = borderIndex(y0, h, mode);
  const yb = borderIndex(y0 + 1, h, mode);
  const xa = borderIndex(x0, w, mode);
  const xb = borderIndex(x0 + 1, w, mode);
  const d = a.data;
  const top = d[(ya * w + xa) * c + ch] * (1 - fx) + d[(ya * w + xb) * c + ch] * fx;
  const bottom = d[(yb * w + xa) * c + ch] * (1 - fx) + d[(yb * w + xb) * c + ch] * fx;
  return top * (1 - fy) + bottom * fy;
}

/** Bilinear sample with zeros outside the image (scikit-image `warp`, order 1, mode constant). */
export function bilinearZero(a: Img, y: number, x: number, ch: number): number {
  const { h, w, c } = a;
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? a.data[(yy * w + xx) * c + ch] : 0);
  return (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy) + (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy;
}

/**
 * Warps by an inverse map: output pixel (x, y) reads the input at `map(x, y)` = [x', y'].
 * `zero` fills outside with 0 (scikit-image `warp`), otherwise the border rule applies.
 */
export function warp(a: Img, map: (x: number, y: number) => [number, number], border: Border | 'zero'): Img {
  const out = image(a.h, a.w, a.c);
  for (let y = 0; y < a.h; y++) {
    for (let x = 0; x < a.w; x++) {
      const [sx, sy] = map(x, y);
      for (let ch = 0; ch < a.c; ch++) {
        out.data[(y * a.w + x) * a.c + ch] = border === 'zero' ? bilinearZero(a, sy, sx, ch) : bilinear(a, sy, sx, ch, border);
      }
    }
  }
  return out;
}

/** `scipy.ndimage.zoom(img, (z, z, 1), order=1)`: output side round(n·z), corners aligned. */
export function scipyZoom(a: Img, zoom: number): Img {
  const oh = Math.round(a.h * zoom);
  const ow = Math.round(a.w * zoom);
  const out = image(oh, ow, a.c);
  const sy = oh > 1 ? (a.h - 1) / (oh - 1) : 0;
  const sx = ow > 1 ? (a.w - 1) / (ow - 1) : 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let ch = 0; ch < a.c; ch++) out.data[(y * ow + x) * a.c + ch] = bilinear(a, y * sy, x * sx, ch, 'nearest');
    }
  }
  return out;
}

/** Crops rows [top, top+h) and columns [left, left+w). */
export function crop(a: Img, top: number, left: number, h: number, w: number): Img {
  const out = image(h, w, a.c);
  for (let y = 0; y < h; y++) {
    const src = ((top + y) * a.w + left) * a.c;
    out.data.set(a.data.subarray(src, src + w * a.c), y * w * a.c);
  }
  return out;
}

/** The reference's `clipped_zoom`: centre-crop ⌈n/z⌉, zoom by z (SciPy, order 1), centre-trim to n. */
export function clippedZoom(a: Img, z: number): Img {
  const ch = Math.ceil(a.h / z);
  const cw = Math.ceil(a.w / z);
  const top = Math.floor((a.h - ch) / 2);
  const left = Math.floor((a.w - cw) / 2);
  const zoomed = scipyZoom(crop(a, top, left, ch, cw), z);
  const tt = Math.floor((zoomed.h - a.h) / 2);
  const tl = Math.floor((zoomed.w - a.w) / 2);
  return crop(zoomed, tt, tl, a.h, a.w);
}

/** PIL's 1-D BOX resampling weights for `inSize` → `outSize` (`ImagingResample` with the box filter). */
function boxCoefficients(inSize: number, outSize: number): Array<{ start: number; weights: number[] }> {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 0.5 * filterscale;
  const rows: Array<{ start: number; weights: number[] }> = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights: number[] = [];
    let sum = 0;
    for (let x = xmin; x < xmax; x++) {
      const t = (x - center + 0.5) / filterscale;
      const v = t >= -0.5 && t < 0.5 ? 1 : 0;
      weights.push(v);
      sum += v;
    }
    rows.push({ start: xmin, weights: weights.map((v) => (sum ? v / sum : 0)) });
  }
  return rows;
}

/** PIL's `Image.resize((w, h), Image.BOX)` on an 8-bit image: horizontal then vertical pass, each rounded to 8 bits. */
export function pilBoxResize(a: Img, ow: number, oh: number): Img {
  const cx = boxCoefficients(a.w, ow);
  const cy = boxCoefficients(a.h, oh);
  const mid = image(a.h, ow, a.c);
  for (let y = 0; y < a.h; y++) {
    for (let x = 0; x < ow; x++) {
      const { start, weights } = cx[x];
      for (let ch = 0; ch < a.c; ch++) {
        let s = 0;
        for (let i = 0; i < weights.length; i++) s += weights[i] * a.data[(y * a.w + start + i) * a.c + ch];
        mid.data[(y * ow + x) * a.c + ch] = s;
      }
    }
  }
  roundTo8bit(mid);
  const out = image(oh, ow, a.c);
  for (let y = 0; y < oh; y++) {
    const { start, weights } = cy[y];
    for (let x = 0; x < ow; x++) {
      for (let ch = 0; ch < a.c; ch++) {
        let s = 0;
        for (let i = 0; i < weights.length; i++) s += weights[i] * mid.data[((start + i) * ow + x) * a.c + ch];
        out.data[(y * ow + x) * a.c + ch] = s;
      }
    }
  }
  return roundTo8bit(out);
}

/** scikit-image `rgb2hsv` of one pixel; h, s, v in [0, 1]. */
export function rgbToHsv(r: number, g: number, b: number, out: number[]): void {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  const s = v === 0 ? 0 : delta / v;
  let h = 0;
  if (delta > 0) {
    if (r === v) h = (g - b) / delta;
    else if (g === v) h = 2 + (b - r) / delta;
    else h = 4 + (r - g) / delta;
    h = ((h / 6) % 1 + 1) % 1;
  }
  out[0] = h;
  out[1] = s;
  out[2] = v;
}

/** scikit-image `hsv2rgb` of one pixel. */
export function hsvToRgb(h: number, s: number, v: number, out: number[]): void {
  const hi = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const table = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][hi];
  out[0] = table[0];
  out[1] = table[1];
  out[2] = table[2];
}

/** Applies `f` to the HSV triple of every pixel of an RGB image (a grey image is its own V). */
export function mapHsv(a: Img, f: (hsv: number[]) => void): Img {
  const out = cloneImg(a);
  const hsv = [0, 0, 0];
  const rgb = [0, 0, 0];
  const d = out.data;
  if (a.c === 1) {
    for (let i = 0; i < d.length; i++) {
      hsv[0] = 0;
      hsv[1] = 0;
      hsv[2] = d[i];
      f(hsv);
      d[i] = hsv[2];
    }
    return out;
  }
  for (let i = 0; i < d.length; i += a.c) {
    rgbToHsv(d[i], d[i + 1], d[i + 2], hsv);
    f(hsv);
    hsvToRgb(hsv[0], hsv[1], hsv[2], rgb);
    d[i] = rgb[0];
    d[i + 1] = rgb[1];
    d[i + 2] = rgb[2];
  }
  return out;
}

/** Luma (OpenCV's RGB2GRAY weights) of pixel `p`. */
export function grey(a: Img, p: number): number {
  if (a.c === 1) return a.data[p];
  const i = p * a.c;
  return 0.299 * a.data[i] + 0.587 * a.data[i + 1] + 0.114 * a.data[i + 2];
}

/**
 * ImageMagick's `MotionBlurImage(radius, sigma, angle)`: a one-sided line of 2⌈radius⌉+1 taps
 * with Gaussian weights exp(−i²/2σ²), tap i at the pixel offset round(i·(cos, sin)(angle)),
 * edge pixels repeated outside. The result is 8-bit, as ImageMagick's output.
 */
export function motionBlur(a: Img, radius: number, sigma: number, angleDeg: number): Img {
  const width = 2 * Math.ceil(radius) + 1;
  const rad = (angleDeg * Math.PI) / 180;
  const taps: Array<{ dx: number; dy: number; w: number }> = [];
  let sum = 0;
  for (let i = 0; i < width; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += w;
    taps.push({ dx: Math.ceil(i * Math.cos(rad) - 0.5), dy: Math.ceil(i * Math.sin(rad) - 0.5), w });
  }
  for (const t of taps) t.w /= sum;
  const out = image(a.h, a.w, a.c);
  for (let y = 0; y < a.h; y++) {
    for (let x = 0; x < a.w; x++) {
      for (let ch = 0; ch < a.c; ch++) {
        let s = 0;
        for (const t of taps) s += t.w * a.data[(borderIndex(y + t.dy, a.h, 'nearest') * a.w + borderIndex(x + t.dx, a.w, 'nearest')) * a.c + ch];
        out.data[(y * a.w + x) * a.c + ch] = s;
      }
    }
  }
  return roundTo8bit(out);
}

export interface CannyOptions {
  /** Thresholds on the gradient magnitude (same units as the image values × Sobel gain). */
  low: number;
  high: number;
  /** |gx| + |gy| (OpenCV's default) instead of the Euclidean norm (scikit-image). */
  l1: boolean;
}

/**
 * Canny edges of a one-channel image: Sobel gradients (border replicate), non-maximum suppression
 * along the quantised gradient direction, hysteresis (weak edges kept when 8-connected to strong
 * ones). Returns 1 on edges, 0 elsewhere.
 */
export function canny(a: Img, options: CannyOptions): Float32Array {
  const { h, w } = a;
  const at = (y: number, x: number) => a.data[(borderIndex(y, h, 'nearest') * w + borderIndex(x, w, 'nearest')) * a.c];
  const gx = new Float64Array(h * w);
  const gy = new Float64Array(h * w);
  const mag = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
      const dy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
      gx[y * w + x] = dx;
      gy[y * w + x] = dy;
      mag[y * w + x] = options.l1 ? Math.abs(dx) + Math.abs(dy) : Math.hypot(dx, dy);
    }
  }
  const m = (y: number, x: number) => (y >= 0 && y < h && x >= 0 && x < w ? mag[y * w + x] : 0);
  const TAN22 = Math.tan(Math.PI / 8);
  const TAN67 = Math.tan((3 * Math.PI) / 8);
  const state = new Uint8Array(h * w); // 0 none, 1 weak, 2 strong
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = mag[i];
      if (v <= options.low) continue;
      const ax = Math.abs(gx[i]);
      const ay = Math.abs(gy[i]);
      let n1: number;
      let n2: number;
      if (ay <= ax * TAN22) [n1, n2] = [m(y, x - 1), m(y, x + 1)];
      else if (ay >= ax * TAN67) [n1, n2] = [m(y - 1, x), m(y + 1, x)];
      else if (gx[i] * gy[i] > 0) [n1, n2] = [m(y - 1, x - 1), m(y + 1, x + 1)];
      else [n1, n2] = [m(y - 1, x + 1), m(y + 1, x - 1)];
      if (v > n1 && v >= n2) state[i] = v > options.high ? 2 : 1;
    }
  }
  const out = new Float32Array(h * w);
  const stack: number[] = [];
  for (let i = 0; i < h * w; i++) if (state[i] === 2) stack.push(i);
  while (stack.length) {
    const i = stack.pop()!;
    if (out[i]) continue;
    out[i] = 1;
    const y = Math.floor(i / w);
    const x = i % w;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
        const j = yy * w + xx;
        if (state[j] && !out[j]) stack.push(j);
      }
    }
  }
  return out;
}

/** Exact Euclidean distance of every pixel to the nearest zero of `mask` (OpenCV `distanceTransform`, DIST_L2). */
export function distanceToZero(mask: ArrayLike<number>, h: number, w: number): Float64Array {
  const zeros: number[] = [];
  for (let i = 0; i < h * w; i++) if (mask[i] === 0) zeros.push(i);
  const out = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) {
    if (mask[i] === 0) continue;
    const y = Math.floor(i / w);
    const x = i % w;
    let best = Infinity;
    for (const z of zeros) {
      const dy = Math.floor(z / w) - y;
      const dx = (z % w) - x;
      const d = dx * dx + dy * dy;
      if (d < best) best = d;
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

/** OpenCV `equalizeHist` on 8-bit values (0–255 integers), in place. */
export function equalizeHist(v: Float64Array): Float64Array {
  const hist = new Float64Array(256);
  for (const x of v) hist[x]++;
  let first = 0;
  while (first < 256 && hist[first] === 0) first++;
  const total = v.length;
  const lut = new Uint8Array(256);
  if (hist[first] === total) {
    v.fill(first);
    return v;
  }
  const scale = 255 / (total - hist[first]);
  let sum = 0;
  for (let i = first + 1; i < 256; i++) {
    sum += hist[i];
    lut[i] = Math.min(255, Math.max(0, Math.round(sum * scale)));
  }
  for (let i = 0; i < v.length; i++) v[i] = lut[v[i]];
  return v;
}

/** The affine map [a, b, c; d, e, f] sending the three points `src` to `dst` (OpenCV `getAffineTransform`). */
export function affineFromPoints(src: number[][], dst: number[][]): number[] {
  // Solve [x y 1] · coefficients = x' (and y') for the three point pairs by Cramer's rule.
  const [[x1, y1], [x2, y2], [x3, y3]] = src;
  const det = x1 * (y2 - y3) - y1 * (x2 - x3) + (x2 * y3 - x3 * y2);
  const solve = (v1: number, v2: number, v3: number) => [
    (v1 * (y2 - y3) - y1 * (v2 - v3) + (v2 * y3 - v3 * y2)) / det,
    (x1 * (v2 - v3) - v1 * (x2 - x3) + (x2 * v3 - x3 * v2)) / det,
    (x1 * (y2 * v3 - y3 * v2) - y1 * (x2 * v3 - x3 * v2) + v1 * (x2 * y3 - x3 * y2)) / det,
  ];
  return [...solve(dst[0][0], dst[1][0], dst[2][0]), ...solve(dst[0][1], dst[1][1], dst[2][1])];
}

/** The inverse of the affine map [a, b, c; d, e, f]. */
export function invertAffine([a, b, c, d, e, f]: number[]): number[] {
  const det = a * e - b * d;
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}
