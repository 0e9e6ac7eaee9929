/**
 * `pertset corrupt` through the real CLI: the output is read back by the dataset loaders, the
 * same seed gives the same bytes, bad arguments are refused with named errors, and a malformed
 * input (or missing frost overlays) gives a clear error with nothing written.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readCifarBinary } from '../../../kernel/api/data/cifar-binary';
import { readIdxImagesAndLabels } from '../../../kernel/api/data/idx';
import { Corrupter, SUITES } from '../../../kernel/api/corruptions';
import { DEPENDENCIES, need, REPO_ROOT, sharedDataDir } from '../../helpers/env';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-corrupt-'));
const empty = fs.mkdtempSync(path.join(tmp, 'nodata-'));
const env = { ...process.env, PERTSET_DATA: empty, PERTSET_CACHE: empty };
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'corrupt', ...args], { cwd: tmp, env, encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]) {
  const r = cli(...args);
  assert.equal(r.code, 0, `pertset corrupt ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r;
}

function refuses(args: string[], message: RegExp, out?: string) {
  const r = cli(...args);
  assert.equal(r.code, 1, `pertset corrupt ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /TypeError|Cannot (set|read) properties|\n\s+at /);
  if (out) assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0, `${out} was written: ${fs.existsSync(out) ? fs.readdirSync(out).join(', ') : ''}`);
}

const bytesOf = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f))]));

test('corrupt cifar10: CIFAR binary batches the loader reads back, labels kept, pixels as the API computes them, same seed same bytes', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.sharedFrost)) return;
  const a = path.join(tmp, 'c10-a');
  const b = path.join(tmp, 'c10-b');
  const c = path.join(tmp, 'c10-c');
  const common = ['--dataset', 'cifar10', '--corruption', 'frost,jpeg_compression,spatter', '--severity', '2,5', '--data', sharedDataDir(), '--limit', '24'];
  const r = ok([...common, '--out', a, '--seed', '7']);
  assert.match(r.stdout, /24 test images × 6 \(corruption, severity\)/);
  ok([...common, '--out', b, '--seed', '7']);
  ok([...common, '--out', c, '--seed', '8']);
  const source = readCifarBinary(path.join(sharedDataDir(), 'cifar10', 'test_batch_first1000.bin.gz'));
  const corrupter = new Corrupter('cifar10c', { frostDir: sharedDataDir() });
  for (const name of ['frost', 'jpeg_compression', 'spatter']) {
    for (const s of [2, 5]) {
      const dir = path.join(a, name, String(s));
      assert.deepEqual(fs.readdirSync(dir).sort(), ['corruption.json', 'test_batch.bin']);
      assert.deepEqual(bytesOf(dir), bytesOf(path.join(b, name, String(s))), `${name} s${s}: same seed, different bytes`);
      const back = readCifarBinary(path.join(dir, 'test_batch.bin'));
      assert.equal(back.count, 24);
      assert.deepEqual(back.labels, source.labels.subarray(0, 24));
      // Image 5 as the API corrupts it, stored as the reference stores (truncation to uint8).
      const x = Float32Array.from(source.images.subarray(5 * 3072, 6 * 3072), (v) => v / 255);
      const expected = corrupter.apply(x, [32, 32, 3], name, s, corrupter.rngFor(7, name, s, 5));
      const stored = back.images.subarray(5 * 3072, 6 * 3072);
      for (let i = 0; i < 3072; i++) assert.equal(stored[i], Math.floor(expected[i] * 255 + 1e-4), `${name} s${s} value ${i}`);
      const record = JSON.parse(fs.readFileSync(path.join(dir, 'corruption.json'), 'utf8'));
      assert.equal(record.corruption, name);
      assert.equal(record.severity, s);
      assert.equal(record.seed, 7);
      assert.equal(record.heldOut, name === 'spatter');
      assert.deepEqual(record.parameters, SUITES.cifar10c.corruptions[name].levels[s - 1]);
      if (name !== 'jpeg_compression') assert.notDeepEqual(fs.readFileSync(path.join(c, name, String(s), 'test_batch.bin')), fs.readFileSync(path.join(dir, 'test_batch.bin')), `${name}: seeds 7 and 8 gave the same bytes`);
    }
  }
});

test('corrupt mnist: IDX files the loader reads back, every corruption, with --json', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const out = path.join(tmp, 'mnist');
  const r = ok(['--dataset', 'mnist', '--corruption', 'all', '--severity', '5', '--data', path.join(sharedDataDir(), 'mnist'), '--limit', '10', '--out', out, '--json']);
  const result = JSON.parse(r.stdout);
  assert.equal(result.suite, 'mnistc');
  assert.equal(result.folders.length, 15);
  const source = readIdxImagesAndLabels(path.join(sharedDataDir(), 'mnist', 't10k-images-idx3-ubyte.gz'), path.join(sharedDataDir(), 'mnist', 't10k-labels-idx1-ubyte.gz'));
  for (const name of SUITES.mnistc.names) {
    const dir = path.join(out, name, '5');
    const back = readIdxImagesAndLabels(path.join(dir, 't10k-images-idx3-ubyte'), path.join(dir, 't10k-labels-idx1-ubyte'));
    assert.deepEqual([back.count, back.height, back.width], [10, 28, 28]);
    assert.deepEqual(back.labels, source.labels.subarray(0, 10));
    assert.notDeepEqual(back.images, source.images.subarray(0, 7840), `${name} left the digits unchanged`);
  }
});

test('corrupt refuses bad arguments with named errors and writes nothing', () => {
  const out = path.join(tmp, 'refused');
  const base = ['--out', out, '--data', empty];
  refuses(['--dataset', 'cifar10', '--corruption', 'blur', '--severity', '5', ...base], /unknown corruption "blur" for cifar10; expected all or one of gaussian_noise, shot_noise, impulse_noise, defocus_blur/, out);
  refuses(['--dataset', 'mnist', '--corruption', 'frost', '--severity', '5', ...base], /unknown corruption "frost" for mnist; expected all or one of shot_noise/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '6', ...base], /--severity: must be all or integers from 1 to 5, got "6"/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '0', ...base], /integers from 1 to 5, got "0"/, out);
  refuses(['--dataset', 'svhn', '--corruption', 'fog', '--severity', '1', ...base], /--dataset: unknown dataset "svhn"; expected one of cifar10, mnist/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '1', '--data', empty], /--out is required/);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '1', '--seed', 'x', ...base], /--seed must be an integer, got "x"/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '1', '--limit', '0', ...base], /--limit must be an integer >= 1/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '1', '--bogus', ...base], /Unknown option '--bogus'/, out);
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '1', ...base], /CIFAR-10 not found in .*nodata/, out);
});

test('corrupt: a malformed input file or missing frost overlays give a clear error and nothing is written', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  // CIFAR: a truncated test batch.
  const bad = path.join(tmp, 'bad-cifar');
  fs.mkdirSync(bad);
  fs.writeFileSync(path.join(bad, 'data_batch_1.bin'), new Uint8Array(3073 * 2));
  fs.writeFileSync(path.join(bad, 'test_batch.bin'), new Uint8Array(3073 * 3 - 100));
  const out1 = path.join(tmp, 'out-bad-cifar');
  refuses(['--dataset', 'cifar10', '--corruption', 'fog', '--severity', '5', '--data', bad, '--out', out1], /test_batch\.bin: wrong size: 9119 bytes is not a whole number of 3073-byte CIFAR-10 records/, out1);
  // MNIST: an image file whose header promises more than it holds.
  const badM = path.join(tmp, 'bad-mnist');
  fs.mkdirSync(badM);
  const idx = (magic: number, dims: number[], n: number) => {
    const b = Buffer.alloc(4 + 4 * dims.length + n);
    b.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  fs.writeFileSync(path.join(badM, 'train-images-idx3-ubyte'), idx(0x803, [1, 28, 28], 784));
  fs.writeFileSync(path.join(badM, 'train-labels-idx1-ubyte'), idx(0x801, [1], 1));
  fs.writeFileSync(path.join(badM, 't10k-images-idx3-ubyte'), idx(0x803, [10, 28, 28], 784 * 3));
  fs.writeFileSync(path.join(badM, 't10k-labels-idx1-ubyte'), idx(0x801, [10], 10));
  const out2 = path.join(tmp, 'out-bad-mnist');
  refuses(['--dataset', 'mnist', '--corruption', 'fog', '--severity', '5', '--data', badM, '--out', out2], /t10k-images-idx3-ubyte: truncated IDX file/, out2);
  // Frost without the overlays: the valid CIFAR data alone, no frost folder.
  const noFrost = path.join(tmp, 'cifar-only');
  fs.mkdirSync(noFrost);
  for (const f of ['test_batch_first1000.bin.gz', 'data_batch_1.bin.gz']) fs.symlinkSync(path.join(sharedDataDir(), 'cifar10', f), path.join(noFrost, f));
  const out3 = path.join(tmp, 'out-nofrost');
  refuses(['--dataset', 'cifar10', '--corruption', 'fog,frost', '--severity', '5', '--data', noFrost, '--out', out3, '--limit', '4'], new RegExp(`frost overlay images .*looked in ${noFrost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), out3);
});
