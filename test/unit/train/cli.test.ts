/**
 * The `train`, `radius` and `eval` commands end to end on the embedded Fashion-MNIST subset
 * (PERTSET_DATA and the cache point at empty folders): exit codes, error messages, `--json`
 * shapes (exactly one JSON object on stdout), Ctrl-C then resume.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { histogram } from '../../../kernel/api/display';
import { loadRadiusNorms } from '../../../kernel/api/evaluate';
import { REPO_ROOT } from '../../helpers/env';
import { tmpDir } from './fixtures';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const empty = tmpDir('nodata');
const env = { ...process.env, PERTSET_DATA: empty, PERTSET_CACHE: empty, PERTSET_BACKEND: 'wasm' };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('errors name the problem and exit non-zero', () => {
  const missing = cli('train');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^pertset train: --config NAME\|FILE is required/m);
  const unknown = cli('train', '--config', 'mnist_fc_lnf');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such shipped config \(expected one of cifar10_c_rectangle, .*mnist_conv_linf/);
  const badOption = cli('train', '--config', 'mnist_fc_linf', '--epoch', '2');
  assert.equal(badOption.code, 1);
  assert.match(badOption.stderr, /--epoch/);
  const file = path.join(tmpDir('badcfg'), 'bad.json');
  const json = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'kernel', 'configs', 'mnist_fc_linf.json'), 'utf8'));
  json.training.step_size_schedule[1] = [0, 'x', 1, 2];
  fs.writeFileSync(file, JSON.stringify(json));
  const bad = cli('train', '--config', file);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /training\.step_size_schedule\[1\]\[1\]: expected a finite number, got "x"/);
  const epochs = cli('train', '--config', 'mnist_fc_linf', '--epochs', '0');
  assert.equal(epochs.code, 1);
  assert.match(epochs.stderr, /--epochs must be an integer >= 1, got "0"/);
  const noRun = cli('eval', '--run', path.join(empty, 'nope'), '--json');
  assert.equal(noRun.code, 1);
  assert.equal(noRun.stdout, '');
  assert.match(noRun.stderr, /run directory .*nope does not exist/);
  const notRun = cli('radius', '--run', empty);
  assert.equal(notRun.code, 1);
  assert.match(notRun.stderr, /is not a pertset run directory \(no run\.json/);
  assert.match(cli('eval', '--run', empty, '--radius=-1').stderr, /--radius must be a number >= 0, got "-1"/);
});

test('train → radius --json → eval --json on the embedded subset', () => {
  const out = path.join(tmpDir('cli'), 'run');
  const t = cli('train', '--config', 'mnist_fc_linf', '--out', out, '--epochs', '1', '--limit', '256', '--seed', '2');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /data: +256 training pairs, 500 validation — embedded Fashion-MNIST subset/);
  assert.match(t.stdout, /warning: MNIST not found/);
  assert.match(t.stdout, /epoch 1: train loss/);
  const record = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
  assert.equal(record.status, 'finished');
  assert.equal(record.seed, 2);
  assert.equal(record.dataset.train.images.name, 'embedded');
  assert.equal(record.backend.name, 'wasm');
  const again = cli('train', '--config', 'mnist_fc_linf', '--out', out, '--epochs', '1', '--limit', '256', '--seed', '2');
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already complete/);
  // --json, as robust-train: one object on stdout, everything else on stderr.
  const asJson = cli('train', '--config', 'mnist_fc_linf', '--out', out, '--epochs', '1', '--limit', '256', '--seed', '2', '--json');
  assert.equal(asJson.code, 0, asJson.stderr);
  const summary = JSON.parse(asJson.stdout);
  assert.deepEqual([summary.status, summary.epochs, summary.globalStep, summary.runDir], ['finished', 1, record.globalStep, out]);
  assert.ok(Number.isFinite(summary.history[0].validation.loss));
  assert.match(asJson.stderr, /already complete/);

  const r = cli('radius', '--run', out, '--json', '--limit', '64', '--passes', '2');
  assert.equal(r.code, 0, r.stderr);
  const radius = JSON.parse(r.stdout);
  for (const k of ['mean', 'std', 'p25', 'p50', 'p75', 'p999', 'max']) assert.equal(typeof radius[k], 'number', k);
  assert.equal(radius.n, 128);
  assert.equal(radius.radius, Math.ceil(radius.max));
  assert.equal(radius.dataset.images.name, 'embedded');
  // Every norm is kept, so a histogram can be redrawn without recomputing.
  assert.equal(radius.normsFile, 'radius-norms.json');
  const saved = loadRadiusNorms(out);
  assert.equal(saved.norms.length, 128);
  assert.equal(saved.passes, 2);
  assert.equal(Math.max(...saved.norms), radius.max);
  assert.ok(histogram(saved.norms, { percentiles: [50] }) !== null);

  const e = cli('eval', '--run', out, '--json', '--limit', '40', '--steps', '3');
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stdout.trim().split('\n').length, 1, 'exactly one line of JSON on stdout');
  const report = JSON.parse(e.stdout);
  for (const k of ['encoderAE', 'pgdAE', 'expectedAE', 'overAE', 'kl', 'recon', 'identityError', 'radius', 'n']) assert.equal(typeof report[k], 'number', k);
  assert.equal(report.n, 40);
  assert.equal(report.radius, radius.radius, 'default radius: the calibrated one');
  assert.equal(report.radiusSource, 'calibrated');
  assert.equal(report.dataset.images.split, 'test');
  assert.ok(fs.existsSync(path.join(out, 'eval.json')));
  assert.ok(report.sampleSpread > 0, 'sample spread reported');
  assert.deepEqual(Object.keys(report.collapse).sort(), ['collapsed', 'eaeGap', 'klPerDim', 'reason', 'sampleSpread']);
  assert.equal(report.affineSpread, undefined, 'no affine fit for an ℓ∞ set');
  // samples.png: 8 rows (test images) of x, x̃, reconstruction and 8 samples, 28 px × 2 with 2 px gaps.
  const png = PNG.sync.read(fs.readFileSync(path.join(out, report.samplesFile)));
  assert.equal(png.width, 11 * 58 + 2);
  assert.equal(png.height, 8 * 58 + 2);
  const human = cli('eval', '--run', out, '--limit', '8', '--steps', '1', '--radius', '3', '--no-oae');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /radius: 3 \(--radius\)/);
  assert.match(human.stdout, /over AE 0\.0000/);
  assert.match(human.stdout, /^per-pixel MSE: encoder AE [\d.]+ +PGD AE [\d.]+ +expected AE [\d.]+ +identity [\d.]+$/m);
  assert.match(human.stdout, /^sample spread [\d.]+ +KL per dimension [\d.]+/m);
  assert.match(human.stdout, /^(WARNING posterior collapse|no collapse)/m);
  assert.match(human.stdout, /samples\.png/);
});

test('Ctrl-C stops training with a checkpoint; the same command resumes', async () => {
  const out = path.join(tmpDir('sigint'), 'run');
  const args = [BIN, 'train', '--config', 'mnist_fc_linf', '--out', out, '--epochs', '1', '--limit', '1280'];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (!sent && /step \d+\/10/.test(stdout)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /training interrupted at epoch 1\/1, step \d+\/10 \(global step \d+\); checkpoint saved/);
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'checkpoints', 'latest', 'trainer.json'), 'utf8'));
  assert.ok(saved.globalStep >= 1 && saved.globalStep < 10, `saved at ${saved.globalStep}`);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).status, 'interrupted');
  const resumed = cli(...args.slice(1));
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`resuming at epoch 1, step ${saved.step}/10 \\(global step ${saved.globalStep}\\)`));
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'checkpoints', 'latest', 'trainer.json'), 'utf8')).globalStep, 10);
});
