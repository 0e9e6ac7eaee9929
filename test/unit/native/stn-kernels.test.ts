/**
 * The spatial-transformer kernels of the native accelerator on 'wasm' against their plain
 * formulations on `cpu`: the bilinear sampler (forward and both gradients) against the JS loops,
 * reflection padding and training-mode batch norm against their tfjs-op forms, the direct
 * few-channel convolutions and the row-copy Concat/SplitV against tfjs's kernels. Each test also
 * checks that the native path really ran (kernel counters) when the accelerator is active; with
 * PERTSET_NATIVE=0 both sides run the fallbacks and must still agree.
 */
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { nativeKernelStats, resetNativeKernelCounts } from '../../../kernel/api/backend/native';
import { affineGridSample, sampleBackward, sampleForward, type Geometry } from '../../../kernel/api/models/bilinear-sampler';
import { BatchNorm2d, Conv2d, reflectPad2d } from '../../../kernel/api/models/layers';
import { VariableStore } from '../../../kernel/api/models/variable-store';
import { assertEnabledStatus } from './native-expectation';
import { normRelError, randomValues } from './reference';

let nativeActive = false;

before(async () => {
  const info = await initBackend({ backend: 'wasm' });
  nativeActive = assertEnabledStatus(info.native);
});

async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const data = outs.map((o) => o.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

/** Runs `f` on cpu and on wasm and asserts every output agrees; returns the wasm outputs. */
async function assertSame(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 2e-6): Promise<Float32Array[]> {
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const err = normRelError(got[i], want[i]);
    assert.ok(err <= tol, `${label} output ${i}: normwise relative error ${err.toExponential(2)} > ${tol}`);
  }
  return got;
}

function t(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(randomValues(tf.util.sizeFromShape(shape), seed).map((v) => lo + ((v + 1) / 2) * (hi - lo)), shape);
}

function counts(name: string) {
  return nativeKernelStats()[name] ?? { native: 0, fallback: 0 };
}

/** Rotations up to ±60°, scales 0.5–1.6 and shifts up to ±0.9: many samples leave the image. */
function thetas(batch: number, seed: number): number[] {
  const r = randomValues(5 * batch, seed);
  return Array.from({ length: batch }, (_, b) => {
    const [a, s, tx, ty, shear] = [r[5 * b] * Math.PI / 3, 1.05 + 0.55 * r[5 * b + 1], 0.9 * r[5 * b + 2], 0.9 * r[5 * b + 3], 0.2 * r[5 * b + 4]];
    return [s * Math.cos(a), -s * Math.sin(a) + shear, tx, s * Math.sin(a), s * Math.cos(a), ty];
  }).flat();
}

const SAMPLER_CASES: Array<{ shape: [number, number, number, number]; out?: [number, number]; thetaRank: 2 | 3 }> = [
  { shape: [3, 9, 11, 2], thetaRank: 3 },
  { shape: [4, 42, 42, 1], thetaRank: 2 },
  { shape: [2, 7, 5, 3], out: [10, 4], thetaRank: 2 },
  { shape: [1, 1, 6, 1], out: [3, 3], thetaRank: 3 },
  { shape: [5, 16, 12, 4], out: [8, 20], thetaRank: 3 },
];

for (const alignCorners of [false, true]) {
  test(`sampler (alignCorners=${alignCorners}): native kernel equals the JS loops, forward and both gradients`, async () => {
    resetNativeKernelCounts();
    for (const [i, c] of SAMPLER_CASES.entries()) {
      const [b, h, w, ch] = c.shape;
      const [oh, ow] = c.out ?? [h, w];
      const theta = thetas(b, 10 + i);
      const image = t(c.shape, 20 + i, 0, 1);
      const weight = t([b, oh, ow, ch], 30 + i);
      const th = c.thetaRank === 3 ? tf.tensor3d(theta, [b, 2, 3]) : tf.tensor2d(theta, [b, 6]);
      const options = { outputSize: c.out, alignCorners };
      const f = (img: tf.Tensor, tt: tf.Tensor) => tf.sum(tf.mul(affineGridSample(img as tf.Tensor4D, tt, options), weight));
      const [warped, dImage, dTheta] = await assertSame(`sampler ${c.shape} → ${oh}×${ow}`,
        () => [affineGridSample(image as tf.Tensor4D, th, options), ...tf.grads(f)([image, th])], 1e-6);
      // And against the raw JS kernels directly (what the cpu side ran), in float32.
      const g: Geometry = { batch: b, inH: h, inW: w, channels: ch, outH: oh, outW: ow, alignCorners };
      const img32 = image.dataSync() as Float32Array;
      const th32 = Float32Array.from(theta);
      assert.ok(normRelError(warped, sampleForward(img32, th32, g)) <= 1e-6);
      const [wantImage, wantTheta] = sampleBackward(weight.dataSync() as Float32Array, img32, th32, g);
      assert.ok(normRelError(dImage, wantImage) <= 1e-6);
      assert.ok(normRelError(dTheta, wantTheta) <= 1e-6);
      assert.ok(dTheta.some((v) => Math.abs(v) > 1e-3), 'theta gradient is not trivially zero');
      tf.dispose([image, weight, th]);
    }
    const n = SAMPLER_CASES.length;
    assert.deepEqual(counts('PertsetAffineGridSample'), { native: nativeActive ? 2 * n : 0, fallback: 0 });
    assert.deepEqual(counts('PertsetAffineGridSampleGradImage'), { native: nativeActive ? n : 0, fallback: 0 });
    assert.deepEqual(counts('PertsetAffineGridSampleGradTheta'), { native: nativeActive ? n : 0, fallback: 0 });
  });
}

test('sampler: a gradient to theta alone (the models sample their data) runs only the theta kernel, same values', async () => {
  resetNativeKernelCounts();
  const [b, h, w, c] = [128, 42, 42, 1];
  const image = t([b, h, w, c], 45, 0, 1);
  const th = tf.tensor2d(thetas(b, 46), [b, 6]);
  const weight = t([b, h, w, c], 47);
  const [dTheta] = await assertSame('theta only, batch 128',
    () => [tf.grad((tt: tf.Tensor) => tf.sum(tf.mul(affineGridSample(image as tf.Tensor4D, tt), weight)))(th)], 1e-6);
  const [, want] = sampleBackward(weight.dataSync() as Float32Array, image.dataSync() as Float32Array, Float32Array.from(th.dataSync()),
    { batch: b, inH: h, inW: w, channels: c, outH: h, outW: w, alignCorners: false });
  assert.ok(normRelError(dTheta, want) <= 1e-6);
  assert.deepEqual(counts('PertsetAffineGridSampleGradTheta'), { native: nativeActive ? 1 : 0, fallback: 0 });
  assert.deepEqual(counts('PertsetAffineGridSampleGradImage'), { native: 0, fallback: 0 });
  tf.dispose([image, th, weight]);
});

test('sampler: the border clip zeroes the theta gradient (samples far outside the image)', async () => {
  // Every sample lands left of and above the image: the output is the corner pixel and theta gets no gradient.
  const image = t([2, 6, 6, 1], 41, 0, 1);
  const th = tf.tensor2d([[0.1, 0, -5, 0, 0.1, -5], [1, 0.2, -3, 0.1, 1, -4]]);
  const [warped, , dTheta] = await assertSame('far outside', () => [affineGridSample(image as tf.Tensor4D, th),
    ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(affineGridSample(a as tf.Tensor4D, b)))([image, th])], 0);
  const corner = image.dataSync();
  assert.ok(warped.slice(0, 36).every((v) => v === corner[0]) && warped.slice(36).every((v) => v === corner[36]));
  assert.ok(dTheta.every((v) => v === 0));
});

test('reflectPad2d: native kernel equals the slice/concat form, forward and gradient', async () => {
  resetNativeKernelCounts();
  const shapes: Array<[number[], number]> = [[[2, 6, 5, 3], 2], [[1, 4, 4, 1], 3], [[3, 42, 42, 5], 2], [[1, 2, 7, 2], 1]];
  for (const [i, [shape, p]] of shapes.entries()) {
    const x = t(shape, 50 + i);
    const w = t([shape[0], shape[1] + 2 * p, shape[2] + 2 * p, shape[3]], 60 + i);
    // Exact: both sides copy values and sum the same few terms.
    await assertSame(`reflectPad ${shape} p${p}`, () => [reflectPad2d(x as tf.Tensor4D, p),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reflectPad2d(a as tf.Tensor4D, p), w)))(x)], 1e-7);
  }
  assert.equal(counts('PertsetReflectPad2d').native, nativeActive ? 2 * shapes.length : 0);
  assert.equal(counts('PertsetReflectPad2dGrad').native, nativeActive ? shapes.length : 0);
  assert.throws(() => reflectPad2d(tf.zeros([1, 2, 5, 1]) as tf.Tensor4D, 2), /padding must be an integer in \[0, min\(height, width\)\)/);
});

test('BatchNorm2d training mode: native kernel equals the tfjs-op form (output, gradients, running statistics)', async () => {
  resetNativeKernelCounts();
  for (const [i, shape] of [[8, 5, 6, 3], [128, 42, 42, 1], [4, 3, 3, 5]].entries()) {
    const c = shape[3];
    const x = t(shape, 70 + i, -2, 3);
    const w = t(shape, 80 + i);
    const run = () => {
      const bn = new BatchNorm2d(new VariableStore(1), `bn${i}`, c);
      bn.gamma.assign(t([c], 90 + i, 0.5, 1.5));
      bn.beta.assign(t([c], 95 + i));
      const f = (a: tf.Tensor) => tf.sum(tf.mul(bn.apply(a as tf.Tensor4D, true), w)) as tf.Scalar;
      // Three training-mode calls: the running statistics move three times on both sides.
      const y = bn.apply(x as tf.Tensor4D, true);
      const { grads } = tf.variableGrads(() => f(x), [bn.gamma, bn.beta]);
      const dx = tf.grad(f)(x);
      const out = [y, dx, grads[bn.gamma.name], grads[bn.beta.name], bn.movingMean.clone(), bn.movingVariance.clone()];
      tf.dispose([bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
      return out;
    };
    await assertSame(`batch norm ${shape}`, run, 2e-5);
  }
  if (nativeActive) {
    assert.ok(counts('PertsetBatchNormTrain').native >= 9, 'the native batch norm ran');
    assert.ok(counts('PertsetBatchNormTrainGrad').native >= 6, 'the native batch-norm gradient ran');
  }
});

test('BatchNorm2d eval mode: native per-channel affine equals the tfjs-op form (output, gradients to x, gamma, beta)', async () => {
  resetNativeKernelCounts();
  for (const [i, shape] of [[8, 5, 6, 3], [128, 42, 42, 5], [2, 3, 3, 1]].entries()) {
    const c = shape[3];
    const x = t(shape, 170 + i, -2, 3);
    const w = t(shape, 175 + i);
    const bnWith = (opsForm: boolean) => {
      const bn = new BatchNorm2d(new VariableStore(1), `bn-eval${i}`, c);
      bn.gamma.assign(t([c], 180 + i, 0.5, 1.5));
      bn.beta.assign(t([c], 185 + i));
      bn.movingMean.assign(t([c], 190 + i));
      bn.movingVariance.assign(t([c], 195 + i, 0.5, 2));
      // The tfjs-op form BatchNorm2d.apply falls back to, on the same backend.
      const opsApply = (a: tf.Tensor) => tf.add(tf.mul(tf.sub(a, bn.movingMean), tf.mul(tf.rsqrt(tf.add(bn.movingVariance, 1e-5)), bn.gamma)), bn.beta);
      const apply = (a: tf.Tensor) => (opsForm ? opsApply(a) : bn.apply(a as tf.Tensor4D, false));
      const f = (a: tf.Tensor) => tf.sum(tf.mul(apply(a), w)) as tf.Scalar;
      const { grads } = tf.variableGrads(() => f(x), [bn.gamma, bn.beta]);
      const out = [apply(x), tf.grad(f)(x), grads[bn.gamma.name], grads[bn.beta.name]];
      tf.dispose([bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]);
      return out;
    };
    await assertSame(`eval batch norm ${shape}`, () => bnWith(false), 2e-5);
    // On wasm, output and dx are the same float32 steps as the ops: bit-identical.
    const [y, dx] = await on('wasm', () => bnWith(false));
    const [wantY, wantDx] = await on('wasm', () => bnWith(true));
    assert.ok(normRelError(y, wantY) === 0 && normRelError(dx, wantDx) === 0, 'output and dx are bit-identical to the tfjs ops');
  }
  // Per shape and native run (two: against cpu, then bit-identity): one forward in the gradient of
  // gamma and beta, one in tf.grad, one plain; one backward pass (dx = dy·scale) in tf.grad, none
  // when only the parameters' gradients are taken.
  assert.equal(counts('PertsetChannelAffine').native, nativeActive ? 3 * 2 * 4 : 0);
});

test('a linear convolution differentiated to its input alone skips the filter gradient', async () => {
  const store = new VariableStore(3);
  const conv = new Conv2d(store, 'c', 5, 5, 5);
  const x = t([4, 12, 12, 5], 200);
  const w = t([4, 8, 8, 5], 201);
  const loss = (a: tf.Tensor) => tf.sum(tf.mul(conv.apply(a as tf.Tensor4D), w)) as tf.Scalar;
  const viaFused = (a: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: conv.kernel as tf.Tensor4D, bias: conv.bias!, strides: 1, pad: 0 }), w)) as tf.Scalar;
  resetNativeKernelCounts();
  const [dx, y] = await assertSame('linear conv', () => [tf.grad(loss)(x), conv.apply(x as tf.Tensor4D)], 2e-5);
  const [wantDx, wantY] = await on('wasm', () => [tf.grad(viaFused)(x), tf.fused.conv2d({ x: x as tf.Tensor4D, filter: conv.kernel as tf.Tensor4D, bias: conv.bias!, strides: 1, pad: 0 })]);
  assert.ok(normRelError(dx, wantDx) === 0 && normRelError(y, wantY) === 0, 'the same values as tf.fused.conv2d');
  if (nativeActive) {
    assert.equal(counts('Conv2DBackpropInput').native, 2, 'dx on both calls');
    assert.equal(counts('Conv2DBackpropFilter').native, 1, 'the filter gradient only in tf.fused.conv2d');
  }
  // All three gradients when the parameters are asked for, equal to tf.fused.conv2d's.
  const ours = tf.variableGrads(() => loss(x), [conv.kernel, conv.bias!]).grads;
  const theirs = tf.variableGrads(() => viaFused(x), [conv.kernel, conv.bias!]).grads;
  for (const v of [conv.kernel, conv.bias!]) assert.ok(normRelError(ours[v.name].dataSync() as Float32Array, theirs[v.name].dataSync() as Float32Array) === 0, v.name);
  store.dispose();
});

test('few-channel convolutions (direct kernel): forward and both gradients against cpu', async () => {
  resetNativeKernelCounts();
  type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
  const cases: Array<{ x: number[]; f: number[]; pad: Pad }> = [
    { x: [3, 46, 46, 5], f: [5, 5, 5, 5], pad: 'valid' },
    { x: [2, 46, 46, 1], f: [5, 5, 1, 1], pad: 'valid' },
    { x: [2, 9, 7, 2], f: [3, 5, 2, 3], pad: 'same' },
    { x: [1, 6, 8, 3], f: [2, 3, 3, 8], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
    { x: [2, 5, 5, 1], f: [5, 5, 1, 2], pad: [[0, 0], [4, 4], [0, 4], [0, 0]] },
  ];
  for (const [i, c] of cases.entries()) {
    const x = t(c.x, 100 + i);
    const f = t(c.f, 110 + i);
    const bias = t([c.f[3]], 120 + i);
    const y = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, c.pad);
    const w = t(y.shape, 130 + i);
    y.dispose();
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.pad), w));
    await assertSame(`direct conv ${c.x} ${c.f} ${JSON.stringify(c.pad)}`, () => [
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: c.pad, bias, activation: 'relu' }),
      ...tf.grads(loss)([x, f])], 2e-5);
  }
  assert.equal(counts('FusedConv2D').native, nativeActive ? cases.length : 0);
  assert.equal(counts('Conv2DBackpropInput').native, nativeActive ? cases.length : 0);
  assert.equal(counts('Conv2DBackpropFilter').native, nativeActive ? cases.length : 0);
});

test('Concat and SplitV on every axis, with their gradients (native on the inner axes)', async () => {
  resetNativeKernelCounts();
  const parts = [[2, 3, 4, 1], [2, 3, 4, 2], [2, 3, 4, 1]];
  for (let axis = 0; axis < 4; axis++) {
    const shapes = parts.map((s) => s.map((d, i) => (i === axis ? d : [2, 3, 4, 1][i])));
    const xs = shapes.map((s, i) => t(s, 140 + 10 * axis + i));
    const outShape = tf.concat(xs, axis).shape;
    const w = t(outShape, 150 + axis);
    await assertSame(`concat axis ${axis}`, () => [tf.concat(xs, axis),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.concat([a, b, c], axis), w)))(xs),
      ...tf.split(w, [1, shapes[1][axis], 1].map((v, i) => (i === 1 ? outShape[axis] - 2 : v)), axis)], 0);
  }
  if (nativeActive) {
    // Axis 0 is one contiguous copy per piece: the stock kernel keeps it.
    assert.ok(counts('Concat').native >= 3, 'the native concat ran on axes 1-3');
    assert.ok(counts('SplitV').native >= 6, 'the native split ran on axes 1-3');
  }
});
