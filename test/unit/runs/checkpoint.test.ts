import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { CheckpointError } from '../../../kernel/api/errors';
import { createCVAE } from '../../../kernel/api/models';
import { checkpointExists, loadModel, loadWeightsInto, saveCheckpoint } from '../../../kernel/api/runs';
import { Trainer } from '../../../kernel/api/train';
import { smallConfig, syntheticData, tmpDir } from '../train/fixtures';

function visibleEntries(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
}

function sameWeights(a: ReturnType<typeof createCVAE>, b: ReturnType<typeof createCVAE>): boolean {
  for (const [n, v] of a.variables) {
    if (tf.tidy(() => tf.max(tf.abs(tf.sub(v, b.variables.get(n)!))).dataSync()[0]) !== 0) return false;
  }
  return true;
}

test('a checkpoint round-trips through model.json + weights.bin; mismatches are named', async () => {
  await initBackend();
  const dir = path.join(tmpDir('ckpt'), 'latest');
  const a = createCVAE('mnist_fc', { seed: 1 });
  await saveCheckpoint(dir, { model: a });
  assert.deepEqual(visibleEntries(path.dirname(dir)), ['latest']);
  assert.deepEqual(visibleEntries(dir), ['model.json', 'weights.bin']);
  const b = loadModel(dir);
  assert.ok(sameWeights(a, b));
  const bytes = fs.readFileSync(path.join(dir, 'weights.bin'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), bytes.subarray(0, bytes.length - 4));
  assert.throws(() => loadWeightsInto(b, dir), (e: unknown) => e instanceof CheckpointError && /weights hold \d+ bytes, the manifest describes \d+/.test((e as Error).message));
  assert.throws(() => loadModel(path.join(dir, 'nope')), /no checkpoint in .*nope \(missing model\.json\)/);
  a.dispose();
  b.dispose();
});

test('a crash while writing leaves the previous checkpoint intact and no partial directory visible', async () => {
  await initBackend();
  const root = tmpDir('atomic');
  const dir = path.join(root, 'latest');
  const first = createCVAE('mnist_fc', { seed: 1 });
  const second = createCVAE('mnist_fc', { seed: 2 });
  await saveCheckpoint(dir, { model: first });
  const before = fs.readFileSync(path.join(dir, 'weights.bin'));
  await assert.rejects(
    saveCheckpoint(dir, {
      model: second,
      hooks: {
        afterFile: (name) => {
          if (name === 'weights.bin') throw new Error('simulated crash');
        },
      },
    }),
    /simulated crash/,
  );
  assert.deepEqual(visibleEntries(root), ['latest'], 'only the complete directory is visible');
  assert.ok(before.equals(fs.readFileSync(path.join(dir, 'weights.bin'))), 'old weights untouched');
  const loaded = loadModel(dir);
  assert.ok(sameWeights(first, loaded));
  // A crash between moving the old directory aside and moving the new one in: the next reader recovers the old one.
  await assert.rejects(saveCheckpoint(dir, { model: second, hooks: { betweenRenames: () => { throw new Error('crash between renames'); } } }), /between renames/);
  assert.equal(fs.existsSync(dir), false);
  assert.ok(checkpointExists(dir), 'recovered from the directory set aside');
  assert.ok(sameWeights(first, loadModel(dir)));
  // The next successful save replaces it and cleans the leftovers.
  await saveCheckpoint(dir, { model: second });
  assert.deepEqual(fs.readdirSync(root), ['latest']);
  const now = loadModel(dir);
  assert.ok(sameWeights(second, now));
  for (const m of [first, second, loaded, now]) m.dispose();
});

test('resume is exact with tf.train.adam too (its running β products are checkpointed)', async () => {
  await initBackend();
  const oneEpoch = (dir: string) => smallConfig(dir, (j) => (j.training.epochs = 1));
  const ref = await Trainer.create(oneEpoch(tmpDir('tfa-ref')), { data: syntheticData(), optimizer: 'tfjs' });
  await ref.run();
  const dir = tmpDir('tfa');
  const a = await Trainer.create(oneEpoch(dir), { data: syntheticData(), optimizer: 'tfjs' });
  await a.run({ steps: 2 });
  await a.save();
  a.dispose();
  const b = await Trainer.create(oneEpoch(dir), { data: syntheticData(), optimizer: 'tfjs' });
  assert.equal(b.globalStep, 2);
  await b.run();
  assert.ok(sameWeights(ref.model, b.model));
  ref.dispose();
  b.dispose();
});
