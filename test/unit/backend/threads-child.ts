/**
 * Child process for wasm-threads.test.ts: initialises wasm with PERTSET_WASM_THREADS from the
 * environment, runs matmuls on wasm and cpu, prints one JSON line, and exits explicitly (the
 * pthread workers would keep the process alive).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { relError, values } from './compare';

async function main(): Promise<void> {
  const info = await initBackend({ backend: 'wasm' });
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const compute = () => tf.tidy(() => {
    const a = tf.tensor(values([200, 300], 1), [200, 300]);
    const b = tf.tensor(values([300, 150], 2), [300, 150]);
    return tf.matMul(a, b).add(tf.matMul(a, b.transpose(), false, true));
  });
  const got = compute();
  const gotData = got.dataSync() as Float32Array;
  await tf.setBackend('cpu');
  const ref = compute();
  const err = relError(gotData, ref.dataSync() as Float32Array);
  console.log(JSON.stringify({ threads: wasm.getThreadsCount(), infoThreads: info.threads, err }));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
