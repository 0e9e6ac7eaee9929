import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { ARCHITECTURES, createCVAE } from '../../../kernel/api/models';

function stnParams(): number {
  const block = (c: number): number => 2 * (c * c * 25 + c) + 2 * 2 * c;
  const encoder = (c: number): number => block(c) + 2 * (1764 * c * 128 + 128);
  const stn = 1764 * 512 + 512 + 512 * 128 + 128 + 128 * 6 + 6;
  return encoder(1) + encoder(2) + (128 * 1764 + 1764) + 5 * stn + block(5) + (5 * 25 + 1);
}

/** cifar10_rectangle at latent L, W wide and N narrow channels, B blocks, 3×3 kernels (no conv biases). */
function rectangleParams(L: number, W: number, N: number, B: number): number {
  const blocks = B * (2 * W + W * N * 9 + 2 * N + N * W * 9);
  const encoder = (c: number): number => c * W * 9 + blocks + 2 * W + W * N * 9 + 2 * N + 2 * (N * 1024 * L + L);
  return encoder(3) + encoder(6) + (L * 1024 + 1024) + 4 * W * 9 + blocks + 2 * W + W * 3 * 9;
}

// Trainable scalars, counted by hand from paper.md §2 (fc 6.15 M, conv 0.43 M, stn 6.44 M, cifar 34.3 M).
const EXPECTED_PARAMS = {
  cifar10_rectangle: rectangleParams(512, 64, 16, 4),
  mnist_fc: 6152832,
  mnist_conv: (320 + 18496 + 2 * 73856) + (608 + 18496 + 2 * 73856) + (2 + 2 + 74368 + 18752 + 298),
  mnist_stn: stnParams(),
};

for (const arch of ARCHITECTURES) {
  test(`${arch}: output shapes, parameter count, no leaked tensors, deterministic`, async () => {
    await initBackend();
    const model = createCVAE(arch, { seed: 2 });
    try {
      assert.equal(model.countParams(), EXPECTED_PARAMS[arch]);
      const [h, w, c] = model.inputShape;
      const x = tf.randomUniform([2, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
      const xt = tf.randomUniform([2, h, w, c], 0, 1, 'float32', 2) as tf.Tensor4D;
      const z = tf.randomNormal([2, model.latentDim], 0, 1, 'float32', 3) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      const p = model.prior(x);
      const q = model.recognition(x, xt);
      const out = model.generate(x, z);
      assert.equal(tf.memory().numTensors, before + 5, 'only the 5 returned tensors are new');
      assert.deepEqual(p.mu.shape, [2, model.latentDim]);
      assert.deepEqual(q.logvar.shape, [2, model.latentDim]);
      assert.deepEqual(out.shape, [2, h, w, c]);
      const again = createCVAE(arch, { seed: 2 });
      const out2 = again.generate(x, z);
      assert.deepEqual(await out2.data(), await out.data());
      again.dispose();
      assert.throws(() => model.generate(x, tf.zeros([2, model.latentDim + 1]) as tf.Tensor2D), new RegExp(`${arch}: z must have shape`));
      tf.dispose([x, xt, z, p.mu, p.logvar, q.mu, q.logvar, out, out2]);
    } finally {
      model.dispose();
    }
  });
}

test('mnist_stn: variable names follow the reference state_dict, BN statistics are not trainable, transformers start at identity', async () => {
  await initBackend();
  const model = createCVAE('mnist_stn', { seed: 0 });
  try {
    const names = [...model.variables.keys()];
    assert.deepEqual(names.slice(0, 14), [
      'prior/block/conv1/kernel', 'prior/block/conv1/bias', 'prior/block/conv2/kernel', 'prior/block/conv2/bias',
      'prior/block/bn1/gamma', 'prior/block/bn1/beta', 'prior/block/bn1/moving_mean', 'prior/block/bn1/moving_variance',
      'prior/block/bn2/gamma', 'prior/block/bn2/beta', 'prior/block/bn2/moving_mean', 'prior/block/bn2/moving_variance',
      'prior/fc31/kernel', 'prior/fc31/bias',
    ]);
    for (const n of ['generator/fc/kernel', 'generator/stns/4/localization/1/kernel', 'generator/stns/4/localization/3/bias',
      'generator/stns/0/fc/kernel', 'generator/block/bn2/moving_variance', 'generator/conv/kernel']) {
      assert.ok(model.variables.has(n), n);
    }
    assert.deepEqual(model.variables.get('prior/block/conv1/kernel')!.shape, [5, 5, 1, 1]);
    assert.deepEqual(model.variables.get('recognition/fc31/kernel')!.shape, [2 * 1764, 128]);
    const trainable = new Set(model.trainableVariables());
    for (const [n, v] of model.variables) assert.equal(trainable.has(v), !n.includes('moving_'), n);
    assert.deepEqual(Array.from(await model.variables.get('generator/stns/2/fc/bias')!.data()), [1, 0, 0, 0, 1, 0]);
    assert.ok((await model.variables.get('generator/stns/2/fc/kernel')!.data()).every((v) => v === 0));
    // Training mode moves the running statistics; eval mode does not.
    const x = tf.randomUniform([4, 42, 42, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const rm = model.variables.get('prior/block/bn1/moving_mean')!;
    tf.tidy(() => { model.prior(x, false); });
    assert.equal(rm.dataSync()[0], 0);
    tf.tidy(() => { model.prior(x, true); });
    assert.ok(Math.abs(rm.dataSync()[0]) > 0);
    x.dispose();
  } finally {
    model.dispose();
  }
});

test('cifar10_rectangle: reference key names, reduced sizes, scaled-tanh log-variance, gaussian output', async () => {
  await initBackend();
  assert.equal(rectangleParams(512, 64, 16, 4), 34332992, 'the paper\'s 34.3 M');
  const model = createCVAE('cifar10_rectangle', { seed: 1, size: { latentDim: 32, bigChannels: 8, smallChannels: 4, blocks: 2 } });
  try {
    assert.equal(model.outputDistribution, 'gaussian');
    assert.deepEqual(model.size, { latentDim: 32, blocks: 2, bigChannels: 8, smallChannels: 4, kernelSize: 3, padding: 1 });
    assert.equal(model.countParams(), rectangleParams(32, 8, 4, 2));
    const names = [...model.variables.keys()];
    assert.deepEqual(names.slice(0, 10), [
      'prior/encoder/0/kernel',
      'prior/encoder/1/bn1/gamma', 'prior/encoder/1/bn1/beta', 'prior/encoder/1/bn1/moving_mean', 'prior/encoder/1/bn1/moving_variance',
      'prior/encoder/1/conv1/kernel',
      'prior/encoder/1/bn2/gamma', 'prior/encoder/1/bn2/beta', 'prior/encoder/1/bn2/moving_mean', 'prior/encoder/1/bn2/moving_variance',
    ]);
    for (const n of ['prior/encoder/3/gamma', 'prior/encoder/5/kernel', 'prior/encoder/6/moving_variance', 'prior/fc2/bias',
      'recognition/encoder/0/kernel', 'generator/fc/kernel', 'generator/decoder/2/conv2/kernel', 'generator/decoder/3/beta', 'generator/decoder/5/kernel']) {
      assert.ok(model.variables.has(n), n);
    }
    assert.ok(!names.some((n) => n.includes('encoder/0/bias') || n.includes('conv1/bias')), 'the convolutions have no bias');
    assert.deepEqual(model.variables.get('recognition/encoder/0/kernel')!.shape, [3, 3, 6, 8]);
    assert.deepEqual(model.variables.get('prior/fc1/kernel')!.shape, [4 * 32 * 32, 32]);
    assert.deepEqual(model.variables.get('generator/decoder/5/kernel')!.shape, [3, 3, 8, 3]);
    // A huge pre-activation saturates the log-variance at the scaled-tanh bounds (ln 1e-3, ln 10).
    const fc2 = model.variables.get('prior/fc2/bias')!;
    fc2.assign(tf.fill([32], 50));
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const p = model.prior(x);
    const lv = await p.logvar.data();
    assert.ok(lv.every((v) => Math.abs(v - Math.log(1e-3)) < 1e-4), `logvar ${lv[0]} at ln 1e-3 (the map is mirrored)`);
    tf.dispose([x, p.mu, p.logvar]);
  } finally {
    model.dispose();
  }
  assert.throws(() => createCVAE('cifar10_rectangle', { size: { kernelSize: 5 } }), /kernelSize must be 2·padding \+ 1/);
  assert.throws(() => createCVAE('cifar10_rectangle', { size: { bigChannels: 0 } }), /bigChannels must be an integer >= 1/);
  assert.throws(() => createCVAE('mnist_fc', { size: { latentDim: 8 } }), /mnist_fc has fixed sizes/);
});
