import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { BatchNorm2d, reflectPad2d, upsampleNearest2x } from '../../../kernel/api/models/layers';
import { VariableStore } from '../../../kernel/api/models/variable-store';

test('reflectPad2d equals PyTorch ReflectionPad2d (no edge repeat) and its gradient counts reflected copies', async () => {
  await initBackend();
  const x = tf.tensor4d(Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => Math.sin(i)), [2, 4, 5, 3]);
  const padded = reflectPad2d(x, 2);
  assert.deepEqual(padded.shape, [2, 8, 9, 3]);
  const xs = x.arraySync();
  const ps = padded.arraySync();
  // Index map of reflection without repeating the edge: -1 → 1, -2 → 2, n → n-2, n+1 → n-3.
  const reflect = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 9; j++)
        for (let c = 0; c < 3; c++) assert.equal(ps[b][i][j][c], xs[b][reflect(i - 2, 4)][reflect(j - 2, 5)][c]);
  // d(sum of padded)/dx = how many times each pixel appears (tfjs's MirrorPad gradient would give 1 everywhere).
  const g = tf.grad((t: tf.Tensor) => tf.sum(reflectPad2d(t as tf.Tensor4D, 2)))(x).arraySync() as number[][][][];
  const times = (k: number, n: number): number => { let s = 0; for (let i = -2; i < n + 2; i++) if (reflect(i, n) === k) s++; return s; };
  for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) assert.equal(g[1][i][j][2], times(i, 4) * times(j, 5));
});

test('upsampleNearest2x repeats each pixel in a 2×2 block', async () => {
  await initBackend();
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
  assert.deepEqual(Array.from(await upsampleNearest2x(x).data()),
    [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6]);
});

test('BatchNorm2d: batch statistics and PyTorch running-stat update in training, running stats in eval', async () => {
  await initBackend();
  const store = new VariableStore(0);
  const bn = new BatchNorm2d(store, 'bn', 2);
  try {
    assert.deepEqual(store.trainableVariables().map((v) => v.shape), [[2], [2]]);
    const values = Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => (i * 7) % 11 - 4 + (i % 2) * 10);
    const x = tf.tensor4d(values, [3, 2, 2, 2]);
    const y = await bn.apply(x, true).data();
    for (let c = 0; c < 2; c++) {
      const v = values.filter((_, i) => i % 2 === c);
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const biased = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
      const unbiased = (biased * v.length) / (v.length - 1);
      for (let i = c; i < values.length; i += 2) {
        assert.ok(Math.abs(y[i] - (values[i] - mean) / Math.sqrt(biased + 1e-5)) < 1e-4);
      }
      assert.ok(Math.abs(bn.movingMean.dataSync()[c] - 0.1 * mean) < 1e-5);
      assert.ok(Math.abs(bn.movingVariance.dataSync()[c] - (0.9 + 0.1 * unbiased)) < 1e-4);
    }
    // Eval mode: running statistics, nothing updated.
    const before = Array.from(bn.movingMean.dataSync());
    const e = await bn.apply(x, false).data();
    const rm = bn.movingMean.dataSync();
    const rv = bn.movingVariance.dataSync();
    assert.deepEqual(Array.from(rm), before);
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(e[i] - (values[i] - rm[i % 2]) / Math.sqrt(rv[i % 2] + 1e-5)) < 1e-4);
  } finally {
    store.dispose();
  }
});
