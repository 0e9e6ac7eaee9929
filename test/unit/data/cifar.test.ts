import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { DataFormatError } from '../../../kernel/api/errors';
import { parseCifarBinary, readCifarBinary, CIFAR_RECORD_BYTES } from '../../../kernel/api/data/cifar-binary';
import { readDataFile } from '../../../kernel/api/data/file-bytes';
import { loadDataset } from '../../../kernel/api/data/load';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const CIFAR = path.join(sharedDataDir(), 'cifar10');

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

test('real CIFAR-10 batch 1: sha256, 10 000 records, class counts of SOURCES.md, CHW→HWC', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const file = path.join(CIFAR, 'data_batch_1.bin.gz');
  const raw = readDataFile(file);
  assert.equal(createHash('sha256').update(raw).digest('hex'), 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5');
  const r = parseCifarBinary(raw, file);
  assert.equal(r.count, 10000);
  assert.equal(r.images.length, 10000 * 32 * 32 * 3);
  assert.deepEqual(histogram(r.labels), [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  // Pixel (row 5, col 9) of record 123, channels R, G, B, read straight from the CHW record bytes.
  const n = 123;
  const p = 5 * 32 + 9;
  const rec = n * CIFAR_RECORD_BYTES + 1;
  const hwc = (n * 1024 + p) * 3;
  assert.deepEqual(Array.from(r.images.subarray(hwc, hwc + 3)), [raw[rec + p], raw[rec + 1024 + p], raw[rec + 2048 + p]]);
  assert.equal(r.labels[n], raw[n * CIFAR_RECORD_BYTES]);
});

test('real CIFAR-10 test extract: sha256, 1000 records, first 20 labels of SOURCES.md', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const file = path.join(CIFAR, 'test_batch_first1000.bin.gz');
  assert.equal(createHash('sha256').update(readDataFile(file)).digest('hex'), '8314c96d7cd65618193bab23acdd5d4c4af15bf6dd00a1781d55beedf3be1ef5');
  const r = readCifarBinary(file);
  assert.equal(r.count, 1000);
  assert.deepEqual(Array.from(r.labels.subarray(0, 20)), [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]);
});

test('loadDataset cifar10 from the shared folder: splits and shapes', (t) => {
  if (!need(t, DEPENDENCIES.sharedCifar)) return;
  const test1k = loadDataset('cifar10', { dir: sharedDataDir(), split: 'test' });
  assert.equal(test1k.count, 1000);
  assert.deepEqual(test1k.imageShape, [32, 32, 3]);
  assert.equal(test1k.source.origin, 'explicit');
  const val = loadDataset('cifar10', { dir: CIFAR, split: 'val', limit: 10 });
  assert.equal(val.count, 10);
  assert.deepEqual(val.describe().imageShape, [32, 32, 3]);
});

function tmpFile(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-cifar-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

function record(label: number, fill: number): Buffer {
  const b = Buffer.alloc(CIFAR_RECORD_BYTES, fill);
  b[0] = label;
  return b;
}

test('CIFAR binary: a size that is not whole records is an error naming the file and the leftover', () => {
  const f = tmpFile('short.bin', Buffer.concat([record(1, 7), record(2, 9)]).subarray(0, 2 * CIFAR_RECORD_BYTES - 100));
  assert.throws(() => readCifarBinary(f), (e: unknown) => e instanceof DataFormatError && e.message.includes(f) && e.message.includes('1 records and 2973 bytes left over'));
});

test('CIFAR binary: label out of range, empty file, truncated gzip', () => {
  const bad = tmpFile('bad.bin', Buffer.concat([record(3, 0), record(12, 0)]));
  assert.throws(() => readCifarBinary(bad), (e: unknown) => e instanceof DataFormatError && e.message.includes('record 1') && e.message.includes('label 12'));
  const empty = tmpFile('empty.bin', Buffer.alloc(0));
  assert.throws(() => readCifarBinary(empty), (e: unknown) => e instanceof DataFormatError && e.message.includes('empty file'));
  const gz = zlib.gzipSync(Buffer.concat([record(3, 1), record(4, 2)]));
  const cut = tmpFile('cut.bin.gz', gz.subarray(0, gz.length - 12));
  assert.throws(() => readCifarBinary(cut), (e: unknown) => e instanceof DataFormatError && e.message.includes(cut) && /truncated or corrupt/.test(e.message));
  const ok = tmpFile('ok.bin.gz', gz);
  assert.deepEqual(Array.from(readCifarBinary(ok).labels), [3, 4]);
});
