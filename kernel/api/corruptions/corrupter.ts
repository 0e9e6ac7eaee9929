/**
 * Applying a corruption of a suite at a severity to images, with per-image seeded generators.
 */
import { ArgumentError } from '../errors';
import { createRng, type Rng } from '../random';
import { image, type Img } from './filters';
import { frostOverlays, locateFrost } from './frost';
import { SUITES, SUITE_NAMES, type CorruptionContext, type CorruptionSuite, type SuiteName } from './suites';

export const SEVERITIES = [1, 2, 3, 4, 5] as const;

export interface CorruptOptions {
  /** Default `cifar10c`. */
  suite?: SuiteName;
  /** Default 0. */
  seed?: number;
  /** Folder of the frost overlays (or a data root with `frost/`); otherwise found as `locateFrost` says. */
  frostDir?: string;
}

export function getSuite(name: SuiteName | string = 'cifar10c'): CorruptionSuite {
  const s = SUITES[name as SuiteName];
  if (!s) throw new ArgumentError(`unknown corruption suite "${name}"; expected one of ${SUITE_NAMES.join(', ')}`);
  return s;
}

/** Checks a corruption name against the suite; the error lists the valid names. */
export function checkCorruption(suite: CorruptionSuite, name: string): void {
  if (!suite.corruptions[name]) {
    throw new ArgumentError(`unknown corruption "${name}" for suite ${suite.name}; expected one of ${suite.names.join(', ')}`);
  }
}

export function checkSeverity(severity: number): void {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5) throw new ArgumentError(`severity must be an integer from 1 to 5, got ${severity}`);
}

function checkShape(h: number, w: number, c: number, length: number, n = 1): void {
  if (![h, w, n].every((v) => Number.isInteger(v) && v > 0)) throw new ArgumentError(`corruptions: bad image shape [${[n, h, w, c].join(', ')}]`);
  if (c !== 1 && c !== 3) throw new ArgumentError(`corruptions: images must have 1 or 3 channels, got ${c}`);
  if (length !== n * h * w * c) throw new ArgumentError(`corruptions: ${length} values do not match shape [${[n, h, w, c].join(', ')}] (${n * h * w * c} values)`);
}

/** A corruption bound to a suite, name and severity, applied image by image. */
export class Corrupter {
  readonly suite: CorruptionSuite;
  private readonly frostDir?: string;
  private overlays?: Img[];

  constructor(suite: SuiteName | string = 'cifar10c', options: { frostDir?: string } = {}) {
    this.suite = getSuite(suite);
    this.frostDir = options.frostDir;
  }

  /** Corrupts one HWC image with the given generator. */
  apply(x: Float32Array, shape: [number, number, number], name: string, severity: number, rng: Rng): Float32Array {
    checkCorruption(this.suite, name);
    checkSeverity(severity);
    const [h, w, c] = shape;
    checkShape(h, w, c, x.length);
    const spec = this.suite.corruptions[name];
    const ctx: CorruptionContext = { rng, frost: () => (this.overlays ??= frostOverlays(locateFrost({ dir: this.frostDir }))) };
    return spec.apply(image(h, w, c, x), spec.levels[severity - 1], ctx).data;
  }

  /** The generator of image `index` for (seed, corruption, severity). */
  rngFor(seed: number, name: string, severity: number, index: number): Rng {
    return createRng(seed).fork(`${this.suite.name}/${name}/${severity}/${index}`);
  }

  /**
   * Corrupts several HWC images of one shape; image i draws from `rngOf(i)`. The same as calling
   * `apply` on each, but corruptions that are cheaper in bulk (JPEG) run once for all.
   */
  applyMany(xs: Float32Array[], shape: [number, number, number], name: string, severity: number, rngOf: (i: number) => Rng): Float32Array[] {
    checkCorruption(this.suite, name);
    checkSeverity(severity);
    const [h, w, c] = shape;
    for (const x of xs) checkShape(h, w, c, x.length);
    const spec = this.suite.corruptions[name];
    if (spec.applyMany && xs.length > 0) return spec.applyMany(xs.map((x) => image(h, w, c, x)), spec.levels[severity - 1]).map((im) => im.data);
    return xs.map((x, i) => this.apply(x, shape, name, severity, rngOf(i)));
  }

  /** Corrupts a batch [n, h, w, c]; image i uses `rngFor(seed, …, indices[i] ?? i)`. */
  applyBatch(x: Float32Array, shape: [number, number, number, number], name: string, severity: number, seed = 0, indices?: ArrayLike<number>): Float32Array {
    const [n, h, w, c] = shape;
    checkShape(h, w, c, x.length, n);
    const size = h * w * c;
    const xs = Array.from({ length: n }, (_, i) => x.subarray(i * size, (i + 1) * size));
    const out = new Float32Array(x.length);
    this.applyMany(xs, [h, w, c], name, severity, (i) => this.rngFor(seed, name, severity, indices ? indices[i] : i)).forEach((im, i) => out.set(im, i * size));
    return out;
  }

  /** Whether `name` draws no random numbers and runs in bulk (`applyMany` then costs one call). */
  isBulk(name: string): boolean {
    return this.suite.corruptions[name]?.applyMany !== undefined;
  }
}

/** Corrupts one HWC image in [0, 1] (a new array; the input is not changed). */
export function corrupt(x: Float32Array, shape: [number, number, number], name: string, severity: number, options: CorruptOptions = {}): Float32Array {
  const c = new Corrupter(options.suite, { frostDir: options.frostDir });
  return c.apply(x, shape, name, severity, c.rngFor(options.seed ?? 0, name, severity, 0));
}

/** Corrupts a batch [n, h, w, c] in [0, 1]; image i gets the generator of index i. */
export function corruptBatch(x: Float32Array, shape: [number, number, number, number], name: string, severity: number, options: CorruptOptions = {}): Float32Array {
  return new Corrupter(options.suite, { frostDir: options.frostDir }).applyBatch(x, shape, name, severity, options.seed ?? 0);
}
