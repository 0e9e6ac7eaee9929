/**
 * The bilinear sampler against PyTorch's F.affine_grid + F.grid_sample (border padding;
 * align_corners=False as the reference uses them, and True): forward values and the gradients of a
 * weighted sum with respect to the image and to theta.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernel/api/backend';
import { readTorchWeights, writeTorchWeights } from '../../kernel/api/interop';
import { affineGridSample } from '../../kernel/api/models/bilinear-sampler';
import { createRng } from '../../kernel/api/random';
import { assertClose, fromNCHW, runTwin, tempDir, toNCHW } from './helpers';
import { DEPENDENCIES, need } from '../helpers/env';

test('affineGridSample matches F.affine_grid + F.grid_sample (border) forward and backward', async (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  await initBackend();
  const [B, H, W, C] = [3, 9, 11, 2];
  const rng = createRng('sampler-parity');
  const image = tf.tensor4d(Float32Array.from({ length: B * H * W * C }, () => rng.uniform()), [B, H, W, C]);
  const weight = tf.tensor4d(Float32Array.from({ length: B * H * W * C }, () => rng.uniformRange(-1, 1)), [B, H, W, C]);
  // Rotations up to ±45°, scales 0.7–1.3, shifts up to 0.5: many samples fall outside the image.
  const theta = tf.tensor3d(Array.from({ length: B }, () => {
    const a = rng.uniformRange(-Math.PI / 4, Math.PI / 4);
    const s = rng.uniformRange(0.7, 1.3);
    return [s * Math.cos(a), -s * Math.sin(a), rng.uniformRange(-0.5, 0.5), s * Math.sin(a), s * Math.cos(a), rng.uniformRange(-0.5, 0.5)];
  }).flat(), [B, 2, 3]);
  const dir = tempDir('sampler');
  writeTorchWeights(`${dir}/inputs`, [
    ['image', toNCHW(image)], ['theta', { shape: [B, 2, 3], data: theta.dataSync() as Float32Array }], ['weight', toNCHW(weight)],
  ]);
  runTwin(['sampler', `${dir}/inputs`, `${dir}/out`]);
  const theirs = readTorchWeights(`${dir}/out`);
  for (const alignCorners of [false, true]) {
    const suffix = alignCorners ? '_align_corners' : '';
    const f = (img: tf.Tensor, th: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(affineGridSample(img as tf.Tensor4D, th, { alignCorners }), weight));
    const warped = affineGridSample(image, theta, { alignCorners });
    const [gImage, gTheta] = tf.grads(f)([image, theta]);
    const what = `alignCorners=${alignCorners}`;
    const worst = [
      assertClose(`${what} warped image`, warped.dataSync(), fromNCHW(theirs.get(`warped${suffix}`)!), 1e-5),
      assertClose(`${what} ∂/∂image`, gImage.dataSync(), fromNCHW(theirs.get(`grad_image${suffix}`)!), 1e-5),
      assertClose(`${what} ∂/∂theta`, gTheta.dataSync(), theirs.get(`grad_theta${suffix}`)!.data, 1e-4),
    ];
    t.diagnostic(`${what}: worst relative differences: forward ${worst[0].toExponential(1)}, image grad ${worst[1].toExponential(1)}, theta grad ${worst[2].toExponential(1)}`);
    tf.dispose([warped, gImage, gTheta]);
  }
  tf.dispose([image, weight, theta]);
});
