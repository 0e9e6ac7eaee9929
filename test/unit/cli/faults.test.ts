/**
 * Faults the command line must refuse with a clear message and exit code 1, never a hang or an
 * internal error: output folders that cannot hold folders (/proc, a file as parent), configs
 * that are invalid before the overrides apply, and error prefixes that must appear once.
 * Every case drives the real CLI (bin/pertset.js) with a timeout.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEPENDENCIES, need, REPO_ROOT } from '../../helpers/env';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-faults-'));
const empty = fs.mkdtempSync(path.join(tmp, 'nodata-'));
const env = { ...process.env, PERTSET_DATA: empty, PERTSET_CACHE: empty, PERTSET_BACKEND: 'wasm' };

/** Runs the CLI; a hang shows up as a killed process (code null), which the asserts report. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, env, encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function refuses(args: string[], message: RegExp) {
  const r = cli(...args);
  assert.equal(r.signal, null, `pertset ${args.join(' ')} was killed after 120 s (hang)`);
  assert.equal(r.code, 1, `pertset ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /TypeError|Cannot (set|read) properties|\n\s+at /);
}

const PROC_REFUSES = '/proc exists but refuses new folders';

test('output folders under /proc are refused at once, naming the folder and why', (t) => {
  if (!need(t, DEPENDENCIES.procFs)) return;
  const train = ['train', '--config', 'mnist_fc_linf', '--epochs', '1', '--limit', '64', '--val-limit', '64'];
  refuses([...train, '--out', '/proc/pertset-run'], new RegExp(`^pertset train: cannot create the run folder /proc/pertset-run: ${PROC_REFUSES}`, 'm'));
  refuses([...train, '--out', '/proc/pertset/a/b'], new RegExp(`cannot create the run folder /proc/pertset/a/b: ${PROC_REFUSES}`));
  // An existing folder that refuses children is caught before training, not at the first checkpoint.
  refuses([...train, '--out', '/proc/self'], /cannot create the run folder \/proc\/self: \/proc\/self exists but refuses new folders/);
  refuses(['data', 'download', 'mnist', '--cache', '/proc/pertset-cache'], new RegExp(`^pertset data: cannot create the data cache /proc/pertset-cache/mnist: ${PROC_REFUSES}`, 'm'));
  refuses(['kernel', 'install', '--jupyter-path', '/proc/pertset-jp'], new RegExp(`^pertset kernel: cannot create the kernelspec folder /proc/pertset-jp/kernels/pertset: ${PROC_REFUSES}`, 'm'));
  refuses(['kernel', 'install', '--prefix', '/proc/pertset-prefix'], /cannot create the kernelspec folder \/proc\/pertset-prefix\/share\/jupyter\/kernels\/pertset/);
  refuses(['import-torch', '--weights', path.join(tmp, 'none.pth'), '--out', '/proc/pertset-import'], new RegExp(`^pertset import-torch: cannot create the run folder /proc/pertset-import: ${PROC_REFUSES}`, 'm'));
});

test('an output folder below a file is refused, naming the file', () => {
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  refuses(['train', '--config', 'mnist_fc_linf', '--epochs', '1', '--limit', '64', '--out', path.join(file, 'run')],
    new RegExp(`cannot create the run folder ${file}/run: ${file} exists and is not a folder`));
  refuses(['kernel', 'install', '--jupyter-path', path.join(file, 'jp')], new RegExp(`${file} exists and is not a folder`));
});

test('a config without a training section is reported as such, with or without overrides', () => {
  const config = path.join(tmp, 'no-training.json');
  fs.writeFileSync(config, JSON.stringify({
    model: { type: 'mnist_fc', model_dir: 'x' },
    perturbation: { train_type: 'linfinity', test_type: 'linfinity', epsilon: 0.3 },
    dataset: { type: 'mnist' },
  }));
  const missing = new RegExp(`^pertset train: ${config}: training: missing section`, 'm');
  const out = ['--out', path.join(tmp, 'never')];
  refuses(['train', '--config', config, ...out], missing);
  refuses(['train', '--config', config, '--epochs', '1', ...out], missing);
  refuses(['train', '--config', config, '--batch-size', '8', ...out], missing);
  const notObject = path.join(tmp, 'training-number.json');
  fs.writeFileSync(notObject, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), training: 5 }));
  refuses(['train', '--config', notObject, '--epochs', '2', ...out], /training: expected an object, got 5/);
  assert.equal(fs.existsSync(path.join(tmp, 'never')), false, 'a refused config must not create the run folder');
});

test('error messages carry the command prefix exactly once', () => {
  const cases: Array<[string[], RegExp]> = [
    [['train'], /^pertset train: --config NAME\|FILE is required/],
    [['train', '--config', 'mnist_fc_linf', '--epochs', '0'], /^pertset train: --epochs must be an integer >= 1, got "0"/],
    [['radius'], /^pertset radius: --run DIR is required/],
    [['radius', '--run', 'x', '--checkpoint', 'foo'], /^pertset radius: --checkpoint must be latest or best, got "foo"/],
    [['eval', '--run', 'x', '--radius', '0'], /^pertset eval: --radius must be > 0/],
    [['bench', '--only', 'nope'], /^pertset bench: --only: unknown workload "nope"/],
    [['import-torch'], /^pertset import-torch: --weights DIR_OR_FILE is required/],
    [['kernel', 'install', '--user', '--prefix', 'x'], /^pertset kernel: choose one of --user, --prefix, --jupyter-path/],
    [['kernel', 'foo'], /^pertset kernel: expected "install", "uninstall" or "list", got "foo"/],
    [['data', 'foo'], /^pertset data: expected "download" or "info", got "foo"/],
    [['data', 'download', 'foo'], /^pertset data: download: expected the dataset name "mnist"/],
    [['info', '--threads', '0'], /^pertset info: --threads must be an integer >= 1/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 1, `pertset ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, `pertset ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /^pertset ([\w-]+): \1\b/m, `pertset ${args.join(' ')} doubles its prefix`);
  }
});
