import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { interpolationGrid } from '../../../kernel/api/display';
import { latentInterpolation } from '../../../kernel/api/evaluate';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';
import { syntheticPairs } from '../train/fixtures';

test('latentInterpolation decodes the bilinear grid between the posterior means of four perturbations', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 9 });
  const set = new PerturbationSet(model, 10);
  const b = syntheticPairs(4, 'val', false).batch(0, 0, 4);
  const xs = tf.tensor4d(b.x, b.shape);
  const x = xs.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
  const perturbations = tf.tensor4d(b.xPerturbed, b.shape); // four different x̃ (of other images: any four work)
  const before = tf.memory().numTensors;
  const r = await latentInterpolation(set, x, perturbations, { steps: 10 });
  assert.deepEqual(r.images.shape, [100, 28, 28, 1]);
  assert.deepEqual(r.latents.shape, [4, model.latentDim]);
  // Corners decode z₁..z₄ = μ_q(x, x̃ᵢ): (0, 0), (0, 9), (9, 0), (9, 9).
  const expected = tf.tidy(() => model.generate(tf.tile(x, [4, 1, 1, 1]) as tf.Tensor4D, model.recognition(tf.tile(x, [4, 1, 1, 1]) as tf.Tensor4D, perturbations, false).mu, false));
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  const at = (indices: number[]) => tf.gather(r.images, indices);
  const corners = at([0, 9, 90, 99]);
  assert.ok(maxDiff(corners, expected) < 1e-5, 'corners are g(x, z₁..z₄)');
  // Interior points are bilinear in z: the latent at (3, 6) is the weighted mix of the corners.
  const a = 3 / 9;
  const c = 6 / 9;
  const z = tf.tidy(() => tf.matMul(tf.tensor2d([[(1 - a) * (1 - c), (1 - a) * c, a * (1 - c), a * c]]), r.latents));
  const point = tf.tidy(() => model.generate(x, z as tf.Tensor2D, false));
  const p36 = at([36]);
  assert.ok(maxDiff(p36, point) < 1e-5, 'point (3, 6) decodes the bilinear mix');
  tf.dispose([expected, corners, z, point, p36]);
  const grid = interpolationGrid(r);
  const payload = grid[MIME_BUNDLE]().data[MIME.imageGrid] as { count: number; columns: number; captions: string[] };
  assert.equal(payload.count, 105);
  assert.equal(payload.columns, 10);
  assert.deepEqual([payload.captions[0], payload.captions[9], payload.captions[90], payload.captions[99]], ['z₁', 'z₂', 'z₃', 'z₄']);
  assert.deepEqual(payload.captions.slice(100), ['x', 'x̃₁', 'x̃₂', 'x̃₃', 'x̃₄']);
  tf.dispose([r.images, r.clean, r.corners, r.latents]);
  assert.equal(tf.memory().numTensors, before, 'only the returned tensors were kept');
  await assert.rejects(latentInterpolation(set, x, xs.slice([0, 0, 0, 0], [3, -1, -1, -1]) as tf.Tensor4D), /perturbations \[4, h, w, c\]/);
  assert.throws(() => interpolationGrid({} as never), /expected the result of evaluate\.latentInterpolation/);
  tf.dispose([xs, x, perturbations]);
  model.dispose();
});
