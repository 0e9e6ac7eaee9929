/**
 * Standard normal draws truncated per coordinate to [−r, r], as `scipy.stats.truncnorm(−r, r)`
 * that the reference's expected approximation error falls back on (`utilities.torch_truncnorm`).
 * Rejection sampling; for tiny r (acceptance under ~8 %) the density is nearly flat on [−r, r],
 * so a uniform draw stands in.
 */
import type { Rng } from '../random';

export function truncatedNormal(count: number, r: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  if (r < 0.1) {
    for (let i = 0; i < count; i++) out[i] = rng.uniformRange(-r, r);
    return out;
  }
  for (let i = 0; i < count; i++) {
    let v = rng.normal();
    while (v < -r || v > r) v = rng.normal();
    out[i] = v;
  }
  return out;
}

/** Standard normal draws. */
export function standardNormal(count: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal();
  return out;
}
