import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { createCVAE } from '../../../kernel/api/models';

test('mnist_fc: shapes, parameter count (paper.md §2: 6.15 M) and variable names', async () => {
  await initBackend();
  const model = createCVAE('mnist_fc', { seed: 1 });
  try {
    // prior 3·(784·784+784); recognition (1568·784+784) + 2·(784·784+784); generator (1568·784+784) + (784·784+784)
    assert.equal(model.countParams(), 3 * 615440 + (1230096 + 2 * 615440) + (1230096 + 615440));
    assert.deepEqual([...model.variables.keys()], [
      'prior/fc1/kernel', 'prior/fc1/bias', 'prior/fc21/kernel', 'prior/fc21/bias', 'prior/fc22/kernel', 'prior/fc22/bias',
      'recognition/fc1/kernel', 'recognition/fc1/bias', 'recognition/fc21/kernel', 'recognition/fc21/bias',
      'recognition/fc22/kernel', 'recognition/fc22/bias',
      'generator/fc3/kernel', 'generator/fc3/bias', 'generator/fc4/kernel', 'generator/fc4/bias',
    ]);
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const xt = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
    const p = model.prior(x);
    const q = model.recognition(x, xt);
    assert.deepEqual(p.mu.shape, [3, 784]);
    assert.deepEqual(q.logvar.shape, [3, 784]);
    const out = model.generate(x, q.mu);
    assert.deepEqual(out.shape, [3, 28, 28, 1]);
    const v = await out.data();
    assert.ok(v.every((a) => a > 0 && a < 1));
    assert.throws(() => model.prior(tf.zeros([1, 27, 28, 1]) as tf.Tensor4D), /mnist_fc: x must have shape \[batch, 28, 28, 1\]/);
    tf.dispose([x, xt, p.mu, p.logvar, q.mu, q.logvar, out]);
  } finally {
    model.dispose();
  }
});

test('initialisation follows PyTorch defaults: U(±1/√fanIn), deterministic per seed', async () => {
  await initBackend();
  const a = createCVAE('mnist_fc', { seed: 3 });
  const b = createCVAE('mnist_fc', { seed: 3 });
  const c = createCVAE('mnist_fc', { seed: 4 });
  try {
    const k = await a.variables.get('recognition/fc1/kernel')!.data();
    const bound = 1 / Math.sqrt(1568);
    let max = 0;
    let sumSq = 0;
    for (const v of k) { max = Math.max(max, Math.abs(v)); sumSq += v * v; }
    assert.ok(max <= bound && max > 0.99 * bound, `max |w| ${max} vs bound ${bound}`);
    const std = Math.sqrt(sumSq / k.length);
    assert.ok(Math.abs(std - bound / Math.sqrt(3)) < 0.01 * bound, `std ${std}`);
    const kb = await b.variables.get('recognition/fc1/kernel')!.data();
    const kc = await c.variables.get('recognition/fc1/kernel')!.data();
    assert.deepEqual(kb, k);
    assert.notDeepEqual(kc.slice(0, 10), k.slice(0, 10));
  } finally {
    a.dispose(); b.dispose(); c.dispose();
  }
});

test('createCVAE names the unknown architecture', () => {
  assert.throws(() => createCVAE('mnist_big'), /unknown CVAE architecture "mnist_big"/);
});
