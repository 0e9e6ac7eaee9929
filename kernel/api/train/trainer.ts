/**
 * Training a CVAE as the reference's `train.py`: loss = reconstruction + β·KL summed over the
 * batch, Adam with the learning rate from the piecewise-linear schedule at the fractional epoch,
 * β at the integer epoch, a validation pass per epoch (β at the final epoch), checkpoints
 * "latest" (every epoch, every N steps, on interrupt), "best" (by validation loss) and numbered
 * ones every `checkpoint_interval` epochs.
 *
 * Usable from a notebook: `const t = await Trainer.create('mnist_fc_linf', {epochs: 1, limit: 2000});
 * await t.run({onProgress})`. An interrupt (kernel SIGINT → `requestInterrupt()`) stops between
 * two steps, saves "latest" and throws `InterruptedError`; the trainer stays consistent and
 * `run()` continues where it stopped. A new Trainer on the same run directory resumes from "latest".
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo, type BackendName } from '../backend';
import { loadConfig } from '../config/load';
import { fromReferenceConfig } from '../config/from-reference';
import { betaAt, learningRateAt } from '../config/schedules';
import type { ConfigOverrides, PertsetConfig } from '../config/types';
import { ConfigError, DivergenceError, InterruptedError } from '../errors';
import { ensureDir } from '../output-dir';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { createCVAE } from '../models';
import type { CVAE } from '../models/types';
import { createRng, type Rng } from '../random';
import type { AtomicWriteHooks } from './atomic-dir';
import {
  checkpointExists,
  loadWeightsInto,
  readOptimizerState,
  saveCheckpoint,
  type TrainerStateJson,
} from './checkpoint';
import { trainingData, type TrainingData } from './config-data';
import { cvaeGradients, cvaeLossTerms } from './cvae-step';
import { DEFAULT_DIVERGENCE_FACTOR, DivergenceMonitor } from './divergence';
import type { EpochCallback, EpochSummary, ProgressCallback, TrainProgress } from './events';
import { createAdam, type TrainingOptimizer } from './optimizer';
import type { PairBatch } from './pairs';
import { resumableState } from './resume';
import { existingCreatedAt, writeRunRecord, type RunRecord, type RunStatus } from './run-record';

export interface TrainerOptions extends ConfigOverrides {
  /** Compute backend (default `PERTSET_BACKEND` or auto). */
  backend?: BackendName;
  /** Pairs to train on instead of the config's dataset (notebooks, tests). */
  data?: TrainingData;
  /** Resume from the run directory's "latest" checkpoint when there is one (default true). */
  resume?: boolean;
  /** Write checkpoints and run.json (default true). With false nothing touches the disk. */
  persist?: boolean;
  /** Write "latest" every N optimiser steps too (default: the config's `training.checkpoint_steps`). */
  checkpointSteps?: number;
  /** Loss growth factor that counts as divergence (default 1000). */
  divergenceFactor?: number;
  /** Adam implementation: the backend's fused one (default) or `tf.train.adam`. */
  optimizer?: 'fused' | 'tfjs';
  /** Test-only fault injection into checkpoint writes. */
  checkpointHooks?: AtomicWriteHooks;
}

export interface RunOptions {
  /** Run at most this many more epochs (default: to the end of the schedule). */
  epochs?: number;
  /** Run at most this many more optimiser steps. */
  steps?: number;
  /** Aborting stops like an interrupt (checkpoint saved, `InterruptedError`). */
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  onEpoch?: EpochCallback;
}

export interface TrainResult {
  /** `finished`: the schedule is complete; `paused`: stopped by `epochs`/`steps`. */
  status: 'finished' | 'paused';
  epoch: number;
  step: number;
  globalStep: number;
  history: EpochSummary[];
  runDir: string | null;
}

/** Per-example means: loss = recon + β·KL. */
export interface LossMeans {
  loss: number;
  kl: number;
  recon: number;
}

const CHECKPOINTS = 'checkpoints';
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
  private readonly checkpointSteps: number;
  private readonly hooks: AtomicWriteHooks | undefined;
  private epochIndex = 0;
  private stepIndex = 0;
  private global = 0;
  private finishedFlag = false;
  private epochSums = { loss: 0, kl: 0, recon: 0, count: 0, seconds: 0 };
  private readonly epochs: EpochSummary[] = [];
  private bestValidation: number | null = null;
  private record: RunRecord | null = null;
  private lastGoodCheckpoint: { dir: string; globalStep: number } | null = null;
  private running = false;

  /** Builds a trainer from a config name, file or loaded config; resumes from the run directory's "latest" checkpoint. */
  static async create(config: string | PertsetConfig, options: TrainerOptions = {}): Promise<Trainer> {
    const overrides: ConfigOverrides = {
      epochs: options.epochs,
      limit: options.limit,
      validationLimit: options.validationLimit,
      batchSize: options.batchSize,
      seed: options.seed,
      dataDir: options.dataDir,
      outDir: options.outDir,
    };
    const anyOverride = Object.values(overrides).some((v) => v !== undefined);
    const resolved =
      typeof config === 'string'
        ? loadConfig(config, overrides)
        : anyOverride
          ? fromReferenceConfig(config.json, config.source, { ...overrides, outDir: overrides.outDir ?? config.runDir })
          : config;
    const backend = await initBackend(options.backend ? { backend: options.backend } : {});
    const data = options.data ?? trainingData(resolved, { dataDir: options.dataDir });
    const trainer = new Trainer(resolved, data, backend, options);
    await trainer.restore(options.resume ?? true);
    return trainer;
  }

  /** Prefer `Trainer.create`; the constructor does not resume and does not initialise the backend. */
  constructor(config: PertsetConfig, data: TrainingData, backend: BackendInfo | null, options: TrainerOptions = {}) {
    this.config = config;
    this.data = data;
    this.backend = backend;
    this.runDir = options.persist === false ? null : path.resolve(config.runDir);
    this.checkpointSteps = options.checkpointSteps ?? config.training.checkpointSteps;
    this.hooks = options.checkpointHooks;
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
    return this.runDir ? path.join(this.runDir, CHECKPOINTS, 'latest') : null;
  }
  get bestCheckpoint(): string | null {
    return this.runDir ? path.join(this.runDir, CHECKPOINTS, 'best') : null;
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
          options.onProgress?.(progress);
          if (this.checkpointSteps > 0 && this.global % this.checkpointSteps === 0 && this.stepIndex < stepsPerEpoch) await this.saveLatest();
        }
        await this.checkStop(options.signal);
        await this.endEpoch(options.onEpoch);
      }
      if (this.epochIndex >= totalEpochs) {
        this.finishedFlag = true;
        this.setStatus('finished');
        return this.result('finished');
      }
      return this.pause();
    } catch (e) {
      if (e instanceof InterruptedError) throw await this.onInterrupt();
      if (e instanceof DivergenceError) {
        this.setStatus('diverged', e.message);
        throw e;
      }
      throw e;
    } finally {
      this.running = false;
    }
  }

  /** Per-example validation means (β at the final epoch, as the reference). */
  async validate(signal?: AbortSignal): Promise<LossMeans> {
    const beta = betaAt(this.config.training.beta, this.config.training.epochs);
    const bs = this.config.eval.batchSize;
    const sums = { loss: 0, kl: 0, recon: 0, n: 0 };
    const batches = this.data.val.batchCount(bs);
    for (let i = 0; i < batches; i++) {
      await this.checkStop(signal);
      const b = this.data.val.batch(0, i, bs);
      const seed = this.rng.fork(`val-noise/${this.epochIndex}/${i}`).seed();
      const out = tf.tidy(() => {
        const { recon, kl } = cvaeLossTerms(this.model, b, seed, false);
        return tf.stack([tf.sum(recon), tf.sum(kl)]);
      });
      const [r, k] = await out.data();
      out.dispose();
      sums.recon += r;
      sums.kl += k;
      sums.loss += r + beta * k;
      sums.n += b.shape[0];
    }
    return { loss: sums.loss / sums.n, kl: sums.kl / sums.n, recon: sums.recon / sums.n };
  }

  /** Writes the "latest" checkpoint now (e.g. before closing a notebook). Returns its directory. */
  async save(): Promise<string | null> {
    return this.saveLatest();
  }

  /** Frees the model and the optimiser. */
  dispose(): void {
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
      const kept = this.lastGoodCheckpoint
        ? `the last good checkpoint (global step ${this.lastGoodCheckpoint.globalStep}) is kept at ${this.lastGoodCheckpoint.dir}`
        : 'no checkpoint was written yet; the model keeps its last good weights in memory';
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

  private async endEpoch(onEpoch?: EpochCallback): Promise<void> {
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
      await this.saveLatest();
      const interval = this.config.training.checkpointInterval;
      if (interval !== null) {
        if (improved) await saveCheckpoint(path.join(this.runDir, CHECKPOINTS, 'best'), { model: this.model, trainer: this.stateJson(), hooks: this.hooks });
        if (this.epochIndex % interval === 0) {
          await saveCheckpoint(path.join(this.runDir, CHECKPOINTS, `epoch-${String(this.epochIndex).padStart(3, '0')}`), { model: this.model, trainer: this.stateJson(), hooks: this.hooks });
        }
      }
      this.setStatus('running');
    }
    onEpoch?.(summary);
  }

  private stateJson(): Omit<TrainerStateJson, 'optimizer' | 'savedAt'> {
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
    const dir = this.latestCheckpoint;
    if (!dir) return null;
    const state = this.optimizer.getState();
    try {
      await saveCheckpoint(dir, { model: this.model, trainer: this.stateJson(), optimizer: { kind: this.optimizer.kind, state }, hooks: this.hooks });
    } finally {
      tf.dispose(state.map((s) => s.tensor));
    }
    this.lastGoodCheckpoint = { dir, globalStep: this.global };
    return dir;
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
      this.lastGoodCheckpoint = { dir: latest, globalStep: state.globalStep };
    } else if (!resume && checkpointExists(latest)) {
      throw new ConfigError(`${this.runDir} already holds a training run; resume it or choose another output directory`);
    }
    ensureDir(this.runDir, 'run folder');
    fs.writeFileSync(path.join(this.runDir, 'config.json'), JSON.stringify(this.config.json, null, 2));
    const createdAt = existingCreatedAt(this.runDir) ?? new Date().toISOString();
    this.record = {
      version: 1,
      name: this.config.name,
      configSource: this.config.source,
      config: this.config.json,
      seed: this.config.seed,
      backend: this.backend ? { name: this.backend.name, requested: this.backend.requested, threads: this.backend.threads } : null,
      dataset: { train: this.data.train.describe(), val: this.data.val.describe() },
      status: this.global > 0 ? 'paused' : 'created',
      epoch: this.epochIndex,
      globalStep: this.global,
      createdAt,
      updatedAt: createdAt,
    };
    this.setStatus(this.finishedFlag ? 'finished' : this.record.status);
  }

  private setStatus(status: RunStatus, message?: string): void {
    if (!this.runDir || !this.record) return;
    this.record = { ...this.record, status, epoch: this.epochIndex, globalStep: this.global, message };
    if (message === undefined) delete this.record.message;
    writeRunRecord(this.runDir, this.record);
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

  private pause(): TrainResult {
    this.setStatus('paused');
    return this.result('paused');
  }

  private result(status: TrainResult['status']): TrainResult {
    return { status, epoch: this.epochIndex, step: this.stepIndex, globalStep: this.global, history: this.history, runDir: this.runDir };
  }
}
