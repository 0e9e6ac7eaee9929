import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DataFormatError } from '../../../kernel/api/errors';
import { parseIdx, readIdx, readIdxImagesAndLabels } from '../../../kernel/api/data/idx';
import { readDataFile } from '../../../kernel/api/data/file-bytes';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const MNIST = path.join(sharedDataDir(), 'mnist');
// Raw sha256 from ../shared/data/SOURCES.md.
const RAW_SHA256: Record<string, string> = {
  'train-images-idx3-ubyte.gz': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
  'train-labels-idx1-ubyte.gz': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
  't10k-images-idx3-ubyte.gz': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
  't10k-labels-idx1-ubyte.gz': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
};
// The published MNIST class counts (LeCun's files).
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

function idxBytes(type: number, dims: number[], payloadBytes: number): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const payload = Buffer.alloc(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) payload[i] = i % 251;
  return Buffer.concat([header, payload]);
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-idx-'));
}

function assertDataError(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `expected DataFormatError, got ${e}`);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(e.message.includes(f), `message "${e.message}" lacks "${f}"`);
      else assert.match(e.message, f);
    }
    return true;
  });
}

test('real MNIST: raw sha256 of the four files match SOURCES.md', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  for (const [file, sha] of Object.entries(RAW_SHA256)) {
    const raw = readDataFile(path.join(MNIST, file));
    assert.equal(createHash('sha256').update(raw).digest('hex'), sha, file);
  }
});

test('real MNIST: counts, shapes and the published label histograms', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const train = readIdxImagesAndLabels(path.join(MNIST, 'train-images-idx3-ubyte.gz'), path.join(MNIST, 'train-labels-idx1-ubyte.gz'));
  assert.deepEqual([train.count, train.height, train.width], [60000, 28, 28]);
  assert.equal(train.images.length, 60000 * 784);
  assert.deepEqual(histogram(train.labels), TRAIN_COUNTS);
  const test10k = readIdxImagesAndLabels(path.join(MNIST, 't10k-images-idx3-ubyte.gz'), path.join(MNIST, 't10k-labels-idx1-ubyte.gz'));
  assert.deepEqual([test10k.count, test10k.height, test10k.width], [10000, 28, 28]);
  assert.deepEqual(histogram(test10k.labels), TEST_COUNTS);
  // The first training digit is a 5, the first test digit a 7 (known MNIST facts).
  assert.equal(train.labels[0], 5);
  assert.equal(test10k.labels[0], 7);
});

test('raw and gzipped IDX files give identical arrays', () => {
  const dir = tmpDir();
  const bytes = idxBytes(8, [3, 4, 5], 60);
  fs.writeFileSync(path.join(dir, 'a'), bytes);
  fs.writeFileSync(path.join(dir, 'a.gz'), zlib.gzipSync(bytes));
  const raw = readIdx(path.join(dir, 'a'));
  const gz = readIdx(path.join(dir, 'a.gz'));
  assert.deepEqual(raw.dims, [3, 4, 5]);
  assert.deepEqual(gz.dims, raw.dims);
  assert.deepEqual(Array.from(gz.data), Array.from(raw.data));
  assert.equal(raw.data[59], 59);
});

test('IDX: bad magic number names the file and the magic', () => {
  const bytes = idxBytes(8, [2], 2);
  bytes[0] = 0x1a;
  assertDataError(() => parseIdx(bytes, 'x.idx'), 'x.idx', 'bad magic number', '0x1a000801');
});

test('IDX: non-uint8 element type is a bad magic number', () => {
  assertDataError(() => parseIdx(idxBytes(0x0d, [2], 8), 'floats.idx'), 'floats.idx', 'bad magic number', 'element type 0x0d');
});

test('IDX: a file shorter than the magic number is truncated', () => {
  assertDataError(() => parseIdx(Buffer.from([0, 0]), 'tiny'), 'tiny', 'truncated', '2 bytes');
});

test('IDX: truncated header', () => {
  const bytes = idxBytes(8, [10, 28, 28], 0).subarray(0, 9);
  assertDataError(() => parseIdx(bytes, 'hdr'), 'hdr', 'truncated IDX header');
});

test('IDX: truncated data reports expected and actual sizes', () => {
  const bytes = idxBytes(8, [10, 28, 28], 7840).subarray(0, 16 + 7000);
  assertDataError(() => parseIdx(bytes, 'short-images'), 'short-images', 'truncated', `${16 + 7840} bytes`, `file has ${16 + 7000}`);
});

test('IDX: extra bytes are a wrong size', () => {
  const bytes = idxBytes(8, [5], 7);
  assertDataError(() => parseIdx(bytes, 'long-labels'), 'long-labels', 'wrong size', '2 extra');
});

test('IDX files on disk: truncated gzip, missing file, header/label count mismatch, wrong dimensions', () => {
  const dir = tmpDir();
  const gz = zlib.gzipSync(idxBytes(8, [50, 28, 28], 50 * 784));
  const cut = path.join(dir, 'cut-images-idx3-ubyte.gz');
  fs.writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
  assertDataError(() => readIdx(cut), cut, 'gzip data is truncated or corrupt');

  const missing = path.join(dir, 'nope.gz');
  assertDataError(() => readIdx(missing), missing, 'file not found');

  const images = path.join(dir, 'images');
  const labels = path.join(dir, 'labels');
  fs.writeFileSync(images, idxBytes(8, [4, 2, 2], 16));
  fs.writeFileSync(labels, idxBytes(8, [3], 3));
  assertDataError(() => readIdxImagesAndLabels(images, labels), labels, 'header declares 3 labels', 'declares 4 images');

  fs.writeFileSync(labels, idxBytes(8, [4, 1], 4));
  assertDataError(() => readIdxImagesAndLabels(images, labels), labels, 'expected a label array with 1 dimension');
  fs.writeFileSync(labels, idxBytes(8, [4], 4));
  assert.equal(readIdxImagesAndLabels(images, labels).count, 4);
  assertDataError(() => readIdxImagesAndLabels(labels, labels), labels, 'expected an image array with 3 dimensions');
});
