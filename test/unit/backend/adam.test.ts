import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FusedAdam, jsAdamStep, setAdamStepImplementation, adamStepImplementationName } from '../../../kernel/api/backend/adam';
import { initBackend } from '../../../kernel/api/backend';
import { ArgumentError } from '../../../kernel/api/errors';
import { relError, values } from './compare';

const SHAPES = [[13, 7], [7], [2, 3, 4]];

/** A small least-squares problem whose gradients change every step. */
function lossOf(vars: tf.Variable[], step: number): () => tf.Scalar {
  return () => {
    const x = tf.tensor(values([5, 13], 100 + step), [5, 13]);
    const h = tf.matMul(x, vars[0]).add(vars[1]).tanh();
    return h.square().sum().add(vars[2].sum().square()) as tf.Scalar;
  };
}

let nameCounter = 0;
function makeVars(): tf.Variable[] {
  nameCounter++;
  return SHAPES.map((s, i) => tf.variable(tf.tensor(values(s, 10 + i), s), true, `adam_test_${nameCounter}_${i}`));
}

async function trajectories(backend: 'cpu' | 'wasm', steps: number, lrAt: (t: number) => number): Promise<number> {
  if (backend === 'wasm') await initBackend({ backend: 'wasm' });
  await tf.setBackend(backend);
  const ref = makeVars();
  const ours = makeVars();
  const tfAdam = tf.train.adam(lrAt(0), 0.8, 0.99, 1e-7);
  const fused = new FusedAdam({ learningRate: lrAt(0), beta1: 0.8, beta2: 0.99 });
  for (let t = 0; t < steps; t++) {
    (tfAdam as unknown as { learningRate: number }).learningRate = lrAt(t);
    fused.learningRate = lrAt(t);
    const { grads: g1 } = tf.variableGrads(lossOf(ref, t), ref);
    tfAdam.applyGradients(ref.map((v) => ({ name: v.name, tensor: g1[v.name] })));
    tf.dispose(Object.values(g1));
    const { value, grads: g2 } = tf.variableGrads(lossOf(ours, t), ours);
    fused.applyGradients(ours, ours.map((v) => g2[v.name]));
    tf.dispose([value, ...Object.values(g2)]);
  }
  assert.equal(fused.iterations, steps);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, relError(ours[i].dataSync() as Float32Array, ref[i].dataSync() as Float32Array));
  tf.dispose([...ref, ...ours]);
  tfAdam.dispose();
  fused.dispose();
  return worst;
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`FusedAdam follows tf.train.adam for 15 steps on ${backend} (changing learning rate)`, async () => {
    const err = await trajectories(backend, 15, (t) => 0.01 * (1 + t / 10));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
}

test('FusedAdam on wasm assigns fresh tensors and leaks nothing', async () => {
  await initBackend({ backend: 'wasm' });
  await tf.setBackend('wasm');
  const vars = makeVars();
  const adam = new FusedAdam({ learningRate: 0.01 });
  const grads = vars.map((v) => tf.onesLike(v));
  adam.applyGradients(vars, grads);
  const before = tf.memory().numTensors;
  const oldIds = vars.map((v) => v.dataId);
  adam.applyGradients(vars, grads);
  assert.equal(tf.memory().numTensors, before);
  vars.forEach((v, i) => assert.notEqual(v.dataId, oldIds[i]));
  tf.dispose([...vars, ...grads]);
});

test('FusedAdam getState/setState resumes exactly where it stopped', async () => {
  await tf.setBackend('cpu');
  const a = makeVars();
  const b = makeVars();
  const optA = new FusedAdam({ learningRate: 0.05 });
  const run = (opt: FusedAdam, vars: tf.Variable[], t: number) => {
    const { value, grads } = tf.variableGrads(lossOf(vars, t), vars);
    opt.applyGradients(vars, vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
  };
  for (let t = 0; t < 3; t++) run(optA, a, t);
  // b starts from a's weights and a's optimizer state (names differ, so map them).
  b.forEach((v, i) => v.assign(a[i]));
  const state = optA.getState().map((s) => ({ name: s.name.replace(a[0].name.slice(0, -2), b[0].name.slice(0, -2)), tensor: s.tensor }));
  assert.equal(state.length, 1 + 2 * a.length);
  assert.deepEqual(state.find((s) => s.name.endsWith('_0/m'))?.tensor.shape, SHAPES[0], 'moments keep the variable shape');
  const optB = new FusedAdam({ learningRate: 0.05 });
  optB.setState(state);
  tf.dispose(state.map((s) => s.tensor));
  assert.equal(optB.iterations, 3);
  for (let t = 3; t < 6; t++) {
    run(optA, a, t);
    run(optB, b, t);
  }
  a.forEach((v, i) => assert.deepEqual(Array.from(b[i].dataSync()), Array.from(v.dataSync())));
  tf.dispose([...a, ...b]);
});

test('FusedAdam inner loop is swappable and errors name the problem', async () => {
  await tf.setBackend('cpu');
  const vars = makeVars();
  let calls = 0;
  const nameBefore = adamStepImplementationName();
  const previous = setAdamStepImplementation((args) => { calls++; jsAdamStep(args); }, 'counting');
  try {
    assert.equal(adamStepImplementationName(), 'counting');
    const adam = new FusedAdam({ learningRate: 0.1 });
    adam.applyGradients(vars, vars.map((v) => tf.onesLike(v)));
    assert.equal(calls, vars.length);
    assert.throws(() => adam.applyGradients(vars, [tf.ones([1])]), (e: Error) => e instanceof ArgumentError && /3 variables but 1 gradients/.test(e.message));
    assert.throws(() => adam.applyGradients([vars[0]], [tf.ones([2, 2])]), (e: Error) => e instanceof ArgumentError && /does not match variable/.test(e.message));
    assert.throws(() => new FusedAdam({ learningRate: 0.1, beta1: 1 }), /beta1 must be in \[0, 1\)/);
  } finally {
    setAdamStepImplementation(previous);
    tf.dispose(vars);
  }
  assert.equal(adamStepImplementationName(), nameBefore);
});
