import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { DivergenceError, InterruptedError } from '../../../kernel/api/errors';
import { clearInterrupt, requestInterrupt } from '../../../kernel/api/interrupt';
import { readRunRecord, readTrainerState } from '../../../kernel/api/runs';
import { createPairSource, type TrainingData } from '../../../kernel/api/pairs';
import type { Perturbation } from '../../../kernel/api/perturbations';
import { Trainer } from '../../../kernel/api/train';
import { smallConfig, syntheticData, syntheticImages, syntheticPairs, tmpDir } from './fixtures';

function weights(t: Trainer): Map<string, Float32Array> {
  return new Map([...t.model.variables].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let d = 0;
  for (const [n, x] of a) {
    const y = b.get(n)!;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  }
  return d;
}

let reference: { weights: Map<string, Float32Array>; globalStep: number; history: unknown } | null = null;

async function uninterrupted(): Promise<NonNullable<typeof reference>> {
  if (reference) return reference;
  const dir = tmpDir('ref');
  const t = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  await t.run();
  reference = { weights: weights(t), globalStep: t.globalStep, history: t.history };
  t.dispose();
  return reference;
}

test('trains two epochs: steps, history, checkpoints in tfjs format, run record', async () => {
  await initBackend();
  const dir = tmpDir('train');
  const t = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  const seen: number[] = [];
  await t.run({ steps: 1 });
  const tensors = tf.memory().numTensors;
  const res = await t.run({ callbacks: { onBatchEnd: (p) => { seen.push(p.globalStep); } } });
  assert.equal(tf.memory().numTensors, tensors, 'no tensors leaked by training steps, validation and checkpoints');
  assert.equal(res.status, 'finished');
  assert.equal(t.stepsPerEpoch, 3);
  assert.equal(t.globalStep, 6);
  assert.deepEqual(seen, [2, 3, 4, 5, 6]);
  assert.equal(t.history.length, 2);
  for (const e of t.history) {
    assert.ok(Number.isFinite(e.train.loss) && e.train.loss > 0);
    assert.ok(e.validation && Number.isFinite(e.validation.loss));
    assert.ok(Math.abs(e.train.loss - e.train.recon) <= 0.011 * e.train.kl + 1e-3, 'loss = recon + β·KL with β ≤ 0.01');
  }
  const latest = path.join(dir, 'checkpoints', 'latest');
  const modelJson = JSON.parse(fs.readFileSync(path.join(latest, 'model.json'), 'utf8'));
  assert.equal(modelJson.weightsManifest[0].paths[0], 'weights.bin');
  assert.equal(modelJson.modelTopology.architecture, 'mnist_fc');
  // The manifest decodes with tfjs's own reader.
  const buf = fs.readFileSync(path.join(latest, 'weights.bin'));
  const decoded = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), modelJson.weightsManifest[0].weights);
  assert.equal(Object.keys(decoded).length, t.model.variables.size);
  tf.dispose(Object.values(decoded));
  const state = readTrainerState(latest)!;
  assert.equal(state.globalStep, 6);
  assert.equal(state.epoch, 2);
  assert.ok(state.optimizer && fs.existsSync(path.join(latest, 'optimizer.bin')));
  assert.ok(fs.existsSync(path.join(dir, 'checkpoints', 'best', 'model.json')));
  assert.ok(fs.existsSync(path.join(dir, 'checkpoints', 'epoch-001', 'model.json')));
  const record = readRunRecord(dir);
  assert.equal(record.status, 'finished');
  assert.equal((record.dataset.train as any).images.name, 'synthetic');
  assert.ok(record.backend && record.backend.name.length > 0);
  t.dispose();
});

test('resume from the latest checkpoint gives the same final weights as an uninterrupted run', async () => {
  const ref = await uninterrupted();
  const dir = tmpDir('resume');
  const first = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  const paused = await first.run({ steps: 4 });
  assert.equal(paused.status, 'paused');
  assert.equal(first.globalStep, 4);
  await first.save();
  first.dispose();
  const second = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  assert.equal(second.globalStep, 4, 'resumed at the saved step');
  assert.equal(second.epoch, 1);
  assert.equal(second.step, 1);
  await second.run();
  assert.equal(second.globalStep, ref.globalStep);
  assert.equal(maxDiff(weights(second), ref.weights), 0);
  assert.deepEqual(second.history.map((h) => h.train), (ref.history as any[]).map((h) => h.train));
  second.dispose();
});

test('a finished run opened again is only read: every file byte-identical, no lock left, run() has nothing to do', async () => {
  await uninterrupted();
  const dir = tmpDir('finished');
  const first = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  await first.run();
  first.dispose();
  const snapshot = () => Object.fromEntries((fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));
  const before = snapshot();
  assert.ok('config.json' in before && 'run.json' in before);
  const again = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  try {
    assert.equal(again.readOnly, true);
    assert.ok(!fs.existsSync(path.join(dir, 'run.lock')), 'no lock held on a finished run');
    const res = await again.run();
    assert.equal(res.status, 'finished');
    assert.equal(again.globalStep, 6);
  } finally {
    again.dispose();
  }
  assert.deepEqual(snapshot(), before);
});

test('interrupt between steps saves, keeps the trainer consistent, and run() continues to the same result', async () => {
  const ref = await uninterrupted();
  const dir = tmpDir('interrupt');
  const t = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  clearInterrupt();
  await assert.rejects(
    t.run({ callbacks: { onBatchEnd: (p) => { if (p.globalStep === 2) requestInterrupt(); } } }),
    (e: unknown) => e instanceof InterruptedError && /global step 2/.test((e as Error).message) && /checkpoint saved/.test((e as Error).message),
  );
  assert.equal(t.globalStep, 2);
  assert.equal(readTrainerState(path.join(dir, 'checkpoints', 'latest'))!.globalStep, 2);
  assert.equal(readRunRecord(dir).status, 'interrupted');
  await t.run();
  assert.equal(t.globalStep, ref.globalStep);
  assert.equal(maxDiff(weights(t), ref.weights), 0);
  t.dispose();
});

test('an AbortSignal stops training like an interrupt', async () => {
  const t = await Trainer.create(smallConfig(tmpDir('abort')), { data: syntheticData(), persist: false });
  const ac = new AbortController();
  await assert.rejects(t.run({ signal: ac.signal, callbacks: { onBatchEnd: (p) => { if (p.globalStep === 1) ac.abort(); } } }), InterruptedError);
  assert.equal(t.globalStep, 1);
  t.dispose();
});

test('a huge learning rate is detected as divergence; the last good checkpoint is kept', async () => {
  const dir = tmpDir('diverge');
  const cfg = smallConfig(dir, (j) => {
    j.training.epochs = 3;
    j.training.step_size_schedule = [[0, 1, 1.01, 3], [0.0001, 0.0001, 1000, 1000]];
  });
  const t = await Trainer.create(cfg, { data: syntheticData() });
  let error: unknown;
  try {
    await t.run();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof DivergenceError, `expected DivergenceError, got ${String(error)}`);
  assert.match((error as Error).message, /diverged at epoch 2/);
  assert.match((error as Error).message, /last good checkpoint \(global step 3\)/);
  const state = readTrainerState(path.join(dir, 'checkpoints', 'latest'))!;
  assert.equal(state.globalStep, 3, 'latest still holds the end of the healthy first epoch');
  assert.equal(readRunRecord(dir).status, 'diverged');
  for (const v of t.model.variables.values()) assert.ok(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0]) === 1);
  t.dispose();
});

test('NaN in the data stops training with a DivergenceError naming the NaN; weights stay finite', async () => {
  // A perturbation that puts a NaN into the second batch it makes (the trainer's batch 1 of epoch 0).
  let calls = 0;
  const poisoning: Perturbation = {
    type: 'poisoning',
    describe: () => ({ type: 'poisoning' }),
    outputShape: (shape) => shape,
    perturbBatch(x) {
      const out = x.slice();
      if (++calls === 2) out[5] = NaN;
      return out;
    },
  };
  const poisoned: TrainingData = { val: syntheticData().val, train: createPairSource(syntheticImages(48), poisoning, { seed: 1 }) };
  const t = await Trainer.create(smallConfig(tmpDir('nan')), { data: poisoned, persist: false });
  await assert.rejects(t.run(), (e: unknown) => e instanceof DivergenceError && /NaN/.test((e as Error).message));
  assert.equal(t.globalStep, 1);
  for (const v of t.model.variables.values()) assert.ok(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0]) === 1);
  t.dispose();
});

test('a run directory with a different config is refused with the differing keys', async () => {
  const dir = tmpDir('mismatch');
  const t = await Trainer.create(smallConfig(dir), { data: syntheticData() });
  await t.run({ steps: 1 });
  await t.save();
  t.dispose();
  await assert.rejects(
    Trainer.create(smallConfig(dir, (j) => (j.training.batch_size = 8)), { data: syntheticData() }),
    /different config \(training\.batch_size differ/,
  );
});

test('validation pairs are fixed and shuffling differs between epochs', () => {
  const val = syntheticPairs(16, 'val', false);
  assert.deepEqual(val.batch(0, 0, 8).xPerturbed, val.batch(0, 0, 8).xPerturbed);
  const train = syntheticPairs(32, 'train', true);
  assert.notDeepEqual(train.batch(0, 0, 32).x, train.batch(1, 0, 32).x);
  assert.deepEqual(train.batch(1, 0, 32).x, syntheticPairs(32, 'train', true).batch(1, 0, 32).x);
});

test('checkpointSteps writes "latest" every N optimiser steps within an epoch', async () => {
  const dir = tmpDir('every');
  const t = await Trainer.create(smallConfig(dir), { data: syntheticData(), checkpointSteps: 2 });
  await t.run({ steps: 2 });
  assert.equal(readTrainerState(path.join(dir, 'checkpoints', 'latest'))!.globalStep, 2);
  await t.run({ steps: 2 });
  // Step 3 ended epoch 1 (saved there), step 4 is 2 steps after step 2.
  assert.equal(readTrainerState(path.join(dir, 'checkpoints', 'latest'))!.globalStep, 4);
  t.dispose();
});

test('Trainer.create applies batchSize and validationLimit overrides to the config and its data', async () => {
  const trainer = await Trainer.create('mnist_fc_linf', { epochs: 1, limit: 64, batchSize: 16, validationLimit: 16, persist: false });
  try {
    assert.equal(trainer.config.training.batchSize, 16);
    assert.equal(trainer.stepsPerEpoch, 4);
    assert.equal(trainer.data.train.count, 64);
    assert.equal(trainer.data.val.count, 16);
  } finally {
    trainer.dispose();
  }
});
