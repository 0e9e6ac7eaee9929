/**
 * The two corruption suites and their per-severity parameters.
 *
 * `cifar10c`: the 15 CIFAR-10-C corruptions of Hendrycks & Dietterich (2019) and the 4 extra
 * ones, with the parameters of Hendrycks' CIFAR generator (`make_cifar_c.py`). The paper
 * (Section 6 / Table 1 of the first version) learns its CIFAR-10-C perturbation set from 12 of
 * them at severity 5 and holds out gaussian_blur, spatter and saturate as the out-of-distribution
 * test; the four noise corruptions are used nowhere.
 *
 * `mnistc`: the MNIST analogue, 15 grey-image corruptions in the spirit of MNIST-C (Mu & Gilmer
 * 2019). MNIST-C applies each at one fixed strength; here severity 5 is that strength and
 * severities 1–4 are milder steps toward it (for corruptions MNIST-C gives five levels, the levels
 * below its default). The split mirrors the paper's: the held-out three are each of a family that
 * training covers by other mechanisms (blur, occluding blobs, a pixel-wise intensity change) but
 * of a kind training never shows — gaussian_blur (training blurs are glass and motion blur),
 * spatter (opaque blobs; training's fog and zigzag are additive) and canny_edges (strokes
 * replaced by their outlines; training's brightness and stripe only shift or invert values).
 */
import type { Rng } from '../random';
import type { Img } from './filters';
import * as ops from './ops';

export type CorruptionFamily = 'noise' | 'blur' | 'weather' | 'digital' | 'geometric';

export interface CorruptionContext {
  rng: Rng;
  /** The frost overlays (loaded on first use; only `frost` calls it). */
  frost: () => Img[];
}

export interface CorruptionSpec {
  name: string;
  family: CorruptionFamily;
  /** Parameters of severities 1–5, as plain JSON (for `describe` and the docs). */
  levels: readonly unknown[];
  apply(x: Img, params: unknown, ctx: CorruptionContext): Img;
  /** Many images at once, for corruptions that draw no random numbers and are cheaper in bulk (JPEG). */
  applyMany?(xs: Img[], params: unknown): Img[];
}

function spec<P>(name: string, family: CorruptionFamily, levels: readonly P[], apply: (x: Img, p: P, ctx: CorruptionContext) => Img): CorruptionSpec {
  return { name, family, levels, apply: apply as CorruptionSpec['apply'] };
}

/**
 * NumPy's `np.arange(1, stop, 0.01)`, float quirks included: the reference's stops 1.06, 1.11,
 * 1.16, 1.21, 1.26 give 7, 12, 16, 21 and 26 zoom factors (up to 1.06, 1.11, 1.15, 1.20, 1.25).
 */
const zooms = (stop: number) => Array.from({ length: Math.ceil((stop - 1) / 0.01) }, (_, i) => 1 + i * 0.01);

const CIFAR10C_LIST: CorruptionSpec[] = [
  spec('gaussian_noise', 'noise', [0.04, 0.06, 0.08, 0.09, 0.1], (x, s, { rng }) => ops.gaussianNoise(x, s, rng)),
  spec('shot_noise', 'noise', [500, 250, 100, 75, 50], (x, c, { rng }) => ops.shotNoise(x, c, rng)),
  spec('impulse_noise', 'noise', [0.01, 0.02, 0.03, 0.05, 0.07], (x, a, { rng }) => ops.impulseNoise(x, a, rng)),
  spec('defocus_blur', 'blur', [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]].map(([radius, aliasBlur]) => ({ radius, aliasBlur })), (x, p) => ops.defocusBlur(x, p)),
  spec(
    'glass_blur',
    'blur',
    [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]].map(([sigma, delta, iterations]) => ({ sigma, delta, iterations, swap: false })),
    (x, p, { rng }) => ops.glassBlur(x, p, rng),
  ),
  spec('motion_blur', 'blur', [[6, 1], [6, 1.5], [6, 2], [8, 2], [9, 2.5]].map(([radius, sigma]) => ({ radius, sigma })), (x, p, { rng }) => ops.motionBlurOp(x, p, rng)),
  spec('zoom_blur', 'blur', [1.06, 1.11, 1.16, 1.21, 1.26].map(zooms), (x, z) => ops.zoomBlur(x, z)),
  spec(
    'snow',
    'weather',
    [
      [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
      [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
      [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
      [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
    ].map(([mean, std, zoom, threshold, blurRadius, blurSigma, mix]) => ({ mean, std, zoom, threshold, blurRadius, blurSigma, mix })),
    (x, p, { rng }) => ops.snow(x, p, rng),
  ),
  spec('frost', 'weather', [[1, 0.2], [1, 0.3], [0.9, 0.4], [0.85, 0.4], [0.75, 0.45]].map(([a, b]) => ({ a, b })), (x, p, { rng, frost }) => ops.frost(x, p, rng, frost())),
  spec('fog', 'weather', [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]].map(([t, decay]) => ({ t, decay, mapSize: 32 })), (x, p, { rng }) => ops.fog(x, p, rng)),
  spec('brightness', 'weather', [0.05, 0.1, 0.15, 0.2, 0.3], (x, c) => ops.brightness(x, c)),
  spec('contrast', 'digital', [0.75, 0.5, 0.4, 0.3, 0.15], (x, c) => ops.contrast(x, c)),
  spec(
    'elastic_transform',
    'digital',
    [[0, 0, 0.08], [0.05, 0.2, 0.07], [0.08, 0.06, 0.06], [0.1, 0.04, 0.05], [0.1, 0.03, 0.03]].map(([alpha, sigma, jitter]) => ({ alpha, sigma, jitter })),
    (x, p, { rng }) => ops.elasticTransform(x, p, rng),
  ),
  spec('pixelate', 'digital', [0.95, 0.9, 0.85, 0.75, 0.65], (x, c) => ops.pixelate(x, c)),
  { ...spec('jpeg_compression', 'digital', [80, 65, 58, 50, 40], (x, q) => ops.jpegCompression(x, q)), applyMany: (xs, q) => ops.jpegCompressionMany(xs, q as number) },
  // The four "extra" corruptions.
  spec('speckle_noise', 'noise', [0.06, 0.1, 0.12, 0.16, 0.2], (x, s, { rng }) => ops.speckleNoise(x, s, rng)),
  spec('gaussian_blur', 'blur', [0.4, 0.6, 0.7, 0.8, 1], (x, s) => ops.gaussianBlur(x, s)),
  spec(
    'spatter',
    'weather',
    [
      [0.62, 0.1, 0.7, 0.7, 0.5, 'water'],
      [0.65, 0.1, 0.8, 0.7, 0.5, 'water'],
      [0.65, 0.3, 1, 0.69, 0.5, 'water'],
      [0.65, 0.1, 0.7, 0.69, 0.6, 'mud'],
      [0.65, 0.1, 0.5, 0.68, 0.6, 'mud'],
    ].map(([mean, std, sigma, threshold, k, mode]) => ({ mean, std, sigma, threshold, k, mode }) as ops.SpatterParams),
    (x, p, { rng }) => ops.spatter(x, p, rng),
  ),
  spec('saturate', 'digital', [[0.3, 0], [0.1, 0], [1.5, 0], [2, 0.1], [2.5, 0.2]].map(([scale, offset]) => ({ scale, offset })), (x, p) => ops.saturate(x, p)),
];

const MNISTC_LIST: CorruptionSpec[] = [
  spec('shot_noise', 'noise', [60, 25, 12, 5, 3], (x, c, { rng }) => ops.shotNoise(x, c, rng)),
  spec('impulse_noise', 'noise', [0.03, 0.06, 0.09, 0.13, 0.17], (x, a, { rng }) => ops.impulseNoise(x, a, rng)),
  spec(
    'glass_blur',
    'blur',
    [[0.3, 1, 1], [0.4, 1, 1], [0.5, 1, 2], [0.6, 1, 2], [0.7, 1, 2]].map(([sigma, delta, iterations]) => ({ sigma, delta, iterations, swapProbability: 0.5, swap: true })),
    (x, p, { rng }) => ops.glassBlur(x, p, rng),
  ),
  spec('motion_blur', 'blur', [[6, 1], [7, 1.5], [8, 2], [9, 2.5], [10, 3]].map(([radius, sigma]) => ({ radius, sigma })), (x, p, { rng }) => ops.motionBlurOp(x, p, rng)),
  spec('shear', 'geometric', [0.08, 0.16, 0.24, 0.32, 0.4], (x, s, { rng }) => ops.shear(x, s, rng)),
  spec('scale', 'geometric', [0.9, 0.85, 0.8, 0.75, 0.7], (x, f) => ops.scale(x, f)),
  spec('rotate', 'geometric', [0.08, 0.16, 0.24, 0.32, 0.4], (x, r, { rng }) => ops.rotate(x, r, rng)),
  spec('translate', 'geometric', [1, 1, 2, 2, 3], (x, p, { rng }) => ops.translate(x, p, rng)),
  spec('brightness', 'digital', [0.1, 0.2, 0.3, 0.4, 0.5], (x, c) => ops.brightness(x, c)),
  spec('stripe', 'digital', [3, 4, 5, 6, 7], (x, wd) => ops.stripe(x, wd)),
  spec('fog', 'weather', [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]].map(([t, decay]) => ({ t, decay, mapSize: 256 })), (x, p, { rng }) => ops.fog(x, p, rng)),
  spec('zigzag', 'weather', [0.2, 0.4, 0.6, 0.8, 1], (x, a, { rng }) => ops.zigzag(x, a, rng)),
  // Held out.
  spec('gaussian_blur', 'blur', [0.6, 0.9, 1.2, 1.6, 2], (x, s) => ops.gaussianBlur(x, s)),
  spec(
    'spatter',
    'weather',
    [0.7, 0.69, 0.68, 0.67, 0.65].map((threshold) => ({ mean: 0.65, std: 0.3, sigma: 1, threshold, k: 1.5, mode: 'mud' }) as ops.SpatterParams),
    (x, p, { rng }) => ops.spatter(x, p, rng),
  ),
  spec('canny_edges', 'digital', [0.2, 0.4, 0.6, 0.8, 1], (x, a) => ops.cannyEdges(x, a)),
];

export type SuiteName = 'cifar10c' | 'mnistc';
export const SUITE_NAMES: readonly SuiteName[] = ['cifar10c', 'mnistc'];

export interface CorruptionSuite {
  name: SuiteName;
  title: string;
  corruptions: Readonly<Record<string, CorruptionSpec>>;
  /** Every corruption, in the suite's order. */
  names: readonly string[];
  /** The paper's protocol: the perturbation set and the augmentation baselines learn from `train`, `heldOut` is the OOD test. */
  train: readonly string[];
  heldOut: readonly string[];
  /** The severity the protocol uses (the paper: 5 only). */
  protocolSeverity: number;
}

function suite(name: SuiteName, title: string, list: CorruptionSpec[], train: string[], heldOut: string[]): CorruptionSuite {
  return { name, title, corruptions: Object.fromEntries(list.map((c) => [c.name, c])), names: list.map((c) => c.name), train, heldOut, protocolSeverity: 5 };
}

export const SUITES: Readonly<Record<SuiteName, CorruptionSuite>> = {
  cifar10c: suite(
    'cifar10c',
    'CIFAR-10-C (Hendrycks & Dietterich 2019)',
    CIFAR10C_LIST,
    ['defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur', 'snow', 'frost', 'fog', 'brightness', 'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression'],
    ['gaussian_blur', 'spatter', 'saturate'],
  ),
  mnistc: suite(
    'mnistc',
    'MNIST OOD analogue (in the spirit of MNIST-C, Mu & Gilmer 2019)',
    MNISTC_LIST,
    ['shot_noise', 'impulse_noise', 'glass_blur', 'motion_blur', 'shear', 'scale', 'rotate', 'translate', 'brightness', 'stripe', 'fog', 'zigzag'],
    ['gaussian_blur', 'spatter', 'canny_edges'],
  ),
};
