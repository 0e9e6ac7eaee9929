/**
 * The configs_robust schema: every shipped config loads; σ of the smoothing configs is
 * ε_target / Φ⁻¹(α^{1/n}) (α = 0.001, n = 10⁴, Φ⁻¹ = 3.1985775 from scipy); the reference's
 * checkpoint paths map onto run folders; bad configs name the path at fault.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { builtinRobustConfigDir, builtinRobustConfigNames, loadRobustConfig, resolveCvaeCheckpoint, robustConfigFromJson } from '../../../kernel/api/config';
import { ConfigError } from '../../../kernel/api/errors';
import { tmpDir } from '../train/fixtures';

/** scipy.stats.norm.ppf(0.001 ** (1 / 10000)). */
const PHI_INV = 3.1985775147383384;

const shipped = (name: string) => JSON.parse(fs.readFileSync(path.join(builtinRobustConfigDir(), `${name}.json`), 'utf8'));

test('shipped configs: five methods for MNIST-RTS and MNIST-ℓ∞, three σ each, all valid', () => {
  const names = builtinRobustConfigNames();
  assert.equal(names.length, 14);
  for (const set of ['mnist_rts', 'mnist_linf']) {
    for (const m of ['none', 'sample_aug', 'cvae_aug', 'cvae_attack']) assert.ok(names.includes(`${set}_conv_${m}`), `${set}_conv_${m}`);
  }
  for (const name of names) {
    const c = loadRobustConfig(name);
    assert.equal(c.name, name, 'model_dir is the file name, as the reference asserts');
    assert.deepEqual(c.warnings, []);
    assert.equal(c.model.architecture, 'mnist_conv');
    assert.equal(c.dataset.padding, name.startsWith('mnist_rts') ? 7 : 0);
    assert.equal(c.training.lr.at(8), 0.001);
  }
  const attack = loadRobustConfig('mnist_rts_conv_cvae_attack');
  assert.deepEqual([attack.attack.epsilon, attack.attack.alpha, attack.attack.steps], [8, 1.6, 7], 'the compressed RTS set\u2019s ε, α = ε/5');
  assert.equal(attack.attack.cvae!.runDir, path.resolve('experiments/mnist_stn_rts'));
  assert.equal(loadRobustConfig('mnist_linf_conv_cvae_attack').attack.epsilon, 28);
  // σ = r / Φ⁻¹(α^{1/n}) for target radii r: ℓ∞, the trained 20-epoch mnist_fc_linf set's p50 / p75 / max
  // latent norms; RTS, the compressed mnist_stn_rts set's; σ rounded up so that σ·Φ⁻¹ reaches r.
  const targets = { mnist_rts: [2.61, 3.21, 7.58], mnist_linf: [23.83, 24.40, 27.12] };
  for (const set of ['mnist_rts', 'mnist_linf'] as const) {
    const sigmas = names.filter((n) => n.startsWith(`${set}_conv_cvae_smoothing`)).map((n) => loadRobustConfig(n).attack.sigma!).sort((a, b) => a - b);
    assert.equal(sigmas.length, 3);
    sigmas.forEach((s, i) => assert.ok(Math.abs(s * PHI_INV - targets[set][i]) < 0.04, `${set} σ ${s}: radius ${s * PHI_INV} vs target ${targets[set][i]}`));
    sigmas.forEach((s, i) => assert.ok(s * PHI_INV >= targets[set][i], `σ ${s} reaches ${targets[set][i]}`));
  }
});

test('the reference checkpoint path maps onto our run folders', () => {
  assert.deepEqual(resolveCvaeCheckpoint('experiments/x/checkpoints/checkpoint_latest.pth', 'w', '/base'), { runDir: '/base/experiments/x', checkpoint: 'latest' });
  assert.deepEqual(resolveCvaeCheckpoint('/r/checkpoints/checkpoint_best.pth'), { runDir: '/r', checkpoint: 'best' });
  assert.deepEqual(resolveCvaeCheckpoint('/r/checkpoints/checkpoint_19.pth'), { runDir: '/r', checkpoint: 'epoch-020' });
  assert.deepEqual(resolveCvaeCheckpoint('/runs/rts'), { runDir: '/runs/rts', checkpoint: 'latest' });
  const run = tmpDir('cvaeref');
  fs.writeFileSync(path.join(run, 'run.json'), '{}');
  assert.deepEqual(resolveCvaeCheckpoint(path.join(run, 'checkpoints', 'best')), { runDir: run, checkpoint: 'best' });
  assert.throws(() => resolveCvaeCheckpoint('/tmp/weights.pth'), /attack\.checkpoint: "\/tmp\/weights\.pth" is a PyTorch checkpoint pertset cannot map/);
  const c = loadRobustConfig('mnist_rts_conv_cvae_aug', { cvae: path.join(run, 'checkpoints', 'best') });
  assert.deepEqual(c.attack.cvae, { runDir: run, checkpoint: 'best' });
});

test('a CVAE reached through a link is recorded under its real path, so --runs links name the same set', () => {
  const run = tmpDir('cvaeidentity');
  fs.writeFileSync(path.join(run, 'run.json'), '{}');
  const links = tmpDir('cvaelinks');
  fs.symlinkSync(run, path.join(links, 'mnist_stn_rts'));
  const viaLink = loadRobustConfig('mnist_rts_conv_cvae_aug', { cvae: path.join(links, 'mnist_stn_rts') });
  const direct = loadRobustConfig('mnist_rts_conv_cvae_aug', { cvae: run });
  assert.equal(viaLink.attack.cvae!.runDir, fs.realpathSync(run));
  assert.deepEqual(viaLink.json, direct.json);
  // A folder that does not exist yet keeps its resolved path (it may be created later).
  assert.equal(resolveCvaeCheckpoint(path.join(links, 'missing')).runDir, path.join(links, 'missing'));
});

test('overrides: --epochs rescales the LR schedule, the others land in the recorded JSON', () => {
  const c = loadRobustConfig('mnist_linf_conv_none', { epochs: 5, limit: 100, seed: 4, outDir: '/tmp/x' });
  assert.deepEqual(c.training.lr.knots, [0, 2, 5]);
  assert.equal(c.training.epochs, 5);
  assert.equal(c.dataset.limit, 100);
  assert.equal(c.seed, 4);
  assert.equal(c.runDir, '/tmp/x');
  assert.equal((c.json.training as { epochs: number }).epochs, 5);
});

function bad(patch: (j: Record<string, any>) => void, message: RegExp, base = 'mnist_rts_conv_cvae_attack') {
  const json = shipped(base);
  patch(json);
  assert.throws(() => robustConfigFromJson(json, 'my.json'), (e: unknown) => e instanceof ConfigError && message.test((e as Error).message) && (e as Error).message.startsWith('my.json: '), message.source);
}

test('bad configs: each error names its JSON path', () => {
  bad((j) => { j.attack.type = 'pgd'; }, /attack\.type: unknown value "pgd"; expected one of none, sample_aug, cvae_aug, cvae_attack, cvae_gaussian/);
  bad((j) => { delete j.attack.max_dist; }, /attack\.max_dist: missing/);
  bad((j) => { j.attack.niters = 0; }, /attack\.niters: must be >= 1, got 0/);
  bad((j) => { delete j.attack.checkpoint; }, /attack\.checkpoint: attack\.type "cvae_attack" needs the CVAE's run folder/);
  bad((j) => { j.attack.model.type = 'mnist_unet'; }, /attack\.model\.type: unknown value "mnist_unet"/);
  bad((j) => { delete j.attack.sigma; }, /attack\.sigma: missing/, 'mnist_rts_conv_cvae_smoothing_82');
  bad((j) => { delete j.perturbation; }, /perturbation: attack\.type "sample_aug" trains on real perturbations/, 'mnist_rts_conv_sample_aug');
  bad((j) => { j.perturbation.crop_sz = 28; }, /perturbation\.crop_sz: must equal the padded image size 42, got 28/);
  bad((j) => { j.training.optimizer = 'sgd'; }, /training\.optimizer: "sgd" is not supported/);
  bad((j) => { j.training.step_size_schedule = [[0, 1], [0.1]]; }, /training\.step_size_schedule: 2 knots but 1 values/);
  bad((j) => { j.model.type = 'wideresnet'; }, /model\.type: wideresnet takes CIFAR-10 images \(dataset\.type "cifar10"\), but dataset\.type is "mnist"/);
  bad((j) => { j.model = { type: 'wideresnet', layers: 27 }; j.dataset = { type: 'cifar10' }; }, /model\.layers: a WideResNet's depth is 6n \+ 4/);
  bad((j) => { j.dataset.type = 'cifar10c_nooriginal'; }, /dataset\.type: unknown value "cifar10c_nooriginal"/);
  bad((j) => { delete j.training; }, /training: missing section/);
  const w = robustConfigFromJson({ ...shipped('mnist_linf_conv_none'), extra: 1 }, 'w.json');
  assert.deepEqual(w.warnings, ['extra: unknown key, ignored']);
});
