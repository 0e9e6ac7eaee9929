/**
 * The training parity script (scripts/parity/training-parity.mjs) end to end on real MNIST at a
 * tiny budget: both sides train, calibrate ε and evaluate; the JSON holds both with finite,
 * plausible figures. The 5 % agreement itself is for the long runs (README "Training parity"):
 * at 8 steps the figures depend on the initialisation more than on the implementation.
 * Also: the twin reads pertset's split, warps as pertset's RTS and draws pertset's limited banks.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { loadDataset } from '../../kernel/api/data/load';
import { modelToTorchTensors, readTorchWeights } from '../../kernel/api/interop';
import { createCVAE } from '../../kernel/api/models';
import { epochPermutation } from '../../kernel/api/random';
import { LimitedRtsPerturbation, RtsPerturbation } from '../../kernel/api/perturbations';
import { DEPENDENCIES, need, PYTHON, REPO_ROOT, sharedDataDir } from '../helpers/env';
import { tempDir } from './helpers';

const DRIVER = path.join(REPO_ROOT, 'scripts', 'parity', 'training-parity.mjs');
const TWIN_DIR = path.join(REPO_ROOT, 'scripts', 'torch');

function driver(args: string[]) {
  return spawnSync(process.execPath, [DRIVER, ...args], { encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: PYTHON }, maxBuffer: 64 << 20 });
}

interface Side {
  budget: Record<string, number>;
  radius: { mean: number; max: number; radius: number; n: number };
  eval: { encoderAE: number; expectedAE: number; kl: number; recon: number; identityError: number; entropyFloor: number; n: number };
  sampleSpread: number;
  seconds: Record<string, number>;
  versions: Record<string, unknown>;
}

test('training parity: pertset and the PyTorch twin train mnist_fc_linf on 1,000 MNIST images and report comparable figures', async (t) => {
  if (!need(t, DEPENDENCIES.torch) || !need(t, DEPENDENCIES.sharedMnist)) return;
  const out = tempDir('training');
  const args = ['--config', 'mnist_fc_linf', '--epochs', '1', '--limit', '1000', '--val-limit', '200', '--test-limit', '100',
    '--spread-images', '20', '--data', sharedDataDir(), '--out', out, '--json'];
  const r = driver(args);
  assert.equal(r.status, 0, `the driver failed: ${r.stderr.slice(-3000)}`);
  const result = JSON.parse(r.stdout);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'parity.json'), 'utf8')), result, 'parity.json holds what was printed');
  const ours = result.pertset as Side;
  const theirs = result.pytorch as Side;
  for (const key of ['epochs', 'limit', 'valLimit', 'testLimit', 'passes', 'samples', 'spreadImages', 'spreadSamples', 'batchSize', 'seed']) {
    assert.equal(ours.budget[key], theirs.budget[key], `both sides ran the same budget (${key})`);
  }
  assert.deepEqual([ours.budget.epochs, ours.budget.limit, ours.budget.valLimit, ours.budget.testLimit], [1, 1000, 200, 100]);
  assert.equal(result.comparison.length, 10);
  for (const row of result.comparison) {
    assert.ok(Number.isFinite(row.pertset) && Number.isFinite(row.pytorch), `${row.metric}: both sides finite (${row.pertset}, ${row.pytorch})`);
    assert.equal(row.within5pct, row.relativeDifference <= 0.05);
  }
  for (const [name, side] of [['pertset', ours], ['PyTorch', theirs]] as const) {
    const { radius: rad, eval: ev } = side;
    assert.equal(rad.n, 1000, `${name}: 200 validation images × 5 passes`);
    assert.ok(rad.mean > 1 && rad.mean <= rad.max && rad.max <= rad.radius && rad.radius === Math.ceil(rad.max), `${name}: ε = ⌈max latent norm⌉ (${JSON.stringify(rad)})`);
    assert.ok(rad.radius >= 5 && rad.radius <= 60, `${name}: ε ${rad.radius} is plausible for a 1-epoch mnist_fc set (the full schedule gives 28)`);
    // Learned something (below the clamped identity baseline), and no better than the data allows.
    assert.ok(ev.encoderAE > ev.entropyFloor && ev.encoderAE < 0.5 * ev.identityError, `${name}: encoder AE ${ev.encoderAE} between the entropy floor ${ev.entropyFloor} and the identity error ${ev.identityError}`);
    assert.ok(ev.expectedAE > ev.entropyFloor && ev.expectedAE < ev.identityError, `${name}: EAE ${ev.expectedAE}`);
    assert.ok(ev.kl > 1 && ev.kl < 1000, `${name}: KL ${ev.kl}`);
    assert.ok(side.sampleSpread > 1e-4 && side.sampleSpread < 0.5, `${name}: sample spread ${side.sampleSpread}`);
    assert.ok(side.seconds.train > 0, `${name}: training time recorded`);
  }
  // Same 100 test images, same ℓ∞ noise distribution: the identity baseline is a data check.
  const identity = result.comparison.find((row: { metric: string }) => row.metric.startsWith('identity'));
  assert.ok(identity.relativeDifference < 0.03, `identity error ${identity.pertset} vs ${identity.pytorch}: both sides read the same test images`);
  assert.match(String(theirs.versions.torch), /^\d+\.\d+/);
});

test('training parity: the twin uses pertset\'s split, RTS warp and limited-data banks exactly', (t) => {
  if (!need(t, DEPENDENCIES.torch) || !need(t, DEPENDENCIES.sharedMnist)) return;
  const data = sharedDataDir();
  const train = loadDataset('mnist', { dir: data, split: 'train', limit: 3, padding: 7 });
  const val = loadDataset('mnist', { dir: data, split: 'val', limit: 3, padding: 7 });
  const x = train.gather([0, 1, 2]);
  const rts = new RtsPerturbation({ angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 });
  const params = [
    { angle: -38.9, scale: 0.997, cropTop: 14, cropLeft: 9 },
    { angle: 30.2, scale: 1.25, cropTop: 0, cropLeft: 3 },
    { angle: 3, scale: 0.71, cropTop: 7, cropLeft: 7 },
  ];
  const warped = new Float32Array(x.length);
  params.forEach((p, n) => rts.applyParams(x, [3, 42, 42, 1], n, p, warped));
  const limited = new LimitedRtsPerturbation({ k: 5, angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 });
  const banks = [0, 17, 59999].map((i) => limited.bank(i, [1, 42, 42, 1]).map((b) => [b.angle, b.scale, b.cropTop, b.cropLeft]));
  const script = `
import json, sys
import numpy as np
sys.path.insert(0, ${JSON.stringify(TWIN_DIR)})
import twin_train as t
tr, va, _ = t.load_splits(t.find_mnist(${JSON.stringify(data)}), 7, 3, 3, 1)
P = json.loads(sys.argv[1])
rts = t.Rts({"angle": 45, "scale": [0.7, 1.3], "crop_sz": 42, "padding": 7})
out = rts.apply(tr.batch(np.arange(3)), *(np.array([p[k] for p in P]) for k in ("angle", "scale", "cropTop", "cropLeft")))
lim = t.LimitedRts({"angle": 45, "scale": [0.7, 1.3], "crop_sz": 42, "padding": 7}, 5)
print(json.dumps({"train": tr.source_indices.tolist(), "val": va.source_indices.tolist(), "warped": out.reshape(-1).tolist(),
                  "banks": [[list(b) for b in lim.bank(i, 42)] for i in (0, 17, 59999)]}))
`;
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(params)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const twin = JSON.parse(r.stdout);
  assert.deepEqual(twin.train, Array.from(train.sourceIndices), 'the same training images (PyTorch random_split, seed 0)');
  assert.deepEqual(twin.val, Array.from(val.sourceIndices), 'the same validation images');
  assert.ok((warped as Float32Array).some((v) => v > 0));
  assert.deepEqual(twin.warped, Array.from(warped), 'the same RTS warp and crop, pixel for pixel');
  assert.deepEqual(twin.banks, banks, 'the same k fixed perturbations per image (Alea, bank seed 0)');
});

test('training parity --same-init: the twin starts from pertset\'s initial weights and follows its shuffle order', (t) => {
  if (!need(t, DEPENDENCIES.torch) || !need(t, DEPENDENCIES.sharedMnist)) return;
  const out = tempDir('same-init');
  const r = driver(['--config', 'mnist_fc_linf', '--epochs', '2', '--limit', '300', '--val-limit', '50', '--test-limit', '20',
    '--spread-images', '4', '--seed', '3', '--same-init', '--side', 'pytorch', '--data', sharedDataDir(), '--out', out, '--json']);
  assert.equal(r.status, 0, `the driver failed: ${r.stderr.slice(-3000)}`);
  const result = JSON.parse(r.stdout);
  assert.equal(result.sameInit, true);
  const start = result.pytorch.start as { init: string; orders: string };
  assert.equal(start.init, path.join(out, 'same-init', 'weights'), 'the twin was given pertset\'s weights');
  assert.equal(start.orders, path.join(out, 'same-init', 'orders.bin'), 'and its orders');
  // The weights handed over are pertset's initialisation for (mnist_fc, seed 3), every tensor.
  const model = createCVAE('mnist_fc', { seed: 3 });
  try {
    const ours = modelToTorchTensors(model);
    const given = readTorchWeights(start.init);
    assert.deepEqual([...given.keys()].sort(), [...ours.keys()].sort());
    for (const [k, v] of ours) assert.deepEqual(Array.from(given.get(k)!.data), Array.from(v.data), `${k} is pertset's initial value`);
  } finally {
    model.dispose();
  }
  // The orders are pertset's epochs 0 and 1 over the 300 images.
  const orders = new Int32Array(new Uint8Array(fs.readFileSync(start.orders)).buffer);
  assert.equal(orders.length, 600);
  for (const e of [0, 1]) assert.deepEqual(Array.from(orders.subarray(300 * e, 300 * (e + 1))), Array.from(epochPermutation(300, 3, e, 'train')), `epoch ${e}`);
  // The twin loads them into its model exactly, and refuses orders of another size.
  const script = `
import sys
import numpy as np
sys.path.insert(0, ${JSON.stringify(TWIN_DIR)})
import pertset_weights, twin_models, twin_train as t
m = twin_models.build("mnist_fc")
t.load_initial_weights(m, sys.argv[1])
given = pertset_weights.load_tensors(sys.argv[1])
assert all(np.array_equal(v.numpy(), given[k].numpy()) for k, v in m.state_dict().items()), "weights differ after loading"
assert t.read_orders(sys.argv[2], 2, 300)[1].tolist() == np.fromfile(sys.argv[2], dtype="<i4")[300:].tolist()
try:
    t.read_orders(sys.argv[2], 3, 300)
    raise SystemExit("a wrong size was accepted")
except t.UsageError as e:
    print(e)
`;
  const py = spawnSync(PYTHON, ['-c', script, start.init, start.orders], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.match(py.stdout, /600 indices, expected 3 epochs x 300 training images/);
});

test('training parity: missing data or PyTorch is a clear error', (t) => {
  const r = driver(['--config', 'mnist_fc_linf', '--epochs', '1', '--data', path.join(tempDir('nodata'), 'nowhere')]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no MNIST for the parity run .*--data DIR/);
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const noTorch = spawnSync(process.execPath, [DRIVER, '--config', 'mnist_fc_linf', '--epochs', '1', '--data', sharedDataDir()], {
    encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: '/nonexistent/python3' },
  });
  assert.equal(noTorch.status, 2, noTorch.stderr);
  assert.match(noTorch.stderr, /\/nonexistent\/python3 cannot run .*PERTSET_PYTHON/);
});

test('step parity: from the same weights, batch and noise, one mnist_stn training step agrees with the twin; at the exact identity only the transformers\' last layer differs', (t) => {
  if (!need(t, DEPENDENCIES.torch) || !need(t, DEPENDENCIES.sharedMnist)) return;
  const run = (extra: string[]) => {
    const out = tempDir('steps');
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'parity', 'step-parity.mjs'), '--config', 'mnist_stn_rts', '--steps', '1',
      '--data', sharedDataDir(), '--out', out, '--json', ...extra], { encoding: 'utf8', env: { ...process.env, PERTSET_PYTHON: PYTHON }, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, `step-parity failed: ${r.stderr.slice(-3000)}`);
    return JSON.parse(r.stdout) as { rows: Array<{ recon: number[]; kl: number[] }>; grad1: Array<{ parameter: string; relativeDifference: number }> };
  };
  const off = run(['--off-identity']);
  assert.equal(off.grad1.length, 66 - 3, 'every parameter but the three biases cancelled by batch norm');
  const [row] = off.rows;
  assert.ok(Math.abs(row.recon[0] - row.recon[1]) < 1e-4 * row.recon[1] && Math.abs(row.kl[0] - row.kl[1]) < 1e-4 * row.kl[1], JSON.stringify(row));
  for (const g of off.grad1) assert.ok(g.relativeDifference < 1e-2, `${g.parameter}: step-1 gradient differs by ${g.relativeDifference}`);
  // At the identity every sampled coordinate is a whole pixel, where bilinear interpolation has a
  // kink; each side's one-sided derivative there is decided by its own rounding of the grid.
  const id = run([]);
  for (const g of id.grad1) {
    if (/^generator\.stns\.\d\.fc\./.test(g.parameter)) continue;
    assert.ok(g.relativeDifference < 1e-2, `${g.parameter}: step-1 gradient differs by ${g.relativeDifference}`);
  }
  assert.ok(id.grad1.some((g) => /^generator\.stns\.\d\.fc\./.test(g.parameter) && g.relativeDifference > 1e-2), 'the one-sided derivative at whole pixels differs');
});
