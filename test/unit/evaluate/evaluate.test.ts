import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import {
  calibrateRadius,
  encoderApproximation,
  evaluatePerturbationSet,
  identityError,
  latentNormStats,
  percentile,
  pgdApproximation,
  roundUpRadius,
  truncatedNormal,
} from '../../../kernel/api/evaluate';
import { InterruptedError } from '../../../kernel/api/errors';
import { clearInterrupt, requestInterrupt } from '../../../kernel/api/interrupt';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { createRng } from '../../../kernel/api/random';
import { syntheticPairs } from '../train/fixtures';

test('percentiles and statistics follow numpy (linear interpolation, population std)', () => {
  assert.equal(percentile([1, 2, 3, 4], 25), 1.75);
  assert.ok(Math.abs(percentile([1, 2, 3, 4], 99.9) - 3.997) < 1e-12);
  const s = latentNormStats([4, 1, 3, 2]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(1.25)) < 1e-12);
  assert.equal(s.p50, 2.5);
  assert.equal(s.max, 4);
  assert.equal(s.n, 4);
  assert.equal(roundUpRadius(16.63), 17);
  assert.equal(roundUpRadius(0.0234), 0.024);
});

test('per-coordinate truncated normal stays in [−r, r] and keeps unit-ish variance for large r', () => {
  const rng = createRng(5);
  const small = truncatedNormal(10000, 0.5, rng);
  assert.ok(small.every((v) => v >= -0.5 && v <= 0.5));
  const big = truncatedNormal(20000, 28, rng);
  const var_ = big.reduce((a, v) => a + v * v, 0) / big.length;
  assert.ok(Math.abs(var_ - 1) < 0.05, `variance ${var_}`);
});

test('identity error is 0 for x̃ = x (binary) and positive otherwise', async () => {
  await initBackend();
  const x = tf.tensor4d([0, 1, 1, 0], [1, 2, 2, 1]);
  const y = tf.tensor4d([0.2, 1, 0.9, 0], [1, 2, 2, 1]);
  assert.equal(identityError(x, x, 'bernoulli').dataSync()[0], 0);
  assert.ok(identityError(x, y, 'bernoulli').dataSync()[0] > 1, 'log(0) clamped at −100 makes it large');
  assert.ok(Math.abs(identityError(x, y, 'gaussian').dataSync()[0] - (0.04 + 0.01) / 4) < 1e-7);
  tf.dispose([x, y]);
});

/** An untrained mnist_fc set at ε = 10 and 8 synthetic validation pairs. */
async function pgdFixture() {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 4 });
  const set = new PerturbationSet(model, 10);
  const b = syntheticPairs(8, 'val', false).batch(0, 0, 8);
  return { model, set, x: tf.tensor4d(b.x, b.shape), xt: tf.tensor4d(b.xPerturbed, b.shape) };
}

test('PGD with 0 steps is the encoder AE; small minimising steps do not increase it; maximising exceeds it', async () => {
  const { model, set, x, xt } = await pgdFixture();
  const mean = async (t: tf.Tensor1D) => {
    const v = (await t.mean().data())[0];
    t.dispose();
    return v;
  };
  const enc = await mean(encoderApproximation(set, x, xt));
  const zero = await mean(await pgdApproximation(set, x, xt, { steps: 0 }));
  assert.ok(Math.abs(enc - zero) < 1e-6);
  const trajectory: number[] = [];
  const pgd = await mean(await pgdApproximation(set, x, xt, { steps: 10, alpha: 0.05, onStep: (_, e) => trajectory.push(e) }));
  assert.equal(trajectory.length, 10);
  assert.ok(pgd <= enc + 1e-6, `pgd ${pgd} > encoder ${enc}`);
  const over = await mean(await pgdApproximation(set, x, xt, { steps: 10, maximize: true, rng: createRng(1) }));
  assert.ok(over > pgd, `over ${over} <= pgd ${pgd}`);
  clearInterrupt();
  requestInterrupt();
  await assert.rejects(pgdApproximation(set, x, xt, { steps: 5 }), InterruptedError);
  tf.dispose([x, xt]);
  model.dispose();
});

test('PGD keeps each example\'s best iterate: never above the encoder AE, never above the final iterate', async () => {
  const { model, set, x, xt } = await pgdFixture();
  const values = async (t: tf.Tensor1D) => {
    const v = Array.from(await t.data());
    t.dispose();
    return v;
  };
  const enc = await values(encoderApproximation(set, x, xt));
  // Steps far too large overshoot, so the final iterate can be worse than the start.
  const before = tf.memory().numTensors;
  const best = await values(await pgdApproximation(set, x, xt, { steps: 6, alpha: 8 }));
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  const final = await values(await pgdApproximation(set, x, xt, { steps: 6, alpha: 8, keepBest: false }));
  for (let i = 0; i < enc.length; i++) {
    assert.ok(best[i] <= enc[i], `example ${i}: best ${best[i]} > encoder ${enc[i]}`);
    assert.ok(best[i] <= final[i], `example ${i}: best ${best[i]} > final ${final[i]}`);
  }
  assert.ok(final.some((f, i) => f > best[i]), 'the overshooting run has a final iterate worse than its best (the option matters)');
  tf.dispose([x, xt]);
  model.dispose();
});

test('evaluatePerturbationSet reports every metric over all pairs; calibrateRadius does passes × pairs norms', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 5 });
  const pairs = syntheticPairs(20, 'val', false);
  const progress: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const r = await evaluatePerturbationSet(model, pairs, { radius: 10, steps: 3, batchSize: 8, seed: 1, onProgress: (p) => progress.push(p.examples) });
  assert.deepEqual(Object.keys(r).sort(), ['encoderAE', 'expectedAE', 'identityError', 'kl', 'n', 'overAE', 'pgdAE', 'radius', 'recon'].sort());
  assert.equal(r.n, 20);
  assert.deepEqual(progress, [8, 16, 20]);
  for (const k of ['encoderAE', 'pgdAE', 'expectedAE', 'overAE', 'kl', 'recon', 'identityError'] as const) assert.ok(Number.isFinite(r[k]) && r[k] > 0, k);
  const again = await evaluatePerturbationSet(model, pairs, { radius: 10, steps: 3, batchSize: 8, seed: 1 });
  assert.deepEqual(again, r, 'deterministic for a seed');
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leaked');
  const cal = await calibrateRadius(model, pairs, { passes: 2, batchSize: 8 });
  assert.equal(cal.n, 40);
  assert.equal(cal.passes, 2);
  assert.ok(cal.p25 <= cal.p50 && cal.p50 <= cal.p75 && cal.p75 <= cal.p999 && cal.p999 <= cal.max);
  assert.notDeepEqual(cal.norms.slice(0, 20), cal.norms.slice(20), 'each pass draws fresh perturbations');
  model.dispose();
});
