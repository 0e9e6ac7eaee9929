import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { loadDataset } from '../../../kernel/api/data/load';
import { tensorBatches } from '../../../kernel/api/data/tensors';
import {
  createPerturbation,
  pairBatches,
  pairTensorBatches,
  perturbationsForConfig,
  perturbTensor,
  referencePerturbations,
  REFERENCE_PERTURBATIONS,
  LimitedRtsPerturbation,
  LinfPerturbation,
  RtsPerturbation,
  IdentityPerturbation,
} from '../../../kernel/api/perturbations';
import { ArgumentError } from '../../../kernel/api/errors';

before(async () => {
  await initBackend();
});

test('registry: reference config names and perturbation types', () => {
  assert.deepEqual(Object.keys(REFERENCE_PERTURBATIONS), ['mnist_fc_linf', 'mnist_conv_linf', 'mnist_stn_rts', 'mnist_stn_rts_limited_1', 'mnist_stn_rts_limited_5']);
  const fc = referencePerturbations('mnist_fc_linf');
  assert.ok(fc.train instanceof LinfPerturbation && fc.test instanceof LinfPerturbation);
  assert.equal((fc.train as LinfPerturbation).epsilon, 0.3);
  assert.equal(fc.padding, 0);
  const stn = referencePerturbations('mnist_stn_rts');
  assert.ok(stn.train instanceof RtsPerturbation && stn.padding === 7);
  const lim = referencePerturbations('mnist_stn_rts_limited_5');
  assert.ok(lim.train instanceof LimitedRtsPerturbation && (lim.train as LimitedRtsPerturbation).k === 5);
  assert.ok(lim.test instanceof RtsPerturbation && !(lim.test instanceof LimitedRtsPerturbation));
  assert.throws(() => referencePerturbations('cifar10_c_rectangle'), /no reference perturbation for config "cifar10_c_rectangle"/);

  assert.ok(createPerturbation({ type: 'linf', epsilon: 0.1 }) instanceof LinfPerturbation);
  assert.ok(createPerturbation({ type: 'none' }) instanceof IdentityPerturbation);
  const snake = createPerturbation({ type: 'rts', crop_sz: 42, padding: 7, angle: 30 }) as RtsPerturbation;
  assert.deepEqual([snake.cropSize, snake.angle], [42, 30]);
  assert.throws(() => createPerturbation({ type: 'blur' } as never), (e: unknown) => e instanceof ArgumentError && /unknown perturbation type "blur"/.test(e.message));
});

test('perturbationsForConfig: "dataloader" becomes the limited RTS bank with the test parameters and dataset.k', () => {
  const rts = { type: 'rts' as const, angle: 45, scale: [0.7, 1.3] as [number, number], cropSize: 42, padding: 7 };
  const { train, test: testP } = perturbationsForConfig({ perturbation: { train: { type: 'dataloader' }, test: rts }, dataset: { k: 1 } });
  assert.ok(train instanceof LimitedRtsPerturbation);
  assert.deepEqual([train.k, train.angle, train.padding], [1, 45, 7]);
  assert.ok(testP instanceof RtsPerturbation);
  assert.throws(() => perturbationsForConfig({ perturbation: { train: { type: 'dataloader' }, test: rts }, dataset: { k: null } }), /needs a dataset with a bank/);
  const linf = perturbationsForConfig({ perturbation: { train: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, test: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 } } });
  assert.deepEqual(linf.train.describe(), { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 });
});

test('pair batches: deterministic per (seed, epoch), resumable at any batch, x is the clean image', () => {
  const ds = loadDataset('embedded', { split: 'val', limit: 100 });
  const p = createPerturbation({ type: 'linfinity' });
  const run = (seed: number, epoch: number, startBatch = 0) => [...pairBatches(ds, p, { batchSize: 32, seed, epoch, startBatch })];
  const a = run(1, 0);
  assert.deepEqual(a.map((b) => b.shape[0]), [32, 32, 32, 4]);
  const again = run(1, 0);
  assert.deepEqual(again.map((b) => b.xPerturbed), a.map((b) => b.xPerturbed));
  assert.deepEqual(run(1, 0, 2).map((b) => b.xPerturbed), a.slice(2).map((b) => b.xPerturbed));
  assert.notDeepEqual(run(1, 1)[0].indices, a[0].indices);
  assert.notDeepEqual(run(2, 0)[0].xPerturbed, a[0].xPerturbed);
  const b = a[1];
  assert.deepEqual(b.x, ds.gather(b.indices));
  assert.deepEqual(b.labels, ds.gatherLabels(b.indices));
  assert.notDeepEqual(b.xPerturbed, b.x);
  const evalOrder = [...pairBatches(ds, p, { batchSize: 50, shuffle: false })].flatMap((x) => Array.from(x.indices));
  assert.deepEqual(evalOrder, Array.from({ length: 100 }, (_, i) => i));
});

test('pair batches with the limited bank key it by source image, so a subset sees the same banks', () => {
  const full = loadDataset('embedded', { split: 'train', limit: 40, padding: 7 });
  const p = createPerturbation({ type: 'rts_limited', k: 1 });
  const first = [...pairBatches(full, p, { batchSize: 40, seed: 3, shuffle: false })][0];
  const other = [...pairBatches(full, p, { batchSize: 40, seed: 99, shuffle: false })][0];
  assert.deepEqual(other.xPerturbed, first.xPerturbed); // k = 1: the seed cannot change the pair
  const sub = full.select([5]);
  const one = [...pairBatches(sub, p, { batchSize: 1 })][0];
  assert.deepEqual(one.xPerturbed, first.xPerturbed.subarray(5 * 42 * 42, 6 * 42 * 42));
});

test('pair tensor batches: [B, H, W, C] float32 tensors equal the typed arrays; labels int32', () => {
  const ds = loadDataset('embedded', { split: 'test', limit: 20, padding: 7 });
  const p = createPerturbation({ type: 'rts' });
  const arrays = [...pairBatches(ds, p, { batchSize: 8, seed: 4, epoch: 2 })];
  const before = tf.memory().numTensors;
  let i = 0;
  for (const t of pairTensorBatches(ds, p, { batchSize: 8, seed: 4, epoch: 2 })) {
    const n = arrays[i].shape[0];
    assert.deepEqual(t.x.shape, [n, 42, 42, 1]);
    assert.deepEqual(t.xPerturbed.shape, [n, 42, 42, 1]);
    assert.equal(t.x.dtype, 'float32');
    assert.equal(t.labels.dtype, 'int32');
    assert.deepEqual(t.xPerturbed.dataSync(), arrays[i].xPerturbed);
    assert.deepEqual(t.labels.dataSync(), arrays[i].labels);
    tf.dispose([t.x, t.xPerturbed, t.labels]);
    i++;
  }
  assert.equal(i, 3);
  assert.equal(tf.memory().numTensors, before);

  const batch = [...tensorBatches(ds, { batchSize: 16, seed: 0 })][0];
  assert.deepEqual(batch.x.shape, [16, 42, 42, 1]);
  const xt = perturbTensor(createPerturbation({ type: 'linf' }), batch.x, 5);
  assert.deepEqual(xt.shape, batch.x.shape);
  const diff = tf.max(tf.abs(tf.sub(xt, batch.x))).dataSync()[0];
  assert.ok(diff <= 0.3 && diff > 0.2, `max |x̃ − x| = ${diff}`);
  tf.dispose([batch.x, batch.labels, xt]);
});
