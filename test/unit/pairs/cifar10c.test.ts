/**
 * The paper's CIFAR-10-C pairings on real CIFAR-10 images, and the reference configs that select them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { fromReferenceConfig } from '../../../kernel/api/config/from-reference';
import { loadConfig } from '../../../kernel/api/config/load';
import { loadDataset } from '../../../kernel/api/data/load';
import { createPairSource, trainingData } from '../../../kernel/api/pairs';
import { Cifar10cPairing } from '../../../kernel/api/perturbations';
import { createRng } from '../../../kernel/api/random';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const SIZE = 32 * 32 * 3;
const CHEAP = ['brightness', 'contrast'];

function cifarImages(n: number) {
  return loadDataset('cifar10', { split: 'test', dir: path.join(sharedDataDir(), 'cifar10'), limit: n });
}

const image = (a: Float32Array, i: number): Float32Array => a.subarray(i * SIZE, (i + 1) * SIZE);
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** The zero-pad + crop offset (dy, dx) and flip of the reference's loader, applied to one HWC image. */
function transform(im: Float32Array, dy: number, dx: number, mirror: boolean): Float32Array {
  const out = new Float32Array(SIZE);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
    const sy = y + dy;
    const sx = (mirror ? 31 - x : x) + dx;
    if (sy < 0 || sy > 31 || sx < 0 || sx > 31) continue;
    for (let ch = 0; ch < 3; ch++) out[(y * 32 + x) * 3 + ch] = im[(sy * 32 + sx) * 3 + ch];
  }
  return out;
}

test('the three reference CIFAR-10-C configs select their pairings, bank and sizes', () => {
  const expected = { cifar10_c_rectangle: 'original', cifar10_c_rectangle_withoriginal: 'withoriginal', cifar10_c_rectangle_nooriginal: 'nooriginal' };
  for (const [name, pairing] of Object.entries(expected)) {
    const c = loadConfig(name);
    assert.equal(c.model.architecture, 'cifar10_rectangle');
    assert.equal(c.model.outputDistribution, 'gaussian');
    assert.deepEqual(c.model.size, { latentDim: 512, blocks: 4, bigChannels: 64, smallChannels: 16, kernelSize: 3, padding: 1 });
    assert.equal(c.dataset.corruptions?.pairing, pairing);
    assert.equal(c.dataset.corruptions?.names.length, 12);
    assert.deepEqual(c.dataset.corruptions?.severities, [5]);
    assert.deepEqual(c.dataset.corruptions?.cropFlip, { pad: 4, flip: true });
    assert.deepEqual(c.warnings, []);
  }
  assert.equal(loadConfig('cifar10_c_rectangle_withoriginal').eval.overRadius, 34);
  const reduced = loadConfig('cifar10_c_rectangle_reduced');
  assert.deepEqual(reduced.model.size, { latentDim: 128, blocks: 2, bigChannels: 16, smallChannels: 8, kernelSize: 3, padding: 1 });
});

test('CIFAR-10-C config errors name the key', () => {
  const base = () => JSON.parse(JSON.stringify(loadConfig('cifar10_c_rectangle').json));
  const bad = (edit: (j: any) => void, re: RegExp) => {
    const j = base();
    edit(j);
    assert.throws(() => fromReferenceConfig(j, 'bad.json'), re);
  };
  bad((j) => { j.dataset.k = 5; }, /dataset\.k: every image has 12 corrupted versions/);
  bad((j) => { j.dataset.corruptions = ['frost', 'blizzard']; }, /dataset\.corruptions: unknown corruption "blizzard"/);
  bad((j) => { j.dataset.severity = [6]; }, /dataset\.severity: expected a non-empty list of severities from 1 to 5/);
  bad((j) => { j.perturbation.train_type = 'none'; }, /perturbation\.train_type: dataset "cifar10c" carries its pairs, so train_type must be "dataloader", got "none"/);
  bad((j) => { j.model.type = 'mnist_fc'; }, /model\.latent_dim: mnist_fc has fixed sizes/);
  bad((j) => { j.model.kernel_size = 5; }, /kernelSize must be 2·padding \+ 1/);
  bad((j) => { j.dataset.cropflip.crop = [28, 28]; }, /dataset\.cropflip\.crop: the crop must give back 32×32 images/);
  bad((j) => { delete j.dataset.k; j.dataset.type = 'cifar10c_nooriginal'; j.dataset.corruptions = ['fog']; }, /nooriginal pairing needs at least two corrupted versions/);
  const mnist = JSON.parse(JSON.stringify(loadConfig('mnist_fc_linf').json));
  mnist.dataset.type = 'cifar10c';
  assert.throws(() => fromReferenceConfig(mnist, 'bad.json'), /dataset\.type: mnist_fc does not take CIFAR-10 images/);
});

test('original pairing: x is the clean image, x̃ one of its fixed 8-bit versions, deterministic', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const images = cifarImages(8);
  const pairing = new Cifar10cPairing({ corruptions: CHEAP, bankSeed: 3 });
  const clean = images.gather(Int32Array.from({ length: 8 }, (_, i) => i));
  const src = images.sourceIndices;
  const a = pairing.pairBatch(clean, [8, 32, 32, 3], createRng('a'), src);
  const b = pairing.pairBatch(clean, [8, 32, 32, 3], createRng('a'), src);
  assert.ok(same(a.x, clean), 'x is the clean batch');
  assert.ok(same(a.xPerturbed, b.xPerturbed), 'same generator, same pairs');
  assert.ok(a.xPerturbed.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-3), '8-bit values, as the reference\'s uint8 arrays');
  // Over many draws every image shows exactly its two versions, never anything else.
  for (let i = 0; i < 8; i++) {
    const seen = new Map<string, Float32Array>();
    for (let r = 0; r < 12; r++) {
      const p = pairing.pairBatch(clean, [8, 32, 32, 3], createRng(`r${r}`), src);
      const v = image(p.xPerturbed, i);
      seen.set(v.slice(0, 64).join(','), v.slice());
    }
    assert.equal(seen.size, 2, `image ${i}: two versions (brightness, contrast)`);
    for (const v of seen.values()) assert.ok(!same(v, image(clean, i)), 'a version differs from the clean image');
  }
  assert.deepEqual(pairing.describe(), { type: 'cifar10c', pairing: 'original', corruptions: CHEAP, severities: [5], cropFlip: null, bankSeed: 3 });
});

test('withoriginal and nooriginal pairs are two distinct items; crop/flip is the same on both images', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const images = cifarImages(6);
  const clean = images.gather(Int32Array.from({ length: 6 }, (_, i) => i));
  const src = images.sourceIndices;
  const shape: [number, number, number, number] = [6, 32, 32, 3];
  const versions = new Cifar10cPairing({ corruptions: CHEAP, bankSeed: 4, pairing: 'nooriginal' });
  let usedClean = 0;
  for (let r = 0; r < 10; r++) {
    const no = versions.pairBatch(clean, shape, createRng(`n${r}`), src);
    const withO = new Cifar10cPairing({ corruptions: CHEAP, bankSeed: 4, pairing: 'withoriginal' }).pairBatch(clean, shape, createRng(`w${r}`), src);
    for (let i = 0; i < 6; i++) {
      assert.ok(!same(image(no.x, i), image(no.xPerturbed, i)), 'nooriginal: distinct items');
      assert.ok(!same(image(no.x, i), image(clean, i)) && !same(image(no.xPerturbed, i), image(clean, i)), 'nooriginal never uses the clean image');
      assert.ok(!same(image(withO.x, i), image(withO.xPerturbed, i)), 'withoriginal: distinct items');
      if (same(image(withO.x, i), image(clean, i)) || same(image(withO.xPerturbed, i), image(clean, i))) usedClean++;
    }
  }
  assert.ok(usedClean > 10, `withoriginal uses the clean image in about 2/3 of the pairs (${usedClean} of 60)`);
  assert.throws(() => versions.perturbBatch(clean, shape, createRng('x'), src), /nooriginal pairing changes x as well; draw pairs with pairBatch/);

  const cropped = new Cifar10cPairing({ corruptions: ['brightness'], bankSeed: 4, cropFlip: { pad: 4, flip: true } });
  const plain = new Cifar10cPairing({ corruptions: ['brightness'], bankSeed: 4 });
  const version = plain.pairBatch(clean, shape, createRng('v'), src).xPerturbed;
  const p = cropped.pairBatch(clean, shape, createRng('c'), src);
  let moved = 0;
  for (let i = 0; i < 6; i++) {
    let found = false;
    for (let dy = -4; dy <= 4 && !found; dy++) for (let dx = -4; dx <= 4 && !found; dx++) for (const m of [false, true]) {
      if (same(transform(image(clean, i), dy, dx, m), image(p.x, i)) && same(transform(image(version, i), dy, dx, m), image(p.xPerturbed, i))) {
        found = true;
        if (dy !== 0 || dx !== 0 || m) moved++;
        break;
      }
    }
    assert.ok(found, `image ${i}: x and x̃ are the clean image and its version under one crop/flip`);
  }
  assert.ok(moved > 0, 'some pairs are shifted or flipped');
});

test('a cifar10c config: training pairs with crop/flip from the dataset folder, frost overlays found beside it', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar) || !need(t, DEPENDENCIES.sharedFrost)) return;
  const config = loadConfig('cifar10_c_rectangle_reduced', { limit: 4, validationLimit: 2 });
  const data = trainingData(config, { dataDir: path.join(sharedDataDir(), 'cifar10') });
  assert.equal(data.train.count, 4);
  const d = data.train.describe() as { perturbation: { type: string; pairing: string; cropFlip: unknown } };
  assert.equal(d.perturbation.type, 'cifar10c');
  assert.deepEqual(d.perturbation.cropFlip, { pad: 4, flip: true });
  const batch = data.train.batch(0, 0, 4);
  assert.equal(batch.x.length, 4 * SIZE);
  assert.ok(!same(batch.x, batch.xPerturbed));
  // Every image's bank holds a frost version: the overlays were found in ../frost beside the dataset folder.
  const pairs = createPairSource(cifarImages(2), new Cifar10cPairing({ corruptions: ['frost'], frostDir: path.join(sharedDataDir(), 'frost') }), { seed: 1 });
  assert.equal(pairs.batch(0, 0, 2).xPerturbed.length, 2 * SIZE);
});
