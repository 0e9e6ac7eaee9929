import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { ArgumentError, InterruptedError } from '../../../kernel/api/errors';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { LATENT_ATTACK_PRESETS, latentAttack, robustAccuracy, type LabeledBatch, type RobustAccuracyProgress } from '../../../kernel/api/robustness';
import { LinearCVAE, accuracy, trainDenseClassifier, twoSideTask } from './fixtures';

const EPS = 8;
const BALL_TOLERANCE = 1e-4;

async function setup() {
  await initBackend();
  const { classifier, model } = await trainDenseClassifier(twoSideTask(256, 'train'));
  const cvae = new LinearCVAE();
  return { classifier, model, cvae, set: new PerturbationSet(cvae, EPS), test: twoSideTask(96, 'test') };
}

test('latent PGD finds misclassifications that clean evaluation and random members of the set miss, and stays in the ε-ball', async () => {
  const { classifier, model, cvae, set, test: data } = await setup();
  try {
    const clean = await accuracy(classifier, data.x, data.labels);
    const random = await latentAttack(set, classifier, data.x, data.labels, { steps: 0, seed: 4 });
    const attacked = await latentAttack(set, classifier, data.x, data.labels, { seed: 4 });
    const rate = (c: boolean[]) => c.filter(Boolean).length / c.length;
    assert.ok(clean >= 0.95, `the classifier learned the task (clean accuracy ${clean})`);
    assert.ok(rate(random.correct) >= 0.9, `random members of the set rarely fool it (${rate(random.correct)})`);
    assert.ok(rate(attacked.correct) < clean - 0.3, `latent PGD fools it: ${rate(attacked.correct)} under attack vs ${clean} clean`);
    assert.equal(attacked.alpha, EPS / 20, 'evaluation preset: α = ε/20');
    for (const r of [random, attacked]) {
      assert.ok(Math.max(...r.norms) <= EPS + BALL_TOLERANCE, `max ‖u‖ ${Math.max(...r.norms)} within ε = ${EPS}`);
      const norms = tf.norm(r.u, 2, 1);
      assert.ok(Math.max(...(await norms.data())) <= EPS + BALL_TOLERANCE);
      norms.dispose();
      // The returned images are the decoded codes and the returned correctness is theirs.
      const again = tf.tidy(() => tf.argMax(classifier(set.perturb(data.x, r.u)), 1));
      const predicted = await again.data();
      again.dispose();
      assert.deepEqual(r.correct, Array.from(predicted, (p, i) => p === data.y[i]));
      assert.deepEqual(r.adversarial.shape, data.x.shape);
      tf.dispose([r.u, r.adversarial]);
    }
  } finally {
    tf.dispose([data.x, data.labels]);
    model.dispose();
    cvae.dispose();
  }
});

test('latent PGD moves only examples still classified right, and stops once none is', async () => {
  const { classifier, model, cvae, set, test: data } = await setup();
  try {
    const start = await latentAttack(set, classifier, data.x, data.labels, { steps: 0, seed: 9, epsilon: 12 });
    const after = await latentAttack(set, classifier, data.x, data.labels, { steps: 3, seed: 9, epsilon: 12, alpha: 2 });
    const u0 = (await start.u.array()) as number[][];
    const u1 = (await after.u.array()) as number[][];
    let wrongAtStart = 0;
    let moved = 0;
    for (let i = 0; i < u0.length; i++) {
      if (!start.correct[i]) {
        wrongAtStart++;
        assert.deepEqual(u1[i], u0[i], `example ${i}, wrong from the start, must not move`);
      } else if (u1[i].some((v, j) => v !== u0[i][j])) moved++;
    }
    assert.ok(moved > 0, 'correct examples moved');
    // A classifier wrong on every example from the start: the attack stops before its first step.
    const alwaysZero = (x: tf.Tensor4D) => tf.tidy(() => tf.concat([tf.fill([x.shape[0], 1], 5), tf.fill([x.shape[0], 1], 0)], 1) as tf.Tensor2D);
    const ones = new Array(data.y.length).fill(1);
    const none = await latentAttack(set, alwaysZero, data.x, ones, { seed: 9 });
    assert.equal(none.stepsTaken, 0, 'no step when nothing is correct');
    const noSteps = await latentAttack(set, alwaysZero, data.x, ones, { seed: 9, steps: 0 });
    assert.deepEqual(await none.u.array(), await noSteps.u.array(), 'u is still the random start');
    tf.dispose([noSteps.u, noSteps.adversarial]);
    tf.dispose([start.u, start.adversarial, after.u, after.adversarial, none.u, none.adversarial]);
    assert.ok(wrongAtStart > 0, 'some examples were wrong at the random start of ε = 12 (so the untouched check checked something)');
  } finally {
    tf.dispose([data.x, data.labels]);
    model.dispose();
    cvae.dispose();
  }
});

test('robustAccuracy batches a dataset, attacks at each radius and reports progress', async () => {
  const { classifier, model, cvae, set, test: data } = await setup();
  try {
    const events: RobustAccuracyProgress[] = [];
    const report = await robustAccuracy(set, classifier, { x: data.x, labels: data.labels }, {
      radii: [1, EPS],
      batchSize: 40,
      callbacks: { onBatchEnd: (e) => void events.push(e) },
    });
    assert.equal(report.n, 96);
    assert.equal(report.clean, await accuracy(classifier, data.x, data.labels));
    assert.deepEqual(report.pgd.map((p) => p.radius), [1, EPS]);
    assert.ok(report.pgd[1].accuracy < report.pgd[0].accuracy, `a larger ball fools more: ${JSON.stringify(report.pgd)}`);
    assert.deepEqual(events.map((e) => [e.batch, e.batches, e.examples, e.total]), [[1, 3, 40, 96], [2, 3, 80, 96], [3, 3, 96, 96]]);
    // The same data as an iterable of caller-owned batches gives the same figures (the seeds follow the batch index).
    const batches: LabeledBatch[] = [0, 40, 80].map((s) => ({ x: tf.slice(data.x, [s, 0, 0, 0], [Math.min(40, 96 - s), -1, -1, -1]), labels: tf.slice(data.labels, [s], [Math.min(40, 96 - s)]) }));
    const fromIterable = await robustAccuracy(set, classifier, batches, { radii: [1, EPS] });
    assert.deepEqual(fromIterable, report);
    for (const b of batches) assert.ok(!b.x.isDisposed, 'caller-owned batches are left to the caller');
    tf.dispose(batches.flatMap((b) => [b.x, b.labels as tf.Tensor]));
    const training = await robustAccuracy(set, classifier, { x: data.x, labels: data.labels }, { radii: [EPS], preset: 'training' });
    assert.equal(training.steps, LATENT_ATTACK_PRESETS.training.steps);
    assert.equal(training.alphaPerEpsilon, 1 / 5);
  } finally {
    tf.dispose([data.x, data.labels]);
    model.dispose();
    cvae.dispose();
  }
});

test('latent PGD on an mnist_fc CVAE stays in the ball, leaves no tensors behind and honours an abort', async () => {
  await initBackend();
  const cvae = createCVAE('mnist_fc', { seed: 2 });
  const { classifier, model } = await trainDenseClassifier(twoSideTask(64, 'fc'), 2);
  const data = twoSideTask(16, 'fc-test');
  try {
    const before = tf.memory().numTensors;
    const r = await latentAttack(cvae, classifier, data.x, data.labels, { epsilon: 3, steps: 4, seed: 1 });
    assert.equal(r.u.shape[1], 784);
    assert.ok(Math.max(...r.norms) <= 3 + BALL_TOLERANCE);
    tf.dispose([r.u, r.adversarial]);
    assert.equal(tf.memory().numTensors, before, 'every intermediate tensor is freed');
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(latentAttack(cvae, classifier, data.x, data.labels, { epsilon: 3, steps: 4, signal: abort.signal }), InterruptedError);
    assert.equal(tf.memory().numTensors, before, 'an aborted attack frees its tensors too');
    await assert.rejects(latentAttack(cvae, classifier, data.x, data.labels), (e: unknown) => e instanceof ArgumentError && /epsilon is required/.test((e as Error).message));
    await assert.rejects(latentAttack(cvae, classifier, data.x, [0, 1], { epsilon: 1 }), /labels must be \[16\]/);
    await assert.rejects(latentAttack(cvae, classifier, data.x, data.labels, { epsilon: 1, preset: 'fast' as never }), /preset must be one of evaluation, training/);
    await assert.rejects(robustAccuracy(cvae, classifier, { x: data.x, labels: data.labels }, { radii: [] }), /radii must be a non-empty array/);
  } finally {
    tf.dispose([data.x, data.labels]);
    model.dispose();
    cvae.dispose();
  }
});
