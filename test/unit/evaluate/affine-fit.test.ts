import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { fitAffine, summarizeAffineFit } from '../../../kernel/api/evaluate/affine-fit';
import { affineNearest, padCrop } from '../../../kernel/api/perturbations/rts';

const SIDE = 42;

/** An asymmetric "F" of soft strokes in the middle of a 42×42 canvas (no rotational symmetry). */
function glyph(): Float32Array {
  const img = new Float32Array(SIDE * SIDE);
  const stroke = (x0: number, y0: number, x1: number, y1: number) => {
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const dx = x1 - x0;
        const dy = y1 - y0;
        const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
        const d = Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
        img[y * SIDE + x] = Math.max(img[y * SIDE + x], Math.exp(-(d * d) / 2));
      }
    }
  };
  stroke(16, 11, 16, 31);
  stroke(16, 11, 27, 11);
  stroke(16, 20, 24, 20);
  return img;
}

/** The RTS perturbation's own warp (nearest neighbour, torchvision's convention) and crop = shift. */
function rts(src: Float32Array, angle: number, scale: number, shiftX: number, shiftY: number): Float32Array {
  const warped = affineNearest(src, SIDE, SIDE, 1, angle, scale, new Float32Array(SIDE * SIDE));
  return padCrop(warped, SIDE, SIDE, 1, 7, SIDE, 7 - shiftY, 7 - shiftX, new Float32Array(SIDE * SIDE));
}

test('fitAffine recovers the angle, scale and shift of targets made by the RTS perturbation\'s own warp', async () => {
  await initBackend();
  const img = glyph();
  const truth = [
    { angle: 0, scale: 1, tx: 0, ty: 0 },
    { angle: 20, scale: 1, tx: 0, ty: 0 },
    { angle: -25, scale: 1.15, tx: 3, ty: -2 },
    { angle: 10, scale: 0.85, tx: -4, ty: 3 },
    { angle: 35, scale: 1.2, tx: 2, ty: 4 },
    { angle: -40, scale: 0.8, tx: -3, ty: -3 },
  ];
  const targets = new Float32Array(truth.length * SIDE * SIDE);
  truth.forEach((p, i) => targets.set(rts(img, p.angle, p.scale, p.tx, p.ty), i * SIDE * SIDE));
  const x = tf.tensor4d(img, [1, SIDE, SIDE, 1]);
  const y = tf.tensor4d(targets, [truth.length, SIDE, SIDE, 1]);
  const before = tf.memory().numTensors;
  const fit = await fitAffine(x, y);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  truth.forEach((p, i) => {
    const got = { angle: fit.angle[i], scale: fit.scale[i], tx: fit.tx[i], ty: fit.ty[i], error: fit.error[i] };
    const msg = `target ${i}: want ${JSON.stringify(p)}, got ${JSON.stringify(got)}`;
    assert.ok(Math.abs(got.angle - p.angle) < 3, msg);
    assert.ok(Math.abs(got.scale - p.scale) < 0.05, msg);
    assert.ok(Math.abs(got.tx - p.tx) < 0.75 && Math.abs(got.ty - p.ty) < 0.75, msg);
    assert.ok(got.error < 0.01, msg);
  });
  const spread = summarizeAffineFit(fit, truth.length);
  const std = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - v.reduce((s, t) => s + t, 0) / v.length) ** 2, 0) / v.length);
  assert.ok(Math.abs(spread.angle - std(truth.map((p) => p.angle))) < 2, `angle spread ${spread.angle}`);
  assert.ok(Math.abs(spread.scale - std(truth.map((p) => p.scale))) < 0.03, `scale spread ${spread.scale}`);
  assert.equal(spread.images, 1);
  assert.ok(spread.fitError < spread.identityFitError / 5, `the fits explain the targets: ${spread.fitError} vs unwarped ${spread.identityFitError}`);
  assert.equal(spread.samples, truth.length);
  tf.dispose([x, y]);
});

test('evaluatePerturbationSet reports the affine spread of an RTS set on request', async () => {
  await initBackend();
  const { createCVAE } = await import('../../../kernel/api/models');
  const { PerturbationSet } = await import('../../../kernel/api/models/perturbation-set');
  const { evaluatePerturbationSet } = await import('../../../kernel/api/evaluate');
  const { createPairSource } = await import('../../../kernel/api/pairs');
  const { loadDataset } = await import('../../../kernel/api/data/load');
  const { createPerturbation } = await import('../../../kernel/api/perturbations');
  const model = createCVAE('mnist_stn', { seed: 2 });
  const set = new PerturbationSet(model, 5);
  const pairs = createPairSource(loadDataset('embedded', { split: 'test', limit: 4, padding: 7 }), createPerturbation({ type: 'rts' }), { shuffle: false });
  const options = { attack: { steps: 1 }, overApproximation: false as const, samples: 2, spreadSamples: 2 };
  const plain = await evaluatePerturbationSet(set, pairs, options);
  assert.equal(plain.affineSpread, undefined);
  const r = await evaluatePerturbationSet(set, pairs, { ...options, affine: { images: 2, samples: 3, steps: 4 } });
  assert.equal(r.affineSpread?.images, 2);
  assert.equal(r.affineSpread?.samples, 3);
  for (const k of ['angle', 'scale', 'translation', 'fitError', 'identityFitError'] as const) assert.ok(Number.isFinite(r.affineSpread![k]) && r.affineSpread![k] >= 0, k);
  model.dispose();
});

test('samples that are all the same image get the same fit, even where no warp explains them', async () => {
  await initBackend();
  const img = glyph();
  // A blob (no warp of the glyph explains it) with differences of about 1e-4 between copies.
  const blob = new Float32Array(SIDE * SIDE).map((_, p) => Math.exp(-(((p % SIDE) - 21) ** 2 + (Math.floor(p / SIDE) - 21) ** 2) / 60) * 0.4);
  const copies = new Float32Array(6 * SIDE * SIDE).map((_, i) => blob[i % (SIDE * SIDE)] + 1e-4 * Math.sin(i * 12.9898));
  const x = tf.tensor4d(img, [1, SIDE, SIDE, 1]);
  const y = tf.tensor4d(copies, [6, SIDE, SIDE, 1]);
  const spread = summarizeAffineFit(await fitAffine(x, y), 6);
  assert.ok(spread.angle < 1 && spread.scale < 0.01 && spread.translation < 0.1, JSON.stringify(spread));
  tf.dispose([x, y]);
});
