/**
 * The classifiers: output shapes, parameter counts against PyTorch's (computed from the same
 * layer definitions with torch 1.13: MNISTConv 3,255,914 on 28×28 and 6,598,250 on 42×42,
 * PreActResNet18 11,171,146, WRN-16-4 2,748,890, WRN-10-1 77,850), batch norm in training vs
 * eval mode, and the checkpoint round trip.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { createClassifier } from '../../../kernel/api/classifiers';
import { CheckpointError } from '../../../kernel/api/errors';
import { loadClassifier, loadClassifierWeightsInto, saveClassifierCheckpoint } from '../../../kernel/api/runs';
import { tmpDir } from '../train/fixtures';

const batch = (n: number, shape: [number, number, number], seed = 1) => tf.randomUniform([n, ...shape], 0, 1, 'float32', seed) as tf.Tensor4D;

test('MNISTConv: the reference layer sizes on 28×28, flatten size from the input on the 42×42 RTS canvas', async () => {
  await initBackend();
  const c28 = createClassifier({ architecture: 'mnist_conv' }, { seed: 1 });
  assert.equal(c28.countParams(), 3_255_914);
  assert.deepEqual([...c28.variables.keys()], ['0/kernel', '0/bias', '2/kernel', '2/bias', '5/kernel', '5/bias', '7/kernel', '7/bias']);
  assert.deepEqual(c28.variables.get('5/kernel')!.shape, [3136, 1024]);
  const x = batch(3, [28, 28, 1]);
  const out = c28.logits(x);
  assert.deepEqual(out.shape, [3, 10]);
  const c42 = createClassifier({ architecture: 'mnist_conv', inputShape: [42, 42, 1] });
  assert.equal(c42.countParams(), 6_598_250);
  assert.deepEqual(c42.logits(batch(2, [42, 42, 1])).shape, [2, 10]);
  assert.throws(() => c28.logits(batch(1, [42, 42, 1])), /mnist_conv: x must have shape \[batch, 28, 28, 1\], got \[1, 42, 42, 1\]/);
  assert.throws(() => createClassifier({ architecture: 'resnet50' }), /unknown classifier architecture "resnet50"; expected one of mnist_conv, preact_resnet18, wideresnet/);
  tf.dispose([x, out]);
  c28.dispose();
  c42.dispose();
});

test('pre-activation ResNet-18 and WideResNet: parameter counts as PyTorch, 32×32×3 in, classes out', async () => {
  await initBackend();
  const r = createClassifier({ architecture: 'preact_resnet18' });
  assert.equal(r.countParams(), 11_171_146);
  assert.ok(r.variables.has('layer2/0/shortcut/0/kernel') && !r.variables.has('layer1/0/shortcut/0/kernel'));
  assert.equal(r.variables.get('conv1/bias'), undefined, 'residual convolutions have no bias');
  r.dispose();
  const w16 = createClassifier({ architecture: 'wideresnet', depth: 16, widthFactor: 4 });
  assert.equal(w16.countParams(), 2_748_890);
  w16.dispose();
  const w10 = createClassifier({ architecture: 'wideresnet', depth: 10, widthFactor: 1, numClasses: 7 });
  assert.equal(w10.countParams(), 77_850 - 10 * 65 + 7 * 65);
  const x = batch(2, [32, 32, 3]);
  assert.deepEqual(w10.logits(x).shape, [2, 7]);
  assert.throws(() => createClassifier({ architecture: 'wideresnet', depth: 12 }), /depth must be 6n \+ 4/);
  tf.dispose(x);
  w10.dispose();
});

test('batch norm: training mode uses batch statistics and updates the running ones; eval mode uses and keeps them', async () => {
  await initBackend();
  const c = createClassifier({ architecture: 'wideresnet', depth: 10, widthFactor: 1 }, { seed: 2 });
  const x = batch(8, [32, 32, 3], 3);
  const first = tf.slice(x, [0, 0, 0, 0], [1, 32, 32, 3]);
  const mean = () => c.variables.get('bn1/moving_mean')!.dataSync().slice();
  const m0 = mean();
  // Eval mode: each example's logits do not depend on the rest of the batch, and nothing moves.
  const evalAlone = c.logits(first).dataSync();
  const evalInBatch = c.logits(x).dataSync().slice(0, 10);
  evalAlone.forEach((v, i) => assert.ok(Math.abs(v - evalInBatch[i]) < 1e-4, `eval logit ${i}: ${v} vs ${evalInBatch[i]}`));
  assert.deepEqual(mean(), m0);
  // Training mode: the batch statistics make example 0's logits depend on its batch.
  const trainInBatch = c.logits(x, true).dataSync().slice(0, 10);
  const m1 = mean();
  assert.ok(m1.some((v, i) => Math.abs(v - m0[i]) > 1e-6), 'running mean updated');
  const trainOther = c.logits(tf.concat([first, tf.reverse(x, 0)]), true).dataSync().slice(0, 10);
  assert.ok(trainInBatch.some((v, i) => Math.abs(v - trainOther[i]) > 1e-4), 'batch statistics depend on the batch');
  assert.ok(trainInBatch.some((v, i) => Math.abs(v - evalInBatch[i]) > 1e-3), 'training and eval mode differ');
  tf.dispose([x, first]);
  c.dispose();
});

test('checkpoint round trip: the spec rebuilds the architecture, weights and running statistics come back exactly', async () => {
  await initBackend();
  const dir = path.join(tmpDir('clf'), 'ckpt');
  const c = createClassifier({ architecture: 'mnist_conv', inputShape: [42, 42, 1] }, { seed: 5 });
  await saveClassifierCheckpoint(dir, { classifier: c });
  const back = loadClassifier(dir);
  assert.equal(back.architecture, 'mnist_conv');
  assert.deepEqual(back.inputShape, [42, 42, 1]);
  const x = batch(4, [42, 42, 1], 9);
  assert.deepEqual(back.logits(x).dataSync(), c.logits(x).dataSync());
  const w = createClassifier({ architecture: 'wideresnet', depth: 10, widthFactor: 1 }, { seed: 1 });
  const xc = batch(4, [32, 32, 3], 4);
  w.logits(xc, true).dispose(); // move the running statistics away from their initial values
  const wdir = path.join(tmpDir('clf'), 'wrn');
  await saveClassifierCheckpoint(wdir, { classifier: w });
  const w2 = createClassifier({ architecture: 'wideresnet', depth: 10, widthFactor: 1 }, { seed: 2 });
  loadClassifierWeightsInto(w2, wdir);
  assert.deepEqual(w2.variables.get('block3/layer/0/bn2/moving_variance')!.dataSync(), w.variables.get('block3/layer/0/bn2/moving_variance')!.dataSync());
  assert.deepEqual(w2.logits(xc).dataSync(), w.logits(xc).dataSync());
  assert.throws(() => loadClassifierWeightsInto(w2, dir), (e: unknown) => e instanceof CheckpointError && /is a mnist_conv classifier, cannot load into wideresnet/.test((e as Error).message));
  tf.dispose([x, xc]);
  for (const m of [c, back, w, w2]) m.dispose();
});
