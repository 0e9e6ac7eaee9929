import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { ArgumentError } from '../../../kernel/api/errors';
import { encoderApproximation } from '../../../kernel/api/evaluate';
import { perPixelError } from '../../../kernel/api/evaluate/approximation';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet, projectL2, renormColumnsLikeReference } from '../../../kernel/api/models/perturbation-set';
import { syntheticPairs } from '../train/fixtures';

function batch(n = 4) {
  const b = syntheticPairs(n, 'val', false).batch(0, 0, n);
  return { x: tf.tensor4d(b.x, b.shape), xt: tf.tensor4d(b.xPerturbed, b.shape) };
}

function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

test('projectL2 moves rows outside the ball onto it and leaves the others', async () => {
  await initBackend();
  const u = tf.tensor2d([[3, 4], [0.3, 0.4], [0, 0]]);
  const p = projectL2(u, 2);
  const rows = p.arraySync();
  assert.ok(Math.abs(Math.hypot(...rows[0]) - 2) < 1e-6);
  assert.ok(Math.abs(rows[0][0] / rows[0][1] - 0.75) < 1e-6, 'direction kept');
  assert.deepEqual(rows[1].map((v) => +v.toFixed(6)), [0.3, 0.4]);
  assert.deepEqual(rows[2], [0, 0]);
  assert.throws(() => projectL2(u, 0), ArgumentError);
  tf.dispose([u, p]);
});

test('encode gives (μ_q − μ_p)/σ_p and perturb decodes μ_p + σ_p·u', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 1 });
  const set = new PerturbationSet(model, 28);
  const { x, xt } = batch();
  const u = set.encode(x, xt);
  const manual = tf.tidy(() => {
    const p = model.prior(x), q = model.recognition(x, xt);
    return tf.div(tf.sub(q.mu, p.mu), tf.exp(tf.mul(p.logvar, 0.5)));
  });
  assert.ok(maxAbs(u, manual) < 1e-5);
  const norms = set.latentNorms(x, xt);
  assert.ok(maxAbs(norms, tf.norm(u, 2, 1)) < 1e-4);
  const zero = tf.zeros([4, model.latentDim]) as tf.Tensor2D;
  const atMean = set.perturb(x, zero);
  const expected = tf.tidy(() => model.generate(x, model.prior(x).mu));
  assert.ok(maxAbs(atMean, expected) < 1e-6);
  assert.throws(() => set.perturb(x, tf.zeros([3, model.latentDim]) as tf.Tensor2D), /u must have shape \[4, 784\]/);
  tf.dispose([u, manual, norms, zero, atMean, expected, x, xt]);
  model.dispose();
});

test('sample returns n members per image, seeded, inside [0, 1]; traverse passes through the prior mean', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 2 });
  const set = new PerturbationSet(model, 5);
  const { x, xt } = batch(2);
  const s1 = set.sample(x, 3, { seed: 11 });
  const s2 = set.sample(x, 3, { seed: 11 });
  const s3 = set.sample(x, 3, { seed: 12 });
  assert.deepEqual(s1.shape, [6, 28, 28, 1]);
  assert.equal(maxAbs(s1, s2), 0);
  assert.ok(maxAbs(s1, s3) > 0);
  assert.ok(tf.tidy(() => tf.min(s1).dataSync()[0] >= 0 && tf.max(s1).dataSync()[0] <= 1));
  const dir = tf.randomNormal([model.latentDim], 0, 1, 'float32', 3) as tf.Tensor1D;
  const strip = set.traverse(x, dir, 5);
  assert.deepEqual(strip.shape, [10, 28, 28, 1]);
  const middle = tf.gather(strip, [2, 7]);
  const atMean = set.perturb(x, tf.zeros([2, model.latentDim]) as tf.Tensor2D);
  assert.ok(maxAbs(middle, atMean) < 1e-5, 'step 2 of 5 from −ε to ε is u = 0');
  const ends = tf.gather(strip, [0, 4]);
  assert.ok(maxAbs(tf.gather(ends, [0]), tf.gather(ends, [1])) > 0, 'the walk moves');
  assert.throws(() => set.traverse(x, tf.zeros([7]) as tf.Tensor1D, 5), /direction must be \[784\] or \[2, 784\]/);
  assert.throws(() => set.sample(x, 0), /n must be an integer >= 1/);
  assert.throws(() => new PerturbationSet(model, -1), /radius must be a finite number > 0/);
  tf.dispose([s1, s2, s3, dir, strip, middle, atMean, ends, x, xt]);
  model.dispose();
});

test("the reference's renorm(2, 1, ε) scales latent columns across the batch, as torch does", async () => {
  await initBackend();
  // torch.ones(4, 3) * [1, 2, 3] renormed with (2, 1, 2.5) gives rows [1, 1.25, 1.25] (checked with PyTorch 1.13).
  const u = tf.mul(tf.ones([4, 3]), tf.tensor1d([1, 2, 3])) as tf.Tensor2D;
  const r = renormColumnsLikeReference(u, 2.5).arraySync();
  for (const row of r) {
    assert.ok(Math.abs(row[0] - 1) < 1e-6 && Math.abs(row[1] - 1.25) < 1e-6 && Math.abs(row[2] - 1.25) < 1e-6, `${row}`);
  }
  const model = createCVAE('mnist_fc', { seed: 1 });
  const set = new PerturbationSet(model, 2.5, { projection: 'reference-renorm' });
  const viaSet = set.project(u).arraySync();
  assert.deepEqual(viaSet, r);
  assert.throws(() => new PerturbationSet(model, 1, { projection: 'columns' as never }), /projection must be "ball" or "reference-renorm"/);
  tf.dispose(u);
  model.dispose();
});

test('reconstruct decodes the projected posterior mean: its error is the encoder approximation error', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 2 });
  const { x, xt } = batch();
  // ε at half the smallest latent norm, so the projection binds for every example.
  const eps = tf.tidy(() => tf.min(new PerturbationSet(model, 1).latentNorms(x, xt)).dataSync()[0]) / 2;
  const set = new PerturbationSet(model, eps);
  const before = tf.memory().numTensors;
  const r = set.reconstruct(x, xt);
  assert.equal(tf.memory().numTensors, before + 1, 'only the result is kept');
  const expected = tf.tidy(() => set.perturb(x, projectL2(set.encode(x, xt), eps)));
  assert.deepEqual(r.shape, x.shape);
  assert.ok(maxAbs(r, expected) < 1e-6);
  const encoder = await encoderApproximation(set, x, xt);
  const errors = tf.tidy(() => tf.sub(perPixelError(r, xt, 'bernoulli'), encoder));
  encoder.dispose();
  assert.ok(tf.tidy(() => tf.max(tf.abs(errors)).dataSync()[0]) < 1e-6, 'd(reconstruct, x̃) is the encoder AE');
  errors.dispose();
  const unprojected = tf.tidy(() => set.perturb(x, set.encode(x, xt)));
  assert.ok(maxAbs(r, unprojected) > 1e-6, 'the projection changed the reconstruction (ε is binding)');
  tf.dispose([r, expected, unprojected, x, xt]);
  model.dispose();
});
