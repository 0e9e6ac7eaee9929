/**
 * Latent PGD against a classifier (the reference's `attacks.py`): the worst member of
 * the learned set S(x) for a classifier, found by projected gradient ascent on the cross-entropy
 * in the prior-normalised latent space, and the robust accuracy it measures.
 *
 * ```ts
 * const r = await pertset.robustness.latentAttack(set, (x) => model.apply(x) as tf.Tensor2D, x, y, { epsilon: 2.7 });
 * r.correct;  // per example, under attack
 * const report = await pertset.robustness.robustAccuracy(set, classifier, { x, labels }, { radii: [2.7, 3.9] });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { ArgumentError } from '../errors';
import { PerturbationSet } from '../models/perturbation-set';
import {
  asSet,
  checkImages,
  checkPositiveInteger,
  checkStop,
  labelTensor,
  seedFor,
  type ClassifierFn,
  type SetOrModel,
} from './classifier';

/** Number of PGD steps and step size as a fraction of ε. */
export interface LatentAttackPreset {
  steps: number;
  alphaPerEpsilon: number;
}

/** The reference's settings: evaluation 50 steps of ε/20; adversarial training (`cvae_attack`) 7 steps of ε/5. */
export const LATENT_ATTACK_PRESETS = {
  evaluation: { steps: 50, alphaPerEpsilon: 1 / 20 },
  training: { steps: 7, alphaPerEpsilon: 1 / 5 },
} as const satisfies Record<string, LatentAttackPreset>;
export type LatentAttackPresetName = keyof typeof LATENT_ATTACK_PRESETS;

export interface LatentAttackOptions {
  /** Radius of the latent ball (default: the set's radius; required for a bare CVAE). */
  epsilon?: number;
  /** Where `steps` and `alpha` default from (default `evaluation`). */
  preset?: LatentAttackPresetName;
  /** Number of ascent steps (an example stops moving once misclassified; all stop when none is left). */
  steps?: number;
  /** Step size in latent units (default ε times the preset's fraction). */
  alpha?: number;
  /** Seed of the random start (default 0). */
  seed?: number;
  /** Checked between steps, with the kernel's interrupt. */
  signal?: AbortSignal;
}

export interface LatentAttackResult {
  /** g(x, μ_p + σ_p ⊙ u), the attacked images (the caller disposes). */
  adversarial: tf.Tensor4D;
  /** The final prior-normalised latent codes, [batch, latentDim], each with ‖u‖₂ ≤ ε (the caller disposes). */
  u: tf.Tensor2D;
  /** Whether the classifier is still right on each attacked image. */
  correct: boolean[];
  /** ‖u‖₂ per example. */
  norms: number[];
  /** Steps actually taken (fewer than asked when every example was misclassified early). */
  stepsTaken: number;
  epsilon: number;
  alpha: number;
}

function resolvePreset(name: string | undefined, where: string): LatentAttackPreset {
  const preset = LATENT_ATTACK_PRESETS[(name ?? 'evaluation') as LatentAttackPresetName];
  if (!preset) throw new ArgumentError(`${where}: preset must be one of ${Object.keys(LATENT_ATTACK_PRESETS).join(', ')}, got "${name}"`);
  return preset;
}

function checkRadius(eps: number, name: string, where: string): void {
  if (!Number.isFinite(eps) || eps <= 0) throw new ArgumentError(`${where}: ${name} must be a finite number > 0, got ${eps}`);
}

/** Gaussian direction scaled to a radius drawn uniformly from [0, ε], per row (the reference's random start). */
function randomStart(rows: number, d: number, eps: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const dir = tf.randomNormal([rows, d], 0, 1, 'float32', seedFor(seed, 'start-direction', 0));
    const r = tf.randomUniform([rows, 1], 0, eps, 'float32', seedFor(seed, 'start-radius', 0));
    return tf.mul(tf.div(dir, tf.maximum(tf.norm(dir, 2, 1, true), 1e-12)), r) as tf.Tensor2D;
  });
}

/** Per-example correctness of logits against int32 labels, checking the labels fit the classifier. */
function correctness(logits: tf.Tensor2D, y: tf.Tensor1D, where: string): tf.Tensor1D {
  if (logits.rank !== 2 || logits.shape[0] !== y.shape[0]) {
    throw new ArgumentError(`${where}: the classifier must return logits [${y.shape[0]}, classes], got [${logits.shape}]`);
  }
  return tf.tidy(() => tf.equal(tf.argMax(logits, 1), y) as tf.Tensor1D);
}

/** The attack's settings, resolved and checked (ε, α, steps from the preset unless given). */
function attackSettings(setOrModel: SetOrModel, options: LatentAttackOptions, where: string): { eps: number; alpha: number; steps: number } {
  const eps = options.epsilon ?? (setOrModel instanceof PerturbationSet ? setOrModel.radius : NaN);
  if (options.epsilon === undefined && !(setOrModel instanceof PerturbationSet)) throw new ArgumentError(`${where}: epsilon is required when attacking a bare CVAE`);
  checkRadius(eps, 'epsilon', where);
  const preset = resolvePreset(options.preset, where);
  const steps = options.steps ?? preset.steps;
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`${where}: steps must be an integer >= 0, got ${steps}`);
  const alpha = options.alpha ?? eps * preset.alphaPerEpsilon;
  checkRadius(alpha, 'alpha', where);
  return { eps, alpha, steps };
}

/** The attacked codes and images, before any final classification (the caller disposes both). */
export interface LatentPgdResult {
  adversarial: tf.Tensor4D;
  u: tf.Tensor2D;
  stepsTaken: number;
  epsilon: number;
  alpha: number;
}

/**
 * Latent PGD, the one implementation behind `latentAttack` (evaluation) and `cvae_attack`
 * training: u starts at a random point of the ball; each step takes the gradient of the mean
 * cross-entropy with respect to u, normalises it per example, and moves the examples the
 * classifier still gets right by α along it (ascent), projecting back onto ‖u‖₂ ≤ ε with the
 * set's projection; it stops once no example is right. The CVAE runs in eval mode and is not
 * changed. Unlike `latentAttack` it does not classify the final images: robust training calls it
 * with the classifier in training mode, where one more pass would cost a forward pass per step
 * and move batch-norm running statistics.
 */
export async function latentPgd(
  setOrModel: SetOrModel,
  classifier: ClassifierFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D | ArrayLike<number>,
  options: LatentAttackOptions = {},
  where = 'latentPgd',
): Promise<LatentPgdResult> {
  checkImages(x, where);
  if (typeof classifier !== 'function') throw new ArgumentError(`${where}: classifier must be a function from images to logits`);
  const { eps, alpha, steps } = attackSettings(setOrModel, options, where);
  const set = asSet(setOrModel, eps, where);
  const y = labelTensor(labels, x.shape[0], where);
  const prior = set.prior(x);
  const decode = (v: tf.Tensor2D) => tf.tidy(() => set.model.generate(x, set.latent(prior, v), false));
  let u = randomStart(x.shape[0], set.model.latentDim, eps, options.seed ?? 0);
  let stepsTaken = 0;
  try {
    for (let i = 0; i < steps; i++) {
      await checkStop(options.signal, 'latent attack');
      // One forward pass gives both the loss to differentiate and the logits that say who is still correct.
      let logits: tf.Tensor2D | null = null;
      const lossOf = (v: tf.Tensor) => {
        const l = classifier(decode(v as tf.Tensor2D));
        logits = tf.keep(l);
        // + 0·Σu keeps the loss a function of u (tf.grad throws otherwise) for a classifier that ignores its input.
        return tf.add(tf.losses.softmaxCrossEntropy(tf.oneHot(y, l.shape[1]), l), tf.mul(0, tf.sum(v))) as tf.Scalar;
      };
      const grad = tf.tidy(() => tf.grad(lossOf)(u)) as tf.Tensor2D;
      const kept = logits as tf.Tensor2D | null;
      if (!kept) throw new ArgumentError(`${where}: the classifier returned no logits`);
      let correct: tf.Tensor1D;
      try {
        correct = correctness(kept, y, where);
      } catch (e) {
        tf.dispose([grad, kept]);
        throw e;
      }
      kept.dispose();
      const anyCorrect = tf.any(correct);
      const someLeft = (await anyCorrect.data())[0] !== 0;
      anyCorrect.dispose();
      if (!someLeft) {
        tf.dispose([grad, correct]);
        break;
      }
      const previous = u;
      u = tf.tidy(() => {
        const unit = tf.div(grad, tf.maximum(tf.norm(grad, 2, 1, true), 1e-12));
        const stepped = set.project(tf.add(previous, tf.mul(unit, alpha)) as tf.Tensor2D, eps);
        return tf.where(tf.expandDims(correct, 1), stepped, previous) as tf.Tensor2D;
      });
      tf.dispose([previous, grad, correct]);
      stepsTaken++;
    }
    return { adversarial: decode(u), u, stepsTaken, epsilon: eps, alpha };
  } catch (e) {
    u.dispose();
    throw e;
  } finally {
    tf.dispose([y, prior.mu, prior.sigma]);
  }
}

/**
 * Latent PGD (`latentPgd`) against a classifier in its evaluation mode, with the attacked images
 * classified: who is still right, and how far each code went. Presets: `evaluation` (default,
 * 50 steps of ε/20) and `training` (7 steps of ε/5).
 */
export async function latentAttack(
  setOrModel: SetOrModel,
  classifier: ClassifierFn,
  x: tf.Tensor4D,
  labels: tf.Tensor1D | ArrayLike<number>,
  options: LatentAttackOptions = {},
): Promise<LatentAttackResult> {
  const where = 'latentAttack';
  const r = await latentPgd(setOrModel, classifier, x, labels, options, where);
  const y = labelTensor(labels, x.shape[0], where);
  try {
    const [correctFinal, norms] = tf.tidy(() => [correctness(classifier(r.adversarial), y, where), tf.norm(r.u, 2, 1)]);
    const [c, n] = await Promise.all([correctFinal.data(), norms.data()]);
    tf.dispose([correctFinal, norms]);
    return { ...r, correct: Array.from(c, (v) => v !== 0), norms: Array.from(n) };
  } catch (e) {
    tf.dispose([r.adversarial, r.u]);
    throw e;
  } finally {
    y.dispose();
  }
}

/** Images with their labels: one batch, or an iterable of batches (the caller owns their tensors). */
export interface LabeledBatch {
  x: tf.Tensor4D;
  labels: tf.Tensor1D | ArrayLike<number>;
}
export type LabeledData = LabeledBatch | Iterable<LabeledBatch> | AsyncIterable<LabeledBatch>;

/** After batch `batch` (of `batches`, when known): `examples` done (of `total`, when known). */
export interface RobustAccuracyProgress {
  batch: number;
  batches?: number;
  examples: number;
  total?: number;
}

export interface RobustAccuracyOptions {
  /** Latent radii to attack at (the reference: the 50th and 75th percentile and the max latent norm of the set). */
  radii: number[];
  /** Steps and step size per radius (default `evaluation`: 50 steps, α = ε/20); `steps` overrides. */
  preset?: LatentAttackPresetName;
  steps?: number;
  /** Batch size when `data` is one batch of tensors (default 128). */
  batchSize?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
  signal?: AbortSignal;
  callbacks?: { onBatchEnd?: Callback<RobustAccuracyProgress> };
}

export interface RobustAccuracyReport {
  /** Accuracy on the images themselves. */
  clean: number;
  /** Accuracy under latent PGD at each radius, in the order asked. */
  pgd: { radius: number; accuracy: number }[];
  /** Number of examples. */
  n: number;
  steps: number;
  alphaPerEpsilon: number;
}

function isLabeledBatch(d: unknown): d is LabeledBatch {
  return typeof d === 'object' && d !== null && (d as LabeledBatch).x instanceof tf.Tensor;
}

/** Batches of `data`, with whether this function owns (and so disposes) each batch's tensors. */
async function* batchesOf(data: LabeledData, batchSize: number, where: string): AsyncGenerator<{ batch: LabeledBatch; owned: boolean; batches?: number; total?: number }> {
  if (isLabeledBatch(data)) {
    checkImages(data.x, where);
    const total = data.x.shape[0];
    const batches = Math.ceil(total / batchSize);
    const y = labelTensor(data.labels, total, where);
    try {
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const size = Math.min(batchSize, total - start);
        const batch = { x: tf.slice(data.x, [start, 0, 0, 0], [size, -1, -1, -1]), labels: tf.slice(y, [start], [size]) };
        yield { batch, owned: true, batches, total };
      }
    } finally {
      y.dispose();
    }
    return;
  }
  if (data && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    for await (const batch of data as AsyncIterable<LabeledBatch>) {
      if (!isLabeledBatch(batch)) throw new ArgumentError(`${where}: every batch must be { x: Tensor4D, labels }`);
      yield { batch, owned: false };
    }
    return;
  }
  throw new ArgumentError(`${where}: data must be { x, labels } or an iterable of such batches`);
}

/** Clean accuracy and latent-PGD accuracy at each radius, batch by batch (the reference's `robust_eval.py`). */
export async function robustAccuracy(
  setOrModel: SetOrModel,
  classifier: ClassifierFn,
  data: LabeledData,
  options: RobustAccuracyOptions,
): Promise<RobustAccuracyReport> {
  const where = 'robustAccuracy';
  const radii = options?.radii;
  if (!Array.isArray(radii) || radii.length === 0) throw new ArgumentError(`${where}: radii must be a non-empty array of latent radii`);
  for (const r of radii) checkRadius(r, 'every radius', where);
  const preset = resolvePreset(options.preset, where);
  const steps = options.steps ?? preset.steps;
  const batchSize = options.batchSize ?? 128;
  checkPositiveInteger(batchSize, 'batchSize', where);
  const seed = options.seed ?? 0;
  let clean = 0;
  const robust = radii.map(() => 0);
  let n = 0;
  let b = 0;
  for await (const { batch, owned, batches, total } of batchesOf(data, batchSize, where)) {
    try {
      const y = labelTensor(batch.labels, batch.x.shape[0], where);
      try {
        const right = tf.tidy(() => tf.sum(tf.cast(correctness(classifier(batch.x), y, where), 'int32')));
        clean += (await right.data())[0];
        right.dispose();
        for (let i = 0; i < radii.length; i++) {
          const r = await latentAttack(setOrModel, classifier, batch.x, y, {
            epsilon: radii[i],
            steps,
            alpha: radii[i] * preset.alphaPerEpsilon,
            seed: seedFor(seed, `radius-${i}`, b),
            signal: options.signal,
          });
          tf.dispose([r.adversarial, r.u]);
          robust[i] += r.correct.filter(Boolean).length;
        }
      } finally {
        y.dispose();
      }
      n += batch.x.shape[0];
    } finally {
      if (owned) tf.dispose([batch.x, batch.labels as tf.Tensor]);
    }
    b++;
    await options.callbacks?.onBatchEnd?.({ batch: b, batches, examples: n, total });
  }
  if (n === 0) throw new ArgumentError(`${where}: data has no examples`);
  return { clean: clean / n, pgd: radii.map((radius, i) => ({ radius, accuracy: robust[i] / n })), n, steps, alphaPerEpsilon: preset.alphaPerEpsilon };
}
