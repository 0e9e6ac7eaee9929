/**
 * How much of an RTS set is rotation, scaling and translation: for each sample of S(x), the
 * similarity transform (angle, scale, shift) whose warp of x best explains it, found by gradient
 * descent through the differentiable bilinear sampler, and the spread of those parameters across
 * the samples of each image. A set whose samples are recognisably rotated, scaled and shifted
 * digits has angle and shift spreads near the perturbation's own (RTS at ±45°, 0.7–1.3, ±7 px:
 * std 26°, 0.17 and 4.3 px) and a small fit error; blurred blobs fit badly whatever the angle.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { affineGridSample } from '../models/bilinear-sampler';
import type { PerturbationSet } from '../models/perturbation-set';

export interface AffineFitOptions {
  /** Gradient steps (default 80): the first half on blurred images, the rest on the images themselves. */
  steps?: number;
  /** Adam's step size on (angle in radians, log scale, shift in half-widths) (default 0.05). */
  learningRate?: number;
  /** Standard deviation in pixels of the Gaussian blur of the first half (default 2; 0: no blur). */
  blur?: number;
  /**
   * Weight of a pull towards the identity, λ·(angle² + log scale² + shift²), added to each
   * target's per-pixel MSE (default 1e-2). Where the error is flat (a blob, or a sample that no
   * warp of x explains), Adam's normalised steps would otherwise wander, and identical samples
   * would get different fits; a digit's error gradients are far larger than the pull.
   */
  identityWeight?: number;
  signal?: AbortSignal;
}

/** The fitted transform of each target: warp(x, ·) rotated by `angle`, scaled by `scale`, shifted by (`tx`, `ty`). */
export interface AffineFit {
  /** Degrees, positive = clockwise on screen (torchvision's convention, as the RTS perturbation). */
  angle: Float32Array;
  scale: Float32Array;
  /** Shift in pixels (x right, y down). */
  tx: Float32Array;
  ty: Float32Array;
  /** Per-pixel mean squared error of the fitted warp against the target. */
  error: Float32Array;
  /** The same error at the identity (x itself against the target), where the fit starts. */
  identityError: Float32Array;
}

/** A normalised 2-D Gaussian as a depthwise filter [k, k, c, 1]. */
function gaussianFilter(sigma: number, channels: number): tf.Tensor4D {
  const r = Math.max(1, Math.ceil(2.5 * sigma));
  const g1 = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = g1.reduce((a, b) => a + b, 0) ** 2;
  const k = 2 * r + 1;
  const values = new Float32Array(k * k * channels);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < channels; c++) values[(i * k + j) * channels + c] = (g1[i] * g1[j]) / sum;
  return tf.tensor4d(values, [k, k, channels, 1]);
}

/**
 * Fits, for target i, the similarity transform T_i that minimises ‖warp(x_⌊i/k⌋, T_i) − target_i‖²
 * (k = targets / images), from the identity, all targets at once. `x` is [m, h, w, c], `targets`
 * [m·k, h, w, c], image-major (as `PerturbationSet.sample` returns them).
 */
export async function fitAffine(x: tf.Tensor4D, targets: tf.Tensor4D, options: AffineFitOptions = {}): Promise<AffineFit> {
  const steps = options.steps ?? 80;
  const lr = options.learningRate ?? 0.05;
  const sigma = options.blur ?? 2;
  const lambda = options.identityWeight ?? 1e-2;
  if (!(lambda >= 0)) throw new ArgumentError(`fitAffine: identityWeight must be >= 0, got ${lambda}`);
  if (!Number.isInteger(steps) || steps < 1) throw new ArgumentError(`fitAffine: steps must be an integer >= 1, got ${steps}`);
  if (!(lr > 0)) throw new ArgumentError(`fitAffine: learningRate must be > 0, got ${lr}`);
  if (!(sigma >= 0)) throw new ArgumentError(`fitAffine: blur must be >= 0, got ${sigma}`);
  const [m, h, w, c] = x.shape;
  const n = targets.shape[0];
  if (x.rank !== 4 || targets.rank !== 4 || targets.shape[1] !== h || targets.shape[2] !== w || targets.shape[3] !== c || n % m !== 0) {
    throw new ArgumentError(`fitAffine: targets must be [k·${m}, ${h}, ${w}, ${c}] for x [${x.shape}], got [${targets.shape}]`);
  }
  const k = n / m;
  const source = tf.tidy(() => tf.reshape(tf.tile(tf.expandDims(x, 1), [1, k, 1, 1, 1]), [n, h, w, c]) as tf.Tensor4D);
  const blurred = tf.tidy(() => {
    if (sigma === 0) return { source: source.clone(), targets: targets.clone() };
    const f = gaussianFilter(sigma, c);
    return { source: tf.depthwiseConv2d(source, f, 1, 'same'), targets: tf.depthwiseConv2d(targets, f, 1, 'same') };
  });
  // From the identity (tidy disposes the zeros; variables outlive it).
  const [angle, logScale, shiftX, shiftY] = tf.tidy(() => [0, 1, 2, 3].map(() => tf.variable(tf.zeros([n]))));
  const vars = [angle, logScale, shiftX, shiftY];
  // The sampler reads input coordinates from output ones, so θ is the inverse of the fitted map
  // q = s·R(a)·p + t: p = R(−a)(q − t)/s.
  const theta = (): tf.Tensor2D => tf.tidy(() => {
    const cos = tf.cos(angle);
    const sin = tf.sin(angle);
    const inv = tf.exp(tf.neg(logScale));
    const a = tf.mul(cos, inv);
    const b = tf.mul(sin, inv);
    const t0 = tf.neg(tf.add(tf.mul(a, shiftX), tf.mul(b, shiftY)));
    const t1 = tf.neg(tf.sub(tf.mul(a, shiftY), tf.mul(b, shiftX)));
    return tf.stack([a, b, t0, tf.neg(b), a, t1], 1) as tf.Tensor2D;
  });
  const perPixel = (src: tf.Tensor4D, tgt: tf.Tensor4D): tf.Tensor1D =>
    tf.mean(tf.reshape(tf.squaredDifference(affineGridSample(src, theta()), tgt), [n, -1]), 1) as tf.Tensor1D;
  // Adam's ε well above the float noise of a flat error: there, steps shrink instead of being
  // normalised to full size in whatever direction the noise points.
  const optimizer = tf.train.adam(lr, 0.9, 0.999, 1e-4);
  try {
    const start = tf.tidy(() => perPixel(source, targets));
    const identityError = (await start.data()) as Float32Array;
    start.dispose();
    for (let step = 0; step < steps; step++) {
      await yieldToEventLoop();
      if (options.signal?.aborted) throw new InterruptedError('affine fit aborted');
      throwIfInterrupted('affine fit');
      const coarse = step < Math.floor(steps / 2);
      const src = coarse ? blurred.source : source;
      const tgt = coarse ? blurred.targets : targets;
      // Summed over targets: each target's parameters get their own error's gradient.
      const cost = optimizer.minimize(() => {
        const pull = tf.addN(vars.map((v) => tf.square(v)));
        return tf.sum(tf.add(perPixel(src, tgt), tf.mul(pull, lambda))) as tf.Scalar;
      }, false, vars);
      cost?.dispose();
    }
    const error = tf.tidy(() => perPixel(source, targets));
    const [a, l, sx, sy, e] = await Promise.all([angle.data(), logScale.data(), shiftX.data(), shiftY.data(), error.data()]);
    error.dispose();
    return {
      angle: Float32Array.from(a, (v) => (v * 180) / Math.PI),
      scale: Float32Array.from(l, Math.exp),
      tx: Float32Array.from(sx, (v) => (v * w) / 2),
      ty: Float32Array.from(sy, (v) => (v * h) / 2),
      error: e as Float32Array,
      identityError,
    };
  } finally {
    optimizer.dispose();
    tf.dispose([source, blurred.source, blurred.targets, ...vars]);
  }
}

export interface AffineSpreadOptions extends AffineFitOptions {
  /** Samples of S(x) per image (default 8). */
  samples?: number;
  /** Seed of the prior draws (default 0). */
  seed?: number;
}

/** Spread across the samples of each image of the fitted transforms, averaged over the images. */
export interface AffineSpread {
  /** Standard deviation of the fitted angle (degrees). */
  angle: number;
  /** Standard deviation of the fitted scale. */
  scale: number;
  /** Standard deviation of the fitted shift per axis, the two axes' variances averaged (pixels). */
  translation: number;
  /** Mean per-pixel squared error of the fitted warps (how well a rigid RTS explains the samples). */
  fitError: number;
  /**
   * The same error of x itself (no warp). The spreads describe poses only when `fitError` is well
   * below it; a fit error close to it means no warp of x explains the samples (blobs), and the
   * fitted parameters are then arbitrary.
   */
  identityFitError: number;
  /** Samples per image and images. */
  samples: number;
  images: number;
}

/** Population standard deviation of each group of `k` consecutive values, averaged over groups. */
function meanGroupStd(values: Float32Array, k: number, transform: (v: number) => number = (v) => v): number {
  return Math.sqrt(meanGroupVariance(values, k, transform));
}

function meanGroupVariance(values: Float32Array, k: number, transform: (v: number) => number = (v) => v): number {
  const groups = values.length / k;
  let total = 0;
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    for (let j = 0; j < k; j++) mean += transform(values[g * k + j]);
    mean /= k;
    let sq = 0;
    for (let j = 0; j < k; j++) sq += (transform(values[g * k + j]) - mean) ** 2;
    total += sq / k;
  }
  return total / groups;
}

/** The spread of an `AffineFit` of k targets per image. */
export function summarizeAffineFit(fit: AffineFit, k: number): AffineSpread {
  if (!Number.isInteger(k) || k < 2 || fit.angle.length % k !== 0) throw new ArgumentError(`summarizeAffineFit: ${fit.angle.length} fits are not groups of k = ${k} >= 2`);
  const mean = fit.error.reduce((a, b) => a + b, 0) / fit.error.length;
  const identity = fit.identityError.reduce((a, b) => a + b, 0) / fit.identityError.length;
  return {
    angle: meanGroupStd(fit.angle, k),
    scale: meanGroupStd(fit.scale, k),
    translation: Math.sqrt((meanGroupVariance(fit.tx, k) + meanGroupVariance(fit.ty, k)) / 2),
    fitError: mean,
    identityFitError: identity,
    samples: k,
    images: fit.angle.length / k,
  };
}

/** Draws `samples` members of S(x) per image of `x` and measures the spread of the transforms that explain them. */
export async function affineSpread(set: PerturbationSet, x: tf.Tensor4D, options: AffineSpreadOptions = {}): Promise<AffineSpread> {
  const k = options.samples ?? 8;
  if (!Number.isInteger(k) || k < 2) throw new ArgumentError(`affineSpread: samples must be an integer >= 2, got ${k}`);
  const samples = set.sample(x, k, { seed: options.seed ?? 0 });
  try {
    return summarizeAffineFit(await fitAffine(x, samples, options), k);
  } finally {
    samples.dispose();
  }
}
