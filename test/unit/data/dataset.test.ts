import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { ArgumentError, DataFormatError } from '../../../kernel/api/errors';
import { loadDataset, resolveDatasetName } from '../../../kernel/api/data/load';
import { locateDataset, cacheDir } from '../../../kernel/api/data/locate';
import { embeddedDir } from '../../../kernel/api/data/embedded';
import { readDataFile } from '../../../kernel/api/data/file-bytes';
import { torchRandomSplit } from '../../../kernel/api/data/torch-split';
import { DEPENDENCIES, need, PYTHON, sharedDataDir } from '../../helpers/env';

const SHARED = sharedDataDir();
const MNIST = path.join(SHARED, 'mnist');
const NO_ENV: NodeJS.ProcessEnv = { PERTSET_CACHE: path.join(os.tmpdir(), 'pertset-empty-cache-for-tests') };

test('the validation split replays torch.manual_seed(0) + random_split exactly (checked against PyTorch)', (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  const script = [
    'import torch, json',
    'out = {}',
    'for n, v in [(60000, 1000), (4000, 500), (50000, 1000)]:',
    '    torch.manual_seed(0)',
    '    a, b = torch.utils.data.random_split(range(n), [n - v, v])',
    '    out[str(n)] = {"train_head": list(a.indices[:50]), "val": list(b.indices)}',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const torch = JSON.parse(r.stdout) as Record<string, { train_head: number[]; val: number[] }>;
  for (const [n, v] of [[60000, 1000], [4000, 500], [50000, 1000]]) {
    const ours = torchRandomSplit(n, v, 0);
    assert.deepEqual(Array.from(ours.val), torch[String(n)].val, `val split of ${n}`);
    assert.deepEqual(Array.from(ours.train.subarray(0, 50)), torch[String(n)].train_head, `train order of ${n}`);
    assert.equal(ours.train.length, n - v);
  }
});

test('MNIST splits: train 59k / val 1k disjoint and covering the training file, test 10k, limit takes the first N', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const train = loadDataset('mnist', { dir: SHARED, split: 'train' });
  const val = loadDataset('mnist', { dir: SHARED, split: 'val' });
  const test10k = loadDataset('mnist', { dir: SHARED, split: 'test' });
  assert.equal(train.count, 59000);
  assert.equal(val.count, 1000);
  assert.equal(test10k.count, 10000);
  assert.deepEqual(train.imageShape, [28, 28, 1]);
  const seen = new Set<number>([...train.sourceIndices, ...val.sourceIndices]);
  assert.equal(seen.size, 60000);
  const sumCounts = train.labelCounts().map((c, i) => c + val.labelCounts()[i]);
  assert.deepEqual(sumCounts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  // Images follow their source index: image 0 of the train split is source image train.sourceIndices[0].
  const trainval = loadDataset('mnist', { dir: SHARED, split: 'trainval' });
  const src = train.sourceIndices[0];
  assert.deepEqual(Array.from(train.images.subarray(0, 784)), Array.from(trainval.images.subarray(src * 784, (src + 1) * 784)));
  assert.equal(train.labels[0], trainval.labels[src]);

  const limited = loadDataset('mnist', { dir: SHARED, split: 'train', limit: 100 });
  assert.equal(limited.count, 100);
  assert.deepEqual(Array.from(limited.sourceIndices), Array.from(train.sourceIndices.subarray(0, 100)));
  assert.equal(limited.describe().limit, 100);
  const firstTest = loadDataset('mnist', { dir: SHARED, split: 'test', limit: 3 });
  assert.deepEqual(Array.from(firstTest.labels), Array.from(test10k.labels.subarray(0, 3)));
});

test('the description is plain JSON and names the source', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const ds = loadDataset('mnist', { dir: MNIST, split: 'val', limit: 10, padding: 7 });
  const d = ds.describe();
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  assert.equal(d.source.origin, 'explicit');
  assert.equal(d.source.dir, MNIST);
  assert.equal(d.source.files.length, 2);
  assert.deepEqual(d.imageShape, [42, 42, 1]);
  assert.equal(d.padding, 7);
  assert.match(ds.toString(), /^mnist val: 10 images 42x42x1, zero-padded by 7 — MNIST from .*mnist \(explicit path\)$/);
});

test('embedded Fashion-MNIST subset: loads offline, counts, raw sha256 as recorded in SOURCE.md', () => {
  const dir = embeddedDir();
  const sourceMd = fs.readFileSync(path.join(dir, 'SOURCE.md'), 'utf8');
  assert.match(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8'), /Permission is hereby granted, free of charge/);
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    const row = sourceMd.split('\n').find((l) => l.startsWith(`| ${name}.gz |`));
    assert.ok(row, `SOURCE.md lists ${name}`);
    const rawSha = row.split('|').map((c) => c.trim())[6];
    assert.equal(createHash('sha256').update(readDataFile(path.join(dir, `${name}.gz`))).digest('hex'), rawSha, name);
  }
  const train = loadDataset('embedded', { split: 'trainval' });
  const test1k = loadDataset('embedded', { split: 'test' });
  assert.equal(train.count, 4000);
  assert.equal(test1k.count, 1000);
  assert.deepEqual(train.imageShape, [28, 28, 1]);
  assert.equal(train.source.origin, 'embedded');
  assert.match(train.source.description, /^embedded Fashion-MNIST subset \(first 4000 train \+ first 1000 test/);
  assert.equal(loadDataset('embedded', { split: 'train' }).count, 3500);
  assert.equal(loadDataset('embedded', { split: 'val' }).count, 500);
  // Every class is present in the subset.
  assert.ok(train.labelCounts().every((c) => c > 300), `class counts ${train.labelCounts()}`);
  assert.equal(train.classNames[9], 'Ankle boot');
});

test('the embedded subset equals the first images of Debian\'s dataset-fashion-mnist', (t) => {
  const debian = '/usr/share/datasets/fashion-mnist';
  if (!need(t, DEPENDENCIES.debianFashionMnist)) return;
  const full = zlib.gunzipSync(fs.readFileSync(path.join(debian, 't10k-images-idx3-ubyte.gz')));
  const ours = loadDataset('embedded', { split: 'test' });
  assert.deepEqual(Buffer.from(ours.images), full.subarray(16, 16 + 1000 * 784));
});

function fakeMnistDir(root: string, sub: string, count: number): string {
  const dir = path.join(root, sub);
  fs.mkdirSync(dir, { recursive: true });
  const idx = (dims: number[], fill: number) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h[2] = 8;
    h[3] = dims.length;
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([h, Buffer.alloc(dims.reduce((a, b) => a * b, 1), fill)]);
  };
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(idx([count, 28, 28], 1)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([count], 2));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idx([3, 28, 28], 3));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(idx([3], 4)));
  return dir;
}

test('discovery order: explicit dir, then PERTSET_DATA, then the cache, then the embedded subset', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-locate-'));
  const explicit = fakeMnistDir(root, 'explicit', 1100);
  const envRoot = path.join(root, 'env');
  const envDir = fakeMnistDir(envRoot, 'mnist', 1200);
  const cache = path.join(root, 'cache');
  const cacheMnist = fakeMnistDir(cache, 'mnist', 1300);
  const env = { PERTSET_DATA: envRoot, PERTSET_CACHE: cache };

  const a = locateDataset('mnist', { dir: explicit, env });
  assert.deepEqual([a.origin, a.dir], ['explicit', explicit]);
  const b = locateDataset('mnist', { env });
  assert.deepEqual([b.origin, b.dir], ['env', envDir]);
  const c = locateDataset('mnist', { env: { PERTSET_CACHE: cache } });
  assert.deepEqual([c.origin, c.dir], ['cache', cacheMnist]);
  // PERTSET_DATA without MNIST falls through to the cache, and the search is recorded.
  const d = locateDataset('mnist', { env: { PERTSET_DATA: path.join(root, 'nothing'), PERTSET_CACHE: cache } });
  assert.equal(d.origin, 'cache');
  assert.ok(d.searched.some((s) => s.includes('nothing')));
  const e = locateDataset('mnist', { env: { PERTSET_CACHE: path.join(root, 'no-cache') } });
  assert.deepEqual([e.origin, e.name, e.requested], ['embedded', 'embedded', 'mnist']);

  const loaded = loadDataset('mnist', { env, split: 'trainval' });
  assert.equal(loaded.count, 1200);
  assert.equal(loaded.source.description, `MNIST from ${envDir} (PERTSET_DATA)`);
  const fallback = loadDataset('mnist', { env: { PERTSET_CACHE: path.join(root, 'no-cache') }, split: 'test' });
  assert.equal(fallback.name, 'embedded');
  assert.equal(fallback.describe().requested, 'mnist');
  assert.match(fallback.describe().note ?? '', /MNIST not found .*no-cache.*using the embedded Fashion-MNIST subset/);
});

test('cache folder: PERTSET_CACHE, else XDG_CACHE_HOME/pertset, else ~/.cache/pertset', () => {
  assert.equal(cacheDir({ PERTSET_CACHE: '/a/b', XDG_CACHE_HOME: '/x' }), '/a/b');
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/pertset');
  assert.equal(cacheDir({}), path.join(os.homedir(), '.cache', 'pertset'));
});

test('discovery errors: an explicit folder without the files, missing CIFAR, fallback disabled', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-locate-'));
  assert.throws(() => locateDataset('mnist', { dir: root, env: NO_ENV }), (e: unknown) =>
    e instanceof DataFormatError && e.message.startsWith(`MNIST not found in ${root}`) && e.message.includes('no train-images-idx3-ubyte[.gz]'));
  assert.throws(() => locateDataset('cifar10', { env: NO_ENV }), (e: unknown) =>
    e instanceof DataFormatError && e.message.includes('CIFAR-10 not found') && e.message.includes('--data DIR'));
  assert.throws(() => locateDataset('mnist', { env: NO_ENV, fallback: false }), (e: unknown) =>
    e instanceof DataFormatError && e.message.includes('pertset data download mnist'));
  assert.throws(() => loadDataset('mnist', { env: NO_ENV, split: 'dev' as never }), ArgumentError);
  assert.throws(() => loadDataset('svhn', { env: NO_ENV }), (e: unknown) => e instanceof ArgumentError && e.message.includes('unknown dataset "svhn"'));
  assert.equal(resolveDatasetName('fashion_mnist'), 'fashion-mnist');
  assert.equal(resolveDatasetName('mnist_rts_limited'), 'mnist');
  assert.throws(() => loadDataset('embedded', { limit: 0 }), ArgumentError);
});

test('seeded batches: same (seed, epoch) same order, other epochs and seeds differ, every image once per epoch', () => {
  const ds = loadDataset('embedded', { split: 'test', limit: 300 });
  const order = (seed: number, epoch: number) => [...ds.batches({ batchSize: 64, seed, epoch })].flatMap((b) => Array.from(b.indices));
  const a = order(1, 0);
  assert.deepEqual(order(1, 0), a);
  assert.notDeepEqual(order(1, 1), a);
  assert.notDeepEqual(order(2, 0), a);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 300 }, (_, i) => i));
  const batches = [...ds.batches({ batchSize: 64, seed: 1, epoch: 0 })];
  assert.deepEqual(batches.map((b) => b.shape[0]), [64, 64, 64, 64, 44]);
  assert.equal([...ds.batches({ batchSize: 64, dropLast: true })].length, 4);
  const b = batches[1];
  assert.deepEqual(b.shape, [64, 28, 28, 1]);
  const i = b.indices[5];
  for (let p = 0; p < 784; p++) assert.equal(b.x[5 * 784 + p], Math.fround(ds.images[i * 784 + p] / 255));
  assert.equal(b.labels[5], ds.labels[i]);
  const inOrder = [...ds.batches({ batchSize: 100, shuffle: false })].flatMap((x) => Array.from(x.indices));
  assert.deepEqual(inOrder, Array.from({ length: 300 }, (_, k) => k));
});

test('pad(p) puts the image in the centre of a zero canvas', () => {
  const ds = loadDataset('embedded', { split: 'test', limit: 2 });
  const padded = ds.pad(7);
  assert.deepEqual(padded.imageShape, [42, 42, 1]);
  let sumIn = 0;
  let sumOut = 0;
  for (let p = 0; p < 784; p++) sumIn += ds.images[784 + p];
  for (let p = 0; p < 42 * 42; p++) sumOut += padded.images[42 * 42 + p];
  assert.equal(sumOut, sumIn);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) assert.equal(padded.images[(y + 7) * 42 + x + 7], ds.images[y * 28 + x]);
  for (let x = 0; x < 42; x++) assert.equal(padded.images[3 * 42 + x], 0);
});

test("Fashion-MNIST from Debian's system-wide install after the cache: 60k/10k, 6000 and 1000 per class", (t) => {
  const debian = '/usr/share/datasets/fashion-mnist';
  if (!need(t, DEPENDENCIES.debianFashionMnist)) return;
  const located = locateDataset('fashion-mnist', { env: NO_ENV });
  assert.deepEqual([located.origin, located.dir], ['system', debian]);
  const all = loadDataset('fashion-mnist', { env: NO_ENV, split: 'trainval' });
  assert.equal(all.count, 60000);
  assert.deepEqual(all.labelCounts(), new Array(10).fill(6000));
  assert.equal(all.source.description, `Fashion-MNIST from ${debian} (system-wide install)`);
  const testSplit = loadDataset('fashion-mnist', { env: NO_ENV, split: 'test' });
  assert.deepEqual(testSplit.labelCounts(), new Array(10).fill(1000));
  assert.equal(locateDataset('fashion-mnist', { env: NO_ENV, system: false }).origin, 'embedded');
});
