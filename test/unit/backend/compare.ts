/**
 * Helpers for tests that compare a wasm kernel with the `cpu` backend: deterministic inputs and
 * a normwise relative error (max |diff| / max |ref|), which is what float32 summation order
 * changes affect.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';

// The optional native accelerator replaces some of the same kernels when it is built: these
// comparisons then check it, and with PERTSET_NATIVE=0 (the CI's second pass) our wasm fixes.

/** Deterministic values in [-1, 1) from a small LCG (no tfjs randomness, so both backends see the same data). */
export function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Runs `fn` on `backend` and returns every output's data (read outside tidy: tidy walks typed arrays). */
export async function runOn(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  if (backend === 'wasm') await initBackend({ backend: 'wasm' });
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return data;
}

export function relError(got: Float32Array, ref: Float32Array): number {
  if (got.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  if (Number.isNaN(maxDiff)) return Infinity;
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Same computation on cpu and wasm; returns the worst normwise relative error over all outputs. */
export async function compareWithCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('wasm', fn);
  if (ref.length !== got.length) return Infinity;
  return Math.max(...ref.map((r, i) => relError(got[i], r)));
}
