/**
 * `pertset robust-train` end to end on the embedded subset: errors name the problem, a short
 * run prints progress and one JSON object with --json, a rerun of a finished run says so.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../helpers/env';
import { tmpDir } from '../train/fixtures';
import { cvaeRun } from './fixtures';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'robust-train', ...args], { cwd: REPO_ROOT, env: { ...process.env, PERTSET_BACKEND: 'wasm' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('robust-train: errors, a short run with --json, a rerun of the finished run', async () => {
  assert.match(cli().stderr, /^pertset robust-train: --config NAME\|FILE is required/m);
  const unknown = cli('--config', 'mnist_rts_conv_cvae_atack');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such shipped robust config \(expected one of mnist_linf_conv_cvae_attack, .*mnist_rts_conv_sample_aug\)/);
  const file = path.join(tmpDir('robust-badcfg'), 'bad.json');
  fs.writeFileSync(file, JSON.stringify({ model: { type: 'mnist_conv' }, attack: { type: 'cvae_attack', checkpoint: 'x' }, training: { epochs: 1, batch_size: 8, step_size_schedule: [[0], [0.001]] }, dataset: { type: 'mnist' } }));
  assert.match(cli('--config', file).stderr, /bad\.json: attack\.max_dist: missing \(expected a number\)/);
  const noCvae = cli('--config', 'mnist_linf_conv_cvae_aug', '--cvae', path.join(tmpDir('robust-nocvae'), 'none'), '--out', path.join(tmpDir('robust-o'), 'r'));
  assert.equal(noCvae.code, 1);
  assert.match(noCvae.stderr, /attack\.checkpoint: the CVAE run folder .*none does not exist/);

  const cvae = await cvaeRun('mnist_fc_linf', 64, 32, 1);
  const out = path.join(tmpDir('robust-cli'), 'run');
  const args = ['--config', 'mnist_linf_conv_cvae_attack', '--cvae', cvae, '--out', out, '--epochs', '1', '--limit', '32', '--val-limit', '16', '--batch-size', '16', '--seed', '3', '--json'];
  const r = cli(...args);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.deepEqual([result.status, result.epochs, result.globalStep, result.runDir], ['finished', 1, 2, out]);
  assert.ok(result.history[0].validation.accuracy >= 0);
  assert.match(r.stderr, /cvae: +.* \(latest, mnist_fc\)/);
  assert.match(r.stderr, /epoch 1: train loss .* validation \(clean\) accuracy/);
  for (const f of ['run.json', 'config.json', 'checkpoints/latest/model.json', 'checkpoints/latest/trainer.json', 'checkpoints/best/weights.bin']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).status, 'finished');
  const again = cli(...args.filter((a) => a !== '--json'));
  assert.equal(again.code, 0);
  assert.match(again.stdout, /the run is already complete \(1\/1 epochs, 2 steps\)/);
});
