/**
 * The native kernels on 'wasm' against the `cpu` backend: matmuls with random shapes, transposes
 * and batch broadcasting (including one general broadcast that must fall back), every fused
 * activation, convolutions with strides / padding / dilation (plain and fused), their gradients,
 * and leading-axis sums. Also checks the native path really ran (kernel counters).
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { nativeKernelStats, nativeKernelsInstalled, resetNativeKernelCounts, setNativeAccelerator } from '../../../kernel/api/backend/native';
import { assertEnabledStatus } from './native-expectation';
import { DEPENDENCIES, need } from '../../helpers/env';
import { makeInts, normRelError, randomValues } from './reference';

const TOL = 2e-5;
let nativeActive = false;

before(async () => {
  const info = await initBackend({ backend: 'wasm' });
  nativeActive = assertEnabledStatus(info.native);
});

/** Runs `f` on cpu and on wasm (native) and returns both flattened outputs. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<Array<[Float32Array, Float32Array]>> {
  const run = async (name: string) => {
    await tf.setBackend(name);
    const outs = tf.tidy(() => {
      const r = f();
      return Array.isArray(r) ? r : [r];
    });
    const data = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return cpu.map((c, i) => [wasm[i], c]);
}

async function assertClose(label: string, f: () => tf.Tensor | tf.Tensor[], tol = TOL): Promise<void> {
  for (const [i, [got, want]] of (await onBoth(f)).entries()) {
    const err = normRelError(got, want);
    assert.ok(err <= tol, `${label} output ${i}: normwise relative error ${err.toExponential(2)} > ${tol}`);
  }
}

function t(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(randomValues(tf.util.sizeFromShape(shape), seed).map((v) => v * scale), shape);
}

function counts(name: string) {
  return nativeKernelStats()[name] ?? { native: 0, fallback: 0 };
}

test('matmul: random shapes, transposes and batch broadcasting', async () => {
  resetNativeKernelCounts();
  const int = makeInts(5);
  const batchSetups: Array<[number[], number[]]> = [[[], []], [[3], [3]], [[3], [1]], [[1], [4]], [[2, 3], [2, 3]], [[], [2]], [[2, 1], [1]]];
  for (let c = 0; c < 28; c++) {
    const M = int(1, 70), N = int(1, 70), K = int(1, 90), tA = int(0, 1) === 1, tB = int(0, 1) === 1;
    const [ba, bb] = batchSetups[c % batchSetups.length];
    const aShape = [...ba, ...(tA ? [K, M] : [M, K])], bShape = [...bb, ...(tB ? [N, K] : [K, N])];
    await assertClose(`matMul ${aShape} x ${bShape} tA=${tA} tB=${tB}`, () => tf.matMul(t(aShape, c), t(bShape, c + 100), tA, tB));
  }
  assert.equal(counts('BatchMatMul').native, nativeActive ? 28 : 0, 'every case took the native path when active');
});

test('matmul: general batch broadcast falls back to the previous kernel and stays correct', async () => {
  resetNativeKernelCounts();
  // tfjs's cpu kernel mishandles this broadcast, so the reference broadcasts explicitly first.
  await tf.setBackend('cpu');
  const want = tf.tidy(() => tf.matMul(tf.broadcastTo(t([2, 1, 4, 5], 1), [2, 3, 4, 5]), tf.broadcastTo(t([3, 5, 6], 2), [2, 3, 5, 6])));
  const wantData = want.dataSync() as Float32Array;
  want.dispose();
  await tf.setBackend('wasm');
  const got = tf.tidy(() => tf.matMul(t([2, 1, 4, 5], 1), t([3, 5, 6], 2)));
  assert.deepEqual(got.shape, [2, 3, 4, 6]);
  assert.ok(normRelError(got.dataSync(), wantData) <= TOL);
  got.dispose();
  assert.equal(counts('BatchMatMul').fallback, nativeActive ? 1 : 0);
});

test('fused matmul: every activation, bias of length N or 1, PReLU weights, transposes', async () => {
  resetNativeKernelCounts();
  const acts = ['linear', 'relu', 'relu6', 'prelu', 'leakyrelu', 'sigmoid', 'elu'] as const;
  let n = 0;
  for (const [i, activation] of acts.entries()) {
    for (const biasLen of [0, 1, 9]) {
      const tA = i % 2 === 0, tB = biasLen === 9;
      await assertClose(`fused ${activation} bias ${biasLen}`, () => tf.fused.matMul({
        a: t(tA ? [13, 7] : [7, 13], i, 3), b: t(tB ? [9, 13] : [13, 9], i + 10, 3), transposeA: tA, transposeB: tB,
        bias: biasLen ? t([biasLen], i + 20) : undefined,
        activation, preluActivationWeights: activation === 'prelu' ? t([9], i + 30) : undefined,
        leakyreluAlpha: 0.15,
      }));
      n++;
    }
  }
  assert.equal(counts('_FusedMatMul').native, nativeActive ? n : 0);
});

type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
const CONVS: Array<{ x: number[]; f: number[]; s: number | [number, number]; pad: Pad; d: number | [number, number] }> = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], s: 1, pad: 'valid', d: 1 },
  { x: [2, 9, 8, 2], f: [3, 3, 2, 5], s: 2, pad: 'same', d: 1 },
  { x: [1, 10, 11, 3], f: [3, 2, 3, 2], s: [3, 2], pad: 'same', d: 1 },
  { x: [2, 8, 8, 2], f: [2, 2, 2, 3], s: 2, pad: [[0, 0], [1, 2], [2, 1], [0, 0]], d: 1 },
  { x: [1, 7, 7, 1], f: [1, 1, 1, 6], s: 1, pad: 'valid', d: 1 },
  { x: [2, 28, 28, 1], f: [3, 3, 1, 8], s: 1, pad: 'valid', d: 1 },
];

test('conv2d: strides, padding and dilation', async () => {
  resetNativeKernelCounts();
  const cases = [...CONVS, { x: [2, 11, 10, 3], f: [3, 3, 3, 4], s: 1, pad: 'same' as Pad, d: 2 }, { x: [1, 12, 12, 2], f: [2, 3, 2, 3], s: 1, pad: 'valid' as Pad, d: [2, 3] as [number, number] }];
  for (const [i, c] of cases.entries()) {
    await assertClose(`conv2d ${c.x} ${c.f} s${c.s} ${JSON.stringify(c.pad)} d${c.d}`,
      () => tf.conv2d(t(c.x, i) as tf.Tensor4D, t(c.f, i + 50) as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d));
  }
  assert.equal(counts('Conv2D').native, nativeActive ? cases.length : 0);
});

test('fused conv2d: bias and activations', async () => {
  resetNativeKernelCounts();
  const acts = ['relu', 'elu', 'sigmoid', 'leakyrelu', 'prelu', 'linear'] as const;
  for (const [i, activation] of acts.entries()) {
    const c = CONVS[i % CONVS.length];
    const co = c.f[3];
    await assertClose(`fused conv ${activation}`, () => tf.fused.conv2d({
      x: t(c.x, i) as tf.Tensor4D, filter: t(c.f, i + 60) as tf.Tensor4D, strides: c.s, pad: c.pad,
      bias: t([co], i + 70), activation, preluActivationWeights: activation === 'prelu' ? t([co], i + 80) : undefined,
      leakyreluAlpha: 0.3,
    }));
  }
  assert.equal(counts('FusedConv2D').native, nativeActive ? acts.length : 0);
});

test('conv2d gradients (input and filter) with strides and padding', async () => {
  resetNativeKernelCounts();
  for (const [i, c] of CONVS.entries()) {
    const x = t(c.x, i + 90) as tf.Tensor4D;
    const f = t(c.f, i + 91) as tf.Tensor4D;
    const loss = (xx: tf.Tensor, ff: tf.Tensor) => {
      const y = tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad);
      return tf.sum(tf.mul(y, t(y.shape, i + 92)));
    };
    await assertClose(`conv grads ${c.x} ${c.f} s${c.s} ${JSON.stringify(c.pad)}`, () => tf.grads(loss)([x, f]));
  }
  assert.equal(counts('Conv2DBackpropInput').native, nativeActive ? CONVS.length : 0);
  assert.equal(counts('Conv2DBackpropFilter').native, nativeActive ? CONVS.length : 0);
});

test('matmul and fused-dense gradients, and leading-axis sums (bias gradients)', async () => {
  resetNativeKernelCounts();
  const loss = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
    tf.sum(tf.mul(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' }), t([33, 17], 3)));
  await assertClose('dense grads', () => tf.grads(loss)([t([33, 21], 1), t([21, 17], 2), t([17], 4)]));
  await assertClose('sum over [0,1], keepDims', () => tf.sum(t([4, 6, 5, 3], 5), [0, 1], true));
  await assertClose('sum over axis 0', () => tf.sum(t([300, 7], 6), 0));
  await assertClose('sum over [1] (not leading: previous kernel)', () => tf.sum(t([4, 6, 5], 7), 1));
  const sums = counts('Sum');
  assert.ok(nativeActive ? sums.native >= 3 && sums.fallback >= 1 : sums.native === 0, `sums: ${JSON.stringify(sums)} (native ${nativeActive ? 'on' : 'off'})`);
});

test('switching the accelerator off in process restores the previous kernels, and back on', async (ctx) => {
  assert.equal(nativeKernelsInstalled(), nativeActive);
  if (!need(ctx, DEPENDENCIES.nativeAddon)) return;
  if (!nativeActive) return ctx.skip('the accelerator is disabled in this pass (PERTSET_NATIVE=0)');
  await tf.setBackend('wasm');
  const product = () => tf.tidy(() => tf.matMul(t([5, 6], 1), t([6, 4], 2), false, false).dataSync());
  const before = product();
  assert.equal(setNativeAccelerator(false).active, false);
  assert.equal(nativeKernelsInstalled(), false);
  resetNativeKernelCounts();
  const plain = product();
  assert.equal(counts('BatchMatMul').native, 0, 'no native call while off');
  assert.ok(normRelError(plain, before) <= TOL);
  const on = setNativeAccelerator(true, { threads: 1 });
  assert.equal(on.active, true, on.reason);
  assert.equal(on.threads, 1);
  resetNativeKernelCounts(); // the self-test ran again
  product();
  assert.equal(counts('BatchMatMul').native, 1);
});

// Convolutions with few output channels (co·4 ≤ ci) take the taps path instead of im2col.
// `nativeOnly`: stock tfjs-backend-wasm 4.22 returns zeros for this one (a 3×2 filter, strides
// [2, 3], 'same'), so it is compared only when the native path computes it.
const TAP_CONVS: Array<{ x: number[]; f: number[]; s: number | [number, number]; pad: Pad; d: number; nativeOnly?: boolean }> = [
  { x: [3, 28, 28, 33], f: [3, 3, 33, 1], s: 1, pad: 'same', d: 1 }, // mnist_conv's output layer
  { x: [2, 9, 8, 8], f: [3, 3, 8, 2], s: 2, pad: 'valid', d: 1 },
  { x: [2, 10, 9, 12], f: [3, 2, 12, 3], s: [2, 3], pad: 'same', d: 1, nativeOnly: true },
  { x: [1, 11, 11, 4], f: [3, 3, 4, 1], s: 1, pad: [[0, 0], [2, 0], [1, 2], [0, 0]], d: 1 },
  { x: [2, 12, 12, 5], f: [3, 3, 5, 1], s: 1, pad: 'same', d: 2 },
];

test('few-output-channel convolutions: forward, fused, and both gradients', async () => {
  resetNativeKernelCounts();
  for (const [i, c] of TAP_CONVS.entries()) {
    if (c.nativeOnly && !nativeActive) continue;
    const label = `${c.x} ${c.f} s${c.s} ${JSON.stringify(c.pad)} d${c.d}`;
    await assertClose(`conv2d ${label}`, () => tf.conv2d(t(c.x, i + 200) as tf.Tensor4D, t(c.f, i + 201) as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d));
    if (c.d !== 1) continue; // tfjs has no gradient for dilated convs with strides, and the cpu one is slow
    await assertClose(`fused conv ${label}`, () => tf.fused.conv2d({
      x: t(c.x, i + 202) as tf.Tensor4D, filter: t(c.f, i + 203) as tf.Tensor4D, strides: c.s, pad: c.pad, bias: t([c.f[3]], i + 204), activation: 'relu',
    }));
    const loss = (xx: tf.Tensor, ff: tf.Tensor) => {
      const y = tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.s, c.pad);
      return tf.sum(tf.mul(y, t(y.shape, i + 205)));
    };
    await assertClose(`conv grads ${label}`, () => tf.grads(loss)([t(c.x, i + 206), t(c.f, i + 207)]));
  }
  const undilated = TAP_CONVS.filter((c) => c.d === 1).length;
  if (!nativeActive) return;
  assert.equal(counts('Conv2D').native, TAP_CONVS.length + undilated, 'forward calls (gradient losses included)');
  assert.equal(counts('FusedConv2D').native, undilated);
  assert.equal(counts('Conv2DBackpropInput').native, undilated);
  assert.equal(counts('Conv2DBackpropFilter').native, undilated);
});

// Natively, and without the accelerator through the wasm fix (the stock wasm kernel misroutes some).
test('max-pool gradient: pool sizes, strides, padding, and ties (first maximum wins)', async () => {
  resetNativeKernelCounts();
  const cases: Array<{ x: number[]; k: number | [number, number]; s: number | [number, number]; pad: 'valid' | 'same' | number; ties?: boolean }> = [
    { x: [4, 28, 28, 32], k: 2, s: 2, pad: 'valid' }, // mnist_conv's pools
    { x: [2, 9, 9, 5], k: 3, s: 2, pad: 'same' },
    { x: [2, 7, 8, 3], k: [2, 3], s: [1, 2], pad: 'valid' },
    { x: [2, 8, 8, 4], k: 3, s: 1, pad: 1 },
    { x: [3, 14, 14, 6], k: 2, s: 2, pad: 'valid', ties: true }, // ReLU output: windows of zeros
  ];
  for (const [i, c] of cases.entries()) {
    const input = () => (c.ties ? tf.relu(tf.round(tf.mul(t(c.x, i + 300), 2))) : t(c.x, i + 300));
    const loss = (x: tf.Tensor) => {
      const y = tf.maxPool(x as tf.Tensor4D, c.k, c.s, c.pad);
      return tf.sum(tf.mul(y, t(y.shape, i + 301)));
    };
    await assertClose(`maxPool grad ${c.x} k${c.k} s${c.s} ${c.pad}${c.ties ? ' ties' : ''}`, () => tf.grad(loss)(input()), 1e-6);
  }
  assert.equal(counts('MaxPoolGrad').native, nativeActive ? cases.length : 0);
});

test('nearest-upsampling gradient: power-of-two factors natively, other cases fall back', async () => {
  // Reference: each input pixel's gradient is the sum of dy over the block it was copied to. (The
  // cpu backend's ResizeNearestNeighborGrad offsets dy by the images' batch stride, wrong for
  // batch > 1 with upsampling, so it cannot serve as the reference here; stock wasm agrees.)
  resetNativeKernelCounts();
  await tf.setBackend('wasm');
  const cases: Array<{ x: number[]; size: [number, number]; alignCorners?: boolean; native: boolean }> = [
    { x: [4, 14, 14, 32], size: [28, 28], native: true }, // mnist_conv's upsampling
    { x: [2, 5, 3, 3], size: [20, 6], native: true },
    { x: [2, 4, 4, 2], size: [12, 12], native: false },
    { x: [2, 4, 4, 2], size: [8, 8], alignCorners: true, native: false },
  ];
  for (const [i, c] of cases.entries()) {
    const [n, h, w, ch] = c.x;
    const [fy, fx] = [c.size[0] / h, c.size[1] / w];
    const dy = t([n, ...c.size, ch], i + 401);
    const got = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, c.size, c.alignCorners ?? false), dy)))(t(c.x, i + 400)).dataSync());
    if (!c.alignCorners) {
      const want = tf.tidy(() => tf.sum(tf.reshape(dy, [n, h, fy, w, fx, ch]), [2, 4]).dataSync());
      const err = normRelError(got, want);
      assert.ok(err <= 1e-6, `resize grad ${c.x} → ${c.size}: normwise relative error ${err.toExponential(2)}`);
    }
    dy.dispose();
  }
  const n = cases.filter((c) => c.native).length;
  assert.deepEqual(counts('ResizeNearestNeighborGrad'), nativeActive ? { native: n, fallback: cases.length - n } : { native: 0, fallback: 0 });
});

test('concat and split along inner axes (and their gradients); axis 0 and int32 fall back', async () => {
  resetNativeKernelCounts();
  await assertClose('concat channels', () => tf.concat([t([4, 28, 28, 1], 500), t([4, 28, 28, 32], 501), t([4, 28, 28, 3], 502)], 3));
  await assertClose('concat axis 1', () => tf.concat([t([3, 2, 5], 503), t([3, 4, 5], 504)], 1));
  await assertClose('concat axis 0', () => tf.concat([t([2, 5], 505), t([3, 5], 506)], 0));
  await assertClose('concat int32', () => tf.cast(tf.concat([tf.ones([2, 3], 'int32'), tf.zeros([2, 2], 'int32')], 1), 'float32'));
  await assertClose('split sizes', () => tf.split(t([4, 28, 28, 33], 507), [1, 32], 3));
  await assertClose('split in 3, axis 2', () => tf.split(t([3, 4, 6, 2], 508), 3, 2));
  await assertClose('split with -1 size', () => tf.split(t([3, 7, 5], 509), [2, -1], 1));
  // The gradient of a concat is a split, and of a split a concat.
  const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.concat([a, b], 3), t([2, 6, 6, 9], 510)));
  await assertClose('concat grads', () => tf.grads(loss)([t([2, 6, 6, 1], 511), t([2, 6, 6, 8], 512)]));
  const concat = counts('Concat'), split = counts('SplitV');
  assert.ok(nativeActive ? concat.native >= 3 && concat.fallback >= 2 : concat.native === 0, `Concat: ${JSON.stringify(concat)}`);
  assert.ok(nativeActive ? split.native >= 4 : split.native === 0, `SplitV: ${JSON.stringify(split)}`);
});
