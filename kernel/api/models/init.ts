/**
 * PyTorch's default initialisation, reproduced from a seed. `nn.Linear` and `nn.Conv2d` draw
 * weights from kaiming-uniform with a = √5, whose bound works out to 1/√fanIn, and biases from
 * U(−1/√fanIn, 1/√fanIn); so both are uniform on the same interval.
 *
 * Values come from our seeded JS generator (not tfjs's), forked per variable name, so a given
 * (seed, name) pair yields the same numbers on every backend and in any construction order.
 */
import { createRng } from '../random';

/** Uniform values on (−1/√fanIn, 1/√fanIn), seeded by (seed, variable name). */
export function torchDefaultUniform(seed: number, name: string, size: number, fanIn: number): Float32Array {
  const rng = createRng(seed).fork(name);
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.uniformRange(-bound, bound);
  return out;
}
