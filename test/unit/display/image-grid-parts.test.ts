/** `imageGrid({ rows })` and `imageGrid({ columns })`: several batches in one grid, no stacking by hand. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { imageGrid } from '../../../kernel/api/display';
import { ArgumentError } from '../../../kernel/api/errors';

/** A batch of n 1×1 grey images whose bytes are `base + i`. */
const batch = (n: number, base: number): tf.Tensor4D => tf.tensor4d(Array.from({ length: n }, (_, i) => (base + i) / 255), [n, 1, 1, 1]);
const bytes = (g: ReturnType<typeof imageGrid>): number[] => [...Buffer.from(g.payload.pixels, 'base64')];

test('rows: each batch is one grid row, in order, with its row label', () => {
  const [a, b, c] = [batch(3, 10), batch(3, 20), batch(3, 30)];
  const g = imageGrid({ rows: [a, b, { data: b.dataSync(), shape: [3, 1, 1] }] }, { rowLabels: ['x', 'x̃', 'same as x̃'] });
  assert.deepEqual([g.payload.count, g.payload.columns], [9, 3]);
  assert.deepEqual(bytes(g), [10, 11, 12, 20, 21, 22, 20, 21, 22]);
  assert.deepEqual(g.payload.rowLabels, ['x', 'x̃', 'same as x̃']);
  tf.dispose([a, b, c]);
});

test('columns: batches side by side, each spread over the rows the first one sets (input, then its samples)', () => {
  const inputs = batch(2, 0); // rows 0 and 1
  const samples = batch(6, 100); // 3 per input, image-major: 100..102 for input 0, 103..105 for input 1
  const g = imageGrid({ columns: [inputs, samples] }, { columnLabels: ['x', 's1', 's2', 's3'] });
  assert.deepEqual([g.payload.count, g.payload.columns], [8, 4]);
  assert.deepEqual(bytes(g), [0, 100, 101, 102, 1, 103, 104, 105]);
  tf.dispose([inputs, samples]);
});

test('the single-batch form is unchanged', () => {
  const a = batch(4, 0);
  const g = imageGrid(a, { columns: 2 });
  assert.deepEqual([g.payload.count, g.payload.columns], [4, 2]);
  assert.deepEqual(bytes(g), [0, 1, 2, 3]);
  a.dispose();
});

test('mismatched batches and conflicting options are named', () => {
  const [a, b] = [batch(3, 0), batch(2, 0)];
  const big = tf.zeros([3, 2, 2, 1]);
  const isArg = (re: RegExp) => (e: Error) => e instanceof ArgumentError && re.test(e.message);
  assert.throws(() => imageGrid({ rows: [a, b] }), isArg(/rows\[1\] has 2 images but rows\[0\] has 3/));
  assert.throws(() => imageGrid({ rows: [a, big] }), isArg(/rows\[1\] holds 2x2x1 images but rows\[0\] holds 1x1x1/));
  assert.throws(() => imageGrid({ columns: [b, a] }), isArg(/columns\[1\] has 3 images, not a multiple of the 2 rows/));
  assert.throws(() => imageGrid({ rows: [a, a] }, { columns: 2 }), isArg(/"columns" is 2, but the batches make rows of 3 images/));
  assert.throws(() => imageGrid({ rows: [] }), isArg(/"rows" must hold at least one batch/));
  assert.throws(() => imageGrid({ rows: [a, a] }, { rowLabels: ['only one'] }), /rowLabels/);
  // A list of batches is not a list of images: the error points to { rows }.
  assert.throws(() => imageGrid([a, a] as never), isArg(/is a batch.*imageGrid\(\{ rows/));
  tf.dispose([a, b, big]);
});
