import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { compareWithCpu, values } from './compare';
import { initBackend } from '../../../kernel/api/backend';

const TOL = 1e-5;

interface Case { a: number[]; b: number[]; tA: boolean; tB: boolean }
const CASES: Case[] = [
  { a: [7, 5], b: [5, 9], tA: false, tB: false },
  { a: [5, 7], b: [5, 9], tA: true, tB: false },
  { a: [7, 5], b: [9, 5], tA: false, tB: true },
  { a: [5, 7], b: [9, 5], tA: true, tB: true },
  { a: [128, 100], b: [128, 60], tA: true, tB: false }, // a weight gradient
  { a: [4, 40], b: [50, 40], tA: false, tB: true }, // an input gradient: computed as (B·Aᵀ)ᵀ
  { a: [40, 4], b: [50, 40], tA: true, tB: true }, // computed as (B·A)ᵀ
  { a: [3, 6, 4], b: [3, 4, 5], tA: false, tB: false }, // batches
  { a: [3, 4, 6], b: [3, 5, 4], tA: true, tB: true },
  { a: [3, 6, 4], b: [1, 4, 5], tA: false, tB: false }, // shared right operand
  { a: [1, 6, 4], b: [3, 4, 5], tA: false, tB: false }, // shared left operand
  { a: [1, 4, 6], b: [3, 5, 4], tA: true, tB: true },
  { a: [2, 3, 6, 4], b: [3, 4, 5], tA: false, tB: false }, // rank-4 with broadcast outer dims
  { a: [2, 3, 6, 4], b: [4, 5], tA: false, tB: false },
];

test('wasm matmul fix is installed', async () => {
  const info = await initBackend({ backend: 'wasm' });
  assert.ok(info.wasmKernels.some((n) => n.startsWith('BatchMatMul')), info.wasmKernels.join('; '));
});

for (const c of CASES) {
  test(`BatchMatMul ${c.a}×${c.b} tA=${c.tA} tB=${c.tB} matches cpu`, async () => {
    const err = await compareWithCpu(() => tf.matMul(tf.tensor(values(c.a, 1), c.a), tf.tensor(values(c.b, 2), c.b), c.tA, c.tB));
    assert.ok(err < TOL, `relative error ${err}`);
  });
}

const ACTIVATIONS = ['linear', 'relu', 'relu6', 'sigmoid', 'elu', 'leakyrelu', 'prelu'] as const;
for (const activation of ACTIVATIONS) {
  for (const c of [CASES[1], CASES[3], CASES[6], CASES[7]]) {
    const n = c.tB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
    for (const biasShape of [[n], [1]]) {
      test(`_FusedMatMul ${activation} bias[${biasShape}] ${c.a}×${c.b} tA=${c.tA} tB=${c.tB} matches cpu`, async () => {
        const err = await compareWithCpu(() => tf.fused.matMul({
          a: tf.tensor(values(c.a, 3), c.a), b: tf.tensor(values(c.b, 4), c.b),
          transposeA: c.tA, transposeB: c.tB,
          bias: tf.tensor(values(biasShape, 5), biasShape),
          activation, preluActivationWeights: activation === 'prelu' ? tf.tensor(values([n], 6), [n]) : undefined,
          leakyreluAlpha: 0.1,
        }));
        assert.ok(err < TOL, `relative error ${err}`);
      });
    }
  }
}

test('matmul gradients (tf.grads through fused relu + bias) match cpu', async () => {
  const err = await compareWithCpu(() => {
    const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' }).mul(tf.tensor(values([16, 12], 7), [16, 12])).sum();
    return tf.grads(f)([tf.tensor(values([16, 30], 8), [16, 30]), tf.tensor(values([30, 12], 9), [30, 12]), tf.tensor(values([12], 10), [12])]);
  });
  assert.ok(err < TOL, `relative error ${err}`);
});

test('dense-layer gradients with a small batch (the swapped product) match cpu', async () => {
  const err = await compareWithCpu(() => {
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.matMul(tf.relu(tf.matMul(x, w)), w).sum();
    return tf.grads(f)([tf.tensor(values([8, 64], 15), [8, 64]), tf.tensor(values([64, 64], 16), [64, 64])]);
  });
  assert.ok(err < TOL, `relative error ${err}`);
});

test('batched matmul gradients match cpu', async () => {
  const err = await compareWithCpu(() => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, false, true).square().sum();
    return tf.grads(f)([tf.tensor(values([3, 6, 4], 11), [3, 6, 4]), tf.tensor(values([3, 5, 4], 12), [3, 5, 4])]);
  });
  assert.ok(err < TOL, `relative error ${err}`);
});

test('matmul fix leaks no tensors or wasm buffers', async () => {
  await initBackend({ backend: 'wasm' });
  await tf.setBackend('wasm');
  const a = tf.tensor(values([3, 4, 6], 13), [3, 4, 6]);
  const b = tf.tensor(values([1, 5, 4], 14), [1, 5, 4]);
  tf.tidy(() => tf.matMul(a, b, true, true)).dispose();
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const before = tf.memory();
  const idsBefore = backend.numDataIds();
  for (let i = 0; i < 3; i++) tf.tidy(() => tf.matMul(a, b, true, true).add(tf.fused.matMul({ a: a.reshape([12, 6]).transpose() as tf.Tensor2D, b: tf.ones([12, 5]) as tf.Tensor2D, bias: tf.ones([1]), activation: 'relu' }).sum())).dispose();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
  assert.equal(backend.numDataIds(), idsBefore);
  tf.dispose([a, b]);
});
