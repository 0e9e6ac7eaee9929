import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { klDiagonalGaussian, reconstructionFromLogits, reconstructionFromProbabilities } from '../../../kernel/api/models';
import { scaledTanh } from '../../../kernel/api/models/scaled-tanh';

function close(a: number, b: number, rel = 1e-5, what = ''): void {
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('KL between diagonal Gaussians matches the closed form summed per example', async () => {
  await initBackend();
  const muQ = [[0.5, -1.0], [0.0, 2.0]];
  const lvQ = [[0.1, -0.3], [0.7, 0.0]];
  const muP = [[0.0, 0.2], [1.0, -1.0]];
  const lvP = [[-0.5, 0.4], [0.0, 1.2]];
  const kl = await klDiagonalGaussian(
    { mu: tf.tensor2d(muQ), logvar: tf.tensor2d(lvQ) },
    { mu: tf.tensor2d(muP), logvar: tf.tensor2d(lvP) },
  ).data();
  for (let b = 0; b < 2; b++) {
    let want = 0;
    for (let d = 0; d < 2; d++) {
      const vq = Math.exp(lvQ[b][d]);
      const vp = Math.exp(lvP[b][d]);
      want += 0.5 * (vq / vp + (muP[b][d] - muQ[b][d]) ** 2 / vp - 1 + lvP[b][d] - lvQ[b][d]);
    }
    close(kl[b], want, 1e-5, `KL[${b}]`);
  }
  const zero = await klDiagonalGaussian(
    { mu: tf.tensor2d(muP), logvar: tf.tensor2d(lvP) }, { mu: tf.tensor2d(muP), logvar: tf.tensor2d(lvP) }).data();
  assert.ok(Math.abs(zero[0]) < 1e-6 && Math.abs(zero[1]) < 1e-6);
});

test('BCE and squared-error reconstruction summed over pixels, from logits and from probabilities', async () => {
  await initBackend();
  const logits = [-3, -0.5, 0, 0.7, 4, 12];
  const target = [0, 0.2, 0.5, 1, 0.9, 0.3];
  const l = tf.tensor4d(logits, [2, 1, 3, 1]);
  const t = tf.tensor4d(target, [2, 1, 3, 1]);
  const bce = await reconstructionFromLogits(l, t, 'bernoulli').data();
  const bceP = await reconstructionFromProbabilities(tf.sigmoid(l), t, 'bernoulli').data();
  const se = await reconstructionFromLogits(l, t, 'gaussian').data();
  for (let b = 0; b < 2; b++) {
    let wantBce = 0;
    let wantSe = 0;
    for (let i = 3 * b; i < 3 * b + 3; i++) {
      const p = 1 / (1 + Math.exp(-logits[i]));
      wantBce += -(target[i] * Math.log(p) + (1 - target[i]) * Math.log(1 - p));
      wantSe += (p - target[i]) ** 2;
    }
    close(bce[b], wantBce, 1e-5, `bce[${b}]`);
    close(bceP[b], wantBce, 1e-4, `bce from probabilities[${b}]`);
    close(se[b], wantSe, 1e-5, `se[${b}]`);
  }
  assert.throws(() => reconstructionFromLogits(l, tf.zeros([2, 3]), 'bernoulli'), /differs from target shape/);
});

test('scaled tanh keeps the log-variance in (ln 1e-3, ln 10) and gives variance 0.1 at 0', async () => {
  await initBackend();
  const a = tf.tensor1d([-100, -1, 0, 1, 100]);
  const v = await scaledTanh(a).data();
  close(v[2], Math.log(0.1), 1e-6, 'at 0');
  close(v[0], Math.log(10), 1e-5, 'a → −∞');
  close(v[4], Math.log(1e-3), 1e-5, 'a → +∞');
  close(v[1], Math.log(0.1) - 4.605170 * Math.tanh(-1), 1e-5, 'a = −1');
  for (const x of v) assert.ok(x >= Math.log(1e-3) - 1e-5 && x <= Math.log(10) + 1e-5);
  // Differentiable: d/da at 0 is the (negative) scale.
  const g = await tf.grad((x: tf.Tensor) => tf.sum(scaledTanh(x)))(tf.tensor1d([0])).data();
  close(g[0], (Math.log(1e-3) - Math.log(10)) / 2, 1e-5, 'gradient');
});
