/**
 * The authors' CIFAR-10-C sets come as PyTorch checkpoints of `cifar10_rectangle`. The PyTorch twin
 * (scripts/torch/twin_models.py) with random weights and batch-norm statistics is saved as the
 * reference's train.py saves checkpoints; `import-torch` (through export_state_dict.py) must infer the
 * architecture and its sizes from the keys and give the same prior and recognition Gaussians and the
 * same generator output as PyTorch, within float32 tolerance, at the paper's width and a reduced one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernel/api/backend';
import { loadTorchModel, readTorchWeights } from '../../kernel/api/interop';
import type { CVAE, ModelSize } from '../../kernel/api/models/types';
import { openRun } from '../../kernel/api/runs/open-run';
import { DEPENDENCIES, need, PYTHON, REPO_ROOT } from '../helpers/env';
import { assertClose, fromNCHW, runTwin, tempDir } from './helpers';

const FORWARD_REL = 1e-4;

/** Our NHWC image tensor from PyTorch's NCHW values. */
function imagesFrom(t: { shape: number[]; data: Float32Array }): tf.Tensor4D {
  const [b, c, h, w] = t.shape;
  return tf.tensor4d(fromNCHW(t), [b, h, w, c]);
}

async function compareWithTwin(model: CVAE, dir: string, label: string): Promise<void> {
  const inputs = readTorchWeights(path.join(dir, 'inputs'));
  const theirs = readTorchWeights(path.join(dir, 'outputs'));
  const x = imagesFrom(inputs.get('x')!);
  const xt = imagesFrom(inputs.get('x_perturbed')!);
  const z = tf.tensor2d(inputs.get('z')!.data, inputs.get('z')!.shape as [number, number]);
  const p = model.prior(x);
  const q = model.recognition(x, xt);
  const gen = model.generate(x, z);
  try {
    assertClose(`${label} prior μ`, await p.mu.data(), theirs.get('prior_mu')!.data, FORWARD_REL);
    assertClose(`${label} prior log σ²`, await p.logvar.data(), theirs.get('prior_logvar')!.data, FORWARD_REL);
    assertClose(`${label} recognition μ`, await q.mu.data(), theirs.get('recog_mu')!.data, FORWARD_REL);
    assertClose(`${label} recognition log σ²`, await q.logvar.data(), theirs.get('recog_logvar')!.data, FORWARD_REL);
    assertClose(`${label} g(x, z)`, await gen.data(), fromNCHW(theirs.get('generated')!), FORWARD_REL);
    // The scaled tanh keeps every variance in (1e-3, 10).
    const lv = await q.logvar.data();
    assert.ok(lv.every((v) => v > Math.log(1e-3) && v < Math.log(10)), `${label}: log-variances inside the scaled-tanh range`);
  } finally {
    tf.dispose([x, xt, z, p.mu, p.logvar, q.mu, q.logvar, gen]);
  }
}

const CASES: Array<{ label: string; size: Record<string, number>; expect: ModelSize; config: string }> = [
  {
    label: 'paper width',
    size: {},
    expect: { latentDim: 512, blocks: 4, bigChannels: 64, smallChannels: 16, kernelSize: 3, padding: 1 },
    config: 'cifar10_c_rectangle',
  },
  {
    label: 'reduced width',
    size: { latent_dim: 128, nblocks: 2, big_ch: 16, small_ch: 8 },
    expect: { latentDim: 128, blocks: 2, bigChannels: 16, smallChannels: 8, kernelSize: 3, padding: 1 },
    config: 'cifar10_c_rectangle_reduced',
  },
];

for (const c of CASES) {
  test(`import-torch: a PyTorch cifar10_rectangle checkpoint (${c.label}) loads with the twin's outputs`, async (t) => {
    if (!need(t, DEPENDENCIES.torch)) return;
    await initBackend();
    const dir = tempDir('cifar');
    runTwin(['random-twin', 'cifar10_rectangle', JSON.stringify(c.size), '7', dir]);
    const pth = path.join(dir, 'checkpoint_latest.pth');
    const model = loadTorchModel(pth, { python: PYTHON });
    try {
      assert.equal(model.architecture, 'cifar10_rectangle');
      assert.deepEqual(model.size, c.expect, 'sizes inferred from the tensor shapes');
      assert.equal(model.outputDistribution, 'gaussian');
      await compareWithTwin(model, dir, c.label);
    } finally {
      model.dispose();
    }
    // The CLI writes a run whose config has the same sizes; it reopens with the same outputs.
    const run = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'import-torch', '--weights', pth, '--out', run,
      '--config', c.config, '--json'], { encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: PYTHON } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').pop() as string).architecture, 'cifar10_rectangle');
    const opened = openRun(run);
    try {
      assert.deepEqual(opened.model.size, c.expect);
      await compareWithTwin(opened.model, dir, `${c.label}, reopened run`);
    } finally {
      opened.model.dispose();
    }
    fs.rmSync(run, { recursive: true, force: true });
  });
}

test('import-torch refuses a config whose cifar10_rectangle sizes differ from the weights', async (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  await initBackend();
  const dir = tempDir('cifar-mismatch');
  runTwin(['random-twin', 'cifar10_rectangle', JSON.stringify(CASES[1].size), '8', dir]);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'import-torch', '--weights',
    path.join(dir, 'checkpoint_latest.pth'), '--out', path.join(dir, 'run')], { encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: PYTHON } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /config cifar10_c_rectangle describes a different cifar10_rectangle than the weights \(latentDim: weights 128, config 512; blocks: weights 2, config 4/);
  assert.ok(!fs.existsSync(path.join(dir, 'run', 'checkpoints', 'latest')), 'nothing written');
});
