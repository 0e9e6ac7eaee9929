/**
 * `loadDataset` on a folder written by `pertset corrupt`: the corrupted test split comes back
 * byte for byte (with padding and limit), and a malformed copy gives an error naming the folder,
 * the field or the file.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeCorruptedCopy } from '../../../kernel/api/corruptions';
import { loadDataset, readIdxImagesAndLabels } from '../../../kernel/api/data';
import { ArgumentError, DataFormatError } from '../../../kernel/api/errors';
import { DEPENDENCIES, need, sharedDataDir } from '../../helpers/env';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-corrupted-copy-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let written: string | null = null;
function copy(): string {
  written ??= writeCorruptedCopy({ dataset: 'mnist', corruptions: ['canny_edges'], severities: [5], out: path.join(tmp, 'c'), data: sharedDataDir(), limit: 20, seed: 3 }).folders[0];
  return written;
}

/** A copy of the written folder to damage. */
function damaged(name: string, damage: (dir: string) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(copy(), dir, { recursive: true });
  damage(dir);
  return dir;
}

test('loadDataset reads a pertset corrupt folder: the corrupted test images, their labels and what was done', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const dir = copy();
  const ds = loadDataset('mnist', { dir });
  const raw = readIdxImagesAndLabels(path.join(dir, 't10k-images-idx3-ubyte'), path.join(dir, 't10k-labels-idx1-ubyte'));
  assert.equal(ds.split, 'test');
  assert.equal(ds.count, 20);
  assert.deepEqual(ds.images, raw.images);
  assert.deepEqual(ds.labels, raw.labels);
  const clean = loadDataset('mnist', { dir: sharedDataDir(), split: 'test', limit: 20 });
  assert.deepEqual(ds.labels, clean.labels, 'the labels of the first 20 test images');
  assert.notDeepEqual(ds.images, clean.images, 'the images are the corrupted ones');
  assert.match(ds.describe().source.description, /canny_edges at severity 5 \(suite mnistc, seed 3\)/);
  const padded = loadDataset('mnist', { dir, split: 'test', padding: 7, limit: 5 });
  assert.deepEqual([padded.count, padded.height, padded.width], [5, 42, 42]);
});

test('a malformed corrupted copy is refused with an error naming what is wrong', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const edit = (dir: string, f: (r: Record<string, unknown>) => void) => {
    const file = path.join(dir, 'corruption.json');
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    f(r);
    fs.writeFileSync(file, JSON.stringify(r));
  };
  const cases: [string, (dir: string) => void, RegExp, typeof DataFormatError][] = [
    ['not-json', (d) => fs.writeFileSync(path.join(d, 'corruption.json'), '{"dataset": "mnist",'), /corruption\.json: not readable JSON.*pertset corrupt/, DataFormatError],
    ['bad-severity', (d) => edit(d, (r) => (r.severity = 9)), /"severity" must be an integer from 1 to 5, got 9/, DataFormatError],
    ['bad-dataset', (d) => edit(d, (r) => (r.dataset = 'svhn')), /"dataset" must be "mnist" or "cifar10", got "svhn"/, DataFormatError],
    ['count', (d) => edit(d, (r) => (r.images = 25)), /records 25 images but the files hold 20/, DataFormatError],
    ['no-images', (d) => fs.rmSync(path.join(d, 't10k-images-idx3-ubyte')), /lacks t10k-images-idx3-ubyte/, DataFormatError],
    ['truncated', (d) => fs.truncateSync(path.join(d, 't10k-images-idx3-ubyte'), 1000), /t10k-images-idx3-ubyte/, DataFormatError],
  ];
  for (const [name, damage, message, type] of cases) {
    const dir = damaged(name, damage);
    assert.throws(() => loadDataset('mnist', { dir, split: 'test' }), (e: Error) => e instanceof type && message.test(e.message), name);
  }
  assert.throws(() => loadDataset('mnist', { dir: copy(), split: 'train' }), (e: Error) => e instanceof ArgumentError && /corrupted copy of the mnist test split .* no "train" split/.test(e.message));
  assert.throws(() => loadDataset('cifar10', { dir: copy() }), (e: Error) => e instanceof ArgumentError && /a corrupted copy of mnist, not cifar10/.test(e.message));
});
