/**
 * Training a classifier against a learned perturbation set, as the reference's robust_train.py:
 * Adam with the LR from the piecewise-linear schedule at the fractional epoch, one step per
 * batch of the method `attack.type` (step.ts), a clean validation pass per epoch, checkpoints
 * "latest" (every epoch, every `checkpoint_steps` steps, on interrupt), "best" (by validation
 * clean accuracy; the reference's selection by robust error is `robust-eval`'s job) and
 * `epoch-NNN` every `checkpoint_interval` epochs, all written atomically by `runs`. The loop,
 * checkpoints, resume and interrupts are the shared run loop's (../train/run-loop.ts); this file
 * is the classifier's step, validation and checkpoint format.
 *
 * `const t = await RobustTrainer.create('mnist_rts_conv_cvae_attack', { cvae: 'runs/rts' });
 * await t.run({ callbacks: { onEpochEnd } })`. An interrupt or abort stops between two steps,
 * saves "latest" and throws `InterruptedError`; `run()` again, or a new trainer on the same
 * folder, continues where it stopped and computes exactly what an uninterrupted run would: every
 * random draw is a function of (seed, global step), the batches of (seed, epoch, index).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../backend';
import { createClassifier } from '../classifiers/registry';
import type { Classifier } from '../classifiers/types';
import { loadRobustConfig, robustConfigFromJson, type RobustConfig, type RobustConfigOverrides } from '../config/robust';
import { CheckpointError, ConfigError } from '../errors';
import type { CVAE } from '../models/types';
import { createRng, type Rng } from '../random';
import { checkpointExists, loadModel, readJson, readTrainerState, TRAINER_FILE, type TrainerStateJson } from '../runs/checkpoint';
import { loadClassifierWeightsInto, saveClassifierCheckpoint } from '../runs/classifier-checkpoint';
import { configDifferences } from '../runs/resume';
import { readRunRecord, type RunRecord } from '../runs/run-record';
import { CHECKPOINTS_DIR, type CheckpointWriter } from '../train/checkpoint-policy';
import { resolveConfig, type RunOptions, type TrainerRunOptions, type TrainResult } from '../train/options';
import { RunLoop, type LoopState, type StepFields, type StepOutcome } from '../train/run-loop';
import { robustTrainingData, type RobustData } from './data';
import type { RobustEpochSummary, RobustProgress, RobustTrainCallbacks } from './events';
import { cleanAccuracy, robustGradients, type RobustBatch } from './step';

const RNG_SCHEME = 'batches from (seed, "robust-train", epoch, index); attack/noise of global step g from createRng(`${seed}/robust-trainer`).fork(`attack/${g}`)';

export interface RobustTrainerOptions extends RobustConfigOverrides, TrainerRunOptions<RobustData> {}
export type RobustRunOptions = RunOptions<RobustTrainCallbacks>;
export type RobustTrainResult = TrainResult<RobustEpochSummary>;

/** What `trainer.json` of a robust checkpoint holds. */
interface RobustState extends LoopState<RobustEpochSummary> {
  version: 1;
  kind: 'robust-train';
  bestValidationAccuracy: number | null;
  rng: { seed: number; scheme: string };
  config: unknown;
  dataset: unknown;
  /** The CVAE used (run folder, checkpoint, its global step): a resumed run must use the same one. */
  cvae: { runDir: string; checkpoint: string; globalStep: number } | null;
}

/** Opens the CVAE a config names, frozen (its variables are not trained). */
function openCvae(config: RobustConfig, imageShape: [number, number, number]): { cvae: CVAE; globalStep: number; checkpointDir: string } {
  const ref = config.attack.cvae!;
  const checkpointDir = path.join(ref.runDir, CHECKPOINTS_DIR, ref.checkpoint);
  if (!fs.existsSync(ref.runDir)) {
    throw new ConfigError(`attack.checkpoint: the CVAE run folder ${ref.runDir} does not exist; train one first (e.g. \`pertset train --config mnist_stn_rts --out ${ref.runDir}\`) or pass --cvae RUN_DIR`);
  }
  readRunRecord(ref.runDir); // a clear error when it is not a run folder
  if (!checkpointExists(checkpointDir)) throw new CheckpointError(`attack.checkpoint: the CVAE run ${ref.runDir} has no "${ref.checkpoint}" checkpoint (${checkpointDir}); train it at least one epoch`);
  const cvae = loadModel(checkpointDir);
  const [h, w, c] = imageShape;
  const [mh, mw, mc] = cvae.inputShape;
  const problem =
    config.attack.cvaeArchitecture && config.attack.cvaeArchitecture !== cvae.architecture
      ? `attack.model.type: the config says ${config.attack.cvaeArchitecture} but ${checkpointDir} holds a ${cvae.architecture} CVAE`
      : h !== mh || w !== mw || c !== mc
        ? `attack.checkpoint: the CVAE in ${checkpointDir} (${cvae.architecture}) takes ${mh}×${mw}×${mc} images but the dataset's are ${h}×${w}×${c} (check dataset.padding)`
        : null;
  if (problem) {
    cvae.dispose();
    throw new ConfigError(problem);
  }
  return { cvae, globalStep: readTrainerState(checkpointDir)?.globalStep ?? 0, checkpointDir };
}

export class RobustTrainer extends RunLoop<RobustConfig, RobustProgress, RobustEpochSummary, RobustEpochSummary['validation']> {
  readonly classifier: Classifier;
  /** The frozen CVAE of the cvae_* methods (null for none / sample_aug). */
  readonly cvae: CVAE | null;
  readonly data: RobustData;

  private readonly rng: Rng;
  private readonly cvaeInfo: RobustState['cvae'];

  /** A trainer from a shipped config name, a file or a loaded config; resumes from the run folder's "latest". */
  static async create(config: string | RobustConfig, options: RobustTrainerOptions = {}): Promise<RobustTrainer> {
    const overrides: RobustConfigOverrides = {
      epochs: options.epochs, limit: options.limit, validationLimit: options.validationLimit, batchSize: options.batchSize,
      seed: options.seed, dataDir: options.dataDir, outDir: options.outDir, cvae: options.cvae,
    };
    const resolved = resolveConfig(config, overrides, loadRobustConfig, robustConfigFromJson);
    const backend = await initBackend(options.backend ? { backend: options.backend } : {});
    return RunLoop.open(resolved, options, (recorded) => {
      const data = options.data ?? robustTrainingData(resolved, { dataDir: options.dataDir, recorded });
      return new RobustTrainer(resolved, data, backend, options);
    });
  }

  /** Prefer `RobustTrainer.create` (which resumes and initialises the backend). */
  constructor(config: RobustConfig, data: RobustData, backend: BackendInfo | null, options: RobustTrainerOptions = {}) {
    super(config, backend, options, ['loss', 'correct'], { metric: (v) => v.accuracy, better: 'higher' });
    this.data = data;
    this.rng = createRng(`${config.seed}/robust-trainer`);
    const imageShape = data.trainImages.imageShape;
    const opened = config.attack.cvae ? openCvae(config, imageShape) : null;
    this.cvae = opened?.cvae ?? null;
    this.cvaeInfo = opened ? { runDir: config.attack.cvae!.runDir, checkpoint: config.attack.cvae!.checkpoint, globalStep: opened.globalStep } : null;
    try {
      this.classifier = createClassifier({ ...config.model, inputShape: imageShape }, { seed: config.seed });
    } catch (e) {
      this.cvae?.dispose();
      throw new ConfigError(`model: ${(e as Error).message}`);
    }
    this.initOptimizer(this.classifier.variables, this.classifier.trainableVariables());
  }

  get stepsPerEpoch(): number {
    return this.data.train.batchCount(this.config.training.batchSize);
  }

  /** Clean accuracy and CE of the classifier (eval mode) on the validation split. */
  async validate(signal?: AbortSignal): Promise<{ accuracy: number; loss: number }> {
    return cleanAccuracy(this.classifier, this.labelledBatches(this.data.val, this.config.eval.batchSize), () => this.checkStop(signal));
  }

  // --- the loop's hooks ---

  protected async trainStep(lr: number): Promise<StepOutcome<StepFields<RobustProgress>>> {
    const b = this.data.train.batch(this.epochIndex, this.stepIndex, this.config.training.batchSize);
    const batch: RobustBatch = {
      x: tf.tensor4d(b.x, b.shape),
      xPerturbed: tf.tensor4d(b.xPerturbed, b.shape),
      y: tf.tensor1d(this.data.trainImages.gatherLabels(b.indices), 'int32'),
    };
    try {
      const seed = this.rng.fork(`attack/${this.global}`).seed();
      const step = await robustGradients(this.config, this.classifier, this.cvae, this.vars, batch, seed);
      if (!Number.isFinite(step.loss) || !Number.isFinite(step.gradNormSq)) {
        tf.dispose(step.grads);
        throw this.diverged(!Number.isFinite(step.loss) ? `loss is ${step.loss}` : `gradient norm is ${step.gradNormSq}`, lr);
      }
      this.applyGradients(step.grads, lr);
      const n = b.shape[0];
      const fields: StepFields<RobustProgress> = { loss: step.loss, accuracy: step.accuracy };
      if (step.cleanLoss !== undefined) fields.cleanLoss = step.cleanLoss;
      if (step.adversarialLoss !== undefined) fields.adversarialLoss = step.adversarialLoss;
      return { n, sums: { loss: step.loss * n, correct: step.accuracy * n }, fields };
    } finally {
      tf.dispose([batch.x, batch.xPerturbed, batch.y]);
    }
  }

  protected summarize(epoch: number, s: Record<string, number>, validation: RobustEpochSummary['validation'], seconds: number): RobustEpochSummary {
    return { epoch, train: { loss: s.loss / Math.max(1, s.count), accuracy: s.correct / Math.max(1, s.count) }, validation, seconds };
  }

  protected stateJson(loop: LoopState<RobustEpochSummary>): RobustState {
    return {
      version: 1,
      kind: 'robust-train',
      ...loop,
      bestValidationAccuracy: this.best,
      rng: { seed: this.config.seed, scheme: RNG_SCHEME },
      config: this.config.json,
      dataset: this.datasetRecord(),
      cvae: this.cvaeInfo,
    };
  }

  protected readResumable(latest: string): RobustState & Pick<TrainerStateJson, 'optimizer'> {
    const state = readJson<RobustState & Pick<TrainerStateJson, 'optimizer'>>(path.join(latest, TRAINER_FILE));
    if (state.version !== 1 || state.kind !== 'robust-train') throw new CheckpointError(`${latest}: not a robust-training checkpoint (use another --out)`);
    const diff = configDifferences(state.config, this.config.json);
    if (diff.length) throw new ConfigError(`${this.runDir} holds a run with a different config (${diff.slice(0, 6).join(', ')} differ); use another --out to start a new run, or the same options to resume it`);
    if (state.cvae && this.cvaeInfo && state.cvae.globalStep !== this.cvaeInfo.globalStep) {
      throw new ConfigError(`${this.runDir} was trained against the CVAE ${state.cvae.runDir} (${state.cvae.checkpoint}) at global step ${state.cvae.globalStep}, which now holds step ${this.cvaeInfo.globalStep}; resuming would mix two perturbation sets (use another --out)`);
    }
    this.best = state.bestValidationAccuracy;
    return state;
  }

  protected writeCheckpoint(dir: string, files: Parameters<CheckpointWriter>[1]): Promise<void> {
    return saveClassifierCheckpoint(dir, { ...files, classifier: this.classifier });
  }

  protected loadWeights(dir: string): void {
    loadClassifierWeightsInto(this.classifier, dir);
  }

  protected datasetRecord(): RunRecord['dataset'] {
    return { train: this.data.train.describe(), val: { images: this.data.val.describe() } };
  }

  protected disposeModels(): void {
    this.classifier.dispose();
    this.cvae?.dispose();
  }

  private *labelledBatches(images: RobustData['val'], batchSize: number): Generator<{ x: tf.Tensor4D; y: tf.Tensor1D }> {
    for (let start = 0; start < images.count; start += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, images.count - start) }, (_, i) => start + i);
      const b = images.batch(idx);
      yield { x: tf.tensor4d(b.x, b.shape), y: tf.tensor1d(b.labels, 'int32') };
    }
  }
}
