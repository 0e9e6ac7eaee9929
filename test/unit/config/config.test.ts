import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  betaAt,
  builtinConfigNames,
  fromReferenceConfig,
  learningRateAt,
  loadConfig,
  piecewiseLinear,
} from '../../../kernel/api/config';
import { ConfigError } from '../../../kernel/api/errors';
import { radiusPairs, trainingData } from '../../../kernel/api/pairs/config-pairs';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('piecewise-linear schedules interpolate like np.interp and clamp outside the knots', () => {
  const s = piecewiseLinear([[0, 10, 15, 20], [0, 1e-3, 5e-4, 1e-4]], 'lr');
  close(s.at(-1), 0);
  close(s.at(0), 0);
  close(s.at(5), 5e-4);
  close(s.at(10), 1e-3);
  close(s.at(12.5), 7.5e-4);
  close(s.at(17.5), 3e-4);
  close(s.at(20), 1e-4);
  close(s.at(25), 1e-4);
  const single = piecewiseLinear([[3], [0.5]], 'b');
  close(single.at(0), 0.5);
  close(single.at(9), 0.5);
});

test('the LR is read at the fractional epoch epoch+(batch+1)/batches, β at the integer epoch', () => {
  const lr = piecewiseLinear([[0, 10], [0, 1]], 'lr');
  close(learningRateAt(lr, 0, 0, 4), 0.025); // (0 + 1/4) / 10
  close(learningRateAt(lr, 2, 3, 4), 0.3); // epoch 3.0
  const beta = piecewiseLinear([[0, 5, 20], [0, 1e-3, 1e-2]], 'beta');
  close(betaAt(beta, 0), 0);
  close(betaAt(beta, 5), 1e-3);
  close(betaAt(beta, 12), 1e-3 + (7 / 15) * 9e-3);
  close(betaAt(beta, 40), 1e-2);
});

function base(): any {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'kernel', 'configs', 'mnist_fc_linf.json'), 'utf8'));
}

function expectError(patch: (j: any) => void, pattern: RegExp) {
  const j = base();
  patch(j);
  assert.throws(() => fromReferenceConfig(j, 'x.json'), (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message), `expected ${pattern}`);
}

test('config errors name the JSON path of the problem', () => {
  expectError((j) => (j.training.step_size_schedule[1] = 'fast'), /x\.json: training\.step_size_schedule\[1\]: expected a non-empty array/);
  expectError((j) => (j.training.step_size_schedule[1][2] = null), /training\.step_size_schedule\[1\]\[2\]: expected a finite number/);
  expectError((j) => (j.training.step_size_schedule[0] = [0, 10, 5, 20]), /training\.step_size_schedule\[0\]\[2\]: knots must be non-decreasing/);
  expectError((j) => (j.training.beta_schedule = [[0, 5], [0, 1, 2]]), /training\.beta_schedule: 2 knots but 3 values/);
  expectError((j) => (j.training.beta_schedule[1][0] = -1), /training\.beta_schedule\[1\]\[0\]: must be >= 0/);
  expectError((j) => (j.training.epochs = 2.5), /training\.epochs: expected an integer, got 2\.5/);
  expectError((j) => delete j.training.batch_size, /training\.batch_size: missing/);
  expectError((j) => (j.model.type = 'resnet'), /model\.type: unknown value "resnet"; expected one of mnist_fc, mnist_conv, mnist_stn/);
  expectError((j) => (j.perturbation.train_type = 'blur'), /perturbation\.train_type: unknown value "blur"/);
  expectError((j) => (j.perturbation.epsilon = 0), /perturbation\.epsilon: must be > 0/);
  expectError((j) => (j.dataset.padding = 7), /dataset\.padding: mnist_fc takes 28×28 inputs, so padding must be 0/);
  expectError((j) => delete j.dataset, /dataset: missing section/);
  expectError((j) => (j.ae.max_dist = -3), /ae\.max_dist: must be > 0/);
  expectError((j) => (j.seed = 'one'), /seed: expected a number/);
  expectError((j) => (j.training.optimizer = 'sgd'), /training\.optimizer: unknown value "sgd"; expected one of adam/);
});

test('every shipped config loads by name and by path, with the paper §3 values', () => {
  const names = builtinConfigNames();
  assert.deepEqual(names, [
    'cifar10_c_rectangle', 'cifar10_c_rectangle_nooriginal', 'cifar10_c_rectangle_reduced', 'cifar10_c_rectangle_withoriginal',
    'mnist_conv_linf', 'mnist_fc_linf', 'mnist_stn_rts', 'mnist_stn_rts_limited_1', 'mnist_stn_rts_limited_5',
  ]);
  for (const n of names) {
    const c = loadConfig(n);
    assert.equal(c.name, n);
    assert.equal(c.source, `builtin:${n}`);
    // The reduced CIFAR set (pertset's, for 2 cores) halves the batch; the reference configs use 128.
    assert.equal(c.training.batchSize, n === 'cifar10_c_rectangle_reduced' ? 64 : 128);
    assert.deepEqual(c.warnings, []);
  }
  const fc = loadConfig('mnist_fc_linf');
  assert.equal(fc.training.epochs, 20);
  assert.deepEqual(fc.training.lr.values, [0, 1e-3, 5e-4, 1e-4]);
  assert.deepEqual(fc.training.beta.knots, [0, 5, 20]);
  assert.equal(fc.eval.radius, 28);
  assert.deepEqual(fc.perturbation.train, { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 });
  assert.equal(loadConfig('mnist_conv_linf').training.lr.at(0), 1e-3);
  const rts = loadConfig('mnist_stn_rts');
  assert.deepEqual(rts.training.lr.knots, [0, 40, 100]);
  assert.deepEqual(rts.training.beta.values, [0, 0.01, 1, 1]);
  assert.equal(rts.dataset.padding, 7);
  assert.deepEqual(rts.perturbation.test, { type: 'rts', angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 });
  const lim = loadConfig('mnist_stn_rts_limited_5');
  assert.equal(lim.dataset.k, 5);
  assert.equal(lim.perturbation.train.type, 'dataloader');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'mine.json');
  fs.writeFileSync(file, JSON.stringify(base()));
  assert.equal(loadConfig(file).training.epochs, 20);
});

test("a reference user's config (GPU keys, ~/data) loads with warnings, not errors", () => {
  const reference = {
    model: { model_dir: 'mnist_fc_linf', type: 'mnist_fc', output_distribution: 'bernoulli' },
    perturbation: { train_type: 'linfinity', test_type: 'linfinity', epsilon: 0.3, min: 0, max: 1 },
    output_dir: './experiments',
    training: {
      optimizer: 'adam', epochs: 20, batch_size: 128,
      step_size_schedule: [[0, 10, 15, 20], [0, 0.001, 0.0005, 0.0001]],
      beta_schedule: [[0, 5, 20], [0, 1e-3, 1e-2]],
      momentum: 0, weight_decay: 0, log_interval: 100, checkpoint_interval: 10,
    },
    eval: { batch_size: 128, sample_interval: 1 },
    dataset: { type: 'mnist', data_path: '~/data', padding: 0 },
    device: 'cuda',
    wandb: { project: 'x' },
  };
  const c = fromReferenceConfig(reference, 'mnist_fc_linf.json');
  assert.equal(c.runDir, path.join('./experiments', 'mnist_fc_linf'));
  assert.equal(c.eval.radius, null);
  assert.equal(c.seed, 1);
  assert.deepEqual(c.warnings, ['wandb: unknown key, ignored']);
});

test('overrides: --epochs rescales the schedule knots, --limit/--seed/--data are recorded', () => {
  const c = loadConfig('mnist_fc_linf', { epochs: 2, limit: 100, seed: 9, dataDir: '/tmp/d', outDir: '/tmp/run' });
  assert.equal(c.training.epochs, 2);
  assert.deepEqual(c.training.lr.knots, [0, 1, 1.5, 2]);
  assert.deepEqual(c.training.lr.values, [0, 1e-3, 5e-4, 1e-4]);
  assert.deepEqual(c.training.beta.knots, [0, 0.5, 2]);
  assert.equal(c.json.training.epochs, 2);
  assert.equal(c.dataset.limit, 100);
  assert.equal(c.seed, 9);
  assert.equal(c.dataset.dataPath, '/tmp/d');
  assert.equal(c.runDir, '/tmp/run');
  assert.throws(() => loadConfig('mnist_fc_linf', { epochs: 0 }), /epochs: must be an integer >= 1/);
  assert.throws(() => loadConfig('mnist_fc_lnf'), /config "mnist_fc_lnf": no such shipped config \(expected one of cifar10_c_rectangle, .*mnist_conv_linf/);
  assert.throws(() => loadConfig('/nonexistent/cfg.json'), /config file \/nonexistent\/cfg\.json does not exist/);
});

test('overrides: batchSize and validationLimit reach the config and the validation pairs', () => {
  const c = loadConfig('mnist_fc_linf', { batchSize: 32, validationLimit: 50 });
  assert.equal(c.training.batchSize, 32);
  assert.equal(c.json.training.batch_size, 32);
  assert.equal(c.dataset.validationLimit, 50);
  const data = trainingData(c);
  assert.equal(data.val.count, 50);
  assert.equal(radiusPairs(c).count, 50);
  assert.equal(radiusPairs(c, { limit: 20 }).count, 20);
  assert.throws(() => loadConfig('mnist_fc_linf', { batchSize: 0 }), /batchSize: must be an integer >= 1, got 0/);
  assert.throws(() => loadConfig('mnist_fc_linf', { validationLimit: 1.5 }), /validationLimit: must be an integer >= 1, got 1.5/);
});
