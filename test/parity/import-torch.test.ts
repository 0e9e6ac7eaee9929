/**
 * `pertset import-torch` end to end: a reference-style `torch.save` checkpoint (written by the
 * PyTorch twin from our weights) → the CLI → a run directory whose checkpoint reloads in
 * TypeScript with identical variables and outputs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernel/api/backend';
import { importTorchCheckpoint, modelToTorchTensors, writeTorchWeights } from '../../kernel/api/interop';
import { createCVAE, type CVAE } from '../../kernel/api/models';
import { loadModel } from '../../kernel/api/runs/checkpoint';
import { openRun } from '../../kernel/api/runs/open-run';
import { DEPENDENCIES, need, PYTHON, REPO_ROOT } from '../helpers/env';
import { runTwin, tempDir } from './helpers';

function perturbAll(model: CVAE): void {
  // Non-default values everywhere (including batch-norm statistics and the STN heads).
  tf.tidy(() => {
    let k = 0;
    for (const v of model.variables.values()) {
      const bump = tf.mul(tf.sin(tf.add(tf.range(0, v.size).reshape(v.shape), ++k)), 0.01);
      v.assign(v.name.includes('moving_variance') ? tf.add(tf.abs(bump), 1) : tf.add(v, bump));
    }
  });
}

async function sameModels(a: CVAE, b: CVAE): Promise<void> {
  assert.equal(b.architecture, a.architecture);
  assert.deepEqual([...b.variables.keys()], [...a.variables.keys()]);
  for (const [name, v] of a.variables) {
    assert.deepEqual(await b.variables.get(name)!.data(), await v.data(), `variable ${name} differs after the import`);
  }
  const [h, w, c] = a.inputShape;
  const x = tf.randomUniform([2, h, w, c], 0, 1, 'float32', 3) as tf.Tensor4D;
  const z = tf.randomNormal([2, a.latentDim], 0, 1, 'float32', 4) as tf.Tensor2D;
  const [pa, pb] = [a.prior(x), b.prior(x)];
  assert.deepEqual(await pb.mu.data(), await pa.mu.data());
  assert.deepEqual(await b.generate(x, z).data(), await a.generate(x, z).data());
  tf.dispose([x, z, pa.mu, pa.logvar, pb.mu, pb.logvar]);
}

test('pertset import-torch: a torch.save checkpoint of mnist_stn becomes a run that reloads identically', async (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  await initBackend();
  const dir = tempDir('import');
  const original = createCVAE('mnist_stn', { seed: 21 });
  try {
    perturbAll(original);
    writeTorchWeights(path.join(dir, 'weights'), modelToTorchTensors(original));
    const pth = path.join(dir, 'checkpoint_latest.pth');
    runTwin(['save-state-dict', 'mnist_stn', path.join(dir, 'weights'), pth]);
    const run = path.join(dir, 'run');
    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'import-torch', ...args], {
      encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: PYTHON },
    });
    const r = cli(['--weights', pth, '--out', run, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    assert.equal(result.architecture, 'mnist_stn');
    assert.equal(result.params, original.countParams());
    assert.ok(fs.existsSync(path.join(run, 'run.json')) && fs.existsSync(path.join(run, 'config.json')));
    const reloaded = loadModel(path.join(run, 'checkpoints', 'latest'));
    try {
      await sameModels(original, reloaded);
    } finally {
      reloaded.dispose();
    }
    // Errors name the problem and exit non-zero.
    const wrongArch = cli(['--weights', path.join(dir, 'weights'), '--out', path.join(dir, 'run2'), '--arch', 'mnist_conv']);
    assert.equal(wrongArch.status, 1);
    assert.match(wrongArch.stderr, /not a mnist_conv state_dict \(missing \d+ key\(s\): prior\.conv1\.weight/);
    const again = cli(['--weights', pth, '--out', run]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds a run/);
    const noWeights = cli(['--out', path.join(dir, 'run3')]);
    assert.equal(noWeights.status, 1);
    assert.match(noWeights.stderr, /--weights DIR_OR_FILE is required/);
  } finally {
    original.dispose();
  }
});

test('importTorchCheckpoint reads the exchange directory directly (mnist_fc, no Python needed)', async () => {
  await initBackend();
  const dir = tempDir('import-dir');
  const original = createCVAE('mnist_fc', { seed: 22 });
  try {
    perturbAll(original);
    writeTorchWeights(path.join(dir, 'weights'), modelToTorchTensors(original));
    const result = await importTorchCheckpoint({ weights: path.join(dir, 'weights', 'manifest.json'), out: path.join(dir, 'run') });
    assert.equal(result.architecture, 'mnist_fc');
    assert.match(result.config, /mnist_fc_linf/);
    // The run directory is one the evaluation commands can open.
    const opened = openRun(result.out);
    assert.equal(opened.model.architecture, 'mnist_fc');
    opened.model.dispose();
    const reloaded = loadModel(result.checkpointDir);
    try {
      await sameModels(original, reloaded);
    } finally {
      reloaded.dispose();
    }
  } finally {
    original.dispose();
  }
});
