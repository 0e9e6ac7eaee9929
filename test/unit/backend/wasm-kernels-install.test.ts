import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { installWasmKernels, installedWasmKernels, WASM_KERNEL_FIXES } from '../../../kernel/api/backend/wasm-kernels';

// This file checks our install/uninstall mechanism, which the native accelerator would layer over.
process.env.PERTSET_NATIVE = '0';

test('wasm fixes: one note per fix, idempotent, can be disabled and restored', async () => {
  const info = await initBackend({ backend: 'wasm' });
  assert.equal(info.wasmKernels.length, WASM_KERNEL_FIXES.length);
  const ours = tf.getKernel('BatchMatMul', 'wasm');
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => { warnings.push(args); };
  try {
    assert.deepEqual(installWasmKernels(), info.wasmKernels);
    assert.equal(tf.getKernel('BatchMatMul', 'wasm'), ours, 'a second install must not re-register');

    assert.deepEqual(installWasmKernels({ disabled: true }), []);
    assert.deepEqual(installedWasmKernels(), []);
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined, 'stock wasm has no Conv2DBackpropFilter');
    assert.notEqual(tf.getKernel('BatchMatMul', 'wasm'), ours);

    const partial = installWasmKernels({ exclude: ['identity-zero-copy'] });
    assert.equal(partial.length, WASM_KERNEL_FIXES.length - 1);
    assert.ok(!partial.some((n) => n.startsWith('Identity')));

    assert.deepEqual(installWasmKernels(), info.wasmKernels);
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, [], 'no "already registered" warnings');
});

test('the stock kernels still compute after a disable/enable cycle', async () => {
  await initBackend({ backend: 'wasm' });
  await tf.setBackend('wasm');
  installWasmKernels({ disabled: true });
  const stock = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 4]), false, true));
  installWasmKernels();
  const fixed = tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 4]), false, true));
  assert.deepEqual(Array.from(fixed.dataSync()), Array.from(stock.dataSync()));
  assert.deepEqual(Array.from(fixed.dataSync()), new Array(15).fill(4));
  tf.dispose([stock, fixed]);
});
