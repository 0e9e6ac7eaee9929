import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { affineGridSample, sampleBackward, sampleForward, type Geometry } from '../../../kernel/api/models/bilinear-sampler';
import { createRng } from '../../../kernel/api/random';

function randomArray(n: number, seed: string, lo = 0, hi = 1): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => rng.uniformRange(lo, hi));
}

/** Affine maps near identity, with rotation/scale/shift large enough to reach the border. */
function randomTheta(batch: number, seed: string): Float64Array {
  const rng = createRng(seed);
  const t = new Float64Array(6 * batch);
  for (let b = 0; b < batch; b++) {
    t.set([1 + rng.uniformRange(-0.4, 0.4), rng.uniformRange(-0.5, 0.5), rng.uniformRange(-0.4, 0.4),
      rng.uniformRange(-0.5, 0.5), 1 + rng.uniformRange(-0.4, 0.4), rng.uniformRange(-0.4, 0.4)], 6 * b);
  }
  return t;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

for (const alignCorners of [false, true]) {
  test(`raw kernels: gradients match central finite differences in float64 (alignCorners=${alignCorners})`, () => {
    const g: Geometry = { batch: 2, inH: 7, inW: 6, channels: 2, outH: 5, outW: 8, alignCorners };
    const image = randomArray(2 * 7 * 6 * 2, 'img');
    const theta = randomTheta(2, `theta${alignCorners}`);
    const w = randomArray(2 * 5 * 8 * 2, 'w', -1, 1);
    const loss = (img: Float64Array, th: Float64Array): number => dot(sampleForward(img, th, g), w);
    const [dImage, dTheta] = sampleBackward(w, image, theta, g);
    const h = 1e-6;
    for (let k = 0; k < theta.length; k++) {
      const p = theta.slice(); p[k] += h;
      const m = theta.slice(); m[k] -= h;
      const fd = (loss(image, p) - loss(image, m)) / (2 * h);
      assert.ok(Math.abs(fd - dTheta[k]) <= 1e-6 * Math.max(1, Math.abs(fd)), `dTheta[${k}]: ${dTheta[k]} vs FD ${fd}`);
    }
    assert.ok(dTheta.some((v) => Math.abs(v) > 1e-3), 'theta gradient is not trivially zero');
    for (let k = 0; k < image.length; k += 5) {
      const p = image.slice(); p[k] += h;
      const m = image.slice(); m[k] -= h;
      const fd = (loss(p, theta) - loss(m, theta)) / (2 * h);
      assert.ok(Math.abs(fd - dImage[k]) <= 1e-6 * Math.max(1, Math.abs(fd)), `dImage[${k}]: ${dImage[k]} vs FD ${fd}`);
    }
  });
}

test('identity and one-pixel shifts: exact resampling with border padding', async () => {
  await initBackend();
  const img = tf.tensor4d(Array.from({ length: 20 }, (_, i) => i), [1, 4, 5, 1]);
  const id = affineGridSample(img, tf.tensor2d([[1, 0, 0, 0, 1, 0]]));
  assert.deepEqual(Array.from(await id.data()), Array.from(await img.data()));
  // x_in = x_out + 2/W (one pixel right): out[:, j] = in[:, j + 1], the last column repeats (border).
  const shifted = await affineGridSample(img, tf.tensor3d([[[1, 0, 2 / 5], [0, 1, 0]]])).data();
  const want: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) want.push(i * 5 + Math.min(j + 1, 4));
  assert.deepEqual(Array.from(shifted).map((v) => Math.round(v * 1e5) / 1e5), want);
  assert.throws(() => affineGridSample(img as tf.Tensor4D, tf.zeros([1, 3, 2])), /theta must be \[1, 2, 3\] or \[1, 6\]/);
});

test('tf op: tf.grad through affineGridSample agrees with float32 finite differences and the raw kernel', async () => {
  await initBackend();
  const g: Geometry = { batch: 2, inH: 9, inW: 9, channels: 1, outH: 9, outW: 9, alignCorners: false };
  const imageData = randomArray(2 * 81, 'img2');
  const thetaData = randomTheta(2, 'theta2');
  const wData = randomArray(2 * 81, 'w2', -1, 1);
  const image = tf.tensor4d(Float32Array.from(imageData), [2, 9, 9, 1]);
  const theta = tf.tensor2d(Float32Array.from(thetaData), [2, 6]);
  const w = tf.tensor4d(Float32Array.from(wData), [2, 9, 9, 1]);
  const f = (img: tf.Tensor, th: tf.Tensor): tf.Scalar => tf.sum(tf.mul(affineGridSample(img as tf.Tensor4D, th), w));
  const [gImage, gTheta] = tf.grads(f)([image, theta]);
  const [wantImage, wantTheta] = sampleBackward(Float64Array.from(wData), Float64Array.from(image.dataSync()),
    Float64Array.from(theta.dataSync()), g);
  const gt = await gTheta.data();
  const gi = await gImage.data();
  for (let k = 0; k < 12; k++) assert.ok(Math.abs(gt[k] - wantTheta[k]) <= 1e-4 * Math.max(1, Math.abs(wantTheta[k])));
  for (let k = 0; k < gi.length; k++) assert.ok(Math.abs(gi[k] - wantImage[k]) <= 1e-5);
  // float32 central differences on theta. Bilinear interpolation has kinks at pixel boundaries
  // (the float64 test above handles those with a tiny step); here the image is affine in (x, y),
  // where bilinear sampling is exact and smooth, and the maps stay inside the border.
  const ramp = tf.tensor4d(Array.from({ length: 2 * 81 }, (_, i) => {
    const b = Math.floor(i / 81); const y = Math.floor((i % 81) / 9); const x = i % 9;
    return 0.2 + 0.07 * x - (b ? 0.03 : -0.02) * y;
  }), [2, 9, 9, 1]);
  const inside = tf.tensor2d([[0.8, 0.1, 0.05, -0.1, 0.75, -0.02], [0.7, -0.2, -0.1, 0.15, 0.8, 0.1]]);
  const gInside = await tf.grads(f)([ramp, inside])[1].data();
  const h = 1e-3;
  for (let k = 0; k < 12; k++) {
    const e = tf.oneHot(k, 12).reshape([2, 6]).mul(h);
    const fd = ((await f(ramp, inside.add(e)).data())[0] - (await f(ramp, inside.sub(e)).data())[0]) / (2 * h);
    assert.ok(Math.abs(fd - gInside[k]) <= 2e-3 * Math.max(1, Math.abs(fd)), `theta[${k}]: ${gInside[k]} vs FD ${fd}`);
  }
  assert.ok(Array.from(gInside).some((v) => Math.abs(v) > 0.1), 'theta gradient is not trivially zero');
});
