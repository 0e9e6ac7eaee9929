/**
 * What a training loop reports while it runs, for every trainer (the CVAE's `Trainer`, the
 * `RobustTrainer`): a tfjs-style `callbacks` object whose `onBatchEnd` gets a `StepProgress`
 * with the trainer's own figures, `onEpochEnd` the trainer's epoch summary, `onTrainEnd` where
 * the run stopped. The CLI turns these into a progress bar; the notebook display turns them into
 * a live progress line and a live loss chart.
 */
import type { Callback } from '../callbacks';

/** Where a run is after an optimiser step, and how fast it goes (every trainer's progress event has these). */
export interface StepProgress {
  /** 0-based epoch and step within the epoch; `globalStep` counts every optimiser step ever taken (survives resume). */
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  /** The step's training loss (per-example mean of the trainer's objective). */
  loss: number;
  /** Learning rate of the schedule at this step. */
  lr: number;
  /** Throughput over the recent window. */
  stepsPerSecond: number;
  /** Wall-clock seconds since training (re)started. */
  elapsed: number;
}

/** The CVAE trainer's step: `loss` is recon + β·KL per example. */
export interface TrainProgress extends StepProgress {
  /** Per-example means over the last step: KL and reconstruction. */
  kl: number;
  recon: number;
  /** The KL weight's schedule at this step. */
  beta: number;
}

export interface EpochSummary {
  epoch: number;
  /** Training means over the epoch and the validation means at its end (per example). */
  train: { loss: number; kl: number; recon: number };
  validation?: { loss: number; kl: number; recon: number };
  seconds: number;
}

/**
 * `trainer.run({ callbacks })`: after every optimiser step, after every epoch (validation
 * included), and once when `run` returns or throws (finished, paused, interrupted or failed).
 * The defaults are the CVAE trainer's events; `RobustTrainCallbacks` are the robust trainer's.
 */
export interface TrainCallbacks<Progress extends StepProgress = TrainProgress, Summary = EpochSummary> {
  onBatchEnd?: Callback<Progress>;
  onEpochEnd?: Callback<Summary>;
  onTrainEnd?: Callback<{ epoch: number; globalStep: number }>;
}
