import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { ArgumentError } from '../../../kernel/api/errors';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import {
  ABSTAIN,
  certify,
  maxCertifiableRadius,
  normalQuantile,
  sigmaForRadius,
  smoothedPredict,
  summarizeCertification,
  type CertificationProgress,
  type CertificationResult,
} from '../../../kernel/api/robustness';
import { LinearCVAE, trainDenseClassifier, twoSideTask } from './fixtures';

/** Logits that always favour `cls` of `classes`, whatever the image. */
const constantClassifier = (cls: number, classes = 3) => (x: tf.Tensor4D) =>
  tf.tidy(() => tf.tile(tf.oneHot(tf.tensor1d([cls], 'int32'), classes).mul(5), [x.shape[0], 1]) as tf.Tensor2D);

/** A fair coin between classes 0 and 1 per sample (seeded, so the test repeats). */
function coinFlipClassifier(seed: number) {
  let calls = 0;
  return (x: tf.Tensor4D) => tf.tidy(() => tf.randomUniform([x.shape[0], 2], 0, 1, 'float32', seed + calls++) as tf.Tensor2D);
}

test('σ is chosen as the paper chose it: n = 10000, α = 0.001 gives Φ⁻¹(α^{1/n}) = 3.1986 and σ = 0.84 ↔ 2.687', () => {
  assert.ok(Math.abs(normalQuantile(Math.pow(0.001, 1 / 10000)) - 3.1986) < 1e-4);
  assert.ok(Math.abs(maxCertifiableRadius(0.84, 10000, 0.001) - 2.687) < 1e-3);
  assert.ok(Math.abs(sigmaForRadius(2.687, 10000, 0.001) - 0.84) < 1e-3);
  for (const [sigma, r] of [[1.22, 3.902], [3.19, 10.203]]) assert.ok(Math.abs(maxCertifiableRadius(sigma, 10000, 0.001) - r) < 1e-3);
  assert.ok(Math.abs(maxCertifiableRadius(6.9, 1000, 0.001) - 17.0) < 0.01, 'the MI setting: n = 1000');
  assert.throws(() => sigmaForRadius(-1, 100, 0.01), (e: unknown) => e instanceof ArgumentError && /radius must be a finite number > 0/.test((e as Error).message));
  assert.throws(() => maxCertifiableRadius(1, 0, 0.01), /n must be an integer >= 1/);
});

test('a constant classifier is certified at the largest radius for its class; PREDICT returns it', async () => {
  await initBackend();
  const cvae = new LinearCVAE();
  const data = twoSideTask(4, 'constant');
  try {
    const sigma = 0.5;
    const n = 2000;
    const result = await certify(cvae, constantClassifier(2), data.x, [2, 2, 1, 0], { sigma, n, alpha: 0.001, batchSize: 300 });
    const max = maxCertifiableRadius(sigma, n, 0.001);
    assert.equal(result.maxRadius, max);
    for (const e of result.examples) {
      assert.equal(e.prediction, 2);
      assert.ok(Math.abs(e.radius - max) < 1e-9, `radius ${e.radius} = σ·Φ⁻¹(α^{1/n}) = ${max}`);
      assert.ok(Math.abs(e.pLower - Math.pow(0.001, 1 / n)) < 1e-12);
    }
    assert.deepEqual(result.examples.map((e) => e.correct), [true, true, false, false]);
    const summary = summarizeCertification(result, [0, max / 2, max, max + 1e-6]);
    assert.deepEqual(summary.certifiedAccuracy.map((c) => c.accuracy), [0.5, 0.5, 0.5, 0]);
    assert.equal(summary.abstain, 0);
    assert.ok(Math.abs(summary.averageRadius - max) < 1e-9, 'the average counts wrong predictions too');
    assert.equal(summary.count, 4);
    const predicted = await smoothedPredict(cvae, constantClassifier(2), data.x, { sigma });
    assert.deepEqual(predicted.prediction, [2, 2, 2, 2]);
    assert.deepEqual(predicted.counts[0], [0, 0, 100]);
    assert.ok(predicted.pValue.every((p) => p < 1e-29));
  } finally {
    tf.dispose([data.x, data.labels]);
    cvae.dispose();
  }
});

test('PREDICT abstains on a coin-flip classifier, and CERTIFY does too', async () => {
  await initBackend();
  const cvae = new LinearCVAE();
  const data = twoSideTask(40, 'coin');
  try {
    const predicted = await smoothedPredict(cvae, coinFlipClassifier(11), data.x, { sigma: 1, n: 100, alpha: 0.001, batchSize: 50 });
    const abstained = predicted.prediction.filter((p) => p === ABSTAIN).length;
    assert.ok(abstained >= 36, `abstains on ${abstained} of 40 (a fair coin passes the test at α = 0.001 about once in 2000)`);
    for (const c of predicted.counts) assert.equal(c[0] + c[1], 100);
    const five = tf.slice(data.x, [0, 0, 0, 0], [5, -1, -1, -1]);
    const result = await certify(cvae, coinFlipClassifier(12), five, [0, 1, 0, 1, 0], { sigma: 1, n0: 50, n: 500 });
    five.dispose();
    assert.ok(result.examples.every((e) => e.prediction === ABSTAIN && e.radius === 0 && !e.correct));
    const summary = summarizeCertification(result);
    assert.equal(summary.abstain, 1);
    assert.equal(summary.averageRadius, 0);
    assert.equal(summary.certifiedAccuracy.length, 11);
  } finally {
    tf.dispose([data.x, data.labels]);
    cvae.dispose();
  }
});

test('on a trained classifier no certified radius exceeds σ·Φ⁻¹(α^{1/n}), and certify repeats for a seed', async () => {
  await initBackend();
  const cvae = new LinearCVAE();
  const set = new PerturbationSet(cvae, 8);
  const { classifier, model } = await trainDenseClassifier(twoSideTask(256, 'train'));
  const data = twoSideTask(12, 'certify');
  try {
    const options = { sigma: 3, n0: 50, n: 1000, alpha: 0.001, batchSize: 256, seed: 5 };
    const events: CertificationProgress[] = [];
    const result = await certify(set, classifier, data.x, data.labels, { ...options, callbacks: { onExampleEnd: (e) => void events.push(e) } });
    const max = maxCertifiableRadius(3, 1000, 0.001);
    assert.ok(result.examples.every((e) => e.radius <= max), `radii ${result.examples.map((e) => e.radius.toFixed(3))} ≤ ${max}`);
    assert.ok(result.examples.some((e) => e.radius > 0 && e.radius < max), 'some radii are certified below the maximum (the noise does change predictions)');
    for (const e of result.examples) {
      if (e.prediction !== ABSTAIN) assert.ok(Math.abs(e.radius - 3 * normalQuantile(e.pLower)) < 1e-12);
      else assert.ok(e.pLower < 0.5);
    }
    assert.deepEqual(events.map((e) => e.example), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.deepEqual(events.map((e) => e.result), result.examples);
    const again = await certify(set, classifier, data.x, data.labels, options);
    assert.deepEqual(again, result, 'the same seed gives the same certificates');
    const other = await certify(set, classifier, data.x, data.labels, { ...options, seed: 6 });
    assert.notDeepEqual(other.examples.map((e) => e.pLower), result.examples.map((e) => e.pLower), 'another seed draws other noise');
    const summary = summarizeCertification(result, [0]);
    assert.ok(summary.certifiedAccuracy[0].accuracy > 0.5);
  } finally {
    tf.dispose([data.x, data.labels]);
    model.dispose();
    cvae.dispose();
  }
});

test('smoothing rejects bad settings by name and leaves no tensors behind', async () => {
  await initBackend();
  const cvae = new LinearCVAE();
  const data = twoSideTask(3, 'bad');
  try {
    const before = tf.memory().numTensors;
    await smoothedPredict(cvae, constantClassifier(0), data.x, { sigma: 1, n: 30, batchSize: 7 });
    await certify(cvae, constantClassifier(0), data.x, [0, 0, 0], { sigma: 1, n0: 10, n: 30, batchSize: 7 });
    assert.equal(tf.memory().numTensors, before);
    await assert.rejects(certify(cvae, constantClassifier(0), data.x, [0, 0, 0], { sigma: 0 }), /sigma must be a finite number > 0/);
    await assert.rejects(certify(cvae, constantClassifier(0), data.x, [0, 0], { sigma: 1 }), /labels must be \[3\]/);
    await assert.rejects(certify(cvae, constantClassifier(0), data.x, [0, 0, 0], { sigma: 1, alpha: 1 }), /alpha must be in \(0, 1\)/);
    await assert.rejects(smoothedPredict(cvae, constantClassifier(0), data.x, { sigma: 1, n: 0 }), /n must be an integer >= 1/);
    await assert.rejects(smoothedPredict({} as never, constantClassifier(0), data.x, { sigma: 1 }), /PerturbationSet or a CVAE/);
    assert.throws(() => summarizeCertification({ examples: [] } as unknown as CertificationResult), /has no examples/);
  } finally {
    tf.dispose([data.x, data.labels]);
    cvae.dispose();
  }
});
