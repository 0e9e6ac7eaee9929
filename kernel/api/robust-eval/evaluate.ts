/**
 * `pertset robust-eval`: the accuracies of a robustly trained classifier that the paper's Table 1
 * reports — on clean test images, on real perturbations of them (the config's test perturbation,
 * drawn from a seed), and under latent PGD in the learned set at each radius (the reference's
 * `configs_attack` settings: 50 steps, α = ε/20, random start in the ball, an example stops once
 * misclassified), and — unless `corruptions: false` — the paper's OOD protocol: accuracy under the
 * 12 training corruptions of the dataset's corruption suite (`inDistribution`) and the 3 held-out
 * ones (`ood`) at severity 5 (see corruption-eval.ts). Saves `robust-eval.json` and a picture of the attack, `robust-eval-adversarial.png`
 * (per test image: clean, real perturbation, latent PGD at each radius), in the run folder.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Callback } from '../callbacks';
import { packImages } from '../display/images';
import { gridPng } from '../display/png';
import { ArgumentError, ConfigError, InterruptedError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { PerturbationSet } from '../models/perturbation-set';
import { createRng } from '../random';
import { writeFileAtomic } from '../runs/atomic-dir';
import { LATENT_ATTACK_PRESETS, latentAttack } from '../robustness/latent-attack';
import type { ClassifierFn } from '../robustness/classifier';
import { corruptTestSet, evaluateOnCorruptions, type CorruptionAccuracy, type CorruptionProgress } from './corruption-eval';
import { openRobustRun, openRunCvae, robustTestPairs, type CvaeUsed, type RobustCheckpointName, type RobustRunOptions } from './open';
import { setRadii, type SetRadii } from './radii';

export const ROBUST_EVAL_FILE = 'robust-eval.json';
export const ROBUST_EVAL_PNG = 'robust-eval-adversarial.png';
export const ROBUST_EVAL_ATTACKS = ['pgd', 'none'] as const;
export type RobustEvalAttack = (typeof ROBUST_EVAL_ATTACKS)[number];

/** Test images shown in the adversarial picture. */
const PICTURE_IMAGES = 8;

export interface RobustEvalProgress {
  batch: number;
  batches: number;
  examples: number;
  total: number;
}

export interface RobustEvalOptions extends RobustRunOptions {
  /** `pgd` (default) or `none` (clean and real perturbations only). */
  attack?: RobustEvalAttack;
  /** Latent radii to attack at (default: the set's p50, p75 and max latent norm). */
  radii?: number[];
  /** Latent PGD steps (default 50, the reference's evaluation setting; fewer only to try the pipeline). */
  steps?: number;
  /**
   * Also evaluate on the corruption suite's 12 training and 3 held-out corruptions at severity 5
   * (default true; seeded by `seed`).
   */
  corruptions?: boolean;
  callbacks?: {
    onBatchEnd?: Callback<RobustEvalProgress>;
    onRadiiComputed?: Callback<SetRadii>;
    /** After each corruption is applied (`corrupt`) and classified (`classify`). */
    onCorruptionEnd?: Callback<CorruptionProgress & { stage: 'corrupt' | 'classify' }>;
  };
}

export interface RobustEvalResult {
  /** Accuracy on clean test images. */
  clean: number;
  /** Accuracy on the config's real test perturbation of them. */
  perturbed: number;
  /** Accuracy under latent PGD, keyed by radius. */
  pgd: Record<string, number>;
  /** Mean accuracy (and per corruption) under the suite's 12 training corruptions at severity 5; null with `corruptions: false`. */
  inDistribution: CorruptionAccuracy | null;
  /** Mean accuracy (and per corruption) under its 3 held-out corruptions; null with `corruptions: false`. */
  ood: CorruptionAccuracy | null;
  /** How the corruption columns were made, and the seconds spent corrupting and classifying. */
  corruptions: { suite: string; severity: number; seed: number; corruptSeconds: number; seconds: number } | null;
  /** Number of test images. */
  n: number;
  /** The radii with their names (p50 / p75 / max when they came from the set) and accuracies. */
  radii: { name: string | null; radius: number; accuracy: number }[];
  /** Where the radii came from: `option`, or the set's `radius.json` / `radius-norms.json` / `computed`. */
  radiiSource: 'option' | SetRadii['source'] | null;
  attack: { type: RobustEvalAttack; steps: number; alphaPerEpsilon: number; randomStart: true; earlyStop: true } | { type: 'none' };
  /** Real perturbation the `perturbed` column uses. */
  perturbation: unknown;
  method: string;
  config: string;
  checkpoint: RobustCheckpointName;
  globalStep: number;
  finished: boolean;
  cvae: CvaeUsed | null;
  notes: string[];
  seed: number;
  dataset: unknown;
  seconds: number;
  /** The picture beside robust-eval.json (null with `attack: none`). */
  adversarialFile: string | null;
  /** Predictions on the pictured images: label, clean, real perturbation, each radius. */
  pictured: { label: number; clean: number; perturbed: number; pgd: number[] }[];
}

function checkRadii(radii: number[]): void {
  if (radii.length === 0) throw new ArgumentError('radii: give at least one radius');
  for (const r of radii) if (!Number.isFinite(r) || r <= 0) throw new ArgumentError(`radius must be a finite number > 0, got ${r}`);
}

/** The key of radius `r` in `pgd`. */
export function radiusKey(r: number): string {
  return String(r);
}

export async function robustEvalRun(runDir: string, options: RobustEvalOptions = {}): Promise<RobustEvalResult> {
  const attackType = options.attack ?? 'pgd';
  if (!(ROBUST_EVAL_ATTACKS as readonly string[]).includes(attackType)) throw new ConfigError(`--attack must be one of ${ROBUST_EVAL_ATTACKS.join(', ')}, got "${attackType}"`);
  if (options.radii) checkRadii(options.radii);
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) throw new ArgumentError(`steps must be an integer >= 1, got ${options.steps}`);
  const started = Date.now();
  const run = openRobustRun(runDir, { checkpoint: options.checkpoint });
  const disposables: { dispose(): void }[] = [run.classifier];
  let picture: tf.Tensor4D | null = null;
  try {
    const notes: string[] = [];
    let set: PerturbationSet | null = null;
    let cvae: CvaeUsed | null = null;
    let radii: { name: string | null; radius: number }[] = [];
    let radiiSource: RobustEvalResult['radiiSource'] = null;
    if (attackType === 'pgd') {
      const opened = openRunCvae(run, options.cvae);
      disposables.push(opened.model);
      cvae = opened.used;
      if (opened.note) notes.push(opened.note);
      if (options.radii) {
        radii = options.radii.map((radius) => ({ name: null, radius }));
        radiiSource = 'option';
      } else {
        const s = await setRadii(cvae.runDir, { dataDir: options.dataDir, signal: options.signal });
        await options.callbacks?.onRadiiComputed?.(s);
        radii = s.radii;
        radiiSource = s.source;
        if (s.source === 'computed') notes.push(`${cvae.runDir} has no radius.json or radius-norms.json: the latent norms were computed now (5 passes over its validation pairs); \`pertset radius --run ${cvae.runDir}\` saves them`);
        if (s.globalStep !== cvae.globalStep) notes.push(`the radii are from the CVAE's global step ${s.globalStep}, its checkpoint is at ${cvae.globalStep}`);
      }
      set = new PerturbationSet(opened.model, Math.max(...radii.map((r) => r.radius)));
    }
    const seed = options.seed ?? run.config.seed;
    const { images, pairs } = robustTestPairs(run, { limit: options.limit, dataDir: options.dataDir, seed });
    const classifier: ClassifierFn = (x) => run.classifier.logits(x, false);
    const bs = run.config.eval.batchSize;
    const batches = pairs.batchCount(bs);
    const preset = LATENT_ATTACK_PRESETS.evaluation;
    const steps = options.steps ?? preset.steps;
    let clean = 0;
    let perturbed = 0;
    const robust = radii.map(() => 0);
    let n = 0;
    const pictured: RobustEvalResult['pictured'] = [];
    const rng = createRng(`${seed}/robust-eval`);
    for (let b = 0; b < batches; b++) {
      await yieldToEventLoop();
      if (options.signal?.aborted) throw new InterruptedError('robust evaluation aborted');
      throwIfInterrupted('robust evaluation');
      const { x, xPerturbed, indices } = pairs.tensorBatch(0, b, bs);
      const labels = images.gatherLabels(indices);
      const adversarial: tf.Tensor4D[] = [];
      try {
        const predict = async (t: tf.Tensor4D) => {
          const p = tf.tidy(() => tf.argMax(classifier(t), 1));
          const v = Int32Array.from(await p.data());
          p.dispose();
          return v;
        };
        const pc = await predict(x);
        const pp = await predict(xPerturbed);
        const pa: Int32Array[] = [];
        for (const [i, r] of radii.entries()) {
          const res = await latentAttack(set!, classifier, x, labels, { epsilon: r.radius, preset: 'evaluation', steps, seed: rng.fork(`pgd/${b}/${i}`).seed(), signal: options.signal });
          res.u.dispose();
          pa.push(await predict(res.adversarial));
          res.correct.forEach((ok) => (robust[i] += ok ? 1 : 0));
          adversarial.push(res.adversarial);
        }
        for (let k = 0; k < labels.length; k++) {
          clean += pc[k] === labels[k] ? 1 : 0;
          perturbed += pp[k] === labels[k] ? 1 : 0;
          if (b === 0 && k < PICTURE_IMAGES) pictured.push({ label: labels[k], clean: pc[k], perturbed: pp[k], pgd: pa.map((p) => p[k]) });
        }
        if (b === 0 && radii.length > 0) {
          const m = Math.min(PICTURE_IMAGES, labels.length);
          picture = tf.tidy(() => {
            const cols = [x, xPerturbed, ...adversarial].map((t) => tf.expandDims(tf.slice(t, [0, 0, 0, 0], [m, -1, -1, -1]), 1));
            const [, h, w, c] = x.shape;
            return tf.reshape(tf.concat(cols, 1), [m * cols.length, h, w, c]) as tf.Tensor4D;
          });
        }
        n += labels.length;
      } finally {
        tf.dispose([x, xPerturbed, ...adversarial]);
      }
      await options.callbacks?.onBatchEnd?.({ batch: b + 1, batches, examples: n, total: pairs.count });
    }
    if (n === 0) throw new ConfigError(`${run.runDir}: no test images to evaluate`);
    let corruption: Awaited<ReturnType<typeof evaluateOnCorruptions>> | null = null;
    if (options.corruptions !== false) {
      const stage = (s: 'corrupt' | 'classify') => (p: CorruptionProgress) => options.callbacks?.onCorruptionEnd?.({ ...p, stage: s });
      const testSet = await corruptTestSet(images, { seed, frostDir: options.dataDir, signal: options.signal, callbacks: { onCorruptionEnd: stage('corrupt') } });
      corruption = await evaluateOnCorruptions(classifier, testSet, { batchSize: bs, signal: options.signal, callbacks: { onCorruptionEnd: stage('classify') } });
    }
    const accuracies = robust.map((c) => c / n);
    const result: RobustEvalResult = {
      clean: clean / n,
      perturbed: perturbed / n,
      pgd: Object.fromEntries(radii.map((r, i) => [radiusKey(r.radius), accuracies[i]])),
      inDistribution: corruption?.inDistribution ?? null,
      ood: corruption?.ood ?? null,
      corruptions: corruption ? { suite: corruption.suite, severity: corruption.severity, seed: corruption.seed, corruptSeconds: corruption.corruptSeconds, seconds: corruption.seconds } : null,
      n,
      radii: radii.map((r, i) => ({ ...r, accuracy: accuracies[i] })),
      radiiSource,
      attack: attackType === 'pgd' ? { type: 'pgd', steps, alphaPerEpsilon: preset.alphaPerEpsilon, randomStart: true, earlyStop: true } : { type: 'none' },
      perturbation: pairs.describe(),
      method: run.config.attack.type,
      config: run.config.name,
      checkpoint: run.checkpoint,
      globalStep: run.globalStep,
      finished: run.finished,
      cvae,
      notes,
      seed,
      dataset: images.describe(),
      seconds: (Date.now() - started) / 1000,
      adversarialFile: picture ? ROBUST_EVAL_PNG : null,
      pictured,
    };
    if (options.save !== false) {
      writeFileAtomic(path.join(run.runDir, ROBUST_EVAL_FILE), JSON.stringify(result, null, 1));
      if (picture) {
        const png = gridPng(packImages('robust-eval', picture), 2 + radii.length, { scale: 3 });
        writeFileAtomic(path.join(run.runDir, ROBUST_EVAL_PNG), png);
      }
    }
    return result;
  } finally {
    if (picture) (picture as tf.Tensor4D).dispose();
    for (const d of disposables) d.dispose();
  }
}
