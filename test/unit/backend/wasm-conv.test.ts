import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { compareWithCpu, values } from './compare';
import { initBackend } from '../../../kernel/api/backend';

const TOL = 1e-5;

interface ConvCase { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: 'same' | 'valid' | number }
const CASES: ConvCase[] = [];
for (const stride of [1, 2, 3]) {
  for (const pad of ['same', 'valid'] as const) {
    CASES.push({ x: [2, 9, 10, 3], f: [3, 3, 3, 4], stride, pad });
    CASES.push({ x: [3, 8, 7, 2], f: [2, 4, 2, 5], stride, pad });
  }
}
CASES.push({ x: [4, 12, 12, 1], f: [5, 5, 1, 6], stride: 1, pad: 'same' });
// Explicit symmetric padding, as the models' PyTorch-style layers use.
CASES.push({ x: [2, 14, 14, 3], f: [3, 3, 3, 8], stride: 1, pad: 1 });
CASES.push({ x: [2, 11, 9, 4], f: [5, 5, 4, 3], stride: 2, pad: 2 });
CASES.push({ x: [2, 13, 13, 8], f: [3, 3, 8, 16], stride: 2, pad: 'valid' }); // the classifier's second layer, scaled down

test('wasm conv fixes are installed', async () => {
  const info = await initBackend({ backend: 'wasm' });
  assert.ok(info.wasmKernels.some((n) => n.startsWith('Conv2DBackpropFilter')), info.wasmKernels.join('; '));
  assert.ok(info.wasmKernels.some((n) => n.startsWith('Conv2DBackpropInput')), info.wasmKernels.join('; '));
});

for (const c of CASES) {
  const name = `x${c.x} f${c.f} stride ${c.stride} ${c.pad}`;
  test(`conv2d gradients (filter and input) via tf.grads match cpu: ${name}`, async () => {
    const err = await compareWithCpu(() => {
      const x = tf.tensor4d(values(c.x, 1), c.x);
      const f = tf.tensor4d(values(c.f, 2), c.f);
      const probe = tf.conv2d(x, f, c.stride, c.pad);
      const r = tf.tensor(values(probe.shape, 3), probe.shape);
      return tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, c.stride, c.pad).mul(r).sum())([x, f]);
    });
    assert.ok(err < TOL, `relative error ${err}`);
  });

  test(`conv2dTranspose (Conv2DBackpropInput) matches cpu: ${name}`, async () => {
    const err = await compareWithCpu(() => {
      const probe = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.f) as tf.Tensor4D, c.stride, c.pad);
      const dy = tf.tensor4d(values(probe.shape, 4), probe.shape as [number, number, number, number]);
      return tf.conv2dTranspose(dy, tf.tensor4d(values(c.f, 5), c.f), c.x, c.stride, c.pad);
    });
    assert.ok(err < TOL, `relative error ${err}`);
  });
}

test('fused conv2d (bias + relu) gradients match cpu', async () => {
  const err = await compareWithCpu(() => {
    const x = tf.tensor4d(values([2, 9, 9, 3], 6), [2, 9, 9, 3]);
    const f = tf.tensor4d(values([3, 3, 3, 4], 7), [3, 3, 3, 4]);
    const b = tf.tensor1d(values([4], 8));
    return tf.grads((xx: tf.Tensor, ff: tf.Tensor, bb: tf.Tensor) =>
      tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ff as tf.Tensor4D, bias: bb, strides: 2, pad: 'same', activation: 'relu' }).square().sum())([x, f, b]);
  });
  assert.ok(err < TOL, `relative error ${err}`);
});

test('conv gradient kernels leak no wasm buffers', async () => {
  await initBackend({ backend: 'wasm' });
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const x = tf.tensor4d(values([2, 9, 9, 3], 9), [2, 9, 9, 3]);
  const f = tf.tensor4d(values([3, 3, 3, 4], 10), [3, 3, 3, 4]);
  const step = () => tf.tidy(() => tf.addN(tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'valid').sum())([x, f]).map((g) => g.sum())));
  step().dispose();
  const before = backend.numDataIds();
  for (let i = 0; i < 3; i++) step().dispose();
  assert.equal(backend.numDataIds(), before);
  tf.dispose([x, f]);
});
