/**
 * The MNIST analogue on real MNIST test digits: the 12 / 3 split, every corruption at every
 * severity (in [0, 1], seeded, changes the digit, moves its statistic with severity), and the
 * `mnistc` perturbation as pairs (x, x̃) for CVAE and robust training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { Corrupter, SUITES } from '../../../kernel/api/corruptions';
import { readIdxImagesAndLabels } from '../../../kernel/api/data/idx';
import { loadDataset } from '../../../kernel/api/data/load';
import { ArgumentError } from '../../../kernel/api/errors';
import { createPairSource } from '../../../kernel/api/pairs';
import { CorruptionPerturbation, createPerturbation, perturbationsForConfig, PERTURBATION_TYPES, REFERENCE_PERTURBATION_TYPES } from '../../../kernel/api/perturbations';
import { createRng } from '../../../kernel/api/random';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const N = 16;
const SHAPE: [number, number, number] = [28, 28, 1];
const suite = SUITES.mnistc;
const corrupter = new Corrupter('mnistc');

let cached: Float32Array[] | undefined;
function digits(): Float32Array[] {
  if (cached) return cached;
  const dir = path.join(sharedDataDir(), 'mnist');
  const r = readIdxImagesAndLabels(path.join(dir, 't10k-images-idx3-ubyte.gz'), path.join(dir, 't10k-labels-idx1-ubyte.gz'));
  cached = Array.from({ length: N }, (_, i) => Float32Array.from(r.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255));
  return cached;
}

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
const mse = (a: Float32Array, b: Float32Array) => mean(Array.from(a, (v, i) => (v - b[i]) ** 2));
function hf(a: Float32Array): number {
  let s = 0;
  for (let y = 1; y < 27; y++) for (let x = 1; x < 27; x++) {
    const i = y * 28 + x;
    s += (4 * a[i] - a[i - 1] - a[i + 1] - a[i - 28] - a[i + 28]) ** 2;
  }
  return s / (26 * 26);
}
/** Ink-weighted mean distance from the centre: how spread out the digit is. */
function spread(a: Float32Array): number {
  let s = 0;
  let m = 0;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    s += a[y * 28 + x] * Math.hypot(y - 13.5, x - 13.5);
    m += a[y * 28 + x];
  }
  return s / m;
}

function curve(name: string, stat: (x: Float32Array, clean: Float32Array) => number): number[] {
  const clean = digits();
  const at = (s: number) => mean(clean.map((x, i) => stat(corrupter.apply(x, SHAPE, name, s, corrupter.rngFor(0, name, s, i)), x)));
  return [mean(clean.map((x) => stat(x, x))), ...[1, 2, 3, 4, 5].map(at)];
}
function monotone(values: number[], dir: 1 | -1, what: string): void {
  for (let i = 1; i < values.length; i++) assert.ok(dir * (values[i] - values[i - 1]) > 0, `${what} not ${dir > 0 ? 'increasing' : 'decreasing'}: ${values.map((v) => v.toFixed(5)).join(' ')}`);
}

test('mnistc: 15 corruptions, 12 for training and 3 held out, disjoint, each held-out one of a kind training lacks', () => {
  assert.equal(suite.names.length, 15);
  assert.equal(suite.train.length, 12);
  assert.deepEqual([...suite.heldOut], ['gaussian_blur', 'spatter', 'canny_edges']);
  assert.equal(new Set([...suite.train, ...suite.heldOut]).size, 15);
  // As the paper's split: each held-out corruption's family (blur, weather, digital) is present in
  // training through other corruptions, but the held-out corruption itself is not.
  for (const name of suite.heldOut) {
    const family = suite.corruptions[name].family;
    assert.ok(suite.train.some((t) => suite.corruptions[t].family === family), `no training corruption of the family of ${name}`);
  }
});

test('mnistc: every corruption at every severity on real digits: in [0, 1], same seed same output, changes the digit', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  for (const name of suite.names) {
    for (let s = 1; s <= 5; s++) {
      let unchanged = 0;
      digits().forEach((x, i) => {
        const a = corrupter.apply(x, SHAPE, name, s, corrupter.rngFor(3, name, s, i));
        for (const v of a) assert.ok(v >= 0 && v <= 1, `${name} s${s}: ${v}`);
        if (mse(a, x) < 1e-6) unchanged++;
        if (i < 2) assert.deepEqual(corrupter.apply(x, SHAPE, name, s, corrupter.rngFor(3, name, s, i)), a);
      });
      // Spatter's blobs may miss a digit now and then at the mildest severity; nothing else may.
      assert.ok(unchanged <= (name === 'spatter' ? 2 : 0), `${name} s${s} left ${unchanged} of ${N} digits unchanged`);
    }
  }
});

test('mnistc: severity is monotone in the statistic each corruption moves', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  for (const name of ['shot_noise', 'impulse_noise', 'zigzag', 'stripe', 'canny_edges', 'rotate', 'shear']) monotone(curve(name, mse), 1, `${name} error`);
  monotone(curve('brightness', (x) => mean(x)), 1, 'brightness mean');
  monotone(curve('gaussian_blur', hf), -1, 'gaussian_blur high-frequency energy');
  monotone(curve('motion_blur', hf), -1, 'motion_blur high-frequency energy');
  monotone(curve('scale', spread), -1, 'scale: spread of the ink');
  // Glass blur scatters pixels (more high frequencies than the clean digit), and its σ, growing
  // 0.3 → 0.7 over the severities, smooths the scatter more and more.
  const glass = curve('glass_blur', hf);
  assert.ok(glass[1] > glass[0], `glass_blur: ${glass.join(' ')}`);
  monotone(glass.slice(1), -1, 'glass_blur high-frequency energy over severities 1-5');
  // Translation moves the ink's centre by 1, 1, 2, 2, 3 pixels per axis.
  const shift = curve('translate', (x, c) => Math.abs(spread(x) - spread(c)) + mse(x, c));
  assert.ok(shift[5] > shift[3] && shift[3] > shift[1], `translate: ${shift.join(' ')}`);
  // Fog: MNIST-C's levels 3 and 4 share t = 2.5 (only the roughness differs).
  const fog = curve('fog', mse);
  assert.ok(fog[0] < fog[1] && fog[1] < fog[2] && fog[2] < fog[3] && fog[4] < fog[5], `fog: ${fog.join(' ')}`);
  // Spatter at severity 5 covers more than at severity 1 (lower threshold → more blobs).
  const sp = curve('spatter', mse);
  assert.ok(sp[5] > sp[1], `spatter: ${sp.join(' ')}`);
});

test('mnistc perturbation: registered for train_type, pairs from the training corruptions, held-out on request', (t) => {
  assert.ok((PERTURBATION_TYPES as readonly string[]).includes('mnistc'));
  assert.ok((REFERENCE_PERTURBATION_TYPES as readonly string[]).includes('mnistc'));
  const p = createPerturbation({ type: 'mnistc' });
  assert.ok(p instanceof CorruptionPerturbation);
  assert.deepEqual(p.describe(), { type: 'mnistc', corruptions: 'train', names: [...suite.train], severity: 5 });
  const held = createPerturbation({ type: 'mnistc', corruptions: 'heldout', severity: 3 }) as CorruptionPerturbation;
  assert.deepEqual([...held.corruptions], [...suite.heldOut]);
  assert.equal(held.severity, 3);
  const { train, test: testP } = perturbationsForConfig({ perturbation: { train: { type: 'mnistc' }, test: { type: 'mnistc' } } });
  assert.ok(train instanceof CorruptionPerturbation && testP instanceof CorruptionPerturbation);
  assert.throws(() => createPerturbation({ type: 'mnistc', corruptions: ['fog', 'rain'] }), (e: unknown) => e instanceof ArgumentError && /unknown corruption "rain"/.test(e.message));
  assert.throws(() => createPerturbation({ type: 'mnistc', corruptions: 'ood' as never }), /train, heldout, all or a list/);
  assert.throws(() => createPerturbation({ type: 'mnistc', severity: 9 }), /severity must be an integer from 1 to 5/);

  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const ds = loadDataset('mnist', { dir: path.join(sharedDataDir(), 'mnist'), split: 'test', limit: 64 });
  const b = ds.batch(Array.from({ length: 64 }, (_, i) => i));
  const a = p.perturbBatch(b.x, b.shape, createRng(4));
  assert.deepEqual(p.perturbBatch(b.x, b.shape, createRng(4)), a);
  assert.notDeepEqual(p.perturbBatch(b.x, b.shape, createRng(5)), a);
  // Each x̃ is exactly one of the 12 training corruptions of its x: replay the draw.
  const rng = createRng(4);
  const c = new Corrupter('mnistc');
  for (let i = 0; i < 64; i++) {
    const name = suite.train[rng.int(12)];
    const expected = c.apply(b.x.subarray(i * 784, (i + 1) * 784), SHAPE, name, 5, rng);
    assert.deepEqual(a.subarray(i * 784, (i + 1) * 784), expected, `image ${i} (${name})`);
  }
});

test('mnistc pairs through createPairSource: x is clean, x̃ differs, the same seed repeats', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const ds = loadDataset('mnist', { dir: path.join(sharedDataDir(), 'mnist'), split: 'test', limit: 96 });
  const source = (seed: number) => createPairSource(ds, createPerturbation({ type: 'mnistc' }), { seed });
  const p1 = source(2).batch(0, 1, 32);
  const p2 = source(2).batch(0, 1, 32);
  assert.deepEqual(p2.xPerturbed, p1.xPerturbed);
  assert.notDeepEqual(source(3).batch(0, 1, 32).xPerturbed, p1.xPerturbed);
  const clean = ds.batch(Array.from(p1.indices));
  assert.deepEqual(p1.x, clean.x);
  let changed = 0;
  for (let i = 0; i < p1.x.length; i++) if (p1.x[i] !== p1.xPerturbed[i]) changed++;
  assert.ok(changed > p1.x.length * 0.05, `only ${changed} of ${p1.x.length} values changed`);
});
