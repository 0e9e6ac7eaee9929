/**
 * The one training run loop, shared by the CVAE `Trainer` and the `RobustTrainer`: epochs of
 * optimiser steps with the LR of the piecewise-linear schedule at the fractional epoch, Adam
 * (with PyTorch's L2 weight decay), a validation pass per epoch, checkpoints (which and when:
 * checkpoint-policy.ts), resume from "latest", run.json, and cooperative interrupts: an interrupt
 * or abort stops between two steps, saves "latest" and throws `InterruptedError`; `run()` again,
 * or a new trainer on the same folder, continues where it stopped.
 *
 * A trainer supplies what differs: its step (`trainStep`), its validation pass (`validate`) and
 * the metric "best" is chosen by, its checkpoint format (`writeCheckpoint`, `loadWeights`), what
 * its `trainer.json` holds beyond the loop's fields, and its models (`disposeModels`).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../backend';
import { learningRateAt } from '../config/schedules';
import type { PertsetConfig } from '../config/types';
import { ConfigError, DivergenceError, InterruptedError, StorageError } from '../errors';
import { throwIfInterrupted, yieldToEventLoop } from '../interrupt';
import { ensureDir } from '../output-dir';
import { writeFileAtomic, type AtomicWriteHooks } from '../runs/atomic-dir';
import { checkpointExists, readOptimizerState, type TrainerStateJson } from '../runs/checkpoint';
import { lockRunDir, type RunLock } from '../runs/lock';
import { resumeDataset } from '../runs/resume';
import type { RunRecord, RunStatus } from '../runs/run-record';
import { CheckpointPolicy, type CheckpointWriter } from './checkpoint-policy';
import type { StepProgress, TrainCallbacks } from './events';
import type { RunOptions, TrainResult } from './options';
import { createAdam, type TrainingOptimizer } from './optimizer';
import { RunStatusWriter } from './run-status';

/** What the loop reads of a config (the CVAE's and the robust configs both have it). */
export interface LoopConfig {
  name: string;
  source: string;
  seed: number;
  json: unknown;
  runDir: string;
  training: Pick<PertsetConfig['training'], 'epochs' | 'batchSize' | 'lr' | 'weightDecay' | 'checkpointInterval' | 'checkpointSteps'>;
}

/** The fields of a progress event that the loop fills in; a trainer's step gives the rest. */
type LoopField = 'epoch' | 'epochs' | 'step' | 'stepsPerEpoch' | 'globalStep' | 'lr' | 'stepsPerSecond' | 'elapsed';
export type StepFields<Progress extends StepProgress> = Omit<Progress, LoopField>;

/** What one step reports: its batch size, what it adds to the epoch's sums, and its fields of the progress event. */
export interface StepOutcome<Fields> {
  n: number;
  /** Added to the epoch's running sums (per-example figures times `n`). */
  sums: Record<string, number>;
  fields: Fields;
}

/** The loop's part of `trainer.json`; a trainer adds its own fields around it. */
export interface LoopState<Summary> {
  epoch: number;
  step: number;
  globalStep: number;
  finished: boolean;
  history: Summary[];
  /** Running sums of the unfinished epoch (so its mean is exact after a resume), with `count` and `seconds`. */
  epochSums: Record<string, number>;
}

/** A new epoch's running sums: the trainer's figures, then `count` and `seconds`. */
function emptySums(names: readonly string[]): Record<string, number> {
  return Object.fromEntries([...names, 'count', 'seconds'].map((k) => [k, 0]));
}

export abstract class RunLoop<Config extends LoopConfig, Progress extends StepProgress, Summary extends { epoch: number }, Validation> {
  readonly config: Config;
  /** Run directory (checkpoints, run.json), or null when not persisting. */
  readonly runDir: string | null;
  readonly backend: BackendInfo | null;
  /** The run folder's lock (held from `create` until `dispose`); `tookOver` says whose stale lock it replaced. */
  runLock: RunLock | null = null;

  protected readonly checkpoints: CheckpointPolicy;
  protected optimizer!: TrainingOptimizer;
  /** The trainable variables, in the optimiser's order. */
  protected vars!: tf.Variable[];
  protected epochIndex = 0;
  protected stepIndex = 0;
  protected global = 0;
  /** The best validation metric so far (null before the first epoch). */
  protected best: number | null = null;
  private finishedFlag = false;
  private readOnlyFlag = false;
  private epochSums: Record<string, number>;
  private readonly epochs: Summary[] = [];
  private status: RunStatusWriter | null = null;
  private running = false;

  protected constructor(
    config: Config,
    backend: BackendInfo | null,
    options: { persist?: boolean; checkpointSteps?: number; checkpointHooks?: AtomicWriteHooks },
    /** Names of the epoch's running sums (`StepOutcome.sums`), in the order `trainer.json` records them. */
    private readonly sumNames: readonly string[],
    /** Which validation metric chooses "best", and whether lower or higher is better. */
    private readonly bestBy: { metric(v: Validation): number; better: 'lower' | 'higher' },
  ) {
    this.config = config;
    this.backend = backend;
    this.runDir = options.persist === false ? null : path.resolve(config.runDir);
    this.epochSums = emptySums(sumNames);
    this.checkpoints = new CheckpointPolicy(
      this.runDir,
      options.checkpointSteps ?? config.training.checkpointSteps,
      config.training.checkpointInterval,
      (dir, files) => this.writeCheckpoint(dir, files),
      options.checkpointHooks,
    );
  }

  // --- what a trainer supplies ---

  /** Optimiser steps per epoch. */
  abstract get stepsPerEpoch(): number;
  /** The validation pass at an epoch's end (also callable on its own). */
  abstract validate(signal?: AbortSignal): Promise<Validation>;
  /** One optimiser step at (`epoch`, `step`) with learning rate `lr`, applied with `applyGradients`; throw `diverged(...)` instead of applying a bad one. */
  protected abstract trainStep(lr: number): Promise<StepOutcome<StepFields<Progress>>>;
  /** The epoch's summary from its running sums (`count` examples) and validation. */
  protected abstract summarize(epoch: number, sums: Record<string, number>, validation: Validation, seconds: number): Summary;
  /** `trainer.json`: the loop's state with the trainer's own fields. */
  protected abstract stateJson(loop: LoopState<Summary>): object;
  /** A resumable `trainer.json` of `latest` (a clear error when it belongs to another run or config), and its own fields restored. */
  protected abstract readResumable(latest: string): LoopState<Summary> & { optimizer: TrainerStateJson['optimizer'] };
  /** Writes a checkpoint folder: the model, `trainer.json` and, for "latest", the optimiser state. */
  protected abstract writeCheckpoint(dir: string, files: Parameters<CheckpointWriter>[1]): Promise<void>;
  /** Copies a checkpoint's weights into the model. */
  protected abstract loadWeights(dir: string): void;
  /** What run.json records as the dataset. */
  protected abstract datasetRecord(): RunRecord['dataset'];
  /** Frees the models (not the optimiser). */
  protected abstract disposeModels(): void;

  /**
   * Locks the run folder, builds the trainer with `build` (given the dataset a resumed run
   * recorded, to train on exactly that data) and resumes it; on failure frees what was built.
   */
  protected static async open<T extends RunLoop<LoopConfig, StepProgress, { epoch: number }, unknown>>(
    config: LoopConfig,
    options: { persist?: boolean; resume?: boolean; data?: unknown },
    build: (recorded: { train?: unknown } | undefined) => T,
  ): Promise<T> {
    const lock = options.persist === false ? null : lockRunDir(config.runDir);
    try {
      const recorded = options.data || !lock || options.resume === false ? undefined : resumeDataset(path.resolve(config.runDir));
      const trainer = build(recorded);
      trainer.runLock = lock;
      try {
        await trainer.restore(options.resume ?? true);
      } catch (e) {
        trainer.dispose();
        throw e;
      }
      return trainer;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  /** Creates the optimiser over `trainable` (named by `variables`, the names checkpoints use). */
  protected initOptimizer(variables: ReadonlyMap<string, tf.Variable>, trainable: tf.Variable[], prefer?: 'fused' | 'tfjs'): void {
    const nameOf = new Map([...variables.entries()].map(([n, v]) => [v, n] as const));
    this.vars = trainable;
    this.optimizer = createAdam(trainable, trainable.map((v) => nameOf.get(v) ?? v.name), { prefer });
  }

  // --- public state ---

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
  get finished(): boolean {
    return this.finishedFlag;
  }
  /** True when the run had already finished when it was opened: nothing is written into its folder. */
  get readOnly(): boolean {
    return this.readOnlyFlag;
  }
  /** One summary per completed epoch. */
  get history(): Summary[] {
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
   * `InterruptedError` on interrupt/abort (after saving "latest") and `DivergenceError` when a
   * step is bad (it is not applied; the last good checkpoint is kept).
   */
  async run(options: RunOptions<TrainCallbacks<Progress, Summary>> = {}): Promise<TrainResult<Summary>> {
    if (this.running) throw new ConfigError(`${this.constructor.name}.run: already running`);
    this.running = true;
    const totalEpochs = this.config.training.epochs;
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
        // Throughput of training steps only: the validation pass and checkpoints are not steps.
        recent.length = 0;
        while (this.stepIndex < stepsPerEpoch) {
          await this.checkStop(options.signal);
          if (stepsThisCall >= maxSteps) return this.pause();
          const lr = learningRateAt(this.config.training.lr, this.epochIndex, this.stepIndex, stepsPerEpoch);
          const m = await this.trainStep(lr);
          this.stepIndex++;
          this.global++;
          stepsThisCall++;
          for (const [k, v] of Object.entries(m.sums)) this.epochSums[k] += v;
          this.epochSums.count += m.n;
          const now = Date.now();
          this.epochSums.seconds += (now - last) / 1000;
          last = now;
          recent.push(now);
          if (recent.length > 20) recent.shift();
          const span = (recent[recent.length - 1] - recent[0]) / 1000;
          const progress = {
            epoch: this.epochIndex,
            epochs: totalEpochs,
            step: this.stepIndex - 1,
            stepsPerEpoch,
            globalStep: this.global,
            ...m.fields,
            lr,
            stepsPerSecond: recent.length > 1 && span > 0 ? (recent.length - 1) / span : 0,
            elapsed: (now - started) / 1000,
          } as Progress;
          await options.callbacks?.onBatchEnd?.(progress);
          if (this.checkpoints.dueMidEpoch(this.global, this.stepIndex >= stepsPerEpoch)) await this.saveLatest();
        }
        await this.checkStop(options.signal);
        await this.endEpoch(options);
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
      if (e instanceof DivergenceError) this.setStatus('diverged', e.message);
      throw e;
    } finally {
      this.running = false;
      await options.callbacks?.onTrainEnd?.({ epoch: this.epochIndex, globalStep: this.global });
    }
  }

  /** Writes the "latest" checkpoint now (e.g. before closing a notebook). Returns its directory. */
  async save(): Promise<string | null> {
    return this.saveLatest();
  }

  /** Frees the models and the optimiser, and releases the run folder. */
  dispose(): void {
    this.runLock?.release();
    this.optimizer.dispose();
    this.disposeModels();
  }

  // --- for the trainers ---

  /** Applies one update (PyTorch Adam's weight_decay: L2 added to the gradient); disposes `grads`. */
  protected applyGradients(grads: tf.Tensor[], lr: number): void {
    const wd = this.config.training.weightDecay;
    const applied = wd > 0 ? grads.map((g, i) => tf.tidy(() => tf.add(g, tf.mul(this.vars[i], wd)))) : grads;
    this.optimizer.apply(applied, lr);
    tf.dispose(grads);
    if (applied !== grads) tf.dispose(applied);
  }

  /** The error for a step that must not be applied, saying where, why, what is kept and what to do. */
  protected diverged(reason: string, lr: number): DivergenceError {
    return new DivergenceError(
      `training diverged at epoch ${this.epochIndex + 1}, step ${this.stepIndex + 1} (global step ${this.global + 1}, lr ${lr.toPrecision(3)}): ${reason}; the step was not applied and ${this.checkpoints.describeKept()}. Lower the learning rate (training.step_size_schedule) or check the data.`,
    );
  }

  /** Between two steps: lets signal handlers run, then honours `signal` and the kernel's interrupt. */
  protected async checkStop(signal?: AbortSignal): Promise<void> {
    await yieldToEventLoop();
    if (signal?.aborted) throw new InterruptedError('training aborted');
    throwIfInterrupted('training');
  }

  // --- internals ---

  private async endEpoch(options: RunOptions<TrainCallbacks<Progress, Summary>>): Promise<void> {
    const t0 = Date.now();
    const validation = await this.validate(options.signal);
    const summary = this.summarize(this.epochIndex, this.epochSums, validation, this.epochSums.seconds + (Date.now() - t0) / 1000);
    const score = this.bestBy.metric(validation);
    const improved = this.best === null || (this.bestBy.better === 'lower' ? score < this.best : score > this.best);
    if (improved) this.best = score;
    this.epochs.push(summary);
    this.epochIndex++;
    this.stepIndex = 0;
    this.epochSums = emptySums(this.sumNames);
    if (this.runDir) {
      await this.checkpoints.afterEpoch(this.state(), this.global, this.optimizer, this.epochIndex, improved);
      this.setStatus('running');
    }
    await options.callbacks?.onEpochEnd?.(summary);
  }

  private state(): object {
    return this.stateJson({
      epoch: this.epochIndex,
      step: this.stepIndex,
      globalStep: this.global,
      finished: this.epochIndex >= this.config.training.epochs,
      history: this.epochs,
      epochSums: { ...this.epochSums },
    });
  }

  private async saveLatest(): Promise<string | null> {
    return this.checkpoints.saveLatest(this.state(), this.global, this.optimizer);
  }

  private async restore(resume: boolean): Promise<void> {
    if (!this.runDir) return;
    const latest = this.latestCheckpoint!;
    if (resume && checkpointExists(latest)) {
      const state = this.readResumable(latest);
      this.loadWeights(latest);
      const opt = readOptimizerState(latest, state as TrainerStateJson);
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
      this.epochs.splice(0, this.epochs.length, ...state.history);
      this.epochSums = { ...state.epochSums };
      this.checkpoints.lastGood = { dir: latest, globalStep: state.globalStep };
      this.checkpoints.restoreBest((summary) => {
        const v = (summary as { validation?: Validation }).validation;
        return v === undefined ? undefined : this.bestBy.metric(v);
      }, this.bestBy.better);
    } else if (!resume && checkpointExists(latest)) {
      throw new ConfigError(`${this.runDir} already holds a training run; resume it or choose another output directory`);
    }
    if (this.finishedFlag && this.epochIndex >= this.config.training.epochs) {
      // A finished run is only read: its config.json, run.json and checkpoints stay as training
      // wrote them (other reproductions may share the folder), and no lock is left in it.
      this.readOnlyFlag = true;
      // (`runLock` stays set, released, so a stale lock's takeover is still reported.)
      this.runLock?.release();
      return;
    }
    ensureDir(this.runDir, 'run folder');
    writeFileAtomic(path.join(this.runDir, 'config.json'), JSON.stringify(this.config.json, null, 2));
    this.status = new RunStatusWriter(this.runDir, this.config, this.backend, this.datasetRecord(), { epoch: this.epochIndex, globalStep: this.global });
    this.setStatus(this.finishedFlag ? 'finished' : this.status.status);
  }

  private setStatus(status: RunStatus, message?: string, error?: RunRecord['error']): void {
    this.status?.set(status, { epoch: this.epochIndex, globalStep: this.global }, message, error);
  }

  private async onInterrupt(): Promise<InterruptedError> {
    const where = `epoch ${this.epochIndex + 1}/${this.config.training.epochs}, step ${this.stepIndex}/${this.stepsPerEpoch} (global step ${this.global})`;
    let saved = '';
    if (this.runDir && this.global > 0) saved = `; checkpoint saved to ${await this.saveLatest()}`;
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

  private pause(): TrainResult<Summary> {
    this.setStatus('paused');
    return this.result('paused');
  }

  private result(status: TrainResult['status']): TrainResult<Summary> {
    return { status, epoch: this.epochIndex, step: this.stepIndex, globalStep: this.global, history: this.history, runDir: this.runDir };
  }
}
