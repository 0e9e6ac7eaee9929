/**
 * Training a classifier against a learned perturbation set, as the reference's robust_train.py:
 * Adam with the LR from the piecewise-linear schedule at the fractional epoch, one step per
 * batch of the method `attack.type` (step.ts), a clean validation pass per epoch, checkpoints
 * "latest" (every epoch, every `checkpoint_steps` steps, on interrupt), "best" (by validation
 * clean accuracy; the reference's selection by robust error is `robust-eval`'s job) and
 * `epoch-NNN` every `checkpoint_interval` epochs, all written atomically by `runs`.
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
import { initBackend, type BackendInfo, type BackendName } from '../backend';
import { createClassifier } from '../classifiers/registry';
import type { Classifier } from '../classifiers/types';
import { loadRobustConfig, robustConfigFromJson, type RobustConfig, type RobustConfigOverrides } from '../config/robust';
import { learningRateAt } from '../config/schedules';
import { CheckpointError, ConfigError, DivergenceError, InterruptedError, StorageError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import type { CVAE } from '../models/types';
import { ensureDir } from '../output-dir';
import { createRng, type Rng } from '../random';
import { writeFileAtomic, type AtomicWriteHooks } from '../runs/atomic-dir';
import { checkpointExists, loadModel, readJson, readOptimizerState, readTrainerState, TRAINER_FILE, type TrainerStateJson } from '../runs/checkpoint';
import { loadClassifierWeightsInto, saveClassifierCheckpoint } from '../runs/classifier-checkpoint';
import { lockRunDir, type RunLock } from '../runs/lock';
import { configDifferences } from '../runs/resume';
import { readRunRecord, type RunRecord, type RunStatus } from '../runs/run-record';
import { createAdam, type TrainingOptimizer } from '../train/optimizer';
import { RunStatusWriter } from '../train/run-status';
import { robustTrainingData, type RobustData } from './data';
import type { RobustEpochSummary, RobustProgress, RobustTrainCallbacks } from './events';
import { cleanAccuracy, robustGradients, type RobustBatch } from './step';

const CHECKPOINTS_DIR = 'checkpoints';
const RNG_SCHEME = 'batches from (seed, "robust-train", epoch, index); attack/noise of global step g from createRng(`${seed}/robust-trainer`).fork(`attack/${g}`)';

export interface RobustTrainerOptions extends RobustConfigOverrides {
  backend?: BackendName;
  /** Data to train on instead of the config's dataset (tests, notebooks). */
  data?: RobustData;
  /** Resume from the run folder's "latest" checkpoint (default true). */
  resume?: boolean;
  /** Write checkpoints and run.json (default true). */
  persist?: boolean;
  /** Write "latest" every N steps too (default: the config's `training.checkpoint_steps`). */
  checkpointSteps?: number;
  /** Test-only fault injection into checkpoint writes. */
  checkpointHooks?: AtomicWriteHooks;
}

export interface RobustRunOptions {
  /** At most this many more epochs / optimiser steps. */
  epochs?: number;
  steps?: number;
  signal?: AbortSignal;
  callbacks?: RobustTrainCallbacks;
}

export interface RobustTrainResult {
  status: 'finished' | 'paused';
  epoch: number;
  step: number;
  globalStep: number;
  history: RobustEpochSummary[];
  runDir: string | null;
}

/** What `trainer.json` of a robust checkpoint holds. */
interface RobustState {
  version: 1;
  kind: 'robust-train';
  epoch: number;
  step: number;
  globalStep: number;
  finished: boolean;
  bestValidationAccuracy: number | null;
  history: RobustEpochSummary[];
  epochSums: { loss: number; correct: number; count: number; seconds: number };
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

export class RobustTrainer {
  readonly config: RobustConfig;
  readonly classifier: Classifier;
  /** The frozen CVAE of the cvae_* methods (null for none / sample_aug). */
  readonly cvae: CVAE | null;
  readonly data: RobustData;
  readonly runDir: string | null;
  readonly backend: BackendInfo | null;
  runLock: RunLock | null = null;

  private readonly optimizer: TrainingOptimizer;
  private readonly vars: tf.Variable[];
  private readonly rng: Rng;
  private readonly checkpointSteps: number;
  private readonly hooks?: AtomicWriteHooks;
  private readonly cvaeInfo: RobustState['cvae'];
  private epochIndex = 0;
  private stepIndex = 0;
  private global = 0;
  private finishedFlag = false;
  private epochSums = { loss: 0, correct: 0, count: 0, seconds: 0 };
  private readonly epochs: RobustEpochSummary[] = [];
  private bestAccuracy: number | null = null;
  private status: RunStatusWriter | null = null;
  private running = false;
  private lastGood: { dir: string; globalStep: number } | null = null;

  /** A trainer from a shipped config name, a file or a loaded config; resumes from the run folder's "latest". */
  static async create(config: string | RobustConfig, options: RobustTrainerOptions = {}): Promise<RobustTrainer> {
    const overrides: RobustConfigOverrides = {
      epochs: options.epochs, limit: options.limit, validationLimit: options.validationLimit, batchSize: options.batchSize,
      seed: options.seed, dataDir: options.dataDir, outDir: options.outDir, cvae: options.cvae,
    };
    const resolved = typeof config === 'string'
      ? loadRobustConfig(config, overrides)
      : Object.values(overrides).some((v) => v !== undefined)
        ? robustConfigFromJson(config.json, config.source, { ...overrides, outDir: overrides.outDir ?? config.runDir })
        : config;
    const backend = await initBackend(options.backend ? { backend: options.backend } : {});
    const runDir = path.resolve(resolved.runDir);
    const lock = options.persist === false ? null : lockRunDir(runDir);
    try {
      const latest = path.join(runDir, CHECKPOINTS_DIR, 'latest');
      const recorded = !options.data && lock && options.resume !== false && checkpointExists(latest) ? (readJson<RobustState>(path.join(latest, TRAINER_FILE)).dataset as { train?: unknown }) : undefined;
      const data = options.data ?? robustTrainingData(resolved, { dataDir: options.dataDir, recorded });
      const trainer = new RobustTrainer(resolved, data, backend, options);
      trainer.runLock = lock;
      try {
        await trainer.restore(options.resume ?? true);
      } catch (e) {
        trainer.disposeModels();
        throw e;
      }
      return trainer;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  /** Prefer `RobustTrainer.create` (which resumes and initialises the backend). */
  constructor(config: RobustConfig, data: RobustData, backend: BackendInfo | null, options: RobustTrainerOptions = {}) {
    this.config = config;
    this.data = data;
    this.backend = backend;
    this.runDir = options.persist === false ? null : path.resolve(config.runDir);
    this.checkpointSteps = options.checkpointSteps ?? config.training.checkpointSteps;
    this.hooks = options.checkpointHooks;
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
    const nameOf = new Map([...this.classifier.variables.entries()].map(([n, v]) => [v, n] as const));
    this.vars = this.classifier.trainableVariables();
    this.optimizer = createAdam(this.vars, this.vars.map((v) => nameOf.get(v) ?? v.name));
  }

  get globalStep(): number {
    return this.global;
  }
  get epoch(): number {
    return this.epochIndex;
  }
  get step(): number {
    return this.stepIndex;
  }
  get stepsPerEpoch(): number {
    return this.data.train.batchCount(this.config.training.batchSize);
  }
  get finished(): boolean {
    return this.finishedFlag;
  }
  get history(): RobustEpochSummary[] {
    return this.epochs.slice();
  }
  get latestCheckpoint(): string | null {
    return this.runDir ? path.join(this.runDir, CHECKPOINTS_DIR, 'latest') : null;
  }
  get bestCheckpoint(): string | null {
    return this.runDir ? path.join(this.runDir, CHECKPOINTS_DIR, 'best') : null;
  }

  /** Trains to the end of the schedule (or `epochs`/`steps` more). Throws `InterruptedError` after saving on interrupt/abort. */
  async run(options: RobustRunOptions = {}): Promise<RobustTrainResult> {
    if (this.running) throw new ConfigError('RobustTrainer.run: already running');
    this.running = true;
    const { batchSize, epochs: totalEpochs } = this.config.training;
    const stepsPerEpoch = this.stepsPerEpoch;
    const stopEpoch = options.epochs === undefined ? totalEpochs : Math.min(totalEpochs, this.epochIndex + options.epochs);
    const maxSteps = options.steps ?? Infinity;
    const started = Date.now();
    const recent: number[] = [];
    let stepsThisCall = 0;
    this.setStatus('running');
    try {
      while (this.epochIndex < stopEpoch) {
        let last = Date.now();
        recent.length = 0;
        while (this.stepIndex < stepsPerEpoch) {
          await this.checkStop(options.signal);
          if (stepsThisCall >= maxSteps) return this.pause();
          const lr = learningRateAt(this.config.training.lr, this.epochIndex, this.stepIndex, stepsPerEpoch);
          const m = await this.trainStep(lr);
          this.stepIndex++;
          this.global++;
          stepsThisCall++;
          this.epochSums.loss += m.loss * m.n;
          this.epochSums.correct += m.accuracy * m.n;
          this.epochSums.count += m.n;
          const now = Date.now();
          this.epochSums.seconds += (now - last) / 1000;
          last = now;
          recent.push(now);
          if (recent.length > 20) recent.shift();
          const span = (recent[recent.length - 1] - recent[0]) / 1000;
          const progress: RobustProgress = {
            epoch: this.epochIndex, epochs: totalEpochs, step: this.stepIndex - 1, stepsPerEpoch, globalStep: this.global,
            loss: m.loss, accuracy: m.accuracy, lr,
            stepsPerSecond: recent.length > 1 && span > 0 ? (recent.length - 1) / span : 0,
            elapsed: (now - started) / 1000,
          };
          if (m.cleanLoss !== undefined) progress.cleanLoss = m.cleanLoss;
          if (m.adversarialLoss !== undefined) progress.adversarialLoss = m.adversarialLoss;
          await options.callbacks?.onBatchEnd?.(progress);
          if (this.runDir && this.checkpointSteps > 0 && this.global % this.checkpointSteps === 0 && this.stepIndex < stepsPerEpoch) await this.saveLatest();
        }
        await this.checkStop(options.signal);
        await this.endEpoch(options.callbacks, options.signal);
      }
      if (this.epochIndex >= totalEpochs) {
        this.finishedFlag = true;
        this.setStatus('finished');
        return this.result('finished');
      }
      return this.pause();
    } catch (caught) {
      const e = caught instanceof InterruptedError ? await this.onInterrupt().catch((x: unknown) => x) : caught;
      if (e instanceof StorageError) {
        const message = `${e.message}; the partial write was removed and ${this.lastGood ? `the checkpoint at step ${this.lastGood.globalStep} (${this.lastGood.dir}) is intact` : 'no checkpoint had been written yet'}. Free space or fix the folder, then rerun the same command to resume.`;
        try {
          this.setStatus('failed', message, { code: e.code, path: e.path });
        } catch {
          // run.json cannot be written either; the error says what is intact.
        }
        throw new StorageError(message, e.code, e.path);
      }
      if (e instanceof DivergenceError) this.setStatus('diverged', e.message);
      throw e;
    } finally {
      this.running = false;
      await options.callbacks?.onTrainEnd?.({ epoch: this.epochIndex, globalStep: this.global });
    }
  }

  /** Clean accuracy and CE of the classifier (eval mode) on the validation split. */
  async validate(signal?: AbortSignal): Promise<{ accuracy: number; loss: number }> {
    return cleanAccuracy(this.classifier, this.labelledBatches(this.data.val, this.config.eval.batchSize), () => this.checkStop(signal));
  }

  /** Writes "latest" now; returns its folder (null when not persisting). */
  async save(): Promise<string | null> {
    return this.saveLatest();
  }

  dispose(): void {
    this.runLock?.release();
    this.optimizer.dispose();
    this.disposeModels();
  }

  // --- internals ---

  private disposeModels(): void {
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

  private async trainStep(lr: number) {
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
        throw new DivergenceError(
          `training diverged at epoch ${this.epochIndex + 1}, step ${this.stepIndex + 1} (global step ${this.global + 1}, lr ${lr.toPrecision(3)}): ${!Number.isFinite(step.loss) ? `loss is ${step.loss}` : `gradient norm is ${step.gradNormSq}`}; the step was not applied and ${this.lastGood ? `the last good checkpoint (global step ${this.lastGood.globalStep}) is kept at ${this.lastGood.dir}` : 'no checkpoint was written yet'}. Lower the learning rate (training.step_size_schedule).`,
        );
      }
      // PyTorch Adam's weight_decay: L2 added to the gradient.
      const wd = this.config.training.weightDecay;
      const applied = wd > 0 ? step.grads.map((g, i) => tf.tidy(() => tf.add(g, tf.mul(this.vars[i], wd)))) : step.grads;
      this.optimizer.apply(applied, lr);
      tf.dispose(step.grads);
      if (applied !== step.grads) tf.dispose(applied);
      return { ...step, n: b.shape[0] };
    } finally {
      tf.dispose([batch.x, batch.xPerturbed, batch.y]);
    }
  }

  private async endEpoch(callbacks?: RobustTrainCallbacks, signal?: AbortSignal): Promise<void> {
    const s = this.epochSums;
    const t0 = Date.now();
    const validation = await this.validate(signal);
    const summary: RobustEpochSummary = {
      epoch: this.epochIndex,
      train: { loss: s.loss / Math.max(1, s.count), accuracy: s.correct / Math.max(1, s.count) },
      validation,
      seconds: s.seconds + (Date.now() - t0) / 1000,
    };
    const improved = this.bestAccuracy === null || validation.accuracy > this.bestAccuracy;
    if (improved) this.bestAccuracy = validation.accuracy;
    this.epochs.push(summary);
    this.epochIndex++;
    this.stepIndex = 0;
    this.epochSums = { loss: 0, correct: 0, count: 0, seconds: 0 };
    if (this.runDir) {
      const interval = this.config.training.checkpointInterval;
      // "best" before "latest", as the CVAE trainer: a "best" exists whenever "latest" records a finished epoch.
      if (interval !== null && improved) await saveClassifierCheckpoint(this.bestCheckpoint!, { classifier: this.classifier, trainer: this.state(), hooks: this.hooks });
      await this.saveLatest();
      if (interval !== null && this.epochIndex % interval === 0) {
        await saveClassifierCheckpoint(path.join(this.runDir, CHECKPOINTS_DIR, `epoch-${String(this.epochIndex).padStart(3, '0')}`), { classifier: this.classifier, trainer: this.state(), hooks: this.hooks });
      }
      this.setStatus('running');
    }
    await callbacks?.onEpochEnd?.(summary);
  }

  private state(): RobustState {
    return {
      version: 1,
      kind: 'robust-train',
      epoch: this.epochIndex,
      step: this.stepIndex,
      globalStep: this.global,
      finished: this.epochIndex >= this.config.training.epochs,
      bestValidationAccuracy: this.bestAccuracy,
      history: this.epochs,
      epochSums: { ...this.epochSums },
      rng: { seed: this.config.seed, scheme: RNG_SCHEME },
      config: this.config.json,
      dataset: this.datasetRecord(),
      cvae: this.cvaeInfo,
    };
  }

  private datasetRecord(): RunRecord['dataset'] {
    return { train: this.data.train.describe(), val: { images: this.data.val.describe() } };
  }

  private async saveLatest(): Promise<string | null> {
    const dir = this.latestCheckpoint;
    if (!dir) return null;
    const tensors = this.optimizer.getState();
    try {
      await saveClassifierCheckpoint(dir, { classifier: this.classifier, trainer: this.state(), optimizer: { kind: this.optimizer.kind, state: tensors }, hooks: this.hooks });
    } finally {
      tf.dispose(tensors.map((t) => t.tensor));
    }
    this.lastGood = { dir, globalStep: this.global };
    return dir;
  }

  private async restore(resume: boolean): Promise<void> {
    if (!this.runDir) return;
    const latest = this.latestCheckpoint!;
    if (resume && checkpointExists(latest)) {
      const state = readJson<RobustState>(path.join(latest, TRAINER_FILE));
      if (state.version !== 1 || state.kind !== 'robust-train') throw new CheckpointError(`${latest}: not a robust-training checkpoint (use another --out)`);
      const diff = configDifferences(state.config, this.config.json);
      if (diff.length) throw new ConfigError(`${this.runDir} holds a run with a different config (${diff.slice(0, 6).join(', ')} differ); use another --out to start a new run, or the same options to resume it`);
      if (state.cvae && this.cvaeInfo && state.cvae.globalStep !== this.cvaeInfo.globalStep) {
        throw new ConfigError(`${this.runDir} was trained against the CVAE ${state.cvae.runDir} (${state.cvae.checkpoint}) at global step ${state.cvae.globalStep}, which now holds step ${this.cvaeInfo.globalStep}; resuming would mix two perturbation sets (use another --out)`);
      }
      loadClassifierWeightsInto(this.classifier, latest);
      const opt = readOptimizerState(latest, state as unknown as TrainerStateJson);
      if (opt) {
        try {
          this.optimizer.setState(opt);
        } finally {
          tf.dispose(opt.map((o) => o.tensor));
        }
      }
      this.epochIndex = state.epoch;
      this.stepIndex = state.step;
      this.global = state.globalStep;
      this.finishedFlag = state.finished;
      this.bestAccuracy = state.bestValidationAccuracy;
      this.epochs.splice(0, this.epochs.length, ...state.history);
      this.epochSums = { ...state.epochSums };
      this.lastGood = { dir: latest, globalStep: state.globalStep };
    } else if (!resume && checkpointExists(latest)) {
      throw new ConfigError(`${this.runDir} already holds a training run; resume it or choose another output directory`);
    }
    ensureDir(this.runDir, 'run folder');
    writeFileAtomic(path.join(this.runDir, 'config.json'), JSON.stringify(this.config.json, null, 2));
    this.status = new RunStatusWriter(this.runDir, this.config, this.backend, this.datasetRecord(), { epoch: this.epochIndex, globalStep: this.global });
    this.setStatus(this.finishedFlag ? 'finished' : this.status.status);
  }

  private setStatus(status: RunStatus, message?: string, error?: RunRecord['error']): void {
    this.status?.set(status, { epoch: this.epochIndex, globalStep: this.global }, message, error);
  }

  private async checkStop(signal?: AbortSignal): Promise<void> {
    await yieldToEventLoop();
    if (signal?.aborted) throw new InterruptedError('training aborted');
    throwIfInterrupted('training');
  }

  private async onInterrupt(): Promise<InterruptedError> {
    const where = `epoch ${this.epochIndex + 1}/${this.config.training.epochs}, step ${this.stepIndex}/${this.stepsPerEpoch} (global step ${this.global})`;
    let saved = '';
    if (this.runDir && this.global > 0) saved = `; checkpoint saved to ${await this.saveLatest()}`;
    const message = `training interrupted at ${where}${saved}; call run() again (or rerun the same command) to continue`;
    this.setStatus('interrupted', message);
    return new InterruptedError(message);
  }

  private pause(): RobustTrainResult {
    this.setStatus('paused');
    return this.result('paused');
  }

  private result(status: RobustTrainResult['status']): RobustTrainResult {
    return { status, epoch: this.epochIndex, step: this.stepIndex, globalStep: this.global, history: this.history, runDir: this.runDir };
  }
}
