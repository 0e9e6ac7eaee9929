/**
 * Training a CVAE as the reference's `train.py`: loss = reconstruction + β·KL summed over the
 * batch, Adam with the learning rate from the piecewise-linear schedule at the fractional epoch,
 * β at the integer epoch, a validation pass per epoch (β at the final epoch), checkpoints
 * "latest" (every epoch, every N steps, on interrupt), "best" (by validation loss) and numbered
 * ones every `checkpoint_interval` epochs.
 *
 * Usable from a notebook: `const t = await Trainer.create('mnist_fc_linf', {epochs: 1, limit: 2000});
 * await t.run({ callbacks: { onBatchEnd } })`. An interrupt (kernel SIGINT → `requestInterrupt()`) stops between
 * two steps, saves "latest" and throws `InterruptedError`; the trainer stays consistent and
 * `run()` continues where it stopped. A new Trainer on the same run directory resumes from "latest".
 *
 * This file is the loop; the options and config resolution are in options.ts, the validation pass
 * in validation.ts, which checkpoints are written when in checkpoint-policy.ts, run.json in run-status.ts.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../backend';
import { betaAt, learningRateAt } from '../config/schedules';
import type { PertsetConfig } from '../config/types';
import { ConfigError, DivergenceError, InterruptedError, StorageError } from '../errors';
import { ensureDir } from '../output-dir';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { createCVAE } from '../models';
import type { CVAE } from '../models/types';
import { createRng, type Rng } from '../random';
import { writeFileAtomic } from '../runs/atomic-dir';
import { checkpointExists, loadWeightsInto, readOptimizerState } from '../runs/checkpoint';
import { lockRunDir, type RunLock } from '../runs/lock';
import { resumableState, resumeDataset } from '../runs/resume';
import type { RunRecord, RunStatus } from '../runs/run-record';
import { CheckpointPolicy, type TrainerState } from './checkpoint-policy';
import { recordedData, trainingData, type TrainingData } from '../pairs/config-pairs';
import { cvaeGradients } from './cvae-step';
import { DEFAULT_DIVERGENCE_FACTOR, DivergenceMonitor } from './divergence';
import type { EpochSummary, TrainCallbacks, TrainProgress } from './events';
import { resolveTrainerConfig, type LossMeans, type RunOptions, type TrainerOptions, type TrainResult } from './options';
import { createAdam, type TrainingOptimizer } from './optimizer';
import type { PairBatch } from '../pairs/source';
import { RunStatusWriter } from './run-status';
import { validationLoss } from './validation';

export type { LossMeans, RunOptions, TrainerOptions, TrainResult } from './options';

const RNG_SCHEME = 'createRng(`${seed}/<stream>`) forked per (epoch, batch) for shuffling and perturbations; noise per global step';

export class Trainer {
  readonly config: PertsetConfig;
  readonly model: CVAE;
  /** Run directory (checkpoints, run.json), or null when not persisting. */
  readonly runDir: string | null;
  readonly backend: BackendInfo | null;
  readonly data: TrainingData;

  private readonly optimizer: TrainingOptimizer;
  private readonly vars: tf.Variable[];
  private readonly rng: Rng;
  private readonly monitor: DivergenceMonitor;
  private readonly checkpoints: CheckpointPolicy;
  private epochIndex = 0;
  private stepIndex = 0;
  private global = 0;
  private finishedFlag = false;
  private epochSums = { loss: 0, kl: 0, recon: 0, count: 0, seconds: 0 };
  private readonly epochs: EpochSummary[] = [];
  private bestValidation: number | null = null;
  private status: RunStatusWriter | null = null;
  private running = false;
  /** The run folder's lock (held from `create` until `dispose`); `tookOver` says whose stale lock it replaced. */
  runLock: RunLock | null = null;

  /** Builds a trainer from a config name, file or loaded config; resumes from the run directory's "latest" checkpoint. */
  static async create(config: string | PertsetConfig, options: TrainerOptions = {}): Promise<Trainer> {
    const resolved = resolveTrainerConfig(config, options);
    const backend = await initBackend(options.backend ? { backend: options.backend } : {});
    const lock = options.persist === false ? null : lockRunDir(resolved.runDir);
    try {
      // A resumed run continues on the data it recorded, or stops with an error saying what is missing.
      const resumed = options.data || !lock || options.resume === false ? undefined : resumeDataset(path.resolve(resolved.runDir));
      const data = options.data ?? trainingData(resolved, { dataDir: options.dataDir, recorded: resumed && recordedData(resolved, resumed) });
      const trainer = new Trainer(resolved, data, backend, options);
      trainer.runLock = lock;
      await trainer.restore(options.resume ?? true);
      return trainer;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  /** Prefer `Trainer.create`; the constructor does not resume and does not initialise the backend. */
  constructor(config: PertsetConfig, data: TrainingData, backend: BackendInfo | null, options: TrainerOptions = {}) {
    this.config = config;
    this.data = data;
    this.backend = backend;
    this.runDir = options.persist === false ? null : path.resolve(config.runDir);
    this.checkpoints = new CheckpointPolicy(this.runDir, options.checkpointSteps ?? config.training.checkpointSteps, config.training.checkpointInterval, options.checkpointHooks);
    this.monitor = new DivergenceMonitor(options.divergenceFactor ?? DEFAULT_DIVERGENCE_FACTOR);
    this.rng = createRng(`${config.seed}/trainer`);
    const [h, w, c] = data.train.imageShape;
    this.model = createCVAE(config.model.architecture, { seed: config.seed });
    const [mh, mw, mc] = this.model.inputShape;
    if (h !== mh || w !== mw || c !== mc) {
      this.model.dispose();
      throw new ConfigError(`dataset images are ${h}×${w}×${c} but ${config.model.architecture} takes ${mh}×${mw}×${mc} (check dataset.padding)`);
    }
    if (config.model.load) loadWeightsInto(this.model, config.model.load);
    const nameOf = new Map([...this.model.variables.entries()].map(([n, v]) => [v, n] as const));
    this.vars = this.model.trainableVariables();
    this.optimizer = createAdam(this.vars, this.vars.map((v) => nameOf.get(v) ?? v.name), { prefer: options.optimizer });
  }

  /** Optimiser steps taken over the whole run (survives resume and interrupts). */
  get globalStep(): number {
    return this.global;
  }
  /** The epoch in progress (0-based); equals `config.training.epochs` when finished. */
  get epoch(): number {
    return this.epochIndex;
  }
  /** Steps done in the epoch in progress. */
  get step(): number {
    return this.stepIndex;
  }
  get stepsPerEpoch(): number {
    return this.data.train.batchCount(this.config.training.batchSize);
  }
  get finished(): boolean {
    return this.finishedFlag;
  }
  /** One summary per completed epoch. */
  get history(): EpochSummary[] {
    return this.epochs.slice();
  }
  /** Directory of the "latest" checkpoint (null when not persisting). */
  get latestCheckpoint(): string | null {
    return this.checkpoints.latestDir;
  }
  get bestCheckpoint(): string | null {
    return this.checkpoints.bestDir;
  }

  /**
   * Trains until the schedule ends (or `epochs`/`steps` more), reporting progress. Throws
   * `InterruptedError` on interrupt/abort (after saving "latest") and `DivergenceError` on
   * NaN/Inf or divergence (the bad step is not applied; the last good checkpoint is kept).
   */
  async run(options: RunOptions = {}): Promise<TrainResult> {
    if (this.running) throw new ConfigError('Trainer.run: already running');
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
        let epochStart = Date.now();
        // Throughput of training steps only: the validation pass and checkpoints are not steps.
        recent.length = 0;
        while (this.stepIndex < stepsPerEpoch) {
          await this.checkStop(options.signal);
          if (stepsThisCall >= maxSteps) return this.pause();
          const lr = learningRateAt(this.config.training.lr, this.epochIndex, this.stepIndex, stepsPerEpoch);
          const beta = betaAt(this.config.training.beta, this.epochIndex);
          const batch = this.data.train.batch(this.epochIndex, this.stepIndex, batchSize);
          const m = await this.trainStep(batch, lr, beta);
          this.stepIndex++;
          this.global++;
          stepsThisCall++;
          const n = batch.shape[0];
          this.epochSums.loss += m.loss * n;
          this.epochSums.kl += m.kl * n;
          this.epochSums.recon += m.recon * n;
          this.epochSums.count += n;
          const now = Date.now();
          this.epochSums.seconds += (now - epochStart) / 1000;
          epochStart = now;
          recent.push(now);
          if (recent.length > 20) recent.shift();
          const span = (recent[recent.length - 1] - recent[0]) / 1000;
          const progress: TrainProgress = {
            epoch: this.epochIndex,
            epochs: totalEpochs,
            step: this.stepIndex - 1,
            stepsPerEpoch,
            globalStep: this.global,
            loss: m.loss,
            kl: m.kl,
            recon: m.recon,
            lr,
            beta,
            stepsPerSecond: recent.length > 1 && span > 0 ? (recent.length - 1) / span : 0,
            elapsed: (now - started) / 1000,
          };
          await options.callbacks?.onBatchEnd?.(progress);
          if (this.checkpoints.dueMidEpoch(this.global, this.stepIndex >= stepsPerEpoch)) await this.saveLatest();
        }
        await this.checkStop(options.signal);
        await this.endEpoch(options.callbacks);
      }
      if (this.epochIndex >= totalEpochs) {
        this.finishedFlag = true;
        this.setStatus('finished');
        return this.result('finished');
      }
      return this.pause();
    } catch (caught) {
      const e = caught instanceof InterruptedError ? await this.onInterrupt().catch((x: unknown) => x) : caught;
      if (e instanceof StorageError) throw this.onStorageFailure(e);
      if (e instanceof DivergenceError) {
        this.setStatus('diverged', e.message);
        throw e;
      }
      throw e;
    } finally {
      this.running = false;
      await options.callbacks?.onTrainEnd?.({ epoch: this.epochIndex, globalStep: this.global });
    }
  }

  /** Per-example validation means (β at the final epoch, as the reference). */
  async validate(signal?: AbortSignal): Promise<LossMeans> {
    return validationLoss(
      this.model,
      this.data.val,
      this.config,
      (i) => this.rng.fork(`val-noise/${this.epochIndex}/${i}`).seed(),
      () => this.checkStop(signal),
    );
  }

  /** Writes the "latest" checkpoint now (e.g. before closing a notebook). Returns its directory. */
  async save(): Promise<string | null> {
    return this.saveLatest();
  }

  /** Frees the model and the optimiser. */
  dispose(): void {
    this.runLock?.release();
    this.optimizer.dispose();
    this.model.dispose();
  }

  // --- internals ---

  private async trainStep(b: PairBatch, lr: number, beta: number): Promise<LossMeans> {
    const noiseSeed = this.rng.fork(`noise/${this.global}`).seed();
    const step = await cvaeGradients(this.model, this.vars, b, beta, noiseSeed);
    const reason = this.monitor.check(step);
    if (reason) {
      tf.dispose(step.grads);
      const kept = this.checkpoints.describeKept();
      throw new DivergenceError(
        `training diverged at epoch ${this.epochIndex + 1}, step ${this.stepIndex + 1} (global step ${this.global + 1}, lr ${lr.toPrecision(3)}): ${reason}; the step was not applied and ${kept}. Lower the learning rate (training.step_size_schedule) or check the data.`,
      );
    }
    // PyTorch Adam's weight_decay: L2 added to the gradient.
    const wd = this.config.training.weightDecay;
    const applied = wd > 0 ? step.grads.map((g, i) => tf.tidy(() => tf.add(g, tf.mul(this.vars[i], wd)))) : step.grads;
    this.optimizer.apply(applied, lr);
    tf.dispose(step.grads);
    if (applied !== step.grads) tf.dispose(applied);
    return { loss: step.loss, kl: step.kl, recon: step.recon };
  }

  private async endEpoch(callbacks?: TrainCallbacks): Promise<void> {
    const s = this.epochSums;
    const train = { loss: s.loss / Math.max(1, s.count), kl: s.kl / Math.max(1, s.count), recon: s.recon / Math.max(1, s.count) };
    const t0 = Date.now();
    const validation = await this.validate();
    const summary: EpochSummary = { epoch: this.epochIndex, train, validation, seconds: s.seconds + (Date.now() - t0) / 1000 };
    const improved = this.bestValidation === null || validation.loss < this.bestValidation;
    if (improved) this.bestValidation = validation.loss;
    this.epochs.push(summary);
    this.epochIndex++;
    this.stepIndex = 0;
    this.epochSums = { loss: 0, kl: 0, recon: 0, count: 0, seconds: 0 };
    if (this.runDir) {
      await this.checkpoints.afterEpoch(this.model, this.stateJson(), this.optimizer, this.epochIndex, improved);
      this.setStatus('running');
    }
    await callbacks?.onEpochEnd?.(summary);
  }

  private stateJson(): TrainerState {
    return {
      version: 1,
      epoch: this.epochIndex,
      step: this.stepIndex,
      globalStep: this.global,
      finished: this.epochIndex >= this.config.training.epochs,
      bestValidationLoss: this.bestValidation,
      history: this.epochs,
      epochSums: { ...this.epochSums },
      rng: { seed: this.config.seed, scheme: RNG_SCHEME },
      lowestLoss: Number.isFinite(this.monitor.lowest) ? this.monitor.lowest : null,
      config: this.config.json,
      dataset: { train: this.data.train.describe(), val: this.data.val.describe() },
    };
  }

  private async saveLatest(): Promise<string | null> {
    return this.checkpoints.saveLatest(this.model, this.stateJson(), this.optimizer);
  }

  private async restore(resume: boolean): Promise<void> {
    if (!this.runDir) return;
    const latest = this.latestCheckpoint!;
    if (resume && checkpointExists(latest)) {
      const state = resumableState(latest, this.runDir, this.config.json);
      loadWeightsInto(this.model, latest);
      const opt = readOptimizerState(latest, state);
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
      this.bestValidation = state.bestValidationLoss;
      this.epochs.splice(0, this.epochs.length, ...(state.history as EpochSummary[]));
      this.epochSums = { ...state.epochSums };
      if (typeof state.lowestLoss === 'number') this.monitor.lowest = state.lowestLoss;
      this.checkpoints.lastGood = { dir: latest, globalStep: state.globalStep };
      this.checkpoints.restoreBest();
    } else if (!resume && checkpointExists(latest)) {
      throw new ConfigError(`${this.runDir} already holds a training run; resume it or choose another output directory`);
    }
    ensureDir(this.runDir, 'run folder');
    writeFileAtomic(path.join(this.runDir, 'config.json'), JSON.stringify(this.config.json, null, 2));
    this.status = new RunStatusWriter(this.runDir, this.config, this.backend, { train: this.data.train.describe(), val: this.data.val.describe() }, { epoch: this.epochIndex, globalStep: this.global });
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
    if (this.runDir && this.global > 0) {
      const dir = await this.saveLatest();
      saved = `; checkpoint saved to ${dir}`;
    }
    const message = `training interrupted at ${where}${saved}; call run() again (or rerun the same command) to continue`;
    this.setStatus('interrupted', message);
    return new InterruptedError(message);
  }

  /** A checkpoint or run.json could not be written: say what is intact, and record the failure if run.json still can be. */
  private onStorageFailure(e: StorageError): StorageError {
    let message = `${e.message}; the partial write was removed and ${this.checkpoints.describeIntact()}. Free space or fix the folder, then rerun the same command to resume.`;
    try {
      this.setStatus('failed', message, { code: e.code, path: e.path });
    } catch (again) {
      message += ` (${this.runDir}/run.json could not be updated either: ${(again as Error).message})`;
    }
    return new StorageError(message, e.code, e.path);
  }

  private pause(): TrainResult {
    this.setStatus('paused');
    return this.result('paused');
  }

  private result(status: TrainResult['status']): TrainResult {
    return { status, epoch: this.epochIndex, step: this.stepIndex, globalStep: this.global, history: this.history, runDir: this.runDir };
  }
}
