/** The reference's `none`: x̃ = x (a copy, so callers may modify either). */
import type { Perturbation, Shape4 } from './types';
import { checkSize } from './linf';

export class IdentityPerturbation implements Perturbation {
  readonly type = 'none';

  describe(): Record<string, unknown> {
    return { type: this.type };
  }

  outputShape(shape: Shape4): Shape4 {
    return [...shape];
  }

  perturbBatch(x: Float32Array, shape: Shape4): Float32Array {
    checkSize(x, shape, this.type);
    return x.slice();
  }
}
