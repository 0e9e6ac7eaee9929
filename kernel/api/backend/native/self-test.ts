/**
 * Start-up self-test of the native kernels: a small transposed matmul, a fused matmul with bias
 * and ReLU, a batch-broadcast matmul, a strided padded conv and a leading-axis sum, run through
 * tfjs on 'wasm' and compared with plain-JS references. It guards against a tfjs internal
 * changing under us (heap offsets, kernel attrs), in which case the native path is switched off.
 *
 * `PERTSET_NATIVE_SELFTEST_FAULT=1` corrupts one result before the comparison, so tests can check
 * that a disagreement really switches the accelerator off.
 */
import * as tf from '@tensorflow/tfjs';
import { jsAdamStep } from '../adam';
import type { NativeAddon } from './addon';

export interface SelfTestResult {
  ok: boolean;
  /** The first check that failed, with its error. */
  failure?: string;
}

const TOLERANCE = 1e-4;

function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37 + seed) * 0.8;
  return v;
}

/** Row-major (batched) reference matmul; batch index `bi` of each operand is 0 when it broadcasts. */
function refMatMul(a: Float32Array, b: Float32Array, batch: number, batchA: number, batchB: number,
  M: number, N: number, K: number, tA: boolean, tB: boolean): Float32Array {
  const out = new Float32Array(batch * M * N);
  for (let p = 0; p < batch; p++) {
    const ao = (batchA === 1 ? 0 : p) * M * K, bo = (batchB === 1 ? 0 : p) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ao + (tA ? k * M + i : i * K + k)] * b[bo + (tB ? j * K + k : k * N + j)];
        out[p * M * N + i * N + j] = s;
      }
    }
  }
  return out;
}

/** NHWC conv reference with explicit padding (top/left) and strides. */
function refConv(x: Float32Array, w: Float32Array, n: number, h: number, wd: number, c: number, kh: number, kw: number,
  co: number, s: number, pt: number, pl: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < co; o++) {
          let sum = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * s - pt + ky, ix = ox * s - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < c; ci++) sum += x[((b * h + iy) * wd + ix) * c + ci] * w[((ky * kw + kx) * c + ci) * co + o];
            }
          out[((b * oh + oy) * ow + ox) * co + o] = sum;
        }
  return out;
}

function maxRelError(got: Float32Array | number[], want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let diff = 0, scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return Number.isFinite(diff) ? diff / scale : Infinity;
}

/** Runs the checks on the active backend (must be 'wasm' with the native kernels installed). */
export function runNativeSelfTest(addon: NativeAddon): SelfTestResult {
  const fault = process.env.PERTSET_NATIVE_SELFTEST_FAULT === '1';
  const checks: Array<[string, () => { got: Float32Array; want: Float32Array }]> = [
    ['matmul transposeB', () => {
      const a = values(5 * 7, 1), b = values(6 * 7, 2);
      const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [5, 7]), tf.tensor2d(b, [6, 7]), false, true)).dataSync() as Float32Array;
      return { got, want: refMatMul(a, b, 1, 1, 1, 5, 6, 7, false, true) };
    }],
    ['fused matmul bias+relu, transposeA', () => {
      const a = values(7 * 5, 3), b = values(7 * 6, 4), bias = values(6, 5);
      const got = tf.tidy(() => tf.fused.matMul({
        a: tf.tensor2d(a, [7, 5]), b: tf.tensor2d(b, [7, 6]), transposeA: true, bias: tf.tensor1d(bias), activation: 'relu',
      })).dataSync() as Float32Array;
      const want = refMatMul(a, b, 1, 1, 1, 5, 6, 7, true, false).map((v, i) => Math.max(0, v + bias[i % 6]));
      return { got, want };
    }],
    ['batch matmul with broadcast', () => {
      const a = values(3 * 4 * 5, 6), b = values(5 * 2, 7);
      const got = tf.tidy(() => tf.matMul(tf.tensor3d(a, [3, 4, 5]), tf.tensor3d(b, [1, 5, 2]))).dataSync() as Float32Array;
      return { got, want: refMatMul(a, b, 3, 3, 1, 4, 2, 5, false, false) };
    }],
    ['conv2d stride 2, same padding', () => {
      const x = values(2 * 5 * 5 * 3, 8), w = values(3 * 3 * 3 * 4, 9);
      const got = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [2, 5, 5, 3]), tf.tensor4d(w, [3, 3, 3, 4]), 2, 'same')).dataSync() as Float32Array;
      return { got, want: refConv(x, w, 2, 5, 5, 3, 3, 3, 4, 2, 1, 1, 3, 3) };
    }],
    ['sum over leading axes', () => {
      const x = values(4 * 3 * 5, 10);
      const got = tf.tidy(() => tf.sum(tf.tensor3d(x, [4, 3, 5]), [0, 1])).dataSync() as Float32Array;
      const want = new Float32Array(5);
      for (let i = 0; i < x.length; i++) want[i % 5] += x[i];
      return { got, want };
    }],
    ['adam step', () => {
      const n = 37, w = values(n, 11), g = values(n, 12);
      const hyper = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, biasCorrection1: 0.1, biasCorrection2: 0.001 };
      const [m1, v1, m2, v2] = [values(n, 13), values(n, 14).map(Math.abs), values(n, 13), values(n, 14).map(Math.abs)];
      const got = new Float32Array(n), want = new Float32Array(n);
      addon.adam(w, g, m1, v1, got, hyper.learningRate, hyper.beta1, hyper.beta2, hyper.epsilon, hyper.biasCorrection1, hyper.biasCorrection2);
      jsAdamStep({ ...hyper, weights: w, grads: g, m: m2, v: v2, out: want });
      return { got: Float32Array.from([...got, ...m1, ...v1]), want: Float32Array.from([...want, ...m2, ...v2]) };
    }],
  ];
  for (const [name, check] of checks) {
    try {
      const { got, want } = check();
      if (fault && name === checks[0][0]) got[0] += 1;
      const err = maxRelError(got, want);
      if (!(err <= TOLERANCE)) {
        return { ok: false, failure: `${name}: relative error ${err.toExponential(2)} > ${TOLERANCE}${fault ? ' (fault injected by PERTSET_NATIVE_SELFTEST_FAULT)' : ''}` };
      }
    } catch (e) {
      return { ok: false, failure: `${name}: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return { ok: true };
}
