/**
 * The corruption functions with explicit parameters, after Hendrycks' `make_cifar_c.py` and
 * Mu & Gilmer's MNIST-C `corruptions.py`. Each takes a float HWC image in [0, 1] (1 or 3
 * channels) and returns a new one in [0, 1]; all randomness comes from the `Rng`. The
 * per-severity parameter tables are in suites.ts.
 */
import poisson from '@stdlib/random-base-poisson';
import * as jpegJs from 'jpeg-js';
import type { Rng } from '../random';
import {
  affineFromPoints,
  boxBlur,
  canny,
  clip01,
  clipImg,
  clippedZoom,
  cloneImg,
  cvGaussianKernel,
  distanceToZero,
  equalizeHist,
  filter2d,
  gaussianFilter,
  grey,
  image,
  invertAffine,
  mapHsv,
  motionBlur,
  pilBoxResize,
  roundTo8bit,
  truncateTo8bit,
  warp,
  type Img,
} from './filters';

/** Applies `f` to every value. */
function mapValues(a: Img, f: (v: number, i: number) => number): Img {
  const out = image(a.h, a.w, a.c);
  for (let i = 0; i < a.data.length; i++) out.data[i] = clip01(f(a.data[i], i));
  return out;
}

// ---- noise ----

export function gaussianNoise(x: Img, sigma: number, rng: Rng): Img {
  return mapValues(x, (v) => v + sigma * rng.normal());
}

/** Poisson(x·c)/c through @stdlib's Poisson sampler driven by the seeded generator. */
export function shotNoise(x: Img, c: number, rng: Rng): Img {
  const sample = poisson.factory({ prng: () => rng.uniform() });
  return mapValues(x, (v) => (v > 0 ? sample(v * c) / c : 0));
}

/** scikit-image `random_noise(mode='s&p', amount)`: each value replaced with probability `amount`, by 1 or 0 with equal odds. */
export function impulseNoise(x: Img, amount: number, rng: Rng): Img {
  return mapValues(x, (v) => (rng.uniform() < amount ? (rng.uniform() < 0.5 ? 1 : 0) : v));
}

export function speckleNoise(x: Img, sigma: number, rng: Rng): Img {
  return mapValues(x, (v) => v + v * sigma * rng.normal());
}

// ---- blur ----

export function gaussianBlur(x: Img, sigma: number): Img {
  return clipImg(gaussianFilter(x, sigma, 'nearest'));
}

export interface GlassParams {
  sigma: number;
  /** Largest swap distance in pixels (offsets are drawn from [−delta, delta)). */
  delta: number;
  iterations: number;
  /** MNIST-C moves each pixel only with probability ½; Hendrycks always does. */
  swapProbability?: number;
  /**
   * Whether the pixel pair really swaps. In Hendrycks' generator the HWC pixels are NumPy views,
   * so `x[h, w], x[h', w'] = x[h', w'], x[h, w]` only copies the neighbour into (h, w): each
   * pixel takes a value from at most δ away per iteration (the "glass" jitter). MNIST-C's 2-D
   * arrays hold scalars and do swap, which lets values travel up-left over several steps.
   */
  swap: boolean;
}

/** Blur, 8-bit, local pixel shuffling from the bottom-right corner up, blur again. */
export function glassBlur(x: Img, p: GlassParams, rng: Rng): Img {
  const a = truncateTo8bit(gaussianFilter(x, p.sigma, 'nearest'));
  const { h, w, c } = a;
  const d = a.data;
  const swap = p.swapProbability ?? 1;
  for (let it = 0; it < p.iterations; it++) {
    for (let y = h - p.delta; y > p.delta; y--) {
      for (let xx = w - p.delta; xx > p.delta; xx--) {
        if (swap < 1 && rng.uniform() >= swap) continue;
        const dx = rng.int(2 * p.delta) - p.delta;
        const dy = rng.int(2 * p.delta) - p.delta;
        const yp = y + dy;
        const xp = xx + dx;
        if (yp < 0 || yp >= h || xp < 0 || xp >= w) continue;
        for (let ch = 0; ch < c; ch++) {
          const i = (y * w + xx) * c + ch;
          const j = (yp * w + xp) * c + ch;
          const t = d[i];
          d[i] = d[j];
          if (p.swap) d[j] = t;
        }
      }
    }
  }
  return clipImg(gaussianFilter(a, p.sigma, 'nearest'));
}

/** A disk x² + y² ≤ r² on the 17×17 grid, normalised, smoothed by OpenCV's 3×3 Gaussian of σ = aliasBlur. */
export function defocusKernel(radius: number, aliasBlur: number): { kernel: Float64Array; size: number } {
  const L = radius <= 8 ? 8 : Math.ceil(radius);
  const size = 2 * L + 1;
  const disk = new Float64Array(size * size);
  let sum = 0;
  for (let y = -L; y <= L; y++) {
    for (let x = -L; x <= L; x++) {
      const v = x * x + y * y <= radius * radius ? 1 : 0;
      disk[(y + L) * size + (x + L)] = v;
      sum += v;
    }
  }
  for (let i = 0; i < disk.length; i++) disk[i] /= sum;
  const g = cvGaussianKernel(radius <= 8 ? 3 : 5, aliasBlur);
  const smoothed = filter2d(image(size, size, 1, Float32Array.from(disk)), outer(g), g.length);
  return { kernel: Float64Array.from(smoothed.data), size };
}

function outer(g: Float64Array): Float64Array {
  const k = new Float64Array(g.length * g.length);
  for (let j = 0; j < g.length; j++) for (let i = 0; i < g.length; i++) k[j * g.length + i] = g[j] * g[i];
  return k;
}

export function defocusBlur(x: Img, p: { radius: number; aliasBlur: number }): Img {
  const { kernel, size } = defocusKernel(p.radius, p.aliasBlur);
  return clipImg(filter2d(x, kernel, size));
}

/** ImageMagick motion blur of the 8-bit image along an angle drawn from U(−45°, 45°). */
export function motionBlurOp(x: Img, p: { radius: number; sigma: number }, rng: Rng): Img {
  const angle = rng.uniformRange(-45, 45);
  return motionBlur(roundTo8bit(cloneImg(x)), p.radius, p.sigma, angle);
}

/** Mean of x and its centre zooms by each factor (the factors include 1). */
export function zoomBlur(x: Img, zooms: readonly number[]): Img {
  const out = cloneImg(x);
  for (const z of zooms) {
    const zoomed = clippedZoom(x, z);
    for (let i = 0; i < out.data.length; i++) out.data[i] += zoomed.data[i];
  }
  for (let i = 0; i < out.data.length; i++) out.data[i] = clip01(out.data[i] / (zooms.length + 1));
  return out;
}

// ---- weather ----

export interface SnowParams {
  mean: number;
  std: number;
  zoom: number;
  threshold: number;
  blurRadius: number;
  blurSigma: number;
  mix: number;
}

/** A zoomed, thresholded Gaussian layer smeared by a motion blur, added twice (once turned 180°) to a whitened image. */
export function snow(x: Img, p: SnowParams, rng: Rng): Img {
  const { h, w, c } = x;
  let layer = image(h, w, 1);
  for (let i = 0; i < h * w; i++) layer.data[i] = p.mean + p.std * rng.normal();
  layer = clippedZoom(layer, p.zoom);
  for (let i = 0; i < h * w; i++) if (layer.data[i] < p.threshold) layer.data[i] = 0;
  layer = motionBlur(truncateTo8bit(layer), p.blurRadius, p.blurSigma, rng.uniformRange(-135, -45));
  const out = image(h, w, c);
  for (let q = 0; q < h * w; q++) {
    const g = grey(x, q) * 1.5 + 0.5;
    const s = layer.data[q] + layer.data[h * w - 1 - q];
    for (let ch = 0; ch < c; ch++) {
      const v = x.data[q * c + ch];
      out.data[q * c + ch] = clip01(p.mix * v + (1 - p.mix) * Math.max(v, g) + s);
    }
  }
  return out;
}

/** a·x + b·(a random crop of one of the five frost overlays). */
export function frost(x: Img, p: { a: number; b: number }, rng: Rng, overlays: Img[]): Img {
  const f = overlays[rng.int(overlays.length)];
  // The reference draws randint(0, side − 32), which never reaches the last offset.
  const top = rng.int(f.h - x.h);
  const left = rng.int(f.w - x.w);
  const out = image(x.h, x.w, x.c);
  for (let y = 0; y < x.h; y++) {
    for (let xx = 0; xx < x.w; xx++) {
      const fi = ((top + y) * f.w + left + xx) * 3;
      for (let ch = 0; ch < x.c; ch++) {
        const fv = x.c === 1 ? 0.299 * f.data[fi] + 0.587 * f.data[fi + 1] + 0.114 * f.data[fi + 2] : f.data[fi + ch];
        const i = (y * x.w + xx) * x.c + ch;
        out.data[i] = clip01(p.a * x.data[i] + p.b * fv);
      }
    }
  }
  return out;
}

/**
 * The reference's diamond-square `plasma_fractal`: a `size`×`size` map (size a power of two),
 * each level adding `wibble`·U(−wibble, wibble) with wibble starting at 100 and divided by
 * `decay` per level, normalised to [0, 1]. Wrap-around neighbours, as the reference's np.roll.
 */
export function plasmaFractal(size: number, decay: number, rng: Rng): Float64Array {
  if (!(size >= 2 && (size & (size - 1)) === 0)) throw new Error(`plasmaFractal: size must be a power of two, got ${size}`);
  const m = new Float64Array(size * size);
  let step = size;
  let wibble = 100;
  const noisy = (v: number) => v / 4 + wibble * rng.uniformRange(-wibble, wibble);
  // size is a power of two, so `& mask` wraps negative and overflowing indices alike.
  const mask = size - 1;
  const at = (y: number, x: number) => m[(y & mask) * size + (x & mask)];
  while (step >= 2) {
    const half = step / 2;
    const n = size / step;
    // Squares: centre of each cell from its four corners.
    const squares = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        squares[i * n + j] = at(i * step, j * step) + at((i + 1) * step, j * step) + at(i * step, (j + 1) * step) + at((i + 1) * step, (j + 1) * step);
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[(half + i * step) * size + half + j * step] = noisy(squares[i * n + j]);
    // Diamonds: edge midpoints from the two centres and two corners beside them.
    const left = new Float64Array(n * n);
    const top = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        left[i * n + j] = at(half + i * step, half + j * step) + at(half + (i - 1) * step, half + j * step) + at(i * step, j * step) + at(i * step, (j + 1) * step);
        top[i * n + j] = at(half + i * step, half + j * step) + at(half + i * step, half + (j - 1) * step) + at(i * step, j * step) + at((i + 1) * step, j * step);
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * step * size + half + j * step] = noisy(left[i * n + j]);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[(half + i * step) * size + j * step] = noisy(top[i * n + j]);
    step = half;
    wibble /= decay;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of m) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < m.length; i++) m[i] = hi > lo ? (m[i] - lo) / (hi - lo) : 0;
  return m;
}

/** x + t·plasma, rescaled by max(x)/(max(x) + t). `mapSize` is 32 for CIFAR-10-C and 256 (top-left crop) for MNIST-C. */
export function fog(x: Img, p: { t: number; decay: number; mapSize: number }, rng: Rng): Img {
  let maxVal = 0;
  for (const v of x.data) maxVal = Math.max(maxVal, v);
  const map = plasmaFractal(p.mapSize, p.decay, rng);
  const out = image(x.h, x.w, x.c);
  const scale = maxVal / (maxVal + p.t);
  for (let y = 0; y < x.h; y++) {
    for (let xx = 0; xx < x.w; xx++) {
      const f = p.t * map[y * p.mapSize + xx];
      for (let ch = 0; ch < x.c; ch++) {
        const i = (y * x.w + xx) * x.c + ch;
        out.data[i] = clip01((x.data[i] + f) * scale);
      }
    }
  }
  return out;
}

export interface SpatterParams {
  mean: number;
  std: number;
  sigma: number;
  threshold: number;
  /** water: the largest mask value; mud: the σ of the mask's blur. */
  k: number;
  mode: 'water' | 'mud';
}

/** Water drops (pale turquoise, outlined through Canny + distance transform + emboss) or mud blobs (brown; grey 63/255 on one channel). */
export function spatter(x: Img, p: SpatterParams, rng: Rng): Img {
  const { h, w, c } = x;
  let liquid = image(h, w, 1);
  for (let i = 0; i < h * w; i++) liquid.data[i] = p.mean + p.std * rng.normal();
  liquid = gaussianFilter(liquid, p.sigma, 'nearest');
  for (let i = 0; i < h * w; i++) if (liquid.data[i] < p.threshold) liquid.data[i] = 0;
  const out = image(h, w, c);
  if (p.mode === 'water') {
    // OpenCV on the 8-bit layer: 255 − Canny(50, 150) → L2 distance to the edges, capped at 20,
    // 3×3 mean → uint8 → equalised → embossed (saturated to uint8) → 3×3 mean.
    const layer8 = image(h, w, 1);
    for (let i = 0; i < h * w; i++) layer8.data[i] = Math.min(255, Math.floor(liquid.data[i] * 255));
    const edges = canny(layer8, { low: 50, high: 150, l1: true });
    const dist = distanceToZero(edges.map((e) => (e ? 0 : 255)), h, w);
    const capped = image(h, w, 1, Float32Array.from(dist, (d) => Math.min(d, 20)));
    const blurred = boxBlur(capped, 3);
    const eq = equalizeHist(Float64Array.from(blurred.data, (v) => Math.floor(v)));
    const emboss = filter2d(image(h, w, 1, Float32Array.from(eq)), [-2, -1, 0, -1, 1, 1, 0, 1, 2], 3);
    for (let i = 0; i < h * w; i++) emboss.data[i] = Math.min(255, Math.max(0, Math.round(emboss.data[i])));
    const d2 = boxBlur(emboss, 3);
    const m = new Float64Array(h * w);
    let mx = 0;
    for (let i = 0; i < h * w; i++) {
      m[i] = liquid.data[i] * d2.data[i];
      mx = Math.max(mx, m[i]);
    }
    const colour = c === 1 ? [0.299 * 175 / 255 + 0.587 * 238 / 255 + 0.114 * 238 / 255] : [175 / 255, 238 / 255, 238 / 255];
    for (let q = 0; q < h * w; q++) {
      const mq = mx > 0 ? (m[q] / mx) * p.k : 0;
      for (let ch = 0; ch < c; ch++) out.data[q * c + ch] = clip01(x.data[q * c + ch] + mq * colour[ch]);
    }
    return out;
  }
  let mask = image(h, w, 1);
  for (let i = 0; i < h * w; i++) mask.data[i] = liquid.data[i] > p.threshold ? 1 : 0;
  mask = gaussianFilter(mask, p.k, 'nearest');
  const colour = c === 1 ? [63 / 255] : [63 / 255, 42 / 255, 20 / 255];
  for (let q = 0; q < h * w; q++) {
    const mq = mask.data[q] < 0.8 ? 0 : mask.data[q];
    for (let ch = 0; ch < c; ch++) out.data[q * c + ch] = clip01(x.data[q * c + ch] * (1 - mq) + mq * colour[ch]);
  }
  return out;
}

// ---- digital ----

export function brightness(x: Img, amount: number): Img {
  return clipImg(mapHsv(x, (hsv) => (hsv[2] = clip01(hsv[2] + amount))));
}

export function saturate(x: Img, p: { scale: number; offset: number }): Img {
  return clipImg(mapHsv(x, (hsv) => (hsv[1] = clip01(hsv[1] * p.scale + p.offset))));
}

/** (x − per-channel mean)·c + mean. */
export function contrast(x: Img, factor: number): Img {
  const means = new Float64Array(x.c);
  for (let i = 0; i < x.data.length; i++) means[i % x.c] += x.data[i];
  for (let ch = 0; ch < x.c; ch++) means[ch] /= x.h * x.w;
  return mapValues(x, (v, i) => (v - means[i % x.c]) * factor + means[i % x.c]);
}

export interface ElasticParams {
  /** Displacement scale, smoothing σ and affine jitter, as fractions of the image side. */
  alpha: number;
  sigma: number;
  jitter: number;
}

/**
 * A random affine warp (three points around the centre jittered by U(−jitter, jitter); bilinear,
 * border REFLECT_101), then a smooth random displacement field α·Gauss_σ(U(−1, 1)) per axis
 * (truncate 3, border reflect), resampled bilinearly (border reflect).
 */
export function elasticTransform(x: Img, p: ElasticParams, rng: Rng): Img {
  const { h, w } = x;
  const side = Math.min(h, w);
  const alpha = p.alpha * side;
  const sigma = p.sigma * side;
  const jitter = p.jitter * side;
  const cy = Math.floor(h / 2);
  const cx = Math.floor(w / 2);
  const sq = Math.floor(side / 3);
  // (x, y) points, as the reference's float32 arrays of [centre ± square] (its centre is (h//2, w//2)).
  const src = [[cy + sq, cx + sq], [cy + sq, cx - sq], [cy - sq, cx - sq]];
  const dst = src.map((pt) => pt.map((v) => v + rng.uniformRange(-jitter, jitter)));
  const inv = invertAffine(affineFromPoints(src, dst));
  const affine = warp(x, (ox, oy) => [inv[0] * ox + inv[1] * oy + inv[2], inv[3] * ox + inv[4] * oy + inv[5]], 'mirror');
  const field = () => {
    const u = image(h, w, 1);
    for (let i = 0; i < h * w; i++) u.data[i] = rng.uniformRange(-1, 1);
    const g = sigma > 0 ? gaussianFilter(u, sigma, 'reflect', 3) : u;
    for (let i = 0; i < h * w; i++) g.data[i] *= alpha;
    return g.data;
  };
  const dx = field();
  const dy = field();
  return clipImg(warp(affine, (ox, oy) => [ox + dx[oy * w + ox], oy + dy[oy * w + ox]], 'reflect'));
}

/** PIL box downsize to ⌊side·c⌋ and box upsize back, on the 8-bit image. */
export function pixelate(x: Img, factor: number): Img {
  const small = pilBoxResize(roundTo8bit(cloneImg(x)), Math.floor(x.w * factor), Math.floor(x.h * factor));
  return pilBoxResize(small, x.w, x.h);
}

/** The 8-bit RGB pixels of `x` after the 2×2 chroma averaging (grey images: R = G = B). */
function subsampledRgb(x: Img): Uint8Array {
  const { h, w, c } = x;
  const y = new Float64Array(h * w);
  const cb = new Float64Array(h * w);
  const cr = new Float64Array(h * w);
  for (let q = 0; q < h * w; q++) {
    const r = Math.round(clip01(x.data[q * c]) * 255);
    const g = c === 3 ? Math.round(clip01(x.data[q * c + 1]) * 255) : r;
    const b = c === 3 ? Math.round(clip01(x.data[q * c + 2]) * 255) : r;
    y[q] = 0.299 * r + 0.587 * g + 0.114 * b;
    cb[q] = -0.168736 * r - 0.331264 * g + 0.5 * b;
    cr[q] = 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  if (c === 3) {
    for (let by = 0; by < h; by += 2) {
      for (let bx = 0; bx < w; bx += 2) {
        const cells = [[by, bx], [by, bx + 1], [by + 1, bx], [by + 1, bx + 1]].filter(([yy, xx]) => yy < h && xx < w).map(([yy, xx]) => yy * w + xx);
        const mb = cells.reduce((s, i) => s + cb[i], 0) / cells.length;
        const mr = cells.reduce((s, i) => s + cr[i], 0) / cells.length;
        for (const i of cells) {
          cb[i] = mb;
          cr[i] = mr;
        }
      }
    }
  }
  const byte = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  const rgb = new Uint8Array(h * w * 3);
  for (let q = 0; q < h * w; q++) {
    rgb[q * 3] = byte(y[q] + 1.402 * cr[q]);
    rgb[q * 3 + 1] = byte(y[q] - 0.344136 * cb[q] - 0.714136 * cr[q]);
    rgb[q * 3 + 2] = byte(y[q] + 1.772 * cb[q]);
  }
  return rgb;
}

/** Images per JPEG encode: 512 tiles of 32 rows stay below JPEG's 65 535-row limit. */
const JPEG_TILES = 512;

/**
 * JPEG encode/decode at `quality` through jpeg-js. jpeg-js encodes 4:4:4; the reference (PIL)
 * encodes 4:2:0, so the chroma planes are first averaged over 2×2 blocks (JFIF YCbCr) to lose the
 * same colour detail. JPEG codes each 8×8 block on its own (the DC difference between blocks is
 * lossless), so images padded to whole blocks (edge pixels repeated) and stacked into one tall
 * picture come back exactly as if encoded one by one; this spares jpeg-js's per-encode table
 * set-up, which costs far more than a 32×32 image.
 */
export function jpegCompressionMany(xs: Img[], quality: number): Img[] {
  const out: Img[] = [];
  for (let start = 0; start < xs.length; start += JPEG_TILES) {
    const chunk = xs.slice(start, start + JPEG_TILES);
    const { h, w } = chunk[0];
    const th = Math.ceil(h / 8) * 8;
    const tw = Math.ceil(w / 8) * 8;
    const rgba = new Uint8Array(th * chunk.length * tw * 4);
    chunk.forEach((x, k) => {
      if (x.h !== h || x.w !== w) throw new Error('jpegCompressionMany: images of different sizes');
      const rgb = subsampledRgb(x);
      for (let yy = 0; yy < th; yy++) {
        const sy = Math.min(yy, h - 1);
        for (let xx = 0; xx < tw; xx++) {
          const sx = Math.min(xx, w - 1);
          const o = ((k * th + yy) * tw + xx) * 4;
          const i = (sy * w + sx) * 3;
          rgba[o] = rgb[i];
          rgba[o + 1] = rgb[i + 1];
          rgba[o + 2] = rgb[i + 2];
          rgba[o + 3] = 255;
        }
      }
    });
    const encoded = jpegJs.encode({ data: rgba, width: tw, height: th * chunk.length }, quality);
    const decoded = jpegJs.decode(encoded.data, { useTArray: true, formatAsRGBA: true });
    chunk.forEach((x, k) => {
      const img = image(h, w, x.c);
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < w; xx++) {
          const o = ((k * th + yy) * tw + xx) * 4;
          const q = yy * w + xx;
          const d = decoded.data;
          if (x.c === 1) img.data[q] = Math.round(0.299 * d[o] + 0.587 * d[o + 1] + 0.114 * d[o + 2]) / 255;
          else for (let ch = 0; ch < 3; ch++) img.data[q * 3 + ch] = d[o + ch] / 255;
        }
      }
      out.push(img);
    });
  }
  return out;
}

export function jpegCompression(x: Img, quality: number): Img {
  return jpegCompressionMany([x], quality)[0];
}

// ---- MNIST-C geometric and digital ----

/**
 * scikit-image `warp(x, inverse_map=AffineTransform(M, translation keeping the centre fixed))`:
 * the output pixel (col, row) reads the input at M·(col, row) + t with M·centre + t = centre;
 * bilinear, zero outside.
 */
function affineAboutCentre(x: Img, m: [number, number, number, number], shift: [number, number] = [0, 0]): Img {
  const cy = (x.h - 1) / 2;
  const cx = (x.w - 1) / 2;
  const tx = cx - m[0] * cx - m[1] * cy + shift[0];
  const ty = cy - m[2] * cx - m[3] * cy + shift[1];
  return clipImg(warp(x, (ox, oy) => [m[0] * ox + m[1] * oy + tx, m[2] * ox + m[3] * oy + ty], 'zero'));
}

const sign = (rng: Rng) => (rng.uniform() < 0.5 ? -1 : 1);

/** Shear by ±`amount` (scikit-image's shear angle in radians, random sign) about the centre. */
export function shear(x: Img, amount: number, rng: Rng): Img {
  const s = amount * sign(rng);
  return affineAboutCentre(x, [1, -Math.sin(s), 0, Math.cos(s)]);
}

/** Shrinks about the centre by `factor` (< 1): the inverse map scales by 1/factor. */
export function scale(x: Img, factor: number): Img {
  return affineAboutCentre(x, [1 / factor, 0, 0, 1 / factor]);
}

/** Rotation by ±`radians` (random sign) about the centre. */
export function rotate(x: Img, radians: number, rng: Rng): Img {
  const r = radians * sign(rng);
  return affineAboutCentre(x, [Math.cos(r), -Math.sin(r), Math.sin(r), Math.cos(r)]);
}

/** Shift by ±`pixels` horizontally and ±`pixels` vertically (independent random signs), zero fill. */
export function translate(x: Img, pixels: number, rng: Rng): Img {
  const dx = pixels * sign(rng);
  const dy = pixels * sign(rng);
  return affineAboutCentre(x, [1, 0, 0, 1], [dx, dy]);
}

/** Inverts the `width` leftmost and rightmost columns (MNIST-C uses 7 of 28). */
export function stripe(x: Img, width: number): Img {
  return mapValues(x, (v, i) => {
    const col = Math.floor(i / x.c) % x.w;
    return col < width || col >= x.w - width ? 1 - v : v;
  });
}

/** MNIST-C's soft line profile log(1 − d/2.3) + 1 (clipped at 0) at distance d from the line. */
function lineProfile(d: number): number {
  return Math.max(0, Math.log(1 - Math.min(d, 2.3 - 1e-10) / 2.3) + 1);
}

/** Distance from (px, py) to the segment (ax, ay)–(bx, by). */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(px - ax - t * vx, py - ay - t * vy);
}

/**
 * A zigzag stroke across the image (MNIST-C's `zigzag`: half-period 2 px, amplitude 2 px, from
 * column 2 to side − 3, a random start row and slope), drawn with MNIST-C's line profile at
 * `intensity` and added.
 */
export function zigzag(x: Img, intensity: number, rng: Rng): Img {
  const { h, w, c } = x;
  const r0 = 2 + rng.int(h - 4);
  const drop = rng.int(10) - 5;
  const c0 = 2;
  const c1 = w - 3;
  const points: Array<[number, number]> = [];
  for (let col = c0, k = 0; col <= c1; col += 2, k++) {
    const base = r0 + (drop * (col - c0)) / (c1 - c0);
    points.push([col, base + (k % 2 === 0 ? -1 : 1)]);
  }
  const out = image(h, w, c);
  for (let yy = 0; yy < h; yy++) {
    for (let xx = 0; xx < w; xx++) {
      let d = Infinity;
      for (let s = 0; s + 1 < points.length; s++) d = Math.min(d, segmentDistance(xx, yy, ...points[s], ...points[s + 1]));
      const line = intensity * lineProfile(d);
      for (let ch = 0; ch < c; ch++) out.data[(yy * w + xx) * c + ch] = clip01(x.data[(yy * w + xx) * c + ch] + line);
    }
  }
  return out;
}

/**
 * scikit-image `canny(x, sigma=1)` edges (Gaussian σ 1, Sobel, thresholds 0.1 / 0.2), blended
 * over the image with weight `amount` (1 = the edge map alone, as MNIST-C).
 */
export function cannyEdges(x: Img, amount: number): Img {
  const g = image(x.h, x.w, 1);
  for (let q = 0; q < x.h * x.w; q++) g.data[q] = grey(x, q);
  const edges = canny(gaussianFilter(g, 1, 'nearest'), { low: 0.1, high: 0.2, l1: false });
  return mapValues(x, (v, i) => (1 - amount) * v + amount * edges[Math.floor(i / x.c)]);
}
