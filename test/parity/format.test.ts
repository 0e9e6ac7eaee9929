/** The PyTorch exchange format and name/layout correspondence, without PyTorch. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  fromTorchLayout, inferArchitecture, latentFromTorch, latentToTorch, readTorchWeights, toTorchLayout, torchKeyOf,
  writeTorchWeights,
} from '../../kernel/api/interop';
import { createCVAE } from '../../kernel/api/models';
import { initBackend } from '../../kernel/api/backend';
import { tempDir } from './helpers';

test('variable names map to the reference state_dict keys', () => {
  assert.equal(torchKeyOf('prior/fc1/kernel'), 'prior.fc1.weight');
  assert.equal(torchKeyOf('generator/stns/3/localization/1/bias'), 'generator.stns.3.localization.1.bias');
  assert.equal(torchKeyOf('prior/block/bn1/gamma'), 'prior.block.bn1.weight');
  assert.equal(torchKeyOf('prior/block/bn1/beta'), 'prior.block.bn1.bias');
  assert.equal(torchKeyOf('recognition/block/bn2/moving_mean'), 'recognition.block.bn2.running_mean');
  assert.equal(torchKeyOf('generator/block/bn2/moving_variance'), 'generator.block.bn2.running_var');
  assert.throws(() => torchKeyOf('prior/fc1/weights'), /unknown parameter kind "weights"/);
});

test('layouts: Linear [in,out] ↔ [out,in], conv HWIO ↔ OIHW, round trip exact', () => {
  const dense = Float32Array.from([1, 2, 3, 4, 5, 6]); // [in 2, out 3]
  const t = toTorchLayout('a/kernel', [2, 3], dense);
  assert.deepEqual(t.shape, [3, 2]);
  assert.deepEqual(Array.from(t.data), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(Array.from(fromTorchLayout('a/kernel', [2, 3], t)!), Array.from(dense));
  const hwio = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
  const oihw = toTorchLayout('c/kernel', [2, 3, 4, 5], hwio);
  assert.deepEqual(oihw.shape, [5, 4, 2, 3]);
  // OIHW[o][i][h][w] = HWIO[h][w][i][o]
  assert.equal(oihw.data[((3 * 4 + 1) * 2 + 1) * 3 + 2], hwio[((1 * 3 + 2) * 4 + 1) * 5 + 3]);
  assert.deepEqual(Array.from(fromTorchLayout('c/kernel', [2, 3, 4, 5], oihw)!), Array.from(hwio));
  assert.equal(fromTorchLayout('c/kernel', [2, 3, 4, 5], { shape: [5, 4, 3, 2], data: oihw.data }), null);
});

test('weights directory: write/read round trip; clear errors for wrong format, truncation, bad dtype', () => {
  const dir = tempDir('format');
  const tensors = new Map([
    ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }],
    ['a.bias', { shape: [2], data: Float32Array.from([0.25, -1e-8]) }],
  ]);
  writeTorchWeights(dir, tensors, 'unit test');
  const back = readTorchWeights(dir);
  assert.deepEqual([...back.keys()], ['a.weight', 'a.bias']);
  assert.deepEqual(back.get('a.weight'), tensors.get('a.weight'));
  assert.deepEqual(readTorchWeights(path.join(dir, 'manifest.json')).get('a.bias'), tensors.get('a.bias'));

  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  fs.writeFileSync(path.join(dir, 'weights.bin'), fs.readFileSync(path.join(dir, 'weights.bin')).subarray(0, 28));
  assert.throws(() => readTorchWeights(dir), /tensors\[1\] \("a\.bias"\): bytes 24\.\.32 lie outside .*weights\.bin \(28 bytes\)/);
  fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, format: 'something-else' }));
  assert.throws(() => readTorchWeights(dir), /not a pertset-torch-state-dict v1 manifest/);
  fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, tensors: [{ ...manifest.tensors[0], dtype: 'int64' }] }));
  assert.throws(() => readTorchWeights(dir), /dtype "int64" is not supported/);
  assert.throws(() => readTorchWeights(path.join(dir, 'nope')), /not found \(expected a directory written by scripts\/torch\/export_state_dict\.py/);
});

test('architecture inference and mnist_conv latent layout (NHWC flat ↔ [B,128,7,7])', async () => {
  await initBackend();
  assert.equal(inferArchitecture(['generator.fc3.weight']), 'mnist_fc');
  assert.equal(inferArchitecture(['generator.downsample3.weight']), 'mnist_conv');
  assert.equal(inferArchitecture(['generator.stns.0.fc.weight']), 'mnist_stn');
  assert.equal(inferArchitecture(['fc.weight']), null);
  const conv = createCVAE('mnist_conv');
  try {
    const z = Float32Array.from({ length: 2 * 6272 }, (_, i) => i);
    const t = latentToTorch(conv, z, 2);
    assert.deepEqual(t.shape, [2, 128, 7, 7]);
    // torch z[1][c=5][h=2][w=3] is our flat index ((1·7 + 2)·7 + 3)·128 + 5
    assert.equal(t.data[((1 * 128 + 5) * 7 + 2) * 7 + 3], ((1 * 7 + 2) * 7 + 3) * 128 + 5);
    assert.deepEqual(Array.from(latentFromTorch(conv, t)), Array.from(z));
  } finally {
    conv.dispose();
  }
});
