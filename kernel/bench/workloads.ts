/**
 * The benchmark workloads, at batch 128, in tfjs. Their PyTorch twins are in `torch_bench.py`
 * (built on the parity-tested twin models); both sides must stay the same computation.
 *  - mnist_{fc,conv,stn}_cvae_train_step: one CVAE training step on that architecture: prior,
 *    recognition, reparameterised sample, generator, BCE summed over pixels + KL(q ‖ p), backward,
 *    Adam (batch norm in training mode).
 *  - conv_classifier_train_step: conv3×3 1→32 valid, ReLU, conv3×3 32→64 stride 2 valid, ReLU,
 *    dense 9216→128, ReLU, dense 128→10, softmax cross-entropy, Adam.
 *  - latent_pgd_step (mnist_fc, ε = 28) and mnist_stn_latent_pgd_step (ε = 14): one
 *    normalised-gradient ascent step on the prior-normalised latent δ through the generator, then
 *    projection onto the ℓ2 ball ‖δ‖ ≤ ε; step α = ε/20, as the paper's evaluation.
 *  - mnist_conv_cvae_attack_train_step (RTS: mnist_stn CVAE, 42×42) and
 *    mnist_conv_cvae_attack_linf_train_step (ℓ∞: mnist_fc CVAE, 28×28): one robust-training step
 *    of the shipped `cvae_attack` configs through `robustTrain.robustGradients` (the MNISTConv
 *    classifier, latent PGD 7 steps at α = ε/5 through the frozen eval-mode CVAE, per-example
 *    max(clean, adversarial) cross-entropy), then Adam. The classifier's output bias favours
 *    class 0 by a margin no attack step overcomes and every label is 0, so every example stays
 *    correct and both sides run all 7 PGD steps (the attack stops once nothing is correct, which
 *    at random initialisation would otherwise happen after a seed-dependent number of steps).
 *  - certification_throughput: one batch of randomized smoothing in latent space as
 *    `robustness.smoothedPredict` draws it (500 samples z = μ_p(x) + σ_p(x)·σ·n of one image,
 *    decoded by the mnist_stn CVAE and classified by MNISTConv, class counts); reported as
 *    decoded-and-classified samples per second.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdam } from '../api/backend/adam';
import { createCVAE, type ArchitectureName } from '../api/models';
import { klDiagonalGaussian, reconstructionFromLogits } from '../api/models/losses';
import { createClassifier } from '../api/classifiers';
import { loadRobustConfig } from '../api/config/robust';
import { robustGradients } from '../api/robust-train';
import { smoothedPredict } from '../api/robustness';

export const BATCH = 128;
export const WORKLOAD_NAMES = [
  'mnist_fc_cvae_train_step', 'conv_classifier_train_step', 'latent_pgd_step',
  'mnist_conv_cvae_train_step', 'mnist_stn_cvae_train_step', 'mnist_stn_latent_pgd_step',
  'mnist_conv_cvae_attack_train_step', 'mnist_conv_cvae_attack_linf_train_step', 'certification_throughput',
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** A prepared workload: `step()` runs one step and returns (or resolves) once its result is computed. */
export interface Workload {
  step(): void | Promise<void>;
  dispose(): void;
  /** Samples one step processes, for workloads reported as a rate (samples per second). */
  samplesPerStep?: number;
}

/** MNIST-like inputs of `size`×`size`×1: x in [0, 1], x̃ = clip(x + U(−0.3, 0.3)). */
function imagePair(seed: number, size = 28): { x: tf.Tensor4D; xt: tf.Tensor4D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([BATCH, size, size, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
    const xt = tf.clipByValue(tf.add(x, tf.randomUniform(x.shape, -0.3, 0.3, 'float32', seed + 1)), 0, 1) as tf.Tensor4D;
    return { x, xt };
  });
}

/** One optimiser step on `loss`, synchronised by reading the loss. */
function trainStep(vars: tf.Variable[], adam: FusedAdam, loss: () => tf.Scalar): void {
  const { value, grads } = tf.variableGrads(loss, vars);
  adam.applyGradients(vars, vars.map((v) => grads[v.name]));
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

function cvaeTrainStep(arch: ArchitectureName): Workload {
  const model = createCVAE(arch, { seed: 0 });
  const { x, xt } = imagePair(1, model.inputShape[0]);
  const vars = model.trainableVariables();
  const adam = new FusedAdam({ learningRate: 1e-3 });
  const loss = () => {
    const p = model.prior(x, true);
    const q = model.recognition(x, xt, true);
    const z = tf.add(q.mu, tf.mul(tf.exp(tf.mul(q.logvar, 0.5)), tf.randomNormal(q.mu.shape)));
    const recon = reconstructionFromLogits(model.generateLogits(x, z as tf.Tensor2D, true), xt);
    return tf.add(tf.sum(recon), tf.sum(klDiagonalGaussian(q, p))) as tf.Scalar;
  };
  return {
    step: () => trainStep(vars, adam, loss),
    dispose: () => { adam.dispose(); model.dispose(); tf.dispose([x, xt]); },
  };
}

let classifierCount = 0;

function convClassifierTrainStep(): Workload {
  const id = `pertset_bench_classifier_${++classifierCount}`;
  const param = (name: string, shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.tidy(() => tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', 7 + shape.length), true, `${id}/${name}`));
  };
  const w1 = param('conv1/kernel', [3, 3, 1, 32], 9);
  const b1 = param('conv1/bias', [32], 9);
  const w2 = param('conv2/kernel', [3, 3, 32, 64], 288);
  const b2 = param('conv2/bias', [64], 288);
  const w3 = param('fc1/kernel', [9216, 128], 9216);
  const b3 = param('fc1/bias', [128], 9216);
  const w4 = param('fc2/kernel', [128, 10], 128);
  const b4 = param('fc2/bias', [10], 128);
  const vars = [w1, b1, w2, b2, w3, b3, w4, b4];
  const x = tf.tidy(() => imagePair(2).x);
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 3), 10));
  const adam = new FusedAdam({ learningRate: 1e-3 });
  const loss = () => {
    const h1 = tf.fused.conv2d({ x, filter: w1 as tf.Tensor4D, bias: b1, strides: 1, pad: 'valid', activation: 'relu' });
    const h2 = tf.fused.conv2d({ x: h1, filter: w2 as tf.Tensor4D, bias: b2, strides: 2, pad: 'valid', activation: 'relu' });
    const h3 = tf.fused.matMul({ a: tf.reshape(h2, [BATCH, 9216]) as tf.Tensor2D, b: w3 as tf.Tensor2D, bias: b3, activation: 'relu' });
    const logits = tf.fused.matMul({ a: h3, b: w4 as tf.Tensor2D, bias: b4 });
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  return {
    step: () => trainStep(vars, adam, loss),
    dispose: () => { adam.dispose(); tf.dispose([...vars, x, labels]); },
  };
}

/** Radii of the reference configs' evaluations (mnist_fc ℓ∞: 28, mnist_stn RTS: 14); α = ε/20. */
const PGD_EPSILON: Partial<Record<ArchitectureName, number>> = { mnist_fc: 28, mnist_stn: 14 };

/** Row-wise ℓ2 norms [batch, 1], written as sqrt(sum(square)) because wasm's Pow is slow. */
function rowNorms(t: tf.Tensor2D): tf.Tensor2D {
  return tf.sqrt(tf.sum(tf.square(t), 1, true)) as tf.Tensor2D;
}

function latentPgdStep(arch: ArchitectureName): Workload {
  const epsilon = PGD_EPSILON[arch]!;
  const alpha = epsilon / 20;
  const model = createCVAE(arch, { seed: 0 });
  const { x, xt } = imagePair(4, model.inputShape[0]);
  const { mu, sigma } = tf.tidy(() => {
    const p = model.prior(x);
    return { mu: p.mu as tf.Tensor, sigma: tf.exp(tf.mul(p.logvar, 0.5)) as tf.Tensor };
  });
  let delta = tf.tidy(() => tf.mul(tf.randomNormal([BATCH, model.latentDim], 0, 1, 'float32', 5), 0.1) as tf.Tensor2D);
  const objective = tf.valueAndGrad((d: tf.Tensor) =>
    tf.sum(tf.square(tf.sub(model.generate(x, tf.add(mu, tf.mul(d, sigma)) as tf.Tensor2D), xt))) as tf.Scalar);
  return {
    step: () => {
      const { value, grad } = objective(delta);
      const next = tf.tidy(() => {
        const ascended = tf.add(delta, tf.mul(tf.div(grad, tf.add(rowNorms(grad as tf.Tensor2D), 1e-12)), alpha)) as tf.Tensor2D;
        return tf.mul(ascended, tf.minimum(1, tf.div(epsilon, tf.add(rowNorms(ascended), 1e-12)))) as tf.Tensor2D;
      });
      value.dataSync();
      tf.dispose([value, grad, delta]);
      delta = next;
    },
    dispose: () => { model.dispose(); tf.dispose([x, xt, mu, sigma, delta]); },
  };
}

/** Shipped `cvae_attack` configs (ε, α, steps): the RTS set on mnist_stn, the ℓ∞ set on mnist_fc. */
const ATTACK_CONFIG: Partial<Record<ArchitectureName, string>> = { mnist_stn: 'mnist_rts_conv_cvae_attack', mnist_fc: 'mnist_linf_conv_cvae_attack' };

/** Logit margin of class 0 in the robust-training workloads (see the file comment). */
const ATTACK_LABEL_MARGIN = 30;

function cvaeAttackTrainStep(arch: ArchitectureName): Workload {
  const config = loadRobustConfig(ATTACK_CONFIG[arch]!);
  const cvae = createCVAE(arch, { seed: 0 });
  const side = cvae.inputShape[0];
  const classifier = createClassifier({ architecture: 'mnist_conv', inputShape: [side, side, 1] }, { seed: 0 });
  const vars = classifier.trainableVariables();
  const x = tf.tidy(() => imagePair(6, side).x);
  tf.tidy(() => classifier.variables.get('7/bias')!.assign(tf.oneHot(0, 10).mul(ATTACK_LABEL_MARGIN).reshape([10])));
  const batch = { x, xPerturbed: x, y: tf.zeros([BATCH], 'int32') as tf.Tensor1D };
  const adam = new FusedAdam({ learningRate: 1e-3 });
  let seed = 0;
  return {
    step: async () => {
      const s = await robustGradients(config, classifier, cvae, vars, batch, seed++);
      adam.applyGradients(vars, s.grads);
      tf.dispose(s.grads);
    },
    dispose: () => { adam.dispose(); classifier.dispose(); cvae.dispose(); tf.dispose([x, batch.y]); },
  };
}

/** Samples per smoothing batch: `smoothedPredict`'s default batch size. */
const SMOOTHING_BATCH = 500;
/** Latent noise scale of the middle shipped RTS smoothing config (it does not change the cost). */
const SMOOTHING_SIGMA = 1.01;

function certificationThroughput(): Workload {
  const cvae = createCVAE('mnist_stn', { seed: 0 });
  const side = cvae.inputShape[0];
  const classifier = createClassifier({ architecture: 'mnist_conv', inputShape: [side, side, 1] }, { seed: 0 });
  const x1 = tf.tidy(() => tf.slice(imagePair(7, side).x, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D);
  let seed = 0;
  return {
    step: async () => {
      await smoothedPredict(cvae, (x) => classifier.logits(x), x1, { sigma: SMOOTHING_SIGMA, n: SMOOTHING_BATCH, batchSize: SMOOTHING_BATCH, seed: seed++ });
    },
    dispose: () => { classifier.dispose(); cvae.dispose(); x1.dispose(); },
    samplesPerStep: SMOOTHING_BATCH,
  };
}

export const WORKLOADS: Record<WorkloadName, () => Workload> = {
  mnist_fc_cvae_train_step: () => cvaeTrainStep('mnist_fc'),
  conv_classifier_train_step: convClassifierTrainStep,
  latent_pgd_step: () => latentPgdStep('mnist_fc'),
  mnist_conv_cvae_train_step: () => cvaeTrainStep('mnist_conv'),
  mnist_stn_cvae_train_step: () => cvaeTrainStep('mnist_stn'),
  mnist_stn_latent_pgd_step: () => latentPgdStep('mnist_stn'),
  mnist_conv_cvae_attack_train_step: () => cvaeAttackTrainStep('mnist_stn'),
  mnist_conv_cvae_attack_linf_train_step: () => cvaeAttackTrainStep('mnist_fc'),
  certification_throughput: certificationThroughput,
};
