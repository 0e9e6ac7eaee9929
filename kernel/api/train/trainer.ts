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
 * The epoch/step loop, checkpoints, resume and interrupts are the shared run loop's (run-loop.ts);
 * this file is the CVAE's step, validation and checkpoint format. The options and config
 * resolution are in options.ts, the validation pass in validation.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo } from '../backend';
import { betaAt } from '../config/schedules';
import type { PertsetConfig } from '../config/types';
import { ConfigError } from '../errors';
import { createCVAE } from '../models';
import type { CVAE } from '../models/types';
import { recordedData, trainingData, type TrainingData } from '../pairs/config-pairs';
import { createRng, type Rng } from '../random';
import { loadWeightsInto, saveCheckpoint, type TrainerStateJson } from '../runs/checkpoint';
import { resumableState } from '../runs/resume';
import type { RunRecord } from '../runs/run-record';
import type { CheckpointWriter, TrainerState } from './checkpoint-policy';
import { cvaeGradients } from './cvae-step';
import { DEFAULT_DIVERGENCE_FACTOR, DivergenceMonitor } from './divergence';
import type { EpochSummary, TrainProgress } from './events';
import { resolveTrainerConfig, type LossMeans, type TrainerOptions } from './options';
import { RunLoop, type LoopState, type StepFields, type StepOutcome } from './run-loop';
import { validationLoss } from './validation';

export type { LossMeans, RunOptions, TrainerOptions, TrainResult } from './options';

const RNG_SCHEME = 'createRng(`${seed}/<stream>`) forked per (epoch, batch) for shuffling and perturbations; noise per global step';

export class Trainer extends RunLoop<PertsetConfig, TrainProgress, EpochSummary, LossMeans> {
  readonly model: CVAE;
  readonly data: TrainingData;

  private readonly rng: Rng;
  private readonly monitor: DivergenceMonitor;

  /** Builds a trainer from a config name, file or loaded config; resumes from the run directory's "latest" checkpoint. */
  static async create(config: string | PertsetConfig, options: TrainerOptions = {}): Promise<Trainer> {
    const resolved = resolveTrainerConfig(config, options);
    const backend = await initBackend(options.backend ? { backend: options.backend } : {});
    // A resumed run continues on the data it recorded, or stops with an error saying what is missing.
    return RunLoop.open(resolved, options, (recorded) => {
      const data = options.data ?? trainingData(resolved, { dataDir: options.dataDir, recorded: recorded && recordedData(resolved, recorded) });
      return new Trainer(resolved, data, backend, options);
    });
  }

  /** Prefer `Trainer.create`; the constructor does not resume and does not initialise the backend. */
  constructor(config: PertsetConfig, data: TrainingData, backend: BackendInfo | null, options: TrainerOptions = {}) {
    super(config, backend, options, ['loss', 'kl', 'recon'], { metric: (v) => v.loss, better: 'lower' });
    this.data = data;
    this.monitor = new DivergenceMonitor(options.divergenceFactor ?? DEFAULT_DIVERGENCE_FACTOR);
    this.rng = createRng(`${config.seed}/trainer`);
    const [h, w, c] = data.train.imageShape;
    this.model = createCVAE(config.model.architecture, { seed: config.seed, size: config.model.size });
    const [mh, mw, mc] = this.model.inputShape;
    if (h !== mh || w !== mw || c !== mc) {
      this.model.dispose();
      throw new ConfigError(`dataset images are ${h}×${w}×${c} but ${config.model.architecture} takes ${mh}×${mw}×${mc} (check dataset.padding)`);
    }
    if (config.model.load) loadWeightsInto(this.model, config.model.load);
    this.initOptimizer(this.model.variables, this.model.trainableVariables(), options.optimizer);
  }

  get stepsPerEpoch(): number {
    return this.data.train.batchCount(this.config.training.batchSize);
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

  // --- the loop's hooks ---

  protected async trainStep(lr: number): Promise<StepOutcome<StepFields<TrainProgress>>> {
    const beta = betaAt(this.config.training.beta, this.epochIndex);
    const batch = this.data.train.batch(this.epochIndex, this.stepIndex, this.config.training.batchSize);
    const noiseSeed = this.rng.fork(`noise/${this.global}`).seed();
    const step = await cvaeGradients(this.model, this.vars, batch, beta, noiseSeed);
    const reason = this.monitor.check(step);
    if (reason) {
      tf.dispose(step.grads);
      throw this.diverged(reason, lr);
    }
    this.applyGradients(step.grads, lr);
    const n = batch.shape[0];
    return { n, sums: { loss: step.loss * n, kl: step.kl * n, recon: step.recon * n }, fields: { loss: step.loss, kl: step.kl, recon: step.recon, beta } };
  }

  protected summarize(epoch: number, s: Record<string, number>, validation: LossMeans, seconds: number): EpochSummary {
    const train = { loss: s.loss / Math.max(1, s.count), kl: s.kl / Math.max(1, s.count), recon: s.recon / Math.max(1, s.count) };
    return { epoch, train, validation, seconds };
  }

  protected stateJson(loop: LoopState<EpochSummary>): TrainerState {
    return {
      version: 1,
      ...loop,
      bestValidationLoss: this.best,
      epochSums: loop.epochSums as TrainerState['epochSums'],
      rng: { seed: this.config.seed, scheme: RNG_SCHEME },
      lowestLoss: Number.isFinite(this.monitor.lowest) ? this.monitor.lowest : null,
      config: this.config.json,
      dataset: this.datasetRecord(),
    };
  }

  protected readResumable(latest: string): TrainerStateJson & LoopState<EpochSummary> {
    const state = resumableState(latest, this.runDir!, this.config.json);
    this.best = state.bestValidationLoss;
    if (typeof state.lowestLoss === 'number') this.monitor.lowest = state.lowestLoss;
    return state as TrainerStateJson & LoopState<EpochSummary>;
  }

  protected writeCheckpoint(dir: string, files: Parameters<CheckpointWriter>[1]): Promise<void> {
    return saveCheckpoint(dir, { ...files, model: this.model, trainer: files.trainer as TrainerState });
  }

  protected loadWeights(dir: string): void {
    loadWeightsInto(this.model, dir);
  }

  protected datasetRecord(): RunRecord['dataset'] {
    return { train: this.data.train.describe(), val: this.data.val.describe() };
  }

  protected disposeModels(): void {
    this.model.dispose();
  }
}
