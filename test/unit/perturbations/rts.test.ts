import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affineNearest, padCrop, RtsPerturbation } from '../../../kernel/api/perturbations/rts';
import { LimitedRtsPerturbation } from '../../../kernel/api/perturbations/rts-limited';
import { loadDataset } from '../../../kernel/api/data/load';
import { createRng } from '../../../kernel/api/random';
import { ArgumentError } from '../../../kernel/api/errors';
import type { Shape4 } from '../../../kernel/api/perturbations/types';

const S = 42;

function randomImage(seed: number, side = S): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: side * side }, () => rng.uniform());
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Expected warp from a generic 3×3 matrix built by composition and inverted numerically. */
function referenceWarp(src: Float32Array, side: number, angleDeg: number, scale: number): Float32Array {
  type M = number[][];
  const mul = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
  const t = Math.PI * angleDeg / 180;
  const c = side / 2;
  // Forward map input → output: move the centre to the origin, rotate (y down, so clockwise on screen), scale, move back.
  const forward = mul(mul([[1, 0, c], [0, 1, c], [0, 0, 1]], [[scale * Math.cos(t), -scale * Math.sin(t), 0], [scale * Math.sin(t), scale * Math.cos(t), 0], [0, 0, 1]]), [[1, 0, -c], [0, 1, -c], [0, 0, 1]]);
  const [[a, b, e], [d, f, g]] = forward;
  const det = a * f - b * d;
  const inv = [[f / det, -b / det], [-d / det, a / det]];
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const px = x + 0.5 - e;
      const py = y + 0.5 - g;
      const sx = Math.floor(inv[0][0] * px + inv[0][1] * py);
      const sy = Math.floor(inv[1][0] * px + inv[1][1] * py);
      out[y * side + x] = sx >= 0 && sx < side && sy >= 0 && sy < side ? src[sy * side + sx] : 0;
    }
  }
  return out;
}

test('affine: quarter and half turns are exact pixel permutations', () => {
  for (const side of [42, 41]) {
    const img = randomImage(1, side);
    const out = new Float32Array(side * side);
    affineNearest(img, side, side, 1, 90, 1, out);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) assert.equal(out[y * side + x], img[(side - 1 - x) * side + y]);
    affineNearest(img, side, side, 1, -90, 1, out);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) assert.equal(out[y * side + x], img[x * side + (side - 1 - y)]);
    affineNearest(img, side, side, 1, 180, 1, out);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) assert.equal(out[y * side + x], img[(side - 1 - y) * side + (side - 1 - x)]);
    affineNearest(img, side, side, 1, 0, 1, out);
    assert.deepEqual(out, img);
  }
});

test('affine: a positive angle turns clockwise on screen (a point right of centre goes below it)', () => {
  const img = new Float32Array(S * S);
  // Pixel (row 21, col 31): its centre (31.5, 21.5) is 10.5 px right of and 0.5 px below the
  // image centre (21, 21); a clockwise quarter turn (y down) sends it to (20.5, 31.5) = (row 31, col 20).
  img[21 * S + 31] = 1;
  const out = affineNearest(img, S, S, 1, 90, 1, new Float32Array(S * S));
  assert.equal(out[31 * S + 20], 1);
  assert.equal(sum(out), 1);
});

test('affine: arbitrary angle and scale agree with an independent matrix computation', () => {
  const img = randomImage(2);
  for (const [angle, scale] of [[30, 1.2], [-44.9, 0.7], [12.345, 1.3], [-7, 0.95]]) {
    const ours = affineNearest(img, S, S, 1, angle, scale, new Float32Array(S * S));
    const ref = referenceWarp(img, S, angle, scale);
    let mismatches = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== ref[i]) mismatches++;
    assert.equal(mismatches, 0, `angle ${angle}, scale ${scale}: ${mismatches} pixels differ`);
  }
});

test('affine: mass follows scale² and is kept under rotation (centred disc)', () => {
  const disc = new Float32Array(S * S);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if ((x + 0.5 - 21) ** 2 + (y + 0.5 - 21) ** 2 <= 64) disc[y * S + x] = 1;
  const m = sum(disc);
  for (const [angle, scale] of [[33, 1], [-45, 1], [0, 1.3], [20, 0.7]]) {
    const out = affineNearest(disc, S, S, 1, angle, scale, new Float32Array(S * S));
    const ratio = sum(out) / m / (scale * scale);
    assert.ok(Math.abs(ratio - 1) < 0.08, `angle ${angle} scale ${scale}: mass ratio / scale² = ${ratio}`);
  }
});

test('crop with padding is an exact integer translation with zero fill', () => {
  const img = randomImage(3);
  const out = new Float32Array(S * S);
  for (const [top, left] of [[7, 7], [0, 0], [14, 14], [3, 11]]) {
    padCrop(img, S, S, 1, 7, S, top, left, out);
    const dy = top - 7;
    const dx = left - 7;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const sy = y + dy;
        const sx = x + dx;
        const expected = sy >= 0 && sy < S && sx >= 0 && sx < S ? img[sy * S + sx] : 0;
        assert.equal(out[y * S + x], expected, `offset (${top}, ${left}) at (${y}, ${x})`);
      }
    }
  }
  // Content within the central 28×28 survives any offset, so mass is kept.
  const digit = new Float32Array(S * S);
  for (let y = 7; y < 35; y++) for (let x = 7; x < 35; x++) digit[y * S + x] = ((x * 7 + y * 3) % 10) / 10;
  padCrop(digit, S, S, 1, 7, S, 0, 14, out);
  assert.ok(Math.abs(sum(out) - sum(digit)) < 1e-3);
});

function paddedMnistLike(n: number): { x: Float32Array; shape: Shape4; source: Int32Array } {
  const ds = loadDataset('embedded', { split: 'test', limit: n, padding: 7 });
  const b = ds.batch(Array.from({ length: n }, (_, i) => i));
  return { x: b.x, shape: b.shape, source: Int32Array.from(ds.sourceIndices) };
}

test('RTS: deterministic per seed, differs across seeds, keeps the 42×42 shape, creates no new pixel values', () => {
  const { x, shape } = paddedMnistLike(32);
  const p = new RtsPerturbation();
  const a = p.perturbBatch(x, shape, createRng(5));
  assert.deepEqual(p.outputShape(shape), [32, 42, 42, 1]);
  assert.equal(a.length, x.length);
  assert.deepEqual(p.perturbBatch(x, shape, createRng(5)), a);
  assert.notDeepEqual(p.perturbBatch(x, shape, createRng(6)), a);
  const values = new Set(x);
  values.add(0);
  assert.ok(a.every((v) => values.has(v)), 'nearest interpolation copies input values');
});

test('RTS: perturbBatch equals applying the sampled parameters; parameters cover their ranges', () => {
  const { x, shape } = paddedMnistLike(8);
  const p = new RtsPerturbation({ angle: 45, scale: [0.7, 1.3], padding: 7 });
  const out = p.perturbBatch(x, shape, createRng(9));
  const rng = createRng(9);
  const manual = new Float32Array(x.length);
  for (let n = 0; n < 8; n++) p.applyParams(x, shape, n, p.sampleParams(rng, shape), manual);
  assert.deepEqual(out, manual);

  const r = createRng(10);
  const tops = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const q = p.sampleParams(r, shape);
    assert.ok(q.angle >= -45 && q.angle <= 45 && q.scale >= 0.7 && q.scale <= 1.3);
    assert.ok(Number.isInteger(q.cropTop) && q.cropTop >= 0 && q.cropTop <= 14 && Number.isInteger(q.cropLeft) && q.cropLeft >= 0 && q.cropLeft <= 14);
    tops.add(q.cropTop);
  }
  assert.equal(tops.size, 15);
});

test('RTS: mass of x̃ over x averages near E[scale²] on padded Fashion-MNIST images', () => {
  const { x, shape } = paddedMnistLike(64);
  const out = new RtsPerturbation().perturbBatch(x, shape, createRng(11));
  const size = 42 * 42;
  let ratios = 0;
  for (let n = 0; n < 64; n++) ratios += sum(out.subarray(n * size, (n + 1) * size)) / sum(x.subarray(n * size, (n + 1) * size));
  const mean = ratios / 64;
  // E[s²] for s ~ U[0.7, 1.3] is 1.03; content pushed past the border lowers it a little.
  assert.ok(mean > 0.8 && mean < 1.15, `mean mass ratio ${mean}`);
});

test('RTS limited: each image only ever shows its k banked perturbations; k=1 is the first of k=5', () => {
  const { x, shape, source } = paddedMnistLike(6);
  const distinct = (p: LimitedRtsPerturbation, image: number) => {
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 40; epoch++) {
      const out = p.perturbBatch(x, shape, createRng(`epoch-${epoch}`), source);
      seen.add(Buffer.from(out.buffer, image * 42 * 42 * 4, 42 * 42 * 4).toString('base64'));
    }
    return seen.size;
  };
  const one = new LimitedRtsPerturbation({ k: 1 });
  const five = new LimitedRtsPerturbation({ k: 5 });
  for (let image = 0; image < 6; image++) {
    assert.equal(distinct(one, image), 1);
    const d5 = distinct(five, image);
    assert.ok(d5 > 1 && d5 <= 5, `image ${image}: ${d5} distinct perturbations with k = 5`);
  }
  assert.deepEqual(one.bank(17, shape)[0], five.bank(17, shape)[0]);
  assert.notDeepEqual(five.bank(17, shape), five.bank(18, shape));
  assert.deepEqual(five.bank(17, shape), new LimitedRtsPerturbation({ k: 5 }).bank(17, shape));
  assert.notDeepEqual(five.bank(17, shape), new LimitedRtsPerturbation({ k: 5, bankSeed: 1 }).bank(17, shape));
  assert.throws(() => five.perturbBatch(x, shape, createRng(0)), /needs the source index of every image/);
  assert.throws(() => new LimitedRtsPerturbation({ k: 0 }), ArgumentError);
});

test('RTS: invalid options are ArgumentErrors', () => {
  assert.throws(() => new RtsPerturbation({ scale: [1.3, 0.7] }), ArgumentError);
  assert.throws(() => new RtsPerturbation({ angle: -1 }), ArgumentError);
  assert.throws(() => new RtsPerturbation({ padding: 1.5 }), ArgumentError);
  assert.throws(() => new RtsPerturbation({ cropSize: 60 }).perturbBatch(new Float32Array(42 * 42), [1, 42, 42, 1], createRng(0)), /crop size 60 exceeds/);
});
