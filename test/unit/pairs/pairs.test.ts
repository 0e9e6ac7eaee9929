import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { loadDataset } from '../../../kernel/api/data/load';
import { ArgumentError } from '../../../kernel/api/errors';
import { createPairSource, pairsFromArrays, trainingData } from '../../../kernel/api/pairs';
import { createPerturbation } from '../../../kernel/api/perturbations';
import { Trainer } from '../../../kernel/api/train';
import { requirePath, sharedDataDir } from '../../helpers/env';
import { smallConfig, tmpDir } from '../train/fixtures';

before(async () => {
  await initBackend();
});

test('pairs: deterministic per (seed, epoch), resumable at any batch, x is the clean image', () => {
  const ds = loadDataset('embedded', { split: 'val', limit: 100 });
  const p = createPerturbation({ type: 'linfinity' });
  const run = (seed: number, epoch: number, startBatch = 0) => [...createPairSource(ds, p, { seed }).batches({ batchSize: 32, epoch, startBatch })];
  const a = run(1, 0);
  assert.deepEqual(a.map((b) => b.shape[0]), [32, 32, 32, 4]);
  assert.deepEqual(run(1, 0).map((b) => b.xPerturbed), a.map((b) => b.xPerturbed));
  assert.deepEqual(run(1, 0, 2).map((b) => b.xPerturbed), a.slice(2).map((b) => b.xPerturbed));
  assert.notDeepEqual(run(1, 1)[0].indices, a[0].indices, 'every epoch has its own order');
  assert.notDeepEqual(run(2, 0)[0].xPerturbed, a[0].xPerturbed, 'the seed changes the pairs');
  const b = a[1];
  assert.deepEqual(b.x, ds.gather(b.indices));
  assert.notDeepEqual(b.xPerturbed, b.x);
  const evalOrder = [...createPairSource(ds, p, { shuffle: false }).batches({ batchSize: 50 })].flatMap((x) => Array.from(x.indices));
  assert.deepEqual(evalOrder, Array.from({ length: 100 }, (_, i) => i));
  // The default seed is 0, not a random one: two sources without a seed agree.
  assert.deepEqual(createPairSource(ds, p).batch(0, 0, 8).xPerturbed, createPairSource(ds, p).batch(0, 0, 8).xPerturbed);
  assert.throws(() => createPairSource(ds, p).batch(0, 4, 32), /batch index 4 out of range for 100 pairs in batches of 32/);
  assert.throws(() => createPairSource(ds, p).batchCount(0), (e: unknown) => e instanceof ArgumentError && /batchSize must be an integer >= 1, got 0/.test(e.message));
});

test('pairs: the data module and the pair source shuffle alike at the same seed', () => {
  const ds = loadDataset('embedded', { split: 'val', limit: 60 });
  const pairs = createPairSource(ds, createPerturbation({ type: 'none' }), { seed: 5 });
  const fromData = [...ds.batches({ batchSize: 20, seed: 5, epoch: 3 })].map((b) => b.x);
  const fromPairs = [...pairs.batches({ batchSize: 20, epoch: 3 })].map((b) => b.x);
  assert.deepEqual(fromPairs, fromData);
});

test('pairs with the limited bank key it by source image, so a subset sees the same banks', () => {
  const full = loadDataset('embedded', { split: 'train', limit: 40, padding: 7 });
  const p = createPerturbation({ type: 'rts_limited', k: 1 });
  const first = createPairSource(full, p, { seed: 3, shuffle: false }).batch(0, 0, 40);
  const other = createPairSource(full, p, { seed: 99, shuffle: false }).batch(0, 0, 40);
  assert.deepEqual(other.xPerturbed, first.xPerturbed); // k = 1: the seed cannot change the pair
  const one = createPairSource(full.select([5]), p).batch(0, 0, 1);
  assert.deepEqual(one.xPerturbed, first.xPerturbed.subarray(5 * 42 * 42, 6 * 42 * 42));
});

test('pair tensor batches: [B, H, W, C] float32 tensors equal the typed arrays and nothing leaks', () => {
  const ds = loadDataset('embedded', { split: 'test', limit: 20, padding: 7 });
  const pairs = createPairSource(ds, createPerturbation({ type: 'rts' }), { seed: 4 });
  const arrays = [...pairs.batches({ batchSize: 8, epoch: 2 })];
  const before = tf.memory().numTensors;
  let i = 0;
  for (const t of pairs.tensorBatches({ batchSize: 8, epoch: 2 })) {
    const n = arrays[i].shape[0];
    assert.deepEqual(t.x.shape, [n, 42, 42, 1]);
    assert.deepEqual(t.xPerturbed.shape, [n, 42, 42, 1]);
    assert.equal(t.x.dtype, 'float32');
    assert.deepEqual(t.x.dataSync(), arrays[i].x);
    assert.deepEqual(t.xPerturbed.dataSync(), arrays[i].xPerturbed);
    assert.deepEqual(t.indices, arrays[i].indices);
    tf.dispose(t);
    i++;
  }
  assert.equal(i, 3);
  const one = pairs.tensorBatch(2, 1, 8);
  assert.deepEqual(one.xPerturbed.dataSync(), arrays[1].xPerturbed);
  tf.dispose(one);
  assert.equal(tf.memory().numTensors, before);
});

test('take(n): the first n pairs of an unshuffled source, recorded in describe()', () => {
  const ds = loadDataset('embedded', { split: 'val', limit: 50 });
  const source = createPairSource(ds, createPerturbation({ type: 'linfinity' }), { seed: 2, shuffle: false });
  const first = source.take(20);
  assert.equal(first.count, 20);
  assert.equal(first.batchCount(8), 3);
  assert.equal(first.describe().first, 20);
  const whole = source.batch(0, 0, 16);
  const prefix = first.batch(0, 0, 16);
  assert.deepEqual(prefix.x, whole.x);
  assert.deepEqual(prefix.xPerturbed, whole.xPerturbed);
  assert.deepEqual(first.batch(0, 1, 16).shape[0], 4);
  assert.equal(source.take(50), source);
  assert.throws(() => source.take(0), /take: n must be an integer >= 1, got 0/);
  // A shuffled prefix shuffles among its own images only.
  const shuffled = createPairSource(ds, createPerturbation({ type: 'none' }), { seed: 2 }).take(10);
  assert.deepEqual(Array.from(shuffled.batch(0, 0, 10).indices).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
});

test('pairsFromArrays: fixed pairs in order, checked shapes', () => {
  const x = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 12);
  const xt = x.map((v) => 1 - v);
  const pairs = pairsFromArrays(x, xt, [3, 2, 2, 1]);
  const b = pairs.batch(5, 1, 2);
  assert.deepEqual(b.shape, [1, 2, 2, 1]);
  assert.deepEqual(b.x, x.slice(8));
  assert.deepEqual(b.xPerturbed, xt.slice(8));
  assert.deepEqual(pairs.take(2).batch(0, 0, 4).xPerturbed, xt.slice(0, 8));
  assert.throws(() => pairsFromArrays(x, xt, [4, 2, 2, 1]), /shape \[4, 2, 2, 1\] needs 16/);
});

test('the trainer at seed s trains on exactly the pairs the public pair source gives at seed s', async (t) => {
  const mnist = path.join(sharedDataDir(), 'mnist');
  if (!requirePath(t, mnist, 'shared MNIST')) return;
  const config = smallConfig(tmpDir('same-pairs'), (json) => {
    json.seed = 11;
    json.dataset.limit = 64;
  });
  const trainer = await Trainer.create(config, { dataDir: mnist, persist: false });
  try {
    const images = loadDataset('mnist', { split: 'train', limit: 64, dir: mnist });
    const mine = createPairSource(images, createPerturbation({ type: 'linfinity' }), { seed: 11 });
    for (const [epoch, index] of [[0, 0], [1, 2], [3, 3]]) {
      const a = trainer.data.train.batch(epoch, index, 16);
      const b = mine.batch(epoch, index, 16);
      assert.deepEqual(a.indices, b.indices, `order of epoch ${epoch}`);
      assert.deepEqual(a.x, b.x);
      assert.deepEqual(a.xPerturbed, b.xPerturbed, `x̃ of epoch ${epoch}, batch ${index}`);
    }
    // And the config's own sources are the same thing.
    assert.deepEqual(trainingData(config, { dataDir: mnist }).train.batch(2, 1, 16).xPerturbed, mine.batch(2, 1, 16).xPerturbed);
  } finally {
    trainer.dispose();
  }
});
