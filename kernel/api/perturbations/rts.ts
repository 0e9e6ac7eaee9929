/**
 * RTS (rotation, scaling, translation) as the reference's `rts`, which chains torchvision's
 * `RandomAffine(angle, scale=scale, fill 0)` (nearest neighbour, rotation about the image centre)
 * and `RandomCrop(crop_sz, padding)` (zero padding, then an integer-offset crop = translation by
 * up to ±padding pixels). The input is the already padded canvas (MNIST 28 + 2·7 = 42).
 *
 * The warp follows torchvision ≥ 0.8 on PIL images: centre (w/2, h/2); the output pixel (x, y)
 * reads the input at floor(M · (x + 0.5, y + 0.5)) with M the inverse of rotation·scale, so a
 * positive angle turns the image clockwise on screen (torchvision's `affine` convention; the
 * sampled angle is symmetric, so the direction does not change the distribution).
 */
import { ArgumentError } from '../errors';
import type { Rng } from '../random';
import { checkSize } from './linf';
import type { Perturbation, Shape4 } from './types';

export interface RtsOptions {
  /** Rotation drawn from U[−angle, angle] degrees. Default 45. */
  angle?: number;
  /** Scale drawn from U[scale[0], scale[1]]. Default [0.7, 1.3]. */
  scale?: [number, number];
  /** Output side of the random crop. Default: the input side (42 for the padded MNIST canvas). */
  cropSize?: number;
  /** Zero padding before the crop = the largest translation in pixels. Default 7. */
  padding?: number;
}

/** One RTS draw. The crop offsets are in [0, side + 2·padding − cropSize]; the translation is offset − padding. */
export interface RtsParams {
  angle: number;
  scale: number;
  cropTop: number;
  cropLeft: number;
}

/**
 * Nearest-neighbour affine warp (rotation by `angleDeg` about the centre, scaling by `scale`) of
 * one HWC image, zero outside. `out` receives the result (same size as `src`).
 */
export function affineNearest(src: ArrayLike<number>, h: number, w: number, c: number, angleDeg: number, scale: number, out: Float32Array): Float32Array {
  const rad = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(rad) / scale;
  const sin = Math.sin(rad) / scale;
  const cx = w * 0.5;
  const cy = h * 0.5;
  for (let y = 0; y < h; y++) {
    const dy = y + 0.5 - cy;
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - cx;
      const sx = Math.floor(cos * dx + sin * dy + cx);
      const sy = Math.floor(-sin * dx + cos * dy + cy);
      const o = (y * w + x) * c;
      if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
        const s = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) out[o + k] = src[s + k];
      } else {
        for (let k = 0; k < c; k++) out[o + k] = 0;
      }
    }
  }
  return out;
}

/**
 * `RandomCrop(cropSize, padding)` with a chosen offset: pad the HWC image by `padding` zeros on
 * every side and cut the cropSize×cropSize window whose top-left corner is (cropTop, cropLeft).
 */
export function padCrop(src: ArrayLike<number>, h: number, w: number, c: number, padding: number, cropSize: number, cropTop: number, cropLeft: number, out: Float32Array): Float32Array {
  for (let y = 0; y < cropSize; y++) {
    const sy = y + cropTop - padding;
    for (let x = 0; x < cropSize; x++) {
      const sx = x + cropLeft - padding;
      const o = (y * cropSize + x) * c;
      if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
        const s = (sy * w + sx) * c;
        for (let k = 0; k < c; k++) out[o + k] = src[s + k];
      } else {
        for (let k = 0; k < c; k++) out[o + k] = 0;
      }
    }
  }
  return out;
}

export class RtsPerturbation implements Perturbation {
  readonly type: string = 'rts';
  readonly angle: number;
  readonly scale: [number, number];
  readonly cropSize?: number;
  readonly padding: number;

  constructor(options: RtsOptions = {}) {
    this.angle = options.angle ?? 45;
    this.scale = options.scale ?? [0.7, 1.3];
    this.cropSize = options.cropSize;
    this.padding = options.padding ?? 7;
    if (!(this.angle >= 0 && this.angle <= 180)) throw new ArgumentError(`rts: angle must be in [0, 180] degrees, got ${options.angle}`);
    const [lo, hi] = this.scale;
    if (!(lo > 0 && hi >= lo)) throw new ArgumentError(`rts: scale must be [low, high] with 0 < low <= high, got [${this.scale.join(', ')}]`);
    if (!Number.isInteger(this.padding) || this.padding < 0) throw new ArgumentError(`rts: padding must be an integer >= 0, got ${options.padding}`);
    if (this.cropSize !== undefined && (!Number.isInteger(this.cropSize) || this.cropSize < 1)) {
      throw new ArgumentError(`rts: cropSize must be an integer >= 1, got ${options.cropSize}`);
    }
  }

  describe(): Record<string, unknown> {
    return { type: this.type, angle: this.angle, scale: [...this.scale], cropSize: this.cropSize ?? 'input side', padding: this.padding, interpolation: 'nearest', fill: 0 };
  }

  outputShape(shape: Shape4): Shape4 {
    const crop = this.cropFor(shape);
    return [shape[0], crop, crop, shape[3]];
  }

  /** Draws one set of parameters for images of `shape` (order: angle, scale, crop top, crop left). */
  sampleParams(rng: Rng, shape: Shape4): RtsParams {
    const crop = this.cropFor(shape);
    const angle = rng.uniformRange(-this.angle, this.angle);
    const scale = rng.uniformRange(this.scale[0], this.scale[1]);
    const cropTop = rng.int(shape[1] + 2 * this.padding - crop + 1);
    const cropLeft = rng.int(shape[2] + 2 * this.padding - crop + 1);
    return { angle, scale, cropTop, cropLeft };
  }

  /** Applies fixed parameters to image `n` of the batch, writing into `out` at image `n`. */
  applyParams(x: Float32Array, shape: Shape4, n: number, params: RtsParams, out: Float32Array, scratch?: Float32Array): void {
    const [, h, w, c] = shape;
    const crop = this.cropFor(shape);
    const size = h * w * c;
    const warped = scratch ?? new Float32Array(size);
    affineNearest(x.subarray(n * size, (n + 1) * size), h, w, c, params.angle, params.scale, warped);
    const outSize = crop * crop * c;
    padCrop(warped, h, w, c, this.padding, crop, params.cropTop, params.cropLeft, out.subarray(n * outSize, (n + 1) * outSize));
  }

  perturbBatch(x: Float32Array, shape: Shape4, rng: Rng, sourceIndices?: ArrayLike<number>): Float32Array {
    checkSize(x, shape, this.type);
    const out = new Float32Array(this.outputShape(shape).reduce((a, b) => a * b, 1));
    const scratch = new Float32Array(shape[1] * shape[2] * shape[3]);
    for (let n = 0; n < shape[0]; n++) this.applyParams(x, shape, n, this.paramsFor(rng, shape, n, sourceIndices), out, scratch);
    return out;
  }

  /** Parameters for image `n`: a fresh draw (the limited variant overrides this with its bank). */
  protected paramsFor(rng: Rng, shape: Shape4, _n: number, _sourceIndices?: ArrayLike<number>): RtsParams {
    return this.sampleParams(rng, shape);
  }

  protected cropFor(shape: Shape4): number {
    const crop = this.cropSize ?? shape[1];
    if (shape[1] !== shape[2]) throw new ArgumentError(`${this.type}: expects square images, got ${shape[1]}x${shape[2]}`);
    if (crop > shape[1] + 2 * this.padding) {
      throw new ArgumentError(`${this.type}: crop size ${crop} exceeds the padded side ${shape[1]} + 2·${this.padding}`);
    }
    return crop;
  }
}
