import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import {
  calibrateRadius,
  encoderApproximation,
  evaluatePerturbationSet,
  expectedApproximation,
  identityError,
  latentNormStats,
  pgdApproximation,
  roundUpRadius,
} from '../../../kernel/api/evaluate';
import { percentile } from '../../../kernel/api/evaluate/radius';
import { truncatedNormal } from '../../../kernel/api/evaluate/truncated-normal';
import { InterruptedError } from '../../../kernel/api/errors';
import { clearInterrupt, requestInterrupt } from '../../../kernel/api/interrupt';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { createRng } from '../../../kernel/api/random';
import { pairsFromArrays } from '../../../kernel/api/pairs';
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
  const value = async (t: Promise<tf.Tensor1D>) => (await t).dataSync()[0];
  assert.equal(await value(identityError(x, x)), 0);
  // Where x = 0 and x̃ = 0.2, −0.2·log 0 is clamped to 20 nats; where x = 1 and x̃ = 0.9, −0.1·log 0 to 10.
  const bce = await value(identityError(x, y));
  assert.ok(Math.abs(bce - (20 + 10) / 4) < 1e-4, `BCE ${bce}`);
  assert.ok(Math.abs((await value(identityError(x, y, { distribution: 'gaussian' }))) - (0.04 + 0.01) / 4) < 1e-7);
  assert.ok(Math.abs((await value(identityError(x, y, { metric: 'mse' }))) - (0.04 + 0.01) / 4) < 1e-7, 'MSE has no clamp');
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
  const enc = await mean(await encoderApproximation(set, x, xt));
  const zero = await mean(await pgdApproximation(set, x, xt, { steps: 0 }));
  assert.ok(Math.abs(enc - zero) < 1e-6);
  const trajectory: number[] = [];
  const pgd = await mean(await pgdApproximation(set, x, xt, { steps: 10, alpha: 0.05, callbacks: { onStepEnd: (s) => { trajectory.push(s.meanError); } } }));
  assert.equal(trajectory.length, 10);
  assert.ok(pgd <= enc + 1e-6, `pgd ${pgd} > encoder ${enc}`);
  const over = await mean(await pgdApproximation(set, x, xt, { steps: 10, maximize: true, seed: 1 }));
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
  const enc = await values(await encoderApproximation(set, x, xt));
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

test('evaluatePerturbationSet reports every metric over all pairs, under BCE and MSE; calibrateRadius does passes × pairs norms', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 5 });
  const set = new PerturbationSet(model, 10);
  const pairs = syntheticPairs(20, 'val', false);
  const progress: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const options = { attack: { steps: 3 }, batchSize: 8, seed: 1 };
  const r = await evaluatePerturbationSet(set, pairs, { ...options, callbacks: { onBatchEnd: (p) => { progress.push(p.examples); } } });
  assert.deepEqual(Object.keys(r).sort(), ['collapse', 'encoderAE', 'entropyFloor', 'expectedAE', 'identityError', 'kl', 'mse', 'n', 'overAE', 'pgdAE', 'radius', 'recon', 'sampleSpread'].sort());
  assert.ok(r.sampleSpread > 0 && r.sampleSpread < 0.5, `sample spread ${r.sampleSpread}`);
  assert.equal(r.collapse.klPerDim.value, r.kl / model.latentDim);
  assert.deepEqual(Object.keys(r.mse).sort(), ['encoderAE', 'expectedAE', 'identityError', 'pgdAE']);
  assert.equal(r.n, 20);
  assert.equal(r.radius, 10);
  assert.deepEqual(progress, [8, 16, 20]);
  for (const k of ['encoderAE', 'pgdAE', 'expectedAE', 'overAE', 'kl', 'recon', 'identityError', 'entropyFloor'] as const) assert.ok(Number.isFinite(r[k]) && r[k] > 0, k);
  for (const k of ['encoderAE', 'pgdAE', 'expectedAE', 'identityError'] as const) assert.ok(Number.isFinite(r.mse[k]) && r.mse[k] > 0 && r.mse[k] < 1, `mse.${k}`);
  assert.ok(r.entropyFloor < r.pgdAE && r.entropyFloor < r.identityError, 'no prediction beats the entropy of x̃');
  const again = await evaluatePerturbationSet(set, pairs, options);
  assert.deepEqual(again, r, 'deterministic for a seed');
  const skipped = await evaluatePerturbationSet(set, pairs, { ...options, overApproximation: false });
  assert.equal(skipped.overAE, 0);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensors leaked');
  await assert.rejects(evaluatePerturbationSet(model as never, pairs), /first argument must be a PerturbationSet/);
  const cal = await calibrateRadius(model, pairs, { passes: 2, batchSize: 8 });
  assert.equal(cal.n, 40);
  assert.equal(cal.passes, 2);
  assert.equal(cal.radius, roundUpRadius(cal.max), 'the recommended radius is the maximum rounded up');
  assert.ok(cal.p25 <= cal.p50 && cal.p50 <= cal.p75 && cal.p75 <= cal.p999 && cal.p999 <= cal.max);
  assert.notDeepEqual(cal.norms.slice(0, 20), cal.norms.slice(20), 'each pass draws fresh perturbations');
  model.dispose();
});

test('the entropy floor is the mean binary entropy of x̃; the MSE figures measure the same members as the BCE ones', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 6 });
  const set = new PerturbationSet(model, 5);
  // x̃ with pixels 0, 1 (no entropy) and 0.5 (log 2 nats).
  const x = new Float32Array(2 * 784);
  const xt = new Float32Array(2 * 784);
  for (let i = 0; i < xt.length; i++) xt[i] = i % 4 === 0 ? 0.5 : i % 4 === 1 ? 1 : 0;
  const r = await evaluatePerturbationSet(set, pairsFromArrays(x, xt, [2, 28, 28, 1]), { attack: { steps: 2 }, overApproximation: false });
  assert.ok(Math.abs(r.entropyFloor - Math.log(2) / 4) < 1e-5, `entropy floor ${r.entropyFloor}`);
  // x = 0 everywhere: identity MSE = mean(x̃²) = (0.25 + 1) / 4; identity BCE hits the clamp on the x̃ = 1 and 0.5 pixels.
  assert.ok(Math.abs(r.mse.identityError - 1.25 / 4) < 1e-6);
  assert.ok(Math.abs(r.identityError - (100 + 50) / 4) < 1e-3, `identity BCE ${r.identityError}`);
  const tx = tf.tensor4d(x, [2, 28, 28, 1]);
  const txt = tf.tensor4d(xt, [2, 28, 28, 1]);
  const enc = await encoderApproximation(set, tx, txt, { metric: 'mse' });
  assert.ok(Math.abs(tf.mean(enc).dataSync()[0] - r.mse.encoderAE) < 1e-6);
  const eae = await expectedApproximation(set, tx, txt, { seed: 3 });
  assert.equal(eae.shape[0], 2);
  tf.dispose([tx, txt, enc, eae]);
  model.dispose();
});
