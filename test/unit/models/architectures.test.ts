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

// Trainable scalars, counted by hand from paper.md §2 (fc 6.15 M, conv 0.43 M, stn 6.44 M).
const EXPECTED_PARAMS = {
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
