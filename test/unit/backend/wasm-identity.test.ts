import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { compareWithCpu, values } from './compare';
import { initBackend } from '../../../kernel/api/backend';

interface WasmInternals { dataIdMap: { get(id: object): { memoryOffset: number; refCount: number } } }

test('Identity on wasm shares the buffer (zero-copy) and survives disposing the source', async () => {
  const info = await initBackend({ backend: 'wasm' });
  assert.ok(info.wasmKernels.some((n) => n.startsWith('Identity')), info.wasmKernels.join('; '));
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as WasmInternals;
  const x = tf.tensor(values([50, 7], 1), [50, 7]);
  const expected = x.dataSync().slice();
  const y = tf.clone(x);
  assert.equal(backend.dataIdMap.get(y.dataId).memoryOffset, backend.dataIdMap.get(x.dataId).memoryOffset);
  assert.equal(backend.dataIdMap.get(x.dataId).refCount, 2);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), Array.from(expected));
  const numTensors = tf.memory().numTensors;
  y.dispose();
  assert.equal(tf.memory().numTensors, numTensors - 1);
});

test('gradients through clone and identity-saving ops match cpu', async () => {
  const err = await compareWithCpu(() => {
    const f = (a: tf.Tensor) => tf.clone(a).exp().mul(tf.sigmoid(a)).add(tf.clone(tf.clone(a)).square()).sum();
    return tf.grads(f)([tf.tensor(values([6, 9], 2), [6, 9])]);
  });
  assert.ok(err < 1e-5, `relative error ${err}`);
});
