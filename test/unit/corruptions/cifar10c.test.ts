/**
 * The CIFAR-10-C corruptions on real CIFAR-10 test images: every corruption at every severity
 * stays in [0, 1], repeats for a seed, and moves the statistic it should (blur lowers
 * high-frequency energy, brightness raises the mean, noise raises the variance, contrast lowers
 * the standard deviation, JPEG stays close), monotonically in severity where Hendrycks'
 * parameters are monotone. Averages are over 16 images so one draw cannot decide a test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Corrupter, SUITES, corrupt, corruptBatch } from '../../../kernel/api/corruptions';
import { readCifarBinary } from '../../../kernel/api/data/cifar-binary';
import { ArgumentError, DataFormatError } from '../../../kernel/api/errors';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const N = 16;
const SHAPE: [number, number, number] = [32, 32, 3];
const suite = SUITES.cifar10c;

let cached: Float32Array[] | undefined;
function images(): Float32Array[] {
  if (cached) return cached;
  const r = readCifarBinary(path.join(sharedDataDir(), 'cifar10', 'test_batch_first1000.bin.gz'));
  cached = Array.from({ length: N }, (_, i) => Float32Array.from(r.images.subarray(i * 3072, (i + 1) * 3072), (v) => v / 255));
  return cached;
}

const corrupter = new Corrupter('cifar10c', { frostDir: sharedDataDir() });
const outputs = new Map<string, Float32Array[]>();
function corrupted(name: string, severity: number): Float32Array[] {
  const key = `${name}/${severity}`;
  let out = outputs.get(key);
  if (!out) {
    out = images().map((x, i) => corrupter.apply(x, SHAPE, name, severity, corrupter.rngFor(0, name, severity, i)));
    outputs.set(key, out);
  }
  return out;
}

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
const std = (a: ArrayLike<number>) => {
  const m = mean(a);
  return Math.sqrt(mean(Array.from(a, (v) => (v - m) ** 2)));
};
/** Mean squared discrete Laplacian: the high-frequency energy. */
function hf(a: Float32Array): number {
  let s = 0;
  for (let y = 1; y < 31; y++) {
    for (let x = 1; x < 31; x++) {
      for (let ch = 0; ch < 3; ch++) {
        const i = (y * 32 + x) * 3 + ch;
        const l = 4 * a[i] - a[i - 3] - a[i + 3] - a[i - 96] - a[i + 96];
        s += l * l;
      }
    }
  }
  return s / (30 * 30 * 3);
}
/** Mean HSV saturation. */
function saturation(a: Float32Array): number {
  let s = 0;
  for (let p = 0; p < 1024; p++) {
    const mx = Math.max(a[p * 3], a[p * 3 + 1], a[p * 3 + 2]);
    const mn = Math.min(a[p * 3], a[p * 3 + 1], a[p * 3 + 2]);
    s += mx ? (mx - mn) / mx : 0;
  }
  return s / 1024;
}
const mse = (a: Float32Array, b: Float32Array) => mean(Array.from(a, (v, i) => (v - b[i]) ** 2));

/** The statistic over the 16 images, clean (severity 0) then severities 1–5. */
function curve(name: string, stat: (x: Float32Array, clean: Float32Array) => number): number[] {
  const clean = images();
  return [mean(clean.map((x) => stat(x, x))), ...[1, 2, 3, 4, 5].map((s) => mean(corrupted(name, s).map((x, i) => stat(x, clean[i]))))];
}

function increasing(values: number[], what: string): void {
  for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], `${what} not increasing: ${values.map((v) => v.toFixed(5)).join(' ')}`);
}
function decreasing(values: number[], what: string): void {
  for (let i = 1; i < values.length; i++) assert.ok(values[i] < values[i - 1], `${what} not decreasing: ${values.map((v) => v.toFixed(5)).join(' ')}`);
}

test('cifar10c: 19 corruptions (15 + 4 extra), the paper\'s 12 / 3 split, noise used nowhere', () => {
  assert.equal(suite.names.length, 19);
  assert.deepEqual([...suite.heldOut], ['gaussian_blur', 'spatter', 'saturate']);
  assert.equal(suite.train.length, 12);
  for (const n of [...suite.train, ...suite.heldOut]) assert.ok(suite.names.includes(n), n);
  assert.equal(new Set([...suite.train, ...suite.heldOut]).size, 15);
  for (const noise of ['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise']) assert.ok(!suite.train.includes(noise) && !suite.heldOut.includes(noise));
  for (const c of Object.values(suite.corruptions)) assert.equal(c.levels.length, 5, c.name);
});

test('cifar10c: every corruption at every severity on real images: in [0, 1], same seed same output, another seed differs', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.sharedFrost)) return;
  const x = images()[3];
  for (const name of suite.names) {
    for (let s = 1; s <= 5; s++) {
      const a = corrupted(name, s)[3];
      assert.equal(a.length, x.length);
      for (const v of a) assert.ok(v >= 0 && v <= 1, `${name} s${s}: value ${v}`);
      assert.ok(mse(a, x) > 1e-6, `${name} s${s} left the image unchanged`);
      const again = corrupter.apply(x, SHAPE, name, s, corrupter.rngFor(0, name, s, 3));
      assert.deepEqual(again, a, `${name} s${s}: same seed, different output`);
      const other = corrupter.apply(x, SHAPE, name, s, corrupter.rngFor(1, name, s, 3));
      const deterministic = ['defocus_blur', 'zoom_blur', 'brightness', 'contrast', 'pixelate', 'jpeg_compression', 'gaussian_blur', 'saturate'];
      if (deterministic.includes(name)) assert.deepEqual(other, a, `${name} has no randomness but depends on the seed`);
      else assert.notDeepEqual(other, a, `${name} s${s}: seeds 0 and 1 gave the same output`);
    }
  }
});

test('cifar10c blurs lower the high-frequency energy, monotonically in severity where the parameters are monotone', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  for (const name of ['defocus_blur', 'zoom_blur', 'gaussian_blur']) decreasing(curve(name, hf), `${name} high-frequency energy`);
  const motion = curve('motion_blur', hf);
  for (let s = 1; s <= 5; s++) assert.ok(motion[s] < 0.6 * motion[0], `motion_blur s${s}: high-frequency energy ${motion[s]} vs clean ${motion[0]}`);
  assert.ok(motion[5] < motion[1]);
  // Glass blur: severity 1 (σ 0.05) is the pixel jitter alone; the blur of σ 0.4 at severity 3 smooths it.
  const glass = curve('glass_blur', hf);
  assert.ok(glass[3] < glass[1], `glass_blur: ${glass.join(' ')}`);
  assert.ok(glass[5] < glass[4], `glass_blur: ${glass.join(' ')}`);
  // Pixelate: the error grows as the images get coarser.
  increasing(curve('pixelate', mse), 'pixelate error');
});

test('cifar10c noise raises the variance and the error, monotonically; the mean stays', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  for (const name of ['gaussian_noise', 'shot_noise', 'impulse_noise', 'speckle_noise']) {
    increasing(curve(name, std), `${name} std`);
    increasing(curve(name, mse), `${name} error`);
    const m = curve(name, mean);
    for (let s = 1; s <= 5; s++) assert.ok(Math.abs(m[s] - m[0]) < 0.01, `${name} s${s} moved the mean to ${m[s]} from ${m[0]}`);
  }
});

test('cifar10c brightness and snow raise the mean, contrast and fog lower the std, saturate moves the saturation both ways', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  increasing(curve('brightness', mean), 'brightness mean');
  increasing(curve('snow', mean), 'snow mean');
  decreasing(curve('contrast', std), 'contrast std');
  const contrastMean = curve('contrast', mean);
  for (const v of contrastMean) assert.ok(Math.abs(v - contrastMean[0]) < 1e-3, 'contrast keeps the per-channel mean');
  decreasing(curve('fog', std), 'fog std');
  increasing(curve('fog', mse), 'fog error');
  // Saturation ×0.3, ×0.1 (less colour), then ×1.5, ×2 + 0.1, ×2.5 + 0.2 (more).
  const sat = curve('saturate', saturation);
  assert.ok(sat[2] < sat[1] && sat[1] < sat[0], `saturate: ${sat.join(' ')}`);
  assert.ok(sat[0] < sat[3] && sat[3] < sat[4] && sat[4] < sat[5], `saturate: ${sat.join(' ')}`);
  // Brightness adds to V only: hue and saturation are unchanged where nothing clips.
  const satB = curve('brightness', saturation);
  assert.ok(Math.abs(satB[1] - satB[0]) < 0.005, `brightness s1 changed the saturation: ${satB.join(' ')}`);
});

test('cifar10c frost, spatter, elastic and jpeg: the overlay brightens, the blobs change a few pixels, jpeg changes bytes but stays close', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.sharedFrost)) return;
  const frost = curve('frost', mean);
  for (let s = 1; s <= 5; s++) assert.ok(frost[s] > frost[0] + 0.05, `frost s${s} mean ${frost[s]}`);
  const frostSat = curve('frost', saturation);
  for (let s = 1; s <= 5; s++) assert.ok(frostSat[s] < frostSat[0], 'frost washes the colours out');
  // Spatter changes a minority of pixels (drops / blobs), not the whole image.
  for (let s = 1; s <= 5; s++) {
    const clean = images();
    const changed = mean(corrupted('spatter', s).map((x, i) => mean(Array.from(x, (v, j) => (Math.abs(v - clean[i][j]) > 2 / 255 ? 1 : 0)))));
    assert.ok(changed > 0.005 && changed < 0.5, `spatter s${s} changed ${changed} of the values`);
  }
  // Mud (severities 4, 5) darkens toward brown (63, 42, 20).
  const sp = curve('spatter', mean);
  assert.ok(sp[5] < sp[0], `spatter s5 mean ${sp[5]} vs ${sp[0]}`);
  // Elastic: severity 1 is the affine part alone; every severity moves pixels.
  for (const e of curve('elastic_transform', mse).slice(1)) assert.ok(e > 0.002, `elastic error ${e}`);
  const jpeg = curve('jpeg_compression', mse);
  increasing(jpeg, 'jpeg error');
  assert.ok(jpeg[5] < 0.005, `jpeg at quality 40 strayed: mse ${jpeg[5]}`);
  // Quality 80 adds a little block-edge energy; from there on, lower quality removes detail.
  decreasing(curve('jpeg_compression', hf).slice(1), 'jpeg high-frequency energy over severities 1-5');
});

test('cifar10c on one-channel images: every corruption runs and keeps the shape', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.sharedFrost)) return;
  const rgb = images()[0];
  const g = new Float32Array(1024);
  for (let p = 0; p < 1024; p++) g[p] = (rgb[p * 3] + rgb[p * 3 + 1] + rgb[p * 3 + 2]) / 3;
  for (const name of suite.names) {
    const out = corrupt(g, [32, 32, 1], name, 5, { seed: 2, frostDir: sharedDataDir() });
    assert.equal(out.length, 1024, name);
    for (const v of out) assert.ok(v >= 0 && v <= 1, `${name}: ${v}`);
  }
});

test('corruptBatch: image i of a batch equals corrupting it alone with index i; the input is not modified', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const xs = new Float32Array(4 * 3072);
  images().slice(0, 4).forEach((x, i) => xs.set(x, i * 3072));
  const before = xs.slice();
  const batch = corruptBatch(xs, [4, 32, 32, 3], 'fog', 3, { seed: 5 });
  assert.deepEqual(xs, before);
  const c = new Corrupter('cifar10c');
  for (let i = 0; i < 4; i++) {
    assert.deepEqual(batch.subarray(i * 3072, (i + 1) * 3072), c.apply(images()[i], SHAPE, 'fog', 3, c.rngFor(5, 'fog', 3, i)));
  }
});

test('corruptions refuse bad arguments with named errors', () => {
  const x = new Float32Array(32 * 32 * 3).fill(0.5);
  assert.throws(() => corrupt(x, SHAPE, 'blurry', 3), (e: unknown) => e instanceof ArgumentError && /unknown corruption "blurry".*expected one of gaussian_noise, shot_noise/.test(e.message));
  for (const s of [0, 6, 2.5, NaN]) assert.throws(() => corrupt(x, SHAPE, 'fog', s), (e: unknown) => e instanceof ArgumentError && /severity must be an integer from 1 to 5/.test(e.message));
  assert.throws(() => corrupt(new Float32Array(32 * 32 * 2), [32, 32, 2], 'fog', 1), /1 or 3 channels, got 2/);
  assert.throws(() => corrupt(x, [32, 31, 3], 'fog', 1), /do not match shape/);
  assert.throws(() => corrupt(x, SHAPE, 'fog', 1, { suite: 'imagenetc' as never }), /unknown corruption suite "imagenetc"/);
  // Frost with no overlays anywhere: the error names the folders looked in; nothing is downloaded.
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-nofrost-'));
  try {
    assert.throws(
      () => corrupt(x, SHAPE, 'frost', 1, { frostDir: empty }),
      (e: unknown) => e instanceof DataFormatError && e.message.includes(empty) && /frost1\.png/.test(e.message) && /no such folder|no frost/.test(e.message),
    );
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
