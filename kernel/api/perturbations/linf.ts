/**
 * ℓ∞ uniform noise, as the reference's `linfinity`: x̃ = clip(x + U(−ε, ε), min, max) per pixel.
 * The bound |x̃ − x| ≤ ε and the clipping hold exactly for the stored Float32 values: a sum that
 * rounds past the bound is moved back by one float32 step.
 */
import { ArgumentError } from '../errors';
import type { Rng } from '../random';
import type { Perturbation, Shape4 } from './types';

export interface LinfOptions {
  /** Default 0.3 (mnist_fc_linf / mnist_conv_linf). */
  epsilon?: number;
  /** Clipping range, default [0, 1]. */
  min?: number;
  max?: number;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** The float32 next to `f` in the direction of `target`. */
function stepToward(f: number, target: number): number {
  f32[0] = f;
  if (f === 0) return target > 0 ? 1.4e-45 : -1.4e-45;
  // For float32, incrementing the bit pattern moves away from zero.
  i32[0] += (target > f) === (f > 0) ? 1 : -1;
  return f32[0];
}

export class LinfPerturbation implements Perturbation {
  readonly type = 'linfinity';
  readonly epsilon: number;
  readonly min: number;
  readonly max: number;

  constructor(options: LinfOptions = {}) {
    this.epsilon = options.epsilon ?? 0.3;
    this.min = options.min ?? 0;
    this.max = options.max ?? 1;
    if (!(this.epsilon > 0) || !Number.isFinite(this.epsilon)) throw new ArgumentError(`linfinity: epsilon must be a number > 0, got ${options.epsilon}`);
    if (!(this.max > this.min)) throw new ArgumentError(`linfinity: max (${this.max}) must be > min (${this.min})`);
  }

  describe(): Record<string, unknown> {
    return { type: this.type, epsilon: this.epsilon, min: this.min, max: this.max };
  }

  outputShape(shape: Shape4): Shape4 {
    return [...shape];
  }

  perturbBatch(x: Float32Array, shape: Shape4, rng: Rng): Float32Array {
    checkSize(x, shape, this.type);
    const { epsilon: eps, min, max } = this;
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      let v = Math.fround(xi + rng.uniformRange(-eps, eps));
      while (Math.abs(v - xi) > eps) v = stepToward(v, xi);
      out[i] = v < min ? min : v > max ? max : v;
    }
    return out;
  }
}

export function checkSize(x: Float32Array, shape: Shape4, who: string): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (x.length !== n) throw new ArgumentError(`${who}: batch of ${x.length} values does not match shape [${shape.join(', ')}] (${n} values)`);
}
