/**
 * Parity of our MNISTConv classifier (kernel/api/classifiers) with its PyTorch twin
 * (scripts/torch/twin_models.py, which `pertset bench` times): the same weights and inputs must give
 * the same logits and per-example cross-entropy (within 1e-4 relative) and the same gradient of the
 * mean cross-entropy with respect to every parameter (1e-3), on MNIST's 28×28 and the RTS sets'
 * 42×42 canvas.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernel/api/backend';
import { createClassifier } from '../../kernel/api/classifiers';
import { toTorchLayout, torchKeyOf, writeTorchWeights, readTorchWeights, type TorchTensor } from '../../kernel/api/interop';
import { createRng } from '../../kernel/api/random';
import { crossEntropy } from '../../kernel/api/robust-train';
import { assertClose, runTwin, tempDir, toNCHW } from './helpers';
import { DEPENDENCIES, need } from '../helpers/env';

const BATCH = 6;
const FORWARD_REL = 1e-4;
const GRAD_REL = 1e-3;

for (const side of [28, 42]) {
  test(`MNISTConv on ${side}×${side} agrees with the PyTorch twin (logits, cross-entropy, gradients)`, async (t) => {
    if (!need(t, DEPENDENCIES.torch)) return;
    const backend = await initBackend();
    const classifier = createClassifier({ architecture: 'mnist_conv', inputShape: [side, side, 1] }, { seed: 5 });
    const dir = tempDir(`mnist-conv-${side}`);
    try {
      const rng = createRng(`mnist-conv/${side}`);
      const x = tf.tensor4d(Float32Array.from({ length: BATCH * side * side }, () => (rng.uniform() < 0.3 ? rng.uniform() : 0)), [BATCH, side, side, 1]);
      const labels = Array.from({ length: BATCH }, (_, i) => (i * 7) % 10);
      const y = tf.tensor1d(labels, 'int32');
      writeTorchWeights(`${dir}/weights`, [...classifier.variables].map(([name, v]): [string, TorchTensor] =>
        [torchKeyOf(name), toTorchLayout(name, v.shape, v.dataSync() as Float32Array)]));
      writeTorchWeights(`${dir}/inputs`, [['x', toNCHW(x)], ['y', { shape: [BATCH], data: Float32Array.from(labels) }]]);
      runTwin(['classifier', String(side), `${dir}/weights`, `${dir}/inputs`, `${dir}/out`]);
      const theirs = readTorchWeights(`${dir}/out`);
      const get = (k: string): Float32Array => {
        const v = theirs.get(k);
        if (!v) throw new Error(`PyTorch twin did not write "${k}"`);
        return v.data;
      };

      const logits = classifier.logits(x, true);
      const ce = crossEntropy(logits, y);
      const worst = [assertClose(`${side}: logits`, logits.dataSync(), get('logits'), FORWARD_REL),
        assertClose(`${side}: cross-entropy`, ce.dataSync(), get('ce'), FORWARD_REL)];
      const { value, grads } = tf.variableGrads(() => tf.mean(crossEntropy(classifier.logits(x, true), y)) as tf.Scalar, classifier.trainableVariables());
      const names = new Map([...classifier.variables].map(([n, v]) => [v.name, n]));
      let worstGrad = 0;
      for (const [tfName, g] of Object.entries(grads)) {
        const name = names.get(tfName) as string;
        worstGrad = Math.max(worstGrad, assertClose(`${side}: ∂CE/∂${name}`, toTorchLayout(name, g.shape, g.dataSync() as Float32Array).data,
          get(`grad/${torchKeyOf(name)}`), GRAD_REL));
      }
      t.diagnostic(`MNISTConv ${side}×${side} on ${backend.name}: worst relative difference, forward ${Math.max(...worst).toExponential(1)}, gradients ${worstGrad.toExponential(1)}`);
      tf.dispose([x, y, logits, ce, value, ...Object.values(grads)]);
    } finally {
      classifier.dispose();
    }
  });
}
