/**
 * The native addon called directly on plain buffers: SGEMM with transposes, offsets and batch
 * strides (0 = broadcast), the epilogue activations, im2col/col2im, the convolutions, Adam, the
 * column sum, and the bounds checks that make a bad call throw instead of touching memory.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { jsAdamStep } from '../../../kernel/api/backend/adam';
import { requireAddon } from './native-expectation';
import { convRef, geometryArgs, makeInts, matmulRef, normRelError, randomValues, type Geometry } from './reference';

const TOL = 1e-5;

test('sgemm matches a double-precision reference: random shapes, transposes, offsets, batches, broadcast', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const int = makeInts(1);
  for (let c = 0; c < 40; c++) {
    const M = int(1, 60), N = int(1, 60), K = int(0, 70), tA = int(0, 1) === 1, tB = int(0, 1) === 1;
    const batch = int(1, 3);
    const mode = int(0, 2); // 0: both batched, 1: A broadcast, 2: B broadcast
    const strideA = batch > 1 && mode === 1 ? 0 : M * K;
    const strideB = batch > 1 && mode === 2 ? 0 : K * N;
    const aOff = int(0, 5), bOff = int(0, 5), cOff = int(0, 5);
    const A = randomValues(aOff + batch * M * K + 1, c * 3 + 1);
    const B = randomValues(bOff + batch * K * N + 1, c * 3 + 2);
    const C = randomValues(cOff + batch * M * N + 3, c * 3 + 3);
    const guard = C[cOff + batch * M * N];
    addon.sgemm(tA, tB, M, N, K, 1, A, aOff * 4, B, bOff * 4, 0, C, cOff * 4, batch, strideA, strideB, M * N);
    for (let p = 0; p < batch; p++) {
      const want = matmulRef(A, aOff + p * strideA, B, bOff + p * strideB, M, N, K, tA, tB);
      const got = C.subarray(cOff + p * M * N, cOff + (p + 1) * M * N);
      assert.ok(normRelError(got, want) <= TOL, `case ${c} (M${M} N${N} K${K} tA${tA} tB${tB} batch ${batch}/${mode}) item ${p}: ${normRelError(got, want)}`);
    }
    assert.equal(C[cOff + batch * M * N], guard, 'nothing written past C');
  }
});

test('sgemm alpha/beta accumulate, and a TypedArray view is addressed from its own start', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const backing = new Float32Array(64);
  const A = new Float32Array(backing.buffer, 16, 6); // 2x3 at float 4
  A.set([1, 2, 3, 4, 5, 6]);
  const B = Float32Array.from([1, 0, 0, 1, 1, 1]); // 3x2
  const C = Float32Array.from([10, 20, 30, 40]);
  addon.sgemm(false, false, 2, 2, 3, 2, A, 0, B, 0, 0.5, C, 0);
  assert.deepEqual([...C], [2 * 4 + 5, 2 * 5 + 10, 2 * 10 + 15, 2 * 11 + 20]);
  assert.deepEqual([...backing.subarray(0, 4)], [0, 0, 0, 0], 'view offset respected');
});

test('sgemm with K = 0 writes zeros (beta 0)', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const C = new Float32Array([7, 7, 7, 7]);
  addon.sgemm(false, false, 2, 2, 0, 1, new Float32Array(1), 0, new Float32Array(1), 0, 0, C, 0);
  assert.deepEqual([...C], [0, 0, 0, 0]);
});

test('bounds checks: bad offsets, sizes, strides and arguments throw before any BLAS call', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const A = new Float32Array(12), B = new Float32Array(12), C = new Float32Array(16);
  C.fill(3);
  const ok = () => addon.sgemm(false, false, 4, 4, 3, 1, A, 0, B, 0, 0, C, 0);
  ok();
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, A, 4, B, 0, 0, C, 0), RangeError, 'A offset past the end');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 4, 1, A, 0, B, 0, 0, C, 0), RangeError, 'K too large for A');
  assert.throws(() => addon.sgemm(false, false, 4, 5, 3, 1, A, 0, B, 0, 0, C, 0), RangeError, 'N too large for B and C');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, A, 2, B, 0, 0, C, 0), RangeError, 'misaligned offset');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, A, -4, B, 0, 0, C, 0), RangeError, 'negative offset');
  assert.throws(() => addon.sgemm(false, false, 4.5, 4, 3, 1, A, 0, B, 0, 0, C, 0), RangeError, 'fractional size');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, A, 0, B, 0, 0, C, 0, 2, 0, 0, 16), RangeError, 'batch 2 overflows C');
  assert.throws(() => addon.sgemm(false, false, 2, 2, 3, 1, A, 0, B, 0, 0, C, 0, 2, 0, 0, 1), RangeError, 'overlapping outputs');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, A, 0, B, 0, 0, C, 0, 2, 2 ** 52, 0, 16), RangeError, 'huge stride');
  assert.throws(() => addon.sgemm(false, false, 4, 4, 3, 1, [1, 2] as unknown as Float32Array, 0, B, 0, 0, C, 0), TypeError, 'not a buffer');
  assert.throws(() => (addon.sgemm as (...a: unknown[]) => void)(false, false, 4), TypeError, 'too few arguments');
  assert.throws(() => addon.epilogue(C, 0, 4, 5, 0, 0, 1, 0, 0, 0), RangeError, 'epilogue rows*cols past the end');
  assert.throws(() => addon.epilogue(C, 0, 4, 4, 0, 3, 1, 0, 0, 0), RangeError, 'bias length not 1 or cols');
  assert.throws(() => addon.epilogue(C, 0, 4, 4, 0, 0, 9, 0, 0, 0), RangeError, 'unknown activation');
  assert.throws(() => addon.colSum(C, 0, 5, 4, 0), RangeError, 'colSum source past the end');
  const g: Geometry = { batch: 1, inHeight: 4, inWidth: 4, inChannels: 1, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1,
    padTop: 0, padLeft: 0, dilationHeight: 1, dilationWidth: 1, outHeight: 2, outWidth: 2 };
  assert.throws(() => addon.im2col(C, 0, new Float32Array(35), 0, ...geometryArgs(g)), RangeError, 'im2col destination too small');
  assert.throws(() => addon.conv2d(C, 0, 0, 0, ...geometryArgs({ ...g, strideHeight: 0 }), 1), RangeError, 'zero stride');
  assert.throws(() => addon.adam(A, B, new Float32Array(11), A, B, 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001), RangeError, 'adam length mismatch');
  assert.throws(() => addon.adam(A, B, new Float64Array(12) as unknown as Float32Array, A, B, 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001), TypeError, 'adam non-float32');
  assert.throws(() => addon.setNumThreads(0), RangeError);
  assert.ok(C.every((v) => v === 0), 'the failed calls left C as the good call wrote it');
});

test('epilogue: bias (per column or scalar) and every fusable activation', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const rows = 3, cols = 5;
  const base = randomValues(rows * cols, 9).map((v) => v * 4);
  const bias = randomValues(cols, 10);
  const prelu = randomValues(cols, 11);
  const acts: Array<[number, (v: number, j: number) => number]> = [
    [0, (v) => v],
    [1, (v) => Math.max(0, v)],
    [2, (v) => Math.min(6, Math.max(0, v))],
    [3, (v, j) => (v < 0 ? prelu[j] * v : v)],
    [4, (v) => (v < 0 ? 0.1 * v : v)],
    [5, (v) => 1 / (1 + Math.exp(-v))],
    [6, (v) => (v < 0 ? Math.exp(v) - 1 : v)],
  ];
  for (const [code, f] of acts) {
    for (const biasLen of [0, 1, cols]) {
      // Layout in one buffer: [C | bias | prelu].
      const buf = new Float32Array(rows * cols + 2 * cols);
      buf.set(base);
      buf.set(bias, rows * cols);
      buf.set(prelu, rows * cols + cols);
      addon.epilogue(buf, 0, rows, cols, rows * cols * 4, biasLen, code, 0.1, (rows * cols + cols) * 4, code === 3 ? cols : 0);
      const want = Array.from(base, (v, i) => f(v + (biasLen === 0 ? 0 : biasLen === 1 ? bias[0] : bias[i % cols]), i % cols));
      assert.ok(normRelError(buf.subarray(0, rows * cols), want) <= 1e-6, `activation ${code} bias ${biasLen}`);
    }
  }
});

const GEOMETRIES: Array<[string, Geometry, number]> = [
  ['3x3 valid', { batch: 2, inHeight: 7, inWidth: 6, inChannels: 3, filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0, dilationHeight: 1, dilationWidth: 1, outHeight: 5, outWidth: 4 }, 4],
  ['3x3 stride 2 padded', { batch: 2, inHeight: 7, inWidth: 7, inChannels: 2, filterHeight: 3, filterWidth: 3, strideHeight: 2, strideWidth: 2, padTop: 1, padLeft: 1, dilationHeight: 1, dilationWidth: 1, outHeight: 4, outWidth: 4 }, 5],
  ['2x3 dilated, asymmetric strides', { batch: 1, inHeight: 9, inWidth: 8, inChannels: 3, filterHeight: 2, filterWidth: 3, strideHeight: 1, strideWidth: 2, padTop: 1, padLeft: 2, dilationHeight: 2, dilationWidth: 3, outHeight: 9, outWidth: 4 }, 3],
  ['1x1 pointwise', { batch: 3, inHeight: 4, inWidth: 5, inChannels: 6, filterHeight: 1, filterWidth: 1, strideHeight: 1, strideWidth: 1, padTop: 0, padLeft: 0, dilationHeight: 1, dilationWidth: 1, outHeight: 4, outWidth: 5 }, 2],
];

test('im2col and col2im are adjoint, and conv2d / its gradients match direct references', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  GEOMETRIES.forEach(([name, g, co], gi) => {
    const nIn = g.batch * g.inHeight * g.inWidth * g.inChannels;
    const rows = g.batch * g.outHeight * g.outWidth, patch = g.filterHeight * g.filterWidth * g.inChannels;
    const x = randomValues(nIn, 20 + gi), w = randomValues(patch * co, 30 + gi), dy = randomValues(rows * co, 40 + gi);
    // <im2col(x), c> == <x, col2im(c)>
    const col = new Float32Array(rows * patch), c = randomValues(rows * patch, 50 + gi), back = new Float32Array(nIn);
    addon.im2col(x, 0, col, 0, ...geometryArgs(g));
    addon.col2im(c, 0, back, 0, ...geometryArgs(g));
    let lhs = 0, rhs = 0;
    for (let i = 0; i < col.length; i++) lhs += col[i] * c[i];
    for (let i = 0; i < nIn; i++) rhs += x[i] * back[i];
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(lhs)), `${name}: adjoint ${lhs} vs ${rhs}`);
    // Forward conv, in one buffer at nonzero offsets: [pad | x | w | y].
    const buf = new Float32Array(3 + nIn + w.length + rows * co);
    buf.set(x, 3);
    buf.set(w, 3 + nIn);
    const yOff = 3 + nIn + w.length;
    addon.conv2d(buf, 12, (3 + nIn) * 4, yOff * 4, ...geometryArgs(g), co);
    const yWant = convRef(x, w, g, co);
    assert.ok(normRelError(buf.subarray(yOff), yWant) <= TOL, `${name}: conv2d`);
    // dFilter[p, o] = Σ_r im2col(x)[r, p] dy[r, o]; dx = col2im(dy · Wᵀ).
    const dwWant = new Float64Array(patch * co);
    for (let r = 0; r < rows; r++) for (let p = 0; p < patch; p++) for (let o = 0; o < co; o++) dwWant[p * co + o] += col[r * patch + p] * dy[r * co + o];
    const dcol = new Float32Array(rows * patch);
    for (let r = 0; r < rows; r++) for (let p = 0; p < patch; p++) {
      let s = 0;
      for (let o = 0; o < co; o++) s += dy[r * co + o] * w[p * co + o];
      dcol[r * patch + p] = s;
    }
    const dxWant = new Float32Array(nIn);
    addon.col2im(dcol, 0, dxWant, 0, ...geometryArgs(g));
    const io = new Float32Array(nIn + patch * co + rows * co);
    io.set(dy, nIn + patch * co);
    io.set(w, nIn);
    addon.conv2dBackpropInput(io, 0, nIn * 4, (nIn + patch * co) * 4, ...geometryArgs(g), co);
    assert.ok(normRelError(io.subarray(0, nIn), dxWant) <= TOL, `${name}: backprop input`);
    io.set(x, 0);
    addon.conv2dBackpropFilter(io, 0, nIn * 4, (nIn + patch * co) * 4, ...geometryArgs(g), co);
    assert.ok(normRelError(io.subarray(nIn, nIn + patch * co), dwWant) <= TOL, `${name}: backprop filter`);
  });
});

test('adam agrees with the JS FusedAdam loop to float32 rounding, moments in place', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  const n = 100003; // not a multiple of the vector width
  const w = randomValues(n, 60), g = randomValues(n, 61);
  const m1 = randomValues(n, 62), v1 = randomValues(n, 63).map(Math.abs);
  const m2 = m1.slice(), v2 = v1.slice();
  const out1 = new Float32Array(n), out2 = new Float32Array(n);
  const h = { learningRate: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, biasCorrection1: 1 - 0.9 ** 3, biasCorrection2: 1 - 0.999 ** 3 };
  addon.adam(w, g, m1, v1, out1, h.learningRate, h.beta1, h.beta2, h.epsilon, h.biasCorrection1, h.biasCorrection2);
  jsAdamStep({ ...h, weights: w, grads: g, m: m2, v: v2, out: out2 });
  assert.ok(normRelError(m1, m2) <= 1e-6, 'first moment');
  assert.ok(normRelError(v1, v2) <= 1e-6, 'second moment');
  // Compare the update itself, not the weights it is added to.
  const step1 = out1.map((o, i) => o - w[i]), step2 = out2.map((o, i) => o - w[i]);
  assert.ok(normRelError(step1, step2) <= 1e-4, `update: ${normRelError(step1, step2)}`);
  assert.ok(step1.some((d) => d !== 0), 'weights moved');
});

test('colSum sums columns (bias gradient), threaded and not', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  for (const [rows, cols] of [[3, 4], [70000, 3], [1000, 130], [1100000, 4]]) {
    const x = randomValues(rows * cols, rows);
    const buf = new Float32Array(rows * cols + cols);
    buf.set(x);
    addon.colSum(buf, 0, rows, cols, rows * cols * 4);
    const want = new Float64Array(cols);
    for (let i = 0; i < x.length; i++) want[i % cols] += x[i];
    assert.ok(normRelError(buf.subarray(rows * cols), want) <= 1e-5, `${rows}x${cols}`);
  }
});

test('setNumThreads and info describe the BLAS', (t) => {
  const addon = requireAddon(t);
  if (!addon) return;
  assert.equal(addon.setNumThreads(1), 1);
  assert.equal(addon.info().threads, 1);
  assert.equal(addon.setNumThreads(2), 2);
  const info = addon.info();
  assert.match(info.blas, /OpenBLAS|Accelerate/);
  assert.ok(info.config.length > 0);
});
