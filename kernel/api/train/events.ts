/**
 * What a training loop reports while it runs. The CLI turns these into a progress bar; the
 * notebook display turns them into a live progress line and a live loss chart.
 */
import type { Callback } from '../callbacks';

export interface TrainProgress {
  /** 0-based epoch and step within the epoch; `globalStep` counts every optimiser step ever taken (survives resume). */
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  /** Per-example means over the last step: total loss (recon + β·KL), KL and reconstruction. */
  loss: number;
  kl: number;
  recon: number;
  /** Schedules at this step. */
  lr: number;
  beta: number;
  /** Throughput over the recent window. */
  stepsPerSecond: number;
  /** Wall-clock seconds since training (re)started. */
  elapsed: number;
}

export interface EpochSummary {
  epoch: number;
  /** Training means over the epoch and the validation means at its end (per example). */
  train: { loss: number; kl: number; recon: number };
  validation?: { loss: number; kl: number; recon: number };
  seconds: number;
}

/**
 * `Trainer.run({ callbacks })`: after every optimiser step, after every epoch (validation
 * included), and once when `run` returns or throws (finished, paused, interrupted or failed).
 */
export interface TrainCallbacks {
  onBatchEnd?: Callback<TrainProgress>;
  onEpochEnd?: Callback<EpochSummary>;
  onTrainEnd?: Callback<{ epoch: number; globalStep: number }>;
}
